/* test-list-model.c: MpelListModel, a GListModel over a worker's list
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpel.h>

#include "mpel-connection-private.h"
#include "mpel-frame-private.h"
#include "mpel-list-model-private.h"
#include "mpel-test-util.h"

static const char *self_path;

/* Items that mirror MyItem's label and number as real properties */
#define TEST_TYPE_ITEM_PROXY (test_item_proxy_get_type ())
G_DECLARE_FINAL_TYPE (TestItemProxy, test_item_proxy, TEST, ITEM_PROXY, MpelProxy)

struct _TestItemProxy
{
  MpelProxy parent_instance;
};

G_DEFINE_FINAL_TYPE (TestItemProxy, test_item_proxy, MPEL_TYPE_PROXY)

static void
test_item_proxy_class_init (TestItemProxyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  g_object_class_install_property (object_class, 1,
    g_param_spec_string ("label", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, 2,
    g_param_spec_uint ("number", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
}

static void
test_item_proxy_init (TestItemProxy *self)
{
}

/* Releases leave from an idle, which runs once nothing more urgent is
 * ready: let every ready source run, then count (a round trip after the
 * releases). */
static void
assert_count_reaches (MpelLoop *loop,
                      guint     expected)
{
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (test_count_objects (loop), ==, expected);
}

/* The items-changed a model emitted, as "position-removed-added" */
static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  GPtrArray  *seen)
{
  g_assert_cmpuint (g_list_model_get_n_items (model), >=, position + added);
  g_ptr_array_add (seen, g_strdup_printf ("%u-%u-%u", position, removed, added));
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              guint      *count)
{
  (*count)++;
}

static char *
joined (GPtrArray *seen)
{
  g_ptr_array_add (seen, NULL);
  g_ptr_array_set_size (seen, seen->len - 1);
  return g_strjoinv (" ", (char **) seen->pdata);
}

static char *
item_string (GListModel *model,
             guint       position,
             const char *name)
{
  g_autoptr(MpelProxy) item = g_list_model_get_item (model, position);
  g_autoptr(GVariant) value = NULL;

  g_assert_nonnull (item);
  g_assert_cmpint (mpel_proxy_get_state (item), ==, MPEL_PROXY_STATE_READY);
  value = mpel_proxy_get_value (item, name);
  g_assert_nonnull (value);
  return g_variant_dup_string (value, NULL);
}

static MpelProxy *
item_store_new (MpelLoop *loop)
{
  return mpel_proxy_new (loop, "Gio.ListStore", g_variant_new_parsed ("{'item-type': <'MyItem'>}"),
                         (const char *[]) { "n-items", NULL }, NULL);
}

/* The case: a Gtk.StringList in the default worker host */
static void
test_string_list (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) list = mpel_proxy_new (loop, "Gtk-4.0.StringList", NULL, NULL, NULL);
  g_autoptr(MpelListModel) model = mpel_list_model_new (list, MPEL_TYPE_PROXY);
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *changes = NULL;
  const char *expected[] = { "a", "c", "d" };

  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), seen);
  mpel_proxy_call (list, "append", g_variant_new ("(s)", "a"));
  mpel_proxy_call (list, "append", g_variant_new ("(s)", "b"));
  mpel_proxy_call (list, "append", g_variant_new ("(s)", "c"));
  mpel_proxy_call (list, "remove", g_variant_new ("(u)", 1));
  mpel_proxy_call (list, "append", g_variant_new ("(s)", "d"));
  test_wait (loop);
  g_assert_no_error (mpel_list_model_get_error (model));
  g_assert_cmpint (mpel_proxy_get_state (list), ==, MPEL_PROXY_STATE_READY);

  /* Each call's change comes before its answer, in order */
  changes = joined (seen);
  g_assert_cmpstr (changes, ==, "0-0-1 1-0-1 2-0-1 1-1-0 2-0-1");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 3);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (model)) == MPEL_TYPE_PROXY);

  /* Placeholders first, values one round trip later */
  {
    g_autoptr(MpelProxy) first = g_list_model_get_item (G_LIST_MODEL (model), 0);

    g_assert_cmpint (mpel_proxy_get_state (first), ==, MPEL_PROXY_STATE_PENDING);
    g_assert_null (g_list_model_get_item (G_LIST_MODEL (model), 3));
    test_wait (loop);
    g_assert_cmpint (mpel_proxy_get_state (first), ==, MPEL_PROXY_STATE_READY);
    g_assert_cmpstr (mpel_proxy_get_remote_type (first), ==, "GtkStringObject");
  }
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *string = item_string (G_LIST_MODEL (model), i, "string");

      g_assert_cmpstr (string, ==, expected[i]);
    }
  g_assert_cmpuint (_mpel_list_model_get_n_fetches (model), ==, 1);

  mpel_loop_stop (loop);
}

/* Changes of one iteration are merged; items mirror a subclass's
 * properties, live */
static void
test_coalesced_and_live (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) store = item_store_new (loop);
  g_autoptr(MpelListModel) model = mpel_list_model_new (store, TEST_TYPE_ITEM_PROXY);
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(TestItemProxy) item = NULL;
  g_autofree char *changes = NULL;
  g_autofree char *label = NULL;
  guint notified = 0, number = 0;

  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), seen);
  mpel_proxy_call (store, "fill", g_variant_new ("(u)", 10));
  test_wait (loop);
  changes = joined (seen);
  g_assert_cmpstr (changes, ==, "0-0-10");

  item = g_list_model_get_item (G_LIST_MODEL (model), 7);
  g_signal_connect (item, "notify::label", G_CALLBACK (count_notify), &notified);
  test_wait (loop);
  g_object_get (item, "label", &label, "number", &number, NULL);
  g_assert_cmpstr (label, ==, "item 7");
  g_assert_cmpuint (number, ==, 7);
  g_assert_cmpuint (notified, ==, 1);

  /* A change in the worker reaches the item */
  g_clear_pointer (&label, g_free);
  mpel_proxy_call (store, "relabel", g_variant_new ("(us)", 7, "seven"));
  test_wait (loop);
  g_object_get (item, "label", &label, NULL);
  g_assert_cmpstr (label, ==, "seven");
  g_assert_cmpuint (notified, ==, 2);

  mpel_loop_stop (loop);
}

/* 100,000 items: the length after one round trip, three far apart items
 * in three fetches, and the cache keeps the worker's table bounded */
static void
test_scale (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) store = item_store_new (loop);
  g_autoptr(MpelListModel) model = NULL;
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *changes = NULL;
  const guint wanted[] = { 0, 50000, 99999 };
  guint before;

  /* The store is made first: it is counted */
  before = test_count_objects (loop);
  mpel_proxy_call (store, "fill", g_variant_new ("(u)", 100000));
  test_wait (loop);

  model = mpel_list_model_new (store, TEST_TYPE_ITEM_PROXY);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), seen);
  test_wait (loop);
  changes = joined (seen);
  g_assert_cmpstr (changes, ==, "0-0-100000");

  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    g_object_unref (g_list_model_get_item (G_LIST_MODEL (model), wanted[i]));
  g_assert_cmpuint (_mpel_list_model_get_n_fetches (model), ==, 3);
  test_wait (loop);
  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    {
      g_autofree char *label = item_string (G_LIST_MODEL (model), wanted[i], "label");
      g_autofree char *expected = g_strdup_printf ("item %u", wanted[i]);

      g_assert_cmpstr (label, ==, expected);
    }
  g_assert_cmpuint (_mpel_list_model_get_n_fetches (model), ==, 3);

  /* Reading on from a page boundary (938 × 64): a fetch per page, and
   * the evicted items released */
  mpel_list_model_set_cache_size (model, 256);
  for (guint i = 0; i < 2048; i++)
    g_object_unref (g_list_model_get_item (G_LIST_MODEL (model), 60032 + i));
  g_assert_cmpuint (_mpel_list_model_get_n_fetches (model), ==, 3 + 2048 / 64);
  test_wait (loop);
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  /* the store, and at most a cache of items */
  g_assert_cmpuint (test_count_objects (loop), <=, before + 256);

  /* Released from an idle, in one batch */
  g_clear_object (&model);
  assert_count_reaches (loop, before);

  mpel_loop_stop (loop);
}

/* A fetch that crosses a change of the list gets the items the app meant */
static void
test_fetch_crosses_change (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) store = item_store_new (loop);
  g_autoptr(MpelListModel) model = mpel_list_model_new (store, TEST_TYPE_ITEM_PROXY);
  g_autoptr(MpelProxy) fifth = NULL;
  g_autoptr(MpelProxy) first = NULL;
  g_autoptr(MpelProxy) same = NULL;
  g_autofree char *label = NULL;

  mpel_proxy_call (store, "fill", g_variant_new ("(u)", 10));
  test_wait (loop);

  /* The worker removes item 0 before it reads the fetch */
  mpel_proxy_call (store, "remove", g_variant_new ("(u)", 0));
  fifth = g_list_model_get_item (G_LIST_MODEL (model), 5);
  first = g_list_model_get_item (G_LIST_MODEL (model), 0);
  test_wait (loop);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 9);
  g_object_get (fifth, "label", &label, NULL);
  g_assert_cmpstr (label, ==, "item 5");
  same = g_list_model_get_item (G_LIST_MODEL (model), 4);
  g_assert_true (same == fifth);
  /* Removed before it was fetched */
  g_assert_cmpint (mpel_proxy_get_state (first), ==, MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (first), MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);

  mpel_loop_stop (loop);
}

/* A crash empties the model; the items keep their last values, FAILED */
static void
test_crash (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) store = item_store_new (loop);
  g_autoptr(MpelListModel) model = mpel_list_model_new (store, TEST_TYPE_ITEM_PROXY);
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(MpelProxy) item = NULL;
  g_autofree char *changes = NULL;
  g_autofree char *label = NULL;

  mpel_proxy_call (store, "fill", g_variant_new ("(u)", 5));
  test_wait (loop);
  item = g_list_model_get_item (G_LIST_MODEL (model), 2);
  test_wait (loop);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), seen);

  mpel_loop_add_event (loop, "die", NULL);
  test_iterate_until (g_list_model_get_n_items (G_LIST_MODEL (model)) == 0);
  changes = joined (seen);
  g_assert_cmpstr (changes, ==, "0-5-0");
  g_assert_error (mpel_list_model_get_error (model), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_cmpint (mpel_proxy_get_state (item), ==, MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (item), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_object_get (item, "label", &label, NULL);
  g_assert_cmpstr (label, ==, "item 2");
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (model), 0));

  mpel_loop_stop (loop);
}

/* An object that is not a list is refused with a reason */
static void
test_not_a_list (void)
{
  g_autoptr(MpelLoop) loop = test_lists_loop_new ();
  g_autoptr(MpelProxy) ticker = mpel_proxy_new (loop, "MyTicker", NULL, NULL, NULL);
  g_autoptr(MpelListModel) model = mpel_list_model_new (ticker, MPEL_TYPE_PROXY);

  test_wait (loop);
  g_assert_error (mpel_list_model_get_error (model), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (mpel_list_model_get_error (model)->message, "not a GListModel"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 0);

  mpel_loop_stop (loop);
}

/* A worker that sends a change that does not fit its list */
typedef struct
{
  GMainLoop      *main_loop;
  MpelConnection *conn;
} FakeWorker;

static gboolean
fake_on_frame (MpelConnection *conn,
               MpelFrame      *frame,
               gpointer        user_data)
{
  FakeWorker *fake = user_data;
  guint64 handle = 0;

  if (frame->kind == MPEL_FRAME_STOP)
    {
      g_main_loop_quit (fake->main_loop);
      return FALSE;
    }
  if (frame->kind != MPEL_FRAME_CALL)
    return TRUE;

  if (g_str_equal (frame->name, "mpel.list.watch"))
    {
      g_variant_get_child (frame->body, 0, "t", &handle);
      _mpel_connection_send (conn, MPEL_FRAME_RETURN, 0, frame->id, NULL,
                             g_variant_new ("(uu)", 2, 0), NULL, NULL);
      _mpel_connection_send (conn, MPEL_FRAME_NOTIFY, 0, handle, "mpel.items-changed",
                             g_variant_new ("(uuu)", 1, 5, 0), NULL, NULL);
      return TRUE;
    }

  _mpel_connection_send (conn, MPEL_FRAME_RETURN, 0, frame->id, NULL,
                         g_variant_new_parsed ("@a{sv} {}"), NULL, NULL);
  return TRUE;
}

static void
fake_on_closed (MpelConnection *conn,
                const GError   *error,
                gpointer        user_data)
{
  g_main_loop_quit (((FakeWorker *) user_data)->main_loop);
}

static int
run_fake_worker (void)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  FakeWorker fake = { NULL, NULL };
  const char *fd = g_getenv ("MPEL_FD");

  g_assert_nonnull (fd);
  fake.main_loop = g_main_loop_new (NULL, FALSE);
  fake.conn = _mpel_connection_new (atoi (fd), NULL, fake_on_frame, fake_on_closed, &fake);
  g_variant_dict_insert (&dict, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
  g_variant_dict_insert (&dict, "pid", "i", (gint32) getpid ());
  _mpel_connection_send (fake.conn, MPEL_FRAME_HELLO, 0, 0, "fake", g_variant_dict_end (&dict), NULL, NULL);
  g_main_loop_run (fake.main_loop);
  _mpel_connection_unref (fake.conn);
  g_main_loop_unref (fake.main_loop);
  return 0;
}

static void
test_hostile_change (void)
{
  const char *argv[] = { self_path, "--fake-worker", NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(MpelProxy) list = mpel_proxy_new (loop, "Gio.ListStore", NULL, NULL, NULL);
  g_autoptr(MpelListModel) model = mpel_list_model_new (list, MPEL_TYPE_PROXY);
  const char *message;

  test_iterate_until (mpel_proxy_get_state (list) == MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (list), MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  message = mpel_proxy_get_error (list)->message;
  if (strstr (message, "does not fit a list of 2") == NULL)
    g_error ("“%s” does not say why", message);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 0);

  mpel_loop_stop (loop);
}

int
main (int   argc,
      char *argv[])
{
  if (argc >= 2 && g_str_equal (argv[1], "--fake-worker"))
    return run_fake_worker ();

  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/ListModel/string-list", test_string_list);
  g_test_add_func ("/Mpel/ListModel/coalesced-and-live", test_coalesced_and_live);
  g_test_add_func ("/Mpel/ListModel/scale", test_scale);
  g_test_add_func ("/Mpel/ListModel/fetch-crosses-change", test_fetch_crosses_change);
  g_test_add_func ("/Mpel/ListModel/crash", test_crash);
  g_test_add_func ("/Mpel/ListModel/not-a-list", test_not_a_list);
  g_test_add_func ("/Mpel/ListModel/hostile-change", test_hostile_change);

  return g_test_run ();
}
