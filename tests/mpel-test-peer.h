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
  return 8 + ((size + 7) & ~7);
}

G_END_DECLS
