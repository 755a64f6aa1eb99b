/* test-transport.c: workers over a byte stream (stdio, a flatpak-spawn
 * stand-in, ssh to a local sshd), in a bubblewrap sandbox, and the back-off
 * of workers that cannot be spawned
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "mpel-test-util.h"
#include "mpel-wire-private.h"

typedef enum
{
  MODE_STDIO,     /* sh -c 'exec mpel-worker --stdio …' */
  MODE_FLATPAK,   /* flatpak-spawn-sim --host mpel-worker --stdio … */
  MODE_SANDBOX,   /* a socket pair, in bubblewrap */
  MODE_SSH,       /* ssh -p PORT 127.0.0.1 mpel-worker --stdio …, to our sshd */
} Mode;

/* A private sshd on 127.0.0.1, started once by main() when openssh-server
 * is installed: a throwaway host key and user key, its own config. */
typedef struct
{
  GSubprocess *sshd;
  char *dir;
  char *key;
  char *port;
  char *skip_reason;
} Sshd;

static Sshd sshd;

static const char *
env (const char *name)
{
  const char *value = g_getenv (name);

  g_assert_nonnull (value);
  return value;
}

static char *
flatpak_sim_path (void)
{
  return g_build_filename (env ("G_TEST_SRCDIR"), "flatpak-spawn-sim", NULL);
}

static MpelLoop *
loop_new (Mode mode)
{
  const char *worker = env ("MPEL_WORKER");
  const char *module = env ("MPEL_TEST_MODULE");
  const char *transport_module = env ("MPEL_TEST_TRANSPORT_MODULE");
  g_autofree char *sim = flatpak_sim_path ();
  MpelLoop *loop;

  if (mode == MODE_STDIO)
    {
      const char *argv[] = {
        "/bin/sh", "-c", "exec \"$0\" --stdio --module \"$1\" --module \"$2\"",
        worker, module, transport_module, NULL
      };

      loop = mpel_loop_new_for_stream_argv (argv);
    }
  else if (mode == MODE_FLATPAK)
    {
      const char *argv[] = {
        sim, "--host", worker, "--stdio", "--module", module, "--module", transport_module, NULL
      };

      loop = mpel_loop_new_for_stream_argv (argv);
    }
  else if (mode == MODE_SSH)
    {
      g_autofree char *remote = g_strdup_printf ("exec %s --stdio --module %s --module %s",
                                                 worker, module, transport_module);
      const char *argv[] = {
        "ssh", "-F", "/dev/null", "-i", sshd.key, "-p", sshd.port,
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        "-o", "ServerAliveInterval=5",
        "127.0.0.1", remote, NULL
      };

      loop = mpel_loop_new_for_stream_argv (argv);
    }
  else
    {
      const char *modules[] = { module, transport_module, NULL };

      loop = mpel_loop_new ();
      mpel_loop_set_modules (loop, modules);
      mpel_loop_set_sandbox (loop, MPEL_SANDBOX_STRICT);
    }

  g_assert_cmpint (mpel_loop_get_transport (loop), ==,
                   mode == MODE_SANDBOX ? MPEL_TRANSPORT_SOCKET : MPEL_TRANSPORT_STDIO);
  /* An ssh login or a sandbox set-up on a loaded 2-CPU machine can take
   * longer than the default 5 s; these tests are not about the handshake. */
  mpel_loop_set_handshake_timeout (loop, 60000);
  return loop;
}

static GVariant *
call (MpelLoop    *loop,
      const char  *target,
      GVariant    *args,
      GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  mpel_loop_call_async (loop, target, args, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  return mpel_loop_call_finish (loop, result, error);
}

static gboolean
record_error (MpelLoop  *loop,
              MpelEvent *event,
              GPtrArray *errors)
{
  if (mpel_event_get_state (event) == MPEL_EVENT_STATE_FAILED)
    g_ptr_array_add (errors, g_error_copy (mpel_event_get_error (event)));
  return FALSE;
}

static gboolean
skip_without_bwrap (void)
{
  g_autofree char *bwrap = g_find_program_in_path ("bwrap");
  g_autofree char *err = NULL;
  int status = -1;
  const char *argv[] = { "bwrap", "--unshare-all", "--ro-bind", "/", "/", "true", NULL };

  if (bwrap == NULL)
    {
      g_test_skip ("bubblewrap (bwrap) is not installed");
      return TRUE;
    }
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *message = g_strdup_printf ("bwrap cannot run here (user namespaces restricted?): %s",
                                                  err != NULL ? g_strstrip (err) : "");

      g_test_skip (message);
      return TRUE;
    }
  return FALSE;
}

static gboolean
skip_mode (Mode mode)
{
  if (mode == MODE_SSH && sshd.sshd == NULL)
    {
      g_test_skip (sshd.skip_reason);
      return TRUE;
    }
  return mode == MODE_SANDBOX && skip_without_bwrap ();
}

/* Calls, keyword-less and with a structured result, and the worker's own
 * stdout kept off the channel. */
static void
test_call (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  const char *echoed;

  if (skip_mode (mode))
    return;
  loop = loop_new (mode);

  value = call (loop, "add_one", g_variant_new ("(i)", 41), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 42);
  g_clear_pointer (&value, g_variant_unref);

  /* Over a stream, what the handler prints goes to stderr, not into the
   * frames. (Over a socket, stdout is the test's TAP output.) */
  if (mode != MODE_SANDBOX)
    {
      value = call (loop, "print", g_variant_new ("(s)", "# printed by a handler, on stderr"), &error);
      g_assert_no_error (error);
      g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "# printed by a handler, on stderr");
      g_clear_pointer (&value, g_variant_unref);
    }

  value = call (loop, "mpel.echo", g_variant_new ("(s)", "after print"), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, "(s)");
  g_variant_get (value, "(&s)", &echoed);
  g_assert_cmpstr (echoed, ==, "after print");

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_error (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  if (skip_mode (mode))
    return;
  loop = loop_new (mode);

  value = call (loop, "fail_not_found", NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (value);
  g_clear_error (&error);

  value = call (loop, "no_such_target", NULL, &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_UNKNOWN_TARGET);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
on_item (MpelEvent *event,
         GVariant  *item,
         GPtrArray *items)
{
  g_ptr_array_add (items, g_variant_dup_string (item, NULL));
}

static void
test_stream (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  MpelEvent *event;

  if (skip_mode (mode))
    return;
  loop = loop_new (mode);

  event = g_object_ref (mpel_loop_add_event (loop, "yield_range", g_variant_new ("(us)", 100, "item")));
  g_signal_connect (event, "item", G_CALLBACK (on_item), items);
  test_wait (loop);

  g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_DONE);
  g_assert_cmpuint (g_variant_get_uint32 (mpel_event_get_result (event)), ==, 100);
  g_assert_cmpuint (items->len, ==, 100);
  g_assert_cmpstr (g_ptr_array_index (items, 0), ==, "item 0");
  g_assert_cmpstr (g_ptr_array_index (items, 99), ==, "item 99");

  g_assert_finalize_object (g_steal_pointer (&loop));
  g_assert_finalize_object (event);
}

static void
test_cancel (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  if (skip_mode (mode))
    return;
  loop = loop_new (mode);
  mpel_loop_set_max_in_flight (loop, 1);

  mpel_loop_call_async (loop, "mpel.sleep", g_variant_new ("(u)", 60000), cancellable,
                        test_store_result, &result);
  g_cancellable_cancel (cancellable);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  /* The task holds the loop. */
  g_clear_object (&result);

  /* The worker gave the slot back and serves the next one. */
  value = call (loop, "add_one", g_variant_new ("(i)", 2), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 3);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_timeout (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(MpelEvent) event = mpel_event_new ("mpel.sleep", g_variant_new ("(u)", 60000));

  if (skip_mode (mode))
    return;
  loop = loop_new (mode);

  mpel_event_set_timeout (event, 50);
  mpel_loop_push (loop, event);
  test_wait (loop);
  g_assert_error ((GError *) mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_TIMED_OUT);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A worker that dies fails what it ran, naming where it ran; with
 * restarts, the next event runs in a new worker. */
static void
test_crash_restart (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  const GError *crash;

  if (skip_mode (mode))
    return;
  loop = loop_new (mode);
  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);

  mpel_loop_add_event (loop, "die", g_variant_new ("(i)", SIGKILL));
  test_iterate_until (errors->len == 1);
  crash = g_ptr_array_index (errors, 0);
  g_assert_error ((GError *) crash, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (crash->message, "“die”"));
  if (mode == MODE_STDIO)
    {
      g_assert_nonnull (strstr (crash->message, "“sh” over stdio"));
      g_assert_nonnull (strstr (crash->message, "signal 9"));
    }
  else if (mode == MODE_SSH)
    g_assert_nonnull (strstr (crash->message, "ssh to “127.0.0.1”"));
  else if (mode == MODE_FLATPAK)
    {
      /* The wrapper's status says how its child died. */
      g_assert_nonnull (strstr (crash->message, "“flatpak-spawn-sim” over stdio"));
      g_assert_nonnull (strstr (crash->message, "status 137"));
    }

  value = call (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 2);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* 64 MiB each way: inline over a stream, in a shared buffer otherwise. */
static void
test_large (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  gsize size = 64 * 1024 * 1024;
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) echoed = NULL;
  g_autoptr(GBytes) sent = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *bytes = g_malloc (size);
  gconstpointer got;
  gsize got_size;

  if (skip_mode (mode))
    {
      g_free (bytes);
      return;
    }
  loop = loop_new (mode);

  for (gsize i = 0; i < size; i++)
    bytes[i] = (guint8) (i * 31 + (i >> 20));
  sent = g_bytes_new_take (bytes, size);
  value = call (loop, "mpel.echo",
                g_variant_new ("(@ay)", g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, sent, TRUE)),
                &error);
  g_assert_no_error (error);
  echoed = g_variant_get_child_value (value, 0);
  got = g_variant_get_fixed_array (echoed, &got_size, 1);
  g_assert_cmpuint (got_size, ==, size);
  g_assert_true (memcmp (got, bytes, size) == 0);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A small call is answered while a 64 MiB payload is on its way: the
 * large message goes in chunks, and the call passes between them. Its
 * answer comes back before the worker has even read the whole payload. */
static void
test_interleave (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  gsize size = 64 * 1024 * 1024;
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GAsyncResult) large_result = NULL;
  g_autoptr(GAsyncResult) small_result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) small = NULL;
  g_autoptr(GVariant) echoed = NULL;
  g_autoptr(GBytes) sent = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *bytes;
  gconstpointer got;
  gsize got_size;

  if (mode == MODE_SANDBOX)
    {
      g_test_skip ("the sandbox runs over a socket pair: large payloads go in shared buffers");
      return;
    }
  if (skip_mode (mode))
    return;
  loop = loop_new (mode);

  /* Started, HELLOs exchanged: both ends know that the other has chunks. */
  g_clear_pointer (&small, g_variant_unref);
  small = call (loop, "add", g_variant_new ("(ii)", 0, 0), &error);
  g_assert_no_error (error);
  g_clear_pointer (&small, g_variant_unref);

  bytes = g_malloc (size);
  for (gsize i = 0; i < size; i++)
    bytes[i] = (guint8) (i * 13 + (i >> 18));
  sent = g_bytes_new_take (bytes, size);
  mpel_loop_call_async (loop, "mpel.echo",
                        g_variant_new ("(@ay)", g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, sent, TRUE)),
                        NULL, test_store_result, &large_result);
  mpel_loop_call_async (loop, "add", g_variant_new ("(ii)", 40, 2), NULL, test_store_result, &small_result);

  test_iterate_until (small_result != NULL);
  g_assert_null (large_result);
  small = mpel_loop_call_finish (loop, small_result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (small), ==, 42);

  /* Another one while the answer may be on its way back */
  g_clear_pointer (&small, g_variant_unref);
  small = call (loop, "add", g_variant_new ("(ii)", 1, 2), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (small), ==, 3);

  test_iterate_until (large_result != NULL);
  value = mpel_loop_call_finish (loop, large_result, &error);
  g_assert_no_error (error);
  echoed = g_variant_get_child_value (value, 0);
  got = g_variant_get_fixed_array (echoed, &got_size, 1);
  g_assert_cmpuint (got_size, ==, size);
  g_assert_true (memcmp (got, g_bytes_get_data (sent, NULL), size) == 0);

  g_clear_object (&large_result);
  g_clear_object (&small_result);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static gboolean
on_fd_ready (int           fd,
             GIOCondition  condition,
             gpointer      data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The flatpak-spawn stand-in: the process mpel spawned is not the worker,
 * whose HELLO names another pid; mpel names and signals only its own. */
static void
test_flatpak_pid (void)
{
  g_autoptr(MpelLoop) loop = loop_new (MODE_FLATPAK);
  g_autoptr(GPtrArray) reasons = g_ptr_array_new ();
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  GPid local_pid;
  int worker_pidfd;
  gboolean worker_exited = FALSE;

  value = call (loop, "getpid", NULL, &error);
  g_assert_no_error (error);
  local_pid = mpel_loop_get_worker_pid (loop, 0);
  g_assert_cmpint (local_pid, >, 0);
  g_assert_cmpint (g_variant_get_int32 (value), !=, local_pid);

  /* Stopping the loop ends the worker behind the wrapper too. */
  worker_pidfd = syscall (SYS_pidfd_open, g_variant_get_int32 (value), 0);
  /* valgrind 3.19 knows no pidfd_open: that part is then not checked. */
  if (worker_pidfd < 0)
    g_test_message ("pidfd_open: %s: not checking that the worker ended", g_strerror (errno));
  mpel_loop_stop (loop);
  test_iterate_until (!mpel_loop_is_running (loop));
  g_assert_finalize_object (g_steal_pointer (&loop));
  if (worker_pidfd >= 0)
    {
      g_unix_fd_add (worker_pidfd, G_IO_IN, on_fd_ready, &worker_exited);
      test_iterate_until (worker_exited);
      close (worker_pidfd);
    }
}


/* Escapes a sandboxed worker tries: each fails that event alone, and the
 * worker goes on serving. */
static void
assert_refused (MpelLoop   *loop,
                const char *target,
                GVariant   *args)
{
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *what = g_variant_print (args, FALSE);

  /* Kept past the call, for the message: the loop takes its own ref. */
  g_variant_ref_sink (args);
  value = call (loop, target, args, &error);
  g_variant_unref (args);
  if (error == NULL)
    g_error ("%s %s was allowed in the sandbox", target, what);
  g_test_message ("%s %s: %s", target, what, error->message);
  g_assert_false (g_error_matches (error, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED));
}

static void
test_sandbox_escapes (void)
{
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketService) service = NULL;
  g_autofree char *outside = NULL;
  guint16 port;

  if (skip_without_bwrap ())
    return;

  /* Something to reach outside: a listening socket and a file. */
  service = g_socket_service_new ();
  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  outside = g_build_filename (g_get_tmp_dir (), "mpel-sandbox-outside-XXXXXX", NULL);
  g_close (g_mkstemp (outside), NULL);

  loop = loop_new (MODE_SANDBOX);

  /* It works… */
  value = call (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 2);
  g_clear_pointer (&value, g_variant_unref);

  /* …in its own pid namespace… */
  value = call (loop, "getpid", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), !=, mpel_loop_get_worker_pid (loop, 0));
  g_clear_pointer (&value, g_variant_unref);

  /* …with a private /tmp it may write to… */
  value = call (loop, "write_file", g_variant_new ("(s)", "/tmp/inside"), &error);
  g_assert_no_error (error);
  g_clear_pointer (&value, g_variant_unref);

  /* …and nothing else. */
  assert_refused (loop, "read_file", g_variant_new ("(s)", "/etc/shadow"));
  assert_refused (loop, "read_file", g_variant_new ("(s)", "/etc/passwd"));
  assert_refused (loop, "read_file", g_variant_new ("(s)", outside));
  assert_refused (loop, "list_dir", g_variant_new ("(s)", "/home"));
  assert_refused (loop, "list_dir", g_variant_new ("(s)", "/root"));
  assert_refused (loop, "write_file", g_variant_new ("(s)", "/usr/mpel-escape"));
  assert_refused (loop, "write_file", g_variant_new ("(s)", env ("MPEL_TEST_MODULE")));
  assert_refused (loop, "connect_tcp", g_variant_new ("(u)", (guint32) port));
#ifdef HAVE_LIBSECCOMP
  /* The seccomp filter */
  assert_refused (loop, "userfaultfd", g_variant_new ("()"));
#endif

  /* The private /tmp was not ours. */
  g_assert_false (g_file_test ("/tmp/inside", G_FILE_TEST_EXISTS));

  value = call (loop, "add_one", g_variant_new ("(i)", 2), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 3);

  g_unlink (outside);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Without bubblewrap, a strict sandbox does not start: never unconfined. */
/* The CPU limit counts the worker's whole life: past it the worker is
 * killed like one that crashed, the event fails, and the next one runs in
 * a new worker with a new allowance. */
static void
test_sandbox_cpu_limit (void)
{
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  if (skip_without_bwrap ())
    return;

  g_setenv ("MPEL_SANDBOX_CPU_LIMIT", "1", TRUE);
  loop = loop_new (MODE_SANDBOX);
  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  value = call (loop, "count_primes", g_variant_new ("(uu)", 0, G_MAXUINT32), &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_null (value);
  g_clear_error (&error);

  value = call (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 2);
  g_assert_finalize_object (g_steal_pointer (&loop));

  /* A value that is not a number of seconds fails the start. */
  g_setenv ("MPEL_SANDBOX_CPU_LIMIT", "an hour", TRUE);
  loop = loop_new (MODE_SANDBOX);
  g_clear_pointer (&value, g_variant_unref);
  value = call (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_assert_nonnull (strstr (error->message, "MPEL_SANDBOX_CPU_LIMIT"));
  g_assert_finalize_object (g_steal_pointer (&loop));
  g_unsetenv ("MPEL_SANDBOX_CPU_LIMIT");
}

static void
test_sandbox_without_bwrap (void)
{
  g_autoptr(MpelLoop) loop = loop_new (MODE_SANDBOX);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strdup (g_getenv ("PATH"));

  g_setenv ("PATH", "/nonexistent", TRUE);
  g_assert_false (mpel_loop_start (loop, &error));
  g_setenv ("PATH", path, TRUE);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_assert_nonnull (strstr (error->message, "bubblewrap"));
  g_assert_false (mpel_loop_is_running (loop));

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A worker that cannot be spawned is not spawned again on every push
 * (issue 9): the attempts back off as restarts do. */
static void
test_spawn_backoff (void)
{
  const char *argv[] = { "/nonexistent/mpel-worker", NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  guint n_attempts = 0;
  gint64 start = g_get_monotonic_time ();

  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);
  for (guint i = 0; i < 200; i++)
    {
      mpel_loop_add_event (loop, "anything", NULL);
      test_iterate_until (errors->len == i + 1);
    }

  for (guint i = 0; i < errors->len; i++)
    {
      const GError *error = g_ptr_array_index (errors, i);

      g_assert_error ((GError *) error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
      g_assert_nonnull (strstr (error->message, "/nonexistent/mpel-worker"));
      if (strstr (error->message, "not tried again") == NULL)
        n_attempts++;
    }

  /* 100 ms, 200 ms, 400 ms… between attempts: as many as fit the time
   * the pushes took, and a first one. */
  g_test_message ("%u spawn attempts for 200 pushes in %" G_GINT64_FORMAT " ms",
                  n_attempts, (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpuint (n_attempts, >=, 1);
  g_assert_cmpuint (n_attempts, <=, 1 + (g_get_monotonic_time () - start) / (100 * 1000));

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* So does a worker that dies before HELLO, every time. */
static void
test_startup_failure_backoff (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mpel-backoff-XXXXXX", NULL);
  g_autofree char *count_file = g_build_filename (dir, "runs", NULL);
  g_autofree char *script = g_strdup_printf ("echo run >> '%s'; exit 3", count_file);
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autofree char *runs = NULL;
  gint64 start = g_get_monotonic_time ();
  guint n_runs = 0;

  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);
  for (guint i = 0; i < 50; i++)
    {
      mpel_loop_add_event (loop, "anything", NULL);
      test_iterate_until (errors->len == i + 1);
      g_assert_error ((GError *) g_ptr_array_index (errors, i), MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
    }

  g_assert_true (g_file_get_contents (count_file, &runs, NULL, NULL));
  for (const char *p = runs; (p = strchr (p, '\n')) != NULL; p++)
    n_runs++;
  g_test_message ("%u runs for 50 pushes in %" G_GINT64_FORMAT " ms",
                  n_runs, (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpuint (n_runs, >=, 1);
  g_assert_cmpuint (n_runs, <=, 1 + (g_get_monotonic_time () - start) / (100 * 1000));

  g_unlink (count_file);
  g_rmdir (dir);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
add_mode_tests (const char *prefix,
                Mode        mode)
{
  static const struct {
    const char *name;
    GTestDataFunc func;
  } tests[] = {
    { "call", test_call },
    { "error", test_error },
    { "stream", test_stream },
    { "cancel", test_cancel },
    { "timeout", test_timeout },
    { "crash-restart", test_crash_restart },
    { "large", test_large },
    { "interleave", test_interleave },
  };

  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      g_autofree char *path = g_strdup_printf ("/Mpel/Transport/%s/%s", prefix, tests[i].name);

      g_test_add_data_func (path, GINT_TO_POINTER (mode), tests[i].func);
    }
}

/* The connection drops under an event (its sshd session is killed): the
 * event fails, naming the host, and the next one runs in a new worker. */
static void
test_ssh_dropped (void)
{
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *children_path = NULL;
  g_autofree char *children = NULL;
  g_auto(GStrv) pids = NULL;
  const GError *dropped;

  if (skip_mode (MODE_SSH))
    return;
  loop = loop_new (MODE_SSH);
  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);

  /* Connected and serving */
  value = call (loop, "add_one", g_variant_new ("(i)", 1), &error);
  g_assert_no_error (error);
  g_clear_pointer (&value, g_variant_unref);

  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 60000));
  /* The sessions are the children of our sshd. */
  children_path = g_strdup_printf ("/proc/%s/task/%s/children",
                                   g_subprocess_get_identifier (sshd.sshd),
                                   g_subprocess_get_identifier (sshd.sshd));
  g_assert_true (g_file_get_contents (children_path, &children, NULL, NULL));
  pids = g_strsplit (g_strstrip (children), " ", -1);
  g_assert_nonnull (pids[0]);
  for (guint i = 0; pids[i] != NULL; i++)
    kill ((pid_t) g_ascii_strtoll (pids[i], NULL, 10), SIGKILL);

  test_iterate_until (errors->len == 1);
  dropped = g_ptr_array_index (errors, 0);
  g_test_message ("%s", dropped->message);
  g_assert_error ((GError *) dropped, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (dropped->message, "ssh to “127.0.0.1”"));
  g_assert_nonnull (strstr (dropped->message, "“mpel.sleep”"));

  value = call (loop, "add_one", g_variant_new ("(i)", 2), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 3);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* An app that speaks to mpel-worker over a raw socket, with a HELLO that
 * declares @features (NULL: none at all, as apps before features did). It
 * pings, and counts the bulk descriptors the worker sends before the
 * answer: the worker's output buffer comes only to an app that declared
 * last-words. */
static guint
count_lent_buffers (const char * const *features)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GSubprocess) worker = NULL;
  g_autoptr(MpelConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  const char *argv[] = { env ("MPEL_WORKER"), NULL };
  guint8 buf[65536];
  gsize have = 0;
  guint n_lent = 0;
  gboolean answered = FALSE;
  int sv[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  g_subprocess_launcher_take_fd (launcher, sv[1], 3);
  g_subprocess_launcher_setenv (launcher, "MPEL_FD", "3", TRUE);
  worker = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);

  conn = _mpel_connection_new (sv[0], NULL, NULL, NULL, NULL);
  g_variant_dict_insert (&dict, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
  g_variant_dict_insert (&dict, "pid", "i", (gint32) getpid ());
  g_variant_dict_insert (&dict, "max-frame", "u", (guint32) MPEL_DEFAULT_MAX_FRAME);
  if (features != NULL)
    g_variant_dict_insert (&dict, "features", "^as", features);
  g_assert_true (_mpel_connection_send (conn, MPEL_FRAME_HELLO, 0, 0, "old-app", g_variant_dict_end (&dict), NULL, &error));
  g_assert_true (_mpel_connection_send (conn, MPEL_FRAME_CALL, 0, 1, "mpel.ping", g_variant_new ("()"), NULL, &error));
  g_assert_true (_mpel_connection_flush_sync (conn, &error));
  g_assert_no_error (error);

  /* Raw frames, read past the connection, which is never dispatched */
  while (!answered)
    {
      struct pollfd pfd = { .fd = sv[0], .events = POLLIN };
      gssize n;

      g_assert_cmpint (poll (&pfd, 1, TEST_DEADLINE_USEC / 1000), ==, 1);
      n = recv (sv[0], buf + have, sizeof buf - have, MSG_CMSG_CLOEXEC);
      g_assert_cmpint (n, >, 0);
      have += n;

      while (have >= MPEL_FRAME_HEADER_SIZE)
        {
          guint32 header[2];
          gsize size;

          memcpy (header, buf, sizeof header);
          size = GUINT32_FROM_LE (header[0]) == 0
                   ? MPEL_FRAME_HEADER_SIZE + MPEL_BULK_DESCRIPTOR_SIZE
                   : MPEL_FRAME_HEADER_SIZE + MPEL_ALIGN8 (GUINT32_FROM_LE (header[0]));
          if (have < size)
            break;
          if (GUINT32_FROM_LE (header[0]) == 0)
            n_lent++;
          else if (buf[MPEL_FRAME_HEADER_SIZE] == MPEL_FRAME_RETURN)
            answered = TRUE;
          memmove (buf, buf + size, have - size);
          have -= size;
        }
    }

  _mpel_connection_close (conn);
  g_assert_true (g_subprocess_wait (worker, NULL, NULL));
  return n_lent;
}

static void
test_hello_features (void)
{
  const char *all[] = { "fd-passing", "bulk", "last-words", "from-the-future", NULL };
  const char *no_last_words[] = { "fd-passing", "bulk", NULL };

  g_assert_cmpuint (count_lent_buffers (all), ==, 1);
  g_assert_cmpuint (count_lent_buffers (no_last_words), ==, 0);
  g_assert_cmpuint (count_lent_buffers (NULL), ==, 0);
}

/* mpel-worker --stdio leaves the descriptions of its stdin and stdout as
 * it found them: O_NONBLOCK on them would be the shell's, ssh's or the
 * terminal's too. It talks over descriptions of its own instead. */
static void
test_stdio_blocking (void)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GSubprocess) worker = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { env ("MPEL_WORKER"), "--stdio", NULL };
  int to_worker[2], from_worker[2];
  int shared_in, shared_out;
  guint8 header[8];
  struct pollfd pfd;

  g_assert_no_errno (pipe2 (to_worker, O_CLOEXEC));
  g_assert_no_errno (pipe2 (from_worker, O_CLOEXEC));
  /* The same descriptions as the worker's stdin and stdout */
  shared_in = fcntl (to_worker[0], F_DUPFD_CLOEXEC, 3);
  shared_out = fcntl (from_worker[1], F_DUPFD_CLOEXEC, 3);
  g_subprocess_launcher_take_stdin_fd (launcher, to_worker[0]);
  g_subprocess_launcher_take_stdout_fd (launcher, from_worker[1]);
  worker = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_clear_object (&launcher);

  /* Its HELLO: it has set its channel up. */
  pfd.fd = from_worker[0];
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, TEST_DEADLINE_USEC / 1000), ==, 1);
  g_assert_cmpint (read (from_worker[0], header, sizeof header), ==, sizeof header);
  g_assert_cmpint (fcntl (shared_in, F_GETFL) & O_NONBLOCK, ==, 0);
  g_assert_cmpint (fcntl (shared_out, F_GETFL) & O_NONBLOCK, ==, 0);

  /* End-of-file ends it normally. */
  close (to_worker[1]);
  close (shared_in);
  g_subprocess_wait (worker, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (worker));
  close (from_worker[0]);
  close (shared_out);
}

static gboolean
run (const char * const  *argv,
     GError             **error)
{
  g_autoptr(GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, error);

  return process != NULL && g_subprocess_wait_check (process, NULL, error);
}

static char *
free_loopback_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  if (socket == NULL || !g_socket_bind (socket, any_port, FALSE, NULL) ||
      (bound = g_socket_get_local_address (socket, NULL)) == NULL)
    return NULL;
  return g_strdup_printf ("%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
}

/* Reads sshd's log until its last holder closes it. sshd blocks in write()
 * once the pipe is full, and then neither accepts nor ends on SIGTERM. */
static gpointer
sshd_drain_log (gpointer data)
{
  g_autoptr(GInputStream) log = data;
  char buffer[4096];

  while (g_input_stream_read (log, buffer, sizeof buffer, NULL, NULL) > 0)
    ;
  return NULL;
}

static void
sshd_child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts our sshd, or says why not in sshd.skip_reason. */
static void
sshd_start (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *host_key = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_text = NULL;
  g_autofree char *authorized = NULL;
  g_autofree char *public_key = NULL;
  g_autofree char *pub_path = NULL;
  g_autoptr(GDataInputStream) log = NULL;
  g_autofree char *sshd_path = g_find_program_in_path ("sshd");
  g_autofree char *ssh_path = g_find_program_in_path ("ssh");

  if (sshd_path == NULL && g_file_test ("/usr/sbin/sshd", G_FILE_TEST_IS_EXECUTABLE))
    sshd_path = g_strdup ("/usr/sbin/sshd");
  if (sshd_path == NULL || ssh_path == NULL)
    {
      sshd.skip_reason = g_strdup ("openssh-server or openssh-client is not installed");
      return;
    }
  if (getuid () != 0 && !g_file_test ("/run/sshd", G_FILE_TEST_IS_DIR))
    {
      sshd.skip_reason = g_strdup ("sshd needs /run/sshd, which only root may make");
      return;
    }
  g_mkdir_with_parents ("/run/sshd", 0755);

  sshd.dir = g_dir_make_tmp ("mpel-sshd-XXXXXX", &error);
  g_assert_no_error (error);
  host_key = g_build_filename (sshd.dir, "host_key", NULL);
  sshd.key = g_build_filename (sshd.dir, "user_key", NULL);
  pub_path = g_strconcat (sshd.key, ".pub", NULL);
  authorized = g_build_filename (sshd.dir, "authorized_keys", NULL);
  config = g_build_filename (sshd.dir, "sshd_config", NULL);
  sshd.port = free_loopback_port ();

  {
    const char *host_argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key, NULL };
    const char *user_argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sshd.key, NULL };

    if (sshd.port == NULL || !run (host_argv, &error) || !run (user_argv, &error) ||
        !g_file_get_contents (pub_path, &public_key, NULL, &error) ||
        !g_file_set_contents (authorized, public_key, -1, &error))
      {
        sshd.skip_reason = g_strdup_printf ("cannot set up sshd: %s", error ? error->message : "no port");
        return;
      }
  }

  config_text = g_strdup_printf ("Port %s\n"
                                 "ListenAddress 127.0.0.1\n"
                                 "HostKey %s\n"
                                 "AuthorizedKeysFile %s\n"
                                 "PidFile none\n"
                                 "UsePAM no\n"
                                 "StrictModes no\n"
                                 "PermitRootLogin prohibit-password\n"
                                 "PasswordAuthentication no\n"
                                 "KbdInteractiveAuthentication no\n"
                                 "AllowTcpForwarding no\n"
                                 "X11Forwarding no\n"
                                 "PrintMotd no\n",
                                 sshd.port, host_key, authorized);
  g_assert_true (g_file_set_contents (config, config_text, -1, NULL));

  {
    const char *argv[] = { sshd_path, "-D", "-e", "-f", config, NULL };
    g_autofree char *line = NULL;

    g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);

    /* Our sshd does not outlive a test that aborts. */
    g_subprocess_launcher_set_child_setup (launcher, sshd_child_setup, NULL, NULL);
    sshd.sshd = g_subprocess_launcher_spawnv (launcher, argv, &error);
    if (sshd.sshd == NULL)
      {
        sshd.skip_reason = g_strdup_printf ("cannot start sshd: %s", error->message);
        return;
      }
    /* It says when it listens (-e: its log on stderr); it ends at once
     * when it cannot. */
    log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (sshd.sshd));
    while ((line = g_data_input_stream_read_line (log, NULL, NULL, NULL)) != NULL &&
           strstr (line, "Server listening") == NULL)
      {
        g_test_message ("sshd: %s", line);
        g_free (line);
      }
    if (line == NULL)
      {
        sshd.skip_reason = g_strdup ("sshd did not start (see its log above)");
        g_subprocess_force_exit (sshd.sshd);
        g_clear_object (&sshd.sshd);
        return;
      }
    /* Not joined: the sessions sshd forked hold the pipe too. */
    g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (log), FALSE);
    g_thread_unref (g_thread_new ("sshd-log", sshd_drain_log,
                                  g_object_ref (g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (log)))));
  }
}

static void
sshd_stop (void)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (sshd.sshd != NULL)
    {
      g_subprocess_send_signal (sshd.sshd, SIGTERM);
      g_subprocess_wait (sshd.sshd, NULL, NULL);
      g_clear_object (&sshd.sshd);
    }
  if (sshd.dir != NULL && (dir = g_dir_open (sshd.dir, 0, NULL)) != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (sshd.dir, name, NULL);

          g_unlink (path);
        }
      g_rmdir (sshd.dir);
    }
  g_clear_pointer (&sshd.dir, g_free);
  g_clear_pointer (&sshd.key, g_free);
  g_clear_pointer (&sshd.port, g_free);
  g_clear_pointer (&sshd.skip_reason, g_free);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  sshd_start ();

  add_mode_tests ("stdio", MODE_STDIO);
  add_mode_tests ("flatpak", MODE_FLATPAK);
  add_mode_tests ("sandbox", MODE_SANDBOX);
  add_mode_tests ("ssh", MODE_SSH);
  g_test_add_func ("/Mpel/Transport/hello/features", test_hello_features);
  g_test_add_func ("/Mpel/Transport/stdio/blocking", test_stdio_blocking);
  g_test_add_func ("/Mpel/Transport/flatpak/pid", test_flatpak_pid);
  g_test_add_func ("/Mpel/Transport/ssh/dropped", test_ssh_dropped);
  g_test_add_func ("/Mpel/Transport/sandbox/escapes", test_sandbox_escapes);
  g_test_add_func ("/Mpel/Transport/sandbox/without-bwrap", test_sandbox_without_bwrap);
  g_test_add_func ("/Mpel/Transport/sandbox/cpu-limit", test_sandbox_cpu_limit);
  g_test_add_func ("/Mpel/Transport/spawn-backoff/missing-program", test_spawn_backoff);
  g_test_add_func ("/Mpel/Transport/spawn-backoff/startup-failure", test_startup_failure_backoff);

  status = g_test_run ();
  sshd_stop ();

  return status;
}
