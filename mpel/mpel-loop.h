/* mpel-loop.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPEL_INSIDE) && !defined (MPEL_COMPILATION)
# error "Only <mpel.h> can be included directly."
#endif

#include <gio/gio.h>

#include "mpel-types.h"

G_BEGIN_DECLS

#define MPEL_TYPE_LOOP (mpel_loop_get_type())

MPEL_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpelLoop, mpel_loop, MPEL, LOOP, GObject)

MPEL_AVAILABLE_IN_ALL
MpelLoop           *mpel_loop_new                 (void);
MPEL_AVAILABLE_IN_ALL
MpelLoop           *mpel_loop_new_for_argv        (const char * const  *argv);
MPEL_AVAILABLE_IN_ALL
MpelLoop           *mpel_loop_new_for_stream_argv (const char * const  *argv);
MPEL_AVAILABLE_IN_ALL
MpelLoop           *mpel_loop_get_default         (void);
MPEL_AVAILABLE_IN_ALL
MpelTransport       mpel_loop_get_transport       (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_transport       (MpelLoop            *self,
                                                   MpelTransport        transport);
MPEL_AVAILABLE_IN_ALL
MpelSandbox         mpel_loop_get_sandbox         (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_sandbox         (MpelLoop            *self,
                                                   MpelSandbox          sandbox);
MPEL_AVAILABLE_IN_ALL
const char * const *mpel_loop_get_argv            (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_argv            (MpelLoop            *self,
                                                   const char * const  *argv);
MPEL_AVAILABLE_IN_ALL
const char * const *mpel_loop_get_modules         (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_modules         (MpelLoop            *self,
                                                   const char * const  *modules);
MPEL_AVAILABLE_IN_ALL
guint               mpel_loop_get_n_workers       (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_n_workers       (MpelLoop            *self,
                                                   guint                n_workers);
MPEL_AVAILABLE_IN_ALL
MpelRestartPolicy   mpel_loop_get_restart_policy  (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_restart_policy  (MpelLoop            *self,
                                                   MpelRestartPolicy    policy);
MPEL_AVAILABLE_IN_ALL
guint               mpel_loop_get_max_in_flight   (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_max_in_flight   (MpelLoop            *self,
                                                   guint                max_in_flight);
MPEL_AVAILABLE_IN_ALL
guint               mpel_loop_get_max_restarts    (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_max_restarts    (MpelLoop            *self,
                                                   guint                max_restarts);
MPEL_AVAILABLE_IN_ALL
guint               mpel_loop_get_kill_timeout    (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_kill_timeout    (MpelLoop            *self,
                                                   guint                kill_timeout_msec);
MPEL_AVAILABLE_IN_ALL
guint               mpel_loop_get_handshake_timeout (MpelLoop          *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_set_handshake_timeout (MpelLoop          *self,
                                                     guint              handshake_timeout_msec);
MPEL_AVAILABLE_IN_ALL
guint               mpel_loop_get_n_pending       (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
gboolean            mpel_loop_is_running          (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
GPid                mpel_loop_get_worker_pid      (MpelLoop            *self,
                                                   guint                index);
MPEL_AVAILABLE_IN_ALL
gboolean            mpel_loop_start               (MpelLoop            *self,
                                                   GError             **error);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_start_async         (MpelLoop            *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
MPEL_AVAILABLE_IN_ALL
gboolean            mpel_loop_start_finish        (MpelLoop            *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_stop                (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_close               (MpelLoop            *self);
MPEL_AVAILABLE_IN_ALL
MpelEvent          *mpel_loop_add_event           (MpelLoop            *self,
                                                   const char          *target,
                                                   GVariant            *args);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_push                (MpelLoop            *self,
                                                   MpelEvent           *event);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_call_async          (MpelLoop            *self,
                                                   const char          *target,
                                                   GVariant            *args,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
MPEL_AVAILABLE_IN_ALL
GVariant           *mpel_loop_call_finish         (MpelLoop            *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_push_async          (MpelLoop            *self,
                                                   MpelEvent           *event,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
MPEL_AVAILABLE_IN_ALL
GVariant           *mpel_loop_push_finish         (MpelLoop            *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
MPEL_AVAILABLE_IN_ALL
gboolean            mpel_loop_wait                (MpelLoop            *self,
                                                   GCancellable        *cancellable,
                                                   GError             **error);
MPEL_AVAILABLE_IN_ALL
void                mpel_loop_wait_async          (MpelLoop            *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
MPEL_AVAILABLE_IN_ALL
gboolean            mpel_loop_wait_finish         (MpelLoop            *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

G_END_DECLS
