/* mpel-gtk.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <mpel.h>

G_BEGIN_DECLS

#define MPEL_GTK_INSIDE
# include "mpel-gtk-display.h"
# include "mpel-gtk-worker.h"
# include "mpel-remote-paintable.h"
#undef MPEL_GTK_INSIDE

G_END_DECLS
