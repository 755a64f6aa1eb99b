/* mpel-loop-private.h: what the library's other parts (remote objects,
 * tests) use of MpelLoop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-child-private.h"
#include "mpel-loop.h"

G_BEGIN_DECLS

/* A worker process died or was let go of; @reason is NULL for a clean
 * exit. Its events have failed already. */
typedef void (*MpelLoopChildDiedFunc) (MpelLoop     *loop,
                                       MpelChild    *child,
                                       const GError *reason,
                                       gpointer      user_data);

/* A NOTIFY frame: @handle and @name as the worker sent them, @body may be
 * NULL. */
typedef void (*MpelLoopNotifyFunc)    (MpelLoop     *loop,
                                       MpelChild    *child,
                                       guint64       handle,
                                       const char   *name,
                                       GVariant     *body,
                                       gpointer      user_data);

MpelChild *_mpel_loop_pick_child              (MpelLoop              *loop,
                                               GError               **error);
MpelChild *_mpel_loop_get_child               (MpelLoop              *loop,
                                               guint                  index);
void       _mpel_loop_push_pinned             (MpelLoop              *loop,
                                               MpelEvent             *event,
                                               MpelChild             *child);
guint      _mpel_loop_add_child_died_hook     (MpelLoop              *loop,
                                               MpelLoopChildDiedFunc  func,
                                               gpointer               user_data);
void       _mpel_loop_remove_child_died_hook  (MpelLoop              *loop,
                                               guint                  id);
void       _mpel_loop_set_notify_handler      (MpelLoop              *loop,
                                               MpelLoopNotifyFunc     func,
                                               gpointer               user_data,
                                               GDestroyNotify         destroy);

G_END_DECLS
