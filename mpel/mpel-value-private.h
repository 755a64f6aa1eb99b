/* mpel-value-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-value.h"

G_BEGIN_DECLS

/* Objects cross by handle. The worker's object table maps an object to the
 * handle it knows it by (adding it if need be), the app maps a handle to its
 * proxy. Either callback may refuse with a GError. */
typedef struct
{
  gboolean  (*object_to_handle) (GObject  *object,
                                 guint64  *handle,
                                 gpointer  user_data,
                                 GError  **error);
  /* Returns a new reference to an object that is a @type. */
  GObject  *(*handle_to_object) (guint64   handle,
                                 GType     type,
                                 gpointer  user_data,
                                 GError  **error);
  gpointer    user_data;
} MpelValueObjectMapper;

GVariant *_mpel_value_to_variant_full   (const GValue                 *value,
                                         const MpelValueObjectMapper  *mapper,
                                         GError                      **error);
gboolean  _mpel_value_from_variant_full (GVariant                     *variant,
                                         GType                         type,
                                         GValue                       *value,
                                         const MpelValueObjectMapper  *mapper,
                                         GError                      **error);
/* Any integer GVariant, or a double holding an exact integer, as a sign and
 * a magnitude: exact for every width. Shared with keyword arguments. */
gboolean  _mpel_value_read_integer      (GVariant                     *variant,
                                         gboolean                     *negative,
                                         guint64                      *magnitude);
/* Range-checked integer reading shared with the GI marshaller: any integer
 * GVariant (or a double holding an exact integer) into [min, max]. */
gboolean  _mpel_value_get_int64         (GVariant                     *variant,
                                         gint64                        min,
                                         gint64                        max,
                                         gint64                       *out,
                                         GError                      **error);
gboolean  _mpel_value_get_uint64        (GVariant                     *variant,
                                         guint64                       max,
                                         guint64                      *out,
                                         GError                      **error);

G_END_DECLS
