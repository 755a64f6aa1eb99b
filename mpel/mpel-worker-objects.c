/* mpel-worker-objects.c: the objects a worker's proxies stand for
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-gi-private.h"
#include "mpel-worker-objects-private.h"

typedef struct
{
  guint64  handle;
  GObject *object;
  guint    n_sent;
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
  guint64                last_handle;
  MpelValueObjectMapper  mapper;
} Objects;

static GQuark objects_quark;

static void
entry_free (gpointer data)
{
  Entry *entry = data;

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
      entry->handle = ++objects->last_handle;
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
  GObject *object = g_hash_table_lookup (get_objects (self)->exported, name);

  if (object == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("The worker exports no object named “%s”"), name);
      return FALSE;
    }

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

static GObject *
lookup_or_fail (MpelWorker  *self,
                guint64      handle,
                GError     **error)
{
  GObject *object = _mpel_worker_objects_lookup (self, handle);

  if (object == NULL)
    g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                 _("No object has the handle %" G_GUINT64_FORMAT), handle);

  return object;
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

  if (!(found = lookup_or_fail (self, handle, error)))
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

  if (!(found = lookup_or_fail (self, handle, &error)))
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

  if (!(object = lookup_or_fail (self, handle, error)))
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

  if (!(found = lookup_or_fail (self, handle, error)))
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
