/* mpel-worker-objects-builtins.c: the built-in targets of remote objects,
 * mpel.object.new, .attach, .adopt, .set, .release and mpel.objects.count
 * (doc/protocol.md, "Remote objects"), over the object table of
 * mpel-worker-objects.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-gi-private.h"
#include "mpel-worker-objects-private.h"
#include "mpel-worker-private.h"
#include "mpel-worker-signals-private.h"

/* TRUE when the arguments of a built-in target have @type; otherwise
 * answers INVALID_ARGS naming the target and both types */
gboolean
_mpel_worker_objects_check_args (MpelInvocation *invocation,
            const char     *type)
{
  GVariant *args = mpel_invocation_get_args (invocation);

  if (g_variant_is_of_type (args, G_VARIANT_TYPE (type)))
    return TRUE;

  mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                _("%s takes %s, not %s"),
                                mpel_invocation_get_target (invocation), type,
                                g_variant_get_type_string (args));
  return FALSE;
}

/* (t s a{sv} mas as) → a{sv}: handle, type, construct values in order,
 * mirrored properties (nothing: all), getters → the first values */
static void
builtin_object_new (MpelInvocation *invocation,
                    gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);
  GVariant *args = mpel_invocation_get_args (invocation);
  g_autoptr(GVariant) construct_values = NULL;
  g_autoptr(GVariant) properties = NULL;
  g_autoptr(GVariant) getters = NULL;
  g_autoptr(GObject) object = NULL;
  GError *error = NULL;
  const char *type_name;
  GVariant *values;
  guint64 handle;
  GType type;

  if (!_mpel_worker_objects_check_args (invocation, "(tsa{sv}masas)"))
    return;

  g_variant_get (args, "(t&s@a{sv}@mas@as)", &handle, &type_name, &construct_values, &properties, &getters);
  if ((type = _mpel_gi_find_type (type_name, &error)) == G_TYPE_INVALID ||
      !(object = _mpel_gi_new_object (type, construct_values, _mpel_worker_objects_get_mapper (self), &error)) ||
      !(values = _mpel_worker_objects_start_mirror (self, handle, object, properties, getters, &error)))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }

  mpel_invocation_return_value (invocation, values);
}

/* (t s mas as) → (s a{sv}): handle, exported name, properties, getters →
 * the type's name and the first values */
static void
builtin_object_attach (MpelInvocation *invocation,
                       gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);
  GVariant *args = mpel_invocation_get_args (invocation);
  g_autoptr(GVariant) properties = NULL;
  g_autoptr(GVariant) getters = NULL;
  GError *error = NULL;
  const char *name;
  GObject *object;
  GVariant *values;
  guint64 handle;

  if (!_mpel_worker_objects_check_args (invocation, "(tsmasas)"))
    return;

  g_variant_get (args, "(t&s@mas@as)", &handle, &name, &properties, &getters);
  if (!(object = _mpel_worker_objects_find_exported (self, name, &error)) ||
      !(values = _mpel_worker_objects_start_mirror (self, handle, object, properties, getters, &error)))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }

  mpel_invocation_return_value (invocation,
                                g_variant_new ("(s@a{sv})", G_OBJECT_TYPE_NAME (object), values));
}

/* (t t mas as) → (s a{sv}): a handle the app picks for an object the
 * worker sent (a method's result), which takes over that sending */
static void
builtin_object_adopt (MpelInvocation *invocation,
                      gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);
  GVariant *args = mpel_invocation_get_args (invocation);
  g_autoptr(GVariant) properties = NULL;
  g_autoptr(GVariant) getters = NULL;
  g_autoptr(GObject) object = NULL;
  GError *error = NULL;
  guint64 handle, sent;
  GVariant *values;
  GObject *found;

  if (!_mpel_worker_objects_check_args (invocation, "(ttmasas)"))
    return;

  g_variant_get (args, "(tt@mas@as)", &handle, &sent, &properties, &getters);
  found = _mpel_worker_objects_lookup_or_fail (self, sent, &error);
  if (found != NULL && sent < MPEL_OBJECT_HANDLE_WORKER)
    {
      found = NULL;
      g_set_error (&error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("The handle %" G_GUINT64_FORMAT " was not given out by the worker"), sent);
    }
  /* Held: the release below may drop the worker's own handle's reference */
  if (found != NULL)
    object = g_object_ref (found);
  if (object == NULL ||
      !(values = _mpel_worker_objects_start_mirror (self, handle, object, properties, getters, &error)))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }
  _mpel_worker_objects_release (self, sent, 1);

  mpel_invocation_return_value (invocation,
                                g_variant_new ("(s@a{sv})", G_OBJECT_TYPE_NAME (object), values));
}

/* (t s v) → v: the value after the set, which the object may have
 * adjusted; its NOTIFY goes first. */
static void
builtin_object_set (MpelInvocation *invocation,
                    gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);
  g_autoptr(GVariant) value = NULL;
  GError *error = NULL;
  const char *name;
  guint64 handle;
  GVariant *after;

  if (!_mpel_worker_objects_check_args (invocation, "(tsv)"))
    return;

  g_variant_get (mpel_invocation_get_args (invocation), "(t&sv)", &handle, &name, &value);
  if (!(after = _mpel_worker_objects_set_mirrored (self, handle, name, value, &error)))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }

  mpel_invocation_return_value (invocation, g_variant_new_variant (after));
  g_variant_unref (after);
}

/* a(tu) → u: handles and the number of sendings of each the app saw */
static void
builtin_object_release (MpelInvocation *invocation,
                        gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);
  g_autoptr(GVariant) list = NULL;
  GVariantIter iter;
  guint32 n_released = 0;
  guint64 handle;
  guint32 n_seen;

  if (!_mpel_worker_objects_check_args (invocation, "(a(tu))"))
    return;

  list = g_variant_get_child_value (mpel_invocation_get_args (invocation), 0);
  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(tu)", &handle, &n_seen))
    if (_mpel_worker_objects_release (self, handle, n_seen))
      n_released++;

  mpel_invocation_return_value (invocation, g_variant_new_uint32 (n_released));
}

static void
builtin_objects_count (MpelInvocation *invocation,
                       gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);

  mpel_invocation_return_value (invocation,
                                g_variant_new_uint32 (_mpel_worker_objects_get_n_objects (self)));
}

void
_mpel_worker_objects_add_builtins (MpelWorker *self)
{
  mpel_worker_add_handler (self, "mpel.object.new", builtin_object_new, NULL, NULL);
  mpel_worker_add_handler (self, "mpel.object.attach", builtin_object_attach, NULL, NULL);
  mpel_worker_add_handler (self, "mpel.object.adopt", builtin_object_adopt, NULL, NULL);
  mpel_worker_add_handler (self, "mpel.object.set", builtin_object_set, NULL, NULL);
  mpel_worker_add_handler (self, "mpel.object.release", builtin_object_release, NULL, NULL);
  mpel_worker_add_handler (self, "mpel.objects.count", builtin_objects_count, NULL, NULL);
  _mpel_worker_signals_add_builtins (self);
  _mpel_worker_lists_add_builtins (self);
}
