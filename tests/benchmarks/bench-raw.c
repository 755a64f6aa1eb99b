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

#include "bench-raw-loop.h"

static double
echo_once_ns (Raw      *raw,
              GBytes   *data_template,
              gsize     size)
{
  GVariant *args = bench_payload_args (data_template);
  gint64 t0 = bench_now_ns ();
  const guint8 *payload;
  gsize len;

  bench_out_frame (&raw->out, BENCH_FRAME_CALL, 0, ++raw->next_id, "mpel.echo", args);
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
  pid_t pid;
  Raw raw;
  BenchJson json;
  guint n_rt = bench_count (20000), n_pipe = bench_count (200000);
  gint64 *samples;
  gint64 pipe[3];

  /* The deadline of the whole program (an hour under callgrind). */
  alarm (argc == 3 ? 3600 : 600);

  raw_spawn (&raw, &pid);

  /* For callgrind.sh: N pipelined add (i, 1), nothing else. */
  if (argc == 3 && strcmp (argv[1], "--pipelined-only") == 0)
    {
      guint n = (guint) g_ascii_strtoull (argv[2], NULL, 10);
      double rate = raw_pipelined_calls_per_s (&raw, n);

      raw_stop (&raw, pid);
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
    raw_roundtrip_once_ns (&raw, (gint32) i);
  samples = g_new (gint64, n_rt);
  for (guint i = 0; i < n_rt; i++)
    samples[i] = (gint64) raw_roundtrip_once_ns (&raw, (gint32) i);
  bench_json_num (&json, "roundtrip_us", bench_percentile_ns (samples, n_rt, 0.5) / 1e3);
  bench_json_num (&json, "roundtrip_p99_us", bench_percentile_ns (samples, n_rt, 0.99) / 1e3);
  g_free (samples);

  /* Pipelined: median of three runs. */
  raw_pipelined_calls_per_s (&raw, n_pipe / 10);  /* warm-up */
  for (guint r = 0; r < 3; r++)
    pipe[r] = (gint64) raw_pipelined_calls_per_s (&raw, n_pipe);
  bench_json_num (&json, "pipelined_per_s", bench_percentile_ns (pipe, 3, 0.5));
  bench_json_num (&json, "pipelined_n", n_pipe);
  bench_json_num (&json, "window", RAW_WINDOW);

  /* Large payloads: mpel.echo of (ay). */
  for (guint p = 0; p < G_N_ELEMENTS (bench_payloads); p++)
    {
      g_autoptr(GBytes) bytes = bench_payload_bytes (bench_payloads[p].size);
      guint n = MAX (3, bench_count (bench_payloads[p].iterations));
      g_autofree gint64 *s = g_new (gint64, n);
      g_autofree char *key = g_strdup_printf ("payload_%s_ms", bench_payloads[p].name);

      echo_once_ns (&raw, bytes, bench_payloads[p].size);  /* warm-up */
      for (guint i = 0; i < n; i++)
        s[i] = (gint64) echo_once_ns (&raw, bytes, bench_payloads[p].size);
      bench_json_num (&json, key, bench_percentile_ns (s, n, 0.5) / 1e6);
    }

  bench_json_num (&json, "memcpy_2x64MiB_ms", bench_two_memcpy_ms (64 * 1024 * 1024));

  raw_stop (&raw, pid);
  bench_json_print (&json);
  return 0;
}
