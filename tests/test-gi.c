/* test-gi.c: remote objects made, read and called through
 * GObject-Introspection, in-process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <girepository.h>
#include <glib/gstdio.h>

#include "test-gi-util.h"

static void
test_find_type (void)
{
  struct { const char *name; GType type; } found[] = {
    { "GObject", G_TYPE_OBJECT },
    { "GObject.Object", G_TYPE_OBJECT },
    { "Gio.ListStore", G_TYPE_LIST_STORE },
    { "Gio-2.0.Menu", G_TYPE_MENU },
    { "Gio.File", G_TYPE_FILE },
    { "GSimpleAction", G_TYPE_SIMPLE_ACTION },
  };
  const char *not_found[] = {
    "NoSuchType", "Gio.NoSuchType", "NoSuchNamespace.Thing", "Gio-9.0.ListStore", "Gio.", ".Menu",
    "Gio-.Menu", "GLib.test_init",
  };

  for (guint i = 0; i < G_N_ELEMENTS (found); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_cmpuint (_mpel_gi_find_type (found[i].name, &error), ==, found[i].type);
      g_assert_no_error (error);
    }

  for (guint i = 0; i < G_N_ELEMENTS (not_found); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_cmpuint (_mpel_gi_find_type (not_found[i], &error), ==, G_TYPE_INVALID);
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
      g_assert_nonnull (strstr (error->message, not_found[i]));
    }
}

/* Which GTK a bare "Gtk" means: the pinned one, else the latest. Each case
 * in a process of its own, as typelibs stay loaded. */
static void
test_version_default (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;

      g_assert_cmpuint (_mpel_gi_find_type ("Gtk.Adjustment", &error), !=, G_TYPE_INVALID);
      g_assert_no_error (error);
      g_assert_cmpstr (g_irepository_get_version (NULL, "Gtk"), ==, "4.0");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_version_pinned (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (_mpel_gi_require ("Gtk", "3.0", &error));
      g_assert_no_error (error);
      /* Again, the same: fine */
      g_assert_true (_mpel_gi_require ("Gtk", "3.0", &error));
      g_assert_no_error (error);

      g_assert_cmpuint (_mpel_gi_find_type ("Gtk.Adjustment", &error), !=, G_TYPE_INVALID);
      g_assert_no_error (error);
      g_assert_cmpstr (g_irepository_get_version (NULL, "Gtk"), ==, "3.0");

      g_assert_false (_mpel_gi_require ("Gtk", "4.0", &error));
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
      g_assert_nonnull (strstr (error->message, "3.0"));
      g_clear_error (&error);

      g_assert_cmpuint (_mpel_gi_find_type ("Gtk-4.0.Adjustment", &error), ==, G_TYPE_INVALID);
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
      g_assert_nonnull (strstr (error->message, "Gtk-4.0.Adjustment"));
      g_clear_error (&error);

      g_assert_false (_mpel_gi_require ("NoSuchNamespace", "1.0", &error));
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A name with a version pins it: a bare name means it afterwards */
static void
test_version_named (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      GType gtk3;

      gtk3 = _mpel_gi_find_type ("Gtk-3.0.Adjustment", &error);
      g_assert_no_error (error);
      g_assert_cmpuint (gtk3, !=, G_TYPE_INVALID);
      g_assert_cmpuint (_mpel_gi_find_type ("Gtk.Adjustment", &error), ==, gtk3);
      g_assert_no_error (error);
      g_assert_cmpstr (g_irepository_get_version (NULL, "Gtk"), ==, "3.0");

      g_assert_cmpuint (_mpel_gi_find_type ("Gtk-4.0.Adjustment", &error), ==, G_TYPE_INVALID);
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
      g_assert_nonnull (strstr (error->message, "Gtk-4.0.Adjustment"));
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_new_object (void)
{
  g_autoptr(GObject) action = new_object ("Gio.SimpleAction", "{'name': <'go'>, 'enabled': <false>}");
  g_autoptr(GObject) store = new_object ("Gio.ListStore", "{'item-type': <'GSimpleAction'>}");
  g_autoptr(GObject) plain = new_object ("GObject", NULL);
  const char *refused[][2] = {
    { "{'no-such-property': <1>}", "no-such-property" },
    { "{'name': <5>}", "name" },
    { "{'enabled': <'yes'>}", "enabled" },
  };

  g_assert_cmpstr (g_action_get_name (G_ACTION (action)), ==, "go");
  g_assert_false (g_action_get_enabled (G_ACTION (action)));
  g_assert_cmpuint (g_list_model_get_item_type (G_LIST_MODEL (store)), ==, G_TYPE_SIMPLE_ACTION);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GVariant) values = g_variant_parse (G_VARIANT_TYPE_VARDICT, refused[i][0], NULL, NULL, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GObject) object = _mpel_gi_new_object (G_TYPE_SIMPLE_ACTION, values, NULL, &error);

      g_assert_null (object);
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
      g_assert_nonnull (strstr (error->message, refused[i][1]));
    }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) values = g_variant_ref_sink (g_variant_new_int32 (1));
    g_autoptr(GObject) object = _mpel_gi_new_object (G_TYPE_SIMPLE_ACTION, values, NULL, &error);

    g_assert_null (object);
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    g_clear_error (&error);

    object = _mpel_gi_new_object (G_TYPE_INPUT_STREAM, NULL, NULL, &error);
    g_assert_null (object);
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    g_assert_nonnull (strstr (error->message, "GInputStream"));
    g_clear_error (&error);

    object = _mpel_gi_new_object (G_TYPE_LIST_MODEL, NULL, NULL, &error);
    g_assert_null (object);
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  }

  g_assert_finalize_object (g_steal_pointer (&action));
  g_assert_finalize_object (g_steal_pointer (&store));
  g_assert_finalize_object (g_steal_pointer (&plain));
}

/* GtkAdjustment needs no display. Its value is clamped to the bounds set
 * before it: construct values apply in order. */
static void
test_adjustment (void)
{
  g_autoptr(GObject) adj = new_object ("Gtk-4.0.Adjustment", "{'lower': <0.0>, 'upper': <int64 10>, 'value': <20.0>}");
  g_autoptr(GObject) reversed = new_object ("Gtk-4.0.Adjustment", "{'value': <20.0>, 'lower': <0.0>, 'upper': <10.0>}");
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GError) error = NULL;
  double value;

  g_object_get (adj, "value", &value, NULL);
  g_assert_cmpfloat (value, ==, 10.0);
  g_object_get (reversed, "value", &value, NULL);
  g_assert_cmpfloat (value, ==, 0.0);

  assert_call (adj, "set_value", "(int64 4,)", "NULL");
  assert_call (adj, "get_value", NULL, "4.0");
  /* The worker clamps */
  assert_call (adj, "set_value", "(99.0,)", "NULL");
  assert_call (adj, "get_value", NULL, "10.0");

  /* configure (value, lower, upper, step, page increment, page size) */
  assert_call (adj, "configure", "(50, 0, 100, 1, 10, 20)", "NULL");
  assert_call (adj, "get_upper", NULL, "100.0");
  assert_call (adj, "set_value", "(1000.0,)", "NULL");
  assert_call (adj, "get_value", NULL, "80.0");

  assert_call_fails (adj, "configure", "(1.0, 2.0)", MPEL_ERROR_INVALID_ARGS, "configure");
  assert_call_fails (adj, "set_value", "('x',)", MPEL_ERROR_INVALID_ARGS, "“value”");
  assert_call_fails (adj, "set_value", "(1.0, 2.0)", MPEL_ERROR_INVALID_ARGS, "set_value");
  assert_call_fails (adj, "no_such_method", NULL, MPEL_ERROR_NO_SUCH_METHOD, "no_such_method");
  /* A constructor or a function is not a method */
  assert_call_fails (adj, "new", NULL, MPEL_ERROR_NO_SUCH_METHOD, "GtkAdjustment");

  {
    g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new_int32 (1));
    g_autoptr(GVariant) result = NULL;

    g_assert_false (_mpel_gi_call_method (adj, "set_value", args, NULL, NULL, &result, &error));
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    g_clear_error (&error);
  }

  /* Mirrored values: properties and getters */
  g_assert_true (_mpel_gi_get_properties (adj, NULL, NULL, &props, &error));
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (props, "value", "d", &value));
  g_assert_cmpfloat (value, ==, 80.0);
  g_assert_true (g_variant_lookup (props, "page-size", "d", &value));
  g_assert_cmpfloat (value, ==, 20.0);
  g_clear_pointer (&props, g_variant_unref);

  {
    const char *names[] = { "upper", NULL };
    const char *bad[] = { "upper", "no-such", NULL };
    const char *getters[] = { "get_value", "get_lower", NULL };
    const char *not_getters[] = { "get_value", "set_value", NULL };
    g_autofree char *text = NULL;

    g_assert_true (_mpel_gi_get_properties (adj, names, NULL, &props, &error));
    g_assert_no_error (error);
    text = g_variant_print (props, FALSE);
    g_assert_cmpstr (text, ==, "{'upper': <100.0>}");
    g_clear_pointer (&props, g_variant_unref);
    g_clear_pointer (&text, g_free);

    g_assert_false (_mpel_gi_get_properties (adj, bad, NULL, &props, &error));
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    g_assert_nonnull (strstr (error->message, "no-such"));
    g_clear_error (&error);

    g_assert_true (_mpel_gi_get_getters (adj, getters, NULL, NULL, &props, &error));
    g_assert_no_error (error);
    text = g_variant_print (props, FALSE);
    g_assert_cmpstr (text, ==, "{'get_value': <80.0>, 'get_lower': <0.0>}");
    g_clear_pointer (&props, g_variant_unref);

    /* set_value takes an argument */
    g_assert_false (_mpel_gi_get_getters (adj, not_getters, NULL, NULL, &props, &error));
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    g_clear_error (&error);
  }

  {
    g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_double (3.0));

    g_assert_true (_mpel_gi_set_property (adj, "value", v, NULL, &error));
    g_assert_no_error (error);
    assert_call (adj, "get_value", NULL, "3.0");
    g_assert_false (_mpel_gi_set_property (adj, "nope", v, NULL, &error));
    g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
    g_clear_error (&error);
  }

  g_assert_finalize_object (g_steal_pointer (&adj));
  g_assert_finalize_object (g_steal_pointer (&reversed));
}

/* Strings, GVariant, strv, enums, flags, integer widths */
static void
test_values (void)
{
  g_autoptr(GObject) action = new_object ("Gio.SimpleAction", "{'name': <'a'>, 'state': <<int64 1>>}");
  g_autoptr(GObject) info = new_object ("Gio.FileInfo", NULL);
  g_autoptr(GObject) menu = new_object ("Gio.Menu", NULL);
  g_autoptr(GObject) app = new_object ("Gio.Application",
                                       "{'application-id': <'org.example.Test'>, "
                                       "'flags': <['handles-open', 'non-unique']>}");

  /* utf8 in and out; a GVariant in and out */
  assert_call (action, "get_name", NULL, "'a'");
  assert_call (action, "get_state", NULL, "<int64 1>");
  assert_call (action, "set_state", "(<int64 5>,)", "NULL");
  assert_call (action, "get_state", NULL, "<int64 5>");
  /* Through an interface the class implements (Gio.Action) */
  assert_call (action, "get_enabled", NULL, "true");

  /* Nullable strings: (nullable) utf8 in */
  assert_call (menu, "append", "('Label', @ms nothing)", "NULL");
  assert_call (menu, "append", "(@ms nothing, 'app.quit')", "NULL");
  assert_call (menu, "get_n_items", NULL, "2");

  /* strv in and out */
  assert_call (info, "set_attribute_stringv", "('x::y', ['a', 'b'])", "NULL");
  assert_call (info, "get_attribute_stringv", "('x::y',)", "['a', 'b']");
  /* A strv that may not be empty */
  assert_call_fails (info, "set_attribute_stringv", "('x::y', @mas nothing)", MPEL_ERROR_INVALID_ARGS,
                     "“attr_value”");

  /* Integer widths, each way */
  assert_call (info, "set_attribute_uint32", "('x::u', int64 4000000000)", "NULL");
  assert_call (info, "get_attribute_uint32", "('x::u',)", "uint32 4000000000");
  assert_call_fails (info, "set_attribute_uint32", "('x::u', int64 -1)", MPEL_ERROR_INVALID_ARGS,
                     "“attr_value”");
  assert_call (info, "set_attribute_int64", "('x::x', -5)", "NULL");
  assert_call (info, "get_attribute_int64", "('x::x',)", "int64 -5");
  assert_call (info, "set_attribute_uint64", "('x::t', 7.0)", "NULL");
  assert_call (info, "get_attribute_uint64", "('x::t',)", "uint64 7");
  assert_call_fails (info, "set_attribute_int32", "('x::i', 2.5)", MPEL_ERROR_INVALID_ARGS, "2.5");
  assert_call (info, "set_size", "(int64 1234567890123,)", "NULL");
  assert_call (info, "get_size", NULL, "int64 1234567890123");
  assert_call (info, "set_is_hidden", "(true,)", "NULL");
  assert_call (info, "get_is_hidden", NULL, "true");

  /* Enums: nick or number in, nick out */
  assert_call (info, "set_file_type", "('directory',)", "NULL");
  assert_call (info, "get_file_type", NULL, "'directory'");
  assert_call (info, "set_file_type", "(uint32 1,)", "NULL");
  assert_call (info, "get_file_type", NULL, "'regular'");
  assert_call_fails (info, "set_file_type", "('nope',)", MPEL_ERROR_INVALID_ARGS, "“type”");

  /* Flags: nicks in and out */
  assert_call (app, "get_flags", NULL, "['handles-open', 'non-unique']");
  assert_call (app, "set_flags", "(['is-service'],)", "NULL");
  assert_call (app, "get_flags", NULL, "['is-service']");
  assert_call (app, "get_application_id", NULL, "'org.example.Test'");

  g_assert_finalize_object (g_steal_pointer (&action));
  g_assert_finalize_object (g_steal_pointer (&info));
  g_assert_finalize_object (g_steal_pointer (&menu));
  g_assert_finalize_object (g_steal_pointer (&app));
}

/* Objects cross by handle, in both directions, only with a mapper */
static void
test_objects (void)
{
  g_autoptr(GPtrArray) table = g_ptr_array_new_with_free_func (g_object_unref);
  MpelValueObjectMapper mapper = { table_object_to_handle, table_handle_to_object, table };
  g_autoptr(GObject) store = new_object ("Gio.ListStore", "{'item-type': <'GSimpleAction'>}");
  g_autoptr(GSimpleAction) a = g_simple_action_new ("a", NULL);
  g_autoptr(GObject) other = new_object ("Gio.Menu", NULL);
  g_autoptr(GObject) group = new_object ("Gio.SimpleActionGroup", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_ptr_array_add (table, g_object_ref (a));       /* handle 1 */
  g_ptr_array_add (table, g_object_ref (other));   /* handle 2 */

  text = call (store, "append", "(uint64 1,)", NULL, &mapper, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "NULL");
  g_clear_pointer (&text, g_free);
  g_assert_true (g_list_model_get_item (G_LIST_MODEL (store), 0) == (gpointer) a);
  g_object_unref (a);   /* the reference get_item() gave */

  /* A transfer-full object return; through the GListModel interface */
  text = call (store, "get_item", "(0,)", NULL, &mapper, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "uint64 1");
  g_clear_pointer (&text, g_free);
  text = call (store, "get_n_items", NULL, NULL, &mapper, &error);
  g_assert_cmpstr (text, ==, "uint32 1");
  g_clear_pointer (&text, g_free);
  /* A GType return */
  text = call (store, "get_item_type", NULL, NULL, &mapper, &error);
  g_assert_cmpstr (text, ==, "'GSimpleAction'");
  g_clear_pointer (&text, g_free);
  /* (nullable) object return */
  text = call (store, "get_item", "(5,)", NULL, &mapper, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "@mt nothing");
  g_clear_pointer (&text, g_free);

  /* Wrong class (the parameter is a GAction), unknown handle, no mapper */
  text = call (group, "add_action", "(uint64 2,)", NULL, &mapper, &error);
  g_assert_null (text);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "GMenu"));
  g_clear_error (&error);
  text = call (store, "append", "(uint64 9,)", NULL, &mapper, &error);
  g_assert_null (text);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT);
  g_clear_error (&error);
  text = call (store, "get_item", "(0,)", NULL, NULL, &error);
  g_assert_null (text);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  g_ptr_array_set_size (table, 0);
  g_assert_finalize_object (g_steal_pointer (&store));
  g_assert_finalize_object (g_steal_pointer (&a));
  g_assert_finalize_object (g_steal_pointer (&other));
  g_assert_finalize_object (g_steal_pointer (&group));
}

/* `throws`: the GError crosses with its domain and code; out arguments, a
 * C array with its length, a GCancellable. */
static void
test_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mpel-test-gi-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "a.txt", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) none = g_file_new_for_path (missing);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *text = NULL;
  gsize size;

  g_assert_true (g_file_set_contents (path, "hello", 5, &error));

  /* Gio.File is an interface of a class without a typelib (GLocalFile) */
  g_assert_false (_mpel_gi_call_method (G_OBJECT (none), "load_contents", NULL, NULL, NULL, &result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (result);
  g_clear_error (&error);

  /* The gboolean return is left out; the out arguments are (contents,
   * etag), the length of contents hidden in it. */
  g_assert_true (_mpel_gi_call_method (G_OBJECT (file), "load_contents", NULL, NULL, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "(ays)");
  g_variant_get (result, "(@ays)", &contents, &etag);
  g_assert_cmpmem (g_variant_get_fixed_array (contents, &size, 1), size, "hello", 5);
  g_assert_nonnull (etag);
  g_clear_pointer (&result, g_variant_unref);

  /* A C array with its length, in */
  text = call (G_OBJECT (file), "replace_contents",
               "(b'bye', @ms nothing, false, ['none'])", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, "('"));   /* (new etag,) */
  g_clear_pointer (&text, g_free);
  text = call (G_OBJECT (file), "load_contents", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "(b'bye', "));
  g_clear_pointer (&text, g_free);

  /* The cancellable is the caller's, and takes no argument */
  g_cancellable_cancel (cancellable);
  g_assert_false (_mpel_gi_call_method (G_OBJECT (file), "load_contents", NULL, cancellable, NULL,
                                        &result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  assert_call (file, "get_basename", NULL, "'a.txt'");
  assert_call (file, "query_exists", NULL, "true");
  /* A callback does not cross */
  assert_call_fails (file, "load_contents_async", NULL, MPEL_ERROR_INVALID_ARGS, "callback");
  /* Nor a GList: refused before the call, not after its effects */
  {
    g_autoptr(GResolver) resolver = g_resolver_get_default ();

    assert_call_fails (resolver, "lookup_by_name", "('localhost',)", MPEL_ERROR_INVALID_ARGS, "return value");
  }

  g_assert_no_errno (g_unlink (path));
  g_assert_no_errno (g_rmdir (dir));
}

static void
assert_read_bytes (GObject    *stream,
                   gint64      count,
                   const char *expected)
{
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new ("(x)", count));
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;

  g_assert_true (_mpel_gi_call_method (stream, "read_bytes", args, NULL, NULL, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ay");
  g_assert_cmpmem (g_variant_get_fixed_array (result, &size, 1), size, expected, strlen (expected));
}

/* GBytes in and out, a throwing method that returns gboolean */
static void
test_streams (void)
{
  g_autoptr(GObject) stream = new_object ("Gio.MemoryInputStream", NULL);

  assert_call (stream, "add_bytes", "([byte 0x61, 0x62, 0x63, 0x64, 0x65, 0x66],)", "NULL");
  assert_read_bytes (stream, 4, "abcd");
  assert_call (stream, "skip", "(1,)", "int64 1");
  assert_read_bytes (stream, 10, "f");
  assert_call (stream, "close", NULL, "NULL");
  assert_call_fails (stream, "read_bytes", "(-1,)", MPEL_ERROR_INVALID_ARGS, "“count”");

  g_assert_finalize_object (g_steal_pointer (&stream));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/GI/find-type", test_find_type);
  g_test_add_func ("/Mpel/GI/version/default", test_version_default);
  g_test_add_func ("/Mpel/GI/version/pinned", test_version_pinned);
  g_test_add_func ("/Mpel/GI/version/named", test_version_named);
  g_test_add_func ("/Mpel/GI/new-object", test_new_object);
  g_test_add_func ("/Mpel/GI/adjustment", test_adjustment);
  g_test_add_func ("/Mpel/GI/values", test_values);
  g_test_add_func ("/Mpel/GI/objects", test_objects);
  g_test_add_func ("/Mpel/GI/file", test_file);
  g_test_add_func ("/Mpel/GI/streams", test_streams);

  return g_test_run ();
}
