/* test-worker-objects.c: a worker's remote objects, in-process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "mpel-worker-objects-private.h"
#include "mpel-worker-private.h"
#include "mpel-test-util.h"

/* A type without a typelib, as a module would register, and a subtype */

#define TEST_TYPE_POINT (test_point_get_type ())
G_DECLARE_DERIVABLE_TYPE (TestPoint, test_point, TEST, POINT, GObject)

struct _TestPointClass
{
  GObjectClass parent_class;
};

typedef struct
{
  int x;
  int y;
} TestPointPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (TestPoint, test_point, G_TYPE_OBJECT)

enum { PROP_0, PROP_X, PROP_Y, N_PROPS };
static GParamSpec *point_properties[N_PROPS];

static void
test_point_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  TestPointPrivate *priv = test_point_get_instance_private (TEST_POINT (object));

  switch (prop_id)
    {
    case PROP_X: g_value_set_int (value, priv->x); break;
    case PROP_Y: g_value_set_int (value, priv->y); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_point_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  TestPointPrivate *priv = test_point_get_instance_private (TEST_POINT (object));

  switch (prop_id)
    {
    case PROP_X: priv->x = g_value_get_int (value); break;
    case PROP_Y: priv->y = g_value_get_int (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_point_class_init (TestPointClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_point_get_property;
  object_class->set_property = test_point_set_property;
  point_properties[PROP_X] = g_param_spec_int ("x", NULL, NULL, 0, 100, 0,
                                               G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  point_properties[PROP_Y] = g_param_spec_int ("y", NULL, NULL, 0, 100, 0,
                                               G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, point_properties);
}

static void
test_point_init (TestPoint *self)
{
}

#define TEST_TYPE_POINT3 (test_point3_get_type ())
G_DECLARE_FINAL_TYPE (TestPoint3, test_point3, TEST, POINT3, TestPoint)

struct _TestPoint3
{
  TestPoint parent_instance;
};

G_DEFINE_FINAL_TYPE (TestPoint3, test_point3, TEST_TYPE_POINT)

static void
test_point3_class_init (TestPoint3Class *klass)
{
}

static void
test_point3_init (TestPoint3 *self)
{
}

typedef struct
{
  GObject *object;
  guint    calls;
  char    *tag;
} Seen;

/* move (x, y): sets both, answers their sum */
static void
handle_move (MpelInvocation *invocation,
             GObject        *object,
             gpointer        user_data)
{
  Seen *seen = user_data;
  int x, y;

  seen->object = object;
  seen->calls++;
  g_variant_get (mpel_invocation_get_args (invocation), "(ii)", &x, &y);
  g_object_set (object, "x", x, "y", y, NULL);
  mpel_invocation_return_value (invocation, g_variant_new_int32 (x + y));
}

static void
handle_other (MpelInvocation *invocation,
              GObject        *object,
              gpointer        user_data)
{
  Seen *seen = user_data;

  seen->object = object;
  seen->calls++;
  mpel_invocation_return_value (invocation, NULL);
}

static void
seen_free (gpointer data)
{
  Seen *seen = data;

  g_free (seen->tag);
  g_free (seen);
}

static void
count_activate (guint *count)
{
  (*count)++;
}

static Seen *
seen_new (const char *tag)
{
  Seen *seen = g_new0 (Seen, 1);

  seen->tag = g_strdup (tag);
  return seen;
}

static MpelInvocation *
invocation_new (MpelWorker *worker,
                const char *method,
                GVariant   *args)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (args);
  g_autoptr(GVariant) kwargs = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));

  /* No connection: the answer goes nowhere, but is made */
  return _mpel_invocation_new (worker, 1, method, owned, kwargs, TRUE);
}

static void
test_add_method (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(TestPoint) point = g_object_new (TEST_TYPE_POINT, NULL);
  g_autoptr(TestPoint) point3 = g_object_new (TEST_TYPE_POINT3, NULL);
  g_autoptr(GSimpleAction) action = g_simple_action_new ("a", NULL);
  g_autoptr(MpelInvocation) invocation = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  Seen *for_point = seen_new ("point");
  Seen *for_point3 = seen_new ("point3");
  Seen *for_action = seen_new ("action");
  gpointer user_data = NULL;
  guint64 handle;
  int x, y;

  mpel_worker_add_method (worker, TEST_TYPE_POINT, "move", handle_move, for_point, seen_free);
  /* For an interface: GSimpleAction is a GAction */
  mpel_worker_add_method (worker, G_TYPE_ACTION, "describe", handle_other, for_action, seen_free);

  /* A subtype finds its ancestor's */
  g_assert_true (_mpel_worker_objects_lookup_method (worker, TEST_TYPE_POINT3, "move", &user_data) == handle_move);
  g_assert_true (user_data == for_point);
  g_assert_true (_mpel_worker_objects_lookup_method (worker, TEST_TYPE_POINT, "move", &user_data) == handle_move);
  g_assert_null (_mpel_worker_objects_lookup_method (worker, G_TYPE_OBJECT, "move", &user_data));
  g_assert_null (_mpel_worker_objects_lookup_method (worker, TEST_TYPE_POINT, "nope", &user_data));
  g_assert_true (_mpel_worker_objects_lookup_method (worker, G_TYPE_SIMPLE_ACTION, "describe", &user_data) == handle_other);
  g_assert_true (user_data == for_action);

  /* …until the subtype has its own, which the parent does not see */
  mpel_worker_add_method (worker, TEST_TYPE_POINT3, "move", handle_other, for_point3, seen_free);
  g_assert_true (_mpel_worker_objects_lookup_method (worker, TEST_TYPE_POINT3, "move", &user_data) == handle_other);
  g_assert_true (user_data == for_point3);
  g_assert_true (_mpel_worker_objects_lookup_method (worker, TEST_TYPE_POINT, "move", &user_data) == handle_move);

  /* Called through the object table */
  handle = _mpel_worker_objects_add (worker, G_OBJECT (point));
  invocation = invocation_new (worker, "move", g_variant_new ("(ii)", 3, 4));
  _mpel_worker_objects_call (worker, handle, invocation);
  g_assert_true (mpel_invocation_is_returned (invocation));
  g_assert_cmpuint (for_point->calls, ==, 1);
  g_assert_true (for_point->object == G_OBJECT (point));
  g_object_get (point, "x", &x, "y", &y, NULL);
  g_assert_cmpint (x, ==, 3);
  g_assert_cmpint (y, ==, 4);
  g_clear_object (&invocation);

  handle = _mpel_worker_objects_add (worker, G_OBJECT (point3));
  invocation = invocation_new (worker, "move", g_variant_new ("(ii)", 3, 4));
  _mpel_worker_objects_call (worker, handle, invocation);
  g_assert_cmpuint (for_point3->calls, ==, 1);
  g_assert_cmpuint (for_point->calls, ==, 1);
  g_clear_object (&invocation);

  /* A handler takes precedence over GI: GSimpleAction has "activate" */
  {
    Seen *for_activate = seen_new ("activate");
    guint activated = 0;

    g_signal_connect_swapped (action, "activate", G_CALLBACK (count_activate), &activated);
    mpel_worker_add_method (worker, G_TYPE_SIMPLE_ACTION, "activate", handle_other, for_activate, seen_free);
    handle = _mpel_worker_objects_add (worker, G_OBJECT (action));
    invocation = invocation_new (worker, "activate", g_variant_new ("(mv)", NULL));
    _mpel_worker_objects_call (worker, handle, invocation);
    g_assert_true (mpel_invocation_is_returned (invocation));
    g_assert_cmpuint (for_activate->calls, ==, 1);
    g_assert_cmpuint (activated, ==, 0);
    g_clear_object (&invocation);

    /* Without the handler, GI calls the real one */
    invocation = invocation_new (worker, "activate", g_variant_new ("(mv)", NULL));
    g_assert_true (_mpel_worker_objects_invoke (worker, handle, "activate", mpel_invocation_get_args (invocation),
                                                NULL, &result, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (activated, ==, 1);
    g_clear_object (&invocation);
  }

  g_assert_finalize_object (g_steal_pointer (&worker));
  g_assert_finalize_object (g_steal_pointer (&point));
  g_assert_finalize_object (g_steal_pointer (&point3));
  g_assert_finalize_object (g_steal_pointer (&action));
}

/* Replacing a method frees the first one's data */
static void
test_add_method_replace (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();

  {
    g_autoptr(GObject) sentinel = g_object_new (G_TYPE_OBJECT, NULL);

    mpel_worker_add_method (worker, TEST_TYPE_POINT, "move", handle_other,
                            g_object_ref (sentinel), g_object_unref);
    mpel_worker_add_method (worker, TEST_TYPE_POINT, "move", handle_move, NULL, NULL);
    g_assert_finalize_object (g_steal_pointer (&sentinel));
  }

  g_assert_finalize_object (g_steal_pointer (&worker));
}

static void
test_handles (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GObject) a = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GObject) b = g_object_new (G_TYPE_OBJECT, NULL);
  guint64 ha, ha2, hb, hc;

  g_assert_cmpuint (_mpel_worker_objects_get_n_objects (worker), ==, 0);
  ha = _mpel_worker_objects_add (worker, a);
  hb = _mpel_worker_objects_add (worker, b);
  g_assert_cmpuint (ha, !=, 0);
  g_assert_cmpuint (hb, !=, ha);
  /* One handle per object, however often sent */
  ha2 = _mpel_worker_objects_add (worker, a);
  g_assert_cmpuint (ha2, ==, ha);
  g_assert_cmpuint (_mpel_worker_objects_get_n_objects (worker), ==, 2);
  g_assert_true (_mpel_worker_objects_lookup (worker, ha) == a);
  g_assert_null (_mpel_worker_objects_lookup (worker, 0));
  g_assert_null (_mpel_worker_objects_lookup (worker, hb + 100));

  /* A release counts the sendings the app saw: one of two leaves it */
  g_assert_false (_mpel_worker_objects_release (worker, ha, 3));
  g_assert_false (_mpel_worker_objects_release (worker, ha, 0));
  g_assert_true (_mpel_worker_objects_release (worker, ha, 1));
  g_assert_true (_mpel_worker_objects_lookup (worker, ha) == a);
  g_assert_true (_mpel_worker_objects_release (worker, ha, 1));
  g_assert_null (_mpel_worker_objects_lookup (worker, ha));
  g_assert_false (_mpel_worker_objects_release (worker, ha, 1));
  g_assert_cmpuint (_mpel_worker_objects_get_n_objects (worker), ==, 1);

  /* The table held the only other reference */
  g_assert_finalize_object (g_steal_pointer (&a));

  /* Handles are not reused */
  {
    g_autoptr(GObject) c = g_object_new (G_TYPE_OBJECT, NULL);

    hc = _mpel_worker_objects_add (worker, c);
    g_assert_cmpuint (hc, >, hb);
    g_assert_true (_mpel_worker_objects_release (worker, hc, 1));
    g_assert_finalize_object (g_steal_pointer (&c));
  }

  /* The worker's end frees the rest */
  g_object_ref (b);
  g_object_unref (b);
  g_assert_finalize_object (g_steal_pointer (&worker));
  g_assert_finalize_object (g_steal_pointer (&b));
}

static void
test_export (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GObject) a = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GObject) b = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GError) error = NULL;
  guint64 handle = 0;
  guint64 again = 0;

  mpel_worker_export_object (worker, "main", a);
  g_assert_true (_mpel_worker_objects_lookup_name (worker, "main", &handle, &error));
  g_assert_no_error (error);
  g_assert_true (_mpel_worker_objects_lookup (worker, handle) == a);
  g_assert_true (_mpel_worker_objects_lookup_name (worker, "main", &again, &error));
  g_assert_cmpuint (again, ==, handle);

  g_assert_false (_mpel_worker_objects_lookup_name (worker, "other", &handle, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_assert_nonnull (strstr (error->message, "other"));
  g_clear_error (&error);

  /* Replaced, then withdrawn; handles already given stay valid */
  mpel_worker_export_object (worker, "main", b);
  g_assert_true (_mpel_worker_objects_lookup_name (worker, "main", &again, &error));
  g_assert_true (_mpel_worker_objects_lookup (worker, again) == b);
  mpel_worker_export_object (worker, "main", NULL);
  g_assert_false (_mpel_worker_objects_lookup_name (worker, "main", &again, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_clear_error (&error);
  g_assert_true (_mpel_worker_objects_lookup (worker, handle) == a);

  g_assert_finalize_object (g_steal_pointer (&worker));
  g_assert_finalize_object (g_steal_pointer (&a));
  g_assert_finalize_object (g_steal_pointer (&b));
}

/* Made by name, read, set, called through GI; objects in values become
 * handles of this table. */
static void
test_new_and_invoke (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GVariant) values = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *properties[] = { "x", NULL };
  const char *getters[] = { "get_name", NULL };
  guint64 point = 0, store = 0, action = 0;
  GObject *object;

  values = g_variant_ref_sink (g_variant_new_parsed ("{'x': <int64 5>, 'y': <7>}"));
  g_assert_true (_mpel_worker_objects_new (worker, "TestPoint", values, &point, &error));
  g_assert_no_error (error);
  object = _mpel_worker_objects_lookup (worker, point);
  g_assert_true (TEST_IS_POINT (object));
  g_clear_pointer (&values, g_variant_unref);

  g_assert_false (_mpel_worker_objects_new (worker, "NoSuchType", NULL, &point, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_assert_nonnull (strstr (error->message, "NoSuchType"));
  g_clear_error (&error);

  /* Properties, with the param spec's range */
  g_assert_true (_mpel_worker_objects_read (worker, point, properties, NULL, NULL, &values, &error));
  g_assert_no_error (error);
  text = g_variant_print (values, FALSE);
  g_assert_cmpstr (text, ==, "{'x': <5>}");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&values, g_variant_unref);
  {
    g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_int32 (200));

    g_assert_false (_mpel_worker_objects_set_property (worker, point, "x", v, &error));
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    g_assert_nonnull (strstr (error->message, "“x”"));
    g_clear_error (&error);
    g_clear_pointer (&v, g_variant_unref);
    v = g_variant_ref_sink (g_variant_new_int32 (9));
    g_assert_true (_mpel_worker_objects_set_property (worker, point, "x", v, &error));
    g_assert_no_error (error);
  }
  g_assert_true (_mpel_worker_objects_read (worker, point, NULL, NULL, NULL, &values, &error));
  {
    int x = 0, y = 0;

    g_assert_cmpuint (g_variant_n_children (values), ==, 2);
    g_assert_true (g_variant_lookup (values, "x", "i", &x));
    g_assert_true (g_variant_lookup (values, "y", "i", &y));
    g_assert_cmpint (x, ==, 9);
    g_assert_cmpint (y, ==, 7);
  }
  g_clear_pointer (&values, g_variant_unref);

  /* No typelib, no handler: no such method */
  g_assert_false (_mpel_worker_objects_invoke (worker, point, "move", NULL, NULL, &result, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_METHOD);
  g_assert_nonnull (strstr (error->message, "TestPoint"));
  g_clear_error (&error);

  /* GI, with objects as handles of this table */
  values = g_variant_ref_sink (g_variant_new_parsed ("{'item-type': <'GSimpleAction'>}"));
  g_assert_true (_mpel_worker_objects_new (worker, "Gio.ListStore", values, &store, &error));
  g_clear_pointer (&values, g_variant_unref);
  values = g_variant_ref_sink (g_variant_new_parsed ("{'name': <'go'>}"));
  g_assert_true (_mpel_worker_objects_new (worker, "Gio.SimpleAction", values, &action, &error));
  g_clear_pointer (&values, g_variant_unref);
  g_assert_no_error (error);

  g_assert_true (_mpel_worker_objects_invoke (worker, store, "append", g_variant_new ("(t)", action),
                                              NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_null (result);
  g_assert_true (_mpel_worker_objects_invoke (worker, store, "get_item", g_variant_new ("(u)", 0),
                                              NULL, &result, &error));
  g_assert_cmpuint (g_variant_get_uint64 (result), ==, action);
  g_clear_pointer (&result, g_variant_unref);
  /* Sent twice now (made, returned): one release leaves it */
  g_assert_true (_mpel_worker_objects_release (worker, action, 1));
  g_assert_nonnull (_mpel_worker_objects_lookup (worker, action));

  /* Getters and properties in one a{sv} */
  g_assert_true (_mpel_worker_objects_read (worker, action, (const char *[]) { "enabled", NULL },
                                            getters, NULL, &values, &error));
  g_assert_no_error (error);
  text = g_variant_print (values, FALSE);
  g_assert_cmpstr (text, ==, "{'enabled': <true>, 'get_name': <'go'>}");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&values, g_variant_unref);

  /* The dispatcher takes the GI path when no handler is registered */
  {
    g_autoptr(MpelInvocation) invocation = invocation_new (worker, "set_enabled", g_variant_new ("(b)", FALSE));

    _mpel_worker_objects_call (worker, action, invocation);
    g_assert_true (mpel_invocation_is_returned (invocation));
    g_assert_false (g_action_get_enabled (G_ACTION (_mpel_worker_objects_lookup (worker, action))));
  }
  /* …and answers an unknown handle too */
  {
    g_autoptr(MpelInvocation) invocation = invocation_new (worker, "set_enabled", g_variant_new ("(b)", FALSE));

    _mpel_worker_objects_call (worker, 12345, invocation);
    g_assert_true (mpel_invocation_is_returned (invocation));
  }

  g_assert_false (_mpel_worker_objects_invoke (worker, 12345, "get_name", NULL, NULL, &result, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_assert_nonnull (strstr (error->message, "12345"));
  g_clear_error (&error);

  /* A handle in an argument that is not in the table */
  g_assert_false (_mpel_worker_objects_invoke (worker, store, "append", g_variant_new ("(t)", 999),
                                               NULL, &result, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_clear_error (&error);

  g_assert_finalize_object (g_steal_pointer (&worker));
}

/* Over a real connection: a worker (this program with --worker) whose
 * targets call the object table as the proxy targets will. The answers,
 * and the errors of GI methods with their domain and code, reach the app. */

static const char *self_path;

static void
handle_obj_new (MpelInvocation *invocation,
                gpointer        user_data)
{
  MpelWorker *worker = mpel_invocation_get_worker (invocation);
  g_autoptr(GVariant) values = NULL;
  const char *type_name;
  GError *error = NULL;
  guint64 handle;

  g_variant_get (mpel_invocation_get_args (invocation), "(&s@a{sv})", &type_name, &values);
  if (_mpel_worker_objects_new (worker, type_name, values, &handle, &error))
    mpel_invocation_return_value (invocation, g_variant_new_uint64 (handle));
  else
    mpel_invocation_take_error (invocation, error);
}

static void
handle_obj_invoke (MpelInvocation *invocation,
                   gpointer        user_data)
{
  MpelWorker *worker = mpel_invocation_get_worker (invocation);
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GVariant) result = NULL;
  const char *method;
  GError *error = NULL;
  guint64 handle;

  g_variant_get (mpel_invocation_get_args (invocation), "(t&sv)", &handle, &method, &args);
  if (_mpel_worker_objects_invoke (worker, handle, method, args, mpel_invocation_get_cancellable (invocation),
                                   &result, &error))
    mpel_invocation_return_value (invocation, g_steal_pointer (&result));
  else
    mpel_invocation_take_error (invocation, error);
}

static void
handle_obj_release (MpelInvocation *invocation,
                    gpointer        user_data)
{
  MpelWorker *worker = mpel_invocation_get_worker (invocation);
  guint64 handle;
  guint n_seen;

  g_variant_get (mpel_invocation_get_args (invocation), "(tu)", &handle, &n_seen);
  mpel_invocation_return_value (invocation,
                                g_variant_new_boolean (_mpel_worker_objects_release (worker, handle, n_seen)));
}

static void
handle_obj_count (MpelInvocation *invocation,
                  gpointer        user_data)
{
  MpelWorker *worker = mpel_invocation_get_worker (invocation);

  mpel_invocation_return_value (invocation, g_variant_new_uint32 (_mpel_worker_objects_get_n_objects (worker)));
}

static int
run_worker (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GError) error = NULL;

  mpel_worker_add_handler (worker, "obj.new", handle_obj_new, NULL, NULL);
  mpel_worker_add_handler (worker, "obj.invoke", handle_obj_invoke, NULL, NULL);
  mpel_worker_add_handler (worker, "obj.release", handle_obj_release, NULL, NULL);
  mpel_worker_add_handler (worker, "obj.count", handle_obj_count, NULL, NULL);

  if (!mpel_worker_run (worker, &error))
    {
      g_printerr ("worker: %s\n", error->message);
      return 1;
    }
  return 0;
}

/* --worker-thread: a worker set up in the process's main thread (an object
 * exported), then served from another thread with a context of its own,
 * as an app may run an in-process worker. */
static gpointer
serve_in_thread (gpointer data)
{
  MpelWorker *worker = data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_main_context_push_thread_default (context);
  ok = mpel_worker_run (worker, &error);
  if (!ok)
    g_printerr ("worker: %s\n", error->message);
  g_main_context_pop_thread_default (context);

  return GINT_TO_POINTER (ok);
}

static int
run_worker_in_thread (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", NULL);
  GThread *thread;

  mpel_worker_export_object (worker, "the-action", G_OBJECT (action));
  thread = g_thread_new ("serve", serve_in_thread, worker);

  return g_thread_join (thread) != NULL ? 0 : 1;
}


static GVariant *
invoke (MpelLoop    *loop,
        guint64      handle,
        const char  *method,
        GVariant    *args,
        GError     **error)
{
  return test_call_sync (loop, "obj.invoke",
                         g_variant_new ("(tsv)", handle, method,
                                        args != NULL ? args : g_variant_new_tuple (NULL, 0)),
                         error);
}

static void
test_over_the_wire (void)
{
  const char *argv[] = { self_path, "--worker", NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  guint64 action, stream;

  value = test_call_sync (loop, "obj.new", g_variant_new_parsed ("('Gio.SimpleAction', {'name': <'go'>})"), &error);
  g_assert_no_error (error);
  action = g_variant_get_uint64 (value);
  g_clear_pointer (&value, g_variant_unref);

  value = invoke (loop, action, "get_name", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "go");
  g_clear_pointer (&value, g_variant_unref);

  /* mpel's errors keep their codes… */
  value = invoke (loop, action, "no_such_method", NULL, &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_METHOD);
  g_clear_error (&error);
  value = test_call_sync (loop, "obj.new", g_variant_new_parsed ("('Gtk-99.0.Nothing', @a{sv} {})"), &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_assert_nonnull (strstr (error->message, "Gtk-99.0.Nothing"));
  g_clear_error (&error);

  /* …and a method's own error its domain and code */
  value = test_call_sync (loop, "obj.new", g_variant_new_parsed ("('Gio.MemoryInputStream', @a{sv} {})"), &error);
  g_assert_no_error (error);
  stream = g_variant_get_uint64 (value);
  g_clear_pointer (&value, g_variant_unref);
  value = invoke (loop, stream, "close", NULL, &error);
  g_assert_no_error (error);
  value = invoke (loop, stream, "read_bytes", g_variant_new ("(x)", (gint64) 1), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_assert_null (value);
  g_clear_error (&error);

  /* Released, the worker's table is empty again */
  value = test_call_sync (loop, "obj.count", NULL, &error);
  g_assert_cmpuint (g_variant_get_uint32 (value), ==, 2);
  g_clear_pointer (&value, g_variant_unref);
  value = test_call_sync (loop, "obj.release", g_variant_new ("(tu)", action, 1), &error);
  g_assert_true (g_variant_get_boolean (value));
  g_clear_pointer (&value, g_variant_unref);
  value = test_call_sync (loop, "obj.release", g_variant_new ("(tu)", stream, 1), &error);
  g_assert_true (g_variant_get_boolean (value));
  g_clear_pointer (&value, g_variant_unref);
  value = test_call_sync (loop, "obj.count", NULL, &error);
  g_assert_cmpuint (g_variant_get_uint32 (value), ==, 0);
  g_clear_pointer (&value, g_variant_unref);

  mpel_loop_stop (loop);
  test_iterate_until (!mpel_loop_is_running (loop));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A worker served from another thread than the one that set it up: its
 * object's changes are sent from where it serves (see
 * _mpel_worker_objects_serve_here()), ahead of the answer. */
static void
test_served_from_thread (void)
{
  const char *argv[] = { self_path, "--worker-thread", NULL };
  const char *properties[] = { "enabled", NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(MpelProxy) action = NULL;
  g_autoptr(MpelEvent) call = NULL;
  g_autoptr(GVariant) enabled = NULL;

  action = mpel_proxy_new_for_name (loop, "the-action", properties, NULL);
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (action), ==, MPEL_PROXY_STATE_READY);
  enabled = mpel_proxy_get_value (action, "enabled");
  g_assert_true (g_variant_get_boolean (enabled));
  g_clear_pointer (&enabled, g_variant_unref);

  call = g_object_ref (mpel_proxy_call (action, "set_enabled", g_variant_new ("(b)", FALSE)));
  test_iterate_until (mpel_event_is_finished (call));
  g_assert_no_error (mpel_event_get_error (call));
  enabled = mpel_proxy_get_value (action, "enabled");
  g_assert_false (g_variant_get_boolean (enabled));

  mpel_loop_stop (loop);
  test_iterate_until (!mpel_loop_is_running (loop));
  g_clear_object (&action);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Many made and released leave the table as it was */
static void
test_cycles (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 2000; i++)
    {
      guint64 handle = 0;

      g_assert_true (_mpel_worker_objects_new (worker, "Gio.SimpleAction",
                                               g_variant_new_parsed ("{'name': <'a'>}"), &handle, &error));
      g_assert_no_error (error);
      g_assert_true (_mpel_worker_objects_release (worker, handle, 1));
    }
  g_assert_cmpuint (_mpel_worker_objects_get_n_objects (worker), ==, 0);

  g_assert_finalize_object (g_steal_pointer (&worker));
}

int
main (int   argc,
      char *argv[])
{
  if (argc >= 2 && g_str_equal (argv[1], "--worker"))
    return run_worker ();
  if (argc >= 2 && g_str_equal (argv[1], "--worker-thread"))
    return run_worker_in_thread ();

  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);
  /* Known by name, as a module's type once registered */
  g_type_ensure (TEST_TYPE_POINT);

  g_test_add_func ("/Mpel/WorkerObjects/add-method", test_add_method);
  g_test_add_func ("/Mpel/WorkerObjects/add-method/replace", test_add_method_replace);
  g_test_add_func ("/Mpel/WorkerObjects/handles", test_handles);
  g_test_add_func ("/Mpel/WorkerObjects/export", test_export);
  g_test_add_func ("/Mpel/WorkerObjects/new-and-invoke", test_new_and_invoke);
  g_test_add_func ("/Mpel/WorkerObjects/cycles", test_cycles);
  g_test_add_func ("/Mpel/WorkerObjects/over-the-wire", test_over_the_wire);
  g_test_add_func ("/Mpel/WorkerObjects/served-from-thread", test_served_from_thread);

  return g_test_run ();
}
