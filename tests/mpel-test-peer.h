/* mpel-test-peer.h: a connection's callbacks that keep what they see, and
 * a raw peer that writes bytes, for test-connection and test-bulk
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpel-test-util.h"
#include "mpel-wire-private.h"

G_BEGIN_DECLS

typedef struct
{
  GPtrArray *frames;   /* of GVariant envelopes, rebuilt for comparison */
  GError *closed_error;
  gboolean closed;
  guint64 stop_at;     /* the callback returns FALSE for this id, if not 0 */
} Peer;

static inline gboolean
peer_frame (MpelConnection *conn,
            MpelFrame      *frame,
            gpointer        user_data)
{
  Peer *peer = user_data;

  g_ptr_array_add (peer->frames,
                   g_variant_ref_sink (g_variant_new ("(yts@*)", frame->kind, frame->id, frame->name,
                                                      frame->body)));
  return peer->stop_at == 0 || frame->id != peer->stop_at;
}

static inline void
peer_closed (MpelConnection *conn,
             const GError   *error,
             gpointer        user_data)
{
  Peer *peer = user_data;

  peer->closed = TRUE;
  if (error != NULL)
    peer->closed_error = g_error_copy (error);
}

static inline void
peer_init (Peer *peer)
{
  memset (peer, 0, sizeof *peer);
  peer->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
}

static inline void
peer_clear (Peer *peer)
{
  g_ptr_array_unref (peer->frames);
  g_clear_error (&peer->closed_error);
}

static inline void
make_pair (MpelConnection **a,
           Peer            *pa,
           MpelConnection **b,
           Peer            *pb)
{
  int sv[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  *a = _mpel_connection_new (sv[0], NULL, peer_frame, peer_closed, pa);
  *b = _mpel_connection_new (sv[1], NULL, peer_frame, peer_closed, pb);
}

/* A raw peer writes hostile bytes; the connection fails with a protocol
 * error and allocates nothing sized from the bad length. */
static inline void
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
  conn = _mpel_connection_new (sv[0], NULL, peer_frame, peer_closed, &peer);

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

/* Two connections over a byte stream (a socket pair read and written as
 * one), after each has read the other's HELLO, which says `chunks`. The
 * HELLOs are not left in the peers' frames. */
static inline void
make_stream_pair (MpelConnection **a,
                  Peer            *pa,
                  MpelConnection **b,
                  Peer            *pb)
{
  int sv[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  *a = _mpel_connection_new_stream (sv[0], sv[0], NULL, peer_frame, peer_closed, pa);
  *b = _mpel_connection_new_stream (sv[1], sv[1], NULL, peer_frame, peer_closed, pb);
  for (guint i = 0; i < 2; i++)
    {
      MpelConnection *conn = i == 0 ? *a : *b;
      g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

      g_variant_dict_insert (&dict, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
      g_variant_dict_insert (&dict, "max-frame", "u", _mpel_connection_get_max_frame (conn));
      g_variant_dict_insert_value (&dict, "features",
                                   _mpel_features_to_variant (_mpel_connection_get_features (conn)));
      g_assert_true (_mpel_connection_send (conn, MPEL_FRAME_HELLO, 0, 0, "test",
                                            g_variant_dict_end (&dict), NULL, NULL));
    }
  test_iterate_until (pa->frames->len == 1 && pb->frames->len == 1);
  g_ptr_array_set_size (pa->frames, 0);
  g_ptr_array_set_size (pb->frames, 0);
  g_assert_true (_mpel_connection_can_use (*a, MPEL_FEATURE_CHUNKS));
  g_assert_true (_mpel_connection_can_use (*b, MPEL_FEATURE_CHUNKS));
}

/* A raw peer writes @bytes to a byte stream connection, which then hands
 * on @n_good_frames and fails with a protocol error whose message has
 * @message in it. */
static inline void
expect_stream_protocol_error (const void *bytes,
                              gsize       len,
                              gboolean    close_after,
                              guint       n_good_frames,
                              const char *message)
{
  g_autoptr(MpelConnection) conn = NULL;
  int sv[2];
  Peer peer;

  peer_init (&peer);
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  conn = _mpel_connection_new_stream (sv[0], sv[0], NULL, peer_frame, peer_closed, &peer);

  g_assert_cmpint (write (sv[1], bytes, len), ==, (gssize) len);
  if (close_after)
    close (sv[1]);

  test_iterate_until (peer.closed);
  g_assert_error (peer.closed_error, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  if (strstr (peer.closed_error->message, message) == NULL)
    g_error ("“%s” does not say “%s”", peer.closed_error->message, message);
  g_assert_cmpuint (peer.frames->len, ==, n_good_frames);

  if (!close_after)
    close (sv[1]);
  peer_clear (&peer);
}

/* Writes one chunk as it goes on the wire: @len bytes of @data, of message
 * @number, announced as @size bytes in all; returns its size. */
static inline gsize
write_chunk_bytes (guint8       *dest,
                   guint32       number,
                   guint64       size,
                   guint32       flags,
                   const guint8 *data,
                   gsize         len)
{
  guint32 words[6] = {
    GUINT32_TO_LE (len), GUINT32_TO_LE (MPEL_FRAME_CHUNK_MARK), GUINT32_TO_LE (number),
    GUINT32_TO_LE (flags), GUINT32_TO_LE ((guint32) size), GUINT32_TO_LE ((guint32) (size >> 32)),
  };
  gsize padded = (len + 7) & ~(gsize) 7;

  memcpy (dest, words, sizeof words);
  memcpy (dest + sizeof words, data, len);
  memset (dest + sizeof words + len, 0, padded - len);
  return sizeof words + padded;
}

/* Writes one inline frame as it goes on the wire; returns its size. */
static inline gsize
write_frame_bytes (guint8     *dest,
                   guint8      kind,
                   guint64     id,
                   const char *name,
                   GVariant   *body)
{
  gsize size = _mpel_envelope_size (name, body, NULL);
  guint32 header[2] = { GUINT32_TO_LE (size), 0 };

  memcpy (dest, header, 8);
  _mpel_envelope_write (dest + 8, size, kind, 0, id, name, body, NULL);
  /* The padding to 8 bytes is zeros, as the library writes it */
  memset (dest + 8 + size, 0, ((size + 7) & ~7) - size);
  return 8 + ((size + 7) & ~7);
}

G_END_DECLS
