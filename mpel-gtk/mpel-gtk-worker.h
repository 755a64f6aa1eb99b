/* mpel-gtk-worker.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPEL_GTK_INSIDE) && !defined (MPEL_GTK_COMPILATION)
# error "Only <mpel-gtk.h> can be included directly."
#endif

#include <gtk/gtk.h>
#include <mpel.h>

G_BEGIN_DECLS

/**
 * MPEL_GTK_DEFAULT_SIZE:
 *
 * The side, in logical pixels, that the worker-side renderers use when the
 * app asks for a width or height of 0 and the renderer has no intrinsic size
 * of its own.
 */
#define MPEL_GTK_DEFAULT_SIZE 256

/**
 * MPEL_GTK_MAX_SIZE:
 *
 * The largest width or height, in device pixels, of a frame: the app refuses
 * bigger ones with %MPEL_ERROR_INVALID_ARGS, and the renderers refuse to make
 * them.
 */
#define MPEL_GTK_MAX_SIZE 16384

/**
 * MpelGtkCairoRenderFunc:
 * @cr: a cairo context on an image surface of the frame's size, with its
 *   device scale set to the requested scale factor
 * @width: the width to draw, in logical pixels
 * @height: the height to draw, in logical pixels
 * @args: (type GLib.Variant): the paintable's arguments, always an `a{sv}`
 * @user_data: the data given to [func@MpelGtk.worker_add_cairo_renderer]
 * @error: the place for an error
 *
 * Draws one frame in the worker. The surface starts transparent.
 *
 * Returns: %TRUE on success; %FALSE with @error set to answer the frame
 *   with that error
 */
typedef gboolean (*MpelGtkCairoRenderFunc) (cairo_t   *cr,
                                            int        width,
                                            int        height,
                                            GVariant  *args,
                                            gpointer   user_data,
                                            GError   **error);

MPEL_AVAILABLE_IN_ALL
void mpel_gtk_worker_add_cairo_renderer (MpelWorker             *worker,
                                         const char             *target,
                                         MpelGtkCairoRenderFunc  func,
                                         gpointer                user_data,
                                         GDestroyNotify          destroy);
MPEL_AVAILABLE_IN_ALL
void mpel_gtk_worker_add_paintable      (MpelWorker             *worker,
                                         const char             *target,
                                         GdkPaintable           *paintable);
MPEL_AVAILABLE_IN_ALL
void mpel_gtk_worker_notify_changed     (MpelWorker             *worker,
                                         const char             *target);

G_END_DECLS
