/* mpel-proxy.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-enums.h"
#include "mpel-event-private.h"
#include "mpel-loop-private.h"
#include "mpel-marshal.h"
#include "mpel-peer-private.h"
#include "mpel-proxy-mirror-private.h"
#include "mpel-proxy-private.h"
#include "mpel-proxy-registry-private.h"
#include "mpel-proxy-signals-private.h"
#include "mpel-util-private.h"
#include "mpel-value.h"
#include "mpel-worker-objects-private.h"

/**
 * MpelProxy:
 *
 * Mirrors a GObject that lives in a worker process, live.
 *
 * A proxy makes its object in a worker ([ctor@Mpel.Proxy.new], by a GType
 * name the worker knows or a GObject-Introspection name such as
 * `Gtk.Adjustment`) or attaches to one the worker exported
 * ([ctor@Mpel.Proxy.new_for_name]). The values of the object's mirrored
 * properties and getters are kept here: [method@Mpel.Proxy.get_value]
 * reads them, [signal@Mpel.Proxy::changed] tells of each change, whether it
 * came from a call or happened in the worker on its own.
 *
 * A subclass mirrors its own properties as real properties: declare them
 * in its `class_init` (with `G_PARAM_EXPLICIT_NOTIFY`) and leave
 * `set_property` and `get_property` alone. Their `notify` fires once per
 * change on the app's main context, and setting one forwards the value to
 * the worker, whose value wins.
 *
 * Methods are called with [method@Mpel.Proxy.call] or
 * [method@Mpel.Proxy.call_async], always in the worker that holds the
 * object, in order; a call's answer arrives after the mirrors it changed.
 * Creation, calls and sets are events of the loop, so
 * [method@Mpel.Loop.wait] covers them. The remote object is released when
 * the proxy is finalized or [method@Mpel.Proxy.release]d.
 *
 * If the worker dies, pending calls fail with %MPEL_ERROR_WORKER_CRASHED
 * and the proxy becomes %MPEL_PROXY_STATE_FAILED; its last values stay
 * readable. See `doc/proxies.md`.
 */

/* Written out rather than G_DEFINE_TYPE for its base_init: GObject does not
 * pass set_property and get_property down to subclasses, and a subclass
 * that sets none must get ours, which mirror its properties. */
static gpointer mpel_proxy_parent_class;
gint _mpel_proxy_private_offset;

static void mpel_proxy_class_init (MpelProxyClass *klass);
static void mpel_proxy_init       (MpelProxy      *self);

enum {
  PROXY_PROP_0,
  PROP_LOOP,
  PROP_REMOTE_TYPE,
  PROP_REMOTE_NAME,
  PROP_PROPERTIES,
  PROP_GETTERS,
  PROP_CONSTRUCT_VALUES,
  PROP_STATE,
  N_PROXY_PROPS
};

enum {
  CHANGED,
  N_PROXY_SIGNALS
};

static GParamSpec *proxy_properties[N_PROXY_PROPS];
static guint proxy_signals[N_PROXY_SIGNALS];

/* Set while mpel_proxy_new_for_handle() constructs */
typedef struct
{
  MpelChild *child;
  guint64    handle;
} Adopting;
static GPrivate adopting;

/* State */

static void
proxy_set_state (MpelProxy      *self,
                 MpelProxyState  state)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  if (priv->state == state)
    return;

  priv->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), proxy_properties[PROP_STATE]);
}

void
_mpel_proxy_fail (MpelProxy *self,
                  GError    *error)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  if (priv->state == MPEL_PROXY_STATE_FAILED)
    {
      g_error_free (error);
      return;
    }

  g_clear_error (&priv->error);
  priv->error = error;
  proxy_set_state (self, MPEL_PROXY_STATE_FAILED);
}

/* Creation */

void
_mpel_proxy_emit_changed (MpelProxy  *self,
                          const char *name,
                          GVariant   *value)
{
  g_signal_emit (self, proxy_signals[CHANGED], g_quark_from_string (name), name, value);
}

static void
on_created (MpelEvent *event,
            gpointer   data)
{
  MpelProxy *self = data;
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  GVariant *result = mpel_event_get_result (event);
  g_autoptr(GError) error = NULL;
  GVariant *values = NULL;
  g_autoptr(GVariant) owned = NULL;

  if (priv->state != MPEL_PROXY_STATE_PENDING)
    return;

  if (mpel_event_get_state (event) != MPEL_EVENT_STATE_DONE)
    {
      _mpel_proxy_fail (self, g_error_copy (mpel_event_get_error (event)));
      return;
    }

  if ((priv->remote_name != NULL || priv->adopted != 0) &&
      result != NULL && g_variant_is_of_type (result, G_VARIANT_TYPE ("(sa{sv})")))
    {
      const char *type_name;

      g_variant_get (result, "(&s@a{sv})", &type_name, &owned);
      values = owned;
      if (_mpel_set_str (&priv->remote_type, type_name))
        g_object_notify_by_pspec (G_OBJECT (self), proxy_properties[PROP_REMOTE_TYPE]);
    }
  else if (priv->remote_name == NULL && priv->adopted == 0 &&
           result != NULL && g_variant_is_of_type (result, G_VARIANT_TYPE_VARDICT))
    values = result;

  if (values == NULL)
    {
      _mpel_proxy_fail (self, g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                           _("The worker answered the creation of a remote %s with %s"),
                                           priv->remote_type ? priv->remote_type
                                             : priv->remote_name ? priv->remote_name : "object",
                                           result ? g_variant_get_type_string (result) : "nothing"));
      return;
    }

  if (!_mpel_proxy_apply_values (self, values, FALSE, &error))
    {
      _mpel_proxy_fail (self, g_steal_pointer (&error));
      return;
    }

  proxy_set_state (self, MPEL_PROXY_STATE_READY);
}

static void proxy_start (MpelProxy *self);

/* The plain event a proxy made while no worker ran has ended: a worker
 * runs again (try once more), or none will (the proxy fails with the
 * loop's reason). */
static void
on_worker_back (MpelEvent *event,
                gpointer   data)
{
  MpelProxy *self = data;
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  priv->waiting = FALSE;
  if (priv->released || priv->state != MPEL_PROXY_STATE_PENDING)
    {
      /* Refused, with the reason */
      _mpel_proxy_flush_deferred (self);
      return;
    }

  if (mpel_event_get_state (event) != MPEL_EVENT_STATE_DONE)
    {
      _mpel_proxy_fail (self, g_error_copy (mpel_event_get_error (event)));
      _mpel_proxy_flush_deferred (self);
      return;
    }

  proxy_start (self);
}

/* No worker runs: between a crash and its restart, or before start_async
 * spawned one. A plain event waits in the loop's queue for the next worker
 * (or fails if none comes); the creation follows it, and the calls and
 * sets made meanwhile wait in the proxy. The event also keeps
 * mpel_loop_wait() waiting. */
static void
proxy_wait_for_worker (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  g_autoptr(MpelEvent) event = mpel_event_new ("mpel.ping", NULL);

  priv->waiting = TRUE;
  mpel_event_set_flags (event, MPEL_EVENT_FLAGS_NO_REPLY);
  g_signal_connect_object (event, "finished", G_CALLBACK (on_worker_back), self, 0);
  mpel_loop_push (priv->loop, event);
}

static void
proxy_start (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  g_autoptr(MpelEvent) event = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *props;
  GVariant *getters;
  MpelChild *child;

  /* The handle is ours: calls can follow at once, on the same worker */
  if (priv->registry == NULL)
    {
      priv->registry = _mpel_proxy_registry_get (priv->loop);
      priv->handle = ++priv->registry->last_handle;
      g_hash_table_insert (priv->registry->proxies, &priv->handle, self);
    }

  if (priv->adopted != 0)
    child = priv->child;
  else if (!(child = _mpel_loop_pick_child (priv->loop, &error)))
    {
      if (g_error_matches (error, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED))
        proxy_wait_for_worker (self);
      else
        _mpel_proxy_fail (self, g_steal_pointer (&error));
      return;
    }

  if (priv->child == NULL)
    priv->child = _mpel_child_ref (child);

  props = g_variant_new_maybe (G_VARIANT_TYPE_STRING_ARRAY,
                               priv->properties ? g_variant_new_strv ((const char * const *) priv->properties, -1) : NULL);
  getters = g_variant_new_strv ((const char * const *) priv->getters, -1);

  if (priv->adopted != 0)
    event = mpel_event_new ("mpel.object.adopt",
                            g_variant_new ("(tt@mas@as)", priv->handle, priv->adopted, props, getters));
  else if (priv->remote_name != NULL)
    event = mpel_event_new ("mpel.object.attach",
                            g_variant_new ("(ts@mas@as)", priv->handle, priv->remote_name, props, getters));
  else
    event = mpel_event_new ("mpel.object.new",
                            g_variant_new ("(ts@a{sv}@mas@as)", priv->handle, priv->remote_type,
                                           priv->construct_values ? priv->construct_values
                                                                  : g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0),
                                           props, getters));
  g_signal_connect_object (event, "finished", G_CALLBACK (on_created), self, 0);
  _mpel_loop_push_pinned (priv->loop, event, child);

  /* What was called or set while no worker ran follows the creation */
  _mpel_proxy_flush_deferred (self);
}

/* Events on the object */

/* Pushes @event to the proxy's worker, or keeps it until a worker runs;
 * fails it with the proxy's error if there is no object to send it to. */
void
_mpel_proxy_push (MpelProxy *self,
                  MpelEvent *event)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  if (priv->child != NULL && !priv->released)
    {
      _mpel_loop_push_pinned (priv->loop, event, priv->child);
      return;
    }

  /* Waiting for a worker: in order, after the creation */
  if (priv->waiting && !priv->released)
    {
      g_queue_push_tail (&priv->deferred, g_object_ref (event));
      return;
    }

  /* Refused by the loop, with this reason, like an invalid event */
  g_clear_error (&event->invalid);
  if (priv->released)
    event->invalid = g_error_new (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                  _("The proxy of the remote %s was released"), priv->remote_type);
  else if (priv->error != NULL)
    event->invalid = g_error_copy (priv->error);
  else
    event->invalid = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_CLOSED, _("The proxy has no remote object"));
  mpel_loop_push (priv->loop, event);
}

/* Sends the events that waited for a worker, or refuses them when the
 * proxy failed or was released meanwhile. */
void
_mpel_proxy_flush_deferred (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  MpelEvent *event;

  while ((event = g_queue_pop_head (&priv->deferred)) != NULL)
    {
      _mpel_proxy_push (self, event);
      g_object_unref (event);
    }
}

/* GObject */

static void
mpel_proxy_constructed (GObject *object)
{
  MpelProxy *self = MPEL_PROXY (object);
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  G_OBJECT_CLASS (mpel_proxy_parent_class)->constructed (object);

  _mpel_proxy_resolve_declared (self);

  /* An item of an MpelListModel: attached by its fetch */
  if (_mpel_list_model_take_placeholder (self))
    return;

  if (g_private_get (&adopting) != NULL)
    {
      Adopting *adopt = g_private_get (&adopting);

      /* An object the worker sent: same worker, its handle taken over */
      priv->adopted = adopt->handle;
      if (adopt->child == NULL || !_mpel_child_is_alive (adopt->child))
        {
          _mpel_proxy_fail (self, g_error_new_literal (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                                       _("The proxy has no remote object")));
          return;
        }
      priv->child = _mpel_child_ref (adopt->child);
      proxy_start (self);
      return;
    }

  if (priv->loop == NULL || (priv->remote_type == NULL) == (priv->remote_name == NULL))
    {
      g_critical ("An MpelProxy needs a loop and either a remote-type or a remote-name");
      _mpel_proxy_fail (self, g_error_new_literal (MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                                   _("The proxy has neither a remote type nor a remote name")));
      return;
    }

  proxy_start (self);
}

static void
mpel_proxy_dispose (GObject *object)
{
  mpel_proxy_release (MPEL_PROXY (object));

  G_OBJECT_CLASS (mpel_proxy_parent_class)->dispose (object);
}

static void
mpel_proxy_finalize (GObject *object)
{
  MpelProxy *self = MPEL_PROXY (object);
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_clear_pointer (&priv->child, _mpel_child_unref);
  g_clear_object (&priv->loop);
  g_clear_pointer (&priv->remote_type, g_free);
  g_clear_pointer (&priv->remote_name, g_free);
  g_clear_pointer (&priv->properties, g_strfreev);
  g_clear_pointer (&priv->getters, g_strfreev);
  g_clear_pointer (&priv->construct_values, g_variant_unref);
  g_clear_pointer (&priv->values, g_hash_table_unref);
  g_clear_pointer (&priv->pending_sets, g_hash_table_unref);
  g_clear_pointer (&priv->confirmed, g_hash_table_unref);
  g_clear_error (&priv->error);
  g_assert (g_queue_is_empty (&priv->deferred));

  G_OBJECT_CLASS (mpel_proxy_parent_class)->finalize (object);
}

static void
mpel_proxy_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  MpelProxy *self = MPEL_PROXY (object);
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  if (pspec->owner_type != MPEL_TYPE_PROXY)
    {
      _mpel_proxy_mirror_get (self, pspec, value);
      return;
    }

  switch (prop_id)
    {
    case PROP_LOOP:
      g_value_set_object (value, priv->loop);
      break;
    case PROP_REMOTE_TYPE:
      g_value_set_string (value, priv->remote_type);
      break;
    case PROP_REMOTE_NAME:
      g_value_set_string (value, priv->remote_name);
      break;
    case PROP_PROPERTIES:
      g_value_set_boxed (value, priv->properties);
      break;
    case PROP_GETTERS:
      g_value_set_boxed (value, priv->getters);
      break;
    case PROP_CONSTRUCT_VALUES:
      g_value_set_variant (value, priv->construct_values);
      break;
    case PROP_STATE:
      g_value_set_enum (value, priv->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_proxy_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  MpelProxy *self = MPEL_PROXY (object);
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  if (pspec->owner_type != MPEL_TYPE_PROXY)
    {
      _mpel_proxy_mirror_set (self, pspec, value);
      return;
    }

  switch (prop_id)
    {
    case PROP_LOOP:
      priv->loop = g_value_dup_object (value);
      break;
    /* Construct-only, but a binding may set them while the instance is
     * initialized (PyGObject runs a Python subclass's __init__ then, when
     * it is made with GObject.new()): the defaults GObject sets afterwards
     * leave them, and names given then join them. */
    case PROP_REMOTE_TYPE:
      if (g_value_get_string (value) != NULL)
        _mpel_set_str (&priv->remote_type, g_value_get_string (value));
      break;
    case PROP_REMOTE_NAME:
      if (g_value_get_string (value) != NULL)
        _mpel_set_str (&priv->remote_name, g_value_get_string (value));
      break;
    case PROP_PROPERTIES:
      if (g_value_get_boxed (value) != NULL)
        _mpel_proxy_merge_names (&priv->properties, g_value_get_boxed (value));
      break;
    case PROP_GETTERS:
      if (g_value_get_boxed (value) != NULL)
        _mpel_proxy_merge_names (&priv->getters, g_value_get_boxed (value));
      break;
    case PROP_CONSTRUCT_VALUES:
      priv->construct_values = g_value_dup_variant (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_proxy_class_init (MpelProxyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = mpel_proxy_constructed;
  object_class->dispose = mpel_proxy_dispose;
  object_class->finalize = mpel_proxy_finalize;
  object_class->get_property = mpel_proxy_get_property;
  object_class->set_property = mpel_proxy_set_property;

  /**
   * MpelProxy:loop:
   *
   * The loop whose workers hold the remote object.
   */
  proxy_properties[PROP_LOOP] =
    g_param_spec_object ("loop", NULL, NULL, MPEL_TYPE_LOOP,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelProxy:remote-type:
   *
   * The remote object's type: a GType name the worker knows (`MyPoint`) or
   * a GObject-Introspection name, `Namespace.Name` or
   * `Namespace-Version.Name` (`Gtk-4.0.Adjustment`) to pick a version. For
   * a proxy made by name, the type the worker reports.
   */
  proxy_properties[PROP_REMOTE_TYPE] =
    g_param_spec_string ("remote-type", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);

  /**
   * MpelProxy:remote-name:
   *
   * The name the worker exported the object under
   * ([method@Mpel.Worker.export_object]), for a proxy made by name.
   */
  proxy_properties[PROP_REMOTE_NAME] =
    g_param_spec_string ("remote-name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelProxy:properties:
   *
   * The mirrored properties; %NULL mirrors every readable property whose
   * type converts. A subclass's own properties are added (and a subclass
   * that declares some and gives none here mirrors just those).
   */
  proxy_properties[PROP_PROPERTIES] =
    g_param_spec_boxed ("properties", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelProxy:getters:
   *
   * Methods without arguments whose values are mirrored under their names,
   * read again after every call. A subclass's declared getters are added.
   */
  proxy_properties[PROP_GETTERS] =
    g_param_spec_boxed ("getters", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelProxy:construct-values:
   *
   * The properties the remote object is made with, an `a{sv}` applied in
   * order.
   */
  proxy_properties[PROP_CONSTRUCT_VALUES] =
    g_param_spec_variant ("construct-values", NULL, NULL, G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MpelProxy:state:
   *
   * Whether the remote object exists.
   */
  proxy_properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, MPEL_TYPE_PROXY_STATE, MPEL_PROXY_STATE_PENDING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROXY_PROPS, proxy_properties);

  /**
   * MpelProxy::changed:
   * @self: the proxy
   * @name: the property or getter
   * @value: its new value
   *
   * A mirrored value changed. Detailed by @name.
   */
  proxy_signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  G_STRUCT_OFFSET (MpelProxyClass, changed),
                  NULL, NULL,
                  _mpel_marshal_VOID__STRING_VARIANT,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_VARIANT);
  g_signal_set_va_marshaller (proxy_signals[CHANGED], G_TYPE_FROM_CLASS (klass),
                              _mpel_marshal_VOID__STRING_VARIANTv);

  _mpel_proxy_signals_class_init (klass);
}

static void
mpel_proxy_base_init (gpointer klass)
{
  GObjectClass *object_class = klass;

  object_class->set_property = mpel_proxy_set_property;
  object_class->get_property = mpel_proxy_get_property;
}

static void
mpel_proxy_class_intern_init (gpointer klass,
                              gpointer data)
{
  mpel_proxy_parent_class = g_type_class_peek_parent (klass);
  g_type_class_adjust_private_offset (klass, &_mpel_proxy_private_offset);
  mpel_proxy_class_init (klass);
}

GType
mpel_proxy_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      const GTypeInfo info = {
        .class_size = sizeof (MpelProxyClass),
        .base_init = mpel_proxy_base_init,
        .class_init = mpel_proxy_class_intern_init,
        .instance_size = sizeof (MpelProxy),
        .instance_init = (GInstanceInitFunc) mpel_proxy_init,
      };
      GType type = g_type_register_static (G_TYPE_OBJECT, g_intern_static_string ("MpelProxy"), &info, 0);

      _mpel_proxy_private_offset = g_type_add_instance_private (type, sizeof (MpelProxyPrivate));
      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

static void
mpel_proxy_init (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  priv->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
  priv->pending_sets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  priv->confirmed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
  priv->getters = g_new0 (char *, 1);
}

/**
 * mpel_proxy_new:
 * @loop: the loop whose worker makes the object
 * @remote_type: a GType name the worker knows, or a GObject-Introspection
 *   name (`Gtk.Adjustment`, `Gtk-4.0.Adjustment`)
 * @construct_values: (nullable): an `a{sv}` of construct properties,
 *   applied in order; a floating reference is sunk
 * @properties: (nullable) (array zero-terminated=1): the properties to
 *   mirror, %NULL for every readable one whose type converts
 * @getters: (nullable) (array zero-terminated=1): methods without
 *   arguments to mirror under their names
 *
 * Makes an object of @remote_type in one of @loop's workers and a proxy of
 * it. The proxy is %MPEL_PROXY_STATE_PENDING until the worker answers;
 * calls made meanwhile follow the creation.
 *
 * Returns: (transfer full): the proxy
 */
MpelProxy *
mpel_proxy_new (MpelLoop           *loop,
                const char         *remote_type,
                GVariant           *construct_values,
                const char * const *properties,
                const char * const *getters)
{
  g_autoptr(GVariant) owned = construct_values ? g_variant_ref_sink (construct_values) : NULL;

  g_return_val_if_fail (MPEL_IS_LOOP (loop), NULL);
  g_return_val_if_fail (remote_type != NULL, NULL);
  g_return_val_if_fail (construct_values == NULL ||
                        g_variant_is_of_type (construct_values, G_VARIANT_TYPE_VARDICT), NULL);

  return g_object_new (MPEL_TYPE_PROXY,
                       "loop", loop,
                       "remote-type", remote_type,
                       "construct-values", owned,
                       "properties", properties,
                       "getters", getters,
                       NULL);
}

/**
 * mpel_proxy_new_for_name:
 * @loop: the loop
 * @name: the name a worker exported an object under
 * @properties: (nullable) (array zero-terminated=1): the properties to
 *   mirror, %NULL for every readable one whose type converts
 * @getters: (nullable) (array zero-terminated=1): methods without
 *   arguments to mirror under their names
 *
 * Makes a proxy of the object a worker exported with
 * [method@Mpel.Worker.export_object]. With several workers, the one
 * picked must be the one that exports @name: export it in every worker
 * (in a [signal@Mpel.Worker::startup] handler) or use one worker.
 *
 * Returns: (transfer full): the proxy
 */
MpelProxy *
mpel_proxy_new_for_name (MpelLoop           *loop,
                         const char         *name,
                         const char * const *properties,
                         const char * const *getters)
{
  g_return_val_if_fail (MPEL_IS_LOOP (loop), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_object_new (MPEL_TYPE_PROXY,
                       "loop", loop,
                       "remote-name", name,
                       "properties", properties,
                       "getters", getters,
                       NULL);
}

/**
 * mpel_proxy_new_for_handle: (constructor)
 * @origin: the proxy whose method returned the object
 * @handle: the object's handle, as the method returned it (a `t`)
 * @properties: (nullable) (array zero-terminated=1): the properties to
 *   mirror, %NULL for every readable one whose type converts
 * @getters: (nullable) (array zero-terminated=1): methods without
 *   arguments to mirror under their names
 *
 * Makes a proxy of an object a method of @origin's remote object returned
 * (objects cross as handles): it lives in the same worker. Each handle a
 * method returned should be given to this function once; the worker keeps
 * the object until the new proxy is released.
 *
 * Returns: (transfer full): the proxy
 */
MpelProxy *
mpel_proxy_new_for_handle (MpelProxy          *origin,
                           guint64             handle,
                           const char * const *properties,
                           const char * const *getters)
{
  MpelProxyPrivate *opriv = mpel_proxy_get_instance_private (origin);
  Adopting adopt;
  MpelProxy *self;

  g_return_val_if_fail (MPEL_IS_PROXY (origin), NULL);
  g_return_val_if_fail (handle != 0, NULL);

  adopt.child = opriv->child;
  adopt.handle = handle;
  g_private_set (&adopting, &adopt);
  self = g_object_new (MPEL_TYPE_PROXY,
                       "loop", opriv->loop,
                       "properties", properties,
                       "getters", getters,
                       NULL);
  g_private_set (&adopting, NULL);

  return self;
}

/**
 * mpel_proxy_class_add_getter:
 * @klass: a subclass's class
 * @getter: a method of the remote type without arguments
 *
 * Declares a getter every proxy of the subclass mirrors, for use in its
 * `class_init`.
 */
void
mpel_proxy_class_add_getter (MpelProxyClass *klass,
                             const char     *getter)
{
  GType type;
  GPtrArray *declared;

  g_return_if_fail (MPEL_IS_PROXY_CLASS (klass));
  g_return_if_fail (getter != NULL);

  type = G_TYPE_FROM_CLASS (klass);
  declared = g_type_get_qdata (type, _mpel_proxy_getters_quark ());
  if (declared == NULL)
    {
      /* Types are never freed */
      declared = g_ptr_array_new ();
      g_type_set_qdata (type, _mpel_proxy_getters_quark (), declared);
    }
  g_ptr_array_add (declared, (gpointer) g_intern_string (getter));
}

/**
 * mpel_proxy_get_loop:
 * @self: a #MpelProxy
 *
 * Gets the loop whose worker holds the remote object.
 *
 * Returns: (transfer none): the loop
 */
MpelLoop *
mpel_proxy_get_loop (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);

  return priv->loop;
}

/**
 * mpel_proxy_get_remote_type:
 * @self: a #MpelProxy
 *
 * Gets the remote object's type name.
 *
 * Returns: (nullable): the remote type, %NULL for a proxy by name until
 *   the worker answered
 */
const char *
mpel_proxy_get_remote_type (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);

  return priv->remote_type;
}

/**
 * mpel_proxy_get_remote_name:
 * @self: a #MpelProxy
 *
 * Gets the name the remote object was exported under.
 *
 * Returns: (nullable): the exported name, for a proxy made by name
 */
const char *
mpel_proxy_get_remote_name (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);

  return priv->remote_name;
}

/**
 * mpel_proxy_get_properties:
 * @self: a #MpelProxy
 *
 * Gets the mirrored properties, a subclass's own included.
 *
 * Returns: (nullable) (array zero-terminated=1) (transfer none): the
 *   mirrored properties, %NULL for all
 */
const char * const *
mpel_proxy_get_properties (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);

  return (const char * const *) priv->properties;
}

/**
 * mpel_proxy_get_getters:
 * @self: a #MpelProxy
 *
 * Gets the mirrored getters, a subclass's declared ones included.
 *
 * Returns: (array zero-terminated=1) (transfer none): the mirrored getters
 */
const char * const *
mpel_proxy_get_getters (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);

  return (const char * const *) priv->getters;
}

/**
 * mpel_proxy_get_construct_values:
 * @self: a #MpelProxy
 *
 * Gets the values the remote object was made with.
 *
 * Returns: (nullable) (transfer none): the construct values
 */
GVariant *
mpel_proxy_get_construct_values (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);

  return priv->construct_values;
}

/**
 * mpel_proxy_get_handle:
 * @self: a #MpelProxy
 *
 * Gets the remote object's handle in its worker: how the object is passed
 * as an argument (a `t`) to a method of another proxy in the same worker.
 *
 * Returns: the handle, or 0 if the proxy has no remote object
 */
guint64
mpel_proxy_get_handle (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), 0);

  return priv->handle;
}

/**
 * mpel_proxy_get_state:
 * @self: a #MpelProxy
 *
 * Gets whether the remote object exists.
 *
 * Returns: the state
 */
MpelProxyState
mpel_proxy_get_state (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), MPEL_PROXY_STATE_FAILED);

  return priv->state;
}

/**
 * mpel_proxy_get_error:
 * @self: a #MpelProxy
 *
 * Gets why the proxy failed: the creation's error, or its worker's death.
 *
 * Returns: (nullable) (transfer none): why the proxy failed, or %NULL
 */
const GError *
mpel_proxy_get_error (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);

  return priv->error;
}

/**
 * mpel_proxy_get_value:
 * @self: a #MpelProxy
 * @name: a mirrored property or getter
 *
 * Reads the mirrored value of @name; it stays readable after the proxy
 * failed.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL while it is
 *   unknown
 */
GVariant *
mpel_proxy_get_value (MpelProxy  *self,
                      const char *name)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  GVariant *value;

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  value = g_hash_table_lookup (priv->values, name);
  return value ? g_variant_ref (value) : NULL;
}

/**
 * mpel_proxy_set_value:
 * @self: a #MpelProxy
 * @name: a property of the remote object
 * @value: its new value; a floating reference is sunk
 *
 * Sets a property of the remote object, in order with calls. The mirror
 * takes @value at once; when the worker answers, its value wins (a value
 * the object clamps comes back clamped). Values the worker sends meanwhile
 * for @name are skipped, so a binding does not jitter.
 */
void
mpel_proxy_set_value (MpelProxy  *self,
                      const char *name,
                      GVariant   *value)
{
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(MpelEvent) event = NULL;

  g_return_if_fail (MPEL_IS_PROXY (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (value != NULL);

  owned = g_variant_ref_sink (value);
  event = _mpel_proxy_begin_set (self, name, owned);
  _mpel_proxy_push (self, event);
}

/**
 * mpel_proxy_release:
 * @self: a #MpelProxy
 *
 * Lets the worker drop the remote object now rather than when the proxy
 * is finalized. Releases are sent in batches, from an idle. The mirrored
 * values stay readable; calls fail with %MPEL_ERROR_CLOSED.
 */
void
mpel_proxy_release (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  g_return_if_fail (MPEL_IS_PROXY (self));

  if (priv->released || priv->registry == NULL)
    return;

  priv->released = TRUE;
  _mpel_proxy_registry_release (priv->registry, priv->child, priv->handle);
  /* What waited for a worker is refused now */
  _mpel_proxy_flush_deferred (self);
}
