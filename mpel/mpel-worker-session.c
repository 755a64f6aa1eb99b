/* mpel-worker-session.c: what a worker takes from the process it runs in
 * to serve the app: the channel its environment names (MPEL_FD, or stdin
 * and stdout with MPEL_STDIO=1), and a thread that watches the app's
 * process so that the worker never outlives it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#ifdef __linux__
# include <sys/syscall.h>
#endif

#include <glib/gi18n-lib.h>
#include <glib-unix.h>

#include "mpel-types.h"
#include "mpel-worker-session-private.h"

/* Watches the app from a thread of its own: see _mpel_parent_watch_start(). */
struct _MpelParentWatch
{
  GThread *thread;
  pid_t    parent;
  pid_t    original_ppid;
  int      pidfd;      /* -1: polled instead */
  int      stop[2];    /* a pipe: run() is over */
};

/* Over stdin and stdout (`MPEL_STDIO=1`: ssh, flatpak-spawn): they become
 * the channel, so fd 1 is pointed at stderr — what the worker and its
 * handlers print must not end up in the app's frames — and fd 0 at
 * /dev/null. */
static gboolean
get_stdio (int     *out_in_fd,
           int     *out_out_fd,
           GError **error)
{
  int in_fd, out_fd, null_fd;

  fflush (stdout);
  in_fd = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  out_fd = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in_fd < 0 || out_fd < 0 || null_fd < 0 ||
      dup2 (STDERR_FILENO, STDOUT_FILENO) < 0 || dup2 (null_fd, STDIN_FILENO) < 0)
    {
      int errsv = errno;

      if (in_fd >= 0)
        close (in_fd);
      if (out_fd >= 0)
        close (out_fd);
      if (null_fd >= 0)
        close (null_fd);
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_FAILED,
                   _("Could not take stdin and stdout as the channel to the app: %s"),
                   g_strerror (errsv));
      return FALSE;
    }
  close (null_fd);

  *out_in_fd = in_fd;
  *out_out_fd = out_fd;
  return TRUE;
}

/* Sets *out_fd (a socket), or *out_fd and *out_stdout_fd (a byte stream). */
gboolean
_mpel_worker_take_channel (int     *out_fd,
                           int     *out_stdout_fd,
                           GError **error)
{
  const char *str = g_getenv ("MPEL_FD");
  guint64 value = 0;

  *out_stdout_fd = -1;
  if (str == NULL && g_strcmp0 (g_getenv ("MPEL_STDIO"), "1") == 0)
    {
      g_unsetenv ("MPEL_STDIO");
      return get_stdio (out_fd, out_stdout_fd, error);
    }

  if (str == NULL)
    {
      g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_FAILED,
                           _("MPEL_FD is not set: a worker must be started by an MpelLoop, or with MPEL_STDIO=1 (mpel-worker --stdio)"));
      return FALSE;
    }

  if (!g_ascii_string_to_unsigned (str, 10, 0, G_MAXINT, &value, NULL) ||
      fcntl ((int) value, F_GETFD) < 0)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_FAILED,
                   _("MPEL_FD=%s does not name an open descriptor"), str);
      return FALSE;
    }

  *out_fd = (int) value;
  return TRUE;
}

/* The worker must not outlive the app, even when the app dies without its
 * socket reaching EOF here (a handler keeps the main loop busy, or another
 * process holds the app's end).
 *
 * PR_SET_PDEATHSIG would do, but it follows the *thread* that forked us: an
 * app that starts its loop from a thread that later exits would see its
 * workers killed under it. So a thread of the worker watches the app
 * process itself — through a pidfd where the kernel has them, else by
 * looking every PARENT_POLL_MSEC whether we were reparented or the app is
 * gone — and once the app is gone gives run() PARENT_GRACE_MSEC to end by
 * the socket's EOF before it kills the process. */
#define PARENT_POLL_MSEC  200
#define PARENT_GRACE_MSEC 500

static gboolean
parent_is_gone (MpelParentWatch *watch)
{
  if (watch->pidfd >= 0)
    {
      struct pollfd pfd = { .fd = watch->pidfd, .events = POLLIN };

      return poll (&pfd, 1, 0) > 0;
    }

  return getppid () != watch->original_ppid ||
         (kill (watch->parent, 0) < 0 && errno == ESRCH);
}

/* Waits up to @timeout_msec (-1: for ever) for run() to end or the app to
 * go. Returns TRUE when run() has ended. */
static gboolean
parent_watch_wait (MpelParentWatch *watch,
                   int          timeout_msec,
                   gboolean     watch_pidfd)
{
  struct pollfd fds[2] = {
    { .fd = watch->stop[0], .events = POLLIN },
    { .fd = watch->pidfd, .events = POLLIN },
  };
  int n;

  do
    n = poll (fds, watch_pidfd && watch->pidfd >= 0 ? 2 : 1, timeout_msec);
  while (n < 0 && errno == EINTR);

  return n > 0 && fds[0].revents != 0;
}

static gpointer
parent_watch_thread (gpointer data)
{
  MpelParentWatch *watch = data;

  for (;;)
    {
      if (parent_watch_wait (watch, watch->pidfd >= 0 ? -1 : PARENT_POLL_MSEC, TRUE))
        return NULL;
      if (parent_is_gone (watch))
        break;
    }

  if (parent_watch_wait (watch, PARENT_GRACE_MSEC, FALSE))
    return NULL;

  kill (getpid (), SIGKILL);
  return NULL;
}

void
_mpel_parent_watch_stop (MpelParentWatch *watch)
{
  if (watch == NULL)
    return;

  if (watch->thread != NULL)
    {
      /* One byte wakes the thread up; it reads nothing. */
      while (write (watch->stop[1], "", 1) < 0 && errno == EINTR)
        ;
      g_thread_join (watch->thread);
    }
  close (watch->stop[0]);
  close (watch->stop[1]);
  if (watch->pidfd >= 0)
    close (watch->pidfd);
  g_free (watch);
}

static int
open_pidfd (pid_t pid)
{
#if defined(__linux__) && defined(SYS_pidfd_open)
  return syscall (SYS_pidfd_open, pid, 0);
#else
  errno = ENOSYS;
  return -1;
#endif
}

gboolean
_mpel_parent_watch_start (MpelParentWatch **out_watch,
                          GError           **error)
{
  const char *str = g_getenv ("MPEL_PARENT_PID");
  g_autoptr(GError) thread_error = NULL;
  MpelParentWatch *watch;
  guint64 parent = 0;
  int pidfd_errno;

  /* A wrapper program between the app and the worker (strace, nice…) is
   * our parent instead of the app, so watch the app itself when it says
   * who it is, and our parent otherwise. */
  if (str == NULL || !g_ascii_string_to_unsigned (str, 10, 2, G_MAXINT, &parent, NULL))
    parent = getppid ();
  if (parent <= 1)
    return TRUE;

  watch = g_new0 (MpelParentWatch, 1);
  watch->parent = (pid_t) parent;
  watch->original_ppid = getppid ();
  watch->pidfd = open_pidfd (watch->parent);
  pidfd_errno = errno;

  /* The app may have died before we looked. Once we hold a pidfd, the pid
   * cannot be reused under us: the pidfd of a process that has ended polls
   * readable. */
  if (watch->pidfd >= 0 ? parent_is_gone (watch)
                        : (pidfd_errno == ESRCH ||
                           (watch->original_ppid != watch->parent &&
                            kill (watch->parent, 0) < 0 && errno == ESRCH)))
    {
      g_autofree char *pid = g_strdup_printf ("%d", (int) watch->parent);

      if (watch->pidfd >= 0)
        close (watch->pidfd);
      g_free (watch);
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_CLOSED,
                   _("The app (pid %s) died before the worker started"), pid);
      return FALSE;
    }

  if (!g_unix_open_pipe (watch->stop, FD_CLOEXEC, NULL))
    {
      /* Without a watch, the socket's EOF still ends the worker. */
      if (watch->pidfd >= 0)
        close (watch->pidfd);
      g_free (watch);
      return TRUE;
    }

  watch->thread = g_thread_try_new ("mpel-app-watch", parent_watch_thread, watch, &thread_error);
  if (watch->thread == NULL)
    g_printerr ("mpel-worker[%d]: cannot watch the app: %s\n", (int) getpid (), thread_error->message);

  *out_watch = watch;
  return TRUE;
}
