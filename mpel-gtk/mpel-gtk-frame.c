/* mpel-gtk-frame.c: builds and checks the frames of MpelRemotePaintable.
 *
 * Both ends use these helpers, so the app and the renderers in libmpel-gtk
 * agree; a worker in another language builds the same tuples itself (see
 * doc/widgets.md). Whatever comes from the peer is checked here and refused
 * with a GError, never with an assertion.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <mpel.h>

#include "mpel-gtk-frame-private.h"
#include "mpel-gtk-worker.h"

/* The formats of GTK 4.8 and their bytes per pixel, by value: a worker
 * linked to a newer GTK may name formats this one does not know. */
static const guint8 format_bpp[] = {
  [GDK_MEMORY_B8G8R8A8_PREMULTIPLIED] = 4,
  [GDK_MEMORY_A8R8G8B8_PREMULTIPLIED] = 4,
  [GDK_MEMORY_R8G8B8A8_PREMULTIPLIED] = 4,
  [GDK_MEMORY_B8G8R8A8] = 4,
  [GDK_MEMORY_A8R8G8B8] = 4,
  [GDK_MEMORY_R8G8B8A8] = 4,
  [GDK_MEMORY_A8B8G8R8] = 4,
  [GDK_MEMORY_R8G8B8] = 3,
  [GDK_MEMORY_B8G8R8] = 3,
  [GDK_MEMORY_R16G16B16] = 6,
  [GDK_MEMORY_R16G16B16A16_PREMULTIPLIED] = 8,
  [GDK_MEMORY_R16G16B16A16] = 8,
  [GDK_MEMORY_R16G16B16_FLOAT] = 6,
  [GDK_MEMORY_R16G16B16A16_FLOAT_PREMULTIPLIED] = 8,
  [GDK_MEMORY_R16G16B16A16_FLOAT] = 8,
  [GDK_MEMORY_R32G32B32_FLOAT] = 12,
  [GDK_MEMORY_R32G32B32A32_FLOAT_PREMULTIPLIED] = 16,
  [GDK_MEMORY_R32G32B32A32_FLOAT] = 16,
};

/* gtk_init() registers the render node types; a worker, or an app that
 * has not opened a display, may snapshot before any gtk_init(). Asking for
 * one node type registers them all. */
void
_mpel_gtk_ensure_types (void)
{
  g_type_ensure (GSK_TYPE_TEXTURE_NODE);
}

GVariant *
_mpel_gtk_frame_args_to_dict (GVariant *args)
{
  GVariantBuilder builder;

  if (args != NULL && g_variant_is_of_type (args, G_VARIANT_TYPE_VARDICT))
    return g_variant_ref_sink (args);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (args != NULL)
    g_variant_builder_add (&builder, "{sv}", "value", args);

  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

GVariant *
_mpel_gtk_frame_request_new (int       width,
                             int       height,
                             double    scale,
                             GVariant *args)
{
  g_autoptr(GVariant) dict = _mpel_gtk_frame_args_to_dict (args);

  return g_variant_new ("(iid@a{sv})", width, height, scale, dict);
}

gboolean
_mpel_gtk_frame_request_parse (GVariant  *request,
                               int       *width,
                               int       *height,
                               double    *scale,
                               GVariant **args,
                               GError   **error)
{
  if (!g_variant_is_of_type (request, G_VARIANT_TYPE (MPEL_GTK_FRAME_REQUEST_TYPE_STRING)))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("A frame request is a %s, not a %s"),
                   MPEL_GTK_FRAME_REQUEST_TYPE_STRING, g_variant_get_type_string (request));
      return FALSE;
    }

  g_variant_get (request, "(iid@a{sv})", width, height, scale, args);

  /* Logical sizes times the scale must stay within MPEL_GTK_MAX_SIZE. */
  if (*width < 0 || *height < 0 || !(*scale > 0.0 && *scale <= MPEL_GTK_MAX_SCALE)
      || *width * *scale > MPEL_GTK_MAX_SIZE || *height * *scale > MPEL_GTK_MAX_SIZE)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("Cannot render a frame of %d×%d at scale %g"),
                   *width, *height, *scale);
      g_clear_pointer (args, g_variant_unref);
      return FALSE;
    }

  return TRUE;
}

static void
surface_data_free (gpointer data)
{
  cairo_surface_destroy (data);
}

GVariant *
_mpel_gtk_frame_reply_new_for_surface (cairo_surface_t *surface)
{
  GdkMemoryFormat format;
  GVariant *pixels;
  int width, height, stride;

  g_assert (cairo_image_surface_get_format (surface) == CAIRO_FORMAT_ARGB32);

  cairo_surface_flush (surface);
  width = cairo_image_surface_get_width (surface);
  height = cairo_image_surface_get_height (surface);
  stride = cairo_image_surface_get_stride (surface);

  /* CAIRO_FORMAT_ARGB32 is a native-endian premultiplied word. */
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  format = GDK_MEMORY_B8G8R8A8_PREMULTIPLIED;
#else
  format = GDK_MEMORY_A8R8G8B8_PREMULTIPLIED;
#endif

  /* No copy here: the one copy is the serialisation into the frame (or
   * into the shared buffer, for a frame of 512 KiB and more). */
  pixels = g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING,
                                    cairo_image_surface_get_data (surface),
                                    (gsize) stride * height,
                                    TRUE,
                                    surface_data_free,
                                    cairo_surface_reference (surface));

  return g_variant_new ("(iiuu@ay)", width, height, (guint32) format, (guint32) stride, pixels);
}

GdkTexture *
_mpel_gtk_frame_reply_to_texture (GVariant  *reply,
                                  GError   **error)
{
  g_autoptr(GVariant) pixels = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gint32 width, height;
  guint32 format, stride;
  gsize bpp;

  if (!g_variant_is_of_type (reply, G_VARIANT_TYPE (MPEL_GTK_FRAME_REPLY_TYPE_STRING)))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("A frame is a %s, not a %s"),
                   MPEL_GTK_FRAME_REPLY_TYPE_STRING, g_variant_get_type_string (reply));
      return NULL;
    }

  g_variant_get (reply, "(iiuu@ay)", &width, &height, &format, &stride, &pixels);

  if (width <= 0 || height <= 0 || width > MPEL_GTK_MAX_SIZE || height > MPEL_GTK_MAX_SIZE)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("A frame of %d×%d pixels is out of bounds (1 to %d a side)"),
                   width, height, MPEL_GTK_MAX_SIZE);
      return NULL;
    }

  if (format >= G_N_ELEMENTS (format_bpp) || format_bpp[format] == 0)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("A frame has the unknown memory format %u"), format);
      return NULL;
    }
  bpp = format_bpp[format];

  if (stride < (guint64) width * bpp)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("A frame %d pixels wide needs a stride of at least %" G_GSIZE_FORMAT " bytes, not %u"),
                   width, width * bpp, stride);
      return NULL;
    }

  if (g_variant_get_size (pixels) < (guint64) stride * height)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("A frame of %d rows of %u bytes has only %" G_GSIZE_FORMAT " bytes of pixels"),
                   height, stride, g_variant_get_size (pixels));
      return NULL;
    }

  /* A view of the reply's own memory (the shared buffer of a large frame):
   * the texture keeps it alive, nothing is copied. */
  bytes = g_variant_get_data_as_bytes (pixels);

  return gdk_memory_texture_new (width, height, format, bytes, stride);
}
