/* mpel-test-util.h: helpers shared by the C tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>
#include <sys/socket.h>

#include <mpel.h>

G_BEGIN_DECLS

/* Iterates the default context until *flag is set; the deadline fails the
 * test instead of hanging it. */
#define TEST_DEADLINE_USEC (30 * G_USEC_PER_SEC)

static inline gboolean
test_deadline_cb (gpointer data)
{
  gboolean *expired = data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

#define test_iterate_until(cond)                                               \
  G_STMT_START {                                                               \
    gboolean expired_ = FALSE;                                                 \
    guint deadline_id_ = g_timeout_add (TEST_DEADLINE_USEC / 1000,             \
                                        test_deadline_cb, &expired_);          \
    while (!(cond) && !expired_)                                               \
      g_main_context_iteration (NULL, TRUE);                                   \
    if (expired_)                                                              \
      g_error ("Timed out waiting for %s", #cond);                             \
    g_source_remove (deadline_id_);                                            \
  } G_STMT_END

/* MPEL_TEST_TRANSPORT=stdio runs the tests again over a byte stream: every
 * loop test_loop_new() makes reaches its workers through their stdin and
 * stdout (the default host with --stdio), as over ssh or flatpak-spawn.
 * test-loop, test-worker, test-reliability and test-proxy all pass that
 * way: the answers a worker gave before it died reach the app over a
 * stream too (the worker writes them before its next handler runs), and
 * none of them asserts how a payload travelled. */
static inline gboolean
test_over_stdio (void)
{
  return g_strcmp0 (g_getenv ("MPEL_TEST_TRANSPORT"), "stdio") == 0;
}

/* MPEL_TEST_TRANSPORT=ssh (set by tests/run-over-ssh.py, which starts a
 * private sshd on 127.0.0.1) runs them through `ssh … mpel-worker --stdio
 * --module …`: MPEL_TEST_SSH_COMMAND is the ssh command, its words
 * separated by U+001F. The module is in that command line, so a test that
 * sets other modules later does not get them over ssh. */
static inline gboolean
test_over_ssh (void)
{
  return g_strcmp0 (g_getenv ("MPEL_TEST_TRANSPORT"), "ssh") == 0;
}

static inline MpelLoop *
test_loop_new_over_ssh (const char *module)
{
  const char *command = g_getenv ("MPEL_TEST_SSH_COMMAND");
  const char *worker = g_getenv ("MPEL_WORKER");
  g_auto(GStrv) words = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *remote = NULL;
  MpelLoop *loop;

  g_assert_nonnull (command);
  g_assert_nonnull (worker);
  words = g_strsplit (command, "\x1f", -1);
  remote = g_strdup_printf ("exec %s --stdio --module %s", worker, module);
  for (guint i = 0; words[i] != NULL; i++)
    g_ptr_array_add (argv, words[i]);
  g_ptr_array_add (argv, remote);
  g_ptr_array_add (argv, NULL);

  loop = mpel_loop_new_for_stream_argv ((const char * const *) argv->pdata);
  /* An ssh login on a loaded 2-CPU machine can take longer than 5 s */
  mpel_loop_set_handshake_timeout (loop, 60000);
  return loop;
}

static inline MpelLoop *
test_loop_new (void)
{
  MpelLoop *loop;
  const char *module = g_getenv ("MPEL_TEST_MODULE");
  const char *modules[] = { module, NULL };

  g_assert_nonnull (module);
  if (test_over_ssh ())
    return test_loop_new_over_ssh (module);

  loop = mpel_loop_new ();
  mpel_loop_set_modules (loop, modules);
  if (test_over_stdio ())
    mpel_loop_set_transport (loop, MPEL_TRANSPORT_STDIO);

  return loop;
}

static inline void
test_wait (MpelLoop *loop)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mpel_loop_wait (loop, NULL, &error));
  g_assert_no_error (error);
}

/* An output handler that counts the events it sees. */
static inline gboolean
test_count_output (MpelLoop  *loop,
                   MpelEvent *event,
                   guint     *count)
{
  (*count)++;
  return FALSE;
}

/* An async callback that keeps the result for the test to finish. */
static inline void
test_store_result (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* mpel_loop_call_async() and its result, with the test's deadline. */
static inline GVariant *
test_call_sync (MpelLoop    *loop,
                const char  *target,
                GVariant    *args,
                GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  mpel_loop_call_async (loop, target, args, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  return mpel_loop_call_finish (loop, result, error);
}

/* How many objects the worker holds for the app (mpel.objects.count) */
static inline guint
test_count_objects (MpelLoop *loop)
{
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  value = test_call_sync (loop, "mpel.objects.count", NULL, &error);
  g_assert_no_error (error);
  return g_variant_get_uint32 (value);
}

/* A loop whose workers load the test module and the lists module */
static inline MpelLoop *
test_lists_loop_new (void)
{
  MpelLoop *loop = mpel_loop_new ();
  const char *modules[] = { g_getenv ("MPEL_TEST_MODULE"), g_getenv ("MPEL_TEST_LISTS_MODULE"), NULL };

  g_assert_nonnull (modules[0]);
  g_assert_nonnull (modules[1]);
  mpel_loop_set_modules (loop, modules);

  return loop;
}

/* Writes @len bytes with @fd attached (SCM_RIGHTS), as a peer would. */
static inline gssize
test_send_with_fd (int         sock,
                   const void *data,
                   gsize       len,
                   int         fd)
{
  struct msghdr msg = { 0 };
  struct iovec iov = { (void *) data, len };
  union { struct cmsghdr align; char buf[CMSG_SPACE (sizeof (int))]; } control;
  struct cmsghdr *cmsg;

  memset (&control, 0, sizeof control);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));

  return sendmsg (sock, &msg, 0);
}

G_END_DECLS
