/* mpel-gtk-test-module.c: the worker side of test-remote-paintable and
 * bench-paintable, loaded with `mpel-worker --module`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>

#include <mpel-gtk.h>

G_MODULE_EXPORT void mpel_module_init (MpelWorker *worker);

/* The slow renderer's own count, read back through "slow-stats". */
static guint slow_renders;
static guint32 slow_last_value;
/* What "changing" draws; "changing.set" changes it. */
static guint32 changing_rgb = 0x0000ff;

static void
set_source_rgb24 (cairo_t *cr,
                  guint32  rgb)
{
  cairo_set_source_rgb (cr,
                        ((rgb >> 16) & 0xff) / 255.0,
                        ((rgb >> 8) & 0xff) / 255.0,
                        (rgb & 0xff) / 255.0);
}

static guint32
lookup_u32 (GVariant   *args,
            const char *key,
            guint32     fallback)
{
  guint32 value;

  if (!g_variant_lookup (args, key, "u", &value))
    return fallback;

  return value;
}

/* Left half red, right half args["color"] (0xRRGGBB, green by default). */
static gboolean
render_gradient (cairo_t   *cr,
                 int        width,
                 int        height,
                 GVariant  *args,
                 gpointer   user_data,
                 GError   **error)
{
  cairo_set_source_rgb (cr, 1, 0, 0);
  cairo_rectangle (cr, 0, 0, width / 2, height);
  cairo_fill (cr);

  set_source_rgb24 (cr, lookup_u32 (args, "color", 0x00ff00));
  cairo_rectangle (cr, width / 2, 0, width - width / 2, height);
  cairo_fill (cr);

  return TRUE;
}

/* A renderer that takes its time: 150 ms a frame, filled with the colour
 * args["value"]. */
static gboolean
render_slow (cairo_t   *cr,
             int        width,
             int        height,
             GVariant  *args,
             gpointer   user_data,
             GError   **error)
{
  slow_renders++;
  slow_last_value = lookup_u32 (args, "value", 0);

  g_usleep (150 * 1000);
  set_source_rgb24 (cr, slow_last_value);
  cairo_paint (cr);

  return TRUE;
}

static void
slow_stats (MpelInvocation *invocation,
            gpointer        user_data)
{
  mpel_invocation_return_value (invocation, g_variant_new ("(uu)", slow_renders, slow_last_value));
}

/* Dies when args["crash"] is true, fails with an error when args["fail"]
 * is, and paints white otherwise. */
static gboolean
render_crash (cairo_t   *cr,
              int        width,
              int        height,
              GVariant  *args,
              gpointer   user_data,
              GError   **error)
{
  gboolean flag;

  if (g_variant_lookup (args, "crash", "b", &flag) && flag)
    raise (SIGKILL);

  if (g_variant_lookup (args, "fail", "b", &flag) && flag)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "asked to fail");
      return FALSE;
    }

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  return TRUE;
}

static gboolean
render_changing (cairo_t   *cr,
                 int        width,
                 int        height,
                 GVariant  *args,
                 gpointer   user_data,
                 GError   **error)
{
  set_source_rgb24 (cr, changing_rgb);
  cairo_paint (cr);

  return TRUE;
}

static void
changing_set (MpelInvocation *invocation,
              gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(u)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS, "(u)");
      return;
    }

  g_variant_get (args, "(u)", &changing_rgb);
  mpel_gtk_worker_notify_changed (mpel_invocation_get_worker (invocation), "changing");
  mpel_invocation_return_value (invocation, NULL);
}

/* notify (s): tells the watchers of a target that it changed. */
static void
notify (MpelInvocation *invocation,
        gpointer        user_data)
{
  const char *target;

  g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &target);
  mpel_gtk_worker_notify_changed (mpel_invocation_get_worker (invocation), target);
  mpel_invocation_return_value (invocation, NULL);
}

/* Frames that break the rules, by args["mode"]; "ok" is a good 2×1 one. */
static void
hostile (MpelInvocation *invocation,
         gpointer        user_data)
{
  g_autoptr(GVariant) dict = NULL;
  const char *mode = "ok";
  static const guint8 pixels[64] = { 0, };
  gint32 width = 2, height = 1;
  guint32 format = GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, stride = 8;
  gsize n_bytes = 8;

  g_variant_get (mpel_invocation_get_args (invocation), "(iid@a{sv})", NULL, NULL, NULL, &dict);
  g_variant_lookup (dict, "mode", "&s", &mode);

  if (g_str_equal (mode, "type"))
    {
      mpel_invocation_return_value (invocation, g_variant_new_string ("not a frame"));
      return;
    }
  else if (g_str_equal (mode, "stride"))
    stride = 4;
  else if (g_str_equal (mode, "short"))
    n_bytes = 7;
  else if (g_str_equal (mode, "huge"))
    width = 1 << 30, stride = G_MAXUINT32;
  else if (g_str_equal (mode, "negative"))
    height = -1;
  else if (g_str_equal (mode, "format"))
    format = 999;
  else if (g_str_equal (mode, "overflow"))
    width = 16384, height = 16384, stride = 65536;

  mpel_invocation_return_value (invocation,
                                g_variant_new ("(iiuu@ay)", width, height, format, stride,
                                               g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                          pixels, n_bytes, 1)));
}

/* list.make (u n): exports a Gtk.StringList "list" of n items, "Item 0"
 * to "Item n-1", for test-list-scroll. */
static void
list_make (MpelInvocation *invocation,
           gpointer        user_data)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  guint32 n;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(u)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS, "list.make takes (u)");
      return;
    }
  g_variant_get (mpel_invocation_get_args (invocation), "(u)", &n);

  for (guint32 i = 0; i < n; i++)
    g_ptr_array_add (strings, g_strdup_printf ("Item %u", i));
  g_ptr_array_add (strings, NULL);
  gtk_string_list_splice (list, 0, 0, (const char * const *) strings->pdata);

  mpel_worker_export_object (mpel_invocation_get_worker (invocation), "list", G_OBJECT (list));
  mpel_invocation_return_value (invocation, NULL);
}

void
mpel_module_init (MpelWorker *worker)
{
  /* 3×2 pixels, premultiplied BGRA: red, green, blue / white, black,
   * transparent. */
  static const guint8 texture_data[] = {
    0x00, 0x00, 0xff, 0xff,  0x00, 0xff, 0x00, 0xff,  0xff, 0x00, 0x00, 0xff,
    0xff, 0xff, 0xff, 0xff,  0x00, 0x00, 0x00, 0xff,  0x00, 0x00, 0x00, 0x00,
  };
  g_autoptr(GBytes) bytes = g_bytes_new_static (texture_data, sizeof texture_data);
  g_autoptr(GdkTexture) texture = gdk_memory_texture_new (3, 2, GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, bytes, 12);

  mpel_gtk_worker_add_cairo_renderer (worker, "gradient", render_gradient, NULL, NULL);
  mpel_gtk_worker_add_cairo_renderer (worker, "slow", render_slow, NULL, NULL);
  mpel_gtk_worker_add_cairo_renderer (worker, "crash", render_crash, NULL, NULL);
  mpel_gtk_worker_add_cairo_renderer (worker, "changing", render_changing, NULL, NULL);
  /* Like a worker that serves the frame protocol by hand: no
   * "streamed.changes" to subscribe to, only the "streamed.watch" stream. */
  mpel_gtk_worker_add_cairo_renderer (worker, "streamed", render_changing, NULL, NULL);
  mpel_worker_export_object (worker, "streamed.changes", NULL);
  mpel_gtk_worker_add_paintable (worker, "texture", GDK_PAINTABLE (texture));
  mpel_worker_add_handler (worker, "slow-stats", slow_stats, NULL, NULL);
  mpel_worker_add_handler (worker, "changing.set", changing_set, NULL, NULL);
  mpel_worker_add_handler (worker, "hostile", hostile, NULL, NULL);
  mpel_worker_add_handler (worker, "notify", notify, NULL, NULL);
  mpel_worker_add_handler (worker, "list.make", list_make, NULL, NULL);
}
