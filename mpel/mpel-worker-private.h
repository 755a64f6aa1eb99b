/* mpel-worker-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-invocation.h"
#include "mpel-worker.h"

G_BEGIN_DECLS

MpelInvocation *_mpel_invocation_new        (MpelWorker     *worker,
                                             guint64         id,
                                             const char     *target,
                                             GVariant       *args,
                                             GVariant       *kwargs,
                                             gboolean        no_reply);
/* Kwargs as the bytes of an a{sv} from the app (aligned to 8), taken:
 * their entries are read in place, and a GVariant is made of them only by
 * mpel_invocation_get_kwargs(). */
void            _mpel_invocation_take_kwargs_bytes (MpelInvocation *self,
                                                    GBytes         *kwargs);
/* _mpel_invocation_new() without kwargs, for a @target_quark already
 * known to name @target (or 0) */
MpelInvocation *_mpel_invocation_new_for_target (MpelWorker *worker,
                                                 guint64     id,
                                                 GQuark      target_quark,
                                                 const char *target,
                                                 GVariant   *args,
                                                 gboolean    no_reply);
void            _mpel_invocation_cancel     (MpelInvocation *self);
/* TRUE: the hook took the answer (@kind RETURN or ERROR, @body as it would
 * be sent, possibly NULL) and nothing goes to the app. */
typedef gboolean (*MpelInvocationHook)      (MpelInvocation *invocation,
                                             guint8          kind,
                                             GVariant       *body,
                                             gpointer        data);
void            _mpel_invocation_set_hook   (MpelInvocation     *self,
                                             MpelInvocationHook  hook,
                                             gpointer            data,
                                             GDestroyNotify      destroy);
guint64        *_mpel_invocation_get_id_ptr (MpelInvocation *self);

/* Called by an invocation to send its answer; @kind is RETURN, ERROR or
 * ITEM. Returns FALSE if the answer could not be sent. */
gboolean        _mpel_worker_send_reply     (MpelWorker     *self,
                                             MpelInvocation *invocation,
                                             guint8          kind,
                                             guint32         flags,
                                             GVariant       *body);
/* The same, with the frame's @meta (nullable a{sv}). */
gboolean        _mpel_worker_send_reply_full (MpelWorker     *self,
                                              MpelInvocation *invocation,
                                              guint8          kind,
                                              guint32         flags,
                                              GVariant       *body,
                                              GVariant       *meta);
void            _mpel_worker_invocation_ended (MpelWorker     *self,
                                               MpelInvocation *invocation);

/* Objects the app holds in this worker, by handle: the table of
 * mpel-worker-objects.c; all are dropped when the connection closes. */
guint64         _mpel_worker_hold_object    (MpelWorker     *self,
                                             GObject        *object);
GObject        *_mpel_worker_lookup_object  (MpelWorker     *self,
                                             guint64         handle);
gboolean        _mpel_worker_release_object (MpelWorker     *self,
                                             guint64         handle);
guint           _mpel_worker_get_n_held     (MpelWorker     *self);

/* A frame on the worker's own initiative, not tied to an invocation. */
gboolean        _mpel_worker_send_notify    (MpelWorker     *self,
                                             guint64         handle,
                                             GVariant       *body);
gboolean        _mpel_worker_send_notify_named (MpelWorker  *self,
                                                guint64      handle,
                                                const char  *name,
                                                GVariant    *body);

G_END_DECLS
