/* test-worker-widgets.c: real GTK widgets and windows that live in a worker
 * initialised on the app's display (the module of
 * mpel_gtk_get_display_module()), made and driven from here through
 * proxies. Needs a display: run under `xvfb-run -a`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <sys/types.h>

#include <mpel-gtk.h>

#include "mpel-test-util.h"

static MpelLoop *
widgets_loop_new (void)
{
  const char *modules[] = { mpel_gtk_get_display_module (), NULL };
  MpelLoop *loop = mpel_loop_new ();

  mpel_loop_set_modules (loop, modules);
  mpel_loop_set_n_workers (loop, 1);
  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);

  return loop;
}

static GVariant *
call_sync (MpelProxy  *proxy,
           const char *method,
           GVariant   *args)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *value;

  mpel_proxy_call_async (proxy, method, args, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_proxy_call_finish (proxy, result, &error);
  g_assert_no_error (error);

  return value;
}

static char *
dup_string (MpelProxy  *proxy,
            const char *name)
{
  g_autoptr(GVariant) value = mpel_proxy_get_value (proxy, name);

  g_assert_nonnull (value);
  return g_variant_dup_string (value, NULL);
}

static gboolean
get_boolean (MpelProxy  *proxy,
             const char *name)
{
  g_autoptr(GVariant) value = mpel_proxy_get_value (proxy, name);

  g_assert_nonnull (value);
  return g_variant_get_boolean (value);
}

static double
get_double (MpelProxy  *proxy,
            const char *name)
{
  g_autoptr(GVariant) value = mpel_proxy_get_value (proxy, name);

  g_assert_nonnull (value);
  return g_variant_get_double (value);
}

static MpelProxy *
new_window (MpelLoop   *loop,
            const char *title)
{
  const char *props[] = { "title", "visible", "default-width", NULL };
  const char *getters[] = { "get_mapped", NULL };
  GVariantDict construct;

  g_variant_dict_init (&construct, NULL);
  g_variant_dict_insert (&construct, "title", "s", title);
  g_variant_dict_insert (&construct, "default-width", "i", 240);

  return mpel_proxy_new (loop, "Gtk.Window", g_variant_dict_end (&construct), props, getters);
}

/* A window with a label, presented: its properties go both ways. */
static void
test_window (void)
{
  g_autoptr(MpelLoop) loop = widgets_loop_new ();
  g_autoptr(MpelProxy) window = NULL;
  g_autoptr(MpelProxy) label = NULL;
  g_autoptr(MpelProxy) child_proxy = NULL;
  g_autoptr(GVariant) child = NULL;
  g_autoptr(GVariant) title = NULL;
  g_autofree char *text = NULL;
  const char *label_props[] = { "label", NULL };

  window = new_window (loop, "Tool window");
  label = mpel_proxy_new (loop, "Gtk.Label", g_variant_new_parsed ("{'label': <'Hello'>}"), label_props, NULL);
  test_wait (loop);
  g_assert_no_error (mpel_proxy_get_error (window));
  g_assert_cmpint (mpel_proxy_get_state (window), ==, MPEL_PROXY_STATE_READY);
  g_assert_cmpint (mpel_proxy_get_state (label), ==, MPEL_PROXY_STATE_READY);
  g_assert_false (get_boolean (window, "visible"));
  g_assert_false (get_boolean (window, "get_mapped"));

  /* The label goes into the window by its handle */
  mpel_proxy_call (window, "set_child", g_variant_new ("(t)", mpel_proxy_get_handle (label)));
  mpel_proxy_call (window, "present", NULL);
  test_wait (loop);
  /* The window's child is the label: the worker sends it back under a
   * handle of its own, which a proxy takes over */
  child = call_sync (window, "get_child", NULL);
  g_assert_cmpstr (g_variant_get_type_string (child), ==, "t");
  child_proxy = mpel_proxy_new_for_handle (window, g_variant_get_uint64 (child), label_props, NULL);
  test_wait (loop);
  g_assert_cmpstr (mpel_proxy_get_remote_type (child_proxy), ==, "GtkLabel");
  text = dup_string (child_proxy, "label");
  g_assert_cmpstr (text, ==, "Hello");
  g_clear_pointer (&text, g_free);

  /* Presenting showed and mapped it, in the worker: the mirror follows */
  g_assert_true (get_boolean (window, "visible"));
  g_assert_true (get_boolean (window, "get_mapped"));
  text = dup_string (window, "title");
  g_assert_cmpstr (text, ==, "Tool window");
  g_clear_pointer (&text, g_free);

  /* App to worker */
  mpel_proxy_set_value (window, "title", g_variant_new_string ("Renamed"));
  test_wait (loop);
  title = call_sync (window, "get_title", NULL);
  g_assert_cmpstr (g_variant_get_string (title, NULL), ==, "Renamed");

  /* Worker to app */
  mpel_proxy_call (label, "set_label", g_variant_new ("(s)", "World"));
  test_wait (loop);
  text = dup_string (label, "label");
  g_assert_cmpstr (text, ==, "World");
  g_clear_pointer (&text, g_free);
  text = dup_string (child_proxy, "label");
  g_assert_cmpstr (text, ==, "World");

  /* GTK keeps a toplevel until it is destroyed, not until its proxy
   * goes */
  mpel_proxy_call (window, "destroy", NULL);
  test_wait (loop);
  g_assert_false (get_boolean (window, "get_mapped"));

  mpel_loop_stop (loop);
}

/* A scale's adjustment, reached through the scale: its value goes both
 * ways, and the worker clamps it. */
static void
test_scale (void)
{
  g_autoptr(MpelLoop) loop = widgets_loop_new ();
  g_autoptr(MpelProxy) window = NULL;
  g_autoptr(MpelProxy) scale = NULL;
  g_autoptr(MpelProxy) adjustment = NULL;
  g_autoptr(GVariant) handle = NULL;
  g_autoptr(GVariant) value = NULL;
  const char *scale_props[] = { "orientation", "digits", NULL };
  const char *adjustment_props[] = { "value", "lower", "upper", NULL };
  g_autofree char *orientation = NULL;

  window = new_window (loop, "Scale");
  scale = mpel_proxy_new (loop, "Gtk.Scale",
                          g_variant_new_parsed ("{'orientation': <'horizontal'>, 'digits': <1>}"),
                          scale_props, NULL);
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (scale), ==, MPEL_PROXY_STATE_READY);
  orientation = dup_string (scale, "orientation");
  g_assert_cmpstr (orientation, ==, "horizontal");

  handle = call_sync (scale, "get_adjustment", NULL);
  adjustment = mpel_proxy_new_for_handle (scale, g_variant_get_uint64 (handle), adjustment_props, NULL);
  mpel_proxy_call (adjustment, "configure", g_variant_new ("(dddddd)", 5.0, 0.0, 10.0, 1.0, 1.0, 0.0));
  mpel_proxy_call (window, "set_child", g_variant_new ("(t)", mpel_proxy_get_handle (scale)));
  mpel_proxy_call (window, "present", NULL);
  test_wait (loop);
  g_assert_cmpint (mpel_proxy_get_state (adjustment), ==, MPEL_PROXY_STATE_READY);
  g_assert_cmpfloat (get_double (adjustment, "value"), ==, 5.0);
  g_assert_cmpfloat (get_double (adjustment, "upper"), ==, 10.0);

  /* Moved in the worker through the scale: the adjustment's proxy follows
   * on its own, since nothing was called on it */
  mpel_proxy_call (scale, "set_value", g_variant_new ("(d)", 7.5));
  test_iterate_until (get_double (adjustment, "value") == 7.5);

  /* Set from the app, clamped by the worker */
  mpel_proxy_set_value (adjustment, "value", g_variant_new_double (20.0));
  test_wait (loop);
  g_assert_cmpfloat (get_double (adjustment, "value"), ==, 10.0);
  value = call_sync (scale, "get_value", NULL);
  g_assert_cmpfloat (g_variant_get_double (value), ==, 10.0);

  mpel_loop_stop (loop);
}

static void
record_signal (MpelProxy  *proxy,
               const char *signal_name,
               GVariant   *args,
               GPtrArray  *seen)
{
  g_ptr_array_add (seen, g_strdup_printf ("%s %s", signal_name, g_variant_get_type_string (args)));
}

static const char *
last_seen (GPtrArray *seen)
{
  return seen->len > 0 ? g_ptr_array_index (seen, seen->len - 1) : NULL;
}

/* A button's clicked and a scale's value-changed, emitted in the worker,
 * arrive as remote signals */
static void
test_signals (void)
{
  g_autoptr(MpelLoop) loop = widgets_loop_new ();
  g_autoptr(MpelProxy) window = NULL;
  g_autoptr(MpelProxy) box = NULL;
  g_autoptr(MpelProxy) button = NULL;
  g_autoptr(MpelProxy) other = NULL;
  g_autoptr(MpelProxy) scale = NULL;
  g_autoptr(GPtrArray) other_clicks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) clicks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func (g_free);
  const char *none[] = { NULL };

  window = new_window (loop, "Signals");
  box = mpel_proxy_new (loop, "Gtk.Box", g_variant_new_parsed ("{'orientation': <'vertical'>}"), none, NULL);
  button = mpel_proxy_new (loop, "Gtk.Button", g_variant_new_parsed ("{'label': <'Press'>}"), none, NULL);
  other = mpel_proxy_new (loop, "Gtk.Button", g_variant_new_parsed ("{'label': <'Other'>}"), none, NULL);
  other = mpel_proxy_new (loop, "Gtk.Button", g_variant_new_parsed ("{'label': <'Other'>}"), none, NULL);
  scale = mpel_proxy_new (loop, "Gtk.Scale", g_variant_new_parsed ("{'orientation': <'horizontal'>}"), none, NULL);
  mpel_proxy_call (scale, "set_range", g_variant_new ("(dd)", 0.0, 10.0));
  mpel_proxy_call (box, "append", g_variant_new ("(t)", mpel_proxy_get_handle (button)));
  mpel_proxy_call (box, "append", g_variant_new ("(t)", mpel_proxy_get_handle (other)));
  mpel_proxy_call (box, "append", g_variant_new ("(t)", mpel_proxy_get_handle (scale)));
  mpel_proxy_call (window, "set_child", g_variant_new ("(t)", mpel_proxy_get_handle (box)));
  mpel_proxy_call (window, "present", NULL);
  g_signal_connect (button, "remote-signal::clicked", G_CALLBACK (record_signal), clicks);
  g_signal_connect (scale, "remote-signal::value-changed", G_CALLBACK (record_signal), changes);
  g_signal_connect (other, "remote-signal::clicked", G_CALLBACK (record_signal), other_clicks);
  mpel_proxy_subscribe_signal (button, "clicked");
  mpel_proxy_subscribe_signal (other, "clicked");
  mpel_proxy_subscribe_signal (scale, "value-changed");
  test_wait (loop);
  g_assert_cmpuint (clicks->len, ==, 0);
  g_assert_cmpuint (changes->len, ==, 0);

  /* The presented button's activate plays its press animation in the
   * worker, then emits clicked there */
  mpel_proxy_call (button, "activate", NULL);
  test_iterate_until (clicks->len == 1);
  g_assert_cmpstr (last_seen (clicks), ==, "clicked ()");

  /* Emitted during the call: it arrives before the call's answer */
  mpel_proxy_call (scale, "set_value", g_variant_new ("(d)", 3.0));
  test_wait (loop);
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpstr (last_seen (changes), ==, "value-changed ()");

  /* Unsubscribed, the button's next click stays in the worker: the other
   * button, activated after it, clicks after it (the same animation) */
  mpel_proxy_unsubscribe_signal (button, "clicked");
  mpel_proxy_call (button, "activate", NULL);
  mpel_proxy_call (other, "activate", NULL);
  test_iterate_until (other_clicks->len == 1);
  test_wait (loop);
  g_assert_cmpuint (clicks->len, ==, 1);

  mpel_proxy_call (window, "destroy", NULL);
  test_wait (loop);
  mpel_loop_stop (loop);
}

static gboolean
all_failed (MpelProxy **proxies)
{
  for (guint i = 0; proxies[i] != NULL; i++)
    if (mpel_proxy_get_state (proxies[i]) != MPEL_PROXY_STATE_FAILED)
      return FALSE;

  return TRUE;
}

/* The worker dies with its window: the proxies fail with the reason, the
 * app goes on, and the window can be made again in the new worker. */
static void
test_crash (void)
{
  g_autoptr(MpelLoop) loop = widgets_loop_new ();
  g_autoptr(MpelProxy) window = NULL;
  g_autoptr(MpelProxy) label = NULL;
  g_autoptr(MpelProxy) again = NULL;
  g_autoptr(GVariant) pong = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  MpelProxy *proxies[3] = { NULL, };
  GPid pid, new_pid;

  window = new_window (loop, "Doomed");
  label = mpel_proxy_new (loop, "Gtk.Label", g_variant_new_parsed ("{'label': <'Bye'>}"), NULL, NULL);
  mpel_proxy_call (window, "set_child", g_variant_new ("(t)", mpel_proxy_get_handle (label)));
  mpel_proxy_call (window, "present", NULL);
  test_wait (loop);
  g_assert_true (get_boolean (window, "get_mapped"));

  pid = mpel_loop_get_worker_pid (loop, 0);
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);

  proxies[0] = window;
  proxies[1] = label;
  test_iterate_until (all_failed (proxies));
  g_assert_error (mpel_proxy_get_error (window), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_error (mpel_proxy_get_error (label), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  /* The last values stay readable */
  text = dup_string (window, "title");
  g_assert_cmpstr (text, ==, "Doomed");

  /* The app lives on, and a new worker has GTK again */
  pong = test_call_sync (loop, "mpel.ping", NULL, &error);
  g_assert_no_error (error);
  new_pid = mpel_loop_get_worker_pid (loop, 0);
  g_assert_cmpint (new_pid, >, 0);
  g_assert_cmpint (new_pid, !=, pid);
  again = mpel_proxy_new (loop, mpel_proxy_get_remote_type (window),
                          mpel_proxy_get_construct_values (window),
                          mpel_proxy_get_properties (window),
                          mpel_proxy_get_getters (window));
  mpel_proxy_call (again, "present", NULL);
  test_wait (loop);
  g_assert_no_error (mpel_proxy_get_error (again));
  g_assert_cmpint (mpel_proxy_get_state (again), ==, MPEL_PROXY_STATE_READY);
  g_clear_pointer (&text, g_free);
  text = dup_string (again, "title");
  g_assert_cmpstr (text, ==, "Doomed");
  g_assert_true (get_boolean (again, "get_mapped"));

  mpel_loop_stop (loop);
}

/* Without a display, the worker that was asked for GTK says why and does
 * not start: what was sent to it fails, nothing hangs. */
static void
test_no_display (void)
{
  const char *argv[] = {
    "env", "-u", "DISPLAY", "-u", "WAYLAND_DISPLAY",
    g_getenv ("MPEL_WORKER"), "--module", mpel_gtk_get_display_module (), NULL
  };
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(MpelProxy) window = NULL;

  g_assert_nonnull (argv[5]);
  loop = mpel_loop_new_for_argv (argv);
  window = new_window (loop, "Nowhere");
  test_iterate_until (mpel_proxy_get_state (window) == MPEL_PROXY_STATE_FAILED);
  g_assert_error (mpel_proxy_get_error (window), MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);

  mpel_loop_close (loop);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/MpelGtk/Widgets/window", test_window);
  g_test_add_func ("/MpelGtk/Widgets/scale", test_scale);
  g_test_add_func ("/MpelGtk/Widgets/signals", test_signals);
  g_test_add_func ("/MpelGtk/Widgets/crash", test_crash);
  g_test_add_func ("/MpelGtk/Widgets/no-display", test_no_display);

  return g_test_run ();
}
