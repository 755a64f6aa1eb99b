/* mpel.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MPEL_INSIDE
# include "mpel-version.h"
# include "mpel-version-macros.h"
# include "mpel-types.h"
# include "mpel-enums.h"
# include "mpel-event.h"
# include "mpel-invocation.h"
# include "mpel-list-model.h"
# include "mpel-loop.h"
# include "mpel-proxy.h"
# include "mpel-value.h"
# include "mpel-worker.h"
#undef MPEL_INSIDE

G_END_DECLS
