/* mpel-worker-objects-private.h: a worker's remote objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-invocation.h"
#include "mpel-value-private.h"
#include "mpel-worker.h"

G_BEGIN_DECLS

/* The kwarg of a CALL that makes it a method call on the object it names
 * (a t); the worker strips it before the method sees its kwargs. */
#define MPEL_OBJECT_KWARG "mpel.object"
/* Handles the worker gives out have this bit; the app picks the ones
 * below it. Every handle stays below 2^53, so that a JavaScript number
 * holds it exactly (GJS turns a t into a Number). */
#define MPEL_OBJECT_HANDLE_WORKER (G_GUINT64_CONSTANT (1) << 52)

/*
 * Every object the app may hold a proxy of has a handle in its worker's
 * table: never 0, never reused. An object has one handle however often it
 * is sent; the table counts how many times the handle went to the app, and
 * a release names the count the app had seen, so a release that crosses a
 * newer sending of the same handle leaves the object alive.
 *
 * The table hangs off the worker as qdata ("mpel-worker-objects"), made on
 * first use: mpel-worker.c knows nothing of it.
 *
 * GVariant parameters that are floating are sunk.
 */

/* Adds @object (or finds it) and counts one sending of its handle. */
guint64   _mpel_worker_objects_add           (MpelWorker                    *self,
                                              GObject                       *object);
/* transfer none; NULL for an unknown handle */
GObject  *_mpel_worker_objects_lookup        (MpelWorker                    *self,
                                              guint64                        handle);
/* Drops @n_seen sendings of @handle; the object leaves the table when no
 * sending is left. FALSE for an unknown handle or a count above what was
 * sent. */
gboolean  _mpel_worker_objects_release       (MpelWorker                    *self,
                                              guint64                        handle,
                                              guint                          n_seen);
guint     _mpel_worker_objects_get_n_objects (MpelWorker                    *self);
/* The handle of the object exported as @name (counted as a sending). */
gboolean  _mpel_worker_objects_lookup_name   (MpelWorker                    *self,
                                              const char                    *name,
                                              guint64                       *handle,
                                              GError                       **error);
/* The mapper that gives the objects in values their handles here. */
const MpelValueObjectMapper *
          _mpel_worker_objects_get_mapper    (MpelWorker                    *self);

/* A handler registered for @type, one of its ancestors or interfaces. */
MpelMethodHandler
          _mpel_worker_objects_lookup_method (MpelWorker                    *self,
                                              GType                          type,
                                              const char                    *method,
                                              gpointer                      *user_data);

/* What the proxy targets call. */
gboolean  _mpel_worker_objects_new           (MpelWorker                    *self,
                                              const char                    *type_name,
                                              GVariant                      *construct_values,
                                              guint64                       *handle,
                                              GError                       **error);
/* Calls the method named by @invocation's target, with its arguments, on
 * the object @handle: a registered MpelMethodHandler first, else
 * GObject-Introspection. @invocation is answered in every case (by the
 * handler, possibly later). */
void      _mpel_worker_objects_call          (MpelWorker                    *self,
                                              guint64                        handle,
                                              MpelInvocation                *invocation);
/* The GObject-Introspection part of the above, with the result here. */
GVariant *_mpel_worker_objects_strip_handle  (GVariant                      *kwargs);
gboolean  _mpel_worker_objects_invoke        (MpelWorker                    *self,
                                              guint64                        handle,
                                              const char                    *method,
                                              GVariant                      *args,
                                              GCancellable                  *cancellable,
                                              GVariant                     **result,
                                              GError                       **error);
gboolean  _mpel_worker_objects_set_property  (MpelWorker                    *self,
                                              guint64                        handle,
                                              const char                    *name,
                                              GVariant                      *value,
                                              GError                       **error);
/* The mirrored values: @properties (NULL: every readable one that
 * converts) and @getters (through GObject-Introspection), in one a{sv}. */
gboolean  _mpel_worker_objects_read          (MpelWorker                    *self,
                                              guint64                        handle,
                                              const char * const            *properties,
                                              const char * const            *getters,
                                              GCancellable                  *cancellable,
                                              GVariant                     **values,
                                              GError                       **error);

/* Runs the method call @invocation on the object @handle; its mirrors are
 * sent (NOTIFY) before its answer. */
void      _mpel_worker_objects_dispatch      (MpelWorker                    *self,
                                              guint64                        handle,
                                              MpelInvocation                *invocation);
/* Drops every object (the connection closed). */
void      _mpel_worker_objects_clear         (MpelWorker                    *self);
/* What mpel-worker-signals.c and mpel-worker-lists.c attach to the entry
 * of @handle (freed with it by _mpel_worker_signals_free_extras()), and
 * its object; NULL for an unknown handle. */
gpointer *_mpel_worker_objects_get_extras    (MpelWorker                    *self,
                                              guint64                        handle,
                                              GObject                      **object);
/* Sends every pending change now (lists' first, then values). */
void      _mpel_worker_objects_flush         (MpelWorker                    *self);
/* Runs @func on the worker's thread: at once when called there, else from
 * an idle of the worker's context, in the order of the other changes and
 * answers given from the calling thread. */
void      _mpel_worker_objects_run_in_worker (MpelWorker                    *self,
                                              GSourceFunc                    func,
                                              gpointer                       data,
                                              GDestroyNotify                 destroy);
/* The worker serves from the calling thread and its thread-default
 * context (mpel_worker_run()), which may not be where it was set up. */
void      _mpel_worker_objects_serve_here    (MpelWorker                    *self);
/* The same, after reading every mirrored property of @handle again. */
void      _mpel_worker_objects_refresh       (MpelWorker                    *self,
                                              guint64                        handle);
/* Mirrors @object under the app's @handle (mas, as) and returns its first
 * values, as mpel.object.new does. */
GVariant *_mpel_worker_objects_start_mirror  (MpelWorker                    *self,
                                              guint64                        handle,
                                              GObject                       *object,
                                              GVariant                      *properties,
                                              GVariant                      *getters,
                                              GError                       **error);
/* The object under @handle, or the one exported as @name; %NULL with
 * NO_SUCH_OBJECT naming it */
GObject  *_mpel_worker_objects_lookup_or_fail (MpelWorker                   *self,
                                              guint64                        handle,
                                              GError                       **error);
GObject  *_mpel_worker_objects_find_exported (MpelWorker                    *self,
                                              const char                    *name,
                                              GError                       **error);
/* mpel.object.set: sets, reads back and sends the NOTIFY; transfer full */
GVariant *_mpel_worker_objects_set_mirrored  (MpelWorker                    *self,
                                              guint64                        handle,
                                              const char                    *name,
                                              GVariant                      *value,
                                              GError                       **error);

/* mpel-worker-objects-builtins.c */
gboolean  _mpel_worker_objects_check_args    (MpelInvocation                *invocation,
                                              const char                    *type);
/* mpel.object.new, .attach, .adopt, .set, .release and mpel.objects.count */
void      _mpel_worker_objects_add_builtins  (MpelWorker                    *self);

G_END_DECLS
