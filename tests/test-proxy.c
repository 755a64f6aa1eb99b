/* test-proxy.c: MpelProxy, a GObject in the worker mirrored in the app
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
#include "mpel-peer-private.h"
#include "mpel-test-util.h"

static const char *self_path;

/* The app side of the seed's Point: x and y mirrored as real properties,
 * get_z as a getter. */
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
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  g_object_class_install_property (object_class, 1,
    g_param_spec_int ("x", NULL, NULL, G_MININT, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, 2,
    g_param_spec_int ("y", NULL, NULL, G_MININT, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  mpel_proxy_class_add_getter (MPEL_PROXY_CLASS (klass), "get_z");
}

static void
my_point_proxy_init (MyPointProxy *self)
{
}

/* A local object to bind to */
#define TEST_TYPE_KNOB (test_knob_get_type ())
G_DECLARE_FINAL_TYPE (TestKnob, test_knob, TEST, KNOB, GObject)

struct _TestKnob
{
  GObject  parent_instance;
  int      value;
  GArray  *seen;
};

G_DEFINE_FINAL_TYPE (TestKnob, test_knob, G_TYPE_OBJECT)

static GParamSpec *knob_value_pspec;

static void
test_knob_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  g_value_set_int (value, TEST_KNOB (object)->value);
}

static void
test_knob_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TestKnob *self = TEST_KNOB (object);
  int v = g_value_get_int (value);

  if (self->value == v)
    return;
  self->value = v;
  g_array_append_val (self->seen, v);
  g_object_notify_by_pspec (object, pspec);
}

static void
test_knob_finalize (GObject *object)
{
  g_array_unref (TEST_KNOB (object)->seen);
  G_OBJECT_CLASS (test_knob_parent_class)->finalize (object);
}

static void
test_knob_class_init (TestKnobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_knob_get_property;
  object_class->set_property = test_knob_set_property;
  object_class->finalize = test_knob_finalize;
  knob_value_pspec = g_param_spec_int ("value", NULL, NULL, G_MININT, G_MAXINT, 0,
                                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (object_class, 1, knob_value_pspec);
}

static void
test_knob_init (TestKnob *self)
{
  self->seen = g_array_new (FALSE, FALSE, sizeof (int));
}

static int
get_int (MpelProxy  *proxy,
         const char *name)
{
  g_autoptr(GVariant) value = mpel_proxy_get_value (proxy, name);

  g_assert_nonnull (value);
  return g_variant_get_int32 (value);
}

static gboolean
get_boolean (MpelProxy  *proxy,
             const char *name)
{
  g_autoptr(GVariant) value = mpel_proxy_get_value (proxy, name);

  g_assert_nonnull (value);
  return g_variant_get_boolean (value);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              guint      *count)
{
  (*count)++;
}

static void
count_changed (MpelProxy  *proxy,
               const char *name,
               GVariant   *value,
               guint      *count)
{
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT) == FALSE);
  (*count)++;
}

/* The seed's example, with a plain proxy */
static void
test_point_plain (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  const char *props[] = { "x", "y", NULL };
  const char *getters[] = { "get_z", NULL };
  g_autoptr(MpelProxy) point = NULL;
  g_autoptr(GVariant) z = NULL;
  guint n_changed_x = 0;

  point = mpel_proxy_new (loop, "MyPoint", NULL, props, getters);
  g_signal_connect (point, "changed::x", G_CALLBACK (count_changed), &n_changed_x);
  g_assert_cmpint (mpel_proxy_get_state (point), ==, MPEL_PROXY_STATE_PENDING);
  mpel_proxy_call (point, "set_z", g_variant_new ("(i)", 3));
  mpel_proxy_call (point, "move", g_variant_new ("(iii)", 1, 2, 7));

  /* Nothing dispatched yet */
  g_assert_null (mpel_proxy_get_value (point, "x"));
  z = mpel_proxy_get_value (point, "get_z");
  g_assert_true (z == NULL || g_variant_get_int32 (z) != 3);

  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (point), ==, MPEL_PROXY_STATE_READY);
  g_assert_null (mpel_proxy_get_error (point));
  g_assert_cmpint (get_int (point, "x"), ==, 1);
  g_assert_cmpint (get_int (point, "y"), ==, 2);
  g_assert_cmpint (get_int (point, "get_z"), ==, 7);
  /* 0 at creation, then 1 */
  g_assert_cmpuint (n_changed_x, ==, 2);

  mpel_loop_stop (loop);
  g_assert_finalize_object (g_steal_pointer (&point));
}

typedef struct
{
  GObject *point;
  int      x;
} XAtEnd;

static void
read_x_at_end (MpelEvent *event,
               XAtEnd    *at_end)
{
  g_object_get (at_end->point, "x", &at_end->x, NULL);
}

/* The same with a C subclass made the GObject way */
static void
test_point_subclass (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MyPointProxy) point = NULL;
  g_autoptr(GVariant) z = NULL;
  guint n_notify_x = 0, n_notify_y = 0;
  int x = -1, y = -1;

  point = g_object_new (MY_TYPE_POINT_PROXY, "loop", loop, "remote-type", "MyPoint", NULL);
  g_signal_connect (point, "notify::x", G_CALLBACK (count_notify), &n_notify_x);
  g_signal_connect (point, "notify::y", G_CALLBACK (count_notify), &n_notify_y);
  g_assert_cmpstrv (mpel_proxy_get_getters (MPEL_PROXY (point)), ((const char *[]) { "get_z", NULL }));

  mpel_proxy_call (MPEL_PROXY (point), "set_z", g_variant_new ("(i)", 3));
  mpel_proxy_call (MPEL_PROXY (point), "move", g_variant_new ("(iii)", 1, 2, 7));
  g_object_get (point, "x", &x, "y", &y, NULL);
  g_assert_cmpint (x, ==, 0);
  g_assert_cmpint (y, ==, 0);
  z = mpel_proxy_get_value (MPEL_PROXY (point), "get_z");
  g_assert_true (z == NULL || g_variant_get_int32 (z) != 3);

  test_wait (loop);
  g_object_get (point, "x", &x, "y", &y, NULL);
  g_assert_cmpint (x, ==, 1);
  g_assert_cmpint (y, ==, 2);
  g_assert_cmpint (get_int (MPEL_PROXY (point), "get_z"), ==, 7);
  /* Once per change; creation's 0 is the default, no change */
  g_assert_cmpuint (n_notify_x, ==, 1);
  g_assert_cmpuint (n_notify_y, ==, 1);

  /* A method that answers later: its changes still come first, so the
   * mirror is current when the call ends */
  {
    g_autoptr(MpelEvent) event = NULL;
    XAtEnd at_end = { G_OBJECT (point), -1 };

    event = g_object_ref (mpel_proxy_call (MPEL_PROXY (point), "move_later", g_variant_new ("(i)", 9)));
    g_signal_connect (event, "finished", G_CALLBACK (read_x_at_end), &at_end);
    test_wait (loop);
    g_assert_cmpint (at_end.x, ==, 9);
    g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (event)), ==, 9);
    g_assert_cmpuint (n_notify_x, ==, 2);
    mpel_proxy_call (MPEL_PROXY (point), "move", g_variant_new ("(iii)", 1, 2, 7));
    test_wait (loop);
    g_assert_cmpuint (n_notify_x, ==, 3);
    n_notify_x = 1;
  }

  /* A call that changes nothing notifies nothing */
  mpel_proxy_call (MPEL_PROXY (point), "move", g_variant_new ("(iii)", 1, 2, 7));
  test_wait (loop);
  g_assert_cmpuint (n_notify_x, ==, 1);
  g_assert_cmpuint (n_notify_y, ==, 1);

  /* A local set goes to the worker; the worker's value wins, also over
   * a value it refuses (x is bounded there) */
  g_object_set (point, "x", 600, NULL);
  test_wait (loop);
  g_object_get (point, "x", &x, NULL);
  g_assert_cmpint (x, ==, 600);
  g_assert_cmpuint (n_notify_x, ==, 2);
  g_object_set (point, "x", 5000, NULL);
  test_wait (loop);
  g_object_get (point, "x", &x, NULL);
  g_assert_cmpint (x, ==, 600);

  mpel_loop_stop (loop);
  g_assert_finalize_object (g_steal_pointer (&point));
}

/* Return values, errors with domain and code, unknown names */
static void
test_results_and_errors (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelProxy) point = NULL;
  g_autoptr(MpelProxy) nothing = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  MpelEvent *event;

  point = mpel_proxy_new (loop, "MyPoint", g_variant_new_parsed ("{'x': <4>}"), NULL, NULL);
  mpel_proxy_call (point, "set_z", g_variant_new ("(i)", 9));
  mpel_proxy_call_async (point, "get_z", NULL, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_proxy_call_finish (point, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 9);
  g_clear_object (&result);
  /* NULL properties: every readable one */
  g_assert_cmpint (get_int (point, "x"), ==, 4);
  g_assert_cmpint (get_int (point, "y"), ==, 0);

  mpel_proxy_call_async (point, "fail", NULL, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  g_assert_null (mpel_proxy_call_finish (point, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&result);

  event = mpel_proxy_call (point, "no_such_method", NULL);
  g_object_ref (event);
  test_wait (loop);
  g_assert_error (mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_NO_SUCH_METHOD);
  g_assert_nonnull (strstr (mpel_event_get_error (event)->message, "no_such_method"));
  g_object_unref (event);

  nothing = mpel_proxy_new (loop, "NoSuchType", NULL, NULL, NULL);
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (nothing), ==, MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (nothing), MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_assert_nonnull (strstr (mpel_proxy_get_error (nothing)->message, "NoSuchType"));

  mpel_loop_stop (loop);
}

static gpointer
cancel_in_thread (gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
  return NULL;
}

static void
record_thread (GObject     *object,
               GParamSpec  *pspec,
               GThread    **thread)
{
  *thread = g_thread_self ();
}

/* A call's cancellable cancelled from another thread while the call runs
 * in the worker: the event ends, and the loop's signals run, in the loop's
 * context, not in the thread that cancelled (mpel_event_cancel () there
 * would touch the loop from two threads). */
static void
test_cancel_from_thread (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelProxy) point = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  GThread *thread;
  GThread *ended_in = NULL;
  MpelEvent *after;

  point = mpel_proxy_new (loop, "MyPoint", NULL, NULL, NULL);
  test_wait (loop);
  g_signal_connect (loop, "notify::n-pending", G_CALLBACK (record_thread), &ended_in);

  mpel_proxy_call_async (point, "wait_cancelled", NULL, cancellable, test_store_result, &result);
  /* Calls of a proxy run in order: once the next one is answered, the
   * worker is running the first. */
  after = g_object_ref (mpel_proxy_call (point, "get_z", NULL));
  test_iterate_until (mpel_event_get_state (after) >= MPEL_EVENT_STATE_DONE);
  g_assert_cmpint (mpel_event_get_state (after), ==, MPEL_EVENT_STATE_DONE);
  g_object_unref (after);
  g_assert_null (result);
  g_assert_null (ended_in);

  thread = g_thread_new ("cancel", cancel_in_thread, cancellable);
  g_thread_join (thread);

  test_iterate_until (result != NULL);
  g_assert_null (mpel_proxy_call_finish (point, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (ended_in == g_thread_self ());
  g_clear_object (&result);

  /* The point still answers */
  mpel_proxy_call_async (point, "get_z", NULL, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_proxy_call_finish (point, result, NULL);
  g_assert_nonnull (value);

  mpel_loop_stop (loop);
}

static void
count_changed_here (MpelProxy  *proxy,
                    const char *name,
                    GVariant   *value,
                    guint      *n)
{
  g_assert_true (g_thread_self () == (GThread *) g_object_get_data (G_OBJECT (proxy), "test-thread"));
  (*n)++;
}

/* A worker object changed from a thread of the worker's (a GTask's): the
 * app mirrors the change, and the call that made it answers after it, as
 * for a change made on the worker's own thread. Ten times over. */
static void
test_changed_in_thread (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelProxy) point = NULL;
  const char *properties[] = { "x", NULL };
  guint n_notify = 0;

  point = mpel_proxy_new (loop, "MyPoint", NULL, properties, NULL);
  test_wait (loop);
  g_object_set_data (G_OBJECT (point), "test-thread", g_thread_self ());
  g_signal_connect (point, "changed::x", G_CALLBACK (count_changed_here), &n_notify);

  for (int round = 1; round <= 10; round++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GVariant) value = NULL;
      g_autoptr(GError) error = NULL;
      guint before = n_notify;

      mpel_proxy_call_async (point, "count_in_thread", g_variant_new ("(i)", 100 * round),
                             NULL, test_store_result, &result);
      test_iterate_until (result != NULL);
      value = mpel_proxy_call_finish (point, result, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_variant_get_int32 (value), ==, 100 * round);
      /* The mirror is there with the answer */
      g_assert_cmpint (get_int (point, "x"), ==, 100 * round);
      g_assert_cmpuint (n_notify, >, before);
    }

  mpel_loop_stop (loop);
}

/* An object the worker exported, by name */
static void
test_attach (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  const char *getters[] = { "get_z", NULL };
  g_autoptr(MpelProxy) point = NULL;
  g_autoptr(MpelProxy) again = NULL;
  g_autoptr(MpelProxy) nothing = NULL;

  point = mpel_proxy_new_for_name (loop, "the-point", NULL, getters);
  mpel_proxy_call (point, "set_z", g_variant_new ("(i)", 4));
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (point), ==, MPEL_PROXY_STATE_READY);
  g_assert_cmpstr (mpel_proxy_get_remote_type (point), ==, "MyPoint");
  g_assert_cmpstr (mpel_proxy_get_remote_name (point), ==, "the-point");
  g_assert_cmpint (get_int (point, "x"), ==, 11);
  g_assert_cmpint (get_int (point, "get_z"), ==, 4);

  /* A second proxy of the same object sees the first one's changes */
  again = mpel_proxy_new_for_name (loop, "the-point", NULL, getters);
  mpel_proxy_call (point, "move", g_variant_new ("(iii)", 5, 6, 7));
  test_wait (loop);
  g_assert_cmpint (get_int (again, "get_z"), ==, 4);
  test_iterate_until (get_int (again, "x") == 5);
  g_assert_cmpint (get_int (again, "y"), ==, 6);

  nothing = mpel_proxy_new_for_name (loop, "no-such-name", NULL, NULL);
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (nothing), ==, MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (nothing), MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_assert_nonnull (strstr (mpel_proxy_get_error (nothing)->message, "no-such-name"));

  mpel_loop_stop (loop);
}

/* A method that returns an object: its handle gives a proxy */
static void
test_returned_object (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  const char *props[] = { "name", "enabled", NULL };
  g_autoptr(MpelProxy) group = NULL;
  g_autoptr(MpelProxy) action = NULL;
  g_autoptr(MpelProxy) found = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GError) error = NULL;
  guint before;

  before = test_count_objects (loop);
  group = mpel_proxy_new (loop, "Gio.SimpleActionGroup", NULL, NULL, NULL);
  action = mpel_proxy_new (loop, "Gio.SimpleAction", g_variant_new_parsed ("{'name': <'go'>}"), props, NULL);
  test_wait (loop);

  /* A proxy's own handle is how the object goes back as an argument */
  mpel_proxy_call (group, "add_action", g_variant_new ("(t)", mpel_proxy_get_handle (action)));
  mpel_proxy_call_async (group, "lookup_action", g_variant_new ("(s)", "go"), NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_proxy_call_finish (group, result, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (test_count_objects (loop), ==, before + 3);
  found = mpel_proxy_new_for_handle (group, g_variant_get_uint64 (value), props, NULL);
  test_wait (loop);
  /* The worker's own handle was taken over, not added to */
  g_assert_cmpuint (test_count_objects (loop), ==, before + 3);
  g_assert_no_error (mpel_proxy_get_error (found));
  g_assert_cmpstr (mpel_proxy_get_remote_type (found), ==, "GSimpleAction");
  name = mpel_proxy_get_value (found, "name");
  g_assert_cmpstr (g_variant_get_string (name, NULL), ==, "go");

  /* The same object: a change through one proxy reaches the other */
  mpel_proxy_set_value (found, "enabled", g_variant_new_boolean (FALSE));
  test_wait (loop);
  test_iterate_until (!get_boolean (action, "enabled"));

  /* Released, the three leave the worker's table (the task held group) */
  g_clear_object (&result);
  g_clear_object (&found);
  g_clear_object (&action);
  g_clear_object (&group);
  g_main_context_iteration (NULL, FALSE);
  test_wait (loop);
  g_assert_cmpuint (test_count_objects (loop), ==, before);

  mpel_loop_stop (loop);
}

/* Gtk.Adjustment through GObject-Introspection in the default host */
static void
test_adjustment (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  const char *props[] = { "value", "lower", "upper", NULL };
  const char *getters[] = { "get_page_size", NULL };
  g_autoptr(MpelProxy) adj = NULL;
  guint n_value_changes = 0;

  adj = mpel_proxy_new (loop, "Gtk-4.0.Adjustment",
                        g_variant_new_parsed ("{'lower': <0.0>, 'upper': <100.0>, 'value': <50.0>}"),
                        props, getters);
  g_signal_connect (adj, "changed::value", G_CALLBACK (count_changed), &n_value_changes);
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (adj), ==, MPEL_PROXY_STATE_READY);
  {
    g_autoptr(GVariant) v = mpel_proxy_get_value (adj, "value");
    g_assert_cmpfloat (g_variant_get_double (v), ==, 50.0);
  }

  /* The worker clamps; the mirror follows */
  mpel_proxy_call (adj, "set_value", g_variant_new ("(d)", 150.0));
  test_wait (loop);
  {
    g_autoptr(GVariant) v = mpel_proxy_get_value (adj, "value");
    g_assert_cmpfloat (g_variant_get_double (v), ==, 100.0);
  }

  mpel_proxy_call (adj, "configure", g_variant_new ("(dddddd)", 10.0, 0.0, 20.0, 1.0, 5.0, 2.0));
  test_wait (loop);
  {
    g_autoptr(GVariant) v = mpel_proxy_get_value (adj, "value");
    g_autoptr(GVariant) upper = mpel_proxy_get_value (adj, "upper");
    g_autoptr(GVariant) page = mpel_proxy_get_value (adj, "get_page_size");
    g_assert_cmpfloat (g_variant_get_double (v), ==, 10.0);
    g_assert_cmpfloat (g_variant_get_double (upper), ==, 20.0);
    g_assert_cmpfloat (g_variant_get_double (page), ==, 2.0);
  }
  g_assert_cmpuint (n_value_changes, ==, 3);

  /* A set is clamped too, and comes back clamped */
  mpel_proxy_set_value (adj, "value", g_variant_new_double (-5.0));
  test_wait (loop);
  {
    g_autoptr(GVariant) v = mpel_proxy_get_value (adj, "value");
    g_assert_cmpfloat (g_variant_get_double (v), ==, 0.0);
  }

  mpel_loop_stop (loop);
}

/* A change made in the worker on its own arrives without a call */
static void
test_live (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MyPointProxy) point = NULL;
  guint n_notify_x = 0, n_notify_y = 0;
  int x = 0;

  point = g_object_new (MY_TYPE_POINT_PROXY, "loop", loop, "remote-type", "MyPoint", NULL);
  g_signal_connect (point, "notify::x", G_CALLBACK (count_notify), &n_notify_x);
  g_signal_connect (point, "notify::y", G_CALLBACK (count_notify), &n_notify_y);
  /* drift changes nothing itself; its timeout changes x 20 ms after the
   * call's answer left, so that change comes on its own */
  mpel_proxy_call (MPEL_PROXY (point), "drift", g_variant_new ("(i)", 42));
  test_wait (loop);

  test_iterate_until (n_notify_x > 0);
  g_object_get (point, "x", &x, NULL);
  g_assert_cmpint (x, ==, 42);
  g_assert_cmpuint (n_notify_x, ==, 1);
  g_assert_cmpuint (n_notify_y, ==, 0);

  /* Nothing else comes: a ping behind it finds the counts unchanged */
  g_variant_unref (test_call_sync (loop, "mpel.ping", NULL, NULL));
  g_assert_cmpuint (n_notify_x, ==, 1);
  g_assert_cmpuint (n_notify_y, ==, 0);

  mpel_loop_stop (loop);
  g_assert_finalize_object (g_steal_pointer (&point));
}

/* Proxies spread over the workers; each one's calls stay in its worker */
static void
test_pinning (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  MpelProxy *points[4];
  int pids[4][5];
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  mpel_loop_set_n_workers (loop, 2);
  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    points[i] = mpel_proxy_new (loop, "MyPoint", NULL, NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    for (guint j = 0; j < 5; j++)
      {
        g_autoptr(GAsyncResult) result = NULL;
        g_autoptr(GVariant) value = NULL;

        mpel_proxy_call_async (points[i], "pid", NULL, NULL, test_store_result, &result);
        test_iterate_until (result != NULL);
        value = mpel_proxy_call_finish (points[i], result, NULL);
        pids[i][j] = g_variant_get_int32 (value);
      }

  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    {
      for (guint j = 1; j < 5; j++)
        g_assert_cmpint (pids[i][j], ==, pids[i][0]);
      g_hash_table_add (seen, GINT_TO_POINTER (pids[i][0]));
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    g_assert_finalize_object (points[i]);
  mpel_loop_stop (loop);
}

/* 10,000 create/release cycles leave the worker's table as it was */
static void
test_release (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  guint before, n = g_getenv ("MPEL_TEST_QUICK") ? 500 : 10000;

  before = test_count_objects (loop);
  for (guint i = 0; i < n; i++)
    {
      MpelProxy *point = mpel_proxy_new (loop, "MyPoint", NULL, NULL, NULL);

      if (i % 2 == 0)
        mpel_proxy_release (point);
      g_object_unref (point);
    }
  /* The releases wait for an idle; waiting covers them all the same */
  test_wait (loop);
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 0);
  g_assert_cmpuint (test_count_objects (loop), ==, before);

  /* So does waiting without blocking */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < 100; i++)
      g_object_unref (mpel_proxy_new (loop, "MyPoint", NULL, NULL, NULL));
    mpel_loop_wait_async (loop, NULL, test_store_result, &result);
    test_iterate_until (result != NULL);
    g_assert_true (mpel_loop_wait_finish (loop, result, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (test_count_objects (loop), ==, before);
  }

  /* A released proxy refuses calls and keeps its values */
  {
    g_autoptr(MpelProxy) point = mpel_proxy_new (loop, "MyPoint", g_variant_new_parsed ("{'y': <8>}"), NULL, NULL);
    MpelEvent *event;

    test_wait (loop);
    mpel_proxy_release (point);
    event = g_object_ref (mpel_proxy_call (point, "get_z", NULL));
    test_wait (loop);
    g_assert_error (mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_CLOSED);
    g_assert_cmpint (get_int (point, "y"), ==, 8);
    g_object_unref (event);
  }

  mpel_loop_stop (loop);
}

/* Keyword arguments reach a method's handler; the handle does not */
static void
test_kwargs (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelProxy) point = mpel_proxy_new (loop, "MyPoint", NULL, NULL, NULL);
  g_autoptr(MpelProxy) action = mpel_proxy_new (loop, "Gio.SimpleAction",
                                                g_variant_new_parsed ("{'name': <'a'>}"), NULL, NULL);
  g_autoptr(MpelEvent) with = NULL;
  g_autoptr(MpelEvent) without = NULL;
  g_autoptr(MpelEvent) wrong = NULL;
  g_autoptr(MpelEvent) reserved = NULL;
  g_autoptr(MpelEvent) typelib = NULL;
  g_autofree char *text = NULL;

  with = g_object_ref (mpel_proxy_call_full (point, "shift", g_variant_new ("(i)", 2),
                                             g_variant_new_parsed ("{'scale': <int64 3>, 'note': <'n'>}")));
  without = g_object_ref (mpel_proxy_call_full (point, "shift", g_variant_new ("(i)", 1), NULL));
  wrong = g_object_ref (mpel_proxy_call_full (point, "shift", g_variant_new ("(i)", 1),
                                              g_variant_new_parsed ("{'scale': <'big'>}")));
  reserved = g_object_ref (mpel_proxy_call_full (point, "shift", g_variant_new ("(i)", 1),
                                                 g_variant_new_parsed ("{'mpel.object': <uint64 1>}")));
  typelib = g_object_ref (mpel_proxy_call_full (action, "get_name", NULL,
                                                g_variant_new_parsed ("{'x': <1>}")));
  test_wait (loop);

  g_assert_no_error (mpel_event_get_error (with));
  text = g_variant_print (mpel_event_get_result (with), FALSE);
  g_assert_cmpstr (text, ==, "{'scale': <int64 3>, 'note': <'n'>}");
  g_assert_no_error (mpel_event_get_error (without));
  g_assert_cmpuint (g_variant_n_children (mpel_event_get_result (without)), ==, 0);
  /* 2 * 3 + 1 */
  g_assert_cmpint (get_int (point, "x"), ==, 7);

  g_assert_error (mpel_event_get_error (wrong), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (mpel_event_get_error (wrong)->message, "scale"));
  g_assert_error (mpel_event_get_error (reserved), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (mpel_event_get_error (reserved)->message, "mpel.object"));
  g_assert_error (mpel_event_get_error (typelib), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (mpel_event_get_error (typelib)->message, "keyword"));
  g_assert_cmpint (get_int (point, "x"), ==, 7);

  mpel_loop_stop (loop);
}

typedef struct
{
  GHashTable *changed;   /* name → count */
  gboolean    ready_before;
} Announced;

static void
count_changed_names (MpelProxy  *proxy,
                     const char *name,
                     GVariant   *value,
                     Announced  *announced)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (announced->changed, name));

  if (mpel_proxy_get_state (proxy) == MPEL_PROXY_STATE_READY && n == 0)
    announced->ready_before = TRUE;
  g_hash_table_insert (announced->changed, g_strdup (name), GUINT_TO_POINTER (n + 1));
}

static guint
n_announced (Announced  *announced,
             const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (announced->changed, name));
}

/* notify and changed fire once per change, never for an unchanged value:
 * a subclass's property reads its default while unknown, so a first value
 * equal to it is no change; a plain proxy's value reads NULL while
 * unknown, so each first value is announced, once, before READY. */
static void
test_changed_once (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MyPointProxy) sub = NULL;
  g_autoptr(MpelProxy) plain = NULL;
  const char *props[] = { "x", "y", NULL };
  const char *getters[] = { "get_z", NULL };
  Announced by_sub = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), FALSE };
  Announced by_plain = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), FALSE };
  guint n_notify_x = 0, n_notify_y = 0;

  sub = g_object_new (MY_TYPE_POINT_PROXY, "loop", loop, "remote-type", "MyPoint",
                      "construct-values", g_variant_new_parsed ("{'x': <0>, 'y': <4>}"), NULL);
  g_signal_connect (sub, "notify::x", G_CALLBACK (count_notify), &n_notify_x);
  g_signal_connect (sub, "notify::y", G_CALLBACK (count_notify), &n_notify_y);
  g_signal_connect (sub, "changed", G_CALLBACK (count_changed_names), &by_sub);
  plain = mpel_proxy_new (loop, "MyPoint", g_variant_new_parsed ("{'y': <4>}"), props, getters);
  g_signal_connect (plain, "changed", G_CALLBACK (count_changed_names), &by_plain);
  test_wait (loop);

  g_assert_cmpuint (n_notify_x, ==, 0);
  g_assert_cmpuint (n_notify_y, ==, 1);
  g_assert_cmpuint (n_announced (&by_sub, "x"), ==, 0);
  g_assert_cmpuint (n_announced (&by_sub, "y"), ==, 1);
  /* A getter has no default: its first value is known news */
  g_assert_cmpuint (n_announced (&by_sub, "get_z"), ==, 1);
  g_assert_cmpuint (g_hash_table_size (by_sub.changed), ==, 2);

  g_assert_cmpuint (n_announced (&by_plain, "x"), ==, 1);
  g_assert_cmpuint (n_announced (&by_plain, "y"), ==, 1);
  g_assert_cmpuint (n_announced (&by_plain, "get_z"), ==, 1);
  g_assert_cmpuint (g_hash_table_size (by_plain.changed), ==, 3);
  g_assert_false (by_plain.ready_before);
  g_assert_false (by_sub.ready_before);

  /* Calls that change nothing (the getter is evaluated again, the same
   * values come back) announce nothing; a change, once */
  for (guint i = 0; i < 3; i++)
    {
      mpel_proxy_call (MPEL_PROXY (sub), "move", g_variant_new ("(iii)", 0, 4, 0));
      mpel_proxy_call (plain, "move", g_variant_new ("(iii)", 0, 4, 0));
    }
  mpel_proxy_call (MPEL_PROXY (sub), "move", g_variant_new ("(iii)", 1, 4, 0));
  mpel_proxy_call (plain, "move", g_variant_new ("(iii)", 1, 4, 0));
  test_wait (loop);
  g_assert_cmpuint (n_notify_x, ==, 1);
  g_assert_cmpuint (n_notify_y, ==, 1);
  g_assert_cmpuint (n_announced (&by_sub, "x"), ==, 1);
  g_assert_cmpuint (n_announced (&by_sub, "y"), ==, 1);
  g_assert_cmpuint (n_announced (&by_sub, "get_z"), ==, 1);
  g_assert_cmpuint (n_announced (&by_plain, "x"), ==, 2);
  g_assert_cmpuint (n_announced (&by_plain, "y"), ==, 1);
  g_assert_cmpuint (n_announced (&by_plain, "get_z"), ==, 1);

  /* A local set of the same value announces nothing, nor its answer */
  mpel_proxy_set_value (plain, "y", g_variant_new_int32 (4));
  g_object_set (sub, "y", 4, NULL);
  test_wait (loop);
  g_assert_cmpuint (n_notify_y, ==, 1);
  g_assert_cmpuint (n_announced (&by_plain, "y"), ==, 1);
  g_assert_cmpuint (n_announced (&by_sub, "y"), ==, 1);

  g_hash_table_unref (by_sub.changed);
  g_hash_table_unref (by_plain.changed);
  mpel_loop_stop (loop);
}

/* A crash fails the pending calls and the proxy; a new one can be made */
static void
test_crash (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelProxy) point = NULL;
  g_autoptr(MpelProxy) again = NULL;
  MpelEvent *call;

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  point = mpel_proxy_new (loop, "MyPoint", g_variant_new_parsed ("{'x': <3>}"), NULL, NULL);
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (point), ==, MPEL_PROXY_STATE_READY);

  mpel_loop_add_event (loop, "die", NULL);
  call = g_object_ref (mpel_proxy_call (point, "get_z", NULL));
  test_iterate_until (mpel_event_is_finished (call));
  g_assert_error (mpel_event_get_error (call), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_object_unref (call);
  test_iterate_until (mpel_proxy_get_state (point) == MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (point), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_cmpint (get_int (point, "x"), ==, 3);

  /* The documented way back: a new proxy from the old one's description,
   * made at once, while no worker runs; it waits for the restarted one */
  again = mpel_proxy_new (loop, mpel_proxy_get_remote_type (point),
                          mpel_proxy_get_construct_values (point),
                          mpel_proxy_get_properties (point),
                          mpel_proxy_get_getters (point));
  call = g_object_ref (mpel_proxy_call (again, "move", g_variant_new ("(iii)", 4, 5, 6)));
  test_wait (loop);
  g_assert_no_error (mpel_event_get_error (call));
  g_object_unref (call);
  g_assert_no_error (mpel_proxy_get_error (again));
  g_assert_cmpint (mpel_proxy_get_state (again), ==, MPEL_PROXY_STATE_READY);
  g_assert_cmpint (get_int (again, "x"), ==, 4);
  g_assert_cmpint (get_int (again, "y"), ==, 5);

  mpel_loop_stop (loop);
}

typedef struct
{
  MpelProxy *replacement;
  MpelEvent *call;
  gboolean   worker_ran;
} Recreate;

/* The proxy failed, the worker is dead and its restart not yet due: the
 * new proxy and its call wait for it */
static void
recreate_on_failure (MpelProxy  *old,
                     GParamSpec *pspec,
                     Recreate   *recreate)
{
  MpelLoop *loop = mpel_proxy_get_loop (old);

  if (mpel_proxy_get_state (old) != MPEL_PROXY_STATE_FAILED || recreate->replacement != NULL)
    return;

  recreate->worker_ran = mpel_loop_get_worker_pid (loop, 0) > 0;
  recreate->replacement = mpel_proxy_new (loop, mpel_proxy_get_remote_type (old),
                                          mpel_proxy_get_construct_values (old),
                                          mpel_proxy_get_properties (old),
                                          mpel_proxy_get_getters (old));
  recreate->call = g_object_ref (mpel_proxy_call (recreate->replacement, "set_z",
                                                  g_variant_new ("(i)", 9)));
  g_assert_cmpint (mpel_proxy_get_state (recreate->replacement), ==, MPEL_PROXY_STATE_PENDING);
}

/* Re-created from the failing proxy's notify::state, with restart back-off:
 * queued until a worker runs again, then READY with its values */
static void
test_crash_recreate (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelProxy) point = NULL;
  Recreate recreate = { NULL, NULL, FALSE };
  const char *getters[] = { "get_z", NULL };
  guint fresh = test_count_objects (loop);

  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);
  point = mpel_proxy_new (loop, "MyPoint", g_variant_new_parsed ("{'x': <3>, 'y': <5>}"), NULL, getters);
  test_wait (loop);
  g_signal_connect (point, "notify::state", G_CALLBACK (recreate_on_failure), &recreate);

  /* Every restart backs off: the replacement is made while no worker runs */
  mpel_loop_add_event (loop, "die", NULL);
  test_iterate_until (recreate.replacement != NULL);
  g_assert_false (recreate.worker_ran);

  test_wait (loop);
  g_assert_no_error (mpel_event_get_error (recreate.call));
  g_assert_no_error (mpel_proxy_get_error (recreate.replacement));
  g_assert_cmpint (mpel_proxy_get_state (recreate.replacement), ==, MPEL_PROXY_STATE_READY);
  g_assert_cmpint (get_int (recreate.replacement, "x"), ==, 3);
  g_assert_cmpint (get_int (recreate.replacement, "y"), ==, 5);
  g_assert_cmpint (get_int (recreate.replacement, "get_z"), ==, 9);

  /* Released while it waits: nothing is made, its calls fail */
  {
    g_autoptr(MpelProxy) waiting = NULL;
    MpelEvent *call;

    mpel_loop_add_event (loop, "die", NULL);
    test_iterate_until (mpel_loop_get_worker_pid (loop, 0) <= 0);
    waiting = mpel_proxy_new (loop, "MyPoint", NULL, NULL, NULL);
    call = g_object_ref (mpel_proxy_call (waiting, "get_z", NULL));
    mpel_proxy_release (waiting);
    test_wait (loop);
    g_assert_error (mpel_event_get_error (call), MPEL_ERROR, MPEL_ERROR_CLOSED);
    g_object_unref (call);
    /* A new worker, which made nothing */
    g_assert_cmpuint (test_count_objects (loop), ==, fresh);
  }

  g_object_unref (recreate.call);
  g_clear_object (&recreate.replacement);
  mpel_loop_stop (loop);
}

/* A bidirectional binding neither jitters nor loops */
static void
test_binding (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MyPointProxy) point = NULL;
  g_autoptr(TestKnob) knob = g_object_new (TEST_TYPE_KNOB, NULL);
  int x;

  point = g_object_new (MY_TYPE_POINT_PROXY, "loop", loop, "remote-type", "MyPoint", NULL);
  test_wait (loop);
  g_object_bind_property (point, "x", knob, "value", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);

  for (int i = 1; i <= 50; i++)
    g_object_set (knob, "value", i, NULL);
  /* Answers arrive one by one, but the knob never goes back */
  test_wait (loop);
  g_assert_cmpuint (knob->seen->len, ==, 50);
  for (guint i = 0; i < knob->seen->len; i++)
    g_assert_cmpint (g_array_index (knob->seen, int, i), ==, (int) i + 1);

  /* The worker's value wins, once: it refuses 5000 */
  g_object_set (knob, "value", 5000, NULL);
  test_wait (loop);
  g_object_get (point, "x", &x, NULL);
  g_assert_cmpint (x, ==, 50);
  g_assert_cmpint (knob->value, ==, 50);
  g_assert_cmpuint (knob->seen->len, ==, 52);

  mpel_loop_stop (loop);
}

/* A worker that lies in its NOTIFY frames */
typedef struct
{
  GMainLoop      *main_loop;
  MpelConnection *conn;
  const char     *mode;
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

  if (g_str_equal (frame->name, "mpel.object.new"))
    g_variant_get_child (frame->body, 0, "t", &handle);

  _mpel_connection_send (conn, MPEL_FRAME_RETURN, 0, frame->id, NULL,
                        g_variant_new_parsed ("{'x': <1>}"), NULL, NULL);
  if (g_str_equal (fake->mode, "unknown-handle"))
    _mpel_connection_send (conn, MPEL_FRAME_NOTIFY, 0, handle + 1000, NULL,
                          g_variant_new_parsed ("{'x': <2>}"), NULL, NULL);
  else if (g_str_equal (fake->mode, "not-a-dict"))
    _mpel_connection_send (conn, MPEL_FRAME_NOTIFY, 0, handle, NULL, g_variant_new_int32 (2), NULL, NULL);
  else if (g_str_equal (fake->mode, "wrong-type"))
    _mpel_connection_send (conn, MPEL_FRAME_NOTIFY, 0, handle, NULL,
                          g_variant_new_parsed ("{'x': <'two'>}"), NULL, NULL);
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
run_fake_worker (const char *mode)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  FakeWorker fake = { .mode = mode };
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
test_hostile_notify (gconstpointer data)
{
  const char *mode = data;
  const char *argv[] = { self_path, "--fake-worker", mode, NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(MyPointProxy) point = NULL;
  const char *expected;

  point = g_object_new (MY_TYPE_POINT_PROXY, "loop", loop, "remote-type", "MyPoint", NULL);
  test_iterate_until (mpel_proxy_get_state (MPEL_PROXY (point)) == MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (MPEL_PROXY (point)), MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  expected = g_str_equal (mode, "unknown-handle") ? "does not exist"
           : g_str_equal (mode, "not-a-dict") ? "not a{sv}" : "“x”";
  if (strstr (mpel_proxy_get_error (MPEL_PROXY (point))->message, expected) == NULL)
    g_error ("“%s” does not say “%s”", mpel_proxy_get_error (MPEL_PROXY (point))->message, expected);

  mpel_loop_stop (loop);
}

int
main (int   argc,
      char *argv[])
{
  if (argc >= 3 && g_str_equal (argv[1], "--fake-worker"))
    return run_fake_worker (argv[2]);

  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Proxy/point/plain", test_point_plain);
  g_test_add_func ("/Mpel/Proxy/point/subclass", test_point_subclass);
  g_test_add_func ("/Mpel/Proxy/results-and-errors", test_results_and_errors);
  g_test_add_func ("/Mpel/Proxy/cancel-from-thread", test_cancel_from_thread);
  g_test_add_func ("/Mpel/Proxy/changed-in-thread", test_changed_in_thread);
  g_test_add_func ("/Mpel/Proxy/attach", test_attach);
  g_test_add_func ("/Mpel/Proxy/returned-object", test_returned_object);
  g_test_add_func ("/Mpel/Proxy/adjustment", test_adjustment);
  g_test_add_func ("/Mpel/Proxy/live", test_live);
  g_test_add_func ("/Mpel/Proxy/pinning", test_pinning);
  g_test_add_func ("/Mpel/Proxy/release", test_release);
  g_test_add_func ("/Mpel/Proxy/kwargs", test_kwargs);
  g_test_add_func ("/Mpel/Proxy/changed-once", test_changed_once);
  g_test_add_func ("/Mpel/Proxy/crash", test_crash);
  g_test_add_func ("/Mpel/Proxy/crash/recreate", test_crash_recreate);
  g_test_add_func ("/Mpel/Proxy/binding", test_binding);
  g_test_add_data_func ("/Mpel/Proxy/hostile/unknown-handle", "unknown-handle", test_hostile_notify);
  g_test_add_data_func ("/Mpel/Proxy/hostile/not-a-dict", "not-a-dict", test_hostile_notify);
  g_test_add_data_func ("/Mpel/Proxy/hostile/wrong-type", "wrong-type", test_hostile_notify);

  return g_test_run ();
}
