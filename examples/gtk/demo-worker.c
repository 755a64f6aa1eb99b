/* demo-worker.c: the part of mpel-demo that lives in a worker with GTK on
 * the app's display.
 *
 * - The zoom scale of the window is bound, both ways, to a Gtk.Adjustment
 *   that lives in the worker (a DemoAdjustmentProxy: a subclass of
 *   MpelProxy with a mirrored "value").
 * - "Open a worker window" makes a real window in the worker, through
 *   proxies: a Gtk.Window with a label, a Gtk.Scale that shares the
 *   worker's adjustment, so dragging it moves the app's zoom, and a
 *   Gtk.Button whose clicked reaches the app as a remote signal.
 * - A GtkListView shows the primes the worker keeps finding: a
 *   Gtk.StringList there, an MpelListModel here (demo-primes.c).
 * - "Crash the worker" kills it: its window goes, the proxies fail, the
 *   banner says why, and the app makes everything again in the worker that
 *   the loop restarted (restart-policy on-crash).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <mpel-gtk.h>

#include "demo-primes.h"
#include "demo-worker.h"

#define ZOOM_MAX               16.0
#define SELF_TEST_TIMEOUT_S    40
#define SELF_TEST_POLL_MS      20
#define SELF_TEST_APP_ZOOM     1.5
#define SELF_TEST_WORKER_ZOOM  0.5
#define SELF_TEST_WINDOW_ZOOM  1.0
#define ZOOM_IN_STEP           1.0

/* The app's view of the worker's Gtk.Adjustment: "value" is mirrored, so
 * g_object_bind_property() works on it. */
#define DEMO_TYPE_ADJUSTMENT_PROXY (demo_adjustment_proxy_get_type ())
G_DECLARE_FINAL_TYPE (DemoAdjustmentProxy, demo_adjustment_proxy, DEMO, ADJUSTMENT_PROXY, MpelProxy)

struct _DemoAdjustmentProxy
{
  MpelProxy parent_instance;
};

G_DEFINE_FINAL_TYPE (DemoAdjustmentProxy, demo_adjustment_proxy, MPEL_TYPE_PROXY)

static void
demo_adjustment_proxy_class_init (DemoAdjustmentProxyClass *klass)
{
  /* No get_property or set_property: MpelProxy mirrors the property. */
  g_object_class_install_property (G_OBJECT_CLASS (klass), 1,
    g_param_spec_double ("value", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
}

static void
demo_adjustment_proxy_init (DemoAdjustmentProxy *self)
{
}

typedef enum
{
  STEP_READY,            /* the adjustment and the list are there */
  STEP_APP_TO_WORKER,    /* the app's scale moved: the worker's value? */
  STEP_WORKER_TO_APP,    /* the worker's value moved: the app's scale? */
  STEP_LIST,             /* the list grows and reads right */
  STEP_WINDOW,           /* the worker's window is up */
  STEP_WINDOW_SCALE,     /* its scale moves the app's zoom */
  STEP_WINDOW_BUTTON,    /* its button's clicked reaches the app */
  STEP_CRASHED,          /* the banner shows the reason */
  STEP_RECOVERED,        /* everything is back */
  STEP_RECOVERED_VALUE,  /* with the value the app had */
  STEP_RECOVERED_LIST,   /* and the new worker's list */
  STEP_DONE,
} Step;

struct _DemoWorker
{
  MpelLoop           *loop;
  GtkRange           *zoom_scale;   /* not owned: the window holds it */
  GtkAdjustment      *zoom;

  MpelProxy          *adjustment;
  GBinding           *binding;
  DemoPrimes         *primes;

  /* The worker's window and what is in it. */
  MpelProxy          *window;
  MpelProxy          *box;
  MpelProxy          *label;
  MpelProxy          *window_scale;
  MpelProxy          *window_button;
  char               *window_title;

  GtkWidget          *widget;
  GtkWidget          *open_button;
  GtkWidget          *crash_button;
  GtkLabel           *banner;
  char               *crash_reason;
  guint               n_restarts;
  GCancellable       *cancellable;

  /* --self-test */
  Step                step;
  DemoWorkerDoneFunc  done;
  gpointer            done_data;
  guint               poll_id;
  guint               deadline_id;
  GVariant           *answer;
  gboolean            asked;
  MpelProxy          *old_adjustment;
};

static void
demo_worker_set_banner (DemoWorker *self,
                        const char *text)
{
  gtk_label_set_text (self->banner, text);
  gtk_widget_set_visible (GTK_WIDGET (self->banner), text != NULL);
}

/* The worker's adjustment, made with the app's current zoom and bound to
 * the scale both ways: moving either moves the other. */
static void
demo_worker_make_adjustment (DemoWorker *self)
{
  GVariantBuilder construct;

  /* In order: the bounds first, or the worker clamps the value. */
  g_variant_builder_init (&construct, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&construct, "{sv}", "lower", g_variant_new_double (0.0));
  g_variant_builder_add (&construct, "{sv}", "upper", g_variant_new_double (ZOOM_MAX));
  g_variant_builder_add (&construct, "{sv}", "step-increment", g_variant_new_double (0.25));
  g_variant_builder_add (&construct, "{sv}", "page-increment", g_variant_new_double (1.0));
  g_variant_builder_add (&construct, "{sv}", "value", g_variant_new_double (gtk_adjustment_get_value (self->zoom)));

  g_clear_pointer (&self->binding, g_binding_unbind);
  g_clear_object (&self->adjustment);
  self->adjustment = g_object_new (DEMO_TYPE_ADJUSTMENT_PROXY,
                                   "loop", self->loop,
                                   "remote-type", "Gtk.Adjustment",
                                   "construct-values", g_variant_builder_end (&construct),
                                   NULL);
  self->binding = g_object_bind_property (self->zoom, "value", self->adjustment, "value",
                                          G_BINDING_BIDIRECTIONAL);
}

static void
demo_worker_on_primes_started (GObject      *source,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  DemoWorker *self = user_data;
  g_autoptr(GVariant) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  answer = mpel_loop_call_finish (MPEL_LOOP (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (answer == NULL)
    {
      text = g_strdup_printf ("The list of primes did not start: %s", error->message);
      demo_worker_set_banner (self, text);
      return;
    }

  demo_primes_attach (self->primes, self->loop, "primes");
}

/* Everything the app keeps in the worker: made at start, and again after
 * a crash. */
static void
demo_worker_connect (DemoWorker *self)
{
  demo_worker_make_adjustment (self);
  /* The worker exports its list once it answers; attach to it then. */
  mpel_loop_call_async (self->loop, "primes.start", NULL, self->cancellable,
                        demo_worker_on_primes_started, self);
}

static void
demo_worker_drop_window (DemoWorker *self)
{
  if (self->window_button != NULL)
    g_signal_handlers_disconnect_by_data (self->window_button, self);
  g_clear_object (&self->window_button);
  g_clear_object (&self->window_scale);
  g_clear_object (&self->label);
  g_clear_object (&self->box);
  g_clear_object (&self->window);
  g_clear_pointer (&self->window_title, g_free);
}

static MpelProxy *
demo_worker_make (DemoWorker *self,
                  const char *remote_type,
                  GVariant   *construct_values)
{
  const char *none[] = { NULL };

  return mpel_proxy_new (self->loop, remote_type, construct_values, none, NULL);
}

/* The worker's button was clicked, there: a remote signal. */
static void
demo_worker_on_zoom_in (MpelProxy  *button,
                        const char *signal_name,
                        GVariant   *args,
                        DemoWorker *self)
{
  gtk_range_set_value (self->zoom_scale, gtk_range_get_value (self->zoom_scale) + ZOOM_IN_STEP);
}

/* A window of the worker's own: a label, a scale on the worker's
 * adjustment, which the app's zoom scale is bound to, and a button whose
 * clicks the app hears. */
static void
demo_worker_open_window (DemoWorker *self)
{
  const char *window_props[] = { "title", NULL };
  const char *window_getters[] = { "get_mapped", NULL };
  GVariantBuilder construct;

  if (self->window != NULL && mpel_proxy_get_state (self->window) != MPEL_PROXY_STATE_FAILED)
    {
      mpel_proxy_call (self->window, "present", NULL);
      return;
    }

  demo_worker_drop_window (self);
  self->window_title = g_strdup_printf ("A window of worker %d", (int) mpel_loop_get_worker_pid (self->loop, 0));

  g_variant_builder_init (&construct, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&construct, "{sv}", "title", g_variant_new_string (self->window_title));
  g_variant_builder_add (&construct, "{sv}", "default-width", g_variant_new_int32 (360));
  /* Closed by the user, it hides: Open shows it again. */
  g_variant_builder_add (&construct, "{sv}", "hide-on-close", g_variant_new_boolean (TRUE));
  self->window = mpel_proxy_new (self->loop, "Gtk.Window", g_variant_builder_end (&construct),
                                 window_props, window_getters);
  self->box = demo_worker_make (self, "Gtk.Box",
                                g_variant_new_parsed ("{'orientation': <'vertical'>, 'spacing': <12>, "
                                                      "'margin-top': <18>, 'margin-bottom': <18>, "
                                                      "'margin-start': <18>, 'margin-end': <18>}"));
  self->label = demo_worker_make (self, "Gtk.Label",
                                  g_variant_new_parsed ("{'label': <'This window belongs to the worker process: "
                                                        "crash the worker and it goes with it. Its scale and "
                                                        "the app’s zoom share the worker’s adjustment.'>, "
                                                        "'wrap': <true>, 'max-width-chars': <40>}"));
  self->window_scale = demo_worker_make (self, "Gtk.Scale",
                                         g_variant_new_parsed ("{'orientation': <'horizontal'>, "
                                                               "'adjustment': <%t>}",
                                                               mpel_proxy_get_handle (self->adjustment)));
  self->window_button = demo_worker_make (self, "Gtk.Button",
                                          g_variant_new_parsed ("{'label': <'Zoom in the app'>}"));
  g_signal_connect (self->window_button, "remote-signal::clicked", G_CALLBACK (demo_worker_on_zoom_in), self);
  mpel_proxy_subscribe_signal (self->window_button, "clicked");

  /* Objects cross by handle. */
  mpel_proxy_call (self->box, "append", g_variant_new ("(t)", mpel_proxy_get_handle (self->label)));
  mpel_proxy_call (self->box, "append", g_variant_new ("(t)", mpel_proxy_get_handle (self->window_scale)));
  mpel_proxy_call (self->box, "append", g_variant_new ("(t)", mpel_proxy_get_handle (self->window_button)));
  mpel_proxy_call (self->window, "set_child", g_variant_new ("(t)", mpel_proxy_get_handle (self->box)));
  mpel_proxy_call (self->window, "present", NULL);
}

static void
demo_worker_crash (DemoWorker *self)
{
  mpel_loop_add_event (self->loop, "demo.crash", NULL);
}

static void
demo_worker_on_restarted (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  DemoWorker *self = user_data;
  g_autoptr(GVariant) pong = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  pong = mpel_loop_call_finish (MPEL_LOOP (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (pong == NULL)
    {
      text = g_strdup_printf ("The worker crashed (%s) and could not be restarted: %s",
                              self->crash_reason, error->message);
      demo_worker_set_banner (self, text);
      return;
    }

  /* The documented way back: once a worker answers again, make new
   * proxies. The worker's window is not made again by itself. */
  self->n_restarts++;
  text = g_strdup_printf ("The worker crashed (%s) and was restarted.", self->crash_reason);
  demo_worker_set_banner (self, text);
  demo_worker_connect (self);
}

static void
demo_worker_on_exited (MpelLoop     *loop,
                       guint         index,
                       const GError *reason,
                       DemoWorker   *self)
{
  g_autofree char *text = NULL;

  if (reason == NULL)
    return;

  g_free (self->crash_reason);
  self->crash_reason = g_strdup (reason->message);
  text = g_strdup_printf ("The worker crashed (%s): restarting it…", reason->message);
  demo_worker_set_banner (self, text);

  /* The old adjustment's proxy has failed: the scale stays the app's. */
  g_clear_pointer (&self->binding, g_binding_unbind);
  demo_primes_detach (self->primes);

  /* A plain event waits in the queue for the restarted worker. */
  mpel_loop_call_async (loop, "mpel.ping", NULL, self->cancellable, demo_worker_on_restarted, self);
}

static GtkWidget *
demo_worker_build (DemoWorker *self)
{
  GtkWidget *box, *row, *label;

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  label = gtk_label_new ("A worker with GTK on this display: the zoom above is bound to its "
                         "Gtk.Adjustment, the list shows the primes it keeps finding, and it "
                         "can open a window of its own.");
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);

  gtk_box_append (GTK_BOX (box), demo_primes_get_widget (self->primes));

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (box), row);
  self->open_button = gtk_button_new_with_mnemonic ("_Open a worker window");
  g_signal_connect_swapped (self->open_button, "clicked", G_CALLBACK (demo_worker_open_window), self);
  gtk_box_append (GTK_BOX (row), self->open_button);
  self->crash_button = gtk_button_new_with_mnemonic ("Cra_sh the worker");
  gtk_widget_add_css_class (self->crash_button, "destructive-action");
  g_signal_connect_swapped (self->crash_button, "clicked", G_CALLBACK (demo_worker_crash), self);
  gtk_box_append (GTK_BOX (row), self->crash_button);

  self->banner = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->banner, TRUE);
  gtk_label_set_xalign (self->banner, 0.0);
  gtk_widget_add_css_class (GTK_WIDGET (self->banner), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->banner), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->banner));

  return box;
}

DemoWorker *
demo_worker_new (const char *module,
                 GtkRange   *zoom_scale)
{
  const char *modules[] = { module, mpel_gtk_get_display_module (), NULL };
  DemoWorker *self = g_new0 (DemoWorker, 1);

  self->zoom_scale = zoom_scale;
  self->zoom = g_object_ref (gtk_range_get_adjustment (zoom_scale));
  self->cancellable = g_cancellable_new ();

  /* One worker, with GTK on the app's display (the display module), made
   * again after a crash. */
  self->loop = mpel_loop_new ();
  mpel_loop_set_modules (self->loop, modules);
  mpel_loop_set_n_workers (self->loop, 1);
  mpel_loop_set_restart_policy (self->loop, MPEL_RESTART_POLICY_ON_CRASH);
  g_signal_connect (self->loop, "worker-exited", G_CALLBACK (demo_worker_on_exited), self);

  self->primes = demo_primes_new ();
  self->widget = g_object_ref_sink (demo_worker_build (self));
  demo_worker_connect (self);

  return self;
}

GtkWidget *
demo_worker_get_widget (DemoWorker *self)
{
  return self->widget;
}

void
demo_worker_free (DemoWorker *self)
{
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->deadline_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_signal_handlers_disconnect_by_data (self->loop, self);
  g_clear_pointer (&self->binding, g_binding_unbind);

  /* GTK keeps a toplevel until it is destroyed; the worker goes anyway
   * when the loop closes, and its window with it. */
  mpel_loop_close (self->loop);
  demo_worker_drop_window (self);
  demo_primes_free (self->primes);
  g_clear_object (&self->adjustment);
  g_clear_object (&self->old_adjustment);
  g_clear_object (&self->loop);
  g_clear_object (&self->zoom);
  g_clear_object (&self->widget);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->answer, g_variant_unref);
  g_free (self->crash_reason);
  g_free (self);
}

/* The self-test: one step after the other, each waiting for its condition
 * on the main context (checked every SELF_TEST_POLL_MS), within
 * SELF_TEST_TIMEOUT_S in all. */

static void
demo_worker_self_test_end (DemoWorker *self,
                           const char *message)
{
  DemoWorkerDoneFunc done = self->done;

  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->deadline_id, g_source_remove);
  self->step = STEP_DONE;
  self->done = NULL;
  if (done != NULL)
    done (message, self->done_data);
}

static void
demo_worker_on_answer (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  DemoWorker *self = user_data;
  g_autoptr(GError) error = NULL;

  self->answer = mpel_proxy_call_finish (MPEL_PROXY (source), result, &error);
  if (self->answer == NULL)
    self->answer = g_variant_ref_sink (g_variant_new_string (error->message));
}

/* Asks the worker's adjustment for its value, once per step. */
static gboolean
demo_worker_worker_value_is (DemoWorker *self,
                             double      expected,
                             char      **message)
{
  if (!self->asked)
    {
      self->asked = TRUE;
      g_clear_pointer (&self->answer, g_variant_unref);
      mpel_proxy_call_async (self->adjustment, "get_value", NULL, self->cancellable,
                             demo_worker_on_answer, self);
      return FALSE;
    }
  if (self->answer == NULL)
    return FALSE;

  if (!g_variant_is_of_type (self->answer, G_VARIANT_TYPE_DOUBLE) ||
      g_variant_get_double (self->answer) != expected)
    {
      g_autofree char *printed = g_variant_print (self->answer, TRUE);

      *message = g_strdup_printf ("the worker's adjustment is %s, not %g", printed, expected);
    }

  return TRUE;
}

static gboolean
proxy_bool (MpelProxy  *proxy,
            const char *name)
{
  g_autoptr(GVariant) value = mpel_proxy_get_value (proxy, name);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean (value);
}

static gboolean
proxy_string_is (MpelProxy  *proxy,
                 const char *name,
                 const char *expected)
{
  g_autoptr(GVariant) value = mpel_proxy_get_value (proxy, name);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) &&
         g_str_equal (g_variant_get_string (value, NULL), expected);
}

static gboolean
adjustment_ready (DemoWorker *self)
{
  return self->adjustment != NULL && mpel_proxy_get_state (self->adjustment) == MPEL_PROXY_STATE_READY;
}

static void
demo_worker_next (DemoWorker *self,
                  Step        step)
{
  self->step = step;
  self->asked = FALSE;
  g_print ("mpel-demo: worker check %d passed\n", (int) step - 1);
}

/* Runs the current step up to the crash: FALSE with *message set when it
 * failed. */
static gboolean
demo_worker_check_running (DemoWorker  *self,
                           char       **message)
{
  switch (self->step)
    {
    case STEP_READY:
      if (!adjustment_ready (self) || !demo_primes_is_ready (self->primes))
        return TRUE;
      gtk_range_set_value (self->zoom_scale, SELF_TEST_APP_ZOOM);
      demo_worker_next (self, STEP_APP_TO_WORKER);
      return TRUE;

    case STEP_APP_TO_WORKER:
      if (!demo_worker_worker_value_is (self, SELF_TEST_APP_ZOOM, message) || *message != NULL)
        return *message == NULL;
      /* Set in the worker: the app's scale must follow. */
      mpel_proxy_call (self->adjustment, "set_value", g_variant_new ("(d)", SELF_TEST_WORKER_ZOOM));
      demo_worker_next (self, STEP_WORKER_TO_APP);
      return TRUE;

    case STEP_WORKER_TO_APP:
      if (gtk_range_get_value (self->zoom_scale) != SELF_TEST_WORKER_ZOOM)
        return TRUE;
      demo_worker_next (self, STEP_LIST);
      return TRUE;

    case STEP_LIST:
      if (!demo_primes_check (self->primes, message))
        return *message == NULL;
      g_signal_emit_by_name (self->open_button, "clicked");
      demo_worker_next (self, STEP_WINDOW);
      return TRUE;

    case STEP_WINDOW:
      if (self->window == NULL || mpel_proxy_get_state (self->window) == MPEL_PROXY_STATE_PENDING ||
          !proxy_bool (self->window, "get_mapped"))
        return TRUE;
      if (!proxy_string_is (self->window, "title", self->window_title))
        {
          *message = g_strdup_printf ("the worker's window is not titled “%s”", self->window_title);
          return FALSE;
        }
      /* The worker's scale shares the worker's adjustment. */
      mpel_proxy_call (self->window_scale, "set_value", g_variant_new ("(d)", SELF_TEST_WINDOW_ZOOM));
      demo_worker_next (self, STEP_WINDOW_SCALE);
      return TRUE;

    case STEP_WINDOW_SCALE:
      if (gtk_range_get_value (self->zoom_scale) != SELF_TEST_WINDOW_ZOOM)
        return TRUE;
      /* A click in the worker: its button plays its animation there, then
       * emits clicked, which the app hears. */
      mpel_proxy_call (self->window_button, "activate", NULL);
      demo_worker_next (self, STEP_WINDOW_BUTTON);
      return TRUE;

    case STEP_WINDOW_BUTTON:
      if (gtk_range_get_value (self->zoom_scale) != SELF_TEST_WINDOW_ZOOM + ZOOM_IN_STEP)
        return TRUE;
      g_set_object (&self->old_adjustment, self->adjustment);
      g_signal_emit_by_name (self->crash_button, "clicked");
      demo_worker_next (self, STEP_CRASHED);
      return TRUE;

    case STEP_CRASHED:
    case STEP_RECOVERED:
    case STEP_RECOVERED_VALUE:
    case STEP_RECOVERED_LIST:
    case STEP_DONE:
    default:
      g_assert_not_reached ();
    }
}

/* Runs the current step from the crash on. */
static gboolean
demo_worker_check_recovery (DemoWorker  *self,
                            char       **message)
{
  switch (self->step)
    {
    case STEP_CRASHED:
      if (self->crash_reason == NULL || !gtk_widget_get_visible (GTK_WIDGET (self->banner)) ||
          mpel_proxy_get_state (self->old_adjustment) != MPEL_PROXY_STATE_FAILED ||
          mpel_proxy_get_state (self->window) != MPEL_PROXY_STATE_FAILED)
        return TRUE;
      if (strstr (gtk_label_get_text (self->banner), self->crash_reason) == NULL)
        {
          *message = g_strdup_printf ("the banner does not give the reason: “%s”", gtk_label_get_text (self->banner));
          return FALSE;
        }
      g_print ("mpel-demo: the worker crashed: %s\n", self->crash_reason);
      demo_worker_next (self, STEP_RECOVERED);
      return TRUE;

    case STEP_RECOVERED:
      if (self->n_restarts == 0 || self->adjustment == self->old_adjustment || !adjustment_ready (self) ||
          !demo_primes_is_ready (self->primes))
        return TRUE;
      demo_worker_next (self, STEP_RECOVERED_VALUE);
      return TRUE;

    case STEP_RECOVERED_VALUE:
      /* The new worker's adjustment took the app's value. */
      if (!demo_worker_worker_value_is (self, SELF_TEST_WINDOW_ZOOM + ZOOM_IN_STEP, message) || *message != NULL)
        return *message == NULL;
      demo_worker_next (self, STEP_RECOVERED_LIST);
      return TRUE;

    case STEP_RECOVERED_LIST:
      if (!demo_primes_check (self->primes, message))
        return *message == NULL;
      demo_worker_next (self, STEP_DONE);
      demo_worker_self_test_end (self, NULL);
      return TRUE;

    case STEP_DONE:
      return TRUE;

    case STEP_READY:
    case STEP_APP_TO_WORKER:
    case STEP_WORKER_TO_APP:
    case STEP_LIST:
    case STEP_WINDOW:
    case STEP_WINDOW_SCALE:
    case STEP_WINDOW_BUTTON:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
demo_worker_self_test_poll (gpointer user_data)
{
  DemoWorker *self = user_data;
  g_autofree char *message = NULL;
  gboolean ok;

  ok = self->step < STEP_CRASHED ? demo_worker_check_running (self, &message)
                                 : demo_worker_check_recovery (self, &message);
  if (!ok)
    {
      self->poll_id = 0;
      demo_worker_self_test_end (self, message);
      return G_SOURCE_REMOVE;
    }

  return self->step == STEP_DONE ? (self->poll_id = 0, G_SOURCE_REMOVE) : G_SOURCE_CONTINUE;
}

static gboolean
demo_worker_self_test_timeout (gpointer user_data)
{
  DemoWorker *self = user_data;
  g_autofree char *message = g_strdup_printf ("the worker's part timed out at step %d", (int) self->step);

  self->deadline_id = 0;
  demo_worker_self_test_end (self, message);

  return G_SOURCE_REMOVE;
}

/* Drives every part of the worker's side: the scale both ways, the list,
 * the worker's window, a crash and the recovery. Calls @done once. */
void
demo_worker_self_test (DemoWorker         *self,
                       DemoWorkerDoneFunc  done,
                       gpointer            user_data)
{
  g_return_if_fail (self->done == NULL);

  self->done = done;
  self->done_data = user_data;
  self->step = STEP_READY;
  self->poll_id = g_timeout_add (SELF_TEST_POLL_MS, demo_worker_self_test_poll, self);
  self->deadline_id = g_timeout_add_seconds (SELF_TEST_TIMEOUT_S, demo_worker_self_test_timeout, self);
}
