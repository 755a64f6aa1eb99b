/* test-gi-util.h: what test-gi.c and test-gi-marshalling.c share — an
 * object mapper over an array, calls by method name and GVariant text, and
 * objects made by type name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <girepository.h>

#include "mpel-gi-private.h"
#include "mpel-test-util.h"

/* A mapper over an array: the handle is the index + 1. */
static inline gboolean
table_object_to_handle (GObject  *object,
                        guint64  *handle,
                        gpointer  user_data,
                        GError  **error)
{
  GPtrArray *table = user_data;
  guint index;

  if (!g_ptr_array_find (table, object, &index))
    {
      g_ptr_array_add (table, g_object_ref (object));
      index = table->len - 1;
    }
  *handle = index + 1;
  return TRUE;
}

static inline GObject *
table_handle_to_object (guint64   handle,
                        GType     type,
                        gpointer  user_data,
                        GError  **error)
{
  GPtrArray *table = user_data;

  if (handle == 0 || handle > table->len)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT, "no handle %" G_GUINT64_FORMAT, handle);
      return NULL;
    }
  return g_object_ref (table->pdata[handle - 1]);
}

/* Calls @method with @args (GVariant text, NULL for none); returns the
 * result's text ("NULL" for none) or NULL with @error set. */
static inline char *
call (GObject                      *object,
      const char                   *method,
      const char                   *args,
      GCancellable                 *cancellable,
      const MpelValueObjectMapper  *mapper,
      GError                      **error)
{
  g_autoptr(GVariant) parsed = NULL;
  g_autoptr(GVariant) result = NULL;

  if (args != NULL)
    {
      parsed = g_variant_parse (NULL, args, NULL, NULL, NULL);
      g_assert_nonnull (parsed);
    }
  if (!_mpel_gi_call_method (object, method, parsed, cancellable, mapper, &result, error))
    {
      g_assert_null (result);
      return NULL;
    }
  return result != NULL ? g_variant_print (result, TRUE) : g_strdup ("NULL");
}

#define assert_call(object, method, args, expected)                       \
  G_STMT_START {                                                          \
    g_autoptr(GError) error_ = NULL;                                      \
    g_autofree char *text_ = call (G_OBJECT (object), method, args, NULL, \
                                   NULL, &error_);                        \
    g_assert_no_error (error_);                                           \
    g_assert_cmpstr (text_, ==, expected);                                \
  } G_STMT_END

#define assert_call_fails(object, method, args, code, needle)             \
  G_STMT_START {                                                          \
    g_autoptr(GError) error_ = NULL;                                      \
    g_autofree char *text_ = call (G_OBJECT (object), method, args, NULL, \
                                   NULL, &error_);                        \
    g_assert_null (text_);                                                \
    g_assert_error (error_, MPEL_ERROR, code);                            \
    g_assert_nonnull (strstr (error_->message, needle));                  \
  } G_STMT_END

static inline GObject *
new_object (const char *type_name,
            const char *construct_values)
{
  g_autoptr(GVariant) values = NULL;
  g_autoptr(GError) error = NULL;
  GObject *object;
  GType type;

  type = _mpel_gi_find_type (type_name, &error);
  g_assert_no_error (error);
  if (construct_values != NULL)
    values = g_variant_parse (G_VARIANT_TYPE_VARDICT, construct_values, NULL, NULL, &error);
  g_assert_no_error (error);
  object = _mpel_gi_new_object (type, values, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (object);
  g_assert_false (g_object_is_floating (object));
  return object;
}
