/* mpel-remote-paintable.h
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

#define MPEL_TYPE_REMOTE_PAINTABLE (mpel_remote_paintable_get_type())

MPEL_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpelRemotePaintable, mpel_remote_paintable, MPEL, REMOTE_PAINTABLE, GObject)

MPEL_AVAILABLE_IN_ALL
MpelRemotePaintable *mpel_remote_paintable_new              (MpelLoop            *loop,
                                                             const char          *target,
                                                             GVariant            *args);
MPEL_AVAILABLE_IN_ALL
MpelLoop            *mpel_remote_paintable_get_loop         (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
const char          *mpel_remote_paintable_get_target       (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
GVariant            *mpel_remote_paintable_get_args         (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
void                 mpel_remote_paintable_set_args         (MpelRemotePaintable *self,
                                                             GVariant            *args);
MPEL_AVAILABLE_IN_ALL
int                  mpel_remote_paintable_get_width        (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
void                 mpel_remote_paintable_set_width        (MpelRemotePaintable *self,
                                                             int                  width);
MPEL_AVAILABLE_IN_ALL
int                  mpel_remote_paintable_get_height       (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
void                 mpel_remote_paintable_set_height       (MpelRemotePaintable *self,
                                                             int                  height);
MPEL_AVAILABLE_IN_ALL
double               mpel_remote_paintable_get_scale_factor (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
void                 mpel_remote_paintable_set_scale_factor (MpelRemotePaintable *self,
                                                             double               scale_factor);
MPEL_AVAILABLE_IN_ALL
gboolean             mpel_remote_paintable_get_watch        (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
void                 mpel_remote_paintable_set_watch        (MpelRemotePaintable *self,
                                                             gboolean             watch);
MPEL_AVAILABLE_IN_ALL
const GError        *mpel_remote_paintable_get_error        (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
guint                mpel_remote_paintable_get_n_frames     (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
GdkTexture          *mpel_remote_paintable_get_texture      (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
gboolean             mpel_remote_paintable_is_busy          (MpelRemotePaintable *self);
MPEL_AVAILABLE_IN_ALL
void                 mpel_remote_paintable_invalidate       (MpelRemotePaintable *self);

G_END_DECLS
