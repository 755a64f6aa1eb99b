/* test-wire.c: the frame codec and the connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpel-test-util.h"
#include "mpel-wire-private.h"

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

          size = mpel_envelope_size (name, body, meta);
          g_assert_cmpuint (size, ==, g_variant_get_size (expected));
          mine = g_malloc (size);
          mpel_envelope_write (mine, size, MPEL_FRAME_CALL, 0xdeadbeef,
                               G_GUINT64_CONSTANT (0x0102030405060708), name, body, meta);
          g_assert_cmpmem (mine, size, g_variant_get_data (expected), size);
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

  size = mpel_envelope_size ("add_vals", body, meta);
  buf = g_malloc (size);
  mpel_envelope_write (buf, size, MPEL_FRAME_CALL, 1, 42, "add_vals", body, meta);
  bytes = aligned_bytes (buf, size);

  g_assert_true (mpel_envelope_parse (bytes, &frame, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (frame.kind, ==, MPEL_FRAME_CALL);
  g_assert_cmpuint (frame.flags, ==, 1);
  g_assert_cmpuint (frame.id, ==, 42);
  g_assert_cmpstr (frame.name, ==, "add_vals");
  g_assert_true (g_variant_equal (frame.body, body));
  g_assert_true (g_variant_equal (frame.meta, meta));
  mpel_frame_clear (&frame);

  /* No body and no meta. */
  g_clear_pointer (&buf, g_free);
  g_clear_pointer (&bytes, g_bytes_unref);
  size = mpel_envelope_size (NULL, NULL, NULL);
  buf = g_malloc (size);
  mpel_envelope_write (buf, size, MPEL_FRAME_STOP, 0, 0, NULL, NULL, NULL);
  bytes = aligned_bytes (buf, size);
  g_assert_true (mpel_envelope_parse (bytes, &frame, &error));
  g_assert_cmpuint (frame.kind, ==, MPEL_FRAME_STOP);
  g_assert_cmpstr (frame.name, ==, "");
  g_assert_null (frame.meta);
  g_assert_cmpstr (g_variant_get_type_string (frame.body), ==, "()");
  mpel_frame_clear (&frame);
}

/* Random damage to valid envelopes is either parsed or refused with a
 * protocol error; never a crash, never another kind of error. */
static void
test_envelope_mutations (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261123);
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(sia{sv}ay)", "hello", 7, NULL, NULL));
  g_autoptr(GVariant) meta = make_meta (2);
  gsize size = mpel_envelope_size ("target", body, meta);
  g_autofree guint8 *good = g_malloc (size);
  guint n_ok = 0, n_refused = 0;

  mpel_envelope_write (good, size, MPEL_FRAME_RETURN, 0, 9, "target", body, meta);

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
      if (mpel_envelope_parse (bytes, &frame, &error))
        {
          /* Whatever parsed must be usable. */
          g_autofree char *printed = g_variant_print (frame.body, TRUE);

          g_assert_nonnull (printed);
          if (frame.meta != NULL)
            {
              g_autoptr(GVariant) key0 = g_variant_lookup_value (frame.meta, "key0", NULL);
              (void) key0;
            }
          mpel_frame_clear (&frame);
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

static void
test_error_round_trip (void)
{
  g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
  g_autoptr(GVariant) body = g_variant_ref_sink (mpel_error_to_variant (error));
  g_autoptr(GError) copy = mpel_error_from_variant (body);
  g_autoptr(GVariant) wrong = g_variant_ref_sink (g_variant_new ("(s)", "x"));
  g_autoptr(GError) protocol = mpel_error_from_variant (wrong);

  g_assert_error (copy, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (copy->message, ==, "gone");
  g_assert_error (protocol, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
}

/* Connections */

typedef struct
{
  GPtrArray *frames;   /* of GVariant envelopes, rebuilt for comparison */
  GError *closed_error;
  gboolean closed;
  guint n_batches;
} Peer;

static gboolean
peer_frame (MpelConnection *conn,
            MpelFrame      *frame,
            gpointer        user_data)
{
  Peer *peer = user_data;

  g_ptr_array_add (peer->frames,
                   g_variant_ref_sink (g_variant_new ("(yts@*)", frame->kind, frame->id, frame->name,
                                                      frame->body)));
  return TRUE;
}

static void
peer_closed (MpelConnection *conn,
             const GError   *error,
             gpointer        user_data)
{
  Peer *peer = user_data;

  peer->closed = TRUE;
  if (error != NULL)
    peer->closed_error = g_error_copy (error);
}

static void
peer_init (Peer *peer)
{
  memset (peer, 0, sizeof *peer);
  peer->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
}

static void
peer_clear (Peer *peer)
{
  g_ptr_array_unref (peer->frames);
  g_clear_error (&peer->closed_error);
}

static void
make_pair (MpelConnection **a,
           Peer            *pa,
           MpelConnection **b,
           Peer            *pb)
{
  int sv[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  *a = mpel_connection_new (sv[0], NULL, peer_frame, peer_closed, pa);
  *b = mpel_connection_new (sv[1], NULL, peer_frame, peer_closed, pb);
}

static void
test_connection_frames (void)
{
  g_autoptr(MpelConnection) a = NULL;
  g_autoptr(MpelConnection) b = NULL;
  Peer pa, pb;

  peer_init (&pa);
  peer_init (&pb);
  make_pair (&a, &pa, &b, &pb);

  for (guint i = 0; i < 5000; i++)
    g_assert_true (mpel_connection_send (a, MPEL_FRAME_CALL, 0, i + 1, "add",
                                         g_variant_new ("(ii)", i, 1), NULL, NULL));
  /* Coalesced: nothing is written until the context runs. */
  g_assert_cmpuint (mpel_connection_get_n_queued (a), >, 5000 * 8);

  test_iterate_until (pb.frames->len == 5000);
  for (guint i = 0; i < 5000; i++)
    {
      guint8 kind;
      guint64 id;
      const char *name;
      g_autoptr(GVariant) body = NULL;
      gint32 x, y;

      g_variant_get (g_ptr_array_index (pb.frames, i), "(yt&s@*)", &kind, &id, &name, &body);
      g_assert_cmpuint (kind, ==, MPEL_FRAME_CALL);
      g_assert_cmpuint (id, ==, i + 1);
      g_assert_cmpstr (name, ==, "add");
      g_variant_get (body, "(ii)", &x, &y);
      g_assert_cmpint (x, ==, (gint32) i);
    }

  /* EOF is reported once, without an error. */
  mpel_connection_close (a);
  test_iterate_until (pb.closed);
  g_assert_no_error (pb.closed_error);
  g_assert_false (pa.closed);

  peer_clear (&pa);
  peer_clear (&pb);
}

/* Large payloads travel as sealed memfds. */
static void
test_connection_memfd (void)
{
  g_autoptr(MpelConnection) a = NULL;
  g_autoptr(MpelConnection) b = NULL;
  g_autofree guint8 *blob = g_malloc (8 * 1024 * 1024);
  g_autoptr(GVariant) body = NULL;
  Peer pa, pb;

  for (gsize i = 0; i < 8 * 1024 * 1024; i++)
    blob[i] = i % 251;
  body = g_variant_ref_sink (g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob,
                                                                                  8 * 1024 * 1024, 1)));

  peer_init (&pa);
  peer_init (&pb);
  make_pair (&a, &pa, &b, &pb);

  g_assert_true (mpel_connection_send (a, MPEL_FRAME_CALL, 0, 1, "small", g_variant_new ("()"), NULL, NULL));
  g_assert_true (mpel_connection_send (a, MPEL_FRAME_CALL, 0, 2, "big", body, NULL, NULL));
  g_assert_true (mpel_connection_send (a, MPEL_FRAME_CALL, 0, 3, "small", g_variant_new ("()"), NULL, NULL));
  /* Descriptor only: the payload is in a shared buffer. */
  g_assert_cmpuint (mpel_connection_get_n_queued (a), <, 200);

  test_iterate_until (pb.frames->len == 3);
  {
    g_autoptr(GVariant) got = NULL;
    guint64 id;

    g_variant_get (g_ptr_array_index (pb.frames, 1), "(yt&s@*)", NULL, &id, NULL, &got);
    g_assert_cmpuint (id, ==, 2);
    g_assert_true (g_variant_equal (got, body));
  }

  peer_clear (&pa);
  peer_clear (&pb);
}

/* Shared buffers are reused from message to message, and a burst larger
 * than the pool still goes through. */
static void
test_connection_bulk_reuse (void)
{
  g_autoptr(MpelConnection) a = NULL;
  g_autoptr(MpelConnection) b = NULL;
  g_autofree guint8 *blob = g_malloc (1024 * 1024);
  Peer pa, pb;

  peer_init (&pa);
  peer_init (&pb);
  make_pair (&a, &pa, &b, &pb);

  for (guint round = 0; round < 3; round++)
    {
      guint base = pb.frames->len;

      /* One at a time, then five at once */
      for (guint i = 0; i < (round == 2 ? 5 : 1); i++)
        {
          memset (blob, round * 16 + i, 1024 * 1024);
          g_assert_true (mpel_connection_send (a, MPEL_FRAME_ITEM, 0, i + 1, NULL,
                                               g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob,
                                                                          1024 * 1024, 1),
                                               NULL, NULL));
        }
      test_iterate_until (pb.frames->len == base + (round == 2 ? 5 : 1));

      for (guint i = base; i < pb.frames->len; i++)
        {
          g_autoptr(GVariant) body = NULL;
          const guint8 *data;
          gsize n;

          g_variant_get (g_ptr_array_index (pb.frames, i), "(yt&s@*)", NULL, NULL, NULL, &body);
          data = g_variant_get_fixed_array (body, &n, 1);
          g_assert_cmpuint (n, ==, 1024 * 1024);
          g_assert_cmpuint (data[0], ==, round * 16 + (i - base));
          g_assert_cmpuint (data[n - 1], ==, round * 16 + (i - base));
        }
    }

  /* Replies flow the other way over the same kind of buffers. */
  g_assert_true (mpel_connection_send (b, MPEL_FRAME_ITEM, 0, 9, NULL,
                                       g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob,
                                                                  1024 * 1024, 1),
                                       NULL, NULL));
  test_iterate_until (pa.frames->len == 1);

  peer_clear (&pa);
  peer_clear (&pb);
}

/* A raw peer writes hostile bytes; the connection fails with a protocol
 * error and allocates nothing sized from the bad length. */
static void
expect_protocol_error (const void *bytes,
                       gsize       len,
                       int         fd_to_pass,
                       gboolean    close_after,
                       guint       n_good_frames)
{
  g_autoptr(MpelConnection) conn = NULL;
  int sv[2];
  Peer peer;

  peer_init (&peer);
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  conn = mpel_connection_new (sv[0], NULL, peer_frame, peer_closed, &peer);

  if (fd_to_pass >= 0)
    g_assert_cmpint (test_send_with_fd (sv[1], bytes, len, fd_to_pass), ==, (gssize) len);
  else
    g_assert_cmpint (write (sv[1], bytes, len), ==, (gssize) len);

  if (close_after)
    close (sv[1]);

  test_iterate_until (peer.closed);
  g_assert_error (peer.closed_error, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  g_assert_cmpuint (peer.frames->len, ==, n_good_frames);

  if (!close_after)
    close (sv[1]);
  peer_clear (&peer);
}

static gsize
write_frame_bytes (guint8     *dest,
                   guint8      kind,
                   const char *name,
                   GVariant   *body)
{
  gsize size = mpel_envelope_size (name, body, NULL);
  guint32 header[2] = { GUINT32_TO_LE (size), 0 };

  memcpy (dest, header, 8);
  mpel_envelope_write (dest + 8, size, kind, 0, 1, name, body, NULL);
  return 8 + ((size + 7) & ~7);
}

static void
test_connection_hostile (void)
{
  guint8 buf[4096] = { 0 };
  guint32 header[2];
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(i)", 1));
  gsize n;

  /* Garbage */
  for (guint i = 0; i < 64; i++)
    buf[i] = 0xA5 ^ i;
  expect_protocol_error (buf, 64, -1, FALSE, 0);

  /* A length over the limit, and 4 GiB */
  header[0] = GUINT32_TO_LE (MPEL_DEFAULT_MAX_FRAME + 8);
  header[1] = 0;
  expect_protocol_error (header, 8, -1, FALSE, 0);
  header[0] = GUINT32_TO_LE (G_MAXUINT32);
  expect_protocol_error (header, 8, -1, FALSE, 0);

  /* A truncated frame, then EOF */
  n = write_frame_bytes (buf, MPEL_FRAME_RETURN, "", body);
  expect_protocol_error (buf, n - 9, -1, TRUE, 0);

  /* An unknown kind */
  n = write_frame_bytes (buf, 99, "", body);
  expect_protocol_error (buf, n, -1, FALSE, 0);

  /* The wrong type: a valid GVariant that is not an envelope */
  {
    g_autoptr(GVariant) wrong = g_variant_ref_sink (g_variant_new ("(ss)", "not", "an envelope"));
    gsize size = g_variant_get_size (wrong);

    header[0] = GUINT32_TO_LE (size);
    header[1] = 0;
    memcpy (buf, header, 8);
    g_variant_store (wrong, buf + 8);
    expect_protocol_error (buf, 8 + ((size + 7) & ~7), -1, FALSE, 0);
  }

  /* An fd the header does not announce */
  {
    int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

    n = write_frame_bytes (buf, MPEL_FRAME_RETURN, "", body);
    /* The frame itself is fine and arrives; the stray fd is the error. */
    expect_protocol_error (buf, n, fd, FALSE, 1);
    close (fd);
  }

  /* Bulk descriptors: a shared buffer not sealed against shrinking (the
   * peer could truncate it under our mapping) */
  {
    int fd = memfd_create ("unsealed", MFD_CLOEXEC);
    guint32 bulk[6] = { 0, GUINT32_TO_LE (1), GUINT32_TO_LE (1), 0, GUINT32_TO_LE (64), 0 };

    g_assert_no_errno (ftruncate (fd, 4096));
    expect_protocol_error (bulk, sizeof bulk, fd, FALSE, 0);
    close (fd);
  }

  /* … announcing a descriptor that does not come */
  {
    guint32 bulk[6] = { 0, GUINT32_TO_LE (1), GUINT32_TO_LE (1), 0, GUINT32_TO_LE (64), 0 };

    expect_protocol_error (bulk, sizeof bulk, -1, FALSE, 0);
  }

  /* … naming a buffer never lent, handing back one never borrowed, with
   * unknown flags */
  {
    guint32 unknown[6] = { 0, 0, GUINT32_TO_LE (7), 0, GUINT32_TO_LE (64), 0 };
    guint32 release[6] = { 0, 0, GUINT32_TO_LE (7), GUINT32_TO_LE (2), 0, 0 };
    guint32 retire[6] = { 0, 0, GUINT32_TO_LE (7), GUINT32_TO_LE (4), 0, 0 };
    guint32 flags[6] = { 0, 0, GUINT32_TO_LE (7), GUINT32_TO_LE (64), GUINT32_TO_LE (64), 0 };

    expect_protocol_error (unknown, sizeof unknown, -1, FALSE, 0);
    expect_protocol_error (release, sizeof release, -1, FALSE, 0);
    expect_protocol_error (retire, sizeof retire, -1, FALSE, 0);
    expect_protocol_error (flags, sizeof flags, -1, FALSE, 0);
  }

  /* … a message longer than its buffer */
  {
    int fd = memfd_create ("small", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    guint32 bulk[6] = { 0, GUINT32_TO_LE (1), GUINT32_TO_LE (1), 0, GUINT32_TO_LE (8192), 0 };

    g_assert_no_errno (ftruncate (fd, 4096));
    g_assert_no_errno (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK));
    expect_protocol_error (bulk, sizeof bulk, fd, FALSE, 0);
    close (fd);
  }

  /* Descriptors announced in a way protocol 1 does not know */
  header[0] = GUINT32_TO_LE (16);
  header[1] = GUINT32_TO_LE (3);
  expect_protocol_error (header, 8, -1, FALSE, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Wire/envelope/matches-glib", test_envelope_matches_glib);
  g_test_add_func ("/Mpel/Wire/envelope/round-trip", test_envelope_round_trip);
  g_test_add_func ("/Mpel/Wire/envelope/mutations", test_envelope_mutations);
  g_test_add_func ("/Mpel/Wire/error/round-trip", test_error_round_trip);
  g_test_add_func ("/Mpel/Wire/connection/frames", test_connection_frames);
  g_test_add_func ("/Mpel/Wire/connection/memfd", test_connection_memfd);
  g_test_add_func ("/Mpel/Wire/connection/bulk-reuse", test_connection_bulk_reuse);
  g_test_add_func ("/Mpel/Wire/connection/hostile", test_connection_hostile);

  return g_test_run ();
}
