/* bench-paintable.c: frames/s of a 512×512 MpelRemotePaintable (request →
 * frame rendered by cairo in the worker → 1 MiB through the shared buffers
 * → GdkTexture), beside the plain event round trip on the same loop.
 *
 *   meson test -C build --benchmark --suite bench bench-paintable -v
 *
 * BENCH_SCALE (1.0) scales the counts; BENCH_ROUNDS (5) sets the rounds,
 * of which the median is reported. Prints a Markdown table on stdout and
 * fails when a frame is wrong, an error comes back or a deadline passes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>

#include <mpel-gtk.h>

#define SIDE          512
#define N_FRAMES      200
#define N_ROUND_TRIPS 2000
#define DEADLINE_S    120

typedef struct
{
  MpelRemotePaintable *paintable;
  guint                target;
  gboolean             done;
  GError              *error;
} FrameRun;

static gint64 deadline;

static void
iterate_until (gboolean *done)
{
  while (!*done)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("bench-paintable: the deadline passed");
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
on_frame (GdkPaintable *paintable,
          FrameRun     *run)
{
  if (mpel_remote_paintable_get_n_frames (run->paintable) >= run->target)
    run->done = TRUE;
  else
    mpel_remote_paintable_invalidate (run->paintable);
}

static void
on_error (GObject    *object,
          GParamSpec *pspec,
          FrameRun   *run)
{
  const GError *error = mpel_remote_paintable_get_error (run->paintable);

  if (error != NULL)
    g_error ("bench-paintable: a frame failed: %s", error->message);
}

/* Frames one after the other, each asked for when the last arrived. */
static double
frames_per_second (MpelRemotePaintable *paintable,
                   guint                n_frames)
{
  FrameRun run = { paintable, mpel_remote_paintable_get_n_frames (paintable) + n_frames, FALSE, NULL };
  gulong frame_id, error_id;
  gint64 start;

  frame_id = g_signal_connect (paintable, "invalidate-contents", G_CALLBACK (on_frame), &run);
  error_id = g_signal_connect (paintable, "notify::error", G_CALLBACK (on_error), &run);

  start = g_get_monotonic_time ();
  mpel_remote_paintable_invalidate (paintable);
  iterate_until (&run.done);

  g_signal_handler_disconnect (paintable, frame_id);
  g_signal_handler_disconnect (paintable, error_id);

  return n_frames / ((g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
}

typedef struct
{
  MpelLoop *loop;
  guint     left;
  gboolean  done;
} EchoRun;

static void
echo_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  EchoRun *run = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = mpel_loop_call_finish (run->loop, result, &error);
  if (reply == NULL)
    g_error ("bench-paintable: mpel.echo failed: %s", error->message);

  if (--run->left == 0)
    run->done = TRUE;
  else
    mpel_loop_call_async (run->loop, "mpel.echo", g_variant_new ("(u)", run->left), NULL, echo_done, run);
}

static double
round_trips_per_second (MpelLoop *loop,
                        guint     n)
{
  EchoRun run = { loop, n, FALSE };
  gint64 start = g_get_monotonic_time ();

  mpel_loop_call_async (loop, "mpel.echo", g_variant_new ("(u)", n), NULL, echo_done, &run);
  iterate_until (&run.done);

  return n / ((g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *values,
        guint   n)
{
  qsort (values, n, sizeof (double), compare_doubles);
  return values[n / 2];
}

int
main (int   argc,
      char *argv[])
{
  const char *module = g_getenv ("MPEL_GTK_TEST_MODULE");
  const char *modules[] = { module, NULL };
  double scale = g_ascii_strtod (g_getenv ("BENCH_SCALE") ? g_getenv ("BENCH_SCALE") : "1", NULL);
  guint rounds = g_getenv ("BENCH_ROUNDS") ? (guint) atoi (g_getenv ("BENCH_ROUNDS")) : 5;
  guint n_frames = MAX (10, (guint) (N_FRAMES * scale));
  guint n_round_trips = MAX (100, (guint) (N_ROUND_TRIPS * scale));
  g_autoptr(MpelLoop) loop = NULL;
  g_autoptr(MpelRemotePaintable) paintable = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree double *fps = NULL;
  g_autofree double *rtps = NULL;
  GdkTexture *texture;
  FrameRun first;
  double frame_fps, rt_per_s;

  if (module == NULL)
    {
      g_printerr ("bench-paintable: set MPEL_GTK_TEST_MODULE to mpel-gtk-test-module.so\n");
      return EXIT_FAILURE;
    }
  rounds = CLAMP (rounds, 1, 100);
  fps = g_new (double, rounds);
  rtps = g_new (double, rounds);
  deadline = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;

  loop = mpel_loop_new ();
  mpel_loop_set_modules (loop, modules);
  mpel_loop_set_n_workers (loop, 1);
  if (!mpel_loop_start (loop, &error))
    g_error ("bench-paintable: %s", error->message);

  paintable = g_object_new (MPEL_TYPE_REMOTE_PAINTABLE,
                            "loop", loop,
                            "target", "gradient",
                            "width", SIDE,
                            "height", SIDE,
                            NULL);

  /* Warm up; the pixels are checked at the end. */
  first = (FrameRun) { paintable, 1, FALSE, NULL };
  g_signal_connect (paintable, "invalidate-contents", G_CALLBACK (on_frame), &first);
  iterate_until (&first.done);
  g_signal_handlers_disconnect_by_data (paintable, &first);
  if (mpel_remote_paintable_get_error (paintable) != NULL)
    g_error ("bench-paintable: %s", mpel_remote_paintable_get_error (paintable)->message);
  texture = mpel_remote_paintable_get_texture (paintable);
  g_assert (gdk_texture_get_width (texture) == SIDE && gdk_texture_get_height (texture) == SIDE);
  (void) round_trips_per_second (loop, 100);

  for (guint i = 0; i < rounds; i++)
    {
      fps[i] = frames_per_second (paintable, n_frames);
      rtps[i] = round_trips_per_second (loop, n_round_trips);
    }
  frame_fps = median (fps, rounds);
  rt_per_s = median (rtps, rounds);

  /* Left half red, right half green: the frames were real. */
  {
    g_autofree guint32 *data = g_new (guint32, SIDE * SIDE);

    gdk_texture_download (mpel_remote_paintable_get_texture (paintable), (guchar *) data, SIDE * 4);
    if (data[0] != 0xffff0000 || data[SIDE * SIDE - 1] != 0xff00ff00)
      g_error ("bench-paintable: wrong pixels: %08x %08x", data[0], data[SIDE * SIDE - 1]);
  }

  g_print ("| contender | rate | per item | payload |\n");
  g_print ("|---|---|---|---|\n");
  g_print ("| mpel remote paintable %dx%d (request -> frame -> texture) | %.0f frames/s | %.2f ms | %.1f MiB/frame, %.0f MiB/s |\n",
           SIDE, SIDE, frame_fps, 1000.0 / frame_fps, SIDE * SIDE * 4 / 1048576.0, frame_fps * SIDE * SIDE * 4 / 1048576.0);
  g_print ("| mpel event round trip (mpel.echo, one at a time) | %.0f calls/s | %.1f us | (u) |\n",
           rt_per_s, 1e6 / rt_per_s);
  g_print ("\n%u rounds of %u frames and %u round trips, median; one worker.\n", rounds, n_frames, n_round_trips);

  mpel_loop_close (loop);

  return EXIT_SUCCESS;
}
