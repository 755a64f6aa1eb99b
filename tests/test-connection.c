/* test-connection.c: moving frames: order, coalescing, end of input,
 * hostile bytes, the batch a handler stops and the peer's frame limit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
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
    g_assert_true (_mpel_connection_send (a, MPEL_FRAME_CALL, 0, i + 1, "add",
                                         g_variant_new ("(ii)", i, 1), NULL, NULL));
  /* Coalesced: nothing is written until the context runs. */
  g_assert_cmpuint (_mpel_connection_get_n_queued (a), >, 5000 * 8);

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
  _mpel_connection_close (a);
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
  conn = _mpel_connection_new (sv[0], NULL, peer_frame, peer_closed, &peer);

  test_iterate_until (peer.frames->len > 0);
  g_assert_cmpuint (peer.frames->len, ==, 1);
  g_assert_false (_mpel_connection_is_closed (conn));

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

/* A peer that keeps the socket readable, one frame at a time: every frame
 * handled writes the next one, so that each dispatch drains the socket
 * quickly and finds it readable again on the next iteration. */
typedef struct
{
  int fd;
  GVariant *body;
  guint64 n_frames;
  guint64 n_at_redraw;
  gboolean out_of_order;
} Stream;

#define STREAM_MAX_FRAMES 20000

static gboolean
stream_frame (MpelConnection *conn,
              MpelFrame      *frame,
              gpointer        user_data)
{
  Stream *stream = user_data;
  guint8 buf[256];
  gsize n;

  stream->out_of_order |= frame->id != ++stream->n_frames;
  if (stream->n_frames < STREAM_MAX_FRAMES)
    {
      n = write_frame_bytes (buf, MPEL_FRAME_RETURN, stream->n_frames + 1, "", stream->body);
      g_assert_cmpint (write (stream->fd, buf, n), ==, (gssize) n);
    }
  return TRUE;
}

static void
stream_closed (MpelConnection *conn,
               const GError   *error,
               gpointer        user_data)
{
}

static gboolean
stream_redraw (gpointer user_data)
{
  Stream *stream = user_data;

  stream->n_at_redraw = stream->n_frames;
  return G_SOURCE_REMOVE;
}

/* The time budget covers a run of dispatches, not one: a stream whose every
 * dispatch is short still lets a source of lower priority (GTK's redraw)
 * run while it goes on, rather than only when it ends (or when one
 * dispatch happens to outlast the budget, preempted). A budget of 1 ms is
 * spent long before 20 000 frames, each a poll, a read and a write. */
static void
test_connection_budget_spans_dispatches (void)
{
  g_autoptr(MpelConnection) conn = NULL;
  g_autoptr(GSource) redraw = g_idle_source_new ();
  Stream stream = { -1, NULL, 0, 0, FALSE };
  guint8 buf[256];
  gsize n;
  int sv[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  stream.fd = sv[1];
  stream.body = g_variant_ref_sink (g_variant_new ("(i)", 1));
  conn = _mpel_connection_new (sv[0], NULL, stream_frame, stream_closed, &stream);
  _mpel_connection_set_budget (conn, 1000);

  n = write_frame_bytes (buf, MPEL_FRAME_RETURN, 1, "", stream.body);
  g_assert_cmpint (write (sv[1], buf, n), ==, (gssize) n);
  test_iterate_until (stream.n_frames > 0);

  /* GDK_PRIORITY_REDRAW */
  g_source_set_priority (redraw, G_PRIORITY_HIGH_IDLE + 20);
  g_source_set_callback (redraw, stream_redraw, &stream, NULL);
  g_source_attach (redraw, NULL);

  test_iterate_until (stream.n_at_redraw > 0 || stream.n_frames == STREAM_MAX_FRAMES);
  g_printerr ("at redraw %" G_GUINT64_FORMAT "\n", stream.n_at_redraw); /* TEMP */
  g_assert_cmpuint (stream.n_at_redraw, >, 0);
  g_assert_cmpuint (stream.n_at_redraw, <, STREAM_MAX_FRAMES);

  /* The stream goes on after the redraw, and nothing was lost. */
  test_iterate_until (stream.n_frames >= stream.n_at_redraw + 100);
  g_assert_false (stream.out_of_order);

  g_source_destroy (redraw);
  _mpel_connection_close (conn);
  close (sv[1]);
  g_variant_unref (stream.body);
}

/* An ay whose envelope (no name, no metadata) is the smallest one of at
 * least @frame_size bytes. */
static GVariant *
bytes_of_frame_size (gsize frame_size)
{
  g_autofree guint8 *blob = g_malloc0 (frame_size);

  for (gsize n = frame_size > 256 ? frame_size - 256 : 0; n < frame_size; n++)
    {
      g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                blob, n, 1));

      if (_mpel_envelope_size (NULL, body, NULL) >= frame_size)
        return g_steal_pointer (&body);
    }

  g_assert_not_reached ();
}

/* The least a peer may announce is 64 KiB. */
#define PEER_MAX_FRAME (64 * 1024 + 4)

/* The peer's HELLO says how large a frame it takes: larger ones go to it
 * in a shared buffer, and arrive as they were. */
static void
test_connection_peer_max_frame (void)
{
  g_autoptr(MpelConnection) a = NULL;
  g_autoptr(MpelConnection) b = NULL;
  g_autoptr(GVariant) at_limit = bytes_of_frame_size (PEER_MAX_FRAME);
  gsize peer_max_frame = _mpel_envelope_size (NULL, at_limit, NULL);
  g_autoptr(GVariant) over_limit = bytes_of_frame_size (128 * 1024 + 4);
  g_auto(GVariantDict) hello = G_VARIANT_DICT_INIT (NULL);
  Peer pa, pb;


  peer_init (&pa);
  peer_init (&pb);
  make_pair (&a, &pa, &b, &pb);

  /* Before the HELLO, our own limit holds: inline. */
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_ITEM, 0, 1, NULL, over_limit, NULL, NULL));
  g_assert_cmpuint (_mpel_connection_get_n_queued (a), >, 128 * 1024);
  test_iterate_until (pb.frames->len == 1);

  g_variant_dict_insert (&hello, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
  g_variant_dict_insert (&hello, "max-frame", "u", (guint32) peer_max_frame);
  g_assert_true (_mpel_connection_send (b, MPEL_FRAME_HELLO, 0, 0, "peer", g_variant_dict_end (&hello), NULL, NULL));
  test_iterate_until (pa.frames->len == 1);

  /* At the limit: inline; over it: a descriptor only. */
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_ITEM, 0, 2, NULL, at_limit, NULL, NULL));
  g_assert_cmpuint (_mpel_connection_get_n_queued (a), ==, 8 + MPEL_ALIGN8 (peer_max_frame));
  test_iterate_until (_mpel_connection_get_n_queued (a) == 0);
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_ITEM, 0, 3, NULL, over_limit, NULL, NULL));
  g_assert_cmpuint (_mpel_connection_get_n_queued (a), <, 200);

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

/* A HELLO whose max-frame is below the minimum is a protocol error that
 * says so. */
static void
test_connection_peer_max_frame_too_small (void)
{
  g_auto(GVariantDict) hello = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) body = NULL;
  guint8 buf[256] = { 0 };
  gsize n;

  g_variant_dict_insert (&hello, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
  g_variant_dict_insert (&hello, "max-frame", "u", (guint32) (MPEL_MIN_MAX_FRAME - 1));
  body = g_variant_ref_sink (g_variant_dict_end (&hello));
  n = write_frame_bytes (buf, MPEL_FRAME_HELLO, 0, "peer", body);
  expect_protocol_error (buf, n, -1, FALSE, 0);
}

/* What a peer with a shared output had queued but not written when it
 * went away arrives all the same, in order, after what it wrote. */
static void
test_connection_last_words (void)
{
  g_autoptr(MpelConnection) a = NULL;
  g_autoptr(MpelConnection) b = NULL;
  g_autoptr(GError) error = NULL;
  Peer pa, pb;

  peer_init (&pa);
  peer_init (&pb);
  make_pair (&a, &pa, &b, &pb);

  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_ITEM, 0, 1, NULL, g_variant_new ("(i)", 1), NULL, NULL));
  g_assert_true (_mpel_connection_share_output (a, &error));
  g_assert_no_error (error);
  g_assert_true (_mpel_connection_has_shared_output (a));
  test_iterate_until (pb.frames->len == 1);
  test_iterate_until (_mpel_connection_get_n_queued (a) == 0);

  /* Enough to reuse the region from its start several times over, the last
   * ones never written. */
  for (guint i = 2; i <= 30000; i++)
    {
      g_assert_true (_mpel_connection_send (a, MPEL_FRAME_ITEM, 0, i, NULL, g_variant_new ("(i)", i), NULL, NULL));
      if (i == 20000)
        test_iterate_until (pb.frames->len == 20000);
    }
  g_assert_cmpuint (_mpel_connection_get_n_queued (a), >, 0);
  _mpel_connection_close (a);

  test_iterate_until (pb.closed);
  g_assert_no_error (pb.closed_error);
  g_assert_cmpuint (pb.frames->len, ==, 30000);
  for (guint i = 0; i < pb.frames->len; i++)
    {
      guint64 id;

      g_variant_get (g_ptr_array_index (pb.frames, i), "(yt&s@*)", NULL, &id, NULL, NULL);
      g_assert_cmpuint (id, ==, i + 1);
    }

  peer_clear (&pa);
  peer_clear (&pb);
}

typedef struct
{
  guint64 base;
  guint64 committed;
} TestRegionHeader;

#define TEST_REGION_HEADER 64
#define TEST_REGION_SIZE   (TEST_REGION_HEADER + 1024 * 1024)

/* A LAST_WORDS descriptor for a region made by hand, with @data at the
 * start of its data, and the header given; then the peer hangs up after
 * @n_written bytes of @data that went through the socket. Returns the
 * frames that arrived, and whether the end was clean. */
static guint
hand_made_last_words (const guint8 *data,
                      gsize         len,
                      gsize         n_written,
                      guint64       base,
                      guint64       committed,
                      guint         seals,
                      gboolean     *clean)
{
  g_autoptr(MpelConnection) conn = NULL;
  guint32 words[6] = { 0, GUINT32_TO_LE (1), 0, GUINT32_TO_LE (MPEL_BULK_FLAG_LAST_WORDS),
                       GUINT32_TO_LE (TEST_REGION_SIZE), 0 };
  TestRegionHeader *header;
  guint8 *map;
  guint n_frames;
  int sv[2];
  int fd;
  Peer peer;

  fd = memfd_create ("test-last-words", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  g_assert_cmpint (fd, >=, 0);
  g_assert_no_errno (ftruncate (fd, TEST_REGION_SIZE));
  if (seals != 0)
    g_assert_no_errno (fcntl (fd, F_ADD_SEALS, seals));
  map = mmap (NULL, TEST_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  g_assert_true (map != MAP_FAILED);
  /* The descriptor is the first thing in the stream. */
  memcpy (map + TEST_REGION_HEADER, data, len);
  header = (TestRegionHeader *) (gpointer) map;
  header->base = base + sizeof words;
  header->committed = committed + sizeof words;

  peer_init (&peer);
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  conn = _mpel_connection_new (sv[0], NULL, peer_frame, peer_closed, &peer);
  g_assert_cmpint (test_send_with_fd (sv[1], words, sizeof words, fd), ==, sizeof words);
  close (fd);
  if (n_written > 0)
    g_assert_cmpint (write (sv[1], data, n_written), ==, (gssize) n_written);
  close (sv[1]);

  test_iterate_until (peer.closed);
  munmap (map, TEST_REGION_SIZE);
  *clean = peer.closed_error == NULL;
  if (!*clean)
    g_assert_error (peer.closed_error, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  n_frames = peer.frames->len;
  peer_clear (&peer);

  return n_frames;
}

/* A shared output is peer data like any other: a region that is not sealed
 * is refused; one whose header does not add up, or whose frames do not
 * parse, gives nothing beyond what was written, without an error; a frame
 * whose descriptor never came ends what is recovered. */
static void
test_connection_last_words_hostile (void)
{
  g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(i)", 1));
  guint8 data[1024] = { 0 };
  gsize one, n;
  gboolean clean;

  one = write_frame_bytes (data, MPEL_FRAME_RETURN, 1, "", body);
  n = one + write_frame_bytes (data + one, MPEL_FRAME_RETURN, 2, "", body);
  n += write_frame_bytes (data + n, MPEL_FRAME_RETURN, 3, "", body);

  /* Sound: one frame written, two recovered, even one half written */
  g_assert_cmpuint (hand_made_last_words (data, n, one, 0, n, F_SEAL_SHRINK, &clean), ==, 3);
  g_assert_true (clean);
  g_assert_cmpuint (hand_made_last_words (data, n, one + 5, 0, n, F_SEAL_SHRINK, &clean), ==, 3);
  g_assert_true (clean);

  /* Not sealed against shrinking */
  g_assert_cmpuint (hand_made_last_words (data, n, one, 0, n, 0, &clean), ==, 0);
  g_assert_false (clean);

  /* Headers that do not add up: committed before what was read, base past
   * it, more than the region holds, offsets near 2^64 */
  g_assert_cmpuint (hand_made_last_words (data, n, one, 0, one - 8, F_SEAL_SHRINK, &clean), ==, 1);
  g_assert_true (clean);
  g_assert_cmpuint (hand_made_last_words (data, n, one, one + 8, n, F_SEAL_SHRINK, &clean), ==, 1);
  g_assert_true (clean);
  g_assert_cmpuint (hand_made_last_words (data, n, one, 0, TEST_REGION_SIZE * 2, F_SEAL_SHRINK, &clean), ==, 1);
  g_assert_true (clean);
  g_assert_cmpuint (hand_made_last_words (data, n, one, G_MAXUINT64 - 100, G_MAXUINT64 - 8, F_SEAL_SHRINK, &clean), ==, 1);
  g_assert_true (clean);

  /* Garbage after the first recovered frame, and a length that runs past
   * the end */
  memset (data + 2 * one, 0xA5, n - 2 * one);
  g_assert_cmpuint (hand_made_last_words (data, n, one, 0, n, F_SEAL_SHRINK, &clean), ==, 2);
  g_assert_true (clean);

  /* A bulk descriptor whose memfd died with the peer */
  {
    guint32 words[6] = { 0, GUINT32_TO_LE (1), GUINT32_TO_LE (1), 0, GUINT32_TO_LE (100), 0 };

    n = write_frame_bytes (data, MPEL_FRAME_RETURN, 1, "", body);
    memcpy (data + n, words, sizeof words);
    n += sizeof words;
    n += write_frame_bytes (data + n, MPEL_FRAME_RETURN, 3, "", body);
    g_assert_cmpuint (hand_made_last_words (data, n, 0, 0, n, F_SEAL_SHRINK, &clean), ==, 1);
    g_assert_true (clean);
  }
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

/* ---- chunks over a byte stream ---- */

static GVariant *
big_bytes (gsize  size,
           guint8 seed)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7 + seed + (i >> 16));
  return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, size, TRUE, g_free, data);
}

static void
assert_frame (Peer       *peer,
              guint       index,
              guint8      kind,
              guint64     id,
              GVariant   *expected)
{
  guint8 got_kind;
  guint64 got_id;
  g_autoptr(GVariant) body = NULL;

  g_variant_get (g_ptr_array_index (peer->frames, index), "(yt&s@*)", &got_kind, &got_id, NULL, &body);
  g_assert_cmpuint (got_kind, ==, kind);
  g_assert_cmpuint (got_id, ==, id);
  if (expected != NULL && g_variant_is_of_type (expected, G_VARIANT_TYPE_BYTESTRING))
    {
      /* g_variant_equal() prints untrusted values to compare them. */
      gsize got_size, expected_size;
      gconstpointer got_data, expected_data;

      g_assert_true (g_variant_is_of_type (body, G_VARIANT_TYPE_BYTESTRING));
      got_data = g_variant_get_fixed_array (body, &got_size, 1);
      expected_data = g_variant_get_fixed_array (expected, &expected_size, 1);
      g_assert_cmpmem (got_data, got_size, expected_data, expected_size);
    }
  else if (expected != NULL)
    g_assert_true (g_variant_equal (body, expected));
}

/* Frames pass a large message between its chunks, except those that must
 * keep their order: the frames of the same event, and barriers (NOTIFY,
 * STOP, calls of remote objects and of the built-ins that manage them). */
static void
test_connection_chunks_interleave (void)
{
  g_autoptr(MpelConnection) a = NULL;
  g_autoptr(MpelConnection) b = NULL;
  g_autoptr(GVariant) big1 = g_variant_ref_sink (big_bytes (3 * 1024 * 1024 + 5, 1));
  g_autoptr(GVariant) big3 = g_variant_ref_sink (big_bytes (MPEL_CHUNK_SIZE + 1, 3));
  g_autoptr(GVariant) big5 = g_variant_ref_sink (big_bytes (1024 * 1024, 5));
  g_autoptr(GVariant) small = g_variant_ref_sink (g_variant_new ("(i)", 42));
  g_autoptr(GVariant) notify = g_variant_ref_sink (g_variant_new_parsed ("@a{sv} {'x': <1>}"));
  Peer pa, pb;

  peer_init (&pa);
  peer_init (&pb);
  make_stream_pair (&a, &pa, &b, &pb);

  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_RETURN, 0, 1, NULL, big1, NULL, NULL));
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_RETURN, 0, 2, NULL, small, NULL, NULL));
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_ITEM, 0, 3, NULL, big3, NULL, NULL));
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_RETURN, 0, 3, NULL, small, NULL, NULL));
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_RETURN, 0, 4, NULL, small, NULL, NULL));
  test_iterate_until (pb.frames->len == 5);

  assert_frame (&pb, 0, MPEL_FRAME_RETURN, 2, small);
  assert_frame (&pb, 1, MPEL_FRAME_RETURN, 4, small);
  assert_frame (&pb, 2, MPEL_FRAME_RETURN, 1, big1);
  assert_frame (&pb, 3, MPEL_FRAME_ITEM, 3, big3);
  assert_frame (&pb, 4, MPEL_FRAME_RETURN, 3, small);

  /* A NOTIFY waits, and so does everything after it. */
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_RETURN, 0, 5, NULL, big5, NULL, NULL));
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_NOTIFY, 0, 9, NULL, notify, NULL, NULL));
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_RETURN, 0, 6, NULL, small, NULL, NULL));
  /* Another call passes; a call of a remote object, or a release, waits,
   * and so does every call after them. */
  g_assert_true (_mpel_connection_send (b, MPEL_FRAME_CALL, 0, 7, "echo", g_variant_new ("(@ay)", big5), NULL, NULL));
  g_assert_true (_mpel_connection_send_call (b, 0, 11, "add", g_variant_new ("(ii)", 1, 2), NULL, 0, NULL));
  g_assert_true (_mpel_connection_send_call (b, 0, 8, "move", g_variant_new ("()"),
                                             g_variant_new_parsed ("@a{sv} {'mpel.object': <@t 1>}"), 0, NULL));
  g_assert_true (_mpel_connection_send (b, MPEL_FRAME_CALL, 0, 10, "mpel.release", g_variant_new_parsed ("(@at [],)"), NULL, NULL));
  g_assert_true (_mpel_connection_send_call (b, 0, 12, "add", g_variant_new ("(ii)", 1, 2), NULL, 0, NULL));
  test_iterate_until (pb.frames->len == 8 && pa.frames->len == 5);

  assert_frame (&pb, 5, MPEL_FRAME_RETURN, 5, big5);
  assert_frame (&pb, 6, MPEL_FRAME_NOTIFY, 9, notify);
  assert_frame (&pb, 7, MPEL_FRAME_RETURN, 6, small);
  assert_frame (&pa, 0, MPEL_FRAME_CALL, 11, NULL);
  assert_frame (&pa, 1, MPEL_FRAME_CALL, 7, NULL);
  assert_frame (&pa, 2, MPEL_FRAME_CALL, 8, NULL);
  assert_frame (&pa, 3, MPEL_FRAME_CALL, 10, NULL);
  assert_frame (&pa, 4, MPEL_FRAME_CALL, 12, NULL);

  /* Everything was written: nothing is left in line. */
  g_assert_cmpuint (_mpel_connection_get_n_queued (a), ==, 0);
  g_assert_false (pa.closed || pb.closed);

  peer_clear (&pa);
  peer_clear (&pb);
}

/* A message in chunks, put together between two inline frames */
static void
test_connection_chunks_raw (void)
{
  g_autoptr(MpelConnection) conn = NULL;
  g_autoptr(GVariant) body = g_variant_ref_sink (big_bytes (100, 9));
  g_autoptr(GVariant) small = g_variant_ref_sink (g_variant_new ("(i)", 1));
  gsize size = _mpel_envelope_size ("", body, NULL);
  g_autofree guint8 *envelope = g_malloc (size);
  g_autofree guint8 *buf = g_malloc0 (4096);
  gsize n = 0;
  int sv[2];
  Peer peer;

  _mpel_envelope_write (envelope, size, MPEL_FRAME_RETURN, 0, 1, "", body, NULL);
  n += write_chunk_bytes (buf + n, 7, size, 0, envelope, 13);
  n += write_frame_bytes (buf + n, MPEL_FRAME_RETURN, 2, "", small);
  n += write_chunk_bytes (buf + n, 7, size, 0, envelope + 13, 40);
  n += write_chunk_bytes (buf + n, 7, size, 0, envelope + 53, size - 53);

  peer_init (&peer);
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  conn = _mpel_connection_new_stream (sv[0], sv[0], NULL, peer_frame, peer_closed, &peer);
  g_assert_cmpint (write (sv[1], buf, n), ==, (gssize) n);
  close (sv[1]);
  test_iterate_until (peer.closed);
  g_assert_no_error (peer.closed_error);
  g_assert_cmpuint (peer.frames->len, ==, 2);
  assert_frame (&peer, 0, MPEL_FRAME_RETURN, 2, small);
  assert_frame (&peer, 1, MPEL_FRAME_RETURN, 1, body);
  peer_clear (&peer);
}

static void
test_connection_chunks_hostile (void)
{
  g_autoptr(GVariant) small = g_variant_ref_sink (g_variant_new ("(i)", 1));
  guint8 data[64] = { 0 };
  g_autofree guint8 *buf = g_malloc0 (4096);
  gsize n;

  /* A message over the limit */
  n = write_chunk_bytes (buf, 1, MPEL_DEFAULT_MAX_MESSAGE + 1, 0, data, 8);
  expect_stream_protocol_error (buf, n, FALSE, 0, "over the limit");
  n = write_chunk_bytes (buf, 1, G_MAXUINT64, 0, data, 8);
  expect_stream_protocol_error (buf, n, FALSE, 0, "over the limit");

  /* A chunk over its limit: refused from its header alone */
  n = write_chunk_bytes (buf, 1, 4 * MPEL_MAX_CHUNK, 0, data, 8);
  ((guint32 *) buf)[0] = GUINT32_TO_LE (MPEL_MAX_CHUNK + 1);
  expect_stream_protocol_error (buf, 24, FALSE, 0, "chunk of");

  /* Message number 0, unknown flags */
  n = write_chunk_bytes (buf, 0, 64, 0, data, 8);
  expect_stream_protocol_error (buf, n, FALSE, 0, "number 0");
  n = write_chunk_bytes (buf, 1, 64, 4, data, 8);
  expect_stream_protocol_error (buf, n, FALSE, 0, "unknown flags");

  /* A message whose size changes */
  n = write_chunk_bytes (buf, 1, 64, 0, data, 8);
  n += write_chunk_bytes (buf + n, 1, 128, 0, data, 8);
  expect_stream_protocol_error (buf, n, FALSE, 0, "goes on as one of 128 bytes");

  /* Chunks carrying more than announced, in one chunk or in two */
  n = write_chunk_bytes (buf, 1, 16, 0, data, 24);
  expect_stream_protocol_error (buf, n, FALSE, 0, "more than the 16 bytes");
  n = write_chunk_bytes (buf, 1, 16, 0, data, 8);
  n += write_chunk_bytes (buf + n, 1, 16, 0, data, 16);
  expect_stream_protocol_error (buf, n, FALSE, 0, "more than the 16 bytes");

  /* Too many messages at once */
  n = 0;
  for (guint i = 1; i <= MPEL_MAX_PARTIAL_MESSAGES + 1; i++)
    n += write_chunk_bytes (buf + n, i, 64, 0, data, 8);
  expect_stream_protocol_error (buf, n, FALSE, 0, "messages in chunks at once");

  /* Whole, but not an envelope */
  n = write_chunk_bytes (buf, 1, 16, 0, data, 8);
  n += write_chunk_bytes (buf + n, 1, 16, 0, data, 8);
  expect_stream_protocol_error (buf, n, FALSE, 0, "Protocol error");

  /* The peer dies in the middle of a message: what came before stands. */
  n = write_frame_bytes (buf, MPEL_FRAME_RETURN, 1, "", small);
  n += write_chunk_bytes (buf + n, 1, 4096, 0, data, 64);
  expect_stream_protocol_error (buf, n, TRUE, 1, "in the middle of a message of 4096 bytes (64 received)");
  /* … or in the middle of a chunk */
  n = write_frame_bytes (buf, MPEL_FRAME_RETURN, 1, "", small);
  n += write_chunk_bytes (buf + n, 1, 4096, 0, data, 64);
  expect_stream_protocol_error (buf, n - 20, TRUE, 1, "in the middle of a message of 4096 bytes");

  /* Over a socket, which has shared buffers instead */
  n = write_chunk_bytes (buf, 1, 64, 0, data, 8);
  expect_protocol_error (buf, n, -1, FALSE, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Connection/frames", test_connection_frames);
  g_test_add_func ("/Mpel/Connection/stop-batch", test_connection_stop_batch);
  g_test_add_func ("/Mpel/Connection/budget-spans-dispatches", test_connection_budget_spans_dispatches);
  g_test_add_func ("/Mpel/Connection/peer-max-frame", test_connection_peer_max_frame);
  g_test_add_func ("/Mpel/Connection/peer-max-frame/too-small", test_connection_peer_max_frame_too_small);
  g_test_add_func ("/Mpel/Connection/last-words", test_connection_last_words);
  g_test_add_func ("/Mpel/Connection/last-words/hostile", test_connection_last_words_hostile);
  g_test_add_func ("/Mpel/Connection/hostile", test_connection_hostile);
  g_test_add_func ("/Mpel/Connection/chunks/interleave", test_connection_chunks_interleave);
  g_test_add_func ("/Mpel/Connection/chunks/raw", test_connection_chunks_raw);
  g_test_add_func ("/Mpel/Connection/chunks/hostile", test_connection_chunks_hostile);

  return g_test_run ();
}
