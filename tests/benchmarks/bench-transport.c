/* bench-transport.c: the same calls over the socket pair and over stdio
 * (issue 13): round trips of a small call, and a 64 MiB payload each way,
 * which goes in a shared buffer over the socket and in chunks over stdio.
 * The two take turns; the last column is the ratio to the socket pair
 * (round trip / 64 MiB), measured in the same run.
 *
 *   meson test -C build --benchmark --suite bench bench-transport -v
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <string.h>

#include <mpel.h>

#define N_ROUNDS        5
#define N_ROUND_TRIPS   2000  /* per round */
#define N_LARGE         2     /* per round */
#define LARGE_SIZE      ((gsize) 64 * 1024 * 1024)

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GVariant *
call (MpelLoop   *loop,
      const char *target,
      GVariant   *args)
{
  GAsyncResult *result = NULL;
  GError *error = NULL;
  GVariant *value;

  mpel_loop_call_async (loop, target, args, NULL, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  value = mpel_loop_call_finish (loop, result, &error);
  g_object_unref (result);
  if (error != NULL)
    g_error ("%s: %s", target, error->message);
  return value;
}

typedef struct
{
  const char *name;
  MpelLoop   *loop;
  gint64      rt_usec;      /* totals over the rounds */
  gint64      large_usec;
} Transport;

/* One round on one transport: round trips, then 64 MiB echoed. */
static void
bench_round (Transport *t,
             GBytes    *payload)
{
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < N_ROUND_TRIPS; i++)
    {
      GVariant *value = call (t->loop, "mpel.ping", NULL);

      if (value != NULL)
        g_variant_unref (value);
    }
  t->rt_usec += g_get_monotonic_time () - start;

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_LARGE; i++)
    {
      GVariant *bytes = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, payload, TRUE);

      g_variant_unref (call (t->loop, "mpel.echo", g_variant_new ("(@ay)", bytes)));
    }
  t->large_usec += g_get_monotonic_time () - start;
}

int
main (int   argc,
      char *argv[])
{
  const char *worker = g_getenv ("MPEL_WORKER");
  const char *stdio_argv[] = { worker, "--stdio", NULL };
  GBytes *payload = g_bytes_new_take (g_malloc0 (LARGE_SIZE), LARGE_SIZE);
  Transport transports[2] = {
    { "socket pair (memfd)", NULL, 0, 0 },
    { "stdio (chunks)", NULL, 0, 0 },
  };
  double anchor_rt = 0, anchor_large = 0;

  if (worker == NULL)
    g_error ("MPEL_WORKER is not set");

  transports[0].loop = mpel_loop_new ();
  transports[1].loop = mpel_loop_new_for_stream_argv (stdio_argv);

  /* Started and warm, then the two take turns, round after round, so
   * that the load of the machine weighs on both alike. */
  for (guint t = 0; t < G_N_ELEMENTS (transports); t++)
    bench_round (&transports[t], payload);
  for (guint t = 0; t < G_N_ELEMENTS (transports); t++)
    transports[t].rt_usec = transports[t].large_usec = 0;
  for (guint round = 0; round < N_ROUNDS; round++)
    for (guint t = 0; t < G_N_ELEMENTS (transports); t++)
      bench_round (&transports[t], payload);

  printf ("| transport                  | round trip | 64 MiB echo | throughput     | vs socket pair |\n");
  printf ("|----------------------------|-----------:|------------:|---------------:|---------------:|\n");
  for (guint t = 0; t < G_N_ELEMENTS (transports); t++)
    {
      double rt = (double) transports[t].rt_usec / (N_ROUNDS * N_ROUND_TRIPS);
      double large = (double) transports[t].large_usec / (N_ROUNDS * N_LARGE) / 1000;

      if (t == 0)
        {
          anchor_rt = rt;
          anchor_large = large;
        }
      printf ("| %-26s | %7.1f µs | %8.1f ms | %8.0f MiB/s | %4.2f× / %4.2f× |\n",
              transports[t].name, rt, large, 2.0 * 64 / (large / 1000), rt / anchor_rt, large / anchor_large);
      g_object_unref (transports[t].loop);
    }
  fflush (stdout);
  g_bytes_unref (payload);

  return 0;
}
