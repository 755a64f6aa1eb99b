/* mpel-demo.c: count primes in worker processes while the window stays live.
 *
 * Beside it, a Mandelbrot that a worker of a second loop renders, shown
 * through an MpelRemotePaintable: drag to move, use the scale to zoom; the
 * latest view wins, and the window never waits for a frame.
 *
 * Below, a third loop's worker has GTK on this display (demo-worker.c): the
 * zoom scale is bound to a Gtk.Adjustment that lives there, a GtkListView
 * shows the primes it keeps finding (demo-primes.c), it opens a window of
 * its own on request, and when it crashes the app says why and makes
 * everything again in the restarted worker.
 *
 * The work is cut into chunks, each one an event ("count_primes" from the
 * demo module) that an MpelLoop sends to its workers. Results come back on the
 * loop's `output` signal, on this main loop: the progress bar moves, the
 * spinner never stops turning, and Cancel drops what has not run yet.
 *
 *   mpel-demo                  the window
 *   mpel-demo --self-test      counts the primes below 2 000 000 (after
 *                              cancelling a first run), checks 148 933,
 *                              checks pixels of the Mandelbrot before and
 *                              after zooming, then the worker's part: the
 *                              scale both ways, the list, the worker's
 *                              window, a crash and the recovery; exits
 *   mpel-demo --self-test --screenshot=FILE.png
 *                              also saves the window at the end (or to
 *                              $MPEL_DEMO_SCREENSHOT)
 *
 * Uninstalled, $MPEL_WORKER names the mpel-worker host and $MPEL_DEMO_MODULE
 * the demo module.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gtk/gtk.h>
#include <mpel-gtk.h>

#include "demo-worker.h"

#define APPLICATION_ID         "org.mpel.Demo"
#define N_CHUNKS               100
#define DEFAULT_LIMIT          10000000
#define MAX_LIMIT              1000000000
#define MAX_WORKERS            8
#define SELF_TEST_LIMIT        2000000
#define SELF_TEST_PRIMES       148933
#define SELF_TEST_TIMEOUT_S    100
/* The longest time the window may go without a frame while the workers
 * count. Generous, since the test may share two cores with other tests: it
 * catches a blocked main loop, not a slow machine. */
#define SELF_TEST_MAX_FRAME_GAP_MS 3000
/* The Mandelbrot's size, in logical pixels, and its first view. */
#define MANDELBROT_WIDTH       360
#define MANDELBROT_HEIGHT      240
#define MANDELBROT_X           -0.5
#define MANDELBROT_Y           0.0
#define SELF_TEST_ZOOM_LOG2    3.0

/* The self-test's checks of the Mandelbrot. */
typedef enum
{
  MANDELBROT_CHECK_FIRST,    /* the first frame: pixels in and out of the set */
  MANDELBROT_CHECK_ZOOMED,   /* after moving the scale: a new frame */
  MANDELBROT_CHECK_DONE,
} MandelbrotCheck;

typedef enum
{
  SELF_TEST_OFF,
  SELF_TEST_CANCEL,       /* first run: cancelled after its first chunk */
  SELF_TEST_COUNT,        /* second run: must count SELF_TEST_PRIMES */
  SELF_TEST_WORKER,       /* the worker's part (demo-worker.c) */
  SELF_TEST_SCREENSHOT,   /* waiting for a frame to save */
  SELF_TEST_DONE,
} SelfTestPhase;

typedef struct
{
  GtkApplication *app;
  MpelLoop       *loop;
  GError         *start_error;

  GtkWidget      *window;
  GtkSpinButton  *limit_spin;
  GtkWidget      *count_button;
  GtkWidget      *cancel_button;
  GtkProgressBar *progress;
  GtkSpinner     *spinner;
  GtkLabel       *total_label;
  GtkLabel       *status_label;

  /* The Mandelbrot: its own loop, so that frames never queue behind the
   * chunks of a count. */
  MpelLoop            *render_loop;
  MpelRemotePaintable *mandelbrot;
  GtkWidget           *picture;
  GtkRange            *zoom_scale;
  double               view_x;
  double               view_y;
  double               drag_x;
  double               drag_y;

  /* The worker with GTK on this display, and what the app keeps there. */
  DemoWorker          *worker_part;

  /* The current job: its events (owned), their key, what has come back. */
  GPtrArray      *events;
  char           *job_key;
  guint           job_serial;
  guint           limit;
  guint           n_done;
  guint64         n_primes;
  gint64          started_at;
  gboolean        busy;

  /* Frame-clock ticks while busy: the proof that the GUI never blocks. */
  guint           tick_id;
  gint64          last_tick;
  gint64          max_frame_gap;
  guint           n_ticks;

  /* --self-test and --screenshot */
  gboolean        self_test;
  char           *screenshot;
  SelfTestPhase   phase;
  guint           n_unexpected;
  guint           watchdog_id;
  int             exit_status;
  MandelbrotCheck mandelbrot_check;
  guint           mandelbrot_n_frames;
  gboolean        mandelbrot_waiting;
} Demo;

static void demo_self_test_fail (Demo       *demo,
                                 const char *format,
                                 ...) G_GNUC_PRINTF (2, 3);

static const char *
find_demo_module (void)
{
  const char *path = g_getenv ("MPEL_DEMO_MODULE");

  if (path != NULL && *path != '\0')
    return path;

  return MPEL_DEMO_MODULE_PATH;
}

/* 148933 -> "148 933", with narrow no-break spaces. */
static char *
format_count (guint64 n)
{
  g_autofree char *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  GString *out = g_string_new (NULL);
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append (out, "\u202F");
      g_string_append_c (out, digits[i]);
    }

  return g_string_free (out, FALSE);
}

static void
demo_set_status (Demo       *demo,
                 const char *status)
{
  gtk_label_set_text (demo->status_label, status);
  if (demo->self_test)
    g_print ("mpel-demo: %s\n", status);
}

static void
demo_self_test_finish (Demo *demo,
                       int   exit_status)
{
  if (demo->phase == SELF_TEST_DONE)
    return;

  demo->phase = SELF_TEST_DONE;
  demo->exit_status = exit_status;
  g_print ("mpel-demo: self-test %s\n", exit_status == 0 ? "passed" : "FAILED");
  g_application_quit (G_APPLICATION (demo->app));
}

static void
demo_self_test_fail (Demo       *demo,
                     const char *format,
                     ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("mpel-demo: self-test: %s\n", message);
  demo_self_test_finish (demo, EXIT_FAILURE);
}

static void
demo_update_progress (Demo *demo)
{
  guint n_events = demo->events != NULL ? demo->events->len : 0;
  g_autofree char *text = NULL;

  if (n_events == 0)
    {
      gtk_progress_bar_set_fraction (demo->progress, 0.0);
      gtk_progress_bar_set_text (demo->progress, NULL);
      return;
    }

  text = g_strdup_printf ("%u of %u chunks", demo->n_done, n_events);
  gtk_progress_bar_set_fraction (demo->progress, (double) demo->n_done / n_events);
  gtk_progress_bar_set_text (demo->progress, text);
}

static void
demo_set_busy (Demo     *demo,
               gboolean  busy)
{
  demo->busy = busy;

  gtk_widget_set_sensitive (demo->count_button, busy == FALSE && demo->start_error == NULL);
  gtk_widget_set_sensitive (demo->cancel_button, busy);
  /* The spinner keeps turning, busy or not: it shows that the window never
   * waits for a worker. */
  gtk_spinner_set_spinning (demo->spinner, TRUE);

  if (!busy && demo->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (demo->spinner), demo->tick_id);
      demo->tick_id = 0;
    }
}

static gboolean
demo_tick (GtkWidget     *widget,
           GdkFrameClock *frame_clock,
           gpointer       user_data)
{
  Demo *demo = user_data;
  gint64 now = g_get_monotonic_time ();

  demo->max_frame_gap = MAX (demo->max_frame_gap, now - demo->last_tick);
  demo->last_tick = now;
  demo->n_ticks++;

  return G_SOURCE_CONTINUE;
}

static void
demo_start_job (Demo  *demo,
                guint  limit)
{
  guint chunk;

  g_assert (!demo->busy);

  if (demo->start_error != NULL)
    return;

  g_clear_pointer (&demo->events, g_ptr_array_unref);
  g_clear_pointer (&demo->job_key, g_free);

  demo->events = g_ptr_array_new_with_free_func (g_object_unref);
  demo->job_key = g_strdup_printf ("primes-below-%u#%u", limit, ++demo->job_serial);
  demo->limit = limit;
  demo->n_done = 0;
  demo->n_primes = 0;
  demo->started_at = g_get_monotonic_time ();

  /* Equal ranges; later ones cost more (trial division), which the progress
   * bar shows honestly. */
  chunk = MAX ((limit + N_CHUNKS - 1) / N_CHUNKS, 1);
  for (guint64 from = 0; from < limit; from += chunk)
    {
      guint64 to = MIN (from + chunk, (guint64) limit);
      MpelEvent *event;

      event = mpel_event_new ("count_primes", g_variant_new ("(uu)", (guint32) from, (guint32) to));
      mpel_event_set_key (event, demo->job_key);
      mpel_loop_push (demo->loop, event);
      g_ptr_array_add (demo->events, event);
    }

  demo->last_tick = demo->started_at;
  demo->max_frame_gap = 0;
  demo->n_ticks = 0;
  demo->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (demo->spinner), demo_tick, demo, NULL);

  demo_set_busy (demo, TRUE);
  demo_update_progress (demo);
  gtk_label_set_text (demo->total_label, "…");
  demo_set_status (demo, "Counting…");
}

/* Cancels what is left of the job and returns how many events that was. */
static guint
demo_drop_job (Demo *demo)
{
  guint n_cancelled = 0;

  if (!demo->busy)
    return 0;

  /* Cancelling ends the caller's side at once, even for chunks that are
   * still running in a worker; chunks not sent yet are never sent. */
  for (guint i = 0; i < demo->events->len; i++)
    {
      MpelEvent *event = g_ptr_array_index (demo->events, i);

      if (!mpel_event_is_finished (event))
        {
          mpel_event_cancel (event);
          n_cancelled++;
        }
    }

  demo_set_busy (demo, FALSE);
  gtk_label_set_text (demo->total_label, "—");

  return n_cancelled;
}

static void
demo_cancel_job (Demo *demo)
{
  g_autofree char *status = NULL;
  guint n_cancelled;

  if (!demo->busy)
    return;

  n_cancelled = demo_drop_job (demo);
  status = g_strdup_printf ("Cancelled after %u of %u chunks (%u dropped)",
                            demo->n_done, demo->events->len, n_cancelled);
  demo_set_status (demo, status);
}

static void
demo_save_screenshot (Demo *demo)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;
  int width, height;

  width = gtk_widget_get_width (demo->window);
  height = gtk_widget_get_height (demo->window);
  paintable = gtk_widget_paintable_new (demo->window);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  renderer = gtk_native_get_renderer (GTK_NATIVE (demo->window));

  if (node == NULL || renderer == NULL)
    {
      demo_self_test_fail (demo, "nothing to take a screenshot of");
      return;
    }

  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, demo->screenshot))
    {
      demo_self_test_fail (demo, "could not save %s", demo->screenshot);
      return;
    }

  g_print ("mpel-demo: saved a %d×%d screenshot to %s\n", width, height, demo->screenshot);
}

static void
demo_after_paint (GdkFrameClock *frame_clock,
                  Demo          *demo)
{
  g_signal_handlers_disconnect_by_func (frame_clock, demo_after_paint, demo);

  if (demo->phase != SELF_TEST_SCREENSHOT)
    return;

  demo_save_screenshot (demo);
  demo_self_test_finish (demo, EXIT_SUCCESS);
}

static void demo_self_test_check (Demo *demo);

static double
demo_zoom (Demo *demo)
{
  return pow (2.0, gtk_range_get_value (demo->zoom_scale));
}

static GVariant *
demo_view_args (Demo *demo)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "x", "d", demo->view_x);
  g_variant_dict_insert (&dict, "y", "d", demo->view_y);
  g_variant_dict_insert (&dict, "zoom", "d", demo_zoom (demo));
  return g_variant_dict_end (&dict);
}

static void
demo_update_view (Demo *demo)
{
  mpel_remote_paintable_set_args (demo->mandelbrot, demo_view_args (demo));
}

static void
demo_on_zoom_changed (Demo *demo)
{
  demo_update_view (demo);
}

static void
demo_on_drag_begin (GtkGestureDrag *gesture,
                    double          start_x,
                    double          start_y,
                    Demo           *demo)
{
  demo->drag_x = demo->view_x;
  demo->drag_y = demo->view_y;
}

/* Every motion asks for a frame; while one renders, only the latest view
 * is kept. */
static void
demo_on_drag_update (GtkGestureDrag *gesture,
                     double          offset_x,
                     double          offset_y,
                     Demo           *demo)
{
  int height = gtk_widget_get_height (demo->picture);
  double step = 3.0 / (MAX (height, 1) * demo_zoom (demo));

  /* The picture scales the frame to its height (or less): close enough
   * for the view to follow the pointer. */
  demo->view_x = demo->drag_x - offset_x * step;
  demo->view_y = demo->drag_y - offset_y * step;
  demo_update_view (demo);
}

static void
demo_on_mandelbrot_error (Demo *demo)
{
  const GError *error = mpel_remote_paintable_get_error (demo->mandelbrot);
  g_autofree char *status = NULL;

  if (error == NULL)
    return;

  status = g_strdup_printf ("Mandelbrot: %s", error->message);
  demo_set_status (demo, status);
}

static void
demo_on_scale_factor (Demo *demo)
{
  mpel_remote_paintable_set_scale_factor (demo->mandelbrot, gtk_widget_get_scale_factor (demo->picture));
}

/* The pixel at (x, y) of a frame, as a premultiplied native-endian ARGB
 * word. */
static guint32
texture_pixel (GdkTexture *texture,
               int         x,
               int         y)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guint32 *data = g_new (guint32, (gsize) width * height);

  gdk_texture_download (texture, (guchar *) data, (gsize) width * 4);

  return data[(gsize) y * width + x];
}

static void
demo_on_mandelbrot_progress (Demo *demo)
{
  if (demo->phase == SELF_TEST_COUNT)
    demo_self_test_check (demo);
}

/* TRUE once the Mandelbrot has passed; FALSE while it waits for a frame
 * (the check runs again then) or after failing the test. */
static gboolean
demo_self_test_mandelbrot (Demo *demo)
{
  MpelRemotePaintable *paintable = demo->mandelbrot;
  const GError *error = mpel_remote_paintable_get_error (paintable);
  GdkTexture *texture = mpel_remote_paintable_get_texture (paintable);
  guint32 centre, corner;
  int width, height;

  if (error != NULL)
    {
      demo_self_test_fail (demo, "the Mandelbrot failed: %s", error->message);
      return FALSE;
    }

  if (texture == NULL || mpel_remote_paintable_is_busy (paintable))
    {
      if (!demo->mandelbrot_waiting)
        {
          demo->mandelbrot_waiting = TRUE;
          g_signal_connect_swapped (paintable, "notify::n-frames", G_CALLBACK (demo_on_mandelbrot_progress), demo);
          g_signal_connect_swapped (paintable, "notify::error", G_CALLBACK (demo_on_mandelbrot_progress), demo);
        }
      return FALSE;
    }

  width = gdk_texture_get_width (texture);
  height = gdk_texture_get_height (texture);
  centre = texture_pixel (texture, width / 2, height / 2);
  corner = texture_pixel (texture, 0, 0);

  switch (demo->mandelbrot_check)
    {
    case MANDELBROT_CHECK_FIRST:
      /* (-0.5, 0) is in the set; (-2.75, -1.5) is far out of it. */
      if (centre != 0xff000000 || corner == 0xff000000 || (corner >> 24) != 0xff)
        {
          demo_self_test_fail (demo, "the Mandelbrot's pixels are wrong: centre %08x, corner %08x",
                               centre, corner);
          return FALSE;
        }
      demo->mandelbrot_check = MANDELBROT_CHECK_ZOOMED;
      demo->mandelbrot_n_frames = mpel_remote_paintable_get_n_frames (paintable);
      gtk_range_set_value (demo->zoom_scale, SELF_TEST_ZOOM_LOG2);
      if (!mpel_remote_paintable_is_busy (paintable))
        {
          demo_self_test_fail (demo, "zooming asked for no frame");
          return FALSE;
        }
      return demo_self_test_mandelbrot (demo);

    case MANDELBROT_CHECK_ZOOMED:
      if (mpel_remote_paintable_get_n_frames (paintable) <= demo->mandelbrot_n_frames || centre != 0xff000000)
        {
          demo_self_test_fail (demo, "the zoomed Mandelbrot is wrong: %u frames, centre %08x",
                               mpel_remote_paintable_get_n_frames (paintable), centre);
          return FALSE;
        }
      g_print ("mpel-demo: Mandelbrot checked: %d×%d pixels, %u frames\n",
               width, height, mpel_remote_paintable_get_n_frames (paintable));
      demo->mandelbrot_check = MANDELBROT_CHECK_DONE;
      return TRUE;

    case MANDELBROT_CHECK_DONE:
    default:
      return TRUE;
    }
}

static void demo_on_worker_checked (const char *message,
                                    gpointer    user_data);

static void
demo_self_test_check (Demo *demo)
{
  if (demo->n_primes != SELF_TEST_PRIMES)
    {
      demo_self_test_fail (demo, "counted %" G_GUINT64_FORMAT " primes below %u, expected %u",
                           demo->n_primes, demo->limit, SELF_TEST_PRIMES);
      return;
    }

  if (demo->n_unexpected > 0)
    {
      demo_self_test_fail (demo, "`output` was emitted for %u events that were not pending "
                           "(cancelled events must not reach it)", demo->n_unexpected);
      return;
    }

  if (!demo_self_test_mandelbrot (demo))
    return;

  g_print ("mpel-demo: %u frames while counting, the longest gap %" G_GINT64_FORMAT " ms\n",
           demo->n_ticks, demo->max_frame_gap / 1000);
  if (demo->max_frame_gap > SELF_TEST_MAX_FRAME_GAP_MS * G_GINT64_CONSTANT (1000))
    {
      demo_self_test_fail (demo, "the window went %" G_GINT64_FORMAT " ms without a frame",
                           demo->max_frame_gap / 1000);
      return;
    }

  demo->phase = SELF_TEST_WORKER;
  demo_worker_self_test (demo->worker_part, demo_on_worker_checked, demo);
}

static void
demo_on_worker_checked (const char *message,
                        gpointer    user_data)
{
  Demo *demo = user_data;
  GdkFrameClock *frame_clock;

  if (message != NULL)
    {
      demo_self_test_fail (demo, "%s", message);
      return;
    }
  g_print ("mpel-demo: the worker's part checked\n");

  if (demo->screenshot == NULL)
    {
      demo_self_test_finish (demo, EXIT_SUCCESS);
      return;
    }

  /* Take the screenshot once the final state has been laid out and drawn. */
  demo->phase = SELF_TEST_SCREENSHOT;
  frame_clock = gtk_widget_get_frame_clock (demo->window);
  g_signal_connect (frame_clock, "after-paint", G_CALLBACK (demo_after_paint), demo);
  gtk_widget_queue_draw (demo->window);
}

static void
demo_finish_job (Demo *demo)
{
  double seconds = (g_get_monotonic_time () - demo->started_at) / (double) G_USEC_PER_SEC;
  g_autofree char *total = format_count (demo->n_primes);
  g_autofree char *limit = format_count (demo->limit);
  g_autofree char *status = NULL;

  demo_set_busy (demo, FALSE);

  gtk_label_set_text (demo->total_label, total);
  status = g_strdup_printf ("%s primes below %s, counted in %.2f s by %u worker%s",
                            total, limit, seconds,
                            mpel_loop_get_n_workers (demo->loop),
                            mpel_loop_get_n_workers (demo->loop) == 1 ? "" : "s");
  demo_set_status (demo, status);

  if (demo->phase == SELF_TEST_COUNT)
    demo_self_test_check (demo);
}

static void
demo_fail_job (Demo         *demo,
               const GError *error)
{
  g_autofree char *status = g_strdup_printf ("Failed: %s", error != NULL ? error->message : "unknown error");

  demo_drop_job (demo);
  demo_set_status (demo, status);

  if (demo->phase != SELF_TEST_OFF)
    demo_self_test_fail (demo, "an event failed: %s", error != NULL ? error->message : "?");
}

/* Clicks like a user would, but at once: gtk_widget_activate() on a button
 * plays a press animation first. */
static gboolean
demo_self_test_click (Demo      *demo,
                      GtkWidget *button)
{
  if (!gtk_widget_is_sensitive (button))
    {
      demo_self_test_fail (demo, "the %s button is insensitive",
                           gtk_button_get_label (GTK_BUTTON (button)));
      return FALSE;
    }

  g_signal_emit_by_name (button, "clicked");
  return TRUE;
}

static gboolean
demo_self_test_count (gpointer user_data)
{
  Demo *demo = user_data;

  demo->phase = SELF_TEST_COUNT;
  if (demo_self_test_click (demo, demo->count_button) && !demo->busy)
    demo_self_test_fail (demo, "the Count primes button did not start a job");

  return G_SOURCE_REMOVE;
}

static void
demo_self_test_cancel (Demo *demo)
{
  guint n_left;

  if (!demo_self_test_click (demo, demo->cancel_button))
    return;
  if (demo->busy)
    {
      demo_self_test_fail (demo, "the Cancel button did not end the job");
      return;
    }

  n_left = 0;
  for (guint i = 0; i < demo->events->len; i++)
    n_left += !mpel_event_is_finished (g_ptr_array_index (demo->events, i));
  if (n_left > 0)
    {
      demo_self_test_fail (demo, "%u events had not ended right after mpel_event_cancel()", n_left);
      return;
    }

  /* Counting again right away must work: chunks of the cancelled job that
   * were still running in a worker finish there, and their results must
   * not come back. */
  g_idle_add (demo_self_test_count, demo);
}

static gboolean
demo_on_output (MpelLoop  *loop,
                MpelEvent *event,
                Demo      *demo)
{
  GVariant *result;

  if (!demo->busy || g_strcmp0 (mpel_event_get_key (event), demo->job_key) != 0)
    {
      /* A job that was cancelled: its events ended CANCELLED, and those do
       * not reach `output`. */
      g_printerr ("mpel-demo: `output` for an event that is not pending: key %s, state %d\n",
                  mpel_event_get_key (event), mpel_event_get_state (event));
      demo->n_unexpected++;
      return FALSE;
    }

  if (mpel_event_get_state (event) != MPEL_EVENT_STATE_DONE)
    {
      demo_fail_job (demo, mpel_event_get_error (event));
      return TRUE;
    }

  result = mpel_event_get_result (event);
  if (result == NULL || !g_variant_is_of_type (result, G_VARIANT_TYPE_UINT32))
    {
      g_autoptr(GError) error = g_error_new (MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                             "count_primes returned %s instead of a uint32",
                                             result != NULL ? g_variant_get_type_string (result) : "nothing");
      demo_fail_job (demo, error);
      return TRUE;
    }

  demo->n_primes += g_variant_get_uint32 (result);
  demo->n_done++;
  demo_update_progress (demo);

  if (demo->n_done == demo->events->len)
    demo_finish_job (demo);
  else if (demo->phase == SELF_TEST_CANCEL)
    demo_self_test_cancel (demo);

  return TRUE;
}

static void
demo_on_worker_exited (MpelLoop     *loop,
                       guint         index,
                       const GError *reason,
                       Demo         *demo)
{
  g_autofree char *status = NULL;

  if (reason == NULL)
    return;

  /* The loop fails the worker's events, which reach `output`; with the
   * on-crash policy it also starts a new worker for the rest. */
  status = g_strdup_printf ("Worker %u stopped: %s", index, reason->message);
  demo_set_status (demo, status);
}

static void
demo_on_count_clicked (Demo *demo)
{
  gtk_spin_button_update (demo->limit_spin);
  demo_start_job (demo, (guint) gtk_spin_button_get_value_as_int (demo->limit_spin));
}

static void
demo_on_cancel_clicked (Demo *demo)
{
  demo_cancel_job (demo);
}

static void
demo_build_mandelbrot (Demo      *demo,
                       GtkWidget *box)
{
  GtkWidget *label, *row;
  GtkGesture *drag;

  label = gtk_label_new ("A Mandelbrot drawn by a worker: drag it to move, zoom with the scale.");
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);

  demo->view_x = MANDELBROT_X;
  demo->view_y = MANDELBROT_Y;

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (box), row);
  label = gtk_label_new_with_mnemonic ("_Zoom");
  gtk_box_append (GTK_BOX (row), label);
  demo->zoom_scale = GTK_RANGE (gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 16, 0.25));
  gtk_scale_set_draw_value (GTK_SCALE (demo->zoom_scale), FALSE);
  gtk_widget_set_hexpand (GTK_WIDGET (demo->zoom_scale), TRUE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), GTK_WIDGET (demo->zoom_scale));
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (demo->zoom_scale));

  demo->mandelbrot = g_object_new (MPEL_TYPE_REMOTE_PAINTABLE,
                                   "loop", demo->render_loop,
                                   "target", "mandelbrot",
                                   "args", demo_view_args (demo),
                                   "width", MANDELBROT_WIDTH,
                                   "height", MANDELBROT_HEIGHT,
                                   NULL);
  g_signal_connect_swapped (demo->mandelbrot, "notify::error", G_CALLBACK (demo_on_mandelbrot_error), demo);
  g_signal_connect_swapped (demo->zoom_scale, "value-changed", G_CALLBACK (demo_on_zoom_changed), demo);

  demo->picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (demo->mandelbrot));
  gtk_widget_set_size_request (demo->picture, MANDELBROT_WIDTH, MANDELBROT_HEIGHT);
  g_signal_connect_swapped (demo->picture, "notify::scale-factor", G_CALLBACK (demo_on_scale_factor), demo);
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (demo_on_drag_begin), demo);
  g_signal_connect (drag, "drag-update", G_CALLBACK (demo_on_drag_update), demo);
  gtk_widget_add_controller (demo->picture, GTK_EVENT_CONTROLLER (drag));
  gtk_box_append (GTK_BOX (box), demo->picture);
}

static GtkWidget *
demo_build_window (Demo *demo)
{
  GtkWidget *window, *box, *row, *label, *intro;

  window = gtk_application_window_new (demo->app);
  gtk_window_set_title (GTK_WINDOW (window), "mpel Demo");
  gtk_window_set_default_size (GTK_WINDOW (window), 560, -1);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 24);
  gtk_widget_set_margin_end (box, 24);
  gtk_window_set_child (GTK_WINDOW (window), box);

  intro = gtk_label_new ("Counts the primes below a number in worker processes, one chunk "
                         "at a time. The window stays responsive all along: the spinner "
                         "keeps turning while the workers count.");
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_xalign (GTK_LABEL (intro), 0.0);
  gtk_label_set_max_width_chars (GTK_LABEL (intro), 60);
  gtk_label_set_width_chars (GTK_LABEL (intro), 50);
  gtk_widget_add_css_class (intro, "dim-label");
  gtk_box_append (GTK_BOX (box), intro);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (box), row);

  label = gtk_label_new_with_mnemonic ("Primes _below");
  gtk_box_append (GTK_BOX (row), label);

  demo->limit_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (2, MAX_LIMIT, 100000));
  gtk_spin_button_set_digits (demo->limit_spin, 0);
  gtk_spin_button_set_numeric (demo->limit_spin, TRUE);
  gtk_spin_button_set_value (demo->limit_spin, DEFAULT_LIMIT);
  gtk_widget_set_hexpand (GTK_WIDGET (demo->limit_spin), TRUE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), GTK_WIDGET (demo->limit_spin));
  /* Enter counts (GtkSpinButton has no activates-default of its own in 4.8). */
  gtk_text_set_activates_default (GTK_TEXT (gtk_editable_get_delegate (GTK_EDITABLE (demo->limit_spin))), TRUE);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (demo->limit_spin));

  demo->count_button = gtk_button_new_with_mnemonic ("_Count primes");
  gtk_widget_add_css_class (demo->count_button, "suggested-action");
  g_signal_connect_swapped (demo->count_button, "clicked", G_CALLBACK (demo_on_count_clicked), demo);
  gtk_box_append (GTK_BOX (row), demo->count_button);

  demo->cancel_button = gtk_button_new_with_mnemonic ("C_ancel");
  g_signal_connect_swapped (demo->cancel_button, "clicked", G_CALLBACK (demo_on_cancel_clicked), demo);
  gtk_box_append (GTK_BOX (row), demo->cancel_button);

  demo->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_progress_bar_set_show_text (demo->progress, TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (demo->progress));

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (box), row);

  demo->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_size_request (GTK_WIDGET (demo->spinner), 32, 32);
  gtk_widget_set_valign (GTK_WIDGET (demo->spinner), GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (demo->spinner));

  label = gtk_label_new ("Primes:");
  gtk_widget_add_css_class (label, "title-3");
  gtk_box_append (GTK_BOX (row), label);

  demo->total_label = GTK_LABEL (gtk_label_new ("—"));
  gtk_label_set_selectable (demo->total_label, TRUE);
  gtk_label_set_xalign (demo->total_label, 0.0);
  gtk_widget_set_hexpand (GTK_WIDGET (demo->total_label), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (demo->total_label), "title-2");
  gtk_widget_add_css_class (GTK_WIDGET (demo->total_label), "numeric");
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (demo->total_label));

  demo_build_mandelbrot (demo, box);

  demo->worker_part = demo_worker_new (find_demo_module (), demo->zoom_scale);
  gtk_box_append (GTK_BOX (box), demo_worker_get_widget (demo->worker_part));

  demo->status_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (demo->status_label, TRUE);
  gtk_label_set_xalign (demo->status_label, 0.0);
  gtk_widget_add_css_class (GTK_WIDGET (demo->status_label), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (demo->status_label));

  gtk_window_set_default_widget (GTK_WINDOW (window), demo->count_button);

  return window;
}

static void
demo_startup (GApplication *app,
              Demo         *demo)
{
  const char *modules[] = { find_demo_module (), NULL };
  guint n_workers = CLAMP (g_get_num_processors (), 1, MAX_WORKERS);

  demo->loop = mpel_loop_new ();
  mpel_loop_set_modules (demo->loop, modules);
  mpel_loop_set_n_workers (demo->loop, n_workers);
  /* A few chunks in flight per worker keep it busy; the rest wait here,
   * where Cancel drops them before they cost anything. */
  mpel_loop_set_max_in_flight (demo->loop, 2 * n_workers);
  mpel_loop_set_restart_policy (demo->loop, MPEL_RESTART_POLICY_ON_CRASH);
  g_signal_connect (demo->loop, "output::count_primes", G_CALLBACK (demo_on_output), demo);
  g_signal_connect (demo->loop, "worker-exited", G_CALLBACK (demo_on_worker_exited), demo);

  demo->render_loop = mpel_loop_new ();
  mpel_loop_set_modules (demo->render_loop, modules);
  mpel_loop_set_n_workers (demo->render_loop, 1);
  mpel_loop_set_restart_policy (demo->render_loop, MPEL_RESTART_POLICY_ON_CRASH);

  /* The loop would start itself on the first event; starting it now shows
   * a missing worker or module before the user asks for anything. */
  mpel_loop_start (demo->loop, &demo->start_error);
}

static void
demo_shutdown (GApplication *app,
               Demo         *demo)
{
  g_clear_handle_id (&demo->watchdog_id, g_source_remove);

  g_clear_pointer (&demo->worker_part, demo_worker_free);

  if (demo->loop != NULL)
    {
      g_signal_handlers_disconnect_by_data (demo->loop, demo);
      mpel_loop_close (demo->loop);
    }

  if (demo->mandelbrot != NULL)
    g_signal_handlers_disconnect_by_data (demo->mandelbrot, demo);
  if (demo->render_loop != NULL)
    mpel_loop_close (demo->render_loop);

  g_clear_pointer (&demo->events, g_ptr_array_unref);
  g_clear_object (&demo->mandelbrot);
  g_clear_object (&demo->render_loop);
  g_clear_object (&demo->loop);
}

static gboolean
demo_self_test_timeout (gpointer user_data)
{
  Demo *demo = user_data;

  demo->watchdog_id = 0;
  demo_self_test_fail (demo, "no result after %d s (%u of %u chunks)", SELF_TEST_TIMEOUT_S,
                       demo->n_done, demo->events != NULL ? demo->events->len : 0);

  return G_SOURCE_REMOVE;
}

static void
demo_activate (GApplication *app,
               Demo         *demo)
{
  if (demo->window == NULL)
    {
      demo->window = demo_build_window (demo);
      demo_set_busy (demo, FALSE);
      demo_update_progress (demo);

      if (demo->start_error != NULL)
        {
          g_autofree char *status = g_strdup_printf ("Could not start the workers: %s",
                                                     demo->start_error->message);
          demo_set_status (demo, status);
        }
      else
        demo_set_status (demo, "Ready");
    }

  gtk_window_present (GTK_WINDOW (demo->window));

  if (demo->self_test && demo->phase == SELF_TEST_OFF)
    {
      if (demo->start_error != NULL)
        {
          demo_self_test_fail (demo, "%s", demo->start_error->message);
          return;
        }

      demo->watchdog_id = g_timeout_add_seconds (SELF_TEST_TIMEOUT_S, demo_self_test_timeout, demo);
      demo->phase = SELF_TEST_CANCEL;
      gtk_spin_button_set_value (demo->limit_spin, SELF_TEST_LIMIT);
      if (demo_self_test_click (demo, demo->count_button) && !demo->busy)
        demo_self_test_fail (demo, "the Count primes button did not start a job");
    }
}

static int
demo_handle_local_options (GApplication *app,
                           GVariantDict *options,
                           Demo         *demo)
{
  if (g_variant_dict_lookup (options, "self-test", "b", &demo->self_test) && demo->self_test)
    {
      /* A test must not hand its work to a demo that is already running. */
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }

  if (g_variant_dict_lookup (options, "screenshot", "^ay", &demo->screenshot) && !demo->self_test)
    {
      g_printerr ("mpel-demo: --screenshot goes with --self-test\n");
      return EXIT_FAILURE;
    }
  if (demo->screenshot == NULL && demo->self_test)
    demo->screenshot = g_strdup (g_getenv ("MPEL_DEMO_SCREENSHOT"));
  if (demo->screenshot != NULL && *demo->screenshot == '\0')
    g_clear_pointer (&demo->screenshot, g_free);

  return -1;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkApplication) app = NULL;
  Demo demo = { 0 };
  int status;

  app = gtk_application_new (APPLICATION_ID, G_APPLICATION_DEFAULT_FLAGS);
  demo.app = app;

  g_application_add_main_option (G_APPLICATION (app), "self-test", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_NONE,
                                 "Count the primes below 2000000 (after cancelling a first "
                                 "count), check the result, the Mandelbrot and the worker's "
                                 "widgets, crash that worker, check the recovery and exit", NULL);
  g_application_add_main_option (G_APPLICATION (app), "screenshot", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_FILENAME,
                                 "With --self-test, save the window as a PNG image at the end "
                                 "(default: $MPEL_DEMO_SCREENSHOT)",
                                 "FILE");

  g_signal_connect (app, "handle-local-options", G_CALLBACK (demo_handle_local_options), &demo);
  g_signal_connect (app, "startup", G_CALLBACK (demo_startup), &demo);
  g_signal_connect (app, "activate", G_CALLBACK (demo_activate), &demo);
  g_signal_connect (app, "shutdown", G_CALLBACK (demo_shutdown), &demo);

  status = g_application_run (G_APPLICATION (app), argc, argv);

  if (demo.self_test && status == EXIT_SUCCESS)
    {
      status = demo.exit_status;
      if (demo.phase != SELF_TEST_DONE)
        {
          g_printerr ("mpel-demo: self-test: the application quit before the test ended\n");
          status = EXIT_FAILURE;
        }
    }

  g_clear_pointer (&demo.job_key, g_free);
  g_clear_pointer (&demo.screenshot, g_free);
  g_clear_error (&demo.start_error);

  return status;
}
