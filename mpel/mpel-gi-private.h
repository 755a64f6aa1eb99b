/* mpel-gi-private.h: everything mpel does through GObject-Introspection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only mpel-gi.c (types, objects, properties, getters) and mpel-gi-call.c
 * (methods found and called) include <girepository.h>: a port to
 * girepository-2.0 stays in those two files.
 */

#pragma once

#include <gio/gio.h>

#include "mpel-value-private.h"

G_BEGIN_DECLS

/* GVariant parameters that are floating are sunk, as in GDBus. */

/* Pins @namespace_ to @version for the process (like PyGObject's
 * gi.require_version()) and loads its typelib. Pinning again to another
 * version fails. */
gboolean  _mpel_gi_require        (const char                    *namespace_,
                                   const char                    *version,
                                   GError                       **error);
/* A GType name the process knows ("GListStore"), or a GI name:
 * "Namespace.Name" (the version pinned, else the one loaded, else the latest
 * installed) or "Namespace-Version.Name" ("Gtk-4.0.Adjustment"). */
GType     _mpel_gi_find_type      (const char                    *name,
                                   GError                       **error);
/* Makes a @type with @construct_values (a{sv}, nullable) applied in order:
 * construct and construct-only ones at construction, then the others one by
 * one. Returns
 * a full, non-floating reference. */
GObject  *_mpel_gi_new_object     (GType                          type,
                                   GVariant                      *construct_values,
                                   const MpelValueObjectMapper   *mapper,
                                   GError                       **error);
gboolean  _mpel_gi_set_property   (GObject                       *object,
                                   const char                    *name,
                                   GVariant                      *value,
                                   const MpelValueObjectMapper   *mapper,
                                   GError                       **error);
/* @names NULL: every readable property whose type converts. *out: a{sv}. */
gboolean  _mpel_gi_get_properties (GObject                       *object,
                                   const char * const            *names,
                                   const MpelValueObjectMapper   *mapper,
                                   GVariant                     **out,
                                   GError                       **error);
/* Calls each zero-argument method of @names; *out: a{sv} by method name. */
gboolean  _mpel_gi_get_getters    (GObject                       *object,
                                   const char * const            *names,
                                   GCancellable                  *cancellable,
                                   const MpelValueObjectMapper   *mapper,
                                   GVariant                     **out,
                                   GError                       **error);
/* Whether the object's class or one of its interfaces has @method in a
 * loaded typelib. */
gboolean  _mpel_gi_has_method     (GObject                       *object,
                                   const char                    *method);
/* Calls @method of @object with @args (a tuple, nullable for none). A
 * GCancellable parameter gets @cancellable and takes no argument. On
 * success *out_result is the return value alone when there are no out
 * arguments, a tuple (return value, out arguments…) otherwise (a void
 * return and a throwing method's gboolean are left out), or NULL for a void
 * method without out arguments. */
gboolean  _mpel_gi_call_method    (GObject                       *object,
                                   const char                    *method,
                                   GVariant                      *args,
                                   GCancellable                  *cancellable,
                                   const MpelValueObjectMapper   *mapper,
                                   GVariant                     **out_result,
                                   GError                       **error);
/* The same for @function, a function of the loaded namespace @namespace_
 * (not a method): the marshalling a method's arguments go through, reached
 * without an instance. The conformance cases of test-gi run
 * GIMarshallingTests' functions through it. */
gboolean  _mpel_gi_call_function  (const char                    *namespace_,
                                   const char                    *function,
                                   GVariant                      *args,
                                   GCancellable                  *cancellable,
                                   const MpelValueObjectMapper   *mapper,
                                   GVariant                     **out_result,
                                   GError                       **error);

G_END_DECLS
