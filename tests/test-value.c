/* test-value.c: GValue ↔ GVariant
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <float.h>
#include <math.h>

#include "mpel-value-private.h"
#include "mpel-test-util.h"

/* Converts @value out, checks the GVariant's text, and converts it back
 * into a value that must be equal (by its text form). */
static void
assert_round_trip (const GValue *value,
                   const char   *expected)
{
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GValue) back = G_VALUE_INIT;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GVariant) again = NULL;

  variant = mpel_value_to_variant (value, &error);
  g_assert_no_error (error);
  g_assert_nonnull (variant);
  g_assert_false (g_variant_is_floating (variant));
  text = g_variant_print (variant, TRUE);
  g_assert_cmpstr (text, ==, expected);

  g_assert_true (mpel_value_from_variant (variant, G_VALUE_TYPE (value), &back, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (G_VALUE_TYPE (&back), ==, G_VALUE_TYPE (value));
  before = g_strdup_value_contents (value);
  after = g_strdup_value_contents (&back);
  g_assert_cmpstr (before, ==, after);
  /* GLib prints no GVariant contents: compare them converted again */
  again = mpel_value_to_variant (&back, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (again, variant));
}

static void
test_fundamentals (void)
{
  g_auto(GValue) v = G_VALUE_INIT;

#define ROUND(gtype, setter, val, text) \
  g_value_init (&v, gtype); setter (&v, val); assert_round_trip (&v, text); g_value_unset (&v)

  ROUND (G_TYPE_BOOLEAN, g_value_set_boolean, TRUE, "true");
  ROUND (G_TYPE_CHAR, g_value_set_schar, -5, "int16 -5");
  ROUND (G_TYPE_UCHAR, g_value_set_uchar, 250, "byte 0xfa");
  ROUND (G_TYPE_INT, g_value_set_int, G_MININT, "-2147483648");
  ROUND (G_TYPE_UINT, g_value_set_uint, G_MAXUINT, "uint32 4294967295");
  ROUND (G_TYPE_LONG, g_value_set_long, -7, "int64 -7");
  ROUND (G_TYPE_ULONG, g_value_set_ulong, 7, "uint64 7");
  ROUND (G_TYPE_INT64, g_value_set_int64, G_MININT64, "int64 -9223372036854775808");
  ROUND (G_TYPE_UINT64, g_value_set_uint64, G_MAXUINT64, "uint64 18446744073709551615");
  ROUND (G_TYPE_FLOAT, g_value_set_float, 0.5f, "0.5");
  ROUND (G_TYPE_DOUBLE, g_value_set_double, -1.25, "-1.25");
  ROUND (G_TYPE_STRING, g_value_set_string, "héllo", "'héllo'");
  ROUND (G_TYPE_STRING, g_value_set_string, NULL, "@ms nothing");
  ROUND (G_TYPE_GTYPE, g_value_set_gtype, G_TYPE_OBJECT, "'GObject'");
  ROUND (G_TYPE_GTYPE, g_value_set_gtype, G_TYPE_INVALID, "@ms nothing");

#undef ROUND
}

/* Converts @text (a GVariant in text form) into a @type; checks the
 * result's contents or the error. */
static void
assert_from (const char *text,
             GType       type,
             const char *expected_contents)
{
  g_autoptr(GVariant) variant = g_variant_parse (NULL, text, NULL, NULL, NULL);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  g_assert_nonnull (variant);
  if (!mpel_value_from_variant (variant, type, &value, &error))
    {
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
      g_assert_null (expected_contents);
      g_assert_false (G_IS_VALUE (&value));
      return;
    }
  g_assert_no_error (error);
  g_assert_nonnull (expected_contents);
  contents = g_strdup_value_contents (&value);
  g_assert_cmpstr (contents, ==, expected_contents);
}

static void
test_widths (void)
{
  /* Any integer width that fits */
  assert_from ("int64 5", G_TYPE_INT, "5");
  assert_from ("byte 7", G_TYPE_INT64, "7");
  assert_from ("uint64 4294967295", G_TYPE_UINT, "4294967295");
  assert_from ("int16 -128", G_TYPE_CHAR, "-128");
  assert_from ("uint32 255", G_TYPE_UCHAR, "255");
  assert_from ("int64 -9223372036854775808", G_TYPE_INT64, "-9223372036854775808");
  assert_from ("uint64 18446744073709551615", G_TYPE_UINT64, "18446744073709551615");
  assert_from ("int64 -1", G_TYPE_LONG, "-1");
  assert_from ("int32 3", G_TYPE_ULONG, "3");

  /* …and what does not */
  assert_from ("int64 2147483648", G_TYPE_INT, NULL);
  assert_from ("int64 -2147483649", G_TYPE_INT, NULL);
  assert_from ("int32 -1", G_TYPE_UINT, NULL);
  assert_from ("int32 -1", G_TYPE_UINT64, NULL);
  assert_from ("uint64 9223372036854775808", G_TYPE_INT64, NULL);
  assert_from ("int16 128", G_TYPE_CHAR, NULL);
  assert_from ("int32 256", G_TYPE_UCHAR, NULL);
  assert_from ("int64 4294967296", G_TYPE_UINT, NULL);

  /* int → double always; double → int only exactly */
  assert_from ("int64 -3", G_TYPE_DOUBLE, "-3.000000");
  assert_from ("uint64 3", G_TYPE_FLOAT, "3.000000");
  assert_from ("3.0", G_TYPE_INT, "3");
  assert_from ("-4.0", G_TYPE_INT64, "-4");
  assert_from ("3.5", G_TYPE_INT, NULL);
  assert_from ("-1.0", G_TYPE_UINT, NULL);
  assert_from ("1e300", G_TYPE_INT64, NULL);
  assert_from ("1e300", G_TYPE_FLOAT, NULL);
  assert_from ("1e10", G_TYPE_DOUBLE, "10000000000.000000");

  /* No guessing between kinds */
  assert_from ("'5'", G_TYPE_INT, NULL);
  assert_from ("true", G_TYPE_INT, NULL);
  assert_from ("1", G_TYPE_BOOLEAN, NULL);
  assert_from ("5", G_TYPE_STRING, NULL);
  assert_from ("'x'", G_TYPE_DOUBLE, NULL);
}

static void
test_wrappers (void)
{
  /* A `v` comes off once; a maybe stands for its content */
  assert_from ("<int64 5>", G_TYPE_INT, "5");
  assert_from ("@mx 5", G_TYPE_INT, "5");
  assert_from ("@mx nothing", G_TYPE_INT, NULL);
  assert_from ("@ms 'a'", G_TYPE_STRING, "\"a\"");
  assert_from ("@ms nothing", G_TYPE_STRING, "NULL");
  assert_from ("objectpath '/a/b'", G_TYPE_STRING, "\"/a/b\"");
  assert_from ("<'a'>", G_TYPE_STRING, "\"a\"");
}

static void
test_enums (void)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_FILE_TYPE);
  g_value_set_enum (&v, G_FILE_TYPE_DIRECTORY);
  assert_round_trip (&v, "'directory'");
  g_value_unset (&v);

  assert_from ("'regular'", G_TYPE_FILE_TYPE, "((GFileType) G_FILE_TYPE_REGULAR)");
  assert_from ("'G_FILE_TYPE_REGULAR'", G_TYPE_FILE_TYPE, "((GFileType) G_FILE_TYPE_REGULAR)");
  assert_from ("int64 1", G_TYPE_FILE_TYPE, "((GFileType) G_FILE_TYPE_REGULAR)");
  assert_from ("'no-such-nick'", G_TYPE_FILE_TYPE, NULL);
  assert_from ("99", G_TYPE_FILE_TYPE, NULL);
  assert_from ("true", G_TYPE_FILE_TYPE, NULL);

  /* A number that is no member goes as its number */
  g_value_init (&v, G_TYPE_FILE_TYPE);
  g_value_set_enum (&v, 77);
  {
    g_autoptr(GVariant) variant = mpel_value_to_variant (&v, NULL);

    g_assert_cmpint (g_variant_get_int32 (variant), ==, 77);
  }
}

static void
test_flags (void)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_FILE_CREATE_FLAGS);
  g_value_set_flags (&v, G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION);
  assert_round_trip (&v, "['private', 'replace-destination']");
  g_value_set_flags (&v, 0);
  assert_round_trip (&v, "@as []");
  g_value_unset (&v);

  assert_from ("['replace-destination']", G_TYPE_FILE_CREATE_FLAGS, "((GFileCreateFlags) G_FILE_CREATE_REPLACE_DESTINATION)");
  assert_from ("'private | G_FILE_CREATE_REPLACE_DESTINATION'", G_TYPE_FILE_CREATE_FLAGS,
               "((GFileCreateFlags) G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION)");
  assert_from ("''", G_TYPE_FILE_CREATE_FLAGS, "((GFileCreateFlags) G_FILE_CREATE_NONE)");
  assert_from ("int64 1", G_TYPE_FILE_CREATE_FLAGS, "((GFileCreateFlags) G_FILE_CREATE_PRIVATE)");
  assert_from ("uint32 8", G_TYPE_FILE_CREATE_FLAGS, NULL);
  assert_from ("['private', 'nope']", G_TYPE_FILE_CREATE_FLAGS, NULL);
  assert_from ("-1", G_TYPE_FILE_CREATE_FLAGS, NULL);
}

static void
test_strv (void)
{
  const char *strv[] = { "a", "b c", NULL };
  g_auto(GValue) v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_STRV);
  g_value_set_boxed (&v, strv);
  assert_round_trip (&v, "['a', 'b c']");
  g_value_set_boxed (&v, NULL);
  assert_round_trip (&v, "@mas nothing");

  assert_from ("['x']", G_TYPE_STRV, "[\"x\"]");
  assert_from ("[objectpath '/x']", G_TYPE_STRV, "[\"/x\"]");
  assert_from ("'x'", G_TYPE_STRV, NULL);
  assert_from ("[1]", G_TYPE_STRV, NULL);
}

static void
test_bytes (void)
{
  static const guint8 data[] = { 0, 1, 2, 255 };
  g_autoptr(GBytes) bytes = g_bytes_new_static (data, sizeof data);
  g_autoptr(GVariant) variant = NULL;
  g_auto(GValue) v = G_VALUE_INIT;
  g_auto(GValue) back = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  GBytes *back_bytes;

  g_value_init (&v, G_TYPE_BYTES);
  g_value_set_boxed (&v, bytes);
  assert_round_trip (&v, "[byte 0x00, 0x01, 0x02, 0xff]");

  /* Neither way copies */
  variant = mpel_value_to_variant (&v, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_get_data (variant) == (gconstpointer) data);
  g_assert_true (mpel_value_from_variant (variant, G_TYPE_BYTES, &back, &error));
  back_bytes = g_value_get_boxed (&back);
  g_assert_true (g_bytes_get_data (back_bytes, NULL) == (gconstpointer) data);

  g_value_set_boxed (&v, NULL);
  assert_round_trip (&v, "@may nothing");
  assert_from ("'abc'", G_TYPE_BYTES, NULL);
}

static void
test_variant (void)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_VARIANT);
  g_value_set_variant (&v, g_variant_new ("(is)", 1, "x"));
  assert_round_trip (&v, "<(1, 'x')>");
  /* A maybe inside is kept as it is */
  g_value_set_variant (&v, g_variant_new ("ms", NULL));
  assert_round_trip (&v, "<@ms nothing>");
  g_value_set_variant (&v, NULL);
  assert_round_trip (&v, "@mv nothing");

  /* Without the `v`, the value itself */
  {
    g_autoptr(GVariant) bare = g_variant_ref_sink (g_variant_new ("(is)", 1, "x"));
    g_auto(GValue) back = G_VALUE_INIT;
    g_autoptr(GError) error = NULL;

    g_assert_true (mpel_value_from_variant (bare, G_TYPE_VARIANT, &back, &error));
    g_assert_no_error (error);
    g_assert_true (g_variant_equal (g_value_get_variant (&back), bare));
  }
}

static void
assert_refused (GType type)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) back = G_VALUE_INIT;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GVariant) any = g_variant_ref_sink (g_variant_new_uint64 (1));
  g_autoptr(GError) error = NULL;

  g_value_init (&value, type);
  variant = mpel_value_to_variant (&value, &error);
  g_assert_null (variant);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, g_type_name (type)));
  g_clear_error (&error);

  g_assert_false (mpel_value_from_variant (any, type, &back, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, g_type_name (type)));
  g_assert_false (G_IS_VALUE (&back));
}

static void
test_refused (void)
{
  assert_refused (G_TYPE_POINTER);
  assert_refused (G_TYPE_DATE_TIME);
  assert_refused (G_TYPE_HASH_TABLE);
  assert_refused (G_TYPE_PARAM_INT);
  /* Objects only with a mapper: see test_objects() */
  assert_refused (G_TYPE_OBJECT);
  assert_refused (G_TYPE_LIST_MODEL);
  assert_refused (G_TYPE_SIMPLE_ACTION);
}

/* A string that is not UTF-8 (a filename, say) is refused, not sent as a
 * broken GVariant. */
static void
test_not_utf8 (void)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GError) error = NULL;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "caf\xe9");
  variant = mpel_value_to_variant (&value, &error);
  g_assert_null (variant);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
}

static void
test_gtype (void)
{
  g_autoptr(GVariant) variant = g_variant_ref_sink (g_variant_new_string ("NoSuchTypeAnywhere"));
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_false (mpel_value_from_variant (variant, G_TYPE_GTYPE, &value, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_assert_nonnull (strstr (error->message, "NoSuchTypeAnywhere"));
}

/* A mapper over an array: the handle is the index + 1. */
static gboolean
test_object_to_handle (GObject  *object,
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

static GObject *
test_handle_to_object (guint64   handle,
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

static void
test_objects (void)
{
  g_autoptr(GPtrArray) table = g_ptr_array_new_with_free_func (g_object_unref);
  MpelValueObjectMapper mapper = { test_object_to_handle, test_handle_to_object, table };
  g_autoptr(GSimpleAction) action = g_simple_action_new ("a", NULL);
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) back = G_VALUE_INIT;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GVariant) other = NULL;
  g_autoptr(GError) error = NULL;

  g_value_init (&value, G_TYPE_ACTION);
  g_value_set_object (&value, action);
  variant = _mpel_value_to_variant_full (&value, &mapper, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (variant), ==, "t");
  g_assert_cmpuint (g_variant_get_uint64 (variant), ==, 1);

  g_assert_true (_mpel_value_from_variant_full (variant, G_TYPE_SIMPLE_ACTION, &back, &mapper, &error));
  g_assert_true (g_value_get_object (&back) == (gpointer) action);
  g_value_unset (&back);

  /* The object must be what the parameter wants */
  g_assert_false (_mpel_value_from_variant_full (variant, G_TYPE_LIST_STORE, &back, &mapper, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "GListStore"));
  g_clear_error (&error);

  /* Unknown handles are the mapper's errors */
  other = g_variant_ref_sink (g_variant_new_uint64 (9));
  g_assert_false (_mpel_value_from_variant_full (other, G_TYPE_OBJECT, &back, &mapper, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_clear_error (&error);
  g_clear_pointer (&other, g_variant_unref);

  /* NULL is nothing */
  g_value_set_object (&value, NULL);
  g_clear_pointer (&variant, g_variant_unref);
  variant = _mpel_value_to_variant_full (&value, &mapper, &error);
  g_assert_cmpstr (g_variant_get_type_string (variant), ==, "mt");
  g_assert_true (_mpel_value_from_variant_full (variant, G_TYPE_ACTION, &back, &mapper, &error));
  g_assert_null (g_value_get_object (&back));
  g_value_unset (&back);

  g_value_unset (&value);
  g_ptr_array_set_size (table, 0);
  g_assert_finalize_object (g_steal_pointer (&action));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Value/fundamentals", test_fundamentals);
  g_test_add_func ("/Mpel/Value/widths", test_widths);
  g_test_add_func ("/Mpel/Value/wrappers", test_wrappers);
  g_test_add_func ("/Mpel/Value/enums", test_enums);
  g_test_add_func ("/Mpel/Value/flags", test_flags);
  g_test_add_func ("/Mpel/Value/strv", test_strv);
  g_test_add_func ("/Mpel/Value/bytes", test_bytes);
  g_test_add_func ("/Mpel/Value/variant", test_variant);
  g_test_add_func ("/Mpel/Value/gtype", test_gtype);
  g_test_add_func ("/Mpel/Value/not-utf8", test_not_utf8);
  g_test_add_func ("/Mpel/Value/refused", test_refused);
  g_test_add_func ("/Mpel/Value/objects", test_objects);

  return g_test_run ();
}
