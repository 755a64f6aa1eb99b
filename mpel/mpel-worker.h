/* mpel-worker.h
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

#define MPEL_TYPE_WORKER (mpel_worker_get_type())

MPEL_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpelWorker, mpel_worker, MPEL, WORKER, GObject)

/**
 * MpelHandler:
 * @invocation: the invocation to answer
 * @user_data: the data given to [method@Mpel.Worker.add_handler]
 *
 * Runs one event in the worker. The handler answers with
 * [method@Mpel.Invocation.return_value], [method@Mpel.Invocation.return_error]
 * or [method@Mpel.Invocation.return_gerror], either before it returns or later
 * (keep a reference to @invocation for that). An invocation released without
 * an answer ends its event with %MPEL_ERROR_FAILED.
 */
typedef void (*MpelHandler) (MpelInvocation *invocation,
                             gpointer        user_data);

/**
 * MPEL_MODULE_INIT_SYMBOL:
 *
 * The symbol a plugin loaded with `mpel-worker --module` must export:
 * `void mpel_module_init (MpelWorker *worker)`.
 */
#define MPEL_MODULE_INIT_SYMBOL "mpel_module_init"

MPEL_AVAILABLE_IN_ALL
MpelWorker *mpel_worker_new            (void);
MPEL_AVAILABLE_IN_ALL
void        mpel_worker_add_handler    (MpelWorker     *self,
                                        const char     *target,
                                        MpelHandler     handler,
                                        gpointer        user_data,
                                        GDestroyNotify  destroy);
MPEL_AVAILABLE_IN_ALL
gboolean    mpel_worker_remove_handler (MpelWorker     *self,
                                        const char     *target);
MPEL_AVAILABLE_IN_ALL
gboolean    mpel_worker_has_handler    (MpelWorker     *self,
                                        const char     *target);
MPEL_AVAILABLE_IN_ALL
gboolean    mpel_worker_load_module    (MpelWorker     *self,
                                        const char     *path,
                                        GError        **error);
MPEL_AVAILABLE_IN_ALL
gboolean    mpel_worker_run            (MpelWorker     *self,
                                        GError        **error);
MPEL_AVAILABLE_IN_ALL
guint       mpel_worker_get_n_running  (MpelWorker     *self);

G_END_DECLS

G_BEGIN_DECLS

/**
 * MpelMethodHandler:
 * @invocation: the invocation to answer; its target is the method's name
 *   and its arguments are the method's
 * @object: the object the method is called on
 * @user_data: the data given to [method@Mpel.Worker.add_method]
 *
 * Runs a method of a remote object, for a type that has no typelib (or to
 * replace what GObject-Introspection would call). The handler answers
 * @invocation as an [callback@Mpel.Handler] does.
 */
typedef void (*MpelMethodHandler) (MpelInvocation *invocation,
                                   GObject        *object,
                                   gpointer        user_data);

MPEL_AVAILABLE_IN_ALL
void        mpel_worker_add_method     (MpelWorker        *self,
                                        GType              type,
                                        const char        *method,
                                        MpelMethodHandler  handler,
                                        gpointer           user_data,
                                        GDestroyNotify     destroy);
MPEL_AVAILABLE_IN_ALL
void        mpel_worker_export_object  (MpelWorker        *self,
                                        const char        *name,
                                        GObject           *object);

G_END_DECLS
