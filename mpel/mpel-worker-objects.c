/* mpel-worker-objects.c: the objects a worker's proxies stand for
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-frame-private.h"
#include "mpel-gi-private.h"
#include "mpel-worker-objects-private.h"
#include "mpel-worker-private.h"
#include "mpel-worker-signals-private.h"

/* What the app mirrors of one handle: the values last sent, so that only
 * changes go out, and the properties changed since. */
typedef struct
{
  char       **properties;  /* NULL: every readable one that converts */
  char       **getters;
  GHashTable  *sent;        /* name → GVariant */
  GHashTable  *dirty;       /* interned property names */
  gulong       notify_id;
  gboolean     queued;      /* in Objects.dirty */
  gpointer     objects;     /* the Objects table it is in */
} Mirror;

typedef struct
{
  guint64  handle;
  GObject *object;
  guint    n_sent;
  Mirror  *mirror;
  gpointer extras;   /* signals and list watches: mpel-worker-signals.c */
} Entry;

typedef struct
{
  GType             type;
  MpelMethodHandler handler;
  gpointer          user_data;
  GDestroyNotify    destroy;
} Method;

typedef struct
{
  GHashTable            *by_handle;   /* &handle → Entry */
  GHashTable            *by_object;   /* GObject → Entry (same) */
  GHashTable            *exported;    /* name → GObject */
  GHashTable            *methods;     /* name → GPtrArray of Method */
  GArray                *dirty;       /* handles with changes to send */
  GSource               *flush_source;
  /* The worker's context and thread, where its objects' changes are sent
   * from, whichever thread changes them */
  GMainContext          *context;
  GThread               *thread;
  MpelWorker            *worker;      /* weak: the owner */
  guint64                last_handle;
  MpelValueObjectMapper  mapper;
} Objects;

static GQuark objects_quark;

static void
mirror_free (Mirror  *mirror,
             GObject *object)
{
  g_clear_signal_handler (&mirror->notify_id, object);
  g_strfreev (mirror->properties);
  g_strfreev (mirror->getters);
  g_hash_table_unref (mirror->sent);
  g_hash_table_unref (mirror->dirty);
  g_free (mirror);
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  if (entry->mirror != NULL)
    mirror_free (entry->mirror, entry->object);
  if (entry->extras != NULL)
    _mpel_worker_signals_free_extras (entry->extras, entry->object);
  g_clear_object (&entry->object);
  g_free (entry);
}

static void
method_free (gpointer data)
{
  Method *method = data;

  if (method->destroy != NULL)
    method->destroy (method->user_data);
  g_free (method);
}

static void
objects_free (gpointer data)
{
  Objects *objects = data;

  /* by_object holds no references of its own */
  g_hash_table_unref (objects->by_object);
  g_hash_table_unref (objects->by_handle);
  g_hash_table_unref (objects->exported);
  g_hash_table_unref (objects->methods);
  g_array_unref (objects->dirty);
  if (objects->flush_source != NULL)
    {
      g_source_destroy (objects->flush_source);
      g_source_unref (objects->flush_source);
    }
  g_main_context_unref (objects->context);
  g_free (objects);
}

static gboolean
mapper_object_to_handle (GObject  *object,
                         guint64  *handle,
                         gpointer  user_data,
                         GError  **error)
{
  *handle = _mpel_worker_objects_add (user_data, object);
  return TRUE;
}

static GObject *
mapper_handle_to_object (guint64   handle,
                         GType     type,
                         gpointer  user_data,
                         GError  **error)
{
  GObject *object = _mpel_worker_objects_lookup (user_data, handle);

  if (object == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("No object has the handle %" G_GUINT64_FORMAT), handle);
      return NULL;
    }

  return g_object_ref (object);
}

static Objects *
get_objects (MpelWorker *self)
{
  Objects *objects;

  if G_UNLIKELY (objects_quark == 0)
    objects_quark = g_quark_from_static_string ("mpel-worker-objects");

  objects = g_object_get_qdata (G_OBJECT (self), objects_quark);
  if (objects != NULL)
    return objects;

  objects = g_new0 (Objects, 1);
  objects->by_handle = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, entry_free);
  objects->by_object = g_hash_table_new (NULL, NULL);
  objects->exported = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  objects->methods = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_ptr_array_unref);
  objects->dirty = g_array_new (FALSE, FALSE, sizeof (guint64));
  objects->context = g_main_context_ref_thread_default ();
  objects->thread = g_thread_self ();
  objects->worker = self;
  /* The worker owns the table: no reference back */
  objects->mapper.object_to_handle = mapper_object_to_handle;
  objects->mapper.handle_to_object = mapper_handle_to_object;
  objects->mapper.user_data = self;
  g_object_set_qdata_full (G_OBJECT (self), objects_quark, objects, objects_free);

  return objects;
}

/**
 * mpel_worker_add_method:
 * @self: a #MpelWorker
 * @type: the type of the objects the method is for; its subtypes have it
 *   too
 * @method: the method's name, as a proxy calls it
 * @handler: (scope notified) (closure user_data) (destroy destroy): runs
 *   the method
 * @user_data: data for @handler
 * @destroy: (nullable): frees @user_data when the method is replaced or
 *   the worker finalized
 *
 * Gives the objects of @type a method that proxies can call, for types
 * without a typelib, such as those a module registers. Objects with a
 * typelib have their methods called through GObject-Introspection; a
 * method added here for their type takes precedence.
 *
 * A call on an object finds the handler registered for its own type, else
 * for the nearest ancestor, else for one of its interfaces. Adding a method
 * again for the same @type replaces the handler.
 */
void
mpel_worker_add_method (MpelWorker        *self,
                        GType              type,
                        const char        *method,
                        MpelMethodHandler  handler,
                        gpointer           user_data,
                        GDestroyNotify     destroy)
{
  Objects *objects;
  GPtrArray *for_name;
  Method *entry;

  g_return_if_fail (MPEL_IS_WORKER (self));
  g_return_if_fail (G_TYPE_IS_OBJECT (type) || G_TYPE_IS_INTERFACE (type));
  g_return_if_fail (method != NULL && method[0] != '\0');
  g_return_if_fail (handler != NULL);

  objects = get_objects (self);
  for_name = g_hash_table_lookup (objects->methods, method);
  if (for_name == NULL)
    {
      for_name = g_ptr_array_new_with_free_func (method_free);
      g_hash_table_insert (objects->methods, g_strdup (method), for_name);
    }

  for (guint i = 0; i < for_name->len; i++)
    if (((Method *) for_name->pdata[i])->type == type)
      {
        g_ptr_array_remove_index (for_name, i);
        break;
      }

  entry = g_new0 (Method, 1);
  entry->type = type;
  entry->handler = handler;
  entry->user_data = user_data;
  entry->destroy = destroy;
  g_ptr_array_add (for_name, entry);
}

MpelMethodHandler
_mpel_worker_objects_lookup_method (MpelWorker *self,
                                    GType       type,
                                    const char *method,
                                    gpointer   *user_data)
{
  GPtrArray *for_name = g_hash_table_lookup (get_objects (self)->methods, method);

  if (for_name == NULL)
    return NULL;

  for (GType t = type; t != G_TYPE_INVALID; t = g_type_parent (t))
    for (guint i = 0; i < for_name->len; i++)
      {
        Method *entry = for_name->pdata[i];

        if (entry->type == t)
          {
            *user_data = entry->user_data;
            return entry->handler;
          }
      }

  for (guint i = 0; i < for_name->len; i++)
    {
      Method *entry = for_name->pdata[i];

      if (G_TYPE_IS_INTERFACE (entry->type) && g_type_is_a (type, entry->type))
        {
          *user_data = entry->user_data;
          return entry->handler;
        }
    }

  return NULL;
}

/**
 * mpel_worker_export_object:
 * @self: a #MpelWorker
 * @name: the name the app attaches to the object by
 * @object: (nullable): the object, or %NULL to withdraw @name
 *
 * Exports @object under @name: the app makes a proxy of it with
 * `mpel_proxy_new_for_name()`. The worker keeps a reference to @object
 * while it is exported, and each proxy keeps the object alive as long as
 * it lives. Exporting another object under the same name replaces the
 * first one (proxies already made keep theirs).
 */
void
mpel_worker_export_object (MpelWorker *self,
                           const char *name,
                           GObject    *object)
{
  Objects *objects;

  g_return_if_fail (MPEL_IS_WORKER (self));
  g_return_if_fail (name != NULL && name[0] != '\0');
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  objects = get_objects (self);
  if (object == NULL)
    g_hash_table_remove (objects->exported, name);
  else
    g_hash_table_replace (objects->exported, g_strdup (name), g_object_ref (object));
}

guint64
_mpel_worker_objects_add (MpelWorker *self,
                          GObject    *object)
{
  Objects *objects = get_objects (self);
  Entry *entry = g_hash_table_lookup (objects->by_object, object);

  if (entry == NULL)
    {
      entry = g_new0 (Entry, 1);
      entry->handle = MPEL_OBJECT_HANDLE_WORKER | ++objects->last_handle;
      entry->object = g_object_ref (object);
      g_hash_table_insert (objects->by_handle, &entry->handle, entry);
      g_hash_table_insert (objects->by_object, object, entry);
    }

  entry->n_sent++;
  return entry->handle;
}

GObject *
_mpel_worker_objects_lookup (MpelWorker *self,
                             guint64     handle)
{
  Entry *entry = g_hash_table_lookup (get_objects (self)->by_handle, &handle);

  return entry != NULL ? entry->object : NULL;
}

static Entry *
lookup_entry (Objects  *objects,
              guint64   handle,
              GError  **error)
{
  Entry *entry = g_hash_table_lookup (objects->by_handle, &handle);

  if (entry == NULL)
    g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                 _("No object has the handle %" G_GUINT64_FORMAT), handle);

  return entry;
}

/* The object under @handle, or %NULL with NO_SUCH_OBJECT */
GObject *
_mpel_worker_objects_lookup_or_fail (MpelWorker  *self,
                                     guint64      handle,
                                     GError     **error)
{
  Entry *entry = lookup_entry (get_objects (self), handle, error);

  return entry != NULL ? entry->object : NULL;
}

/* The object exported as @name, or %NULL with NO_SUCH_OBJECT */
GObject *
_mpel_worker_objects_find_exported (MpelWorker  *self,
                                    const char  *name,
                                    GError     **error)
{
  GObject *object = g_hash_table_lookup (get_objects (self)->exported, name);

  if (object == NULL)
    g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                 _("The worker exports no object named “%s”"), name);

  return object;
}

gboolean
_mpel_worker_objects_release (MpelWorker *self,
                              guint64     handle,
                              guint       n_seen)
{
  Objects *objects = get_objects (self);
  Entry *entry = g_hash_table_lookup (objects->by_handle, &handle);

  if (entry == NULL || n_seen == 0 || n_seen > entry->n_sent)
    return FALSE;

  entry->n_sent -= n_seen;
  if (entry->n_sent == 0)
    {
      if (g_hash_table_lookup (objects->by_object, entry->object) == entry)
        g_hash_table_remove (objects->by_object, entry->object);
      g_hash_table_remove (objects->by_handle, &handle);
    }

  return TRUE;
}

guint
_mpel_worker_objects_get_n_objects (MpelWorker *self)
{
  return g_hash_table_size (get_objects (self)->by_handle);
}

gboolean
_mpel_worker_objects_lookup_name (MpelWorker  *self,
                                  const char  *name,
                                  guint64     *handle,
                                  GError     **error)
{
  GObject *object = _mpel_worker_objects_find_exported (self, name, error);

  if (object == NULL)
    return FALSE;

  *handle = _mpel_worker_objects_add (self, object);
  return TRUE;
}

const MpelValueObjectMapper *
_mpel_worker_objects_get_mapper (MpelWorker *self)
{
  return &get_objects (self)->mapper;
}

gboolean
_mpel_worker_objects_new (MpelWorker  *self,
                          const char  *type_name,
                          GVariant    *construct_values,
                          guint64     *handle,
                          GError     **error)
{
  g_autoptr(GVariant) owned = construct_values ? g_variant_ref_sink (construct_values) : NULL;
  g_autoptr(GObject) object = NULL;
  GType type;

  type = _mpel_gi_find_type (type_name, error);
  if (type == G_TYPE_INVALID)
    return FALSE;

  object = _mpel_gi_new_object (type, construct_values, _mpel_worker_objects_get_mapper (self), error);
  if (object == NULL)
    return FALSE;

  *handle = _mpel_worker_objects_add (self, object);
  return TRUE;
}


/* @kwargs without the handle of a method call, "mpel.object"; NULL when
 * nothing else is left. Transfer full. */
GVariant *
_mpel_worker_objects_strip_handle (GVariant *kwargs)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  GVariantIter iter;
  const char *name;
  GVariant *value;
  gboolean any = FALSE;

  g_variant_iter_init (&iter, kwargs);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      if (strcmp (name, MPEL_OBJECT_KWARG) != 0)
        {
          g_variant_builder_add (&builder, "{sv}", name, value);
          any = TRUE;
        }
      g_variant_unref (value);
    }

  return any ? g_variant_ref_sink (g_variant_builder_end (&builder)) : NULL;
}

gboolean
_mpel_worker_objects_invoke (MpelWorker    *self,
                             guint64        handle,
                             const char    *method,
                             GVariant      *args,
                             GCancellable  *cancellable,
                             GVariant     **result,
                             GError       **error)
{
  g_autoptr(GVariant) owned = args ? g_variant_ref_sink (args) : NULL;
  g_autoptr(GObject) object = NULL;
  GObject *found;

  if (!(found = _mpel_worker_objects_lookup_or_fail (self, handle, error)))
    return FALSE;

  /* The method may release its own object */
  object = g_object_ref (found);
  return _mpel_gi_call_method (object, method, args, cancellable,
                               _mpel_worker_objects_get_mapper (self), result, error);
}

void
_mpel_worker_objects_call (MpelWorker     *self,
                           guint64         handle,
                           MpelInvocation *invocation)
{
  const char *method = mpel_invocation_get_target (invocation);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GObject) object = NULL;
  GError *error = NULL;
  MpelMethodHandler handler;
  gpointer user_data = NULL;
  GObject *found;

  if (!(found = _mpel_worker_objects_lookup_or_fail (self, handle, &error)))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }

  object = g_object_ref (found);
  handler = _mpel_worker_objects_lookup_method (self, G_OBJECT_TYPE (object), method, &user_data);
  if (handler != NULL)
    {
      handler (invocation, object, user_data);
      return;
    }

  /* A typelib method has no keyword parameters */
  if (g_variant_n_children (mpel_invocation_get_kwargs (invocation)) > 0)
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    _("“%s.%s” is called through GObject-Introspection, which takes no keyword arguments"),
                                    G_OBJECT_TYPE_NAME (object), method);
      return;
    }

  if (!_mpel_gi_call_method (object, method, mpel_invocation_get_args (invocation),
                             mpel_invocation_get_cancellable (invocation),
                             _mpel_worker_objects_get_mapper (self), &result, &error))
    mpel_invocation_take_error (invocation, error);
  else
    mpel_invocation_return_value (invocation, g_steal_pointer (&result));
}

gboolean
_mpel_worker_objects_set_property (MpelWorker  *self,
                                   guint64      handle,
                                   const char  *name,
                                   GVariant    *value,
                                   GError     **error)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);
  GObject *object;

  if (!(object = _mpel_worker_objects_lookup_or_fail (self, handle, error)))
    return FALSE;

  return _mpel_gi_set_property (object, name, value, _mpel_worker_objects_get_mapper (self), error);
}

gboolean
_mpel_worker_objects_read (MpelWorker          *self,
                           guint64              handle,
                           const char * const  *properties,
                           const char * const  *getters,
                           GCancellable        *cancellable,
                           GVariant           **values,
                           GError             **error)
{
  const MpelValueObjectMapper *mapper = _mpel_worker_objects_get_mapper (self);
  g_autoptr(GVariantDict) dict = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) gets = NULL;
  g_autoptr(GObject) object = NULL;
  GObject *found;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  if (!(found = _mpel_worker_objects_lookup_or_fail (self, handle, error)))
    return FALSE;
  object = g_object_ref (found);

  if (!_mpel_gi_get_properties (object, properties, mapper, &props, error) ||
      !_mpel_gi_get_getters (object, getters, cancellable, mapper, &gets, error))
    return FALSE;

  dict = g_variant_dict_new (props);
  g_variant_iter_init (&iter, gets);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    g_variant_dict_insert_value (dict, name, value);

  *values = g_variant_ref_sink (g_variant_dict_end (dict));
  return TRUE;
}

/* Remote objects: the app's handles, mirrors and NOTIFY */

void
_mpel_worker_objects_clear (MpelWorker *self)
{
  Objects *objects = objects_quark ? g_object_get_qdata (G_OBJECT (self), objects_quark) : NULL;

  if (objects == NULL)
    return;

  g_hash_table_remove_all (objects->by_object);
  g_hash_table_remove_all (objects->by_handle);
  g_array_set_size (objects->dirty, 0);
}

/* Under a handle the app picked: each is its own entry, with its own
 * mirror, even for an object that has others. */
static Entry *
insert_entry (Objects  *objects,
              guint64   handle,
              GObject  *object,
              GError  **error)
{
  Entry *entry;

  if (handle == 0 || handle >= MPEL_OBJECT_HANDLE_WORKER ||
      g_hash_table_contains (objects->by_handle, &handle))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The handle %" G_GUINT64_FORMAT " is not free for the app to use"), handle);
      return NULL;
    }

  entry = g_new0 (Entry, 1);
  entry->handle = handle;
  entry->object = g_object_ref (object);
  entry->n_sent = 1;
  g_hash_table_insert (objects->by_handle, &entry->handle, entry);

  return entry;
}

static gboolean flush_cb (gpointer data);

static void
schedule_flush (Objects *objects)
{
  objects->flush_source = g_idle_source_new ();
  g_source_set_static_name (objects->flush_source, "[mpel] remote object changes");
  g_source_set_callback (objects->flush_source, flush_cb, objects, NULL);
  g_source_attach (objects->flush_source, objects->context);
}

/* Marks @name of @entry as changed, for the next flush. */
static void
mark_dirty (Objects    *objects,
            Entry      *entry,
            const char *name)
{
  Mirror *mirror = entry->mirror;

  g_hash_table_add (mirror->dirty, (gpointer) name);
  if (mirror->queued)
    return;

  /* Coalesced: one NOTIFY per object and main-loop iteration */
  mirror->queued = TRUE;
  g_array_append_val (objects->dirty, entry->handle);
  if (objects->flush_source == NULL)
    schedule_flush (objects);
}

/* A change made in another thread than the worker's, marked from there */
typedef struct
{
  MpelWorker *worker;
  guint64 handle;
  const char *name;  /* interned */
} ThreadChange;

static void
thread_change_free (gpointer data)
{
  ThreadChange *change = data;

  g_object_unref (change->worker);
  g_free (change);
}

static gboolean
thread_change_cb (gpointer data)
{
  ThreadChange *change = data;
  Objects *objects = get_objects (change->worker);
  Entry *entry = g_hash_table_lookup (objects->by_handle, &change->handle);

  if (entry != NULL && entry->mirror != NULL)
    mark_dirty (objects, entry, change->name);

  return G_SOURCE_REMOVE;
}

static void
on_mirrored_notify (GObject    *object,
                    GParamSpec *pspec,
                    gpointer    data)
{
  Entry *entry = data;
  Mirror *mirror = entry->mirror;
  Objects *objects = mirror->objects;

  if ((pspec->flags & G_PARAM_READABLE) == 0)
    return;
  if (mirror->properties != NULL &&
      !g_strv_contains ((const char * const *) mirror->properties, pspec->name))
    return;

  /* Set from a thread of the worker's own (a GTask's, say): the tables
   * and the connection belong to the worker's thread, so the change is
   * marked there, in the order of the other answers from this thread (see
   * answer () in mpel-invocation.c): a call's answer given after the
   * change still follows its NOTIFY. The object's own properties are its
   * business: they are read from the worker's thread. */
  if (g_thread_self () != objects->thread)
    {
      ThreadChange *change = g_new0 (ThreadChange, 1);

      change->worker = g_object_ref (objects->worker);
      change->handle = entry->handle;
      change->name = g_intern_string (pspec->name);
      _mpel_worker_objects_run_in_worker (objects->worker, thread_change_cb, change, thread_change_free);
      return;
    }

  mark_dirty (objects, entry, g_intern_string (pspec->name));
}

static Mirror *
mirror_new (Objects    *objects,
            Entry      *entry,
            char      **properties,
            char      **getters)
{
  Mirror *mirror = g_new0 (Mirror, 1);

  mirror->objects = objects;
  mirror->properties = properties;
  mirror->getters = getters ? getters : g_new0 (char *, 1);
  mirror->sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
  mirror->dirty = g_hash_table_new (NULL, NULL);
  entry->mirror = mirror;
  mirror->notify_id = g_signal_connect (entry->object, "notify", G_CALLBACK (on_mirrored_notify), entry);

  return mirror;
}

/* A getter a handler implements is answered in process. */
typedef struct
{
  gboolean  answered;
  GVariant *value;
} Capture;

static gboolean
capture_hook (MpelInvocation *invocation,
              guint8          kind,
              GVariant       *body,
              gpointer        data)
{
  Capture *capture = data;

  /* NULL: the handler answered after it returned; nobody waits */
  if (capture == NULL)
    return TRUE;

  capture->answered = TRUE;
  if (kind == MPEL_FRAME_RETURN && body != NULL)
    capture->value = g_variant_ref (body);

  return TRUE;
}

static GVariant *
read_getter (Objects    *objects,
             GObject    *object,
             const char *name)
{
  MpelMethodHandler handler;
  gpointer user_data = NULL;

  handler = _mpel_worker_objects_lookup_method (objects->worker, G_OBJECT_TYPE (object), name, &user_data);
  if (handler != NULL)
    {
      g_autoptr(MpelInvocation) invocation = NULL;
      Capture capture = { FALSE, NULL };

      invocation = _mpel_invocation_new (objects->worker, 0, name, g_variant_new ("()"), NULL, FALSE);
      _mpel_invocation_set_hook (invocation, capture_hook, &capture, NULL);
      handler (invocation, object, user_data);
      _mpel_invocation_set_hook (invocation, capture_hook, NULL, NULL);
      return capture.value;
    }
  else
    {
      const char *names[] = { name, NULL };
      g_autoptr(GVariant) values = NULL;

      if (!_mpel_gi_get_getters (object, names, NULL, &objects->mapper, &values, NULL))
        return NULL;
      return g_variant_lookup_value (values, name, NULL);
    }
}

static void
collect_value (Mirror          *mirror,
               GVariantBuilder *builder,
               const char      *name,
               GVariant        *value)
{
  GVariant *sent = g_hash_table_lookup (mirror->sent, name);

  if (value == NULL || (sent != NULL && g_variant_equal (sent, value)))
    return;

  g_variant_builder_add (builder, "{sv}", name, value);
  g_hash_table_replace (mirror->sent, g_strdup (name), g_variant_ref (value));
}

/* The values that changed since they were last sent, or NULL. */
static GVariant *
mirror_collect (Objects  *objects,
                Entry    *entry,
                gboolean  with_getters)
{
  Mirror *mirror = entry->mirror;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GObject) object = g_object_ref (entry->object);
  GHashTableIter iter;
  gpointer key;

  mirror->queued = FALSE;
  g_hash_table_iter_init (&iter, mirror->dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const char *names[] = { key, NULL };
      g_autoptr(GVariant) values = NULL;
      g_autoptr(GVariant) value = NULL;

      /* What does not convert is not mirrored */
      if (_mpel_gi_get_properties (object, names, &objects->mapper, &values, NULL))
        value = g_variant_lookup_value (values, key, NULL);
      collect_value (mirror, &builder, key, value);
    }
  g_hash_table_remove_all (mirror->dirty);

  for (guint i = 0; with_getters && mirror->getters[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = read_getter (objects, object, mirror->getters[i]);

      collect_value (mirror, &builder, mirror->getters[i], value);
    }

  /* A getter may have released the object */
  if (g_hash_table_lookup (objects->by_handle, &entry->handle) != entry)
    return NULL;

  {
    GVariant *result = g_variant_builder_end (&builder);

    if (g_variant_n_children (result) == 0)
      {
        g_variant_unref (g_variant_ref_sink (result));
        return NULL;
      }
    return result;
  }
}

/* Sends every pending change, and the getters of @handle (0: none). */
static void
flush_all (Objects *objects,
           guint64  handle)
{
  g_autoptr(GArray) dirty = objects->dirty;
  g_autoptr(MpelWorker) worker = g_object_ref (objects->worker);
  Entry *entry;

  /* Lists' changes first: the values below may describe their items */
  _mpel_worker_lists_flush (worker);
  objects->dirty = g_array_new (FALSE, FALSE, sizeof (guint64));
  for (guint i = 0; i < dirty->len; i++)
    {
      guint64 h = g_array_index (dirty, guint64, i);
      GVariant *changed;

      entry = g_hash_table_lookup (objects->by_handle, &h);
      if (entry == NULL || entry->mirror == NULL || !entry->mirror->queued)
        continue;
      changed = mirror_collect (objects, entry, h == handle);
      if (h == handle)
        handle = 0;
      if (changed != NULL)
        _mpel_worker_send_notify (worker, h, changed);
    }

  if (handle != 0 &&
      (entry = g_hash_table_lookup (objects->by_handle, &handle)) != NULL &&
      entry->mirror != NULL)
    {
      GVariant *changed = mirror_collect (objects, entry, TRUE);

      if (changed != NULL)
        _mpel_worker_send_notify (worker, handle, changed);
    }
}

static gboolean
flush_cb (gpointer data)
{
  Objects *objects = data;

  g_clear_pointer (&objects->flush_source, g_source_unref);
  flush_all (objects, 0);

  return G_SOURCE_REMOVE;
}

typedef struct
{
  MpelWorker *worker;
  guint64     handle;
} Dispatch;

static void
dispatch_free (gpointer data)
{
  Dispatch *dispatch = data;

  g_object_unref (dispatch->worker);
  g_free (dispatch);
}

static gboolean
before_answer_hook (MpelInvocation *invocation,
                    guint8          kind,
                    GVariant       *body,
                    gpointer        data)
{
  Dispatch *dispatch = data;

  /* The call's effects reach the app ahead of its answer */
  flush_all (get_objects (dispatch->worker), dispatch->handle);

  return FALSE;
}

void
_mpel_worker_objects_dispatch (MpelWorker     *self,
                               guint64         handle,
                               MpelInvocation *invocation)
{
  Dispatch *dispatch = g_new0 (Dispatch, 1);

  dispatch->worker = g_object_ref (self);
  dispatch->handle = handle;
  _mpel_invocation_set_hook (invocation, before_answer_hook, dispatch, dispatch_free);
  _mpel_worker_objects_call (self, handle, invocation);
}

/* Seams for mpel-worker-signals.c and mpel-worker-lists.c */

gpointer *
_mpel_worker_objects_get_extras (MpelWorker  *self,
                                 guint64      handle,
                                 GObject    **object)
{
  Entry *entry = g_hash_table_lookup (get_objects (self)->by_handle, &handle);

  if (entry == NULL)
    return NULL;
  *object = entry->object;
  return &entry->extras;
}

void
_mpel_worker_objects_run_in_worker (MpelWorker     *self,
                                    GSourceFunc     func,
                                    gpointer        data,
                                    GDestroyNotify  destroy)
{
  Objects *objects = get_objects (self);
  GSource *source;

  if (g_thread_self () == objects->thread)
    {
      func (data);
      if (destroy != NULL)
        destroy (data);
      return;
    }

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[mpel] worker change from a thread");
  g_source_set_callback (source, func, data, destroy);
  g_source_attach (source, objects->context);
  g_source_unref (source);
}

void
_mpel_worker_objects_serve_here (MpelWorker *self)
{
  Objects *objects = get_objects (self);

  g_main_context_unref (objects->context);
  objects->context = g_main_context_ref_thread_default ();
  objects->thread = g_thread_self ();
  if (objects->flush_source != NULL)
    {
      g_source_destroy (objects->flush_source);
      g_clear_pointer (&objects->flush_source, g_source_unref);
      schedule_flush (objects);
    }
}

void
_mpel_worker_objects_flush (MpelWorker *self)
{
  flush_all (get_objects (self), 0);
}

void
_mpel_worker_objects_refresh (MpelWorker *self,
                              guint64     handle)
{
  Objects *objects = get_objects (self);
  Entry *entry = g_hash_table_lookup (objects->by_handle, &handle);

  if (entry != NULL && entry->mirror != NULL)
    {
      Mirror *mirror = entry->mirror;
      g_autofree GParamSpec **pspecs = NULL;
      guint n_pspecs;

      /* Read again: the object may notify after its signal */
      pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (entry->object), &n_pspecs);
      for (guint i = 0; i < n_pspecs; i++)
        if ((pspecs[i]->flags & G_PARAM_READABLE) != 0 &&
            (mirror->properties == NULL ||
             g_strv_contains ((const char * const *) mirror->properties, pspecs[i]->name)))
          g_hash_table_add (mirror->dirty, (gpointer) g_intern_string (pspecs[i]->name));
      if (!mirror->queued && g_hash_table_size (mirror->dirty) > 0)
        {
          mirror->queued = TRUE;
          g_array_append_val (objects->dirty, entry->handle);
        }
    }

  flush_all (objects, 0);
}

static char **
maybe_strv (GVariant *maybe)
{
  g_autoptr(GVariant) inner = g_variant_get_maybe (maybe);

  return inner ? g_variant_dup_strv (inner, NULL) : NULL;
}

/* Mirrors @object under @handle and reads its first values. */
GVariant *
_mpel_worker_objects_start_mirror (MpelWorker  *self,
                                   guint64      handle,
                                   GObject     *object,
                                   GVariant    *properties,
                                   GVariant    *getters,
                                   GError     **error)
{
  Objects *objects = get_objects (self);
  g_autoptr(GVariant) values = NULL;
  GVariantIter iter;
  const char *name;
  GVariant *value;
  Entry *entry;
  Mirror *mirror;

  if (!(entry = insert_entry (objects, handle, object, error)))
    return NULL;

  mirror = mirror_new (objects, entry, maybe_strv (properties), g_variant_dup_strv (getters, NULL));
  for (guint i = 0; mirror->getters[i] != NULL; i++)
    if (_mpel_worker_objects_lookup_method (self, G_OBJECT_TYPE (object), mirror->getters[i], &(gpointer) { NULL }) == NULL &&
        !_mpel_gi_has_method (object, mirror->getters[i]))
      {
        g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_METHOD,
                     _("“%s” has no getter “%s”"), G_OBJECT_TYPE_NAME (object), mirror->getters[i]);
        g_hash_table_remove (objects->by_handle, &handle);
        return NULL;
      }

  if (!_mpel_gi_get_properties (object, (const char * const *) mirror->properties, &objects->mapper, &values, error))
    {
      g_hash_table_remove (objects->by_handle, &handle);
      return NULL;
    }

  g_variant_iter_init (&iter, values);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    g_hash_table_replace (mirror->sent, g_strdup (name), g_variant_ref (value));
  for (guint i = 0; mirror->getters[i] != NULL; i++)
    {
      g_autoptr(GVariant) got = read_getter (objects, object, mirror->getters[i]);

      if (got != NULL)
        g_hash_table_replace (mirror->sent, g_strdup (mirror->getters[i]), g_variant_ref (got));
    }

  {
    g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
    GHashTableIter hiter;
    gpointer key, val;

    g_hash_table_iter_init (&hiter, mirror->sent);
    while (g_hash_table_iter_next (&hiter, &key, &val))
      g_variant_builder_add (&builder, "{sv}", key, val);
    return g_variant_builder_end (&builder);
  }
}

/* mpel.object.set: sets @name of the object under @handle, reads the value
 * back (the object may have adjusted it) and sends the changes waiting,
 * this one's NOTIFY first; the value read back needs no NOTIFY later.
 * Returns it, or %NULL with @error set. */
GVariant *
_mpel_worker_objects_set_mirrored (MpelWorker  *self,
                                   guint64      handle,
                                   const char  *name,
                                   GVariant    *value,
                                   GError     **error)
{
  Objects *objects = get_objects (self);
  const char *names[] = { name, NULL };
  g_autoptr(GVariant) values = NULL;
  g_autoptr(GObject) object = NULL;
  GVariant *after;
  Entry *entry;

  if (!(entry = lookup_entry (objects, handle, error)))
    return NULL;

  object = g_object_ref (entry->object);
  if (!_mpel_gi_set_property (object, name, value, &objects->mapper, error) ||
      !_mpel_gi_get_properties (object, names, &objects->mapper, &values, error))
    return NULL;
  after = g_variant_lookup_value (values, name, NULL);

  flush_all (objects, handle);
  if ((entry = g_hash_table_lookup (objects->by_handle, &handle)) != NULL && entry->mirror != NULL)
    g_hash_table_replace (entry->mirror->sent, g_strdup (name), g_variant_ref (after));

  return after;
}
