/* bench-proxy.c: remote objects beside the plain event round trip
 * (issue 10), through the public API:
 *
 *   meson test -C build --benchmark --suite bench bench-proxy -v
 *
 * Rows, each the median and 90th percentile of BENCH_N sequential round
 * trips (2000), one worker, the test module's MyPoint:
 *   event       mpel_loop_call_async ("add", (i, 1)): the plain round trip
 *   proxy-call  mpel_proxy_call_async (point, "get_z")
 *   mirror      mpel_proxy_call (point, "move", …) until notify::x fires
 *               on the proxy: the mirrored property's update latency
 *   proxy-set   g_object_set (point, "x", …) until the worker's answer
 *               ended its set (the mirror confirmed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include <mpel.h>

#define MY_TYPE_POINT_PROXY (my_point_proxy_get_type ())
G_DECLARE_FINAL_TYPE (MyPointProxy, my_point_proxy, MY, POINT_PROXY, MpelProxy)

struct _MyPointProxy
{
  MpelProxy parent_instance;
};

G_DEFINE_FINAL_TYPE (MyPointProxy, my_point_proxy, MPEL_TYPE_PROXY)

static void
my_point_proxy_class_init (MyPointProxyClass *klass)
{
  g_object_class_install_property (G_OBJECT_CLASS (klass), 1,
    g_param_spec_int ("x", NULL, NULL, G_MININT, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
}

static void
my_point_proxy_init (MyPointProxy *self)
{
}

static gboolean done;

static void
on_result (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GVariant *value = MPEL_IS_PROXY (object)
    ? mpel_proxy_call_finish (MPEL_PROXY (object), result, NULL)
    : mpel_loop_call_finish (MPEL_LOOP (object), result, NULL);

  if (value == NULL)
    g_error ("A benchmark call failed");
  g_variant_unref (value);
  done = TRUE;
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  done = TRUE;
}

static void
on_set_answered (MpelLoop  *loop,
                 MpelEvent *event,
                 gpointer   user_data)
{
  done = TRUE;
}

static void
iterate_until_done (void)
{
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  done = FALSE;
}

static int
compare (gconstpointer a,
         gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
report (const char *row,
        GArray     *times)
{
  g_array_sort (times, compare);
  g_print ("%-11s median %6.1f us   p90 %6.1f us   (%u round trips)\n", row,
           g_array_index (times, gint64, times->len / 2) / 1.0,
           g_array_index (times, gint64, times->len * 9 / 10) / 1.0, times->len);
  g_array_set_size (times, 0);
}

int
main (void)
{
  g_autoptr(MpelLoop) loop = mpel_loop_new ();
  g_autoptr(MyPointProxy) point = NULL;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  const char *module = g_getenv ("MPEL_TEST_MODULE");
  const char *modules[] = { module, NULL };
  guint n = g_getenv ("BENCH_N") ? atoi (g_getenv ("BENCH_N")) : 2000;
  gint64 t0, dt;

  if (module == NULL)
    g_error ("MPEL_TEST_MODULE is not set");
  mpel_loop_set_modules (loop, modules);
  if (!mpel_loop_start (loop, NULL))
    g_error ("The worker did not start");

  point = g_object_new (MY_TYPE_POINT_PROXY, "loop", loop, "remote-type", "MyPoint", NULL);
  mpel_loop_wait (loop, NULL, NULL);

  for (guint i = 0; i < n; i++)
    {
      t0 = g_get_monotonic_time ();
      mpel_loop_call_async (loop, "add", g_variant_new ("(ii)", (int) i, 1), NULL, on_result, NULL);
      iterate_until_done ();
      dt = g_get_monotonic_time () - t0;
      g_array_append_val (times, dt);
    }
  report ("event", times);

  for (guint i = 0; i < n; i++)
    {
      t0 = g_get_monotonic_time ();
      mpel_proxy_call_async (MPEL_PROXY (point), "get_z", NULL, NULL, on_result, NULL);
      iterate_until_done ();
      dt = g_get_monotonic_time () - t0;
      g_array_append_val (times, dt);
    }
  report ("proxy-call", times);

  g_signal_connect (point, "notify::x", G_CALLBACK (on_notify), NULL);
  for (guint i = 0; i < n; i++)
    {
      t0 = g_get_monotonic_time ();
      mpel_proxy_call (MPEL_PROXY (point), "move", g_variant_new ("(iii)", (int) i + 1, 0, 0));
      iterate_until_done ();
      dt = g_get_monotonic_time () - t0;
      g_array_append_val (times, dt);
    }
  report ("mirror", times);
  mpel_loop_wait (loop, NULL, NULL);
  g_signal_handlers_disconnect_by_func (point, on_notify, NULL);

  g_signal_connect (loop, "notify::n-pending", G_CALLBACK (on_set_answered), NULL);
  for (guint i = 0; i < n; i++)
    {
      t0 = g_get_monotonic_time ();
      g_object_set (point, "x", -(int) i - 1, NULL);
      iterate_until_done ();
      dt = g_get_monotonic_time () - t0;
      g_array_append_val (times, dt);
    }
  report ("proxy-set", times);

  mpel_loop_stop (loop);
  return EXIT_SUCCESS;
}
