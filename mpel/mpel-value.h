/* mpel-value.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPEL_INSIDE) && !defined (MPEL_COMPILATION)
# error "Only <mpel.h> can be included directly."
#endif

#include <glib-object.h>

#include "mpel-types.h"

G_BEGIN_DECLS

MPEL_AVAILABLE_IN_ALL
GVariant *mpel_value_to_variant   (const GValue  *value,
                                   GError       **error);
MPEL_AVAILABLE_IN_ALL
gboolean  mpel_value_from_variant (GVariant      *variant,
                                   GType          type,
                                   GValue        *value,
                                   GError       **error);

G_END_DECLS
