/* mpel-value.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <float.h>
#include <math.h>

#include <glib/gi18n-lib.h>

#include "mpel-value-private.h"

/*
 * GValue ↔ GVariant, the mapping of doc/proxies.md. To a GVariant, each
 * GType has one shape; a NULL pointer value is the nothing of the maybe of
 * that shape. From a GVariant, what a Python int or a JavaScript number can
 * be is accepted too: any integer width (or an exact double) that fits, a
 * `v` around the value, a maybe that is just the value.
 */

static void
set_refused (GError **error,
             GType    type)
{
  g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
               _("Values of type “%s” do not convert to or from a GVariant"),
               g_type_name (type));
}

static void
set_wrong_shape (GError   **error,
                 GType      type,
                 GVariant  *variant)
{
  g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
               _("A value of type “%s” cannot be made from a GVariant of type “%s”"),
               g_type_name (type), g_variant_get_type_string (variant));
}

static gboolean
is_object_type (GType type)
{
  return G_TYPE_FUNDAMENTAL (type) == G_TYPE_OBJECT ||
         (G_TYPE_FUNDAMENTAL (type) == G_TYPE_INTERFACE && g_type_is_a (type, G_TYPE_OBJECT));
}

static gboolean
is_pointer_type (GType type)
{
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_STRING:
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
    case G_TYPE_BOXED:
    case G_TYPE_VARIANT:
      return TRUE;
    default:
      return type == G_TYPE_GTYPE;
    }
}

static gboolean
variant_is_integer (GVariant *variant)
{
  switch (g_variant_classify (variant))
    {
    case G_VARIANT_CLASS_BYTE:
    case G_VARIANT_CLASS_INT16:
    case G_VARIANT_CLASS_UINT16:
    case G_VARIANT_CLASS_INT32:
    case G_VARIANT_CLASS_UINT32:
    case G_VARIANT_CLASS_INT64:
    case G_VARIANT_CLASS_UINT64:
      return TRUE;
    case G_VARIANT_CLASS_BOOLEAN:
    case G_VARIANT_CLASS_HANDLE:
    case G_VARIANT_CLASS_DOUBLE:
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
    case G_VARIANT_CLASS_VARIANT:
    case G_VARIANT_CLASS_MAYBE:
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    default:
      return FALSE;
    }
}

/* Reads any integer as a sign and a magnitude, so that neither a large
 * uint64 nor a negative int64 is cut. */
gboolean
_mpel_value_read_integer (GVariant *variant,
                          gboolean *negative,
                          guint64  *magnitude)
{
  gint64 s = 0;

  *negative = FALSE;
  switch (g_variant_classify (variant))
    {
    case G_VARIANT_CLASS_BYTE:   *magnitude = g_variant_get_byte (variant); return TRUE;
    case G_VARIANT_CLASS_UINT16: *magnitude = g_variant_get_uint16 (variant); return TRUE;
    case G_VARIANT_CLASS_UINT32: *magnitude = g_variant_get_uint32 (variant); return TRUE;
    case G_VARIANT_CLASS_UINT64: *magnitude = g_variant_get_uint64 (variant); return TRUE;
    case G_VARIANT_CLASS_INT16:  s = g_variant_get_int16 (variant); break;
    case G_VARIANT_CLASS_INT32:  s = g_variant_get_int32 (variant); break;
    case G_VARIANT_CLASS_INT64:  s = g_variant_get_int64 (variant); break;
    case G_VARIANT_CLASS_DOUBLE:
      {
        double d = g_variant_get_double (variant);

        /* Only a double that holds an integer exactly */
        if (!isfinite (d) || d != floor (d) || d <= -0x1p64 || d >= 0x1p64)
          return FALSE;
        *negative = d < 0;
        *magnitude = (guint64) fabs (d);
        return TRUE;
      }
    case G_VARIANT_CLASS_BOOLEAN:
    case G_VARIANT_CLASS_HANDLE:
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
    case G_VARIANT_CLASS_VARIANT:
    case G_VARIANT_CLASS_MAYBE:
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    default:
      return FALSE;
    }

  *negative = s < 0;
  *magnitude = s < 0 ? (guint64) 0 - (guint64) s : (guint64) s;
  return TRUE;
}

static void
set_not_integer (GError   **error,
                 GVariant  *variant)
{
  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_DOUBLE))
    {
      g_autofree char *text = g_variant_print (variant, FALSE);

      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The value %s is not an integer in range"), text);
      return;
    }

  g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
               _("Expected an integer, got a GVariant of type “%s”"),
               g_variant_get_type_string (variant));
}

static void
set_out_of_range (GError   **error,
                  GVariant  *variant)
{
  g_autofree char *text = g_variant_print (variant, FALSE);

  g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
               _("The value %s is out of range"), text);
}

gboolean
_mpel_value_get_int64 (GVariant  *variant,
                       gint64     min,
                       gint64     max,
                       gint64    *out,
                       GError   **error)
{
  gboolean negative;
  guint64 magnitude;
  gint64 value;

  if (!_mpel_value_read_integer (variant, &negative, &magnitude))
    {
      set_not_integer (error, variant);
      return FALSE;
    }

  if (negative ? magnitude > (guint64) G_MAXINT64 + 1 : magnitude > (guint64) G_MAXINT64)
    {
      set_out_of_range (error, variant);
      return FALSE;
    }

  value = negative ? (gint64) (0 - magnitude) : (gint64) magnitude;
  if (value < min || value > max)
    {
      set_out_of_range (error, variant);
      return FALSE;
    }

  *out = value;
  return TRUE;
}

gboolean
_mpel_value_get_uint64 (GVariant  *variant,
                        guint64    max,
                        guint64   *out,
                        GError   **error)
{
  gboolean negative;
  guint64 magnitude;

  if (!_mpel_value_read_integer (variant, &negative, &magnitude))
    {
      set_not_integer (error, variant);
      return FALSE;
    }

  if ((negative && magnitude != 0) || magnitude > max)
    {
      set_out_of_range (error, variant);
      return FALSE;
    }

  *out = magnitude;
  return TRUE;
}

static gboolean
get_double (GVariant  *variant,
            double    *out,
            GError   **error)
{
  gboolean negative;
  guint64 magnitude;

  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_DOUBLE))
    {
      *out = g_variant_get_double (variant);
      return TRUE;
    }

  if (variant_is_integer (variant) && _mpel_value_read_integer (variant, &negative, &magnitude))
    {
      *out = negative ? -(double) magnitude : (double) magnitude;
      return TRUE;
    }

  g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
               _("Expected a number, got a GVariant of type “%s”"),
               g_variant_get_type_string (variant));
  return FALSE;
}

static gboolean
enum_from_variant (GVariant  *variant,
                   GType      type,
                   GValue    *value,
                   GError   **error)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *member = NULL;

  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING))
    {
      const char *name = g_variant_get_string (variant, NULL);

      member = g_enum_get_value_by_nick (klass, name);
      if (member == NULL)
        member = g_enum_get_value_by_name (klass, name);
    }
  else if (variant_is_integer (variant))
    {
      gint64 number;

      if (!_mpel_value_get_int64 (variant, G_MININT, G_MAXUINT, &number, error))
        return FALSE;
      member = g_enum_get_value (klass, (int) number);
    }
  else
    {
      set_wrong_shape (error, type, variant);
      return FALSE;
    }

  if (member == NULL)
    {
      g_autofree char *text = g_variant_print (variant, FALSE);

      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("%s is not a value of “%s”"), text, g_type_name (type));
      return FALSE;
    }

  g_value_set_enum (value, member->value);
  return TRUE;
}

static gboolean
flag_by_name (GFlagsClass  *klass,
              GType         type,
              const char   *name,
              guint        *bits,
              GError      **error)
{
  GFlagsValue *member = g_flags_get_value_by_nick (klass, name);

  if (member == NULL)
    member = g_flags_get_value_by_name (klass, name);
  if (member == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("“%s” is not a flag of “%s”"), name, g_type_name (type));
      return FALSE;
    }

  *bits |= member->value;
  return TRUE;
}

static gboolean
flags_from_variant (GVariant  *variant,
                    GType      type,
                    GValue    *value,
                    GError   **error)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (type);
  guint bits = 0;

  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **names = g_variant_get_strv (variant, NULL);

      for (guint i = 0; names[i] != NULL; i++)
        if (!flag_by_name (klass, type, names[i], &bits, error))
          return FALSE;
    }
  else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING))
    {
      g_auto(GStrv) names = g_strsplit (g_variant_get_string (variant, NULL), "|", -1);

      for (guint i = 0; names[i] != NULL; i++)
        {
          g_strstrip (names[i]);
          if (names[i][0] != '\0' && !flag_by_name (klass, type, names[i], &bits, error))
            return FALSE;
        }
    }
  else if (variant_is_integer (variant))
    {
      guint64 number;

      if (!_mpel_value_get_uint64 (variant, G_MAXUINT, &number, error))
        return FALSE;
      if ((number & ~(guint64) klass->mask) != 0)
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                       _("0x%" G_GINT64_MODIFIER "x has bits that are not flags of “%s”"),
                       number, g_type_name (type));
          return FALSE;
        }
      bits = (guint) number;
    }
  else
    {
      set_wrong_shape (error, type, variant);
      return FALSE;
    }

  g_value_set_flags (value, bits);
  return TRUE;
}

static gboolean
object_from_variant (GVariant                     *variant,
                     GType                         type,
                     GValue                       *value,
                     const MpelValueObjectMapper  *mapper,
                     GError                      **error)
{
  g_autoptr(GObject) object = NULL;
  guint64 handle;

  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT64))
    {
      set_wrong_shape (error, type, variant);
      return FALSE;
    }

  handle = g_variant_get_uint64 (variant);
  object = mapper->handle_to_object (handle, type, mapper->user_data, error);
  if (object == NULL)
    return FALSE;

  if (!g_type_is_a (G_OBJECT_TYPE (object), type))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The object of handle %" G_GUINT64_FORMAT " is a “%s”, not a “%s”"),
                   handle, G_OBJECT_TYPE_NAME (object), g_type_name (type));
      return FALSE;
    }

  g_value_take_object (value, g_steal_pointer (&object));
  return TRUE;
}

static gboolean
boxed_from_variant (GVariant  *variant,
                    GType      type,
                    GValue    *value,
                    GError   **error)
{
  if (type == G_TYPE_STRV)
    {
      if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING_ARRAY) &&
          !g_variant_is_of_type (variant, G_VARIANT_TYPE_OBJECT_PATH_ARRAY) &&
          !g_variant_is_of_type (variant, G_VARIANT_TYPE ("ag")))
        {
          set_wrong_shape (error, type, variant);
          return FALSE;
        }
      g_value_take_boxed (value, g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING_ARRAY)
                                   ? g_variant_dup_strv (variant, NULL)
                                   : g_variant_dup_objv (variant, NULL));
      return TRUE;
    }

  if (type == G_TYPE_BYTES)
    {
      if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_BYTESTRING))
        {
          set_wrong_shape (error, type, variant);
          return FALSE;
        }
      /* Shares the variant's data, no copy */
      g_value_take_boxed (value, g_variant_get_data_as_bytes (variant));
      return TRUE;
    }

  set_refused (error, type);
  return FALSE;
}

/* @value is initialized to @type; fills it in. */
static gboolean
scalar_from_variant (GVariant  *variant,
                     GType      type,
                     GValue    *value,
                     GError   **error)
{
  gint64 s;
  guint64 u;
  double d;

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_BOOLEAN))
        break;
      g_value_set_boolean (value, g_variant_get_boolean (variant));
      return TRUE;

    case G_TYPE_CHAR:
      if (!_mpel_value_get_int64 (variant, G_MININT8, G_MAXINT8, &s, error))
        return FALSE;
      g_value_set_schar (value, (gint8) s);
      return TRUE;

    case G_TYPE_UCHAR:
      if (!_mpel_value_get_uint64 (variant, G_MAXUINT8, &u, error))
        return FALSE;
      g_value_set_uchar (value, (guchar) u);
      return TRUE;

    case G_TYPE_INT:
      if (!_mpel_value_get_int64 (variant, G_MININT, G_MAXINT, &s, error))
        return FALSE;
      g_value_set_int (value, (int) s);
      return TRUE;

    case G_TYPE_UINT:
      if (!_mpel_value_get_uint64 (variant, G_MAXUINT, &u, error))
        return FALSE;
      g_value_set_uint (value, (guint) u);
      return TRUE;

    case G_TYPE_LONG:
      if (!_mpel_value_get_int64 (variant, G_MINLONG, G_MAXLONG, &s, error))
        return FALSE;
      g_value_set_long (value, (long) s);
      return TRUE;

    case G_TYPE_ULONG:
      if (!_mpel_value_get_uint64 (variant, G_MAXULONG, &u, error))
        return FALSE;
      g_value_set_ulong (value, (gulong) u);
      return TRUE;

    case G_TYPE_INT64:
      if (!_mpel_value_get_int64 (variant, G_MININT64, G_MAXINT64, &s, error))
        return FALSE;
      g_value_set_int64 (value, s);
      return TRUE;

    case G_TYPE_UINT64:
      if (!_mpel_value_get_uint64 (variant, G_MAXUINT64, &u, error))
        return FALSE;
      g_value_set_uint64 (value, u);
      return TRUE;

    case G_TYPE_FLOAT:
      if (!get_double (variant, &d, error))
        return FALSE;
      if (isfinite (d) && fabs (d) > FLT_MAX)
        {
          set_out_of_range (error, variant);
          return FALSE;
        }
      g_value_set_float (value, (float) d);
      return TRUE;

    case G_TYPE_DOUBLE:
      if (!get_double (variant, &d, error))
        return FALSE;
      g_value_set_double (value, d);
      return TRUE;

    case G_TYPE_STRING:
      if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING) &&
          !g_variant_is_of_type (variant, G_VARIANT_TYPE_OBJECT_PATH) &&
          !g_variant_is_of_type (variant, G_VARIANT_TYPE_SIGNATURE))
        break;
      g_value_set_string (value, g_variant_get_string (variant, NULL));
      return TRUE;

    default:
      break;
    }

  set_wrong_shape (error, type, variant);
  return FALSE;
}

static gboolean
value_from_variant (GVariant                     *variant,
                    GType                         type,
                    GValue                       *value,
                    const MpelValueObjectMapper  *mapper,
                    GError                      **error)
{
  GType fundamental = G_TYPE_FUNDAMENTAL (type);

  if (type == G_TYPE_GTYPE)
    {
      const char *name;
      GType gtype;

      if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING))
        {
          set_wrong_shape (error, type, variant);
          return FALSE;
        }
      name = g_variant_get_string (variant, NULL);
      gtype = g_type_from_name (name);
      if (gtype == G_TYPE_INVALID)
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                       _("No type is named “%s”"), name);
          return FALSE;
        }
      g_value_set_gtype (value, gtype);
      return TRUE;
    }

  switch (fundamental)
    {
    case G_TYPE_ENUM:
      return enum_from_variant (variant, type, value, error);
    case G_TYPE_FLAGS:
      return flags_from_variant (variant, type, value, error);
    case G_TYPE_BOXED:
      return boxed_from_variant (variant, type, value, error);
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      return object_from_variant (variant, type, value, mapper, error);
    default:
      return scalar_from_variant (variant, type, value, error);
    }
}

static gboolean
is_supported (GType                         type,
              const MpelValueObjectMapper  *mapper,
              GError                      **error)
{
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
    case G_TYPE_CHAR:
    case G_TYPE_UCHAR:
    case G_TYPE_INT:
    case G_TYPE_UINT:
    case G_TYPE_LONG:
    case G_TYPE_ULONG:
    case G_TYPE_INT64:
    case G_TYPE_UINT64:
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
    case G_TYPE_STRING:
    case G_TYPE_ENUM:
    case G_TYPE_FLAGS:
    case G_TYPE_VARIANT:
      return TRUE;

    case G_TYPE_BOXED:
      if (type == G_TYPE_STRV || type == G_TYPE_BYTES)
        return TRUE;
      break;

    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      if (!is_object_type (type))
        break;
      if (mapper != NULL)
        return TRUE;
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("Objects of type “%s” cross only by handle, between a worker and its proxies"),
                   g_type_name (type));
      return FALSE;

    default:
      if (type == G_TYPE_GTYPE)
        return TRUE;
      break;
    }

  set_refused (error, type);
  return FALSE;
}

gboolean
_mpel_value_from_variant_full (GVariant                     *variant,
                               GType                         type,
                               GValue                       *value,
                               const MpelValueObjectMapper  *mapper,
                               GError                      **error)
{
  g_autoptr(GVariant) inner = NULL;

  g_return_val_if_fail (variant != NULL, FALSE);
  g_return_val_if_fail (value != NULL && G_VALUE_TYPE (value) == G_TYPE_INVALID, FALSE);

  if (!is_supported (type, mapper, error))
    return FALSE;

  /* A `v` around the value comes off once, for every type: the mirror of
   * what a G_TYPE_VARIANT becomes on the way out. */
  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_VARIANT))
    variant = inner = g_variant_get_variant (variant);

  if (type == G_TYPE_VARIANT || G_TYPE_FUNDAMENTAL (type) == G_TYPE_VARIANT)
    {
      g_value_init (value, type);
      if (inner == NULL && g_variant_is_of_type (variant, G_VARIANT_TYPE ("mv")))
        {
          g_autoptr(GVariant) child = g_variant_get_maybe (variant);

          if (child != NULL)
            g_value_take_variant (value, g_variant_get_variant (child));
          return TRUE;
        }
      g_value_set_variant (value, variant);
      return TRUE;
    }

  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_MAYBE))
    {
      g_autoptr(GVariant) child = g_variant_get_maybe (variant);

      if (child != NULL)
        return _mpel_value_from_variant_full (child, type, value, mapper, error);

      if (!is_pointer_type (type))
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                       _("A value of type “%s” cannot be empty"), g_type_name (type));
          return FALSE;
        }
      if (type == G_TYPE_GTYPE)
        {
          g_value_init (value, type);
          g_value_set_gtype (value, G_TYPE_INVALID);
          return TRUE;
        }
      g_value_init (value, type);
      return TRUE;
    }

  g_value_init (value, type);
  if (!value_from_variant (variant, type, value, mapper, error))
    {
      g_value_unset (value);
      return FALSE;
    }

  return TRUE;
}

/**
 * mpel_value_from_variant:
 * @variant: the value to convert
 * @type: the #GType @value gets
 * @value: (out caller-allocates): an unset #GValue to initialize to @type
 *   and fill in
 * @error: the place for an error
 *
 * Converts @variant to a value of @type, the way a worker converts an
 * argument or a property set from the app.
 *
 * What is accepted is wider than what [func@Mpel.value_to_variant] gives
 * (see the table in the proxies guide): an integer of any width, or a double
 * that holds an integer exactly, converts to any integer type when it is in
 * range; an integer converts to a `double`; an enum is a nick, a name or its
 * number; flags are an array of nicks, nicks separated by `|`, or a number.
 * A `v` around the value is taken off once, and a maybe-typed value stands
 * for its content, or for %NULL when it is nothing.
 *
 * Objects cross only by handle, between a worker and its proxies: this
 * function refuses them.
 *
 * Returns: (skip): %TRUE if @value was set; %FALSE with
 *   %MPEL_ERROR_INVALID_ARGS, naming the type, when @type does not convert
 *   or @variant does not fit it (@value is left unset then)
 */
gboolean
mpel_value_from_variant (GVariant  *variant,
                         GType      type,
                         GValue    *value,
                         GError   **error)
{
  g_return_val_if_fail (variant != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (G_VALUE_TYPE (value) == G_TYPE_INVALID, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _mpel_value_from_variant_full (variant, type, value, NULL, error);
}

static GVariant *
nothing (const char *type_string)
{
  /* type_string is the maybe type: "ms" */
  return g_variant_new_maybe (G_VARIANT_TYPE (type_string + 1), NULL);
}

static GVariant *
enum_to_variant (const GValue *value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (G_VALUE_TYPE (value));
  GEnumValue *member = g_enum_get_value (klass, g_value_get_enum (value));

  if (member == NULL)
    return g_variant_new_int32 (g_value_get_enum (value));
  return g_variant_new_string (member->value_nick);
}

static GVariant *
flags_to_variant (const GValue *value)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (G_VALUE_TYPE (value));
  g_autoptr(GPtrArray) nicks = g_ptr_array_new ();
  guint bits = g_value_get_flags (value);
  guint rest = bits;

  /* As g_flags_to_string() names them: the first member that fits, in the
   * order the type lists them, until no bit is left. */
  while (rest != 0)
    {
      GFlagsValue *member = g_flags_get_first_value (klass, rest);

      if (member == NULL || member->value == 0)
        return g_variant_new_uint32 (bits);
      g_ptr_array_add (nicks, (gpointer) member->value_nick);
      rest &= ~member->value;
    }

  return g_variant_new_strv ((const char * const *) nicks->pdata, nicks->len);
}

static GVariant *
object_to_variant (const GValue                 *value,
                   const MpelValueObjectMapper  *mapper,
                   GError                      **error)
{
  GObject *object = g_value_get_object (value);
  guint64 handle;

  if (object == NULL)
    return nothing ("mt");
  if (!mapper->object_to_handle (object, &handle, mapper->user_data, error))
    return NULL;
  return g_variant_new_uint64 (handle);
}

static GVariant *
value_to_variant (const GValue                 *value,
                  const MpelValueObjectMapper  *mapper,
                  GError                      **error)
{
  GType type = G_VALUE_TYPE (value);

  if (type == G_TYPE_GTYPE)
    {
      GType gtype = g_value_get_gtype (value);

      return gtype == G_TYPE_INVALID ? nothing ("ms") : g_variant_new_string (g_type_name (gtype));
    }

  if (type == G_TYPE_STRV)
    {
      const char * const *strv = g_value_get_boxed (value);

      return strv == NULL ? nothing ("mas") : g_variant_new_strv (strv, -1);
    }

  if (type == G_TYPE_BYTES)
    {
      GBytes *bytes = g_value_get_boxed (value);

      /* Shares the bytes, no copy */
      return bytes == NULL ? nothing ("may") : g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
    }

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN: return g_variant_new_boolean (g_value_get_boolean (value));
    case G_TYPE_CHAR:    return g_variant_new_int16 (g_value_get_schar (value));
    case G_TYPE_UCHAR:   return g_variant_new_byte (g_value_get_uchar (value));
    case G_TYPE_INT:     return g_variant_new_int32 (g_value_get_int (value));
    case G_TYPE_UINT:    return g_variant_new_uint32 (g_value_get_uint (value));
    case G_TYPE_LONG:    return g_variant_new_int64 (g_value_get_long (value));
    case G_TYPE_ULONG:   return g_variant_new_uint64 (g_value_get_ulong (value));
    case G_TYPE_INT64:   return g_variant_new_int64 (g_value_get_int64 (value));
    case G_TYPE_UINT64:  return g_variant_new_uint64 (g_value_get_uint64 (value));
    case G_TYPE_FLOAT:   return g_variant_new_double (g_value_get_float (value));
    case G_TYPE_DOUBLE:  return g_variant_new_double (g_value_get_double (value));
    case G_TYPE_ENUM:    return enum_to_variant (value);
    case G_TYPE_FLAGS:   return flags_to_variant (value);

    case G_TYPE_STRING:
      {
        const char *str = g_value_get_string (value);

        if (str == NULL)
          return nothing ("ms");
        if (!g_utf8_validate (str, -1, NULL))
          {
            g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                         _("A string value is not valid UTF-8"));
            return NULL;
          }
        return g_variant_new_string (str);
      }

    case G_TYPE_VARIANT:
      {
        GVariant *variant = g_value_get_variant (value);

        return variant == NULL ? nothing ("mv") : g_variant_new_variant (variant);
      }

    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      return object_to_variant (value, mapper, error);

    default:
      g_assert_not_reached ();
    }
}

GVariant *
_mpel_value_to_variant_full (const GValue                 *value,
                             const MpelValueObjectMapper  *mapper,
                             GError                      **error)
{
  GVariant *variant;

  g_return_val_if_fail (G_IS_VALUE (value), NULL);

  if (!is_supported (G_VALUE_TYPE (value), mapper, error))
    return NULL;

  variant = value_to_variant (value, mapper, error);
  return variant != NULL ? g_variant_ref_sink (variant) : NULL;
}

/**
 * mpel_value_to_variant:
 * @value: an initialized #GValue
 * @error: the place for an error
 *
 * Converts @value to a #GVariant, the way a worker sends a property or a
 * return value to the app.
 *
 * Booleans give `b`; `gchar` gives `n` (GVariant has no signed byte),
 * `guchar` `y`, `gint` `i`, `guint` `u`, `glong` and `gint64` `x`, `gulong`
 * and `guint64` `t`, `gfloat` and `gdouble` `d`. A string gives `s`, a
 * #GStrv `as`, a #GBytes `ay` (sharing its data), a #GType its name as `s`,
 * a #GVariant itself inside a `v`. An enum gives its nick as `s`, flags the
 * array of their nicks as `as`; a number that is not a member gives `i` or
 * `u` instead. A %NULL string, #GStrv, #GBytes or #GVariant gives the
 * nothing of the maybe of its type: `ms`, `mas`, `may`, `mv`.
 *
 * Objects cross only by handle, between a worker and its proxies: this
 * function refuses them, as it refuses every type without a mapping (other
 * boxed types, pointers, param specs).
 *
 * Returns: (transfer full): the value, never floating, or %NULL with
 *   %MPEL_ERROR_INVALID_ARGS naming the type
 */
GVariant *
mpel_value_to_variant (const GValue  *value,
                       GError       **error)
{
  g_return_val_if_fail (G_IS_VALUE (value), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return _mpel_value_to_variant_full (value, NULL, error);
}
