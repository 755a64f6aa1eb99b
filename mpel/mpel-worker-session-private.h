/* mpel-worker-session-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MpelParentWatch MpelParentWatch;

/* The channel to the app that the environment names: MPEL_FD (a socket:
 * sets *out_fd, and *out_stdout_fd to -1), or with MPEL_STDIO=1 stdin and
 * stdout (a byte stream: sets both, and points fd 1 at stderr and fd 0 at
 * /dev/null). */
gboolean _mpel_worker_take_channel (int               *out_fd,
                                    int               *out_stdout_fd,
                                    GError           **error);

/* Starts watching the app's process (MPEL_PARENT_PID, or the parent), so
 * that the worker is killed shortly after the app is gone. Sets
 * *out_watch, or leaves it NULL when there is nothing to watch or no way
 * to; fails only when the app is already gone. */
gboolean _mpel_parent_watch_start  (MpelParentWatch  **out_watch,
                                    GError           **error);
void     _mpel_parent_watch_stop   (MpelParentWatch   *watch);

G_END_DECLS
