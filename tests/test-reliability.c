/* test-reliability.c: crashes, restarts, cancellation, timeouts, orphans,
 * floods and worker pools. Workers are killed at known points (a handler
 * reports its pid first); nothing here sleeps to synchronise.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mpel-test-util.h"
#include "mpel-wire-private.h"

static const char *self_path;

static GPid
worker_pid (MpelLoop *loop)
{
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  value = test_call_sync (loop, "mpel.ping", NULL, &error);
  g_assert_no_error (error);
  return g_variant_get_int32 (value);
}

typedef struct
{
  guint n_done;
  guint n_failed;
  guint n_crashed;
  guint n_output;
  GArray *values;
} Tally;

static gboolean
tally_output (MpelLoop  *loop,
              MpelEvent *event,
              Tally     *tally)
{
  tally->n_output++;
  if (mpel_event_get_state (event) == MPEL_EVENT_STATE_DONE)
    {
      tally->n_done++;
      if (tally->values != NULL && mpel_event_get_result (event) != NULL &&
          g_variant_is_of_type (mpel_event_get_result (event), G_VARIANT_TYPE_INT32))
        {
          gint32 v = g_variant_get_int32 (mpel_event_get_result (event));
          g_array_append_val (tally->values, v);
        }
    }
  else
    {
      tally->n_failed++;
      if (g_error_matches (mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED))
        tally->n_crashed++;
    }
  return FALSE;
}

static gboolean
all_running (GPtrArray *events)
{
  for (guint i = 0; i < events->len; i++)
    if (mpel_event_get_state (g_ptr_array_index (events, i)) != MPEL_EVENT_STATE_RUNNING)
      return FALSE;
  return TRUE;
}

/* kill -9 of the worker with 1000 events in flight: every event ends with
 * WORKER_CRASHED, naming the signal; the restarted loop serves new ones. */
static void
test_kill_in_flight (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_object_unref);
  Tally tally = { 0 };
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  GPid pid;

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  pid = worker_pid (loop);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);

  for (guint i = 0; i < 1000; i++)
    g_ptr_array_add (events, g_object_ref (mpel_loop_add_event (loop, "mpel.sleep",
                                                                g_variant_new ("(u)", 600000))));
  g_assert_true (all_running (events));

  g_assert_no_errno (kill (pid, SIGKILL));
  test_iterate_until (mpel_loop_get_n_pending (loop) == 0);

  g_assert_cmpuint (tally.n_output, ==, 1000);
  g_assert_cmpuint (tally.n_crashed, ==, 1000);
  for (guint i = 0; i < events->len; i++)
    {
      const GError *e = mpel_event_get_error (g_ptr_array_index (events, i));

      g_assert_error ((GError *) e, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
      g_assert_nonnull (strstr (e->message, "signal 9"));
      g_assert_nonnull (strstr (e->message, "mpel.sleep"));
    }

  /* Restarted: a new worker serves new events. */
  value = test_call_sync (loop, "add_one", g_variant_new ("(i)", 41), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 42);
  g_assert_cmpint (worker_pid (loop), !=, pid);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Queued events survive a crash under ON_CRASH and run, in order, on the
 * new worker. */
static void
test_restart_keeps_queue (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (gint32));
  Tally tally = { .values = values };

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);

  mpel_loop_add_event (loop, "die", g_variant_new ("(i)", 0));
  for (int i = 0; i < 5; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  test_wait (loop);

  g_assert_cmpuint (tally.n_crashed, ==, 1);
  g_assert_cmpuint (tally.n_done, ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (g_array_index (values, gint32, i), ==, (gint32) i + 1);
  g_assert_true (mpel_loop_is_running (loop));

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* stop() while a restart is pending: the restart goes ahead, the queued
 * events run, then the loop stops. */
static void
test_stop_during_restart (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  Tally tally = { 0 };

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);

  mpel_loop_add_event (loop, "die", g_variant_new ("(i)", 0));
  for (int i = 0; i < 3; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  test_iterate_until (tally.n_crashed == 1);
  mpel_loop_stop (loop);
  test_wait (loop);
  test_iterate_until (!mpel_loop_is_running (loop));

  g_assert_cmpuint (tally.n_done, ==, 3);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* What a worker sent just before it died arrives: its exit does not
 * overtake its last frames. The app looks only once the worker is gone, and
 * there are so many frames that they take several dispatch slices, between
 * which the news of the exit is ready. */
static void
count_item (MpelEvent *event,
            GVariant  *item,
            guint     *n_items)
{
  g_assert_cmpuint (g_variant_get_uint32 (item), ==, *n_items);
  (*n_items)++;
}

static void
test_last_words (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) answered = NULL;
  g_autoptr(MpelEvent) running = NULL;
  struct pollfd pfd;
  guint n_items = 0;
  GPid pid = worker_pid (loop);
  int pidfd = syscall (SYS_pidfd_open, pid, 0);

  if (pidfd < 0)
    {
      g_test_skip ("pidfd_open is not available");
      return;
    }

  answered = g_object_ref (mpel_loop_add_event (loop, "answer_and_die", g_variant_new ("(iu)", 7, 3000)));
  g_signal_connect (answered, "item", G_CALLBACK (count_item), &n_items);
  running = g_object_ref (mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000)));

  /* Send, then wait for the death without running the main context. */
  g_main_context_iteration (NULL, FALSE);
  pfd.fd = pidfd;
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, 30000), ==, 1);
  close (pidfd);

  test_wait (loop);
  g_assert_cmpuint (n_items, ==, 3000);
  g_assert_cmpint (mpel_event_get_state (answered), ==, MPEL_EVENT_STATE_DONE);
  g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (answered)), ==, 7);
  g_assert_error ((GError *) mpel_event_get_error (running), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (mpel_event_get_error (running)->message, "status 3"));

  g_assert_finalize_object (g_steal_pointer (&answered));
  g_assert_finalize_object (g_steal_pointer (&running));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Answers given before a later handler of the same batch kills the worker
 * (by a crash, or by _exit(), which no exit handler sees) arrive: only the
 * event that was running when it died fails, and its error names it. */
static void
test_last_words_batch (gconstpointer data)
{
  gint32 sig = GPOINTER_TO_INT (data);
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GPtrArray) adds = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(MpelEvent) die = NULL;
  Tally tally = { 0 };

  worker_pid (loop);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);

  /* Pushed without iterating: they leave in one write, and the worker reads
   * them as one batch. */
  for (gint32 i = 0; i < 3; i++)
    g_ptr_array_add (adds, g_object_ref (mpel_loop_add_event (loop, "add", g_variant_new ("(ii)", i, 10))));
  die = g_object_ref (mpel_loop_add_event (loop, "die", g_variant_new ("(i)", sig)));
  test_wait (loop);

  for (guint i = 0; i < adds->len; i++)
    {
      MpelEvent *event = g_ptr_array_index (adds, i);

      g_assert_no_error ((GError *) mpel_event_get_error (event));
      g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_DONE);
      g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (event)), ==, (gint32) i + 10);
    }
  g_assert_error ((GError *) mpel_event_get_error (die), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (mpel_event_get_error (die)->message, "“die”"));
  if (sig == 0)
    g_assert_nonnull (strstr (mpel_event_get_error (die)->message, "status 3"));
  else
    {
      g_autofree char *signal_text = g_strdup_printf ("signal %d", sig);

      g_assert_nonnull (strstr (mpel_event_get_error (die)->message, signal_text));
    }
  g_assert_cmpuint (tally.n_output, ==, 4);
  g_assert_cmpuint (tally.n_crashed, ==, 1);

  g_assert_finalize_object (g_steal_pointer (&die));
  g_clear_pointer (&adds, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* The same when the later handler blocks until the app kills the worker
 * (past kill-timeout): the answers before it still arrive. */
static void
test_last_words_batch_stuck (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GPtrArray) adds = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(MpelEvent) stuck = mpel_event_new ("count_primes", g_variant_new ("(uu)", 0, G_MAXUINT32));
  Tally tally = { 0 };

  mpel_loop_set_kill_timeout (loop, 100);
  worker_pid (loop);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);

  for (gint32 i = 0; i < 3; i++)
    g_ptr_array_add (adds, g_object_ref (mpel_loop_add_event (loop, "add", g_variant_new ("(ii)", i, 10))));
  mpel_event_set_timeout (stuck, 50);
  mpel_loop_push (loop, stuck);
  test_wait (loop);

  for (guint i = 0; i < adds->len; i++)
    {
      MpelEvent *event = g_ptr_array_index (adds, i);

      g_assert_no_error ((GError *) mpel_event_get_error (event));
      g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_DONE);
      g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (event)), ==, (gint32) i + 10);
    }
  g_assert_error ((GError *) mpel_event_get_error (stuck), MPEL_ERROR, MPEL_ERROR_TIMED_OUT);
  g_assert_cmpuint (tally.n_output, ==, 4);

  g_clear_pointer (&adds, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&loop));
  g_assert_finalize_object (g_steal_pointer (&stuck));
}

/* An a{sv} whose one key is not UTF-8, as a peer or a careless caller
 * could make with g_variant_new_from_data (). */
static GVariant *
kwargs_with_bad_key (void)
{
  g_autoptr(GVariant) good = g_variant_ref_sink (g_variant_new_parsed ("{'kx': <1>}"));
  gsize size = g_variant_get_size (good);
  guint8 *data = g_memdup2 (g_variant_get_data (good), size);
  guint8 *key = memmem (data, size, "kx", 2);

  g_assert_nonnull (key);
  key[1] = 0xff;
  return g_variant_new_from_data (G_VARIANT_TYPE_VARDICT, data, size, FALSE, g_free, data);
}

/* A target or keyword arguments the worker cannot take fail their own
 * event with INVALID_ARGS, from the main context and through "output",
 * without reaching the worker, whose other events go on. */
static void
test_invalid_event_refused (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelLoop) idle_loop = test_loop_new ();
  g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(MpelEvent) running = NULL;
  g_autoptr(MpelEvent) refused = NULL;
  g_autoptr(GVariant) not_dict = g_variant_ref (g_variant_new_int32 (5));
  Tally tally = { 0 };
  MpelEvent *event;
  GPid pid;

  pid = worker_pid (loop);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);
  running = g_object_ref (mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000)));

  g_ptr_array_add (bad, mpel_event_new ("add_one\xff", g_variant_new ("(i)", 1)));
  g_ptr_array_add (bad, mpel_event_new ("", NULL));

  /* Refused, sunk and released: not floating any more, not kept. */
  event = mpel_event_new ("add_one", g_variant_new ("(i)", 1));
  mpel_event_set_kwargs (event, not_dict);
  g_assert_false (g_variant_is_floating (not_dict));
  g_assert_null (mpel_event_get_kwargs (event));
  g_ptr_array_add (bad, event);

  event = mpel_event_new ("add_one", g_variant_new ("(i)", 1));
  mpel_event_set_kwargs (event, kwargs_with_bad_key ());
  g_assert_null (mpel_event_get_kwargs (event));
  g_ptr_array_add (bad, event);

  for (guint i = 0; i < bad->len; i++)
    {
      event = g_ptr_array_index (bad, i);
      mpel_loop_push (loop, event);
      /* Never from inside push () */
      g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_QUEUED);
    }
  test_iterate_until (tally.n_output == bad->len);

  for (guint i = 0; i < bad->len; i++)
    {
      event = g_ptr_array_index (bad, i);
      g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_FAILED);
      g_assert_error ((GError *) mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    }
  g_assert_nonnull (strstr (mpel_event_get_error (g_ptr_array_index (bad, 2))->message, "a{sv}"));

  /* The worker never saw them: same process, its event still runs. */
  g_assert_cmpint (mpel_event_get_state (running), ==, MPEL_EVENT_STATE_RUNNING);
  g_assert_cmpint (worker_pid (loop), ==, pid);
  mpel_event_cancel (running);

  /* A loop that is not running is not started for an event it refuses. */
  refused = g_object_ref (mpel_loop_add_event (idle_loop, "\xc3\x28", NULL));
  g_assert_false (mpel_loop_is_running (idle_loop));
  test_wait (idle_loop);
  g_assert_error ((GError *) mpel_event_get_error (refused), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_false (mpel_loop_is_running (idle_loop));

  g_assert_finalize_object (g_steal_pointer (&refused));
  g_assert_finalize_object (g_steal_pointer (&idle_loop));
  g_clear_pointer (&bad, g_ptr_array_unref);
  /* The loop holds the cancelled sleep until the worker gives it back. */
  g_assert_finalize_object (g_steal_pointer (&loop));
  g_assert_finalize_object (g_steal_pointer (&running));
}

/* Handlers may close the loop while a death is being reported. */
static void
close_on_exit (MpelLoop     *loop,
               guint         index,
               const GError *reason,
               guint        *n_exits)
{
  (*n_exits)++;
  mpel_loop_close (loop);
}

static gboolean
close_on_output (MpelLoop  *loop,
                 MpelEvent *event,
                 gpointer   user_data)
{
  mpel_loop_close (loop);
  return FALSE;
}

static void
test_close_from_handlers (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  Tally tally = { 0 };
  guint n_exits = 0;
  gulong id;

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);
  id = g_signal_connect (loop, "worker-exited", G_CALLBACK (close_on_exit), &n_exits);

  mpel_loop_add_event (loop, "die", g_variant_new ("(i)", 0));
  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1));
  test_wait (loop);
  g_assert_cmpuint (n_exits, ==, 1);
  g_assert_cmpuint (tally.n_output, ==, 2);
  g_assert_false (mpel_loop_is_running (loop));

  /* From output, while a death fails several events */
  g_signal_handler_disconnect (loop, id);
  g_signal_connect (loop, "output", G_CALLBACK (close_on_output), NULL);
  mpel_loop_add_event (loop, "die", g_variant_new ("(i)", 0));
  for (int i = 0; i < 3; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  test_wait (loop);
  g_assert_cmpuint (tally.n_output, ==, 6);
  g_assert_false (mpel_loop_is_running (loop));

  /* And the loop still works. */
  g_signal_handlers_disconnect_by_func (loop, close_on_output, NULL);
  value = test_call_sync (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 2);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Restarts are capped: past max-restarts within a minute the loop gives up
 * and fails what is queued with a clear error. */
static void
test_restart_gives_up (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) last = NULL;
  Tally tally = { 0 };

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  mpel_loop_set_max_restarts (loop, 2);
  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);

  for (int i = 0; i < 3; i++)
    mpel_loop_add_event (loop, "die", g_variant_new ("(i)", 0));
  last = g_object_ref (mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1)));
  test_wait (loop);

  g_assert_cmpuint (tally.n_output, ==, 4);
  g_assert_cmpuint (tally.n_crashed, ==, 4);
  g_assert_error ((GError *) mpel_event_get_error (last), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (mpel_event_get_error (last)->message, "not restarted"));
  test_iterate_until (!mpel_loop_is_running (loop));

  g_assert_finalize_object (g_steal_pointer (&last));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A CPU-bound handler cannot be cancelled: past kill-timeout the worker is
 * taken to be stuck, killed and replaced. */
static void
test_stuck_worker_killed (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) stuck = mpel_event_new ("count_primes", g_variant_new ("(uu)", 0, G_MAXUINT32));
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  GPid pid;

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  mpel_loop_set_kill_timeout (loop, 200);
  pid = worker_pid (loop);

  mpel_event_set_timeout (stuck, 100);
  mpel_loop_push (loop, stuck);
  test_wait (loop);
  g_assert_error ((GError *) mpel_event_get_error (stuck), MPEL_ERROR, MPEL_ERROR_TIMED_OUT);

  /* The next call waits for the replacement worker. */
  value = test_call_sync (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 2);
  g_assert_cmpint (worker_pid (loop), !=, pid);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A cancelled running event reaches the worker: its invocation's
 * cancellable fires and mpel.sleep ends early. */
static void
test_cancel_reaches_worker (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  /* With one slot, the next event can only run once the worker has given
   * the cancelled sleep back. */
  mpel_loop_set_max_in_flight (loop, 1);
  worker_pid (loop);

  start = g_get_monotonic_time ();
  mpel_loop_call_async (loop, "mpel.sleep", g_variant_new ("(u)", 600000), cancellable,
                        test_store_result, &result);
  g_cancellable_cancel (cancellable);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  value = test_call_sync (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 2);
  /* Far less than the 600 s the sleep asked for. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 60 * G_USEC_PER_SEC);

  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_wait_cancellable (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  MpelEvent *event;

  event = mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000));
  /* Cancel from an idle once waiting. */
  g_idle_add_once ((GSourceOnceFunc) g_cancellable_cancel, cancellable);
  g_assert_false (mpel_loop_wait (loop, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_RUNNING);

  mpel_loop_close (loop);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* SIGKILL of the app leaves no worker behind. */
static int
run_app (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  GPid pid = worker_pid (loop);

  printf ("%d\n", (int) pid);
  fflush (stdout);
  for (;;)
    pause ();
  return 0;
}

/* The same, with the worker stuck in a handler, which keeps it from
 * seeing the socket's EOF. */
static int
run_app_blocked (const char *fifo)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  GPid pid = worker_pid (loop);

  printf ("%d\n", (int) pid);
  fflush (stdout);
  mpel_loop_add_event (loop, "block", g_variant_new ("(s)", fifo));
  for (;;)
    g_main_context_iteration (NULL, TRUE);
  return 0;
}

static void
test_orphan_blocked (void)
{
  g_autoptr(GSubprocess) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mpel-orphan-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autoptr(GDataInputStream) in = NULL;
  struct pollfd pfd;
  int fifo_fd;
  int pidfd;
  int worker;

  g_assert_no_errno (mkfifo (fifo, 0600));
  fifo_fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (fifo_fd, >=, 0);

  app = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, self_path, "--app-blocked", fifo, NULL);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (app));
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  worker = atoi (line);
  g_assert_cmpint (worker, >, 0);

  pidfd = syscall (SYS_pidfd_open, worker, 0);
  if (pidfd < 0)
    {
      g_subprocess_force_exit (app);
      g_test_skip ("pidfd_open is not available");
      return;
    }

  /* The handler has started and will never return. */
  pfd.fd = fifo_fd;
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, TEST_DEADLINE_USEC / 1000), ==, 1);

  g_assert_no_errno (kill (atoi (g_subprocess_get_identifier (app)), SIGKILL));
  g_subprocess_wait (app, NULL, NULL);

  /* The worker is gone within 2 s all the same. */
  pfd.fd = pidfd;
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, 2000), ==, 1);
  close (pidfd);
  close (fifo_fd);
  g_unlink (fifo);
  g_rmdir (dir);
}

static void
test_orphan (void)
{
  g_autoptr(GSubprocess) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  struct pollfd pfd;
  int pidfd;
  int worker;

  app = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, self_path, "--app", NULL);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (app));
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  worker = atoi (line);
  g_assert_cmpint (worker, >, 0);

  pidfd = syscall (SYS_pidfd_open, worker, 0);
  if (pidfd < 0)
    {
      g_subprocess_force_exit (app);
      g_test_skip ("pidfd_open is not available");
      return;
    }

  g_assert_no_errno (kill (atoi (g_subprocess_get_identifier (app)), SIGKILL));
  g_subprocess_wait (app, NULL, NULL);

  /* The worker is gone within 2 s. */
  pfd.fd = pidfd;
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, 2000), ==, 1);
  close (pidfd);
}

/* A worker started by a thread that then exits lives on and serves: the
 * kernel's parent-death signal, which follows the thread that forked, is
 * not what ties a worker to its app. The worker is spawned the way a loop
 * spawns it, and spoken to through a connection of our own. */
typedef struct
{
  int fd;
  int our_fd;
  GSubprocess *worker;
  GError *error;
} ThreadSpawn;

static gpointer
spawn_worker_thread (gpointer data)
{
  ThreadSpawn *spawn = data;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *parent = g_strdup_printf ("%d", (int) getpid ());

  g_subprocess_launcher_take_fd (launcher, spawn->fd, 3);
  g_subprocess_launcher_setenv (launcher, "MPEL_FD", "3", TRUE);
  g_subprocess_launcher_setenv (launcher, "MPEL_PARENT_PID", parent, TRUE);
  spawn->worker = g_subprocess_launcher_spawn (launcher, &spawn->error, g_getenv ("MPEL_WORKER"), NULL);

  /* The thread ends only once the worker has spoken, when it is set up
   * to watch its app. */
  if (spawn->worker != NULL)
    {
      struct pollfd pfd = { .fd = spawn->our_fd, .events = POLLIN };

      g_assert_cmpint (poll (&pfd, 1, TEST_DEADLINE_USEC / 1000), ==, 1);
    }
  return NULL;
}

typedef struct
{
  gboolean hello;
  gboolean closed;
  GVariant *answer;
} RawPeer;

static gboolean
raw_peer_frame (MpelConnection *conn,
                MpelFrame      *frame,
                gpointer        user_data)
{
  RawPeer *peer = user_data;

  if (frame->kind == MPEL_FRAME_HELLO)
    peer->hello = TRUE;
  else if (frame->kind == MPEL_FRAME_RETURN && frame->id == 1)
    peer->answer = g_variant_ref (frame->body);
  else
    g_error ("Unexpected %s frame from the worker", _mpel_frame_kind_to_string (frame->kind));
  return TRUE;
}

static void
raw_peer_closed (MpelConnection *conn,
                 const GError   *error,
                 gpointer        user_data)
{
  RawPeer *peer = user_data;

  g_assert_no_error ((GError *) error);
  peer->closed = TRUE;
}

static void
test_worker_outlives_spawning_thread (void)
{
  g_autoptr(MpelConnection) conn = NULL;
  g_autoptr(GThread) thread = NULL;
  g_autoptr(GVariant) hello = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  ThreadSpawn spawn = { -1, -1, NULL, NULL };
  RawPeer peer = { 0 };
  int sv[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  spawn.fd = sv[1];
  spawn.our_fd = sv[0];
  thread = g_thread_new ("spawner", spawn_worker_thread, &spawn);
  g_thread_join (g_steal_pointer (&thread));
  g_assert_no_error (spawn.error);
  g_assert_nonnull (spawn.worker);

  /* The thread that forked the worker is gone; the worker must not be. */
  conn = _mpel_connection_new (sv[0], NULL, raw_peer_frame, raw_peer_closed, &peer);
  g_variant_dict_insert (&dict, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
  hello = g_variant_ref_sink (g_variant_dict_end (&dict));
  g_assert_true (_mpel_connection_send (conn, MPEL_FRAME_HELLO, 0, 0, "test", hello, NULL, NULL));
  g_assert_true (_mpel_connection_send (conn, MPEL_FRAME_CALL, 0, 1, "mpel.ping", NULL, NULL, NULL));
  test_iterate_until (peer.answer != NULL || peer.closed);

  g_assert_false (peer.closed);
  g_assert_true (peer.hello);
  g_assert_nonnull (peer.answer);
  g_assert_cmpint (g_variant_get_int32 (peer.answer), ==,
                   atoi (g_subprocess_get_identifier (spawn.worker)));

  /* And it still ends when told to. */
  g_assert_true (_mpel_connection_send (conn, MPEL_FRAME_STOP, 0, 0, NULL, NULL, NULL, NULL));
  test_iterate_until (peer.closed);
  g_assert_true (g_subprocess_wait_check (spawn.worker, NULL, &error));
  g_assert_no_error (error);

  g_clear_pointer (&peer.answer, g_variant_unref);
  g_clear_object (&spawn.worker);
}

/* A flood: a million small events at once. Memory grows by the queued
 * events only, max-in-flight bounds what is sent, every result arrives. */
static void
test_flood (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) blocker = NULL;
  Tally tally = { 0 };
  struct mallinfo2 before, after;
  const char *env = g_getenv ("MPEL_TEST_FLOOD_N");
  guint n = env ? atoi (env) : 1000000;
  double per_event, args_cost;

  mpel_loop_set_max_in_flight (loop, 64);
  worker_pid (loop);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);

  /* Hold every slot but one with sleeps, so that the flood queues up. */
  mpel_loop_call_async (loop, "mpel.sleep", g_variant_new ("(u)", 600000), cancellable,
                        test_store_result, &blocker);
  for (guint i = 0; i < 63; i++)
    mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 1));
  test_iterate_until (mpel_loop_get_n_pending (loop) == 1);

  /* What the arguments alone cost, made the same way. */
  {
    GVariant **args = g_new (GVariant *, n);

    malloc_trim (0);
    before = mallinfo2 ();
    for (guint i = 0; i < n; i++)
      args[i] = g_variant_ref_sink (g_variant_new ("(i)", (gint32) i));
    after = mallinfo2 ();
    args_cost = (double) (after.uordblks - before.uordblks) / n;
    for (guint i = 0; i < n; i++)
      g_variant_unref (args[i]);
    g_free (args);
  }

  malloc_trim (0);
  before = mallinfo2 ();
  for (guint i = 0; i < n; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", (gint32) i));
  after = mallinfo2 ();

  per_event = (double) (after.uordblks - before.uordblks) / n - args_cost;
  if (args_cost <= 0)
    {
      /* valgrind's allocator, say, which mallinfo2 () cannot see */
      g_test_message ("app memory per queued event: not measurable with this allocator");
    }
  else
    {
      g_test_message ("app memory per queued event beyond its arguments: %.1f bytes "
                      "(arguments: %.1f bytes)", per_event, args_cost);
      g_test_minimized_result (per_event, "bytes per queued event beyond its arguments");
      /* A bound that catches a leak or a copy per event, not a benchmark. */
      g_assert_cmpfloat (per_event, <, 512);
    }
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, n + 1);

  g_cancellable_cancel (cancellable);
  test_wait (loop);
  g_assert_cmpuint (tally.n_done, ==, n + 63);
  g_assert_cmpuint (tally.n_failed, ==, 0);

  g_clear_object (&blocker);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Worker pool: least-loaded routing, per-worker order, and a crash in one
 * worker leaves the other serving. */
static void
test_pool (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GAsyncResult) r0 = NULL;
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GVariant) v0 = NULL;
  g_autoptr(GVariant) v1 = NULL;
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (gint32));
  Tally tally = { .values = values };
  GPid pid0, pid1;

  mpel_loop_set_n_workers (loop, 2);
  g_assert_true (mpel_loop_start (loop, NULL));
  pid0 = mpel_loop_get_worker_pid (loop, 0);
  pid1 = mpel_loop_get_worker_pid (loop, 1);
  g_assert_cmpint (pid0, >, 0);
  g_assert_cmpint (pid1, >, 0);
  g_assert_cmpint (pid0, !=, pid1);

  /* Two calls at once go to the two workers. */
  mpel_loop_call_async (loop, "mpel.ping", NULL, NULL, test_store_result, &r0);
  mpel_loop_call_async (loop, "mpel.ping", NULL, NULL, test_store_result, &r1);
  test_iterate_until (r0 != NULL && r1 != NULL);
  v0 = mpel_loop_call_finish (loop, r0, NULL);
  v1 = mpel_loop_call_finish (loop, r1, NULL);
  g_assert_cmpint (g_variant_get_int32 (v0), ==, pid0);
  g_assert_cmpint (g_variant_get_int32 (v1), ==, pid1);

  /* Every event ends once, whichever worker runs it. */
  g_signal_connect (loop, "output::add_one", G_CALLBACK (tally_output), &tally);
  for (int i = 0; i < 1000; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  test_wait (loop);
  g_assert_cmpuint (tally.n_done, ==, 1000);

  /* Worker 1 dies; worker 0 serves on. */
  g_signal_handlers_disconnect_by_func (loop, tally_output, &tally);
  g_assert_no_errno (kill (pid1, SIGKILL));
  test_iterate_until (mpel_loop_get_worker_pid (loop, 1) == 0);
  g_clear_pointer (&v0, g_variant_unref);
  g_clear_object (&r0);
  mpel_loop_call_async (loop, "mpel.ping", NULL, NULL, test_store_result, &r0);
  test_iterate_until (r0 != NULL);
  v0 = mpel_loop_call_finish (loop, r0, NULL);
  g_assert_cmpint (g_variant_get_int32 (v0), ==, pid0);
  g_assert_true (mpel_loop_is_running (loop));

  g_clear_object (&r0);
  g_clear_object (&r1);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Issue 7 regressions */

/* A fake worker: the test binary run as a worker program. It says HELLO and
 * then misbehaves as @mode asks. */
typedef struct
{
  GMainLoop *main_loop;
  MpelConnection *conn;
  const char *mode;
  guint n_calls;
} FakeWorker;

static gboolean
fake_on_frame (MpelConnection *conn,
               MpelFrame      *frame,
               gpointer        user_data)
{
  FakeWorker *fake = user_data;

  if (frame->kind == MPEL_FRAME_STOP)
    {
      g_main_loop_quit (fake->main_loop);
      return FALSE;
    }
  if (frame->kind != MPEL_FRAME_CALL)
    return TRUE;

  if (g_str_equal (fake->mode, "error-id-0") && ++fake->n_calls > 1)
    {
      g_autoptr(GError) error = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED, "late");
      g_autoptr(GVariant) body = g_variant_ref_sink (_mpel_error_to_variant (error));

      /* Valid only before any other frame: now a protocol error. */
      _mpel_connection_send (conn, MPEL_FRAME_ERROR, 0, 0, NULL, body, NULL, NULL);
    }
  else
    _mpel_connection_send (conn, MPEL_FRAME_RETURN, 0, frame->id, NULL,
                          g_variant_new_int32 (1), NULL, NULL);
  return TRUE;
}

static void
fake_on_closed (MpelConnection *conn,
                const GError   *error,
                gpointer        user_data)
{
  FakeWorker *fake = user_data;

  g_main_loop_quit (fake->main_loop);
}

static int
run_fake_worker (const char *mode)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  FakeWorker fake = { .mode = mode };
  const char *fd = g_getenv ("MPEL_FD");

  g_assert_nonnull (fd);
  fake.main_loop = g_main_loop_new (NULL, FALSE);
  fake.conn = _mpel_connection_new (atoi (fd), NULL, fake_on_frame, fake_on_closed, &fake);
  g_variant_dict_insert (&dict, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
  g_variant_dict_insert (&dict, "pid", "i", (gint32) getpid ());
  _mpel_connection_send (fake.conn, MPEL_FRAME_HELLO, 0, 0, "fake", g_variant_dict_end (&dict), NULL, NULL);
  g_main_loop_run (fake.main_loop);
  _mpel_connection_unref (fake.conn);
  g_main_loop_unref (fake.main_loop);
  return 0;
}

static MpelLoop *
fake_loop_new (const char *mode)
{
  const char *argv[] = { self_path, "--fake-worker", mode, NULL };

  return mpel_loop_new_for_argv (argv);
}

/* 1: the last reference to the loop dropped from a handler on the timeout
 * and cancel paths. */
static gboolean
unref_loop_on_output (MpelLoop  *loop,
                      MpelEvent *event,
                      gboolean  *ended)
{
  *ended = TRUE;
  g_object_unref (loop);
  return FALSE;
}

static void
unref_loop_on_finished (MpelEvent *event,
                        MpelLoop **loop)
{
  g_object_unref (g_steal_pointer (loop));
}

static void
test_unref_from_handler_on_timeout (void)
{
  MpelLoop *loop = test_loop_new ();
  g_autoptr(MpelEvent) event = mpel_event_new ("mpel.sleep", g_variant_new ("(u)", 600000));
  g_autoptr(MpelEvent) second = mpel_event_new ("mpel.sleep", g_variant_new ("(u)", 600000));
  MpelLoop *weak = loop;
  gboolean ended = FALSE;

  /* Timeout, from output */
  worker_pid (loop);
  g_object_add_weak_pointer (G_OBJECT (loop), (gpointer *) &weak);
  mpel_event_set_timeout (event, 10);
  g_signal_connect (loop, "output", G_CALLBACK (unref_loop_on_output), &ended);
  mpel_loop_push (loop, event);
  test_iterate_until (ended);
  g_assert_null (weak);
  g_assert_error ((GError *) mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_TIMED_OUT);

  /* Cancel, from the event's finished */
  loop = test_loop_new ();
  weak = loop;
  g_object_add_weak_pointer (G_OBJECT (loop), (gpointer *) &weak);
  mpel_loop_push (loop, second);
  test_iterate_until (mpel_event_get_state (second) == MPEL_EVENT_STATE_RUNNING &&
                      mpel_loop_get_worker_pid (loop, 0) != 0);
  g_signal_connect (second, "finished", G_CALLBACK (unref_loop_on_finished), &loop);
  mpel_event_cancel (second);
  g_assert_null (loop);
  g_assert_null (weak);
  g_assert_cmpint (mpel_event_get_state (second), ==, MPEL_EVENT_STATE_CANCELLED);
}

/* 2: a modal prompt (a nested main loop) in output after a timeout, during
 * which the worker gives the timed-out event back. */
typedef struct
{
  MpelEvent *other;
  guint n_modal;
} Modal;

static gboolean
modal_on_output (MpelLoop  *loop,
                 MpelEvent *event,
                 Modal     *modal)
{
  if (!g_error_matches (mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_TIMED_OUT))
    return FALSE;

  modal->n_modal++;
  /* The worker answers the timed-out sleep (200 ms) before the other one
   * (400 ms). */
  test_iterate_until (mpel_event_get_state (modal->other) == MPEL_EVENT_STATE_DONE);
  return FALSE;
}

static void
test_nested_loop_after_timeout (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) timed = mpel_event_new ("mpel.sleep", g_variant_new ("(u)", 200));
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  Modal modal = { 0 };

  worker_pid (loop);
  modal.other = mpel_event_new ("mpel.sleep", g_variant_new ("(u)", 400));
  mpel_event_set_timeout (timed, 20);
  g_signal_connect (loop, "output", G_CALLBACK (modal_on_output), &modal);
  mpel_loop_push (loop, timed);
  mpel_loop_push (loop, modal.other);
  test_wait (loop);
  g_assert_cmpuint (modal.n_modal, ==, 1);

  /* The worker's load is right: it serves on. */
  value = test_call_sync (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 2);

  g_assert_finalize_object (modal.other);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* 3: "retry on failure" while the loop is being disposed: the retry fails
 * with CLOSED and starts nothing. */
typedef struct
{
  MpelLoop *loop;
  MpelEvent *retry;
} Retry;

static void
retry_on_finished (MpelEvent *event,
                   Retry     *retry)
{
  retry->retry = g_object_ref (mpel_loop_add_event (retry->loop, "add_one", g_variant_new ("(i)", 1)));
}

static void
test_push_during_dispose (void)
{
  MpelLoop *loop = test_loop_new ();
  g_autoptr(MpelEvent) event = NULL;
  Retry retry = { .loop = loop };

  event = g_object_ref (mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000)));
  g_signal_connect (event, "finished", G_CALLBACK (retry_on_finished), &retry);
  test_iterate_until (mpel_loop_get_worker_pid (loop, 0) != 0);

  g_assert_finalize_object (loop);
  g_assert_error ((GError *) mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_CLOSED);
  g_assert_nonnull (retry.retry);
  g_assert_cmpint (mpel_event_get_state (retry.retry), ==, MPEL_EVENT_STATE_FAILED);
  g_assert_error ((GError *) mpel_event_get_error (retry.retry), MPEL_ERROR, MPEL_ERROR_CLOSED);

  /* Nothing else holds it once the context has run. */
  g_object_add_weak_pointer (G_OBJECT (retry.retry), (gpointer *) &retry.retry);
  g_object_unref (retry.retry);
  test_iterate_until (retry.retry == NULL);
}

/* 6: an ERROR with id 0 after start-up is a protocol error. */
static void
test_late_error_id_0 (void)
{
  g_autoptr(MpelLoop) loop = fake_loop_new ("error-id-0");
  g_autoptr(MpelEvent) first = NULL;
  g_autoptr(MpelEvent) second = NULL;
  g_autoptr(MpelEvent) queued = NULL;

  mpel_loop_set_max_in_flight (loop, 1);
  first = g_object_ref (mpel_loop_add_event (loop, "a", NULL));
  second = g_object_ref (mpel_loop_add_event (loop, "b", NULL));
  queued = g_object_ref (mpel_loop_add_event (loop, "c", NULL));
  test_iterate_until (mpel_loop_get_n_pending (loop) == 0);

  g_assert_cmpint (mpel_event_get_state (first), ==, MPEL_EVENT_STATE_DONE);
  g_assert_error ((GError *) mpel_event_get_error (second), MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  g_assert_cmpint (mpel_event_get_state (queued), ==, MPEL_EVENT_STATE_FAILED);
  g_assert_false (g_error_matches (mpel_event_get_error (queued), MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED));
  test_iterate_until (!mpel_loop_is_running (loop));

  g_assert_finalize_object (g_steal_pointer (&first));
  g_assert_finalize_object (g_steal_pointer (&second));
  g_assert_finalize_object (g_steal_pointer (&queued));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* 7: mpel_loop_wait() from a handler is refused on every path that ends
 * events, not only when a frame is being dispatched. */
static gboolean
nested_wait_expired (gpointer data)
{
  g_error ("A nested mpel_loop_wait() did not return");
  return G_SOURCE_REMOVE;
}

static void
nested_wait (MpelLoop *loop,
             guint    *n_refused)
{
  g_autoptr(GError) error = NULL;
  guint id;

  if (*n_refused > 0)
    return;

  id = g_timeout_add_seconds (10, nested_wait_expired, NULL);
  g_test_expect_message ("Mpel", G_LOG_LEVEL_CRITICAL, "*mpel_loop_wait*in_dispatch*");
  g_assert_false (mpel_loop_wait (loop, NULL, &error));
  g_test_assert_expected_messages ();
  g_source_remove (id);
  (*n_refused)++;
}

static gboolean
nested_wait_on_output (MpelLoop  *loop,
                       MpelEvent *event,
                       guint     *n_refused)
{
  nested_wait (loop, n_refused);
  return FALSE;
}

typedef struct
{
  MpelLoop *loop;
  guint *n_refused;
} NestedWait;

static void
nested_wait_on_finished (MpelEvent  *event,
                         NestedWait *nw)
{
  nested_wait (nw->loop, nw->n_refused);
}

static void
test_nested_wait_refused (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) timed = mpel_event_new ("mpel.sleep", g_variant_new ("(u)", 600000));
  MpelEvent *event;
  NestedWait nw;
  guint n_refused = 0;
  gulong id;

  nw.loop = loop;
  nw.n_refused = &n_refused;
  id = g_signal_connect (loop, "output", G_CALLBACK (nested_wait_on_output), &n_refused);

  /* Timeout */
  mpel_event_set_timeout (timed, 20);
  mpel_loop_push (loop, timed);
  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000));
  test_iterate_until (n_refused == 1);
  mpel_loop_close (loop);

  /* Close */
  n_refused = 0;
  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000));
  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000));
  mpel_loop_close (loop);
  g_assert_cmpuint (n_refused, ==, 1);

  /* Crash */
  n_refused = 0;
  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000));
  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000));
  mpel_loop_add_event (loop, "die", g_variant_new ("(i)", 0));
  test_iterate_until (n_refused == 1);
  mpel_loop_close (loop);

  /* Cancel: no output, but the event's own signal */
  g_signal_handler_disconnect (loop, id);
  n_refused = 0;
  event = mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000));
  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000));
  test_iterate_until (mpel_event_get_state (event) == MPEL_EVENT_STATE_RUNNING);
  g_signal_connect (event, "finished", G_CALLBACK (nested_wait_on_finished), &nw);
  mpel_event_cancel (event);
  g_assert_cmpuint (n_refused, ==, 1);
  mpel_loop_close (loop);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
count_exits (MpelLoop     *loop,
             guint         index,
             const GError *reason,
             guint        *n_exits)
{
  (*n_exits)++;
}

/* 9: a worker that exits before its HELLO did not start: SPAWN_FAILED with
 * the status, the argv and a hint; it is not restarted. */
static void
test_exit_before_hello (void)
{
  const char *argv[] = { "/bin/sh", "-c", "exit 2", NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(MpelEvent) event = NULL;
  g_autoptr(MpelEvent) queued = NULL;
  const GError *error;
  guint n_exits = 0;

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "worker-exited", G_CALLBACK (count_exits), &n_exits);
  event = g_object_ref (mpel_loop_add_event (loop, "add_vals", g_variant_new ("(i)", 1)));
  queued = g_object_ref (mpel_loop_add_event (loop, "add_vals", g_variant_new ("(i)", 2)));
  test_wait (loop);

  error = mpel_event_get_error (event);
  g_assert_error ((GError *) error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_assert_nonnull (strstr (error->message, "status 2"));
  g_assert_nonnull (strstr (error->message, "/bin/sh"));
  g_assert_nonnull (strstr (error->message, "Mpel.Worker.run()"));
  g_assert_error ((GError *) mpel_event_get_error (queued), MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_assert_false (mpel_loop_is_running (loop));
  g_assert_cmpuint (n_exits, ==, 1);

  g_assert_finalize_object (g_steal_pointer (&event));
  g_assert_finalize_object (g_steal_pointer (&queued));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* 10: a worker that mpel killed as stuck is replaced for the queued events,
 * whatever the restart policy. */
static void
test_killed_worker_replaced (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) stuck = mpel_event_new ("count_primes", g_variant_new ("(uu)", 0, G_MAXUINT32));
  g_autoptr(MpelEvent) next = NULL;
  GPid pid;

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_NEVER);
  mpel_loop_set_kill_timeout (loop, 100);
  pid = worker_pid (loop);

  mpel_event_set_timeout (stuck, 50);
  mpel_loop_push (loop, stuck);
  test_iterate_until (mpel_event_get_state (stuck) == MPEL_EVENT_STATE_FAILED);
  g_assert_error ((GError *) mpel_event_get_error (stuck), MPEL_ERROR, MPEL_ERROR_TIMED_OUT);

  /* Held back until the stuck worker is killed, then run by its successor */
  next = g_object_ref (mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1)));
  g_assert_cmpint (mpel_event_get_state (next), ==, MPEL_EVENT_STATE_QUEUED);
  test_wait (loop);
  g_assert_no_error ((GError *) mpel_event_get_error (next));
  g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (next)), ==, 2);
  g_assert_cmpint (worker_pid (loop), !=, pid);

  g_assert_finalize_object (g_steal_pointer (&next));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* 11: restarts leave no source behind in the context. A source stays in its
 * context's list while anything holds a reference to it; walk the list of
 * the default priority, through GSource's public links, from a marker. */
static guint
count_dead_restart_sources (void)
{
  GSource *marker = g_idle_source_new ();
  guint n = 0;

  g_source_set_priority (marker, G_PRIORITY_DEFAULT);
  g_source_attach (marker, NULL);
  for (GSource *s = marker->prev; s != NULL; s = s->prev)
    if (g_source_is_destroyed (s) && g_strcmp0 (g_source_get_name (s), "[mpel] restart") == 0)
      n++;
  for (GSource *s = marker->next; s != NULL; s = s->next)
    if (g_source_is_destroyed (s) && g_strcmp0 (g_source_get_name (s), "[mpel] restart") == 0)
      n++;
  g_source_destroy (marker);
  g_source_unref (marker);

  return n;
}

static void
test_restart_sources_freed (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  guint before = count_dead_restart_sources ();
  Tally tally = { 0 };

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "output", G_CALLBACK (tally_output), &tally);
  for (int i = 0; i < 3; i++)
    mpel_loop_add_event (loop, "die", g_variant_new ("(i)", 0));
  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1));
  test_wait (loop);
  g_assert_cmpuint (tally.n_crashed, ==, 3);
  g_assert_cmpuint (tally.n_done, ==, 1);

  g_assert_cmpuint (count_dead_restart_sources (), ==, before);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* 8: a worker program that never speaks is killed after the handshake
 * timeout, and its events fail with SPAWN_FAILED naming it. */
static void
test_handshake_timeout (void)
{
  const char *argv[] = { "/bin/sleep", "30", NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(MpelEvent) event = NULL;
  const GError *error;

  /* A few seconds by default */
  g_assert_cmpuint (mpel_loop_get_handshake_timeout (loop), >=, 1000);
  g_assert_cmpuint (mpel_loop_get_handshake_timeout (loop), <=, 10000);
  mpel_loop_set_handshake_timeout (loop, 100);
  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);

  event = g_object_ref (mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1)));
  test_iterate_until (mpel_loop_get_n_pending (loop) == 0);
  error = mpel_event_get_error (event);
  g_assert_error ((GError *) error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_assert_nonnull (strstr (error->message, "100 ms"));
  g_assert_nonnull (strstr (error->message, "/bin/sleep 30"));
  /* Not restarted */
  test_iterate_until (!mpel_loop_is_running (loop));

  g_assert_finalize_object (g_steal_pointer (&event));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* 12: start_async() completes once every worker has said HELLO, and fails
 * with the reason when one cannot start. */
static void
test_start_async (void)
{
  const char *exits[] = { "/bin/sh", "-c", "exit 2", NULL };
  const char *modules[] = { "/nonexistent/module.so", NULL };
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelLoop) bad = mpel_loop_new_for_argv (exits);
  g_autoptr(MpelLoop) no_module = mpel_loop_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  mpel_loop_set_n_workers (loop, 3);
  mpel_loop_start_async (loop, NULL, test_store_result, &result);
  g_assert_null (result);
  g_assert_true (mpel_loop_is_running (loop));
  /* The first worker is spawned at once, the others from the main context,
   * one per iteration. */
  g_assert_cmpint (mpel_loop_get_worker_pid (loop, 0), >, 0);
  g_assert_cmpint (mpel_loop_get_worker_pid (loop, 2), ==, 0);
  test_iterate_until (result != NULL);
  g_assert_true (mpel_loop_start_finish (loop, result, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (mpel_loop_get_worker_pid (loop, i), >, 0);
  g_clear_object (&result);

  /* Already started: completes too */
  mpel_loop_start_async (loop, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  g_assert_true (mpel_loop_start_finish (loop, result, &error));
  g_clear_object (&result);

  /* A program that exits */
  mpel_loop_start_async (bad, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  g_assert_false (mpel_loop_start_finish (bad, result, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_assert_nonnull (strstr (error->message, "status 2"));
  g_clear_error (&error);
  g_clear_object (&result);

  /* A worker that connects but cannot load its plugin */
  mpel_loop_set_modules (no_module, modules);
  mpel_loop_start_async (no_module, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  g_assert_false (mpel_loop_start_finish (no_module, result, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_clear_error (&error);
  g_clear_object (&result);

  /* Closed before the workers connect */
  mpel_loop_close (loop);
  mpel_loop_start_async (loop, NULL, test_store_result, &result);
  mpel_loop_close (loop);
  test_iterate_until (result != NULL);
  g_assert_false (mpel_loop_start_finish (loop, result, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_CLOSED);
  g_clear_object (&result);

  /* n-workers is capped at what one machine can use */
  mpel_loop_set_n_workers (loop, 100000);
  g_assert_cmpuint (mpel_loop_get_n_workers (loop), <, 100000);
  g_assert_cmpuint (mpel_loop_get_n_workers (loop), >=, 16);

  test_iterate_until (!mpel_loop_is_running (bad) && !mpel_loop_is_running (no_module));
  g_assert_finalize_object (g_steal_pointer (&no_module));
  g_assert_finalize_object (g_steal_pointer (&bad));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* 13: a loop belongs to the thread-default main context it was made in.
 * From another thread it refuses, rather than corrupt itself; a thread
 * that holds the context may use it. */
static gpointer
add_from_thread (gpointer data)
{
  return mpel_loop_add_event (data, "add_one", g_variant_new ("(i)", 1));
}

static gpointer
add_holding_context (gpointer data)
{
  MpelEvent *event;

  g_main_context_push_thread_default (NULL);
  event = mpel_loop_add_event (data, "add_one", g_variant_new ("(i)", 41));
  g_object_ref (event);
  g_main_context_pop_thread_default (NULL);

  return event;
}

static void
test_other_thread_refused (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) event = NULL;
  GThread *thread;

  worker_pid (loop);

  g_test_expect_message ("Mpel", G_LOG_LEVEL_CRITICAL, "*mpel_loop_add_event*caller_owns_context*");
  thread = g_thread_new ("not-the-owner", add_from_thread, loop);
  g_assert_null (g_thread_join (thread));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 0);

  thread = g_thread_new ("holds-the-context", add_holding_context, loop);
  event = g_thread_join (thread);
  g_assert_nonnull (event);
  test_wait (loop);
  g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (event)), ==, 42);

  g_assert_finalize_object (g_steal_pointer (&event));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

int
main (int   argc,
      char *argv[])
{
  if (argc >= 2 && g_str_equal (argv[1], "--app"))
    return run_app ();
  if (argc >= 3 && g_str_equal (argv[1], "--fake-worker"))
    return run_fake_worker (argv[2]);
  if (argc >= 3 && g_str_equal (argv[1], "--app-blocked"))
    return run_app_blocked (argv[2]);

  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Reliability/kill-in-flight", test_kill_in_flight);
  g_test_add_func ("/Mpel/Reliability/restart/keeps-queue", test_restart_keeps_queue);
  g_test_add_func ("/Mpel/Reliability/restart/gives-up", test_restart_gives_up);
  g_test_add_func ("/Mpel/Reliability/restart/stop-during-restart", test_stop_during_restart);
  g_test_add_func ("/Mpel/Reliability/close-from-handlers", test_close_from_handlers);
  g_test_add_func ("/Mpel/Reliability/last-words", test_last_words);
  g_test_add_data_func ("/Mpel/Reliability/last-words/batch/crash", GINT_TO_POINTER (SIGSEGV),
                        test_last_words_batch);
  g_test_add_data_func ("/Mpel/Reliability/last-words/batch/exit", GINT_TO_POINTER (0),
                        test_last_words_batch);
  g_test_add_data_func ("/Mpel/Reliability/last-words/batch/sigkill", GINT_TO_POINTER (SIGKILL),
                        test_last_words_batch);
  g_test_add_func ("/Mpel/Reliability/last-words/batch/stuck", test_last_words_batch_stuck);
  g_test_add_func ("/Mpel/Reliability/invalid-event-refused", test_invalid_event_refused);
  g_test_add_func ("/Mpel/Reliability/stuck-worker-killed", test_stuck_worker_killed);
  g_test_add_func ("/Mpel/Reliability/cancel-reaches-worker", test_cancel_reaches_worker);
  g_test_add_func ("/Mpel/Reliability/wait-cancellable", test_wait_cancellable);
  g_test_add_func ("/Mpel/Reliability/orphan", test_orphan);
  g_test_add_func ("/Mpel/Reliability/orphan/blocked-handler", test_orphan_blocked);
  g_test_add_func ("/Mpel/Reliability/orphan/spawning-thread-exits", test_worker_outlives_spawning_thread);
  g_test_add_func ("/Mpel/Reliability/flood", test_flood);
  g_test_add_func ("/Mpel/Reliability/pool", test_pool);
  g_test_add_func ("/Mpel/Reliability/unref-from-handler/timeout-cancel", test_unref_from_handler_on_timeout);
  g_test_add_func ("/Mpel/Reliability/nested-loop-after-timeout", test_nested_loop_after_timeout);
  g_test_add_func ("/Mpel/Reliability/push-during-dispose", test_push_during_dispose);
  g_test_add_func ("/Mpel/Reliability/protocol/late-error-id-0", test_late_error_id_0);
  g_test_add_func ("/Mpel/Reliability/nested-wait-refused", test_nested_wait_refused);
  g_test_add_func ("/Mpel/Reliability/start-up/exit-before-hello", test_exit_before_hello);
  g_test_add_func ("/Mpel/Reliability/restart/killed-worker-replaced", test_killed_worker_replaced);
  g_test_add_func ("/Mpel/Reliability/restart/sources-freed", test_restart_sources_freed);
  g_test_add_func ("/Mpel/Reliability/start-up/handshake-timeout", test_handshake_timeout);
  g_test_add_func ("/Mpel/Reliability/start-up/start-async", test_start_async);
  g_test_add_func ("/Mpel/Reliability/threads/other-thread-refused", test_other_thread_refused);

  return g_test_run ();
}
