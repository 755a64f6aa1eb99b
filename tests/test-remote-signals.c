/* test-remote-signals.c: signals of a worker's objects, emitted on their
 * proxies
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpel.h>

#include "mpel-connection-private.h"
#include "mpel-frame-private.h"
#include "mpel-test-util.h"

static const char *self_path;

/* What a handler saw of each emission */
typedef struct
{
  GPtrArray *args;       /* GVariant */
  GArray    *mirrored;   /* the mirrored count then */
  MpelEvent *call;       /* a call that must not have ended yet */
  gboolean   call_ended;
} Seen;

static void
seen_init (Seen *seen)
{
  seen->args = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  seen->mirrored = g_array_new (FALSE, FALSE, sizeof (int));
  seen->call = NULL;
  seen->call_ended = FALSE;
}

static void
seen_clear (Seen *seen)
{
  g_ptr_array_unref (seen->args);
  g_array_unref (seen->mirrored);
}

static void
on_remote_signal (MpelProxy  *proxy,
                  const char *name,
                  GVariant   *args,
                  gpointer    data)
{
  Seen *seen = data;
  g_autoptr(GVariant) count = mpel_proxy_get_value (proxy, "count");
  int mirrored = count ? g_variant_get_int32 (count) : -1;

  g_ptr_array_add (seen->args, g_variant_ref (args));
  g_array_append_val (seen->mirrored, mirrored);
  if (seen->call != NULL && mpel_event_is_finished (seen->call))
    seen->call_ended = TRUE;
}

static void
count_emission (MpelProxy  *proxy,
                const char *name,
                GVariant   *args,
                guint      *count)
{
  (*count)++;
}

static void
assert_args (Seen       *seen,
             guint       index,
             const char *expected)
{
  g_autofree char *text = NULL;

  g_assert_cmpuint (seen->args->len, >, index);
  text = g_variant_print (seen->args->pdata[index], FALSE);
  g_assert_cmpstr (text, ==, expected);
}

/* A module type's signal: its arguments cross, it arrives after the
 * mirrors it follows and before the answer of the call that emitted it,
 * and between calls too */
static void
test_module_signal (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  const char *props[] = { "count", NULL };
  g_autoptr(MpelProxy) ticker = mpel_proxy_new (loop, "MyTicker", NULL, props, NULL);
  g_autoptr(MpelEvent) call = NULL;
  guint other = 0;
  Seen seen;

  seen_init (&seen);
  g_signal_connect (ticker, "remote-signal::ticked", G_CALLBACK (on_remote_signal), &seen);
  g_signal_connect (ticker, "remote-signal::spawned", G_CALLBACK (count_emission), &other);
  mpel_proxy_subscribe_signal (ticker, "ticked");

  call = g_object_ref (mpel_proxy_call (ticker, "tick", g_variant_new ("(s)", "a")));
  seen.call = call;
  test_iterate_until (mpel_event_is_finished (call));
  g_assert_no_error (mpel_event_get_error (call));
  g_assert_cmpuint (seen.args->len, ==, 1);
  g_assert_false (seen.call_ended);
  assert_args (&seen, 0, "(1, 'a')");
  g_assert_cmpint (g_array_index (seen.mirrored, int, 0), ==, 1);

  /* On its own, between calls */
  mpel_proxy_call (ticker, "tick_later", NULL);
  test_iterate_until (seen.args->len == 2);
  assert_args (&seen, 1, "(2, 'later')");
  g_assert_cmpint (g_array_index (seen.mirrored, int, 1), ==, 2);
  g_assert_cmpuint (other, ==, 0);

  seen.call = NULL;
  seen_clear (&seen);
  mpel_loop_stop (loop);
}

/* A signal emitted, and a property changed, in a thread of the worker's
 * (a GTask's): every emission arrives, in order, each after the mirror
 * it follows, and all of them before the answer given from that thread. */
static void
test_signal_from_thread (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  const char *props[] = { "count", NULL };
  g_autoptr(MpelProxy) ticker = mpel_proxy_new (loop, "MyTicker", NULL, props, NULL);
  g_autoptr(MpelEvent) call = NULL;
  Seen seen;

  seen_init (&seen);
  g_signal_connect (ticker, "remote-signal::ticked", G_CALLBACK (on_remote_signal), &seen);
  mpel_proxy_subscribe_signal (ticker, "ticked");

  call = g_object_ref (mpel_proxy_call (ticker, "tick_in_thread", g_variant_new ("(si)", "t", 200)));
  seen.call = call;
  test_iterate_until (mpel_event_is_finished (call));
  g_assert_no_error (mpel_event_get_error (call));
  g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (call)), ==, 200);
  g_assert_false (seen.call_ended);
  g_assert_cmpuint (seen.args->len, ==, 200);
  for (guint i = 0; i < seen.args->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("(%u, 't')", i + 1);

      assert_args (&seen, i, expected);
      /* The thread may have ticked on meanwhile: at least this one */
      g_assert_cmpint (g_array_index (seen.mirrored, int, i), >=, (int) i + 1);
    }
  {
    g_autoptr(GVariant) count = mpel_proxy_get_value (ticker, "count");

    g_assert_cmpint (g_variant_get_int32 (count), ==, 200);
  }

  seen.call = NULL;
  seen_clear (&seen);
  mpel_loop_stop (loop);
}

/* Subscriptions are counted; after the last one ends nothing arrives */
static void
test_unsubscribe (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) ticker = mpel_proxy_new (loop, "MyTicker", NULL, NULL, NULL);
  Seen seen;

  seen_init (&seen);
  g_signal_connect (ticker, "remote-signal::ticked", G_CALLBACK (on_remote_signal), &seen);
  mpel_proxy_subscribe_signal (ticker, "ticked");
  mpel_proxy_subscribe_signal (ticker, "ticked");
  mpel_proxy_unsubscribe_signal (ticker, "ticked");
  mpel_proxy_call (ticker, "tick", g_variant_new ("(s)", "still"));
  test_wait (loop);
  g_assert_cmpuint (seen.args->len, ==, 1);

  mpel_proxy_unsubscribe_signal (ticker, "ticked");
  mpel_proxy_call (ticker, "tick", g_variant_new ("(s)", "gone"));
  /* A later subscription's first emission shows the earlier did not come */
  mpel_proxy_subscribe_signal (ticker, "ticked");
  mpel_proxy_call (ticker, "tick", g_variant_new ("(s)", "again"));
  test_wait (loop);
  g_assert_cmpuint (seen.args->len, ==, 2);
  assert_args (&seen, 1, "(3, 'again')");

  seen_clear (&seen);
  mpel_loop_stop (loop);
}

/* An object argument crosses as a handle that a new proxy adopts */
static void
test_object_argument (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) ticker = mpel_proxy_new (loop, "MyTicker", NULL, NULL, NULL);
  g_autoptr(MpelProxy) spawned = NULL;
  g_autoptr(GVariant) count = NULL;
  guint64 handle;
  guint before;
  Seen seen;

  test_wait (loop);
  before = test_count_objects (loop);
  seen_init (&seen);
  g_signal_connect (ticker, "remote-signal::spawned", G_CALLBACK (on_remote_signal), &seen);
  mpel_proxy_subscribe_signal (ticker, "spawned");
  mpel_proxy_call (ticker, "spawn", NULL);
  test_wait (loop);
  g_assert_cmpuint (seen.args->len, ==, 1);
  g_assert_true (g_variant_is_of_type (seen.args->pdata[0], G_VARIANT_TYPE ("(t)")));
  g_variant_get (seen.args->pdata[0], "(t)", &handle);

  spawned = mpel_proxy_new_for_handle (ticker, handle, NULL, NULL);
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (spawned), ==, MPEL_PROXY_STATE_READY);
  g_assert_cmpstr (mpel_proxy_get_remote_type (spawned), ==, "MyTicker");
  count = mpel_proxy_get_value (spawned, "count");
  g_assert_cmpint (g_variant_get_int32 (count), ==, 42);

  /* Nothing stays behind */
  g_clear_object (&spawned);
  g_main_context_iteration (NULL, FALSE);
  test_wait (loop);
  g_assert_cmpuint (test_count_objects (loop), ==, before);

  seen_clear (&seen);
  mpel_loop_stop (loop);
}

/* What cannot be forwarded is refused with a reason */
static void
test_refused (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) ticker = mpel_proxy_new (loop, "MyTicker", NULL, NULL, NULL);
  g_autoptr(MpelEvent) nope = NULL;
  g_autoptr(MpelEvent) poked = NULL;

  nope = g_object_ref (mpel_proxy_subscribe_signal (ticker, "nope"));
  poked = g_object_ref (mpel_proxy_subscribe_signal (ticker, "poked"));
  test_iterate_until (mpel_event_is_finished (nope) && mpel_event_is_finished (poked));
  g_assert_error (mpel_event_get_error (nope), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (mpel_event_get_error (nope)->message, "“nope”"));
  g_assert_error (mpel_event_get_error (poked), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (mpel_event_get_error (poked)->message, "gpointer"));

  mpel_loop_stop (loop);
}

/* A GObject-Introspection type's signal: Gio.SimpleAction::activate */
static void
test_gi_signal (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) action = NULL;
  Seen seen;

  action = mpel_proxy_new (loop, "Gio.SimpleAction", g_variant_new_parsed ("{'name': <'go'>}"), NULL, NULL);
  seen_init (&seen);
  g_signal_connect (action, "remote-signal::activate", G_CALLBACK (on_remote_signal), &seen);
  mpel_proxy_subscribe_signal (action, "activate");
  mpel_proxy_call (action, "activate", g_variant_new ("(mv)", NULL));
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (action), ==, MPEL_PROXY_STATE_READY);
  g_assert_cmpuint (seen.args->len, ==, 1);
  g_assert_true (g_variant_is_of_type (seen.args->pdata[0], G_VARIANT_TYPE ("(mv)")));
  assert_args (&seen, 0, "(nothing,)");

  seen_clear (&seen);
  mpel_loop_stop (loop);
}

/* After a release nothing more is emitted, not even what crossed it, and
 * the worker drops the object and its subscriptions */
static void
test_release (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) ticker = NULL;
  g_autoptr(MpelEvent) call = NULL;
  guint before;
  Seen seen;

  before = test_count_objects (loop);
  ticker = mpel_proxy_new (loop, "MyTicker", NULL, NULL, NULL);
  seen_init (&seen);
  g_signal_connect (ticker, "remote-signal::ticked", G_CALLBACK (on_remote_signal), &seen);
  mpel_proxy_subscribe_signal (ticker, "ticked");
  test_wait (loop);
  g_assert_cmpuint (test_count_objects (loop), ==, before + 1);

  /* The tick comes from the worker's idle, before or after the release
   * reached it: either way it is not emitted here */
  call = g_object_ref (mpel_proxy_call (ticker, "tick_later", NULL));
  mpel_proxy_release (ticker);
  test_iterate_until (mpel_event_is_finished (call));
  g_main_context_iteration (NULL, FALSE);
  test_wait (loop);
  g_assert_cmpuint (test_count_objects (loop), ==, before);
  g_assert_cmpuint (seen.args->len, ==, 0);

  /* Released: a subscription fails at once */
  {
    MpelEvent *late = g_object_ref (mpel_proxy_subscribe_signal (ticker, "ticked"));

    test_wait (loop);
    g_assert_error (mpel_event_get_error (late), MPEL_ERROR, MPEL_ERROR_CLOSED);
    g_object_unref (late);
  }

  seen_clear (&seen);
  mpel_loop_stop (loop);
}

/* A crash fails the proxy; its subscriptions end with it */
static void
test_crash (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) ticker = mpel_proxy_new (loop, "MyTicker", NULL, NULL, NULL);
  g_autoptr(MpelEvent) late = NULL;
  Seen seen;

  seen_init (&seen);
  g_signal_connect (ticker, "remote-signal::ticked", G_CALLBACK (on_remote_signal), &seen);
  mpel_proxy_subscribe_signal (ticker, "ticked");
  mpel_proxy_call (ticker, "tick", g_variant_new ("(s)", "before"));
  test_wait (loop);
  g_assert_cmpuint (seen.args->len, ==, 1);

  mpel_loop_add_event (loop, "die", NULL);
  test_iterate_until (mpel_proxy_get_state (ticker) == MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (ticker), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);

  late = g_object_ref (mpel_proxy_subscribe_signal (ticker, "ticked"));
  test_iterate_until (mpel_event_is_finished (late));
  g_assert_error (mpel_event_get_error (late), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  mpel_proxy_unsubscribe_signal (ticker, "ticked");
  g_assert_cmpuint (seen.args->len, ==, 1);

  seen_clear (&seen);
  mpel_loop_stop (loop);
}

/* A worker that lies in its named NOTIFY frames */
typedef struct
{
  GMainLoop      *main_loop;
  MpelConnection *conn;
  const char     *mode;
} FakeWorker;

static gboolean
fake_on_frame (MpelConnection *conn,
               MpelFrame      *frame,
               gpointer        user_data)
{
  FakeWorker *fake = user_data;
  guint64 handle = 0;

  if (frame->kind == MPEL_FRAME_STOP)
    {
      g_main_loop_quit (fake->main_loop);
      return FALSE;
    }
  if (frame->kind != MPEL_FRAME_CALL)
    return TRUE;

  if (g_str_equal (frame->name, "mpel.object.subscribe"))
    {
      g_variant_get_child (frame->body, 0, "t", &handle);
      _mpel_connection_send (conn, MPEL_FRAME_RETURN, MPEL_FRAME_FLAGS_NO_VALUE, frame->id, NULL,
                             g_variant_new ("()"), NULL, NULL);
      if (g_str_equal (fake->mode, "unsubscribed"))
        _mpel_connection_send (conn, MPEL_FRAME_NOTIFY, 0, handle, "other",
                               g_variant_new ("()"), NULL, NULL);
      else if (g_str_equal (fake->mode, "not-a-tuple"))
        _mpel_connection_send (conn, MPEL_FRAME_NOTIFY, 0, handle, "ticked",
                               g_variant_new_int32 (2), NULL, NULL);
      else if (g_str_equal (fake->mode, "unknown-handle"))
        _mpel_connection_send (conn, MPEL_FRAME_NOTIFY, 0, handle + 1000, "ticked",
                               g_variant_new ("()"), NULL, NULL);
      else if (g_str_equal (fake->mode, "not-a-list"))
        _mpel_connection_send (conn, MPEL_FRAME_NOTIFY, 0, handle, "mpel.items-changed",
                               g_variant_new ("(uuu)", 0, 0, 1), NULL, NULL);
      return TRUE;
    }

  _mpel_connection_send (conn, MPEL_FRAME_RETURN, 0, frame->id, NULL,
                         g_variant_new_parsed ("@a{sv} {}"), NULL, NULL);
  return TRUE;
}

static void
fake_on_closed (MpelConnection *conn,
                const GError   *error,
                gpointer        user_data)
{
  g_main_loop_quit (((FakeWorker *) user_data)->main_loop);
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

static void
test_hostile (gconstpointer data)
{
  const char *mode = data;
  const char *argv[] = { self_path, "--fake-worker", mode, NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(MpelProxy) ticker = NULL;
  const char *expected, *message;

  ticker = mpel_proxy_new (loop, "MyTicker", NULL, NULL, NULL);
  mpel_proxy_subscribe_signal (ticker, "ticked");
  test_iterate_until (mpel_proxy_get_state (ticker) == MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (ticker), MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  expected = g_str_equal (mode, "unsubscribed") ? "never subscribed"
           : g_str_equal (mode, "not-a-tuple") ? "not a tuple"
           : g_str_equal (mode, "unknown-handle") ? "does not exist" : "not a watched list";
  message = mpel_proxy_get_error (ticker)->message;
  if (strstr (message, expected) == NULL)
    g_error ("“%s” does not say “%s”", message, expected);

  mpel_loop_stop (loop);
}

int
main (int   argc,
      char *argv[])
{
  if (argc >= 3 && g_str_equal (argv[1], "--fake-worker"))
    return run_fake_worker (argv[2]);

  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/RemoteSignals/module", test_module_signal);
  g_test_add_func ("/Mpel/RemoteSignals/from-thread", test_signal_from_thread);
  g_test_add_func ("/Mpel/RemoteSignals/unsubscribe", test_unsubscribe);
  g_test_add_func ("/Mpel/RemoteSignals/object-argument", test_object_argument);
  g_test_add_func ("/Mpel/RemoteSignals/refused", test_refused);
  g_test_add_func ("/Mpel/RemoteSignals/gi", test_gi_signal);
  g_test_add_func ("/Mpel/RemoteSignals/release", test_release);
  g_test_add_func ("/Mpel/RemoteSignals/crash", test_crash);
  g_test_add_data_func ("/Mpel/RemoteSignals/hostile/unsubscribed", "unsubscribed", test_hostile);
  g_test_add_data_func ("/Mpel/RemoteSignals/hostile/not-a-tuple", "not-a-tuple", test_hostile);
  g_test_add_data_func ("/Mpel/RemoteSignals/hostile/unknown-handle", "unknown-handle", test_hostile);
  g_test_add_data_func ("/Mpel/RemoteSignals/hostile/not-a-list", "not-a-list", test_hostile);

  return g_test_run ();
}
