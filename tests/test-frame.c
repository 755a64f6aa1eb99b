/* test-frame.c: the envelope codec and errors across the wire
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "mpel-test-util.h"
#include "mpel-frame-private.h"

static GVariant *
make_meta (guint n)
{
  GVariantDict dict;

  if (n == 0)
    return NULL;

  g_variant_dict_init (&dict, NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("key%u", i);
      g_variant_dict_insert (&dict, key, "u", i);
    }
  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

static GBytes *
aligned_bytes (const void *data,
               gsize       size)
{
  /* g_malloc () memory is aligned enough for GVariant. */
  return g_bytes_new (data, size);
}

/* The hand-written encoder must produce exactly what GLib's serialiser
 * produces, across the framing-offset size boundaries. */
static void
test_envelope_matches_glib (void)
{
  const gsize name_lengths[] = { 0, 1, 7, 8, 200, 300 };
  const gsize body_lengths[] = { 0, 1, 4, 100, 240, 250, 260, 65000, 65530, 65600, 300000 };

  for (guint n = 0; n < G_N_ELEMENTS (name_lengths); n++)
    for (guint b = 0; b < G_N_ELEMENTS (body_lengths); b++)
      for (guint m = 0; m < 3; m++)
        {
          g_autofree char *name = g_strnfill (name_lengths[n], 'n');
          g_autofree guint8 *blob = g_malloc0 (body_lengths[b] + 1);
          g_autoptr(GVariant) body = NULL;
          g_autoptr(GVariant) meta = make_meta (m * 2);
          g_autoptr(GVariant) expected = NULL;
          g_autofree guint8 *mine = NULL;
          gsize size;

          for (gsize i = 0; i < body_lengths[b]; i++)
            blob[i] = i * 31;
          body = g_variant_ref_sink (g_variant_new ("(s@ay)", "arg",
                                                    g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob,
                                                                               body_lengths[b], 1)));
          expected = g_variant_ref_sink (g_variant_new ("(yutsv@a{sv})",
                                                        (guint8) MPEL_FRAME_CALL,
                                                        (guint32) 0xdeadbeef,
                                                        (guint64) G_GUINT64_CONSTANT (0x0102030405060708),
                                                        name, body,
                                                        meta ? meta : g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)));

          size = _mpel_envelope_size (name, body, meta);
          g_assert_cmpuint (size, ==, g_variant_get_size (expected));
          mine = g_malloc (size);
          _mpel_envelope_write (mine, size, MPEL_FRAME_CALL, 0xdeadbeef,
                               G_GUINT64_CONSTANT (0x0102030405060708), name, body, meta);
          g_assert_cmpmem (mine, size, g_variant_get_data (expected), size);
        }
}

/* kwargs of about @size bytes: one ay entry */
static GVariant *
make_kwargs (gsize size)
{
  g_autofree guint8 *blob = g_malloc0 (size + 1);
  GVariantBuilder builder;

  for (gsize i = 0; i < size; i++)
    blob[i] = i * 7;
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "blob",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob, size, 1));
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* The meta of a CALL written from its parts is what GLib makes of the same
 * a{sv}, across the framing-offset boundaries of the entries and of the
 * array, and the envelope around it too; the worker's lookups find both
 * values. */
static void
test_call_meta_matches_glib (void)
{
  const gssize kwargs_sizes[] = { -1, 0, 1, 200, 229, 230, 240, 250, 255, 65480, 65500, 65530, 70000 };
  const guint32 timeouts[] = { 0, 1, 30000, G_MAXUINT32 };

  for (guint k = 0; k < G_N_ELEMENTS (kwargs_sizes); k++)
    for (guint t = 0; t < G_N_ELEMENTS (timeouts); t++)
      {
        g_autoptr(GVariant) kwargs = kwargs_sizes[k] >= 0 ? make_kwargs (kwargs_sizes[k]) : NULL;
        g_autoptr(GVariant) expected = NULL;
        g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(ii)", 1, 2));
        g_autofree guint8 *mine = NULL;
        g_autofree guint8 *envelope = NULL;
        g_autofree guint8 *expected_envelope = NULL;
        MpelEnvelopeLayout layout;
        GVariantBuilder builder;
        gsize size;

        g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
        if (kwargs != NULL)
          g_variant_builder_add (&builder, "{sv}", "kwargs", kwargs);
        if (timeouts[t] > 0)
          g_variant_builder_add (&builder, "{sv}", "timeout", g_variant_new_uint32 (timeouts[t]));
        expected = g_variant_ref_sink (g_variant_builder_end (&builder));

        size = _mpel_call_meta_size (kwargs, timeouts[t]);
        if (kwargs == NULL && timeouts[t] == 0)
          {
            g_assert_cmpuint (size, ==, 0);
            continue;
          }
        g_assert_cmpuint (size, ==, g_variant_get_size (expected));
        mine = g_malloc (size);
        _mpel_call_meta_write (mine, size, kwargs, timeouts[t]);
        g_assert_cmpmem (mine, size, g_variant_get_data (expected), size);

        /* The whole envelope */
        _mpel_envelope_layout_call (&layout, "target", body, kwargs, timeouts[t]);
        g_assert_cmpuint (layout.total, ==, _mpel_envelope_size ("target", body, expected));
        envelope = g_malloc (layout.total);
        _mpel_envelope_write_layout (envelope, &layout, MPEL_FRAME_CALL, 0, 42);
        expected_envelope = g_malloc (layout.total);
        _mpel_envelope_write (expected_envelope, layout.total, MPEL_FRAME_CALL, 0, 42, "target", body, expected);
        g_assert_cmpmem (envelope, layout.total, expected_envelope, layout.total);

        /* What the worker reads from it */
        {
          g_autoptr(GBytes) bytes = g_bytes_new (envelope, layout.total);
          g_autoptr(GError) error = NULL;
          g_autoptr(GVariant) got_kwargs = NULL;
          MpelFrame frame;
          guint32 timeout = 0;

          g_assert_true (_mpel_envelope_parse (bytes, &frame, &error));
          g_assert_no_error (error);
          g_assert_nonnull (_mpel_frame_get_meta (&frame));
          got_kwargs = g_variant_lookup_value (_mpel_frame_get_meta (&frame), "kwargs", G_VARIANT_TYPE_VARDICT);
          g_assert_true (kwargs == NULL ? got_kwargs == NULL : g_variant_equal (got_kwargs, kwargs));
          g_assert_true (g_variant_lookup (_mpel_frame_get_meta (&frame), "timeout", "u", &timeout) == (timeouts[t] > 0));
          g_assert_cmpuint (timeout, ==, timeouts[t]);
          _mpel_frame_clear (&frame);
        }
      }
}

static void
test_envelope_round_trip (void)
{
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(ii)", 3, 4));
  g_autoptr(GVariant) meta = make_meta (3);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = NULL;
  MpelFrame frame;
  gsize size;

  size = _mpel_envelope_size ("add_vals", body, meta);
  buf = g_malloc (size);
  _mpel_envelope_write (buf, size, MPEL_FRAME_CALL, 1, 42, "add_vals", body, meta);
  bytes = aligned_bytes (buf, size);

  g_assert_true (_mpel_envelope_parse (bytes, &frame, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (frame.kind, ==, MPEL_FRAME_CALL);
  g_assert_cmpuint (frame.flags, ==, 1);
  g_assert_cmpuint (frame.id, ==, 42);
  g_assert_cmpstr (frame.name, ==, "add_vals");
  g_assert_true (g_variant_equal (frame.body, body));
  g_assert_true (g_variant_equal (_mpel_frame_get_meta (&frame), meta));
  _mpel_frame_clear (&frame);

  /* No body and no meta. */
  g_clear_pointer (&buf, g_free);
  g_clear_pointer (&bytes, g_bytes_unref);
  size = _mpel_envelope_size (NULL, NULL, NULL);
  buf = g_malloc (size);
  _mpel_envelope_write (buf, size, MPEL_FRAME_STOP, 0, 0, NULL, NULL, NULL);
  bytes = aligned_bytes (buf, size);
  g_assert_true (_mpel_envelope_parse (bytes, &frame, &error));
  g_assert_cmpuint (frame.kind, ==, MPEL_FRAME_STOP);
  g_assert_cmpstr (frame.name, ==, "");
  g_assert_null (_mpel_frame_get_meta (&frame));
  g_assert_cmpstr (g_variant_get_type_string (frame.body), ==, "()");
  _mpel_frame_clear (&frame);
}

/* Random damage to valid envelopes is either parsed or refused with a
 * protocol error; never a crash, never another kind of error. */
static void
test_envelope_mutations (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261123);
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(sia{sv}ay)", "hello", 7, NULL, NULL));
  g_autoptr(GVariant) meta = make_meta (2);
  gsize size = _mpel_envelope_size ("target", body, meta);
  g_autofree guint8 *good = g_malloc (size);
  guint n_ok = 0, n_refused = 0;

  _mpel_envelope_write (good, size, MPEL_FRAME_RETURN, 0, 9, "target", body, meta);

  for (guint i = 0; i < 20000; i++)
    {
      g_autofree guint8 *bad = g_memdup2 (good, size);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      gsize bad_size = size;
      guint n_flips = g_rand_int_range (rand, 1, 6);
      MpelFrame frame;

      for (guint f = 0; f < n_flips; f++)
        bad[g_rand_int_range (rand, 0, size)] = g_rand_int_range (rand, 0, 256);
      if (g_rand_boolean (rand))
        bad_size = g_rand_int_range (rand, 0, size + 1);

      bytes = aligned_bytes (bad, bad_size);
      if (_mpel_envelope_parse (bytes, &frame, &error))
        {
          /* Whatever parsed must be usable. */
          g_autofree char *printed = g_variant_print (frame.body, TRUE);

          g_assert_nonnull (printed);
          if (_mpel_frame_get_meta (&frame) != NULL)
            {
              g_autoptr(GVariant) key0 = g_variant_lookup_value (_mpel_frame_get_meta (&frame), "key0", NULL);
              (void) key0;
            }
          _mpel_frame_clear (&frame);
          n_ok++;
        }
      else
        {
          g_assert_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
          n_refused++;
        }
    }

  g_assert_cmpuint (n_ok + n_refused, ==, 20000);
  g_assert_cmpuint (n_refused, >, 0);
}

/* A meta of @n_before u entries, then "kwargs" (an a{sv} with one ay of
 * @len bytes) unless @kwargs_type is NULL (then none), then @n_after. */
static GVariant *
make_kwargs_meta (guint       n_before,
                  const char *kwargs_type,
                  gsize       len,
                  guint       n_after)
{
  GVariantBuilder builder;
  g_autofree guint8 *blob = g_malloc0 (len);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; i < n_before; i++)
    g_variant_builder_add (&builder, "{sv}", i % 2 ? "kwarg" : "kwargss", g_variant_new_uint32 (i));
  if (g_strcmp0 (kwargs_type, "a{sv}") == 0)
    {
      GVariantBuilder inner;

      g_variant_builder_init (&inner, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&inner, "{sv}", "blob",
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob, len, 1));
      g_variant_builder_add (&inner, "{sv}", "n", g_variant_new_int32 (-5));
      g_variant_builder_add (&builder, "{sv}", "kwargs", g_variant_builder_end (&inner));
    }
  else if (kwargs_type != NULL)
    g_variant_builder_add (&builder, "{sv}", "kwargs", g_variant_new_string ("not a dict"));
  for (guint i = 0; i < n_after; i++)
    g_variant_builder_add (&builder, "{sv}", "kwargs", g_variant_new_uint32 (i));

  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* The hand-written lookup finds what g_variant_lookup_value () finds, in
 * bytes from the peer, across the framing-offset size boundaries. */
static void
test_vardict_lookup_matches_glib (void)
{
  const gsize lengths[] = { 0, 1, 180, 250, 65400, 65600 };
  const char *types[] = { "a{sv}", "s", NULL };

  for (guint l = 0; l < G_N_ELEMENTS (lengths); l++)
    for (guint t = 0; t < G_N_ELEMENTS (types); t++)
      for (guint before = 0; before < 3; before++)
        for (guint after = 0; after < 2; after++)
          {
            g_autoptr(GVariant) tree = make_kwargs_meta (before, types[t], lengths[l], after);
            g_autoptr(GBytes) bytes = aligned_bytes (g_variant_get_data (tree), g_variant_get_size (tree));
            g_autoptr(GVariant) meta = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT,
                                                                                    bytes, FALSE));
            g_autoptr(GVariant) expected = g_variant_lookup_value (meta, "kwargs", G_VARIANT_TYPE_VARDICT);
            g_autoptr(GVariant) found = _mpel_vardict_lookup (meta, "kwargs", G_VARIANT_TYPE_VARDICT);
            g_autoptr(GVariant) none = _mpel_vardict_lookup (meta, "kwarg", G_VARIANT_TYPE_VARDICT);

            if (expected == NULL)
              g_assert_null (found);
            else
              {
                g_assert_nonnull (found);
                g_assert_true (g_variant_equal (found, expected));
              }
            g_assert_null (none);
          }
}

/* Random damage to a meta gives NULL or a value GLib can read; never a
 * read out of bounds (valgrind checks). */
static void
test_vardict_lookup_mutations (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261201);
  g_autoptr(GVariant) tree = make_kwargs_meta (2, "a{sv}", 40, 1);
  gsize size = g_variant_get_size (tree);
  guint n_found = 0;

  for (guint i = 0; i < 20000; i++)
    {
      g_autofree guint8 *bad = g_memdup2 (g_variant_get_data (tree), size);
      gsize bad_size = g_rand_boolean (rand) ? size : (gsize) g_rand_int_range (rand, 0, size + 1);
      guint n_flips = g_rand_int_range (rand, 1, 4);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GVariant) meta = NULL;
      g_autoptr(GVariant) found = NULL;

      for (guint f = 0; f < n_flips; f++)
        bad[g_rand_int_range (rand, 0, size)] = g_rand_int_range (rand, 0, 256);
      bytes = aligned_bytes (bad, bad_size);
      meta = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
      found = _mpel_vardict_lookup (meta, "kwargs", G_VARIANT_TYPE_VARDICT);
      if (found != NULL)
        {
          g_autofree char *printed = g_variant_print (found, TRUE);

          g_assert_true (g_variant_is_of_type (found, G_VARIANT_TYPE_VARDICT));
          g_assert_nonnull (printed);
          n_found++;
        }
    }

  /* Most damage misses the kwargs entry. */
  g_assert_cmpuint (n_found, >, 0);
}

/* A CALL envelope with @meta, parsed: its kwargs looked up where they lie
 * in the frame are what GLib finds in the meta. */
static void
test_frame_lookup_meta_matches_glib (void)
{
  const gsize lengths[] = { 0, 1, 180, 250, 65400, 65600 };
  const char *types[] = { "a{sv}", "s", NULL };
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(ii)", 3, 4));

  for (guint l = 0; l < G_N_ELEMENTS (lengths); l++)
    for (guint t = 0; t < G_N_ELEMENTS (types); t++)
      for (guint before = 0; before < 3; before++)
        {
          g_autoptr(GVariant) meta = make_kwargs_meta (before, types[t], lengths[l], 1);
          gsize size = _mpel_envelope_size ("t", body, meta);
          g_autofree guint8 *buf = g_malloc (size);
          g_autoptr(GBytes) bytes = NULL;
          g_autoptr(GVariant) expected = g_variant_lookup_value (meta, "kwargs", G_VARIANT_TYPE_VARDICT);
          g_autoptr(GVariant) found = NULL;
          g_autoptr(GVariant) none = NULL;
          MpelFrame frame;

          _mpel_envelope_write (buf, size, MPEL_FRAME_CALL, 0, 1, "t", body, meta);
          bytes = aligned_bytes (buf, size);
          g_assert_true (_mpel_envelope_parse (bytes, &frame, NULL));
          found = _mpel_frame_lookup_meta (&frame, "kwargs", G_VARIANT_TYPE_VARDICT);
          none = _mpel_frame_lookup_meta (&frame, "kwarg", G_VARIANT_TYPE_VARDICT);
          /* Nothing made a GVariant of the whole meta */
          g_assert_null (frame.meta);
          _mpel_frame_clear (&frame);

          if (expected == NULL)
            g_assert_null (found);
          else
            {
              g_assert_nonnull (found);
              g_assert_true (g_variant_equal (found, expected));
            }
          g_assert_null (none);
        }
}

/* Any key, any type: _mpel_vardict_lookup_any () finds what GLib finds,
 * across the framing-offset size boundaries, and says absent otherwise. */
static void
test_vardict_lookup_any_matches_glib (void)
{
  const gsize lengths[] = { 0, 1, 200, 300, 65400, 70000 };

  for (guint l = 0; l < G_N_ELEMENTS (lengths); l++)
    {
      g_autofree guint8 *blob = g_malloc0 (lengths[l]);
      g_autoptr(GVariant) tree = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GVariant) dict = NULL;
      const char *keys[] = { "i", "s", "blob", "nested", "v", "t", "", "absent" };
      GVariant *value = NULL;
      GVariantBuilder builder;

      g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&builder, "{sv}", "i", g_variant_new_int32 (-7));
      g_variant_builder_add (&builder, "{sv}", "s", g_variant_new_string ("ünïcode"));
      g_variant_builder_add (&builder, "{sv}", "blob",
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob, lengths[l], 1));
      g_variant_builder_add (&builder, "{sv}", "nested", g_variant_new_parsed ("{'a': <(1, 'x')>}"));
      g_variant_builder_add (&builder, "{sv}", "v", g_variant_new_variant (g_variant_new_boolean (TRUE)));
      g_variant_builder_add (&builder, "{sv}", "t", g_variant_new_uint64 (G_MAXUINT64));
      g_variant_builder_add (&builder, "{sv}", "", g_variant_new_double (0.5));
      /* A second entry of a key: the first one counts, as in GLib */
      g_variant_builder_add (&builder, "{sv}", "i", g_variant_new_string ("second"));
      tree = g_variant_ref_sink (g_variant_builder_end (&builder));
      bytes = aligned_bytes (g_variant_get_data (tree), g_variant_get_size (tree));
      dict = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));

      g_assert_true (_mpel_vardict_check (dict));
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          g_autoptr(GVariant) expected = g_variant_lookup_value (dict, keys[k], NULL);
          MpelVardictResult result = _mpel_vardict_lookup_any (dict, keys[k], &value);

          if (expected == NULL)
            {
              g_assert_cmpint (result, ==, MPEL_VARDICT_ABSENT);
              g_assert_null (value);
            }
          else
            {
              g_assert_cmpint (result, ==, MPEL_VARDICT_FOUND);
              g_assert_false (g_variant_is_floating (value));
              g_assert_true (g_variant_equal (value, expected));
              g_clear_pointer (&value, g_variant_unref);
            }
        }
    }
}

/* A dict whose framing does not hold fails the check, and the look-ups
 * in it say so or find a value GLib can read; never a read out of bounds
 * (valgrind checks). The good one passes. */
static void
test_vardict_check_mutations (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261202);
  g_autoptr(GVariant) tree = g_variant_ref_sink (g_variant_new_parsed (
    "{'scale': <2>, 'label': <'bench'>, 'exact': <true>, 'list': <[1, 2, 3]>}"));
  gsize size = g_variant_get_size (tree);
  guint n_refused = 0, n_passed = 0;

  {
    g_autoptr(GBytes) bytes = aligned_bytes (g_variant_get_data (tree), size);
    g_autoptr(GVariant) dict = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));

    g_assert_true (_mpel_vardict_check (dict));
  }

  for (guint i = 0; i < 20000; i++)
    {
      g_autofree guint8 *bad = g_memdup2 (g_variant_get_data (tree), size);
      gsize bad_size = g_rand_boolean (rand) ? size : (gsize) g_rand_int_range (rand, 0, size + 1);
      guint n_flips = g_rand_int_range (rand, 1, 4);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GVariant) dict = NULL;
      const char *keys[] = { "scale", "label", "exact", "list" };

      for (guint f = 0; f < n_flips; f++)
        bad[g_rand_int_range (rand, 0, size)] = g_rand_int_range (rand, 0, 256);
      bytes = aligned_bytes (bad, bad_size);
      dict = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));

      if (!_mpel_vardict_check (dict))
        {
          n_refused++;
          continue;
        }
      n_passed++;
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          g_autoptr(GVariant) value = NULL;

          /* Framing that holds leaves nothing malformed to find */
          g_assert_cmpint (_mpel_vardict_lookup_any (dict, keys[k], &value), !=, MPEL_VARDICT_MALFORMED);
          if (value != NULL)
            {
              g_autofree char *printed = g_variant_print (value, TRUE);

              g_assert_true (g_variant_type_is_definite (g_variant_get_type (value)));
              g_assert_nonnull (printed);
            }
        }
    }

  g_assert_cmpuint (n_refused, >, 0);
  g_assert_cmpuint (n_passed, >, 0);

  /* A key that is not UTF-8 */
  {
    g_autoptr(GVariant) good = g_variant_ref_sink (g_variant_new_parsed ("{'kx': <1>}"));
    g_autofree guint8 *data = g_memdup2 (g_variant_get_data (good), g_variant_get_size (good));
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GVariant) dict = NULL;
    guint8 *key = memmem (data, g_variant_get_size (good), "kx", 2);

    key[1] = 0xff;
    bytes = aligned_bytes (data, g_variant_get_size (good));
    dict = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
    g_assert_false (_mpel_vardict_check (dict));
  }
}

static void
test_error_round_trip (void)
{
  g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
  g_autoptr(GVariant) body = g_variant_ref_sink (_mpel_error_to_variant (error));
  g_autoptr(GError) copy = _mpel_error_from_variant (body);
  g_autoptr(GVariant) wrong = g_variant_ref_sink (g_variant_new ("(s)", "x"));
  g_autoptr(GError) protocol = _mpel_error_from_variant (wrong);

  g_assert_error (copy, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (copy->message, ==, "gone");
  g_assert_error (protocol, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Frame/envelope/matches-glib", test_envelope_matches_glib);
  g_test_add_func ("/Mpel/Frame/envelope/round-trip", test_envelope_round_trip);
  g_test_add_func ("/Mpel/Frame/call-meta/matches-glib", test_call_meta_matches_glib);
  g_test_add_func ("/Mpel/Frame/envelope/mutations", test_envelope_mutations);
  g_test_add_func ("/Mpel/Frame/error/round-trip", test_error_round_trip);
  g_test_add_func ("/Mpel/Frame/vardict-lookup/matches-glib", test_vardict_lookup_matches_glib);
  g_test_add_func ("/Mpel/Frame/vardict-lookup/mutations", test_vardict_lookup_mutations);
  g_test_add_func ("/Mpel/Frame/vardict-lookup/any-matches-glib", test_vardict_lookup_any_matches_glib);
  g_test_add_func ("/Mpel/Frame/vardict-check/mutations", test_vardict_check_mutations);
  g_test_add_func ("/Mpel/Frame/lookup-meta/matches-glib", test_frame_lookup_meta_matches_glib);

  return g_test_run ();
}
