/* test-bulk.c: the shared buffers of large messages: the pools on both
 * sides, their checks, and large messages through a connection
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

/* Two pools that talk through arrays of descriptors instead of a socket. */

typedef struct
{
  guint32 id;
  guint32 flags;
  guint64 len;
  int     fd;
} Descriptor;

static void
record_descriptor (guint32  id,
                   guint32  flags,
                   guint64  len,
                   int      fd,
                   gpointer user_data)
{
  GArray *sent = user_data;
  Descriptor d = { id, flags, len, fd };

  g_array_append_val (sent, d);
}

static void
lend (MpelBulk *lender,
      gsize     len,
      guint8    fill)
{
  g_autoptr(GError) error = NULL;
  MpelBulkBuffer *buf = _mpel_bulk_acquire (lender, len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (buf);
  memset (_mpel_bulk_buffer_get_data (buf), fill, len);
  _mpel_bulk_lend (lender, buf, len);
}

/* Hands every descriptor in @sent to @to; keeps the messages. */
static void
deliver (GArray    *sent,
         MpelBulk  *to,
         GPtrArray *messages)
{
  for (guint i = 0; i < sent->len; i++)
    {
      Descriptor *d = &g_array_index (sent, Descriptor, i);
      g_autoptr(GError) error = NULL;
      GBytes *payload = NULL;

      g_assert_true (_mpel_bulk_receive (to, d->id, d->flags, d->len, d->fd, &payload, &error));
      g_assert_no_error (error);
      if (payload != NULL)
        g_ptr_array_add (messages, payload);
      else
        g_assert_true (d->flags & (MPEL_BULK_FLAG_RELEASE | MPEL_BULK_FLAG_RETIRE));
    }
  g_array_set_size (sent, 0);
}

static void
assert_message (GBytes *message,
                gsize   len,
                guint8  fill)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);

  g_assert_cmpuint (size, ==, len);
  g_assert_cmpuint (data[0], ==, fill);
  g_assert_cmpuint (data[len / 2], ==, fill);
  g_assert_cmpuint (data[len - 1], ==, fill);
}

#define MSG (600 * 1024)

/* A buffer is lent once with its descriptor and then reused; a burst
 * larger than the pool takes a one-shot buffer; a larger message retires
 * the smaller free buffer. The peer unmaps what it is told to. */
static void
test_bulk_pool (void)
{
  g_autoptr(GArray) to_borrower = g_array_new (FALSE, FALSE, sizeof (Descriptor));
  g_autoptr(GArray) to_lender = g_array_new (FALSE, FALSE, sizeof (Descriptor));
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  MpelBulk *lender = _mpel_bulk_new (record_descriptor, to_borrower);
  MpelBulk *borrower = _mpel_bulk_new (record_descriptor, to_lender);
  Descriptor d;
  guint32 first_id;

  /* The first message brings the buffer's descriptor. */
  lend (lender, MSG, 1);
  g_assert_cmpuint (to_borrower->len, ==, 1);
  d = g_array_index (to_borrower, Descriptor, 0);
  g_assert_cmpint (d.fd, >=, 0);
  g_assert_cmpuint (d.flags, ==, 0);
  g_assert_cmpuint (d.len, ==, MSG);
  first_id = d.id;
  deliver (to_borrower, borrower, messages);
  assert_message (messages->pdata[0], MSG, 1);
  g_assert_cmpuint (_mpel_bulk_get_n_borrowed (borrower), ==, 1);
  g_assert_cmpuint (to_lender->len, ==, 1);
  g_assert_cmpuint (g_array_index (to_lender, Descriptor, 0).flags, ==, MPEL_BULK_FLAG_RELEASE);
  deliver (to_lender, lender, messages);

  /* The next one reuses it, without a descriptor. */
  lend (lender, MSG, 2);
  d = g_array_index (to_borrower, Descriptor, 0);
  g_assert_cmpuint (d.id, ==, first_id);
  g_assert_cmpint (d.fd, ==, -1);
  deliver (to_borrower, borrower, messages);
  assert_message (messages->pdata[1], MSG, 2);
  deliver (to_lender, lender, messages);
  g_assert_cmpuint (_mpel_bulk_get_n_lent (lender), ==, 1);

  /* Three at once: the pool's two buffers, then a one-shot. */
  lend (lender, MSG, 3);
  lend (lender, MSG, 4);
  lend (lender, MSG, 5);
  g_assert_cmpuint (to_borrower->len, ==, 3);
  g_assert_cmpint (g_array_index (to_borrower, Descriptor, 0).fd, ==, -1);
  g_assert_cmpint (g_array_index (to_borrower, Descriptor, 1).fd, >=, 0);
  g_assert_cmpuint (g_array_index (to_borrower, Descriptor, 1).flags, ==, 0);
  g_assert_cmpint (g_array_index (to_borrower, Descriptor, 2).fd, >=, 0);
  g_assert_cmpuint (g_array_index (to_borrower, Descriptor, 2).flags, ==, MPEL_BULK_FLAG_ONE_SHOT);
  g_assert_cmpuint (_mpel_bulk_get_n_lent (lender), ==, 3);
  deliver (to_borrower, borrower, messages);
  for (guint i = 0; i < 3; i++)
    assert_message (messages->pdata[2 + i], MSG, 3 + i);
  g_assert_cmpuint (_mpel_bulk_get_n_borrowed (borrower), ==, 2);
  deliver (to_lender, lender, messages);
  g_assert_cmpuint (_mpel_bulk_get_n_lent (lender), ==, 2);

  /* Larger than both free buffers: the smaller is retired first. */
  lend (lender, 3 * MSG, 6);
  g_assert_cmpuint (to_borrower->len, ==, 2);
  g_assert_cmpuint (g_array_index (to_borrower, Descriptor, 0).flags, ==, MPEL_BULK_FLAG_RETIRE);
  g_assert_cmpint (g_array_index (to_borrower, Descriptor, 0).fd, ==, -1);
  g_assert_cmpint (g_array_index (to_borrower, Descriptor, 1).fd, >=, 0);
  deliver (to_borrower, borrower, messages);
  assert_message (messages->pdata[5], 3 * MSG, 6);
  g_assert_cmpuint (_mpel_bulk_get_n_borrowed (borrower), ==, 2);
  g_assert_cmpuint (_mpel_bulk_get_n_lent (lender), ==, 2);
  deliver (to_lender, lender, messages);

  /* A closed connection unmaps everything. */
  _mpel_bulk_clear (lender);
  _mpel_bulk_clear (borrower);
  g_assert_cmpuint (_mpel_bulk_get_n_lent (lender), ==, 0);
  g_assert_cmpuint (_mpel_bulk_get_n_borrowed (borrower), ==, 0);

  _mpel_bulk_free (lender);
  _mpel_bulk_free (borrower);
}

static int
sealed_memfd (gsize size)
{
  int fd = memfd_create ("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  g_assert_no_errno (fd);
  g_assert_no_errno (ftruncate (fd, size));
  g_assert_no_errno (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK));
  return fd;
}

static void
expect_refused (MpelBulk *bulk,
                guint32   id,
                guint32   flags,
                guint64   len,
                int       fd)
{
  g_autoptr(GError) error = NULL;
  GBytes *payload = NULL;

  g_assert_false (_mpel_bulk_receive (bulk, id, flags, len, fd, &payload, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  g_assert_null (payload);
}

/* What the peer says about buffers is checked before anything is used. */
static void
test_bulk_checks (void)
{
  g_autoptr(GArray) sent = g_array_new (FALSE, FALSE, sizeof (Descriptor));
  MpelBulk *bulk = _mpel_bulk_new (record_descriptor, sent);

  /* Handing back or retiring buffers that were never there */
  expect_refused (bulk, 7, MPEL_BULK_FLAG_RELEASE, 0, -1);
  expect_refused (bulk, 7, MPEL_BULK_FLAG_RETIRE, 0, -1);
  /* A message in a buffer never lent; unknown or contradicting flags */
  expect_refused (bulk, 7, 0, 64, -1);
  expect_refused (bulk, 7, 1u << 5, 64, -1);
  expect_refused (bulk, 7, MPEL_BULK_FLAG_ONE_SHOT | MPEL_BULK_FLAG_RELEASE, 64, -1);
  /* A hand-back that brings a descriptor */
  expect_refused (bulk, 7, MPEL_BULK_FLAG_RELEASE, 0, sealed_memfd (4096));
  /* Id 0, never valid */
  expect_refused (bulk, 0, 0, 64, sealed_memfd (4096));
  g_assert_cmpuint (_mpel_bulk_get_n_borrowed (bulk), ==, 0);

  /* Four buffers are mapped, and no more; an id is announced once. */
  for (guint32 id = 1; id <= 4; id++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) payload = NULL;

      g_assert_true (_mpel_bulk_receive (bulk, id, 0, 64, sealed_memfd (4096), &payload, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (payload), ==, 64);
    }
  g_assert_cmpuint (sent->len, ==, 4);
  expect_refused (bulk, 1, 0, 64, sealed_memfd (4096));
  expect_refused (bulk, 5, 0, 64, sealed_memfd (4096));
  g_assert_cmpuint (_mpel_bulk_get_n_borrowed (bulk), ==, 4);

  /* Messages longer than their buffer, or empty */
  expect_refused (bulk, 1, 0, 4097, -1);
  expect_refused (bulk, 1, 0, 0, -1);

  /* Nothing refused was handed back. */
  g_assert_cmpuint (sent->len, ==, 4);

  _mpel_bulk_free (bulk);
}

/* Through a connection */

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

  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_CALL, 0, 1, "small", g_variant_new ("()"), NULL, NULL));
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_CALL, 0, 2, "big", body, NULL, NULL));
  g_assert_true (_mpel_connection_send (a, MPEL_FRAME_CALL, 0, 3, "small", g_variant_new ("()"), NULL, NULL));
  /* Descriptor only: the payload is in a shared buffer. */
  g_assert_cmpuint (_mpel_connection_get_n_queued (a), <, 200);

  test_iterate_until (pb.frames->len == 3);
  {
    g_autoptr(GVariant) got = NULL;
    g_autoptr(GVariant) got_bytes = NULL;
    const guint8 *data;
    guint64 id;
    gsize n;

    g_variant_get (g_ptr_array_index (pb.frames, 1), "(yt&s@*)", NULL, &id, NULL, &got);
    g_assert_cmpuint (id, ==, 2);
    /* Byte for byte: g_variant_equal() would print both values, as the
     * received one is not trusted. */
    g_assert_cmpstr (g_variant_get_type_string (got), ==, "(ay)");
    got_bytes = g_variant_get_child_value (got, 0);
    data = g_variant_get_fixed_array (got_bytes, &n, 1);
    g_assert_cmpmem (data, n, blob, 8 * 1024 * 1024);
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
          g_assert_true (_mpel_connection_send (a, MPEL_FRAME_ITEM, 0, i + 1, NULL,
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
  g_assert_true (_mpel_connection_send (b, MPEL_FRAME_ITEM, 0, 9, NULL,
                                       g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob,
                                                                  1024 * 1024, 1),
                                       NULL, NULL));
  test_iterate_until (pa.frames->len == 1);

  peer_clear (&pa);
  peer_clear (&pb);
}

static void
test_bulk_hostile (void)
{
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
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Bulk/pool", test_bulk_pool);
  g_test_add_func ("/Mpel/Bulk/checks", test_bulk_checks);
  g_test_add_func ("/Mpel/Bulk/connection/memfd", test_connection_memfd);
  g_test_add_func ("/Mpel/Bulk/connection/reuse", test_connection_bulk_reuse);
  g_test_add_func ("/Mpel/Bulk/connection/hostile", test_bulk_hostile);

  return g_test_run ();
}
