/* demo-primes.c: a GtkListView over the Gtk.StringList "primes" that the
 * demo module's worker exports and keeps filling. The app's model is an
 * MpelListModel: it follows the worker's list and fetches only the rows
 * that are shown; its items are proxies of the worker's GtkStringObjects,
 * whose "string" arrives a round trip after the row asks for it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>

#include "demo-primes.h"

#define N_CHECKED 10

struct _DemoPrimes
{
  GtkWidget      *widget;
  GtkLabel       *count_label;
  GtkListView    *view;
  GtkNoSelection *selection;
  MpelProxy      *remote;
  MpelListModel  *model;
  GPtrArray      *checked;   /* the items the self-test reads */
  guint           n_seen;    /* how many there were when they read right */
};

static const char *
item_string (MpelProxy *item)
{
  g_autoptr(GVariant) value = mpel_proxy_get_value (item, "string");

  /* The mirror keeps the value alive as long as it is current. */
  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
         ? g_intern_string (g_variant_get_string (value, NULL)) : NULL;
}

static void
row_update (GtkListItem *list_item)
{
  MpelProxy *item = gtk_list_item_get_item (list_item);
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  const char *text = item != NULL ? item_string (item) : NULL;

  gtk_label_set_text (label, text != NULL ? text : "…");
}

static void
row_setup (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (list_item, label);
}

static void
row_bind (GtkSignalListItemFactory *factory,
          GtkListItem              *list_item)
{
  MpelProxy *item = gtk_list_item_get_item (list_item);

  /* Until its page arrives the item is a placeholder: the row shows its
   * text when "string" is mirrored. */
  g_signal_connect_object (item, "changed::string", G_CALLBACK (row_update), list_item, G_CONNECT_SWAPPED);
  row_update (list_item);
}

static void
row_unbind (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item)
{
  g_signal_handlers_disconnect_by_func (gtk_list_item_get_item (list_item), row_update, list_item);
}

static void
demo_primes_update_count (DemoPrimes *self)
{
  g_autofree char *text = NULL;
  guint n = self->model != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->model)) : 0;

  text = g_strdup_printf ("Primes found by the worker so far: %u", n);
  gtk_label_set_text (self->count_label, text);
}

DemoPrimes *
demo_primes_new (void)
{
  DemoPrimes *self = g_new0 (DemoPrimes, 1);
  GtkListItemFactory *factory;
  GtkWidget *scrolled;

  self->widget = g_object_ref_sink (gtk_box_new (GTK_ORIENTATION_VERTICAL, 6));
  self->count_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->count_label, 0.0);
  gtk_box_append (GTK_BOX (self->widget), GTK_WIDGET (self->count_label));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (row_setup), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (row_bind), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (row_unbind), NULL);
  self->selection = gtk_no_selection_new (NULL);
  self->view = GTK_LIST_VIEW (gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (self->selection)), factory));

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 120);
  gtk_scrolled_window_set_has_frame (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->view));
  gtk_box_append (GTK_BOX (self->widget), scrolled);

  self->checked = g_ptr_array_new_with_free_func (g_object_unref);
  demo_primes_update_count (self);

  return self;
}

GtkWidget *
demo_primes_get_widget (DemoPrimes *self)
{
  return self->widget;
}

/* Shows the list the worker exported as @name. */
void
demo_primes_attach (DemoPrimes *self,
                    MpelLoop   *loop,
                    const char *name)
{
  demo_primes_detach (self);

  self->remote = mpel_proxy_new_for_name (loop, name, NULL, NULL);
  self->model = mpel_list_model_new (self->remote, MPEL_TYPE_PROXY);
  g_signal_connect_swapped (self->model, "items-changed", G_CALLBACK (demo_primes_update_count), self);
  gtk_no_selection_set_model (self->selection, G_LIST_MODEL (self->model));
  demo_primes_update_count (self);
}

/* Forgets the list (its worker is gone). */
void
demo_primes_detach (DemoPrimes *self)
{
  gtk_no_selection_set_model (self->selection, NULL);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_object (&self->model);
  g_clear_object (&self->remote);
  g_ptr_array_set_size (self->checked, 0);
  self->n_seen = 0;
  demo_primes_update_count (self);
}

gboolean
demo_primes_is_ready (DemoPrimes *self)
{
  return self->model != NULL && g_list_model_get_n_items (G_LIST_MODEL (self->model)) > 0;
}

/* The self-test: TRUE once the first N_CHECKED items read 2, 3, 5… and the
 * list has grown since; FALSE while waiting, or with *message set when an
 * item is wrong. */
gboolean
demo_primes_check (DemoPrimes  *self,
                   char       **message)
{
  static const guint expected[N_CHECKED] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29 };
  guint n_items = self->model != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->model)) : 0;

  if (n_items < N_CHECKED)
    return FALSE;

  if (self->checked->len == 0)
    for (guint i = 0; i < N_CHECKED; i++)
      g_ptr_array_add (self->checked, g_list_model_get_item (G_LIST_MODEL (self->model), i));

  if (self->n_seen == 0)
    {
      for (guint i = 0; i < N_CHECKED; i++)
        {
          MpelProxy *item = g_ptr_array_index (self->checked, i);
          const char *text = item_string (item);

          if (mpel_proxy_get_state (item) == MPEL_PROXY_STATE_PENDING)
            return FALSE;
          if (text == NULL || strtoul (text, NULL, 10) != expected[i])
            {
              *message = g_strdup_printf ("item %u of the list of primes is “%s”, not %u",
                                          i, text != NULL ? text : "(none)", expected[i]);
              return FALSE;
            }
        }
      self->n_seen = n_items;
      return FALSE;
    }

  /* The worker keeps filling it. */
  if (n_items <= self->n_seen)
    return FALSE;

  g_print ("mpel-demo: the list of primes grew from %u to %u items\n", self->n_seen, n_items);
  return TRUE;
}

void
demo_primes_free (DemoPrimes *self)
{
  demo_primes_detach (self);
  g_clear_pointer (&self->checked, g_ptr_array_unref);
  g_clear_object (&self->selection);
  g_clear_object (&self->widget);
  g_free (self);
}
