/* mpel-gtk-frame-private.h: the frame protocol of MpelRemotePaintable.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* (width, height, scale, args): the size in logical pixels, 0 for the
 * renderer's own; the scale factor; the paintable's arguments. */
#define MPEL_GTK_FRAME_REQUEST_TYPE_STRING "(iida{sv})"
/* (width, height, format, stride, pixels): the size in device pixels, a
 * GdkMemoryFormat, the bytes from one row to the next, the rows. */
#define MPEL_GTK_FRAME_REPLY_TYPE_STRING   "(iiuuay)"
/* The suffix of the streaming target that tells the app of changes. */
#define MPEL_GTK_WATCH_SUFFIX              ".watch"
/* The suffix of the name of the object a worker exports per target, whose
 * signal MPEL_GTK_CHANGED_SIGNAL tells the app of changes. */
#define MPEL_GTK_CHANGES_SUFFIX            ".changes"
#define MPEL_GTK_CHANGED_SIGNAL            "changed"
/* The largest scale factor a request may carry. */
#define MPEL_GTK_MAX_SCALE                 16.0

void        _mpel_gtk_ensure_types              (void);
GVariant   *_mpel_gtk_frame_args_to_dict        (GVariant         *args);
GVariant   *_mpel_gtk_frame_request_new         (int               width,
                                                 int               height,
                                                 double            scale,
                                                 GVariant         *args);
gboolean    _mpel_gtk_frame_request_parse       (GVariant         *request,
                                                 int              *width,
                                                 int              *height,
                                                 double           *scale,
                                                 GVariant        **args,
                                                 GError          **error);
GVariant   *_mpel_gtk_frame_reply_new_for_surface (cairo_surface_t *surface);
GdkTexture *_mpel_gtk_frame_reply_to_texture    (GVariant         *reply,
                                                 GError          **error);

G_END_DECLS
