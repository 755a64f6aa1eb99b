/* test-gi-marshalling.c: calls through GObject-Introspection checked
 * against gobject-introspection's own conformance library,
 * GIMarshallingTests (built as a test typelib in tests/gi/), modelled on
 * PyGObject's test_gi.py and GJS's testGIMarshalling.js
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "test-gi-util.h"

/* Conformance cases on gobject-introspection's own test library, modelled
 * on PyGObject's test_gi.py: methods of GIMarshallingTests.Object… */
static void
test_marshalling_object (void)
{
  g_autoptr(GObject) object = new_object ("GIMarshallingTests.Object", "{'int': <int64 42>}");
  g_autoptr(GObject) sub = new_object ("GIMarshallingTests-1.0.SubObject", "{'int': <42.0>}");
  int value = 0;

  /* These assert in C that int is 42 */
  assert_call (object, "method", NULL, "NULL");
  assert_call (object, "none_in", NULL, "NULL");
  /* A parent's method, through the typelib */
  assert_call (sub, "method", NULL, "NULL");

  /* gint8 in, its range checked */
  assert_call (object, "method_with_default_implementation", "(int64 -5,)", "NULL");
  g_object_get (object, "int", &value, NULL);
  g_assert_cmpint (value, ==, -5);
  assert_call_fails (object, "method_with_default_implementation", "(128,)", MPEL_ERROR_INVALID_ARGS, "“in”");
  assert_call_fails (object, "method_with_default_implementation", "(-129,)", MPEL_ERROR_INVALID_ARGS, "“in”");

  /* What does not cross says so */
  assert_call_fails (object, "method_array_in", "([-1, 0, 1, 2],)", MPEL_ERROR_INVALID_ARGS, "“ints”");
  assert_call_fails (object, "method_array_return", NULL, MPEL_ERROR_INVALID_ARGS, "return value");
  assert_call_fails (object, "static_method", NULL, MPEL_ERROR_NO_SUCH_METHOD, "static_method");

  g_assert_finalize_object (g_steal_pointer (&object));
  g_assert_finalize_object (g_steal_pointer (&sub));
}

/* A GIMarshallingTests function called with @args: its result printed,
 * or "ERROR <domain> <code>: <message>". The function itself asserts
 * what it was given. */
static char *
call_function (const char *function,
               const char *args)
{
  g_autoptr(GVariant) parsed = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  /* Loads the namespace */
  g_assert_cmpuint (_mpel_gi_find_type ("GIMarshallingTests.Object", &error), !=, G_TYPE_INVALID);
  g_assert_no_error (error);
  if (args != NULL)
    {
      parsed = g_variant_parse (NULL, args, NULL, NULL, &error);
      g_assert_no_error (error);
    }
  if (!_mpel_gi_call_function ("GIMarshallingTests", function, parsed, NULL, NULL, &result, &error))
    {
      g_assert_null (result);
      return g_strdup_printf ("ERROR %s %d: %s", g_quark_to_string (error->domain), error->code,
                              error->message);
    }
  return result != NULL ? g_variant_print (result, TRUE) : g_strdup ("NULL");
}

typedef struct
{
  const char *function;
  const char *args;       /* NULL: none */
  const char *expected;   /* printed, with types */
} Case;

static void
run_cases (const Case *cases,
           gsize       n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autofree char *text = call_function (cases[i].function, cases[i].args);

      g_test_message ("%s%s → %s", cases[i].function, cases[i].args ? cases[i].args : "()", text);
      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

/* Refused before the call with MPEL_ERROR_INVALID_ARGS naming @needle */
static void
assert_refused (const char *function,
                const char *args,
                const char *needle)
{
  g_autofree char *text = call_function (function, args);
  g_autofree char *prefix = g_strdup_printf ("ERROR %s %d: ", g_quark_to_string (MPEL_ERROR),
                                             MPEL_ERROR_INVALID_ARGS);

  g_test_message ("%s%s → %s", function, args ? args : "()", text);
  g_assert_true (g_str_has_prefix (text, prefix));
  g_assert_nonnull (strstr (text, needle));
}

/* Every scalar type in, out, inout and return at its bounds, from the
 * widths a binding sends (an x from Python, a d from JavaScript), as
 * PyGObject's test_gi.py and GJS's testGIMarshalling.js do */
static void
test_marshalling_scalars (void)
{
  static const Case cases[] = {
    { "boolean_return_true", NULL, "true" },
    { "boolean_return_false", NULL, "false" },
    { "boolean_in_true", "(true,)", "NULL" },
    { "boolean_in_false", "(false,)", "NULL" },
    { "boolean_out_true", NULL, "(true,)" },
    { "boolean_out_false", NULL, "(false,)" },
    { "boolean_inout_true_false", "(true,)", "(false,)" },
    { "boolean_inout_false_true", "(false,)", "(true,)" },

    { "int8_return_max", NULL, "int16 127" },
    { "int8_return_min", NULL, "int16 -128" },
    { "int8_in_max", "(int64 127,)", "NULL" },
    { "int8_in_min", "(-128.0,)", "NULL" },
    { "int8_out_max", NULL, "(int16 127,)" },
    { "int8_out_min", NULL, "(int16 -128,)" },
    { "int8_inout_max_min", "(byte 127,)", "(int16 -128,)" },
    { "int8_inout_min_max", "(int16 -128,)", "(int16 127,)" },
    { "uint8_return", NULL, "byte 0xff" },
    { "uint8_in", "(uint64 255,)", "NULL" },
    { "uint8_out", NULL, "(byte 0xff,)" },
    { "uint8_inout", "(255.0,)", "(byte 0x00,)" },

    { "int16_return_max", NULL, "32767" },
    { "int16_return_min", NULL, "-32768" },
    { "int16_in_max", "(int64 32767,)", "NULL" },
    { "int16_in_min", "(-32768.0,)", "NULL" },
    { "int16_out_max", NULL, "(32767,)" },
    { "int16_out_min", NULL, "(-32768,)" },
    { "int16_inout_max_min", "(int16 32767,)", "(-32768,)" },
    { "int16_inout_min_max", "(-32768,)", "(32767,)" },
    { "uint16_return", NULL, "uint32 65535" },
    { "uint16_in", "(int64 65535,)", "NULL" },
    { "uint16_out", NULL, "(uint32 65535,)" },
    { "uint16_inout", "(uint16 65535,)", "(uint32 0,)" },
    { "short_return_max", NULL, "32767" },
    { "short_in_min", "(int64 -32768,)", "NULL" },
    { "short_inout_max_min", "(32767.0,)", "(-32768,)" },
    { "ushort_return", NULL, "uint32 65535" },
    { "ushort_inout", "(int64 65535,)", "(uint32 0,)" },

    { "int32_return_max", NULL, "2147483647" },
    { "int32_return_min", NULL, "-2147483648" },
    { "int32_in_max", "(int64 2147483647,)", "NULL" },
    { "int32_in_min", "(-2147483648.0,)", "NULL" },
    { "int32_out_max", NULL, "(2147483647,)" },
    { "int32_out_min", NULL, "(-2147483648,)" },
    { "int32_inout_max_min", "(2147483647,)", "(-2147483648,)" },
    { "int32_inout_min_max", "(int64 -2147483648,)", "(2147483647,)" },
    { "uint32_return", NULL, "uint32 4294967295" },
    { "uint32_in", "(int64 4294967295,)", "NULL" },
    { "uint32_out", NULL, "(uint32 4294967295,)" },
    { "uint32_inout", "(4294967295.0,)", "(uint32 0,)" },
    { "int_return_max", NULL, "2147483647" },
    { "int_in_min", "(int64 -2147483648,)", "NULL" },
    { "int_inout_max_min", "(2147483647.0,)", "(-2147483648,)" },
    { "uint_return", NULL, "uint32 4294967295" },
    { "uint_inout", "(uint64 4294967295,)", "(uint32 0,)" },

    { "int64_return_max", NULL, "int64 9223372036854775807" },
    { "int64_return_min", NULL, "int64 -9223372036854775808" },
    { "int64_in_max", "(uint64 9223372036854775807,)", "NULL" },
    { "int64_in_min", "(int64 -9223372036854775808,)", "NULL" },
    { "int64_out_max", NULL, "(int64 9223372036854775807,)" },
    { "int64_out_min", NULL, "(int64 -9223372036854775808,)" },
    { "int64_inout_max_min", "(int64 9223372036854775807,)", "(int64 -9223372036854775808,)" },
    /* -2^63 is a double exactly */
    { "int64_inout_min_max", "(-9223372036854775808.0,)", "(int64 9223372036854775807,)" },
    { "uint64_return", NULL, "uint64 18446744073709551615" },
    { "uint64_in", "(uint64 18446744073709551615,)", "NULL" },
    { "uint64_out", NULL, "(uint64 18446744073709551615,)" },
    { "uint64_inout", "(uint64 18446744073709551615,)", "(uint64 0,)" },
    { "long_return_max", NULL, "int64 9223372036854775807" },
    { "long_in_min", "(int64 -9223372036854775808,)", "NULL" },
    { "long_inout_max_min", "(int64 9223372036854775807,)", "(int64 -9223372036854775808,)" },
    { "ulong_return", NULL, "uint64 18446744073709551615" },
    { "ulong_inout", "(uint64 18446744073709551615,)", "(uint64 0,)" },
    { "ssize_return_max", NULL, "int64 9223372036854775807" },
    { "ssize_inout_min_max", "(int64 -9223372036854775808,)", "(int64 9223372036854775807,)" },
    { "size_return", NULL, "uint64 18446744073709551615" },
    { "size_in", "(uint64 18446744073709551615,)", "NULL" },
    { "size_inout", "(uint64 18446744073709551615,)", "(uint64 0,)" },
    { "time_t_return", NULL, "int64 1234567890" },
    { "time_t_in", "(1234567890,)", "NULL" },
    { "time_t_inout", "(1234567890.0,)", "(int64 0,)" },

    { "float_return", NULL, "3.4028234663852886e+38" },
    { "float_in", "(3.4028234663852886e+38,)", "NULL" },
    { "float_out", NULL, "(3.4028234663852886e+38,)" },
    { "float_inout", "(3.4028234663852886e+38,)", "(1.1754943508222875e-38,)" },
    { "double_return", NULL, "1.7976931348623157e+308" },
    { "double_in", "(1.7976931348623157e+308,)", "NULL" },
    { "double_out", NULL, "(1.7976931348623157e+308,)" },
    { "double_inout", "(1.7976931348623157e+308,)", "(2.2250738585072014e-308,)" },

    /* Several in and out */
    { "int_three_in_three_out", "(1, int64 2, 3.0)", "(1, 2, 3)" },
    { "int_return_out", NULL, "(6, 7)" },
    { "int_out_out", NULL, "(6, 7)" },
  };

  run_cases (cases, G_N_ELEMENTS (cases));

  /* Out of range, for the parameter's width: refused, named */
  assert_refused ("int8_in_max", "(128,)", "“v”");
  assert_refused ("int8_in_min", "(-129.0,)", "“v”");
  assert_refused ("uint8_in", "(256,)", "“v”");
  assert_refused ("uint8_in", "(-1,)", "“v”");
  assert_refused ("int16_in_max", "(32768,)", "“v”");
  assert_refused ("uint16_in", "(-1,)", "“v”");
  assert_refused ("uint16_in", "(65536,)", "“v”");
  assert_refused ("int32_in_max", "(int64 2147483648,)", "“v”");
  assert_refused ("uint32_in", "(int64 4294967296,)", "“v”");
  assert_refused ("int64_in_max", "(uint64 9223372036854775808,)", "“v”");
  assert_refused ("uint64_in", "(int64 -1,)", "“v”");
  /* 2^64 is no guint64; 0.5 is no integer */
  assert_refused ("uint64_in", "(18446744073709551616.0,)", "“v”");
  assert_refused ("int32_in_max", "(0.5,)", "“v”");
  assert_refused ("float_in", "(1e39,)", "“v”");
  assert_refused ("boolean_in_true", "(1,)", "“v”");
  assert_refused ("int32_in_max", "('1',)", "“v”");
  /* The count */
  assert_refused ("int32_in_max", NULL, "int32_in_max");
  assert_refused ("int32_in_max", "(1, 2)", "int32_in_max");
}

/* Strings, enums, flags, strv, GBytes, GVariant, GType */
static void
test_marshalling_values (void)
{
  static const Case cases[] = {
    { "utf8_none_return", NULL, "'const ♥ utf8'" },
    { "utf8_full_return", NULL, "'const ♥ utf8'" },
    { "utf8_none_in", "('const ♥ utf8',)", "NULL" },
    { "utf8_none_out", NULL, "('const ♥ utf8',)" },
    { "utf8_full_out", NULL, "('const ♥ utf8',)" },
    { "utf8_none_inout", "('const ♥ utf8',)", "('',)" },
    { "utf8_full_inout", "('const ♥ utf8',)", "('',)" },
    /* (allow-none) utf8: NULL is the nothing of ms */
    { "int_one_in_utf8_two_in_one_allows_none", "(1, '2', '3')", "NULL" },
    { "int_one_in_utf8_two_in_one_allows_none", "(1, @ms nothing, '3')", "NULL" },
    { "int_one_in_utf8_two_in_one_allows_none", "(1, @ms '2', '3')", "NULL" },
    { "int_two_in_utf8_two_in_with_allow_none", "(1, 2, @ms nothing, @ms nothing)", "NULL" },
    /* The bytes of a string, without a nul (b'…' has one) */
    { "utf8_as_uint8array_in", "([byte 0x63, 0x6f, 0x6e, 0x73, 0x74, 0x20, 0xe2, 0x99, 0xa5, 0x20, 0x75, 0x74, 0x66, 0x38],)", "NULL" },

    /* An enum with a GType: nick, full name or number in, nick out */
    { "genum_returnv", NULL, "'value3'" },
    { "genum_in", "('value3',)", "NULL" },
    { "genum_in", "('GI_MARSHALLING_TESTS_GENUM_VALUE3',)", "NULL" },
    { "genum_in", "(int64 42,)", "NULL" },
    { "genum_out", NULL, "('value3',)" },
    { "genum_inout", "('value3',)", "('value1',)" },
    /* Without a GType: a number, of the enum's storage type */
    { "enum_returnv", NULL, "uint32 42" },
    { "enum_in", "(int64 42,)", "NULL" },
    { "enum_out", NULL, "(uint32 42,)" },
    { "enum_inout", "(42.0,)", "(uint32 0,)" },
    /* Flags: nicks, nicks joined by a bar, or the number */
    { "flags_returnv", NULL, "['value2']" },
    { "flags_in", "(['value2'],)", "NULL" },
    { "flags_in", "('value2',)", "NULL" },
    { "flags_in", "(uint32 2,)", "NULL" },
    { "flags_in_zero", "(@as [],)", "NULL" },
    { "flags_out", NULL, "(['value2'],)" },
    { "flags_inout", "(['value2'],)", "(['value1'],)" },
    { "no_type_flags_returnv", NULL, "uint32 2" },
    { "no_type_flags_in", "(int64 2,)", "NULL" },
    { "no_type_flags_in_zero", "(0,)", "NULL" },
    { "no_type_flags_inout", "(uint32 2,)", "(uint32 1,)" },

    /* strv and zero-terminated utf8 arrays */
    { "gstrv_return", NULL, "['0', '1', '2']" },
    { "gstrv_in", "(['0', '1', '2'],)", "NULL" },
    { "gstrv_out", NULL, "(['0', '1', '2'],)" },
    { "gstrv_inout", "(['0', '1', '2'],)", "(['-1', '0', '1', '2'],)" },
    { "array_zero_terminated_return", NULL, "['0', '1', '2']" },
    { "array_zero_terminated_in", "(['0', '1', '2'],)", "NULL" },
    { "array_zero_terminated_out", NULL, "(['0', '1', '2'],)" },
    { "array_zero_terminated_inout", "(['0', '1', '2'],)", "(['-1', '0', '1', '2'],)" },
    { "array_zero_terminated_return_null", NULL, "@mas nothing" },

    /* GBytes */
    { "gbytes_full_return", NULL, "[byte 0x00, 0x31, 0xff, 0x33]" },
    { "gbytes_none_in", "([byte 0x00, 0x31, 0xff, 0x33],)", "NULL" },

    /* GType: its name */
    { "gtype_return", NULL, "'void'" },
    { "gtype_string_return", NULL, "'gchararray'" },
    { "gtype_in", "('void',)", "NULL" },
    { "gtype_string_in", "('gchararray',)", "NULL" },
    { "gtype_out", NULL, "('void',)" },
    { "gtype_string_out", NULL, "('gchararray',)" },
    { "gtype_inout", "('void',)", "('gint',)" },
  };

  run_cases (cases, G_N_ELEMENTS (cases));

  /* NULL where none is allowed, invalid members, unknown types */
  assert_refused ("utf8_none_in", "(@ms nothing,)", "“utf8”");
  assert_refused ("int_one_in_utf8_two_in_one_allows_none", "(1, '2', @ms nothing)", "“c”");
  assert_refused ("utf8_none_in", "(5,)", "“utf8”");
  assert_refused ("genum_in", "('value9',)", "“v”");
  assert_refused ("genum_in", "(7,)", "“v”");
  assert_refused ("flags_in", "(['value2', 'nope'],)", "“v”");
  assert_refused ("flags_in", "(uint32 64,)", "“v”");
  assert_refused ("gstrv_in", "([1, 2],)", "“g_strv”");
  assert_refused ("gbytes_none_in", "('abc',)", "“v”");
  /* An unknown type name is an unknown name */
  {
    g_autofree char *text = call_function ("gtype_in", "('NoSuchType',)");
    g_autofree char *prefix = g_strdup_printf ("ERROR %s %d: ", g_quark_to_string (MPEL_ERROR),
                                               MPEL_ERROR_NO_SUCH_OBJECT);

    g_assert_true (g_str_has_prefix (text, prefix));
    g_assert_nonnull (strstr (text, "“gtype”"));
    g_assert_nonnull (strstr (text, "NoSuchType"));
  }
}

/* A GVariant in and out, through GIMarshallingTests.Object's
 * interface and the Gio type that takes one */
static void
test_marshalling_variant (void)
{
  g_autoptr(GObject) action = new_object ("Gio.SimpleAction", "{'name': <'a'>, 'state': <(1, 'x')>}");

  assert_call (action, "get_state", NULL, "<(1, 'x')>");
  /* The value itself, or in a v */
  assert_call (action, "change_state", "((2, 'y'),)", "NULL");
  assert_call (action, "get_state", NULL, "<(2, 'y')>");
  assert_call (action, "set_state", "(<(3, 'z')>,)", "NULL");
  assert_call (action, "get_state", NULL, "<(3, 'z')>");
  /* A nullable GVariant return */
  assert_call (action, "get_state_hint", NULL, "@mv nothing");
}

/* `throws`: the GError crosses with its domain and code; a GError as an
 * out argument or a return value does not */
static void
test_marshalling_errors (void)
{
  g_autofree char *text = call_function ("gerror", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_assert_cmpstr (text, ==, "ERROR gi-marshalling-tests-gerror-domain 5: gi-marshalling-tests-gerror-message");

  g_assert_false (_mpel_gi_call_function ("GIMarshallingTests", "gerror", NULL, NULL, NULL, &result, &error));
  g_assert_error (error, g_quark_from_string ("gi-marshalling-tests-gerror-domain"), 5);
  g_clear_error (&error);

  /* A function the typelib names but the library lacks: an error, no call */
  {
    g_autofree char *missing = call_function ("utf8_full_in", "('const ♥ utf8',)");

    g_assert_true (g_str_has_prefix (missing, "ERROR g-invoke-error-quark "));
    g_assert_nonnull (strstr (missing, "gi_marshalling_tests_utf8_full_in"));
  }

  assert_refused ("gerror_out", NULL, "“error”");
  assert_refused ("gerror_return", NULL, "return value");

  /* Unknown functions; a method is not a function */
  g_assert_false (_mpel_gi_call_function ("GIMarshallingTests", "no_such_function", NULL, NULL, NULL,
                                          &result, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_METHOD);
  g_assert_nonnull (strstr (error->message, "no_such_function"));
  g_clear_error (&error);
  g_assert_false (_mpel_gi_call_function ("GIMarshallingTests", "Object", NULL, NULL, NULL, &result, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_METHOD);
  g_clear_error (&error);
}

/* What does not cross is refused before the call (the function would
 * assert or crash if it ran), naming the parameter */
static void
test_marshalling_refused (void)
{
  /* Callbacks */
  assert_refused ("callback_return_value_only", NULL, "“callback”");
  assert_refused ("callback_return_value_only", NULL, "callback)");
  assert_refused ("callback_owned_boxed", NULL, "“callback”");
  /* GList, GSList, GHashTable, GArray, GPtrArray, GValue */
  assert_refused ("glist_int_none_in", "([-1, 0, 1, 2],)", "“list”");
  assert_refused ("glist_utf8_none_return", NULL, "return value");
  assert_refused ("gslist_int_none_in", "([-1, 0, 1, 2],)", "“list”");
  assert_refused ("ghashtable_int_none_in", "({-1: 1},)", "“hash_table”");
  assert_refused ("garray_int_none_in", "([-1, 0, 1, 2],)", "“array_”");
  assert_refused ("gptrarray_utf8_none_in", "(['0', '1', '2'],)", "“parray_”");
  assert_refused ("gvalue_in", "(<42>,)", "“value”");
  assert_refused ("gvalue_in", "(<42>,)", "GObject.Value");
  /* Structs, boxed or by value, and unions */
  assert_refused ("simple_struct_returnv", NULL, "return value");
  assert_refused ("simple_struct_returnv", NULL, "SimpleStruct, a struct");
  assert_refused ("boxed_struct_returnv", NULL, "return value");
  assert_refused ("union_returnv", NULL, "return value");
  /* C arrays other than bytes and strings */
  assert_refused ("array_in", "([-1, 0, 1, 2],)", "“ints”");
  assert_refused ("array_gvariant_none_in", "([<1>],)", "“variants”");
  /* Out arguments the caller allocates */
  assert_refused ("garray_utf8_full_out_caller_allocated", NULL, "“array_”");
  assert_refused ("gvalue_out_caller_allocates", NULL, "“value”");
  assert_refused ("gvalue_out_caller_allocates", NULL, "caller allocates");
  /* Param specs */
  assert_refused ("param_spec_return", NULL, "return value");
}

/* Objects cross by handle: in (the instance and parameters), out and
 * returned */
static void
test_marshalling_objects (void)
{
  g_autoptr(GPtrArray) table = g_ptr_array_new_with_free_func (g_object_unref);
  MpelValueObjectMapper mapper = { table_object_to_handle, table_handle_to_object, table };
  g_autoptr(GObject) impl = new_object ("GIMarshallingTests.InterfaceImpl", NULL);
  g_autoptr(GObject) object = new_object ("GIMarshallingTests.Object", "{'int': <42>}");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  /* A transfer-none interface return: the same object, by handle */
  text = call (impl, "get_as_interface", NULL, NULL, &mapper, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "uint64 1");
  g_assert_true (table->pdata[0] == (gpointer) impl);
  g_clear_pointer (&text, g_free);

  /* The handle in, as a parameter whose interface does not require
   * GObject: checked against the interface */
  {
    g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new ("(ti)", (guint64) 1, 42));
    g_autoptr(GVariant) wrong = NULL;
    g_autoptr(GVariant) result = NULL;

    g_assert_true (_mpel_gi_call_function ("GIMarshallingTests", "test_interface_test_int8_in", args, NULL,
                                           &mapper, &result, &error));
    g_assert_no_error (error);
    g_assert_null (result);

    g_ptr_array_add (table, g_object_ref (object));   /* handle 2 */
    wrong = g_variant_ref_sink (g_variant_new ("(ti)", (guint64) 2, 42));
    g_assert_false (_mpel_gi_call_function ("GIMarshallingTests", "test_interface_test_int8_in", wrong, NULL,
                                            &mapper, &result, &error));
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    g_assert_nonnull (strstr (error->message, "“test_iface”"));
    g_assert_nonnull (strstr (error->message, "GIMarshallingTestsInterface"));
    g_clear_error (&error);
  }

  /* The instance, checked by the method (int is 42) */
  assert_call (object, "method", NULL, "NULL");
  assert_call (object, "none_in", NULL, "NULL");
  /* An out argument through a pointer to a pointer: refused */
  assert_call_fails (object, "method_int8_arg_and_out_callee", "(42,)", MPEL_ERROR_INVALID_ARGS, "“out”");

  g_ptr_array_set_size (table, 0);
  g_assert_finalize_object (g_steal_pointer (&impl));
  g_assert_finalize_object (g_steal_pointer (&object));
}

static void
assert_property (GVariant   *props,
                 const char *name,
                 const char *expected)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (props, name, NULL);
  g_autofree char *text = NULL;

  if (expected == NULL)
    {
      g_assert_null (value);
      return;
    }
  g_assert_nonnull (value);
  text = g_variant_print (value, TRUE);
  g_assert_cmpstr (text, ==, expected);
}

/* …and every property type of GIMarshallingTests.PropertiesObject, set
 * from the widths a binding sends and read back */
static void
test_marshalling_properties (void)
{
  g_autoptr(GObject) object = new_object ("GIMarshallingTests.PropertiesObject",
    "{'some-boolean': <true>, 'some-char': <int64 -100>, 'some-uchar': <200>, "
    "'some-int': <int64 -7>, 'some-uint': <7.0>, 'some-long': <-9>, 'some-ulong': <uint64 9>, "
    "'some-int64': <int64 -9223372036854775808>, 'some-uint64': <uint64 18446744073709551615>, "
    "'some-float': <0.5>, 'some-double': <int64 3>, 'some-string': <'hé'>, "
    "'some-strv': <['a', 'b']>, 'some-variant': <<(1, 'x')>>, "
    "'some-flags': <['value1', 'value3']>, 'some-enum': <'value2'>}");
  const char *refused[][2] = {
    { "{'some-char': <200>}", "some-char" },
    { "{'some-uchar': <-1>}", "some-uchar" },
    { "{'some-int': <2.5>}", "some-int" },
    { "{'some-enum': <'value9'>}", "some-enum" },
    { "{'some-flags': <uint32 64>}", "some-flags" },
    { "{'some-readonly': <1>}", "some-readonly" },
    { "{'some-boxed-struct': <1>}", "GIMarshallingTestsBoxedStruct" },
  };
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (_mpel_gi_get_properties (object, NULL, NULL, &props, &error));
  g_assert_no_error (error);
  assert_property (props, "some-boolean", "true");
  assert_property (props, "some-char", "int16 -100");
  assert_property (props, "some-uchar", "byte 0xc8");
  assert_property (props, "some-int", "-7");
  assert_property (props, "some-uint", "uint32 7");
  assert_property (props, "some-long", "int64 -9");
  assert_property (props, "some-ulong", "uint64 9");
  assert_property (props, "some-int64", "int64 -9223372036854775808");
  assert_property (props, "some-uint64", "uint64 18446744073709551615");
  assert_property (props, "some-float", "0.5");
  assert_property (props, "some-double", "3.0");
  assert_property (props, "some-string", "'hé'");
  assert_property (props, "some-strv", "['a', 'b']");
  assert_property (props, "some-variant", "<(1, 'x')>");
  assert_property (props, "some-flags", "['value1', 'value3']");
  assert_property (props, "some-enum", "'value2'");
  assert_property (props, "some-readonly", "42");
  /* What does not convert is left out: boxed structs, GValue, GByteArray,
   * GList, and objects without a mapper */
  assert_property (props, "some-boxed-struct", NULL);
  assert_property (props, "some-gvalue", NULL);
  assert_property (props, "some-byte-array", NULL);
  assert_property (props, "some-boxed-glist", NULL);
  assert_property (props, "some-object", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GVariant) values = g_variant_parse (G_VARIANT_TYPE_VARDICT, refused[i][0], NULL, NULL, NULL);
      g_autoptr(GObject) made = _mpel_gi_new_object (G_OBJECT_TYPE (object), values, NULL, &error);

      g_assert_null (made);
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
      g_assert_nonnull (strstr (error->message, refused[i][1]));
      g_clear_error (&error);
    }

  g_assert_finalize_object (g_steal_pointer (&object));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/GI/marshalling/object", test_marshalling_object);
  g_test_add_func ("/Mpel/GI/marshalling/properties", test_marshalling_properties);
  g_test_add_func ("/Mpel/GI/marshalling/scalars", test_marshalling_scalars);
  g_test_add_func ("/Mpel/GI/marshalling/values", test_marshalling_values);
  g_test_add_func ("/Mpel/GI/marshalling/variant", test_marshalling_variant);
  g_test_add_func ("/Mpel/GI/marshalling/errors", test_marshalling_errors);
  g_test_add_func ("/Mpel/GI/marshalling/refused", test_marshalling_refused);
  g_test_add_func ("/Mpel/GI/marshalling/objects", test_marshalling_objects);

  return g_test_run ();
}
