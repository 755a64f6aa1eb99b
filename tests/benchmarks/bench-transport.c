/* bench-transport.c: the same calls over the socket pair and over stdio
 * (issue 13): round trips of a small call, and a 64 MiB payload each way,
 * which goes in a shared buffer over the socket and inline over stdio.
 *
 *   meson test -C build --benchmark --suite bench bench-transport -v
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <string.h>

#include <mpel.h>

#define N_ROUND_TRIPS 20000
#define N_LARGE       10
#define LARGE_SIZE    ((gsize) 64 * 1024 * 1024)

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

static void
bench (const char *name,
       MpelLoop   *loop)
{
  GBytes *payload = g_bytes_new_take (g_malloc0 (LARGE_SIZE), LARGE_SIZE);
  gint64 start;
  double rt_usec, large_msec;

  /* Started and warm */
  g_variant_unref (call (loop, "mpel.ping", NULL));

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_ROUND_TRIPS; i++)
    g_variant_unref (call (loop, "mpel.ping", NULL));
  rt_usec = (double) (g_get_monotonic_time () - start) / N_ROUND_TRIPS;

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_LARGE; i++)
    {
      GVariant *bytes = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, payload, TRUE);

      g_variant_unref (call (loop, "mpel.echo", g_variant_new ("(@ay)", bytes)));
    }
  large_msec = (double) (g_get_monotonic_time () - start) / N_LARGE / 1000;

  printf ("| %-26s | %8.1f µs | %8.1f ms | %8.0f MiB/s |\n",
          name, rt_usec, large_msec, 2.0 * 64 / (large_msec / 1000));
  fflush (stdout);
  g_bytes_unref (payload);
}

int
main (int   argc,
      char *argv[])
{
  const char *worker = g_getenv ("MPEL_WORKER");
  const char *stdio_argv[] = { worker, "--stdio", NULL };
  MpelLoop *loop;

  if (worker == NULL)
    g_error ("MPEL_WORKER is not set");

  printf ("| transport                  | round trip | 64 MiB echo | throughput     |\n");
  printf ("|----------------------------|-----------:|------------:|---------------:|\n");

  loop = mpel_loop_new ();
  bench ("socket pair (memfd)", loop);
  g_object_unref (loop);

  loop = mpel_loop_new_for_stream_argv (stdio_argv);
  bench ("stdio (inline)", loop);
  g_object_unref (loop);

  return 0;
}
