/* test-list-scroll.c: a GtkListView over an MpelListModel of a worker's
 * list of 100 000 items, scrolled from the top to the end in a real window.
 * Needs a display: run under `xvfb-run -a`.
 *
 * At every stop, every row the view has bound must come to show its own
 * item's text ("Item N" for position N); then the view moves on by a step.
 * The model fetches lazily, so the rows show "…" until their page arrives.
 * The test checks that behaviour and that the scroll reaches the last
 * item; it prints the time and the longest gap between two frames, beside
 * the same scroll over a local GtkStringList of the same items (the
 * anchor, scrolled first in the same run), and checks no timing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>

#include <mpel-gtk.h>

#include "mpel-test-util.h"

#define N_ITEMS   100000
#define N_STOPS   200

typedef struct
{
  GtkWidget      *window;
  GtkListView    *view;
  GtkAdjustment  *vadjustment;
  GPtrArray      *rows;        /* the GtkListItems the factory made */
  guint           stop;        /* 0 … N_STOPS */
  gboolean        finished;
  gint64          last_frame;
  gint64          max_gap;
  guint           n_frames;
  guint           n_checked;   /* rows found right, over all stops */
  guint           last_position;
  gint64          started;
  double          seconds;
} Scroll;

/* A remote item's mirrored "string" (NULL until its page arrives), or a
 * local GtkStringObject's. */
static const char *
item_text (GObject *item)
{
  g_autoptr(GVariant) value = NULL;

  if (GTK_IS_STRING_OBJECT (item))
    return gtk_string_object_get_string (GTK_STRING_OBJECT (item));

  value = mpel_proxy_get_value (MPEL_PROXY (item), "string");
  return value != NULL ? g_intern_string (g_variant_get_string (value, NULL)) : NULL;
}

static void
row_update (GtkListItem *list_item)
{
  GObject *item = gtk_list_item_get_item (list_item);
  const char *text = item != NULL ? item_text (item) : NULL;

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (list_item)), text != NULL ? text : "…");
}

static void
row_setup (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item,
           Scroll                   *scroll)
{
  gtk_list_item_set_child (list_item, gtk_label_new (NULL));
  g_ptr_array_add (scroll->rows, list_item);
}

static void
row_teardown (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              Scroll                   *scroll)
{
  g_ptr_array_remove_fast (scroll->rows, list_item);
}

static void
row_bind (GtkSignalListItemFactory *factory,
          GtkListItem              *list_item,
          Scroll                   *scroll)
{
  if (MPEL_IS_PROXY (gtk_list_item_get_item (list_item)))
    g_signal_connect_object (gtk_list_item_get_item (list_item), "changed::string",
                             G_CALLBACK (row_update), list_item, G_CONNECT_SWAPPED);
  row_update (list_item);
}

static void
row_unbind (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            Scroll                   *scroll)
{
  g_signal_handlers_disconnect_by_func (gtk_list_item_get_item (list_item), row_update, list_item);
}

/* The item stop @stop brings into view: a step further down each time,
 * the last item at the last stop. */
static guint
stop_position (guint stop)
{
  return (guint) (((guint64) (N_ITEMS - 1) * stop) / N_STOPS);
}

/* Scrolls the way keyboard navigation does: GtkListView's action
 * "list.scroll-to-item" moves the view so that the item is shown. */
static void
scroll_to_stop (Scroll *scroll)
{
  gtk_widget_activate_action (GTK_WIDGET (scroll->view), "list.scroll-to-item", "u",
                              stop_position (scroll->stop));
}

/* TRUE when the item of this stop has a row and every bound row shows its
 * own item's text. */
static gboolean
rows_are_right (Scroll *scroll)
{
  guint target = stop_position (scroll->stop);
  gboolean reached = FALSE;
  guint n_bound = 0;

  for (guint i = 0; i < scroll->rows->len; i++)
    {
      GtkListItem *list_item = g_ptr_array_index (scroll->rows, i);
      guint position = gtk_list_item_get_position (list_item);
      g_autofree char *expected = NULL;

      if (gtk_list_item_get_item (list_item) == NULL)
        continue;
      n_bound++;
      expected = g_strdup_printf ("Item %u", position);
      if (g_strcmp0 (gtk_label_get_text (GTK_LABEL (gtk_list_item_get_child (list_item))), expected) != 0)
        return FALSE;
      reached |= position == target;
    }

  if (!reached)
    return FALSE;

  scroll->n_checked += n_bound;
  scroll->last_position = target;

  return TRUE;
}

static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *frame_clock,
         gpointer       user_data)
{
  Scroll *scroll = user_data;
  gint64 now = g_get_monotonic_time ();

  if (scroll->last_frame != 0)
    scroll->max_gap = MAX (scroll->max_gap, now - scroll->last_frame);
  scroll->last_frame = now;
  scroll->n_frames++;

  if (!rows_are_right (scroll))
    return G_SOURCE_CONTINUE;

  if (scroll->stop == N_STOPS)
    {
      scroll->finished = TRUE;
      return G_SOURCE_REMOVE;
    }

  scroll->stop++;
  scroll_to_stop (scroll);

  return G_SOURCE_CONTINUE;
}

/* Scrolls a list view over @model from the top to the end, in a window of
 * its own. */
static void
scroll_through (GListModel *model,
                Scroll     *scroll)
{
  GtkListItemFactory *factory;
  GtkWidget *scrolled;

  scroll->rows = g_ptr_array_new ();
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (row_setup), scroll);
  g_signal_connect (factory, "teardown", G_CALLBACK (row_teardown), scroll);
  g_signal_connect (factory, "bind", G_CALLBACK (row_bind), scroll);
  g_signal_connect (factory, "unbind", G_CALLBACK (row_unbind), scroll);
  scroll->view = GTK_LIST_VIEW (gtk_list_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (model))),
                                                   factory));

  scroll->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (scroll->window), 300, 400);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (scroll->view));
  gtk_window_set_child (GTK_WINDOW (scroll->window), scrolled);
  scroll->vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (scroll->view));
  gtk_widget_add_tick_callback (GTK_WIDGET (scroll->view), on_tick, scroll, NULL);
  gtk_window_present (GTK_WINDOW (scroll->window));

  scroll->started = g_get_monotonic_time ();
  test_iterate_until (scroll->finished);
  scroll->seconds = (g_get_monotonic_time () - scroll->started) / (double) G_USEC_PER_SEC;

  g_assert_cmpuint (scroll->last_position, ==, N_ITEMS - 1);
  g_assert_cmpuint (scroll->n_checked, >=, N_STOPS);

  gtk_window_destroy (GTK_WINDOW (scroll->window));
  g_clear_pointer (&scroll->rows, g_ptr_array_unref);
}

static void
print_scroll (const char *what,
              Scroll     *scroll)
{
  printf ("# %s: %u items in %u stops, %.2f s, %u frames, longest frame gap %" G_GINT64_FORMAT " ms, "
          "%u rows checked\n",
          what, N_ITEMS, N_STOPS, scroll->seconds, scroll->n_frames, scroll->max_gap / 1000, scroll->n_checked);
}

static void
test_scroll (void)
{
  g_autoptr(MpelLoop) loop = mpel_loop_new ();
  const char *modules[] = { g_getenv ("MPEL_GTK_TEST_MODULE"), NULL };
  g_autoptr(GtkStringList) local = gtk_string_list_new (NULL);
  g_autoptr(MpelProxy) remote = NULL;
  g_autoptr(MpelListModel) model = NULL;
  g_autoptr(GVariant) made = NULL;
  g_autoptr(GError) error = NULL;
  Scroll anchor = { 0, }, scroll = { 0, };

  g_assert_nonnull (modules[0]);
  mpel_loop_set_modules (loop, modules);
  mpel_loop_set_n_workers (loop, 1);

  /* The anchor: the same items, in this process. */
  for (guint i = 0; i < N_ITEMS; i++)
    {
      g_autofree char *text = g_strdup_printf ("Item %u", i);

      gtk_string_list_take (local, g_steal_pointer (&text));
    }
  scroll_through (G_LIST_MODEL (local), &anchor);

  made = test_call_sync (loop, "list.make", g_variant_new ("(u)", N_ITEMS), &error);
  g_assert_no_error (error);
  remote = mpel_proxy_new_for_name (loop, "list", NULL, NULL);
  model = mpel_list_model_new (remote, MPEL_TYPE_PROXY);
  test_iterate_until (g_list_model_get_n_items (G_LIST_MODEL (model)) == N_ITEMS);
  scroll_through (G_LIST_MODEL (model), &scroll);
  g_assert_no_error (mpel_list_model_get_error (model));

  print_scroll ("local GtkStringList (anchor)", &anchor);
  print_scroll ("worker's list through MpelListModel", &scroll);
  printf ("# time ratio remote/local: %.2f\n", scroll.seconds / anchor.seconds);

  mpel_loop_stop (loop);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/MpelGtk/ListScroll/end-to-end", test_scroll);

  return g_test_run ();
}
