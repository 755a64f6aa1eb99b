/* test-lists-module.c: worker types for the tests of remote signals and
 * list models (test-remote-signals.c, test-list-model.c, bench-list.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <mpel.h>

/* MyTicker: a count property and two signals, "ticked" (int count,
 * string label), emitted by the method tick (s) after count changed, and
 * "spawned" (GObject), emitted by spawn () with a new ticker. */
#define MY_TYPE_TICKER (my_ticker_get_type ())
G_DECLARE_FINAL_TYPE (MyTicker, my_ticker, MY, TICKER, GObject)

struct _MyTicker
{
  GObject parent_instance;
  int     count;
};

G_DEFINE_FINAL_TYPE (MyTicker, my_ticker, G_TYPE_OBJECT)

static GParamSpec *count_pspec;
static guint ticked_signal;
static guint spawned_signal;

static void
my_ticker_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  g_value_set_int (value, g_atomic_int_get (&MY_TICKER (object)->count));
}

static void
my_ticker_class_init (MyTickerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = my_ticker_get_property;
  count_pspec = g_param_spec_int ("count", NULL, NULL, 0, G_MAXINT, 0,
                                  G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (object_class, 1, count_pspec);
  ticked_signal = g_signal_new ("ticked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
  spawned_signal = g_signal_new ("spawned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                 NULL, G_TYPE_NONE, 1, G_TYPE_OBJECT);
  /* A signal whose argument cannot cross */
  g_signal_new ("poked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
my_ticker_init (MyTicker *self)
{
}

static void
ticker_tick (MpelInvocation *invocation,
             GObject        *object,
             gpointer        user_data)
{
  MyTicker *self = MY_TICKER (object);
  const char *label;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(s)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS, "tick takes (s)");
      return;
    }
  g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &label);
  self->count++;
  g_object_notify_by_pspec (object, count_pspec);
  g_signal_emit (self, ticked_signal, 0, self->count, label);
  mpel_invocation_return_value (invocation, g_variant_new_int32 (self->count));
}

static void
ticker_spawn (MpelInvocation *invocation,
              GObject        *object,
              gpointer        user_data)
{
  g_autoptr(MyTicker) child = g_object_new (MY_TYPE_TICKER, NULL);

  child->count = 42;
  g_signal_emit (object, spawned_signal, 0, child);
  mpel_invocation_return_value (invocation, NULL);
}

/* tick_later (s): ticks from an idle, between calls */
static gboolean
tick_later_cb (gpointer data)
{
  MyTicker *self = data;

  self->count++;
  g_object_notify_by_pspec (G_OBJECT (self), count_pspec);
  g_signal_emit (self, ticked_signal, 0, self->count, "later");
  return G_SOURCE_REMOVE;
}

static void
ticker_tick_later (MpelInvocation *invocation,
                   GObject        *object,
                   gpointer        user_data)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, tick_later_cb, g_object_ref (object), g_object_unref);
  mpel_invocation_return_value (invocation, NULL);
}

/* tick_in_thread (s, n): ticks n times from a thread of a GTask, then
 * answers the count from that thread */
static void
ticker_tick_in_thread_run (GTask        *task,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  MpelInvocation *invocation = task_data;
  MyTicker *self = MY_TICKER (source_object);
  const char *label;
  int n;

  g_variant_get (mpel_invocation_get_args (invocation), "(&si)", &label, &n);
  for (int i = 0; i < n; i++)
    {
      g_atomic_int_inc (&self->count);
      g_object_notify_by_pspec (G_OBJECT (self), count_pspec);
      g_signal_emit (self, ticked_signal, 0, g_atomic_int_get (&self->count), label);
    }
  mpel_invocation_return_value (invocation, g_variant_new_int32 (g_atomic_int_get (&self->count)));
  g_task_return_boolean (task, TRUE);
}

static void
ticker_tick_in_thread (MpelInvocation *invocation,
                       GObject        *object,
                       gpointer        user_data)
{
  g_autoptr(GTask) task = NULL;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(si)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS, "tick_in_thread takes (si)");
      return;
    }
  task = g_task_new (object, NULL, NULL, NULL);
  g_task_set_task_data (task, g_object_ref (invocation), g_object_unref);
  g_task_run_in_thread (task, ticker_tick_in_thread_run);
}

/* MyItem: what a list of the tests holds, a label and a number */
#define MY_TYPE_ITEM (my_item_get_type ())
G_DECLARE_FINAL_TYPE (MyItem, my_item, MY, ITEM, GObject)

struct _MyItem
{
  GObject  parent_instance;
  char    *label;
  guint    number;
};

G_DEFINE_FINAL_TYPE (MyItem, my_item, G_TYPE_OBJECT)

enum { ITEM_PROP_0, ITEM_PROP_LABEL, ITEM_PROP_NUMBER, ITEM_N_PROPS };
static GParamSpec *item_props[ITEM_N_PROPS];

static void
my_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MyItem *self = MY_ITEM (object);

  if (prop_id == ITEM_PROP_LABEL)
    g_value_set_string (value, self->label);
  else
    g_value_set_uint (value, self->number);
}

static void
my_item_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MyItem *self = MY_ITEM (object);

  if (prop_id == ITEM_PROP_LABEL)
    {
      if (g_strcmp0 (self->label, g_value_get_string (value)) != 0)
        {
          g_free (self->label);
          self->label = g_value_dup_string (value);
          g_object_notify_by_pspec (object, pspec);
        }
    }
  else if (self->number != g_value_get_uint (value))
    {
      self->number = g_value_get_uint (value);
      g_object_notify_by_pspec (object, pspec);
    }
}

static void
my_item_finalize (GObject *object)
{
  g_free (MY_ITEM (object)->label);
  G_OBJECT_CLASS (my_item_parent_class)->finalize (object);
}

static void
my_item_class_init (MyItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = my_item_get_property;
  object_class->set_property = my_item_set_property;
  object_class->finalize = my_item_finalize;
  item_props[ITEM_PROP_LABEL] = g_param_spec_string ("label", NULL, NULL, NULL,
                                                     G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_NUMBER] = g_param_spec_uint ("number", NULL, NULL, 0, G_MAXUINT, 0,
                                                    G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, ITEM_N_PROPS, item_props);
}

static void
my_item_init (MyItem *self)
{
}

/* fill (u n) on a GListStore of MyItem: appends n items "item N", one by
 * one (n items-changed); answers the length */
static void
store_fill (MpelInvocation *invocation,
            GObject        *object,
            gpointer        user_data)
{
  GListStore *store = G_LIST_STORE (object);
  guint n, first;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(u)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS, "fill takes (u)");
      return;
    }
  g_variant_get (mpel_invocation_get_args (invocation), "(u)", &n);
  first = g_list_model_get_n_items (G_LIST_MODEL (store));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *label = g_strdup_printf ("item %u", first + i);
      g_autoptr(MyItem) item = g_object_new (MY_TYPE_ITEM, "label", label, "number", first + i, NULL);

      g_list_store_append (store, item);
    }
  mpel_invocation_return_value (invocation, g_variant_new_uint32 (g_list_model_get_n_items (G_LIST_MODEL (store))));
}

/* relabel (u position, s label): changes an item in place */
static void
store_relabel (MpelInvocation *invocation,
               GObject        *object,
               gpointer        user_data)
{
  g_autoptr(GObject) item = NULL;
  const char *label;
  guint position;

  g_variant_get (mpel_invocation_get_args (invocation), "(u&s)", &position, &label);
  item = g_list_model_get_item (G_LIST_MODEL (object), position);
  if (item == NULL)
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS, "no item %u", position);
      return;
    }
  g_object_set (item, "label", label, NULL);
  mpel_invocation_return_value (invocation, NULL);
}

G_MODULE_EXPORT void mpel_module_init (MpelWorker *worker);

void
mpel_module_init (MpelWorker *worker)
{
  g_type_ensure (MY_TYPE_TICKER);
  g_type_ensure (MY_TYPE_ITEM);
  mpel_worker_add_method (worker, MY_TYPE_TICKER, "tick", ticker_tick, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_TICKER, "tick_later", ticker_tick_later, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_TICKER, "spawn", ticker_spawn, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_TICKER, "tick_in_thread", ticker_tick_in_thread, NULL, NULL);
  mpel_worker_add_method (worker, G_TYPE_LIST_STORE, "fill", store_fill, NULL, NULL);
  mpel_worker_add_method (worker, G_TYPE_LIST_STORE, "relabel", store_relabel, NULL, NULL);
}
