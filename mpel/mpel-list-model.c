/* mpel-list-model.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "mpel-event-private.h"
#include "mpel-list-model.h"
#include "mpel-list-model-private.h"
#include "mpel-proxy-mirror-private.h"
#include "mpel-proxy-private.h"
#include "mpel-proxy-registry-private.h"
#include "mpel-proxy-signals-private.h"

/**
 * MpelListModel:
 *
 * A [iface@Gio.ListModel] over a `GListModel` that lives in a worker: a
 * `Gio.ListStore`, a `Gtk.StringList`, a list a module fills.
 *
 * The model follows the remote list: each change the worker sends (its
 * `items-changed`, coalesced per iteration of the worker's main loop) is
 * emitted here as `items-changed`, in order. Its items are proxies of the
 * remote items, of the model's item type: [class@Mpel.Proxy] (every
 * readable property whose type converts is mirrored) or a subclass, whose
 * own properties the items mirror as real properties.
 *
 * Items are fetched lazily, a page at a time. [method@Gio.ListModel.get_item]
 * must answer at once, so for an item not fetched yet it returns a
 * placeholder proxy in %MPEL_PROXY_STATE_PENDING and sends one fetch for the
 * whole page around it ([property@Mpel.ListModel:page-size] items); the
 * items' values arrive with the answer, a round trip later, and each item
 * then notifies its properties and becomes %MPEL_PROXY_STATE_READY. A
 * `GtkListView` asks for the rows it shows: a screenful costs one or two
 * fetches, whatever the length of the list, and the GUI never waits.
 *
 * At most [property@Mpel.ListModel:cache-size] items are kept; past it, the
 * items farthest from the last one asked for are dropped and their remote
 * objects released (in batches). An item dropped and asked for again is a
 * new proxy of the same remote item.
 *
 * When the remote list's proxy fails (its worker died), the model empties
 * itself with one `items-changed`; the items handed out stay readable, in
 * %MPEL_PROXY_STATE_FAILED. See `doc/widgets.md`.
 */

#define DEFAULT_PAGE_SIZE  64
#define DEFAULT_CACHE_SIZE 1024

struct _MpelListModel
{
  GObject     parent_instance;

  MpelProxy  *remote;
  GType       item_type;
  GPtrArray  *slots;          /* MpelProxy (ref) or NULL, one per item */
  guint       n_cached;
  guint       page_size;
  guint       cache_size;
  guint       last_asked;
  guint32     generation;     /* changes of the list seen */
  gboolean    watching;       /* the watch was answered */
  gboolean    have_declared;
  char      **properties;     /* of the item type; NULL: all */
  char      **getters;
  GError     *error;
  guint       n_fetches;
};

enum {
  PROP_0,
  PROP_REMOTE_LIST,
  PROP_ITEM_TYPE,
  PROP_N_ITEMS,
  PROP_PAGE_SIZE,
  PROP_CACHE_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void mpel_list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MpelListModel, mpel_list_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, mpel_list_model_iface_init))

/* Placeholders */

typedef struct
{
  MpelChild *child;
} Making;
static GPrivate making;

gboolean
_mpel_list_model_take_placeholder (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  Making *make = g_private_get (&making);

  if (make == NULL)
    return FALSE;

  if (make->child == NULL)
    {
      _mpel_proxy_fail (self, g_error_new_literal (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                                   _("The proxy has no remote object")));
      return TRUE;
    }

  /* Its handle is picked now; mpel.list.fetch attaches it */
  priv->registry = _mpel_proxy_registry_get (priv->loop);
  priv->child = _mpel_child_ref (make->child);
  priv->handle = ++priv->registry->last_handle;
  g_hash_table_insert (priv->registry->proxies, &priv->handle, self);

  return TRUE;
}

static MpelProxy *
placeholder_new (MpelListModel *self)
{
  MpelProxyPrivate *rpriv = mpel_proxy_get_instance_private (self->remote);
  Making make = { rpriv->child };
  MpelProxy *item;

  g_private_set (&making, &make);
  item = g_object_new (self->item_type, "loop", rpriv->loop, NULL);
  g_private_set (&making, NULL);

  if (!self->have_declared)
    {
      /* The item type's own properties and getters, resolved once */
      self->have_declared = TRUE;
      self->properties = g_strdupv ((char **) mpel_proxy_get_properties (item));
      self->getters = g_strdupv ((char **) mpel_proxy_get_getters (item));
    }

  return item;
}

/* An item the worker did not attach: it was removed, or the fetch failed */
static void
placeholder_fail (MpelProxy    *item,
                  const GError *error)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (item);

  if (priv->state != MPEL_PROXY_STATE_PENDING)
    return;

  if (priv->registry != NULL)
    g_hash_table_remove (priv->registry->proxies, &priv->handle);
  /* Nothing to release in the worker */
  priv->released = TRUE;
  _mpel_proxy_fail (item, g_error_copy (error));
}

static void
placeholder_attach (MpelProxy  *item,
                    const char *type_name,
                    GVariant   *values)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (item);
  g_autoptr(GError) error = NULL;

  if (priv->state != MPEL_PROXY_STATE_PENDING)
    return;

  g_free (priv->remote_type);
  priv->remote_type = g_strdup (type_name);
  g_object_notify (G_OBJECT (item), "remote-type");
  if (!_mpel_proxy_apply_values (item, values, FALSE, &error))
    {
      _mpel_proxy_fail (item, g_steal_pointer (&error));
      return;
    }
  priv->state = MPEL_PROXY_STATE_READY;
  g_object_notify (G_OBJECT (item), "state");
}

/* Fetching */

/* What one fetch asked for */
typedef struct
{
  GPtrArray *items;  /* MpelProxy (ref), the placeholders */
} Fetch;

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  g_ptr_array_unref (fetch->items);
  g_free (fetch);
}

static void
on_fetched (MpelEvent *event,
            gpointer   data)
{
  Fetch *fetch = g_object_get_data (G_OBJECT (event), "mpel-list-fetch");
  GVariant *result = mpel_event_get_result (event);
  g_autoptr(GHashTable) by_handle = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < fetch->items->len; i++)
    {
      MpelProxyPrivate *priv = mpel_proxy_get_instance_private (fetch->items->pdata[i]);

      g_hash_table_insert (by_handle, &priv->handle, fetch->items->pdata[i]);
    }

  if (mpel_event_get_state (event) != MPEL_EVENT_STATE_DONE)
    error = g_error_copy (mpel_event_get_error (event));
  else if (result == NULL || !g_variant_is_of_type (result, G_VARIANT_TYPE ("a(tsa{sv})")))
    error = g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL, _("The worker answered a list fetch with %s"),
                         result ? g_variant_get_type_string (result) : "nothing");
  else
    {
      GVariantIter iter;
      const char *type_name;
      GVariant *values;
      guint64 handle;

      g_variant_iter_init (&iter, result);
      while (g_variant_iter_next (&iter, "(t&s@a{sv})", &handle, &type_name, &values))
        {
          MpelProxy *item = g_hash_table_lookup (by_handle, &handle);

          /* A handle it was not given is ignored: it holds nothing */
          if (item != NULL)
            placeholder_attach (item, type_name, values);
          g_variant_unref (values);
        }
      error = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                                   _("The item was removed from the remote list before it was fetched"));
    }

  /* What is left pending was not attached */
  for (guint i = 0; i < fetch->items->len; i++)
    placeholder_fail (fetch->items->pdata[i], error);

  /* Whoever keeps the event does not keep the items */
  g_ptr_array_set_size (fetch->items, 0);
}

/* Drops the cached items farthest from @position, down to three quarters
 * of the cache, sparing [keep_start, keep_end). */
static void
evict (MpelListModel *self,
       guint          position,
       guint          keep_start,
       guint          keep_end)
{
  guint target = self->cache_size - self->cache_size / 4;
  guint left = 0, right = self->slots->len;

  while (self->n_cached > target && left < right)
    {
      gint64 to_left = (gint64) position - left;
      gint64 to_right = (gint64) right - 1 - position;
      guint index;

      if (ABS (to_left) >= ABS (to_right))
        index = left++;
      else
        index = --right;

      if (self->slots->pdata[index] == NULL || (index >= keep_start && index < keep_end))
        continue;
      g_clear_object (&self->slots->pdata[index]);
      self->n_cached--;
    }
}

/* Makes placeholders for the page around @position and fetches them. */
static void
fetch_page (MpelListModel *self,
            guint          position)
{
  g_auto(GVariantBuilder) wanted = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ut)"));
  g_autoptr(MpelEvent) event = NULL;
  Fetch *fetch = g_new0 (Fetch, 1);
  guint start = position - position % self->page_size;
  guint end = MIN (start + self->page_size, self->slots->len);
  GVariant *props;

  fetch->items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = start; i < end; i++)
    {
      MpelProxy *item;

      if (self->slots->pdata[i] != NULL)
        continue;
      item = placeholder_new (self);
      self->slots->pdata[i] = item;
      self->n_cached++;
      if (mpel_proxy_get_state (item) != MPEL_PROXY_STATE_PENDING)
        continue;
      g_ptr_array_add (fetch->items, g_object_ref (item));
      g_variant_builder_add (&wanted, "(ut)", i, mpel_proxy_get_handle (item));
    }

  props = g_variant_new_maybe (G_VARIANT_TYPE_STRING_ARRAY,
                               self->properties ? g_variant_new_strv ((const char * const *) self->properties, -1) : NULL);
  event = mpel_event_new ("mpel.list.fetch",
                          g_variant_new ("(tu@a(ut)@mas^as)", mpel_proxy_get_handle (self->remote),
                                         self->generation, g_variant_builder_end (&wanted), props,
                                         self->getters));
  g_object_set_data_full (G_OBJECT (event), "mpel-list-fetch", fetch, fetch_free);
  g_signal_connect (event, "finished", G_CALLBACK (on_fetched), NULL);
  self->n_fetches++;
  _mpel_proxy_push (self->remote, event);

  if (self->n_cached > self->cache_size)
    evict (self, position, start, end);
}

/* GListModel */

static GType
mpel_list_model_get_item_type (GListModel *list)
{
  return MPEL_LIST_MODEL (list)->item_type;
}

static guint
mpel_list_model_get_n_items (GListModel *list)
{
  return MPEL_LIST_MODEL (list)->slots->len;
}

static gpointer
mpel_list_model_get_item (GListModel *list,
                          guint       position)
{
  MpelListModel *self = MPEL_LIST_MODEL (list);

  if (position >= self->slots->len)
    return NULL;

  self->last_asked = position;
  if (self->slots->pdata[position] == NULL)
    fetch_page (self, position);

  return g_object_ref (self->slots->pdata[position]);
}

static void
mpel_list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = mpel_list_model_get_item_type;
  iface->get_n_items = mpel_list_model_get_n_items;
  iface->get_item = mpel_list_model_get_item;
}

/* Following the remote list */

static void
splice_slots (MpelListModel *self,
              guint          position,
              guint          removed,
              guint          added)
{
  for (guint i = position; i < position + removed; i++)
    if (self->slots->pdata[i] != NULL)
      self->n_cached--;
  if (removed > 0)
    g_ptr_array_remove_range (self->slots, position, removed);
  if (added > 0)
    {
      /* GLib 2.74 has no g_ptr_array_insert_range: grow, move, clear */
      guint old_len = self->slots->len;

      g_ptr_array_set_size (self->slots, old_len + added);
      memmove (&self->slots->pdata[position + added], &self->slots->pdata[position],
               (old_len - position) * sizeof (gpointer));
      memset (&self->slots->pdata[position], 0, added * sizeof (gpointer));
    }
}

static gboolean
on_remote_items_changed (MpelProxy  *remote,
                         guint       position,
                         guint       removed,
                         guint       added,
                         gpointer    user_data,
                         GError    **error)
{
  g_autoptr(MpelListModel) self = g_object_ref (user_data);

  /* Before the watch's answer: its length counts this change already */
  if (!self->watching)
    return TRUE;

  if (position > self->slots->len || removed > self->slots->len - position ||
      added > G_MAXUINT32 - (self->slots->len - removed))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("a change at %u, removing %u and adding %u items, does not fit a list of %u"),
                   position, removed, added, self->slots->len);
      return FALSE;
    }

  self->generation++;
  splice_slots (self, position, removed, added);
  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
  if (removed != added)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);

  return TRUE;
}

static void
empty (MpelListModel *self)
{
  guint n = self->slots->len;

  self->watching = FALSE;
  if (n == 0)
    return;

  g_ptr_array_set_size (self->slots, 0);
  self->n_cached = 0;
  g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

static void
on_remote_state (MpelProxy     *remote,
                 GParamSpec    *pspec,
                 MpelListModel *self)
{
  if (mpel_proxy_get_state (remote) != MPEL_PROXY_STATE_FAILED)
    return;

  if (self->error == NULL && mpel_proxy_get_error (remote) != NULL)
    self->error = g_error_copy (mpel_proxy_get_error (remote));
  empty (self);
}

static void
on_watched (MpelEvent *event,
            gpointer   data)
{
  MpelListModel *self = data;
  GVariant *result = mpel_event_get_result (event);
  guint32 n_items, generation;

  if (mpel_event_get_state (event) != MPEL_EVENT_STATE_DONE)
    {
      if (self->error == NULL)
        self->error = g_error_copy (mpel_event_get_error (event));
      return;
    }
  if (result == NULL || !g_variant_is_of_type (result, G_VARIANT_TYPE ("(uu)")))
    {
      g_clear_error (&self->error);
      self->error = g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL, _("The worker answered a list watch with %s"),
                                 result ? g_variant_get_type_string (result) : "nothing");
      return;
    }

  g_variant_get (result, "(uu)", &n_items, &generation);
  self->watching = TRUE;
  self->generation = generation;
  splice_slots (self, 0, self->slots->len, n_items);
  if (n_items > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, n_items);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
}

static void
start_watch (MpelListModel *self)
{
  g_autoptr(MpelEvent) event = NULL;

  g_signal_connect_object (self->remote, "notify::state", G_CALLBACK (on_remote_state), self, 0);
  _mpel_proxy_add_items_watcher (self->remote, on_remote_items_changed, self);

  event = mpel_event_new ("mpel.list.watch", g_variant_new ("(t)", mpel_proxy_get_handle (self->remote)));
  g_signal_connect_object (event, "finished", G_CALLBACK (on_watched), self, 0);
  _mpel_proxy_push (self->remote, event);
  on_remote_state (self->remote, NULL, self);
}

/* GObject */

static void
mpel_list_model_constructed (GObject *object)
{
  MpelListModel *self = MPEL_LIST_MODEL (object);

  G_OBJECT_CLASS (mpel_list_model_parent_class)->constructed (object);

  if (self->remote == NULL || !g_type_is_a (self->item_type, MPEL_TYPE_PROXY))
    {
      g_critical ("An MpelListModel needs a remote-list and an item-type that is an MpelProxy");
      self->error = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                         _("The list model has no remote list"));
      return;
    }

  start_watch (self);
}

static void
mpel_list_model_dispose (GObject *object)
{
  MpelListModel *self = MPEL_LIST_MODEL (object);

  if (self->remote != NULL)
    {
      _mpel_proxy_remove_items_watcher (self->remote, on_remote_items_changed, self);
      if (self->watching && mpel_proxy_get_state (self->remote) == MPEL_PROXY_STATE_READY)
        {
          g_autoptr(MpelEvent) event = mpel_event_new ("mpel.list.unwatch",
                                                       g_variant_new ("(t)", mpel_proxy_get_handle (self->remote)));

          mpel_event_set_flags (event, MPEL_EVENT_FLAGS_NO_REPLY);
          _mpel_proxy_push (self->remote, event);
        }
      self->watching = FALSE;
    }
  g_ptr_array_set_size (self->slots, 0);
  self->n_cached = 0;
  g_clear_object (&self->remote);

  G_OBJECT_CLASS (mpel_list_model_parent_class)->dispose (object);
}

static void
mpel_list_model_finalize (GObject *object)
{
  MpelListModel *self = MPEL_LIST_MODEL (object);

  g_ptr_array_unref (self->slots);
  g_strfreev (self->properties);
  g_strfreev (self->getters);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (mpel_list_model_parent_class)->finalize (object);
}

static void
mpel_list_model_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MpelListModel *self = MPEL_LIST_MODEL (object);

  switch (prop_id)
    {
    case PROP_REMOTE_LIST:
      g_value_set_object (value, self->remote);
      break;
    case PROP_ITEM_TYPE:
      g_value_set_gtype (value, self->item_type);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->slots->len);
      break;
    case PROP_PAGE_SIZE:
      g_value_set_uint (value, self->page_size);
      break;
    case PROP_CACHE_SIZE:
      g_value_set_uint (value, self->cache_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_list_model_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  MpelListModel *self = MPEL_LIST_MODEL (object);

  switch (prop_id)
    {
    case PROP_REMOTE_LIST:
      self->remote = g_value_dup_object (value);
      break;
    case PROP_ITEM_TYPE:
      self->item_type = g_value_get_gtype (value);
      break;
    case PROP_PAGE_SIZE:
      mpel_list_model_set_page_size (self, g_value_get_uint (value));
      break;
    case PROP_CACHE_SIZE:
      mpel_list_model_set_cache_size (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_list_model_class_init (MpelListModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = mpel_list_model_constructed;
  object_class->dispose = mpel_list_model_dispose;
  object_class->finalize = mpel_list_model_finalize;
  object_class->get_property = mpel_list_model_get_property;
  object_class->set_property = mpel_list_model_set_property;

  /**
   * MpelListModel:remote-list:
   *
   * The proxy of the remote `GListModel`.
   */
  properties[PROP_REMOTE_LIST] =
    g_param_spec_object ("remote-list", NULL, NULL, MPEL_TYPE_PROXY,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelListModel:item-type:
   *
   * The type of the items: [class@Mpel.Proxy] or a subclass.
   */
  properties[PROP_ITEM_TYPE] =
    g_param_spec_gtype ("item-type", NULL, NULL, MPEL_TYPE_PROXY,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelListModel:n-items:
   *
   * The number of items, 0 until the worker answered the first time.
   */
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelListModel:page-size:
   *
   * How many items one fetch asks for: the page, aligned on a multiple of
   * it, around an item asked for that was not fetched yet.
   */
  properties[PROP_PAGE_SIZE] =
    g_param_spec_uint ("page-size", NULL, NULL, 1, 65536, DEFAULT_PAGE_SIZE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelListModel:cache-size:
   *
   * How many items the model keeps. Past it, the items farthest from the
   * last one asked for are dropped (and released when nobody else holds
   * them), down to three quarters of it.
   */
  properties[PROP_CACHE_SIZE] =
    g_param_spec_uint ("cache-size", NULL, NULL, 1, G_MAXUINT, DEFAULT_CACHE_SIZE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* Slots not fetched are NULL */
static void
unref_slot (gpointer item)
{
  if (item != NULL)
    g_object_unref (item);
}

static void
mpel_list_model_init (MpelListModel *self)
{
  self->slots = g_ptr_array_new_with_free_func (unref_slot);
  self->item_type = MPEL_TYPE_PROXY;
  self->page_size = DEFAULT_PAGE_SIZE;
  self->cache_size = DEFAULT_CACHE_SIZE;
}

/**
 * mpel_list_model_new:
 * @remote_list: the proxy of a `GListModel` in a worker
 * @item_type: the type of the items, [class@Mpel.Proxy] or a subclass
 *
 * Makes a list model that follows @remote_list. It is empty until the
 * worker answered; [method@Mpel.Loop.wait] covers that.
 *
 * Returns: (transfer full): the list model
 */
MpelListModel *
mpel_list_model_new (MpelProxy *remote_list,
                     GType      item_type)
{
  g_return_val_if_fail (MPEL_IS_PROXY (remote_list), NULL);
  g_return_val_if_fail (g_type_is_a (item_type, MPEL_TYPE_PROXY), NULL);

  return g_object_new (MPEL_TYPE_LIST_MODEL,
                       "remote-list", remote_list,
                       "item-type", item_type,
                       NULL);
}

/**
 * mpel_list_model_get_remote_list:
 * @self: a #MpelListModel
 *
 * Gets the proxy of the remote list.
 *
 * Returns: (transfer none): the remote list's proxy
 */
MpelProxy *
mpel_list_model_get_remote_list (MpelListModel *self)
{
  g_return_val_if_fail (MPEL_IS_LIST_MODEL (self), NULL);

  return self->remote;
}

/**
 * mpel_list_model_get_page_size:
 * @self: a #MpelListModel
 *
 * Gets how many items one fetch asks for.
 *
 * Returns: the page size
 */
guint
mpel_list_model_get_page_size (MpelListModel *self)
{
  g_return_val_if_fail (MPEL_IS_LIST_MODEL (self), 0);

  return self->page_size;
}

/**
 * mpel_list_model_set_page_size:
 * @self: a #MpelListModel
 * @page_size: how many items one fetch asks for, 1 to 65536
 *
 * Sets how many items one fetch asks for.
 */
void
mpel_list_model_set_page_size (MpelListModel *self,
                               guint          page_size)
{
  g_return_if_fail (MPEL_IS_LIST_MODEL (self));
  g_return_if_fail (page_size >= 1 && page_size <= 65536);

  if (self->page_size == page_size)
    return;
  self->page_size = page_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAGE_SIZE]);
}

/**
 * mpel_list_model_get_cache_size:
 * @self: a #MpelListModel
 *
 * Gets how many items the model keeps.
 *
 * Returns: the cache size
 */
guint
mpel_list_model_get_cache_size (MpelListModel *self)
{
  g_return_val_if_fail (MPEL_IS_LIST_MODEL (self), 0);

  return self->cache_size;
}

/**
 * mpel_list_model_set_cache_size:
 * @self: a #MpelListModel
 * @cache_size: how many items to keep, at least 1
 *
 * Sets how many items the model keeps; a page is kept whole even when it
 * is larger.
 */
void
mpel_list_model_set_cache_size (MpelListModel *self,
                                guint          cache_size)
{
  g_return_if_fail (MPEL_IS_LIST_MODEL (self));
  g_return_if_fail (cache_size >= 1);

  if (self->cache_size == cache_size)
    return;
  self->cache_size = cache_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CACHE_SIZE]);
  if (self->n_cached > self->cache_size)
    evict (self, self->last_asked, self->last_asked, self->last_asked + 1);
}

/**
 * mpel_list_model_get_error:
 * @self: a #MpelListModel
 *
 * Gets why the model does not follow its remote list: the remote object
 * is not a `GListModel`, or its worker died.
 *
 * Returns: (nullable) (transfer none): the error, or %NULL
 */
const GError *
mpel_list_model_get_error (MpelListModel *self)
{
  g_return_val_if_fail (MPEL_IS_LIST_MODEL (self), NULL);

  return self->error;
}

guint
_mpel_list_model_get_n_fetches (MpelListModel *self)
{
  return self->n_fetches;
}
