/* test-connection.c: moving frames: order, coalescing, end of input,
 * hostile bytes, the batch a handler stops and the peer's frame limit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpel-test-peer.h"

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

/* A handler that returns FALSE ends the batch: the frames already read
 * wait for the next dispatch, and none is lost. */
static void
test_connection_stop_batch (void)
{
  g_autoptr(MpelConnection) conn = NULL;
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(i)", 1));
  guint8 buf[1024] = { 0 };
  gsize n = 0;
  int sv[2];
  Peer peer;

  /* Three frames in the socket before the connection reads: one read
   * takes them all. */
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  for (guint64 id = 1; id <= 3; id++)
    n += write_frame_bytes (buf + n, MPEL_FRAME_RETURN, id, "", body);
  g_assert_cmpint (write (sv[1], buf, n), ==, (gssize) n);

  peer_init (&peer);
  peer.stop_at = 1;
  conn = mpel_connection_new (sv[0], NULL, peer_frame, peer_closed, &peer);

  test_iterate_until (peer.frames->len > 0);
  g_assert_cmpuint (peer.frames->len, ==, 1);
  g_assert_false (mpel_connection_is_closed (conn));

  test_iterate_until (peer.frames->len == 3);
  for (guint i = 0; i < 3; i++)
    {
      guint64 id;

      g_variant_get (g_ptr_array_index (peer.frames, i), "(yt&s@*)", NULL, &id, NULL, NULL);
      g_assert_cmpuint (id, ==, i + 1);
    }
  g_assert_false (peer.closed);

  close (sv[1]);
  test_iterate_until (peer.closed);
  g_assert_no_error (peer.closed_error);
  peer_clear (&peer);
}

/* An ay whose envelope (no name, no metadata) is @frame_size bytes. */
static GVariant *
bytes_of_frame_size (gsize frame_size)
{
  g_autofree guint8 *blob = g_malloc0 (frame_size);

  for (gsize n = 0; n < frame_size; n++)
    {
      g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                blob, n, 1));

      if (mpel_envelope_size (NULL, body, NULL) == frame_size)
        return g_steal_pointer (&body);
    }

  g_assert_not_reached ();
}

/* Envelopes of an ay are 4 bytes past a multiple of 8. */
#define PEER_MAX_FRAME 1028

/* The peer's HELLO says how large a frame it takes: larger ones go to it
 * in a shared buffer, and arrive as they were. */
static void
test_connection_peer_max_frame (void)
{
  g_autoptr(MpelConnection) a = NULL;
  g_autoptr(MpelConnection) b = NULL;
  g_autoptr(GVariant) at_limit = bytes_of_frame_size (PEER_MAX_FRAME);
  g_autoptr(GVariant) over_limit = bytes_of_frame_size (4 * 1024 + 4);
  g_auto(GVariantDict) hello = G_VARIANT_DICT_INIT (NULL);
  Peer pa, pb;

  g_assert_cmpuint (mpel_envelope_size (NULL, at_limit, NULL), ==, PEER_MAX_FRAME);

  peer_init (&pa);
  peer_init (&pb);
  make_pair (&a, &pa, &b, &pb);

  /* Before the HELLO, our own limit holds: inline. */
  g_assert_true (mpel_connection_send (a, MPEL_FRAME_ITEM, 0, 1, NULL, over_limit, NULL, NULL));
  g_assert_cmpuint (mpel_connection_get_n_queued (a), >, 4096);
  test_iterate_until (pb.frames->len == 1);

  g_variant_dict_insert (&hello, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
  g_variant_dict_insert (&hello, "max-frame", "u", (guint32) PEER_MAX_FRAME);
  g_assert_true (mpel_connection_send (b, MPEL_FRAME_HELLO, 0, 0, "peer", g_variant_dict_end (&hello), NULL, NULL));
  test_iterate_until (pa.frames->len == 1);

  /* At the limit: inline; over it: a descriptor only. */
  g_assert_true (mpel_connection_send (a, MPEL_FRAME_ITEM, 0, 2, NULL, at_limit, NULL, NULL));
  g_assert_cmpuint (mpel_connection_get_n_queued (a), ==, 8 + PEER_MAX_FRAME + 4);
  test_iterate_until (mpel_connection_get_n_queued (a) == 0);
  g_assert_true (mpel_connection_send (a, MPEL_FRAME_ITEM, 0, 3, NULL, over_limit, NULL, NULL));
  g_assert_cmpuint (mpel_connection_get_n_queued (a), <, 200);

  test_iterate_until (pb.frames->len == 3);
  for (guint i = 1; i < 3; i++)
    {
      g_autoptr(GVariant) got = NULL;
      guint64 id;

      g_variant_get (g_ptr_array_index (pb.frames, i), "(yt&s@*)", NULL, &id, NULL, &got);
      g_assert_cmpuint (id, ==, i + 1);
      g_assert_true (g_variant_equal (got, i == 1 ? at_limit : over_limit));
    }
  g_assert_false (pb.closed);

  peer_clear (&pa);
  peer_clear (&pb);
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
  n = write_frame_bytes (buf, MPEL_FRAME_RETURN, 1, "", body);
  expect_protocol_error (buf, n - 9, -1, TRUE, 0);

  /* An unknown kind */
  n = write_frame_bytes (buf, 99, 1, "", body);
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

    n = write_frame_bytes (buf, MPEL_FRAME_RETURN, 1, "", body);
    /* The frame itself is fine and arrives; the stray fd is the error. */
    expect_protocol_error (buf, n, fd, FALSE, 1);
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

  g_test_add_func ("/Mpel/Connection/frames", test_connection_frames);
  g_test_add_func ("/Mpel/Connection/stop-batch", test_connection_stop_batch);
  g_test_add_func ("/Mpel/Connection/peer-max-frame", test_connection_peer_max_frame);
  g_test_add_func ("/Mpel/Connection/hostile", test_connection_hostile);

  return g_test_run ();
}
