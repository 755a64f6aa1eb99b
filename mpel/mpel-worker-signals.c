/* mpel-worker-signals.c: the signals of a worker's objects, forwarded to
 * their proxies
 *
 * The app subscribes to a signal of one remote object (its handle) by
 * name; the worker connects a closure that converts the emission's
 * arguments with the value module (objects become handles) and sends them
 * at once as a NOTIFY named after the signal, after the changes of mirrored
 * values still waiting: a handler on the app's side reads current mirrors,
 * and a signal emitted during a call arrives ahead of the call's answer.
 * Nothing is connected to a signal nobody subscribed to, and releasing the
 * handle disconnects everything.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-value-private.h"
#include "mpel-worker-objects-private.h"
#include "mpel-worker-private.h"
#include "mpel-worker-signals-private.h"

typedef struct
{
  gulong handler_id;
  guint  count;       /* subscriptions the app holds */
} Subscription;

/* The closure connected to the signal */
typedef struct
{
  GClosure    closure;
  MpelWorker *worker;   /* weak: the entry dies with the worker's table */
  guint64     handle;
  char       *name;     /* as the app spelled it, with its detail */
} Forward;

static void
subscription_free (gpointer data)
{
  g_free (data);
}

MpelWorkerExtras *
_mpel_worker_signals_get_extras (MpelWorker  *self,
                                 guint64      handle,
                                 GObject    **object,
                                 GError     **error)
{
  gpointer *slot = _mpel_worker_objects_get_extras (self, handle, object);
  MpelWorkerExtras *extras;

  if (slot == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("No object has the handle %" G_GUINT64_FORMAT), handle);
      return NULL;
    }

  if (*slot == NULL)
    {
      extras = g_new0 (MpelWorkerExtras, 1);
      extras->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, subscription_free);
      *slot = extras;
    }

  return *slot;
}

void
_mpel_worker_signals_free_extras (gpointer  data,
                                  GObject  *object)
{
  MpelWorkerExtras *extras = data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, extras->subscriptions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Subscription *subscription = value;

      g_clear_signal_handler (&subscription->handler_id, object);
    }
  g_hash_table_unref (extras->subscriptions);
  if (extras->watch != NULL)
    _mpel_worker_lists_free_watch (extras->watch, object);
  g_free (extras);
}

/* Whether values of @type convert (mpel-value.c): checked when the app
 * subscribes, so that an emission never has to drop its arguments. */
static gboolean
type_crosses (GType type)
{
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN: case G_TYPE_CHAR: case G_TYPE_UCHAR:
    case G_TYPE_INT: case G_TYPE_UINT: case G_TYPE_LONG: case G_TYPE_ULONG:
    case G_TYPE_INT64: case G_TYPE_UINT64: case G_TYPE_FLOAT: case G_TYPE_DOUBLE:
    case G_TYPE_STRING: case G_TYPE_ENUM: case G_TYPE_FLAGS: case G_TYPE_VARIANT:
    case G_TYPE_OBJECT:
      return TRUE;
    case G_TYPE_INTERFACE:
      return g_type_is_a (type, G_TYPE_OBJECT);
    case G_TYPE_BOXED:
      return type == G_TYPE_STRV || type == G_TYPE_BYTES;
    default:
      return type == G_TYPE_GTYPE;
    }
}

static void
forward_finalize (gpointer  data,
                  GClosure *closure)
{
  g_free (((Forward *) closure)->name);
}

/* An emission, its arguments copied, to be sent from the worker's thread */
typedef struct
{
  MpelWorker *worker;
  guint64     handle;
  char       *name;
  GValue     *values;
  guint       n_values;
} Emission;

static void
emission_free (gpointer data)
{
  Emission *emission = data;

  for (guint i = 0; i < emission->n_values; i++)
    g_value_unset (&emission->values[i]);
  g_free (emission->values);
  g_free (emission->name);
  g_object_unref (emission->worker);
  g_free (emission);
}

static gboolean
emission_send (gpointer data)
{
  Emission *emission = data;
  const MpelValueObjectMapper *mapper = _mpel_worker_objects_get_mapper (emission->worker);
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  /* The handler returns nothing: a forwarded signal never stops an
   * emission nor answers for the app. */
  for (guint i = 0; i < emission->n_values; i++)
    {
      g_autoptr(GError) error = NULL;
      GVariant *arg = _mpel_value_to_variant_full (&emission->values[i], mapper, &error);

      if (arg == NULL)
        {
          /* Types were checked when the app subscribed: only a value
           * itself can fail (a string that is not UTF-8) */
          g_debug ("Argument %u of “%s” does not cross: %s", i + 1, emission->name, error->message);
          return G_SOURCE_REMOVE;
        }
      g_ptr_array_add (args, g_variant_ref_sink (arg));
    }

  /* Mirrors first, read again (GtkAdjustment emits value-changed before
   * it notifies): the app's handler reads them current */
  _mpel_worker_objects_refresh (emission->worker, emission->handle);
  _mpel_worker_send_notify_named (emission->worker, emission->handle, emission->name,
                                  g_variant_new_tuple ((GVariant **) args->pdata, args->len));

  return G_SOURCE_REMOVE;
}

static void
forward_marshal (GClosure     *closure,
                 GValue       *return_value,
                 guint         n_param_values,
                 const GValue *param_values,
                 gpointer      invocation_hint,
                 gpointer      marshal_data)
{
  Forward *forward = (Forward *) closure;
  Emission *emission = g_new0 (Emission, 1);

  /* The arguments are copied (objects and boxed values referenced): an
   * emission in another thread than the worker's is sent from the
   * worker's context (see _mpel_worker_objects_run_in_worker()), after
   * the emission has returned. */
  emission->worker = g_object_ref (forward->worker);
  emission->handle = forward->handle;
  emission->name = g_strdup (forward->name);
  emission->n_values = n_param_values > 0 ? n_param_values - 1 : 0;
  emission->values = g_new0 (GValue, MAX (emission->n_values, 1));
  for (guint i = 0; i < emission->n_values; i++)
    {
      g_value_init (&emission->values[i], G_VALUE_TYPE (&param_values[i + 1]));
      g_value_copy (&param_values[i + 1], &emission->values[i]);
    }

  _mpel_worker_objects_run_in_worker (emission->worker, emission_send, emission, emission_free);
}

/* Connects @name (`signal` or `signal::detail`) of @handle's object, or
 * counts one more subscription. */
static gboolean
subscribe (MpelWorker  *self,
           guint64      handle,
           const char  *name,
           GError     **error)
{
  MpelWorkerExtras *extras;
  Subscription *subscription;
  GSignalQuery query;
  GObject *object;
  Forward *forward;
  GQuark detail;
  guint signal_id;

  if (!(extras = _mpel_worker_signals_get_extras (self, handle, &object, error)))
    return FALSE;

  if ((subscription = g_hash_table_lookup (extras->subscriptions, name)) != NULL)
    {
      subscription->count++;
      return TRUE;
    }

  if (!g_signal_parse_name (name, G_OBJECT_TYPE (object), &signal_id, &detail, TRUE))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("“%s” has no signal “%s”"), G_OBJECT_TYPE_NAME (object), name);
      return FALSE;
    }

  g_signal_query (signal_id, &query);
  for (guint i = 0; i < query.n_params; i++)
    if (!type_crosses (query.param_types[i] & ~G_SIGNAL_TYPE_STATIC_SCOPE))
      {
        g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                     _("Argument %u of the signal “%s” of “%s” is a %s, which does not cross to the app"),
                     i + 1, name, G_OBJECT_TYPE_NAME (object),
                     g_type_name (query.param_types[i] & ~G_SIGNAL_TYPE_STATIC_SCOPE));
        return FALSE;
      }

  forward = (Forward *) g_closure_new_simple (sizeof (Forward), NULL);
  forward->worker = self;
  forward->handle = handle;
  forward->name = g_strdup (name);
  g_closure_add_finalize_notifier (&forward->closure, NULL, forward_finalize);
  g_closure_set_marshal (&forward->closure, forward_marshal);

  subscription = g_new0 (Subscription, 1);
  subscription->count = 1;
  subscription->handler_id = g_signal_connect_closure_by_id (object, signal_id, detail, &forward->closure, FALSE);
  g_hash_table_insert (extras->subscriptions, g_strdup (name), subscription);

  return TRUE;
}

static gboolean
unsubscribe (MpelWorker  *self,
             guint64      handle,
             const char  *name,
             GError     **error)
{
  MpelWorkerExtras *extras;
  Subscription *subscription;
  GObject *object;

  if (!(extras = _mpel_worker_signals_get_extras (self, handle, &object, error)))
    return FALSE;

  subscription = g_hash_table_lookup (extras->subscriptions, name);
  if (subscription == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The object %" G_GUINT64_FORMAT " has no subscription to “%s”"), handle, name);
      return FALSE;
    }

  if (--subscription->count == 0)
    {
      g_clear_signal_handler (&subscription->handler_id, object);
      g_hash_table_remove (extras->subscriptions, name);
    }

  return TRUE;
}

/* (t s) → (): a handle and a signal's name, `signal::detail` allowed */
static void
builtin_subscribe (MpelInvocation *invocation,
                   gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);
  gboolean subscribing = GPOINTER_TO_INT (user_data);
  GError *error = NULL;
  const char *name;
  guint64 handle;
  gboolean ok;

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(ts)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    _("%s takes %s, not %s"), mpel_invocation_get_target (invocation),
                                    "(ts)", g_variant_get_type_string (args));
      return;
    }

  g_variant_get (args, "(t&s)", &handle, &name);
  if (subscribing)
    ok = subscribe (mpel_invocation_get_worker (invocation), handle, name, &error);
  else
    ok = unsubscribe (mpel_invocation_get_worker (invocation), handle, name, &error);

  if (ok)
    mpel_invocation_return_value (invocation, NULL);
  else
    mpel_invocation_take_error (invocation, error);
}

void
_mpel_worker_signals_add_builtins (MpelWorker *self)
{
  mpel_worker_add_handler (self, "mpel.object.subscribe", builtin_subscribe, GINT_TO_POINTER (TRUE), NULL);
  mpel_worker_add_handler (self, "mpel.object.unsubscribe", builtin_subscribe, GINT_TO_POINTER (FALSE), NULL);
}
