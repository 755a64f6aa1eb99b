/* mpel-gtk-display.h
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

MPEL_AVAILABLE_IN_ALL
gboolean    mpel_gtk_worker_init_display (MpelWorker  *worker,
                                          GError     **error);
MPEL_AVAILABLE_IN_ALL
gboolean    mpel_gtk_worker_has_display  (MpelWorker  *worker);
MPEL_AVAILABLE_IN_ALL
const char *mpel_gtk_get_display_module  (void);

G_END_DECLS
