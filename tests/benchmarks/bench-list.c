/* bench-list.c: MpelListModel's sync beside the plain event round trip
 * (issue 11), through the public API:
 *
 *   meson test -C build --benchmark --suite bench bench-list -v
 *
 * One worker with the lists test module; BENCH_ROUNDS rounds (5) taking
 * turns, each with a new Gio.ListStore of BENCH_ITEMS MyItem (100,000):
 *   event       the plain round trip, mpel_loop_call_async ("add", (i, 1)),
 *               the median of 200 (the anchor)
 *   sync-1      the worker appends every item in one call (one change):
 *               from the call until the app's model has them all
 *   sync-100    the same in 100 calls, one after the other, all sent at
 *               once (the worker keeps filling; one change per call)
 *   fetch-all   reading every item of the model in order, each page
 *               waited for (a GtkListView scrolled end to end at the
 *               speed of the wire): until every item is READY
 * Each row gives the median over the rounds in items/s and its time in
 * event round trips of the same round; fetch-all also per fetch.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include <mpel.h>

static gboolean done;

static void
on_result (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GVariant *value = mpel_loop_call_finish (MPEL_LOOP (object), result, NULL);

  if (value == NULL)
    g_error ("A benchmark call failed");
  g_variant_unref (value);
  done = TRUE;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_double);
  return g_array_index (values, double, values->len / 2);
}

/* The median plain round trip, in µs */
static double
event_round_trip (MpelLoop *loop)
{
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; i < 200; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double dt;

      mpel_loop_call_async (loop, "add", g_variant_new ("(ii)", (int) i, 1), NULL, on_result, NULL);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
      done = FALSE;
      dt = g_get_monotonic_time () - t0;
      g_array_append_val (times, dt);
    }

  return median (times);
}

static MpelProxy *
store_new (MpelLoop *loop)
{
  MpelProxy *store = mpel_proxy_new (loop, "Gio.ListStore", g_variant_new_parsed ("{'item-type': <'MyItem'>}"),
                                     (const char *[]) { NULL }, NULL);

  if (!mpel_loop_wait (loop, NULL, NULL) || mpel_proxy_get_state (store) != MPEL_PROXY_STATE_READY)
    g_error ("No store: %s", mpel_proxy_get_error (store) ? mpel_proxy_get_error (store)->message : "?");
  return store;
}

/* µs from the first fill until @model has @n items */
static double
sync_items (MpelLoop  *loop,
            MpelProxy *store,
            guint      n,
            guint      n_calls)
{
  g_autoptr(MpelListModel) model = mpel_list_model_new (store, MPEL_TYPE_PROXY);
  gint64 t0;

  mpel_loop_wait (loop, NULL, NULL);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n_calls; i++)
    mpel_proxy_call (store, "fill", g_variant_new ("(u)", n / n_calls));
  while (g_list_model_get_n_items (G_LIST_MODEL (model)) < n)
    g_main_context_iteration (NULL, TRUE);

  return g_get_monotonic_time () - t0;
}

/* µs to read every item of @store's @n, each page waited for */
static double
fetch_all (MpelLoop  *loop,
           MpelProxy *store,
           guint      n,
           guint     *n_fetches)
{
  g_autoptr(MpelListModel) model = mpel_list_model_new (store, MPEL_TYPE_PROXY);
  guint page = mpel_list_model_get_page_size (model);
  gint64 t0;

  mpel_loop_wait (loop, NULL, NULL);
  if (g_list_model_get_n_items (G_LIST_MODEL (model)) != n)
    g_error ("The model has %u items, not %u", g_list_model_get_n_items (G_LIST_MODEL (model)), n);

  t0 = g_get_monotonic_time ();
  *n_fetches = 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MpelProxy) item = g_list_model_get_item (G_LIST_MODEL (model), i);

      if (i % page == 0)
        (*n_fetches)++;
      while (mpel_proxy_get_state (item) == MPEL_PROXY_STATE_PENDING)
        g_main_context_iteration (NULL, TRUE);
      if (mpel_proxy_get_state (item) != MPEL_PROXY_STATE_READY)
        g_error ("Item %u: %s", i, mpel_proxy_get_error (item)->message);
    }

  return g_get_monotonic_time () - t0;
}

static void
report (const char *row,
        GArray     *items_per_s,
        GArray     *in_round_trips)
{
  g_print ("%-10s %12.0f items/s   %10.1f event round trips\n",
           row, median (items_per_s), median (in_round_trips));
  g_array_set_size (items_per_s, 0);
  g_array_set_size (in_round_trips, 0);
}

int
main (void)
{
  g_autoptr(MpelLoop) loop = mpel_loop_new ();
  const char *modules[] = { g_getenv ("MPEL_TEST_MODULE"), g_getenv ("MPEL_TEST_LISTS_MODULE"), NULL };
  guint n = g_getenv ("BENCH_ITEMS") ? atoi (g_getenv ("BENCH_ITEMS")) : 100000;
  guint rounds = g_getenv ("BENCH_ROUNDS") ? atoi (g_getenv ("BENCH_ROUNDS")) : 5;
  g_autoptr(GArray) rt = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) per_fetch = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *rate[3], *ratio[3];
  const char *rows[] = { "sync-1", "sync-100", "fetch-all" };

  if (modules[0] == NULL || modules[1] == NULL)
    g_error ("MPEL_TEST_MODULE and MPEL_TEST_LISTS_MODULE must be set");
  n -= n % 100;
  mpel_loop_set_modules (loop, modules);
  if (!mpel_loop_start (loop, NULL))
    g_error ("The worker did not start");
  for (guint r = 0; r < 3; r++)
    {
      rate[r] = g_array_new (FALSE, FALSE, sizeof (double));
      ratio[r] = g_array_new (FALSE, FALSE, sizeof (double));
    }

  for (guint round = 0; round < rounds; round++)
    {
      g_autoptr(MpelProxy) one = store_new (loop);
      g_autoptr(MpelProxy) hundred = store_new (loop);
      double event = event_round_trip (loop);
      double t[3], value;
      guint n_fetches;

      t[0] = sync_items (loop, one, n, 1);
      t[1] = sync_items (loop, hundred, n, 100);
      t[2] = fetch_all (loop, one, n, &n_fetches);
      g_array_append_val (rt, event);
      for (guint r = 0; r < 3; r++)
        {
          value = n / (t[r] / G_USEC_PER_SEC);
          g_array_append_val (rate[r], value);
          value = t[r] / event;
          g_array_append_val (ratio[r], value);
        }
      value = t[2] / n_fetches / event;
      g_array_append_val (per_fetch, value);
    }

  g_print ("%u items, %u rounds, one worker\n", n, rounds);
  g_print ("%-10s %12.1f us (median round trip, the anchor)\n", "event", median (rt));
  for (guint r = 0; r < 3; r++)
    report (rows[r], rate[r], ratio[r]);
  g_print ("%-10s %12.2f event round trips per fetch of a page\n", "per-fetch", median (per_fetch));

  for (guint r = 0; r < 3; r++)
    {
      g_array_unref (rate[r]);
      g_array_unref (ratio[r]);
    }
  mpel_loop_stop (loop);
  return EXIT_SUCCESS;
}
