/* bench-raw.c: the practical limit. A bare socketpair and a forked child
 * exchanging protocol v1 frames (DESIGN §2) with blocking read/write and no
 * objects beyond the GVariants. The child decodes each frame with
 * g_variant_new_from_bytes (type, bytes, FALSE) and answers add (a, b) with
 * a RETURN envelope whose body is the int32 sum, mpel.echo with its args.
 *
 * Prints one JSON object on stdout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench-frames.h"

#define WINDOW 1000

/* ---- the child ------------------------------------------------------- */

static G_GNUC_NORETURN void
child_main (int fd)
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
send_add (Raw     *raw,
          gint32   a,
          gint32   b)
{
  GVariant *args[2] = { g_variant_new_int32 (a), g_variant_new_int32 (b) };

  bench_out_frame (&raw->out, BENCH_FRAME_CALL, 0, ++raw->next_id, "add",
                   g_variant_new_tuple (args, 2));
}

/* Takes one whole reply frame from the buffer (blocking if @block) and checks
 * that it is the RETURN of @id with the int32 @expected. FALSE if none. */
static gboolean
take_add_reply (Raw     *raw,
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
roundtrip_once_ns (Raw    *raw,
                   gint32  i)
{
  gint64 t0 = bench_now_ns ();

  send_add (raw, i, 1);
  bench_out_flush (&raw->out, raw->fd);
  take_add_reply (raw, TRUE, raw->next_id, i + 1);
  return (double) (bench_now_ns () - t0);
}

/* @n calls with at most WINDOW unanswered: every batch of frames queued goes
 * out in one write(), every read() decodes all the whole frames it brought. */
static double
pipelined_calls_per_s (Raw   *raw,
                       guint  n)
{
  guint64 first = raw->next_id + 1;
  guint sent = 0, received = 0;
  gint64 t0 = bench_now_ns ();

  while (received < n)
    {
      while (sent < n && sent - received < WINDOW)
        {
          send_add (raw, (gint32) sent, 1);
          sent++;
        }
      bench_out_flush (&raw->out, raw->fd);

      /* At least one reply, then every whole one already read. */
      take_add_reply (raw, TRUE, first + received, (gint32) received + 1);
      received++;
      while (received < n && take_add_reply (raw, FALSE, first + received, (gint32) received + 1))
        received++;
    }
  return n / ((bench_now_ns () - t0) / 1e9);
}

static double
echo_once_ns (Raw      *raw,
              GVariant *args,
              gsize     size)
{
  gint64 t0 = bench_now_ns ();
  const guint8 *payload;
  gsize len;

  bench_out_frame (&raw->out, BENCH_FRAME_CALL, 0, ++raw->next_id, "mpel.echo", g_variant_ref (args));
  bench_out_flush (&raw->out, raw->fd);
  payload = bench_in_next (&raw->in, TRUE, &len);
  if (payload == NULL)
    bench_die ("raw: the child hung up");
  {
    g_autoptr(GVariant) envelope = bench_decode (payload, len);
    g_autoptr(GVariant) body = bench_envelope_body (envelope);
    g_autoptr(GVariant) ay = NULL;
    const guint8 *data;
    gsize n;

    if (!g_variant_is_of_type (body, G_VARIANT_TYPE ("(ay)")))
      bench_die ("raw: echo returned %s", g_variant_get_type_string (body));
    ay = g_variant_get_child_value (body, 0);
    data = g_variant_get_fixed_array (ay, &n, 1);
    if (n != size || data[n - 1] != (guint8) ((n - 1) * 31 + 7))
      bench_die ("raw: echo returned %zu bytes, not %zu", n, size);
  }
  bench_in_consume (&raw->in);
  return (double) (bench_now_ns () - t0);
}

int
main (int   argc,
      char *argv[])
{
  int sv[2];
  pid_t pid;
  Raw raw = { 0 };
  BenchJson json;
  guint n_rt = bench_count (20000), n_pipe = bench_count (200000);
  gint64 *samples;
  double pipe[3];
  int status;

  /* The deadline of the whole program (an hour under callgrind). */
  alarm (argc == 3 ? 3600 : 600);

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    bench_die ("socketpair: %s", g_strerror (errno));
  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    bench_die ("fork: %s", g_strerror (errno));
  if (pid == 0)
    {
      close (sv[0]);
      child_main (sv[1]);
    }
  close (sv[1]);
  raw.fd = sv[0];
  bench_in_init (&raw.in, raw.fd);

  /* For callgrind.sh: N pipelined add (i, 1), nothing else. */
  if (argc == 3 && strcmp (argv[1], "--pipelined-only") == 0)
    {
      guint n = (guint) g_ascii_strtoull (argv[2], NULL, 10);
      double rate = pipelined_calls_per_s (&raw, n);

      bench_out_frame (&raw.out, BENCH_FRAME_STOP, 0, 0, "", g_variant_new_tuple (NULL, 0));
      bench_out_flush (&raw.out, raw.fd);
      close (raw.fd);
      if (waitpid (pid, &status, 0) != pid)
        bench_die ("raw: waitpid: %s", g_strerror (errno));
      bench_json_init (&json);
      bench_json_num (&json, "pipelined_n", n);
      bench_json_num (&json, "pipelined_per_s", rate);
      bench_json_print (&json);
      return 0;
    }

  bench_json_init (&json);
  bench_json_str (&json, "contender", "raw");
  {
    g_autofree char *glib = g_strdup_printf ("%u.%u.%u", glib_major_version, glib_minor_version,
                                             glib_micro_version);

    bench_json_str (&json, "glib", glib);
  }

  /* One call at a time. */
  for (guint i = 0; i < 2000; i++)
    roundtrip_once_ns (&raw, (gint32) i);
  samples = g_new (gint64, n_rt);
  for (guint i = 0; i < n_rt; i++)
    samples[i] = (gint64) roundtrip_once_ns (&raw, (gint32) i);
  bench_json_num (&json, "roundtrip_us", bench_percentile_ns (samples, n_rt, 0.5) / 1e3);
  bench_json_num (&json, "roundtrip_p99_us", bench_percentile_ns (samples, n_rt, 0.99) / 1e3);
  g_free (samples);

  /* Pipelined: median of three runs. */
  pipelined_calls_per_s (&raw, n_pipe / 10);  /* warm-up */
  for (guint r = 0; r < 3; r++)
    pipe[r] = pipelined_calls_per_s (&raw, n_pipe);
  {
    gint64 p[3] = { pipe[0], pipe[1], pipe[2] };

    bench_json_num (&json, "pipelined_per_s", bench_percentile_ns (p, 3, 0.5));
  }
  bench_json_num (&json, "pipelined_n", n_pipe);
  bench_json_num (&json, "window", WINDOW);

  /* Large payloads: mpel.echo of (ay). */
  for (guint p = 0; p < G_N_ELEMENTS (bench_payloads); p++)
    {
      g_autoptr(GBytes) bytes = bench_payload_bytes (bench_payloads[p].size);
      GVariant *ay = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
      g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new_tuple (&ay, 1));
      guint n = MAX (3, bench_count (bench_payloads[p].iterations));
      g_autofree gint64 *s = g_new (gint64, n);
      g_autofree char *key = g_strdup_printf ("payload_%s_ms", bench_payloads[p].name);

      echo_once_ns (&raw, args, bench_payloads[p].size);  /* warm-up */
      for (guint i = 0; i < n; i++)
        s[i] = (gint64) echo_once_ns (&raw, args, bench_payloads[p].size);
      bench_json_num (&json, key, bench_percentile_ns (s, n, 0.5) / 1e6);
    }

  bench_json_num (&json, "memcpy_2x64MiB_ms", bench_two_memcpy_ms (64 * 1024 * 1024));

  /* Stop the child and check it exited cleanly. */
  bench_out_frame (&raw.out, BENCH_FRAME_STOP, 0, 0, "", g_variant_new_tuple (NULL, 0));
  bench_out_flush (&raw.out, raw.fd);
  close (raw.fd);
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    bench_die ("raw: the child did not exit cleanly (status %d)", status);

  bench_json_print (&json);
  return 0;
}
