/* mpel-worker-builtins.c: the targets every worker has: mpel.ping,
 * mpel.echo, mpel.sleep and mpel.release
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpel-types.h"
#include "mpel-worker-builtins-private.h"
#include "mpel-worker-objects-private.h"
#include "mpel-worker-private.h"

static void
builtin_ping (MpelInvocation *invocation,
              gpointer        user_data)
{
  mpel_invocation_return_value (invocation, g_variant_new_int32 (getpid ()));
}

static void
builtin_echo (MpelInvocation *invocation,
              gpointer        user_data)
{
  mpel_invocation_return_value (invocation, mpel_invocation_get_args (invocation));
}

typedef struct
{
  MpelInvocation *invocation;
  GSource *timeout;
  GSource *cancelled;
} Sleep;

static void
sleep_finish (Sleep    *sleep,
              gboolean  cancelled)
{
  if (cancelled)
    mpel_invocation_return_error (sleep->invocation, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                  _("mpel.sleep was cancelled"));
  else
    mpel_invocation_return_value (sleep->invocation, NULL);

  g_source_destroy (sleep->timeout);
  g_source_unref (sleep->timeout);
  g_source_destroy (sleep->cancelled);
  g_source_unref (sleep->cancelled);
  g_object_unref (sleep->invocation);
  g_free (sleep);
}

static gboolean
sleep_timeout_cb (gpointer data)
{
  sleep_finish (data, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
sleep_cancelled_cb (GCancellable *cancellable,
                    gpointer      data)
{
  sleep_finish (data, TRUE);
  return G_SOURCE_REMOVE;
}

static void
builtin_sleep (MpelInvocation *invocation,
               gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);
  Sleep *sleep;
  guint32 msec;

  if (g_variant_is_of_type (args, G_VARIANT_TYPE ("(u)")))
    g_variant_get (args, "(u)", &msec);
  else if (g_variant_is_of_type (args, G_VARIANT_TYPE ("(i)")))
    {
      gint32 value;

      g_variant_get (args, "(i)", &value);
      msec = MAX (value, 0);
    }
  else
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    _("mpel.sleep takes (u) milliseconds, not %s"),
                                    g_variant_get_type_string (args));
      return;
    }

  sleep = g_new0 (Sleep, 1);
  sleep->invocation = g_object_ref (invocation);
  sleep->timeout = g_timeout_source_new (msec);
  g_source_set_callback (sleep->timeout, sleep_timeout_cb, sleep, NULL);
  g_source_attach (sleep->timeout, g_main_context_get_thread_default ());
  sleep->cancelled = g_cancellable_source_new (mpel_invocation_get_cancellable (invocation));
  g_source_set_callback (sleep->cancelled, G_SOURCE_FUNC (sleep_cancelled_cb), sleep, NULL);
  g_source_attach (sleep->cancelled, g_main_context_get_thread_default ());
}

/* Drops what the app held, by handle, in one batch: (at) → (u) the number
 * that were held. */
static void
builtin_release (MpelInvocation *invocation,
                 gpointer        user_data)
{
  MpelWorker *worker = mpel_invocation_get_worker (invocation);
  GVariant *args = mpel_invocation_get_args (invocation);
  g_autoptr(GVariant) handles = NULL;
  guint32 n_released = 0;

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(at)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    _("mpel.release takes (at) handles, not %s"),
                                    g_variant_get_type_string (args));
      return;
    }

  handles = g_variant_get_child_value (args, 0);
  for (gsize i = 0; i < g_variant_n_children (handles); i++)
    {
      guint64 handle;

      g_variant_get_child (handles, i, "t", &handle);
      if (_mpel_worker_release_object (worker, handle))
        n_released++;
    }

  mpel_invocation_return_value (invocation, g_variant_new_uint32 (n_released));
}

void
_mpel_worker_add_builtins (MpelWorker *worker)
{
  mpel_worker_add_handler (worker, "mpel.ping", builtin_ping, NULL, NULL);
  mpel_worker_add_handler (worker, "mpel.echo", builtin_echo, NULL, NULL);
  mpel_worker_add_handler (worker, "mpel.sleep", builtin_sleep, NULL, NULL);
  mpel_worker_add_handler (worker, "mpel.release", builtin_release, NULL, NULL);
  _mpel_worker_objects_add_builtins (worker);
}
