/* test-child.c: worker processes as the app sees them, and the seams that
 * remote objects use: identity, pinning, NOTIFY routing, the death hook,
 * held objects and their release
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include "mpel-loop-private.h"
#include "mpel-test-util.h"
#include "mpel-worker-private.h"

static const char *self_path;

/* The worker side: this program run with --worker */

static void
notify_handler (MpelInvocation *invocation,
                gpointer        user_data)
{
  guint64 handle;
  g_autoptr(GVariant) body = NULL;

  g_variant_get (mpel_invocation_get_args (invocation), "(t@a{sv})", &handle, &body);
  _mpel_worker_send_notify (mpel_invocation_get_worker (invocation), handle, g_steal_pointer (&body));
  mpel_invocation_return_value (invocation, NULL);
}

static int
run_worker (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GError) error = NULL;

  mpel_worker_add_handler (worker, "test.notify", notify_handler, NULL, NULL);
  if (!mpel_worker_run (worker, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  return 0;
}

/* The app side */

static MpelLoop *
self_loop_new (guint n_workers)
{
  const char *argv[] = { self_path, "--worker", NULL };
  MpelLoop *loop = mpel_loop_new_for_argv (argv);
  g_autoptr(GError) error = NULL;

  mpel_loop_set_n_workers (loop, n_workers);
  g_assert_true (mpel_loop_start (loop, &error));
  g_assert_no_error (error);

  return loop;
}

static MpelChild *
wait_for_child (MpelLoop *loop,
                guint     index)
{
  test_iterate_until (_mpel_loop_get_child (loop, index) != NULL &&
                      _mpel_loop_get_child (loop, index)->state == MPEL_CHILD_READY);
  return _mpel_loop_get_child (loop, index);
}

/* Pushes @target pinned to @child; returns the event, owned. */
static MpelEvent *
push_pinned (MpelLoop   *loop,
             MpelChild  *child,
             const char *target,
             GVariant   *args)
{
  MpelEvent *event = mpel_event_new (target, args);

  _mpel_loop_push_pinned (loop, event, child);
  return event;
}

/* A child is READY once its HELLO came; each has a serial of its own. */
static void
test_identity (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new (2);
  MpelChild *a = wait_for_child (loop, 0);
  MpelChild *b = wait_for_child (loop, 1);

  g_assert_true (_mpel_child_is_alive (a));
  g_assert_true (_mpel_child_is_alive (b));
  g_assert_cmpuint (_mpel_child_get_serial (a), !=, 0);
  g_assert_cmpuint (_mpel_child_get_serial (b), !=, 0);
  g_assert_cmpuint (_mpel_child_get_serial (a), !=, _mpel_child_get_serial (b));
  g_assert_cmpint (a->pid, ==, mpel_loop_get_worker_pid (loop, 0));

  mpel_loop_close (loop);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Pinned events run in their process; unpinned ones go to the least loaded
 * one, which the pinned events make the other. */
static void
test_pinned_runs_there (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new (2);
  MpelChild *busy = wait_for_child (loop, 1);
  GPid busy_pid = busy->pid;
  GPid other_pid = wait_for_child (loop, 0)->pid;
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (events, push_pinned (loop, busy, "mpel.sleep", g_variant_new ("(u)", 200)));
  for (guint i = 0; i < 5; i++)
    g_ptr_array_add (events, push_pinned (loop, busy, "mpel.ping", NULL));
  for (guint i = 0; i < 5; i++)
    g_ptr_array_add (events, g_object_ref (mpel_loop_add_event (loop, "mpel.ping", NULL)));

  test_wait (loop);

  for (guint i = 0; i < events->len; i++)
    {
      MpelEvent *event = g_ptr_array_index (events, i);

      g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_DONE);
      if (i < 3)
        continue;
      g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (event)), ==,
                       i < 8 ? busy_pid : other_pid);
    }

  mpel_loop_close (loop);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

typedef struct
{
  MpelChild *child;
  guint64 serial;
  GError *reason;
  guint n_calls;
} HookData;

static void
record_death (MpelLoop     *loop,
              MpelChild    *child,
              const GError *reason,
              gpointer      user_data)
{
  HookData *data = user_data;

  data->n_calls++;
  data->serial = _mpel_child_get_serial (child);
  g_clear_error (&data->reason);
  data->reason = reason ? g_error_copy (reason) : NULL;
  /* Its events failed before the hook runs. */
  g_assert_cmpuint (_mpel_child_get_load (child), ==, 0);
  g_assert_false (_mpel_child_is_alive (child));
}

/* A pinned event whose process dies fails with WORKER_CRASHED, in flight or
 * still queued, and never moves to the restarted process; the death hook
 * sees the process go; the restarted process has a new serial. */
static void
test_pinned_dies_with_child (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new (1);
  MpelChild *child = wait_for_child (loop, 0);
  guint64 serial = _mpel_child_get_serial (child);
  g_autoptr(MpelEvent) running = NULL;
  g_autoptr(MpelEvent) queued = NULL;
  g_autoptr(MpelEvent) late = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  HookData data = { 0 };
  HookData removed = { 0 };
  guint hook, removed_hook;

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  mpel_loop_set_max_in_flight (loop, 1);
  hook = _mpel_loop_add_child_died_hook (loop, record_death, &data);
  removed_hook = _mpel_loop_add_child_died_hook (loop, record_death, &removed);
  _mpel_loop_remove_child_died_hook (loop, removed_hook);

  /* Held so that it survives its process. */
  _mpel_child_ref (child);
  running = push_pinned (loop, child, "mpel.sleep", g_variant_new ("(u)", 60000));
  queued = push_pinned (loop, child, "mpel.ping", NULL);
  test_iterate_until (mpel_event_get_state (running) == MPEL_EVENT_STATE_RUNNING);
  g_assert_cmpint (mpel_event_get_state (queued), ==, MPEL_EVENT_STATE_QUEUED);

  g_assert_no_errno (kill (child->pid, SIGKILL));
  test_iterate_until (mpel_event_get_state (queued) >= MPEL_EVENT_STATE_DONE);

  g_assert_error ((GError *) mpel_event_get_error (running), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_error ((GError *) mpel_event_get_error (queued), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_cmpuint (data.n_calls, ==, 1);
  g_assert_cmpuint (data.serial, ==, serial);
  g_assert_error (data.reason, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_cmpuint (removed.n_calls, ==, 0);
  g_assert_false (_mpel_child_is_alive (child));

  /* Pinned to the dead one: fails, does not move. */
  late = push_pinned (loop, child, "mpel.ping", NULL);
  test_iterate_until (mpel_event_get_state (late) >= MPEL_EVENT_STATE_DONE);
  g_assert_error ((GError *) mpel_event_get_error (late), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);

  /* The restarted process is another child. */
  value = test_call_sync (loop, "mpel.ping", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (_mpel_loop_get_child (loop, 0));
  g_assert_true (_mpel_loop_get_child (loop, 0) != child);
  g_assert_cmpuint (_mpel_child_get_serial (_mpel_loop_get_child (loop, 0)), >, serial);

  /* Closing the loop lets go of the process: the hook hears of it. */
  serial = _mpel_child_get_serial (_mpel_loop_get_child (loop, 0));
  mpel_loop_close (loop);
  g_assert_cmpuint (data.n_calls, ==, 2);
  g_assert_cmpuint (data.serial, ==, serial);
  g_assert_error (data.reason, MPEL_ERROR, MPEL_ERROR_CLOSED);

  _mpel_loop_remove_child_died_hook (loop, hook);
  _mpel_child_unref (child);
  g_clear_error (&data.reason);
  g_clear_object (&running);
  g_clear_object (&queued);
  g_clear_object (&late);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Cancelling a queued pinned event takes it out of its process's queue. */
static void
test_pinned_cancel (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new (1);
  MpelChild *child = wait_for_child (loop, 0);
  g_autoptr(MpelEvent) running = NULL;
  g_autoptr(MpelEvent) queued = NULL;
  g_autoptr(MpelEvent) after = NULL;

  mpel_loop_set_max_in_flight (loop, 1);
  running = push_pinned (loop, child, "mpel.sleep", g_variant_new ("(u)", 100));
  queued = push_pinned (loop, child, "mpel.ping", NULL);
  after = push_pinned (loop, child, "mpel.ping", NULL);
  mpel_event_cancel (queued);
  g_assert_cmpint (mpel_event_get_state (queued), ==, MPEL_EVENT_STATE_CANCELLED);

  test_wait (loop);
  g_assert_cmpint (mpel_event_get_state (running), ==, MPEL_EVENT_STATE_DONE);
  g_assert_cmpint (mpel_event_get_state (after), ==, MPEL_EVENT_STATE_DONE);

  mpel_loop_close (loop);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* The process with the least to do is picked; a stopped loop starts. */
static void
test_pick_child (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new (2);
  MpelChild *a = wait_for_child (loop, 0);
  MpelChild *b = wait_for_child (loop, 1);
  g_autoptr(MpelEvent) sleeping = NULL;
  g_autoptr(GError) error = NULL;
  MpelChild *picked;

  sleeping = push_pinned (loop, a, "mpel.sleep", g_variant_new ("(u)", 50));
  picked = _mpel_loop_pick_child (loop, &error);
  g_assert_no_error (error);
  g_assert_true (picked == b);
  test_wait (loop);

  mpel_loop_close (loop);
  g_assert_false (mpel_loop_is_running (loop));
  picked = _mpel_loop_pick_child (loop, &error);
  g_assert_no_error (error);
  g_assert_nonnull (picked);
  g_assert_true (mpel_loop_is_running (loop));

  mpel_loop_close (loop);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

typedef struct
{
  guint64 handle;
  GVariant *body;
  MpelChild *child;
  gboolean output_seen;
} NotifyData;

static void
on_notify (MpelLoop   *loop,
           MpelChild  *child,
           guint64     handle,
           const char *name,
           GVariant   *body,
           gpointer    user_data)
{
  NotifyData *data = user_data;

  /* It came before the RETURN of the call that sent it. */
  g_assert_false (data->output_seen);
  data->handle = handle;
  data->child = child;
  g_clear_pointer (&data->body, g_variant_unref);
  data->body = body ? g_variant_ref (body) : NULL;
}

static gboolean
on_output (MpelLoop  *loop,
           MpelEvent *event,
           gpointer   user_data)
{
  NotifyData *data = user_data;

  data->output_seen = TRUE;
  return FALSE;
}

static GVariant *
notify_args (guint64 handle)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "x", "i", 42);
  return g_variant_new ("(t@a{sv})", handle, g_variant_dict_end (&dict));
}

/* A NOTIFY reaches the registered handler with its handle and body, in
 * order with the answers; with no handler it is dropped, and the worker
 * lives on. */
static void
test_notify (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new (1);
  MpelChild *child = wait_for_child (loop, 0);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  NotifyData data = { 0 };
  gint32 x = 0;

  _mpel_loop_set_notify_handler (loop, on_notify, &data, NULL);
  g_signal_connect (loop, "output", G_CALLBACK (on_output), &data);

  value = test_call_sync (loop, "test.notify", notify_args (7), &error);
  g_assert_no_error (error);
  g_assert_true (data.output_seen);
  g_assert_cmpuint (data.handle, ==, 7);
  g_assert_true (data.child == child);
  g_assert_true (g_variant_lookup (data.body, "x", "i", &x));
  g_assert_cmpint (x, ==, 42);

  _mpel_loop_set_notify_handler (loop, NULL, NULL, NULL);
  g_clear_pointer (&value, g_variant_unref);
  data.output_seen = FALSE;
  data.handle = 0;
  value = test_call_sync (loop, "test.notify", notify_args (8), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (data.handle, ==, 0);
  g_assert_true (_mpel_loop_get_child (loop, 0) == child);
  g_assert_true (_mpel_child_is_alive (child));

  g_clear_pointer (&data.body, g_variant_unref);
  mpel_loop_close (loop);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
count_exits (MpelLoop     *loop,
             guint         index,
             const GError *reason,
             guint        *n_exits)
{
  g_assert_error ((GError *) reason, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  (*n_exits)++;
}

/* A module whose init crashes ends the worker before its HELLO: a start-up
 * failure that names the modules, not a crash restarted in a loop. */
static void
test_module_init_crashes (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  guint n_exits = 0;

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  g_signal_connect (loop, "worker-exited", G_CALLBACK (count_exits), &n_exits);

  g_setenv ("MPEL_TEST_MODULE_INIT_CRASH", "1", TRUE);
  value = test_call_sync (loop, "add", g_variant_new ("(ii)", 1, 2), &error);
  g_unsetenv ("MPEL_TEST_MODULE_INIT_CRASH");

  g_assert_null (value);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_assert_nonnull (strstr (error->message, "module"));
  g_assert_null (strstr (error->message, "Mpel.Worker.run()"));
  test_iterate_until (!mpel_loop_is_running (loop));
  g_assert_cmpuint (n_exits, ==, 1);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

int
main (int   argc,
      char *argv[])
{
  if (argc >= 2 && g_str_equal (argv[1], "--worker"))
    return run_worker ();

  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Child/identity", test_identity);
  g_test_add_func ("/Mpel/Child/pinned/runs-there", test_pinned_runs_there);
  g_test_add_func ("/Mpel/Child/pinned/dies-with-child", test_pinned_dies_with_child);
  g_test_add_func ("/Mpel/Child/pinned/cancel", test_pinned_cancel);
  g_test_add_func ("/Mpel/Child/pick", test_pick_child);
  g_test_add_func ("/Mpel/Child/notify", test_notify);
  g_test_add_func ("/Mpel/Child/module-init-crashes", test_module_init_crashes);

  return g_test_run ();
}
