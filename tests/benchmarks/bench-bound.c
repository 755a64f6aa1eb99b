/* bench-bound.c: the fair bound (bench-bound.h), blocking or spinning.
 *
 *   bench-bound [--spin] --core N_RT N_PIPE
 *   bench-bound [--spin] --pipelined-only N       (for callgrind.sh)
 *   bench-bound --allocs                          (LD_PRELOAD=bench-count-alloc.so)
 *
 * --core: N_RT round trips (after a warm-up; median, p99, and the app's
 * CPU time over the wall time of the round trips) and N_PIPE pipelined
 * calls (median of three). Prints one JSON object on stdout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE 1  /* RTLD_DEFAULT */

#include <dlfcn.h>

#include "bench-bound.h"

/* With LD_PRELOAD=bench-count-alloc.so: allocations per pipelined event,
 * with and without the (ii) args' own, the floor of mpel's row. */
static void
allocs (Bound     *bound,
        guint      n,
        BenchJson *json)
{
  guint64 (*count) (void) = (guint64 (*) (void)) dlsym (RTLD_DEFAULT, "bench_alloc_count");
  guint64 c0, args, pipelined;

  if (count == NULL)
    bench_die ("--allocs needs LD_PRELOAD=bench-count-alloc.so");
  bound_pipelined_calls_per_s (bound, n);  /* warm-up */
  c0 = count ();
  for (guint i = 0; i < n; i++)
    g_variant_unref (g_variant_ref_sink (bench_args_ii ((gint32) i, 1)));
  args = count () - c0;
  c0 = count ();
  bound_pipelined_calls_per_s (bound, n);
  pipelined = count () - c0;
  bench_json_num (json, "allocs_n", n);
  bench_json_num (json, "allocs_args", (double) args / n);
  bench_json_num (json, "allocs_per_event_total", (double) pipelined / n);
  bench_json_num (json, "allocs_per_event", (double) (pipelined - args) / n);
}

int
main (int   argc,
      char *argv[])
{
  gboolean spin = bench_has_arg (argc, argv, "--spin");
  guint n_rt = 2000, n_pipe = 100000;
  BenchJson json;
  Bound bound;
  g_autofree gint64 *samples = NULL;
  gint64 pipe[3], t0, c0, wall, cpu;

  alarm (argc > 1 && strcmp (argv[argc - 2], "--pipelined-only") == 0 ? 3600 : 300);
  bound_spawn (&bound, spin);

  if (argc >= 3 && strcmp (argv[argc - 2], "--pipelined-only") == 0)
    {
      guint n = (guint) g_ascii_strtoull (argv[argc - 1], NULL, 10);
      double rate = bound_pipelined_calls_per_s (&bound, n);

      bound_stop (&bound);
      bench_json_init (&json);
      bench_json_num (&json, "pipelined_n", n);
      bench_json_num (&json, "pipelined_per_s", rate);
      bench_json_print (&json);
      return 0;
    }

  bench_core_counts (argc, argv, &n_rt, &n_pipe);
  bench_json_init (&json);
  bench_json_str (&json, "contender", spin ? "bound-spin" : "bound-block");

  if (bench_has_arg (argc, argv, "--allocs"))
    {
      allocs (&bound, 20000, &json);
      bound_stop (&bound);
      bench_json_print (&json);
      return 0;
    }

  for (guint i = 0; i < MAX (200, n_rt / 5); i++)
    bound_roundtrip_once_ns (&bound, (gint32) i);
  samples = g_new (gint64, n_rt);
  t0 = bench_now_ns ();
  c0 = bench_process_cpu_ns ();
  for (guint i = 0; i < n_rt; i++)
    samples[i] = (gint64) bound_roundtrip_once_ns (&bound, (gint32) i);
  cpu = bench_process_cpu_ns () - c0;
  wall = bench_now_ns () - t0;
  bench_json_num (&json, "roundtrip_us", bench_percentile_ns (samples, n_rt, 0.5) / 1e3);
  bench_json_num (&json, "roundtrip_p99_us", bench_percentile_ns (samples, n_rt, 0.99) / 1e3);
  bench_json_num (&json, "roundtrip_cpu_per_wall", (double) cpu / wall);
  bench_json_num (&json, "roundtrip_n", n_rt);

  bound_pipelined_calls_per_s (&bound, MAX (10, n_pipe / 10));  /* warm-up */
  for (guint r = 0; r < 3; r++)
    pipe[r] = (gint64) bound_pipelined_calls_per_s (&bound, n_pipe);
  bench_json_num (&json, "pipelined_per_s", bench_percentile_ns (pipe, 3, 0.5));
  bench_json_num (&json, "pipelined_n", n_pipe);
  bench_json_num (&json, "window", BOUND_WINDOW);

  bound_stop (&bound);
  bench_json_print (&json);
  return 0;
}
