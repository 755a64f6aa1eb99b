/* bench-raw.c: the old "raw" loop, kept as an anchor: a bare socketpair
 * and a forked child exchanging protocol v1 frames (DESIGN §2) with
 * blocking read/write, envelopes built and parsed as generic GVariant trees,
 * the child answering one read at a time. It is not a bound: bench-bound is
 * (see doc/performance.md).
 *
 *   bench-raw --core N_RT N_PIPE | --pipelined-only N
 *
 * Prints one JSON object on stdout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "bench-raw-loop.h"

int
main (int   argc,
      char *argv[])
{
  pid_t pid;
  Raw raw;
  BenchJson json;
  guint n_rt = 2000, n_pipe = 100000;
  g_autofree gint64 *samples = NULL;
  gint64 pipe[3], t0, c0, cpu, wall;

  /* The deadline of the whole program (an hour under callgrind). */
  alarm (argc == 3 ? 3600 : 300);

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

  bench_core_counts (argc, argv, &n_rt, &n_pipe);
  bench_json_init (&json);
  bench_json_str (&json, "contender", "raw");

  /* One call at a time. */
  for (guint i = 0; i < MAX (200, n_rt / 5); i++)
    raw_roundtrip_once_ns (&raw, (gint32) i);
  samples = g_new (gint64, n_rt);
  t0 = bench_now_ns ();
  c0 = bench_process_cpu_ns ();
  for (guint i = 0; i < n_rt; i++)
    samples[i] = (gint64) raw_roundtrip_once_ns (&raw, (gint32) i);
  cpu = bench_process_cpu_ns () - c0;
  wall = bench_now_ns () - t0;
  bench_json_num (&json, "roundtrip_us", bench_percentile_ns (samples, n_rt, 0.5) / 1e3);
  bench_json_num (&json, "roundtrip_p99_us", bench_percentile_ns (samples, n_rt, 0.99) / 1e3);
  bench_json_num (&json, "roundtrip_cpu_per_wall", (double) cpu / wall);
  bench_json_num (&json, "roundtrip_n", n_rt);

  /* Pipelined: median of three runs. */
  raw_pipelined_calls_per_s (&raw, MAX (10, n_pipe / 10));  /* warm-up */
  for (guint r = 0; r < 3; r++)
    pipe[r] = (gint64) raw_pipelined_calls_per_s (&raw, n_pipe);
  bench_json_num (&json, "pipelined_per_s", bench_percentile_ns (pipe, 3, 0.5));
  bench_json_num (&json, "pipelined_n", n_pipe);
  bench_json_num (&json, "window", RAW_WINDOW);

  raw_stop (&raw, pid);
  bench_json_print (&json);
  return 0;
}
