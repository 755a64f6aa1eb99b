/* test-transport-module.c: handlers for the transport and sandbox tests,
 * which try what a confined worker must not do
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>
#include <mpel.h>

void mpel_module_init (MpelWorker *worker);

/* getpid: the worker's pid as it sees it, (i) */
static void
get_pid (MpelInvocation *invocation,
         gpointer        user_data)
{
  mpel_invocation_return_value (invocation, g_variant_new_int32 (getpid ()));
}

/* print (s): writes to stdout, which over stdio must not reach the app's
 * channel */
static void
print (MpelInvocation *invocation,
       gpointer        user_data)
{
  const char *text;

  g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &text);
  printf ("%s\n", text);
  fflush (stdout);
  mpel_invocation_return_value (invocation, g_variant_new_string (text));
}

/* read_file (s): the size of the file, (t) */
static void
read_file (MpelInvocation *invocation,
           gpointer        user_data)
{
  g_autofree char *contents = NULL;
  GError *error = NULL;
  const char *path;
  gsize len;

  g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &path);
  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }
  mpel_invocation_return_value (invocation, g_variant_new_uint64 (len));
}

/* list_dir (s): how many entries the directory has, (u) */
static void
list_dir (MpelInvocation *invocation,
          gpointer        user_data)
{
  g_autoptr(GDir) dir = NULL;
  GError *error = NULL;
  const char *path;
  guint n = 0;

  g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &path);
  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }
  while (g_dir_read_name (dir) != NULL)
    n++;
  mpel_invocation_return_value (invocation, g_variant_new_uint32 (n));
}

/* write_file (s): writes a few bytes there */
static void
write_file (MpelInvocation *invocation,
            gpointer        user_data)
{
  GError *error = NULL;
  const char *path;

  g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &path);
  if (!g_file_set_contents (path, "mpel", -1, &error))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }
  mpel_invocation_return_value (invocation, NULL);
}

/* connect_tcp (u): opens a TCP connection to 127.0.0.1:port */
static void
connect_tcp (MpelInvocation *invocation,
             gpointer        user_data)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  guint32 port;
  int fd, errsv;

  g_variant_get (mpel_invocation_get_args (invocation), "(u)", &port);
  addr.sin_port = htons ((guint16) port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
    {
      close (fd);
      mpel_invocation_return_value (invocation, NULL);
      return;
    }
  errsv = errno;
  if (fd >= 0)
    close (fd);
  mpel_invocation_return_error (invocation, G_IO_ERROR, g_io_error_from_errno (errsv),
                                "connect: %s", g_strerror (errsv));
}

/* userfaultfd: a system call a sandboxed worker has no use for, allowed to
 * root otherwise */
static void
call_userfaultfd (MpelInvocation *invocation,
                  gpointer        user_data)
{
  long fd = syscall (SYS_userfaultfd, 0);
  int errsv = errno;

  if (fd >= 0)
    {
      close ((int) fd);
      mpel_invocation_return_value (invocation, NULL);
      return;
    }
  mpel_invocation_return_error (invocation, G_IO_ERROR, g_io_error_from_errno (errsv),
                                "userfaultfd: %s", g_strerror (errsv));
}

void
mpel_module_init (MpelWorker *worker)
{
  mpel_worker_add_handler (worker, "userfaultfd", call_userfaultfd, NULL, NULL);
  mpel_worker_add_handler (worker, "getpid", get_pid, NULL, NULL);
  mpel_worker_add_handler (worker, "print", print, NULL, NULL);
  mpel_worker_add_handler (worker, "read_file", read_file, NULL, NULL);
  mpel_worker_add_handler (worker, "list_dir", list_dir, NULL, NULL);
  mpel_worker_add_handler (worker, "write_file", write_file, NULL, NULL);
  mpel_worker_add_handler (worker, "connect_tcp", connect_tcp, NULL, NULL);
}
