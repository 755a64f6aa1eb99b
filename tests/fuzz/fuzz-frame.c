/* fuzz-frame.c: libFuzzer target over the envelope parser and the frame
 * decoder of a connection. The input is used three times: as one envelope,
 * and as the bytes a peer writes to a socket pair and to a byte stream
 * (where large messages come in chunks).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mpel.h>

#include "mpel-connection-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data,
                            size_t        size);

static void
touch_value (GVariant *value)
{
  /* Walk the value the way a handler would: every child, every string. */
  if (value == NULL)
    return;

  if (g_variant_is_container (value))
    {
      gsize n = g_variant_n_children (value);

      for (gsize i = 0; i < MIN (n, 64); i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
          touch_value (child);
        }
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    g_assert (g_utf8_validate (g_variant_get_string (value, NULL), -1, NULL));
}

static gboolean
on_frame (MpelConnection *conn,
          MpelFrame      *frame,
          gpointer        user_data)
{
  guint *n_frames = user_data;

  (*n_frames)++;
  touch_value (frame->body);
  touch_value (_mpel_frame_get_meta (frame));
  if (frame->kind == MPEL_FRAME_ERROR)
    {
      g_autoptr(GError) error = _mpel_error_from_variant (frame->body);
      g_assert (error != NULL);
    }
  return TRUE;
}

static void
on_closed (MpelConnection *conn,
           const GError   *error,
           gpointer        user_data)
{
  gboolean *closed = (gboolean *) ((guint *) user_data + 1);

  *closed = TRUE;
  /* Anything the peer sends may only ever be a protocol error. */
  if (error != NULL)
    g_assert (g_error_matches (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL));
}

static void
fuzz_envelope (const guint8 *data,
               size_t        size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  MpelFrame frame;

  if (_mpel_envelope_parse (bytes, &frame, &error))
    {
      touch_value (frame.body);
      touch_value (_mpel_frame_get_meta (&frame));
      _mpel_frame_clear (&frame);
    }
  else
    g_assert (g_error_matches (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL));
}

/* Over a socket pair (shared buffers, descriptors), and over a byte
 * stream (chunks) */
static void
fuzz_stream (const guint8 *data,
             size_t        size,
             gboolean      stream)
{
  g_autoptr(MpelConnection) conn = NULL;
  guint state[2] = { 0, 0 };   /* frames, closed */
  int sv[2];

  if (size > 200000)
    return;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return;

  /* The socket buffer takes the whole input: write it, then hang up. */
  {
    int bufsize = 512 * 1024;

    setsockopt (sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    setsockopt (sv[0], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  }
  if (size > 0 && write (sv[1], data, size) != (ssize_t) size)
    {
      close (sv[0]);
      close (sv[1]);
      return;
    }
  close (sv[1]);

  if (stream)
    conn = _mpel_connection_new_stream (sv[0], sv[0], NULL, on_frame, on_closed, state);
  else
    conn = _mpel_connection_new (sv[0], NULL, on_frame, on_closed, state);
  while (!state[1])
    g_main_context_iteration (NULL, TRUE);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  fuzz_envelope (data, size);
  fuzz_stream (data, size, FALSE);
  fuzz_stream (data, size, TRUE);
  return 0;
}
