/* demo-module.c: the worker side of mpel-demo (prime counting, the
 * Mandelbrot that the window shows, the list of primes that a worker keeps
 * filling and a way to crash), loaded with `mpel-worker --module`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>

#include <mpel-gtk.h>

G_MODULE_EXPORT void mpel_module_init (MpelWorker *worker);

/* Trial division on purpose: the demo wants honest CPU work, one chunk at a
 * time. 64-bit arithmetic so that d * d cannot wrap for any guint32 n. */
static gboolean
is_prime (guint64 n)
{
  if (n < 2)
    return FALSE;
  if (n % 2 == 0)
    return n == 2;
  for (guint64 d = 3; d * d <= n; d += 2)
    if (n % d == 0)
      return FALSE;
  return TRUE;
}

/* count_primes (from, to) -> the number of primes p with from <= p < to.
 *
 * The handler answers before it returns, so the worker runs one chunk at a
 * time; the app keeps chunks short, so cancelling the ones not yet sent stops
 * the work quickly. */
static void
count_primes (MpelInvocation *invocation,
              gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);
  guint32 from, to, count = 0;

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(uu)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    "count_primes takes (uu), not %s",
                                    g_variant_get_type_string (args));
      return;
    }

  g_variant_get (args, "(uu)", &from, &to);
  for (guint64 n = from; n < to; n++)
    count += is_prime (n);

  mpel_invocation_return_value (invocation, g_variant_new_uint32 (count));
}

/* mandelbrot: the frames of the demo's MpelRemotePaintable. args: x and y
 * (the centre of the view), zoom (1: 3 units from top to bottom). Drawn
 * pixel by pixel into the frame's surface; points in the set are black. */
#define MANDELBROT_MAX_ITER 256

static guint32
mandelbrot_colour (double cx,
                   double cy)
{
  double zx = 0.0, zy = 0.0;
  guint i;

  for (i = 0; i < MANDELBROT_MAX_ITER && zx * zx + zy * zy <= 4.0; i++)
    {
      double t = zx * zx - zy * zy + cx;

      zy = 2.0 * zx * zy + cy;
      zx = t;
    }

  if (i == MANDELBROT_MAX_ITER)
    return 0xff000000;

  /* Opaque, so premultiplied and straight are the same. */
  return 0xff000000
         | (guint32) (MIN (255, i * 9) << 16)
         | (guint32) (MIN (255, i * 3) << 8)
         | (guint32) (MIN (255, 96 + i * 2));
}

static gboolean
render_mandelbrot (cairo_t   *cr,
                   int        width,
                   int        height,
                   GVariant  *args,
                   gpointer   user_data,
                   GError   **error)
{
  cairo_surface_t *surface = cairo_get_target (cr);
  double x = -0.5, y = 0.0, zoom = 1.0, step;
  int pixel_width, pixel_height, stride;
  guchar *data;

  g_variant_lookup (args, "x", "d", &x);
  g_variant_lookup (args, "y", "d", &y);
  g_variant_lookup (args, "zoom", "d", &zoom);
  if (!(zoom > 0.0))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS, "zoom must be positive, not %g", zoom);
      return FALSE;
    }

  cairo_surface_flush (surface);
  pixel_width = cairo_image_surface_get_width (surface);
  pixel_height = cairo_image_surface_get_height (surface);
  stride = cairo_image_surface_get_stride (surface);
  data = cairo_image_surface_get_data (surface);
  step = 3.0 / (pixel_height * zoom);

  for (int row = 0; row < pixel_height; row++)
    {
      guint32 *pixels = (guint32 *) (gpointer) (data + (gsize) row * stride);
      double cy = y + (row - pixel_height / 2) * step;

      for (int col = 0; col < pixel_width; col++)
        pixels[col] = mandelbrot_colour (x + (col - pixel_width / 2) * step, cy);
    }

  cairo_surface_mark_dirty (surface);

  return TRUE;
}

/* primes.start: exports the Gtk.StringList "primes" (once per worker) and
 * keeps appending the primes, in order, PRIMES_PER_TICK at a time from a
 * timeout of the worker's main loop, up to PRIMES_MAX: the app shows the
 * list through an MpelListModel while it grows. Answers with how many it
 * holds. */
#define PRIMES_PER_TICK     25
#define PRIMES_INTERVAL_MS  100
#define PRIMES_MAX          100000

static GtkStringList *primes_list;
static guint64 primes_next = 2;

static gboolean
primes_fill (gpointer user_data)
{
  const char *found[PRIMES_PER_TICK + 1] = { NULL, };
  char buffers[PRIMES_PER_TICK][24];
  guint n = 0;

  for (; n < PRIMES_PER_TICK; primes_next++)
    {
      if (!is_prime (primes_next))
        continue;
      g_snprintf (buffers[n], sizeof buffers[n], "%" G_GUINT64_FORMAT, primes_next);
      found[n] = buffers[n];
      n++;
    }

  /* One splice: one items-changed for the lot. */
  gtk_string_list_splice (primes_list, g_list_model_get_n_items (G_LIST_MODEL (primes_list)), 0, found);

  return g_list_model_get_n_items (G_LIST_MODEL (primes_list)) < PRIMES_MAX
         ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
primes_start (MpelInvocation *invocation,
              gpointer        user_data)
{
  MpelWorker *worker = mpel_invocation_get_worker (invocation);

  if (primes_list == NULL)
    {
      primes_list = gtk_string_list_new (NULL);
      mpel_worker_export_object (worker, "primes", G_OBJECT (primes_list));
      g_timeout_add (PRIMES_INTERVAL_MS, primes_fill, NULL);
    }

  mpel_invocation_return_value (invocation,
                                g_variant_new_uint32 (g_list_model_get_n_items (G_LIST_MODEL (primes_list))));
}

/* demo.crash: what the demo's Crash button asks for. */
static void
demo_crash (MpelInvocation *invocation,
            gpointer        user_data)
{
  raise (SIGSEGV);
}

void
mpel_module_init (MpelWorker *worker)
{
  mpel_worker_add_handler (worker, "count_primes", count_primes, NULL, NULL);
  mpel_worker_add_handler (worker, "primes.start", primes_start, NULL, NULL);
  mpel_worker_add_handler (worker, "demo.crash", demo_crash, NULL, NULL);
  mpel_gtk_worker_add_cairo_renderer (worker, "mandelbrot", render_mandelbrot, NULL, NULL);
}
