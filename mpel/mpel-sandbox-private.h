/* mpel-sandbox-private.h: starting a worker under bubblewrap
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "mpel-types.h"

G_BEGIN_DECLS

/* Limits a sandboxed worker runs with */
#define MPEL_SANDBOX_MAX_MEMORY   ((guint64) 4 << 30)  /* RLIMIT_AS, bytes */
#define MPEL_SANDBOX_MAX_CPU_SEC  3600                 /* RLIMIT_CPU, soft */

gboolean _mpel_sandbox_prepare (MpelSandbox           sandbox,
                                const char * const   *argv,
                                GSubprocessLauncher  *launcher,
                                char               ***out_argv,
                                GError              **error);

G_END_DECLS
