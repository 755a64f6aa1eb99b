/* bench-raw-loop.h: the "raw" contender's add (a, b) loop — a bare
 * socketpair and a forked child exchanging protocol v1 frames with blocking
 * read/write and no objects beyond the GVariants. The child decodes each
 * frame with g_variant_new_from_bytes (type, bytes, FALSE) and answers
 * add (a, b) with a RETURN envelope whose body is the int32 sum, and
 * mpel.echo with its args. Used by bench-raw.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench-frames.h"

#define RAW_WINDOW 1000

/* ---- the child ------------------------------------------------------- */

static G_GNUC_NORETURN void
raw_child_main (int fd)
{
  BenchIn in;
  BenchOut out = { 0 };

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  bench_in_init (&in, fd);

  for (;;)
    {
      const guint8 *payload;
      gsize len;
      gboolean block = (out.len == 0);

      payload = bench_in_next (&in, block, &len);
      if (payload == NULL)
        {
          if (!block)
            {
              /* Everything buffered is answered: one write for all. */
              bench_out_flush (&out, fd);
              continue;
            }
          _exit (0);  /* EOF */
        }

      {
        g_autoptr(GVariant) envelope = bench_decode (payload, len);
        g_autoptr(GVariant) name = g_variant_get_child_value (envelope, 3);
        g_autoptr(GVariant) args = bench_envelope_body (envelope);
        guint8 kind = bench_envelope_kind (envelope);
        guint64 id = bench_envelope_id (envelope);
        const char *target = g_variant_get_string (name, NULL);

        if (kind == BENCH_FRAME_STOP)
          _exit (0);
        if (kind != BENCH_FRAME_CALL)
          bench_die ("child: unexpected frame kind %u", kind);

        if (strcmp (target, "add") == 0 && g_variant_is_of_type (args, G_VARIANT_TYPE ("(ii)")))
          {
            g_autoptr(GVariant) a = g_variant_get_child_value (args, 0);
            g_autoptr(GVariant) b = g_variant_get_child_value (args, 1);

            bench_out_frame (&out, BENCH_FRAME_RETURN, 0, id, "",
                             g_variant_new_int32 (g_variant_get_int32 (a) + g_variant_get_int32 (b)));
          }
        else if (strcmp (target, "mpel.echo") == 0)
          {
            bench_out_frame (&out, BENCH_FRAME_RETURN, 0, id, "", g_variant_ref (args));
          }
        else
          bench_die ("child: unknown target %s", target);
      }
      bench_in_consume (&in);
    }
}

/* ---- the parent ------------------------------------------------------ */

typedef struct
{
  int fd;
  BenchIn in;
  BenchOut out;
  guint64 next_id;
} Raw;

static void
raw_send_add (Raw     *raw,
          gint32   a,
          gint32   b)
{
  bench_out_frame (&raw->out, BENCH_FRAME_CALL, 0, ++raw->next_id, "add", bench_args_ii (a, b));
}

/* Takes one whole reply frame from the buffer (blocking if @block) and checks
 * that it is the RETURN of @id with the int32 @expected. FALSE if none. */
static gboolean
raw_take_add_reply (Raw     *raw,
                gboolean block,
                guint64  id,
                gint32   expected)
{
  const guint8 *payload;
  gsize len;

  payload = bench_in_next (&raw->in, block, &len);
  if (payload == NULL)
    {
      if (block)
        bench_die ("raw: the child hung up");
      return FALSE;
    }

  {
    g_autoptr(GVariant) envelope = bench_decode (payload, len);
    g_autoptr(GVariant) body = bench_envelope_body (envelope);

    if (bench_envelope_kind (envelope) != BENCH_FRAME_RETURN ||
        bench_envelope_id (envelope) != id ||
        !g_variant_is_of_type (body, G_VARIANT_TYPE_INT32) ||
        g_variant_get_int32 (body) != expected)
      bench_die ("raw: wrong reply to call %" G_GUINT64_FORMAT, id);
  }
  bench_in_consume (&raw->in);
  return TRUE;
}

static double
raw_roundtrip_once_ns (Raw    *raw,
                   gint32  i)
{
  gint64 t0 = bench_now_ns ();

  raw_send_add (raw, i, 1);
  bench_out_flush (&raw->out, raw->fd);
  raw_take_add_reply (raw, TRUE, raw->next_id, i + 1);
  return (double) (bench_now_ns () - t0);
}

/* @n calls with at most RAW_WINDOW unanswered: every batch of frames queued goes
 * out in one write(), every read() decodes all the whole frames it brought. */
static double
raw_pipelined_calls_per_s (Raw   *raw,
                       guint  n)
{
  guint64 first = raw->next_id + 1;
  guint sent = 0, received = 0;
  gint64 t0 = bench_now_ns ();

  while (received < n)
    {
      while (sent < n && sent - received < RAW_WINDOW)
        {
          raw_send_add (raw, (gint32) sent, 1);
          sent++;
        }
      bench_out_flush (&raw->out, raw->fd);

      /* At least one reply, then every whole one already read. */
      raw_take_add_reply (raw, TRUE, first + received, (gint32) received + 1);
      received++;
      while (received < n && raw_take_add_reply (raw, FALSE, first + received, (gint32) received + 1))
        received++;
    }
  return n / ((bench_now_ns () - t0) / 1e9);
}

/* Forks the child: call before anything starts a thread. */
static void
raw_spawn (Raw   *raw,
           pid_t *pid)
{
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    bench_die ("socketpair: %s", g_strerror (errno));
  fflush (NULL);
  *pid = fork ();
  if (*pid < 0)
    bench_die ("fork: %s", g_strerror (errno));
  if (*pid == 0)
    {
      close (sv[0]);
      raw_child_main (sv[1]);
    }
  close (sv[1]);
  memset (raw, 0, sizeof *raw);
  raw->fd = sv[0];
  bench_in_init (&raw->in, raw->fd);
}

/* Sends STOP, closes, and checks that the child exited cleanly. */
static void
raw_stop (Raw   *raw,
          pid_t  pid)
{
  int status;

  bench_out_frame (&raw->out, BENCH_FRAME_STOP, 0, 0, "", g_variant_new_tuple (NULL, 0));
  bench_out_flush (&raw->out, raw->fd);
  close (raw->fd);
  raw->fd = -1;
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    bench_die ("raw: the child did not exit cleanly (status %d)", status);
  g_free (raw->in.buf);
  g_free (raw->out.data);
}
