/* mpel-connection-write.c: the write side of a connection: its output
 * buffer, frames queued inline or in shared buffers, sendmsg() with
 * descriptors or write() over a byte stream, and flushing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpel-types.h"
#include "mpel-connection-internal.h"

#define MAX_FDS_PER_SENDMSG    253

/* Everything queued has been written (or dropped, the peer being gone):
 * start the buffer over. */
static void
output_reset (MpelConnection *conn)
{
  conn->wbase += conn->wend;
  conn->wstart = conn->wend = 0;
  if (conn->out_region != NULL)
    __atomic_store_n (&conn->out_region->base, conn->wbase, __ATOMIC_RELEASE);
}

void
_mpel_connection_ensure_write_space (MpelConnection *conn,
                                     gsize           needed)
{
  if (conn->wcap - conn->wend >= needed)
    return;

  if (conn->out_region != NULL)
    {
      /* The region does not move, and what it holds must stay where the
       * header says: write it all out, then start over. Rare: it holds
       * a megabyte, and a batch's answers leave at the end of the batch. */
      if (conn->wend > conn->wstart && !_mpel_connection_flush_sync (conn, NULL))
        _mpel_connection_close_fds (conn->wfds);
      output_reset (conn);
      g_assert (needed <= conn->wcap);
      return;
    }

  if (conn->wstart > 0)
    {
      memmove (conn->wbuf, conn->wbuf + conn->wstart, conn->wend - conn->wstart);
      conn->wbase += conn->wstart;
      conn->wend -= conn->wstart;
      conn->wstart = 0;
      if (conn->wcap - conn->wend >= needed)
        return;
    }

  conn->wcap = MAX (conn->wcap * 2, MAX (conn->wend + needed, 16 * 1024));
  conn->wbuf = g_realloc (conn->wbuf, conn->wcap);
}

/* Queues a frame that only carries a bulk descriptor. Takes @fd (or -1). */
void
_mpel_connection_queue_bulk_descriptor (guint32  id,
                       guint32  flags,
                       guint64  len,
                       int      fd,
                       gpointer user_data)
{
  MpelConnection *conn = user_data;
  guint32 words[6];

  words[0] = GUINT32_TO_LE (0);
  words[1] = GUINT32_TO_LE (fd >= 0 ? 1 : 0);
  words[2] = GUINT32_TO_LE (id);
  words[3] = GUINT32_TO_LE (flags);
  words[4] = GUINT32_TO_LE ((guint32) (len & 0xffffffff));
  words[5] = GUINT32_TO_LE ((guint32) (len >> 32));

  _mpel_connection_ensure_write_space (conn, sizeof words);
  memcpy (conn->wbuf + conn->wend, words, sizeof words);
  conn->wend += sizeof words;
  if (fd >= 0)
    g_array_append_val (conn->wfds, fd);
  _mpel_connection_output_commit (conn);
}

/* A message over the inline limit: written straight into a shared buffer,
 * and a descriptor queued. */
static gboolean
send_bulk (MpelConnection            *conn,
           const MpelEnvelopeLayout  *layout,
           guint8                     kind,
           guint32                    flags,
           guint64                    id,
           GError                   **error)
{
  MpelBulkBuffer *buf;

  if (layout->total > MPEL_DEFAULT_MAX_MESSAGE)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE,
                   _("A message of %zu bytes is over the limit of %zu bytes"),
                   layout->total, MPEL_DEFAULT_MAX_MESSAGE);
      return FALSE;
    }

  buf = _mpel_bulk_acquire (conn->bulk, layout->total, error);
  if (buf == NULL)
    return FALSE;

  _mpel_envelope_write_layout (_mpel_bulk_buffer_get_data (buf), layout, kind, flags, id);
  _mpel_bulk_lend (conn->bulk, buf, layout->total);

  return TRUE;
}

int
_mpel_connection_write_failed (int      errsv,
                               GError **error)
{
  if (errsv == EAGAIN || errsv == EWOULDBLOCK)
    return 0;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               _("Could not write to the peer: %s"), g_strerror (errsv));
  return -1;
}

/* Makes room for an inline frame of @size bytes at the end of the output,
 * writes its header and zeroes its padding; returns where its envelope
 * goes. */
static guint8 *
append_inline_frame (MpelConnection *conn,
                     gsize           size)
{
  gsize padded = MPEL_ALIGN8 (size);
  guint32 header[2];
  guint8 *dest;

  header[0] = GUINT32_TO_LE ((guint32) size);
  header[1] = GUINT32_TO_LE (0);
  _mpel_connection_ensure_write_space (conn, sizeof header + padded);
  dest = conn->wbuf + conn->wend;
  memcpy (dest, header, sizeof header);
  memset (dest + sizeof header + size, 0, padded - size);
  conn->wend += sizeof header + padded;

  return dest + sizeof header;
}

static void
send_inline (MpelConnection           *conn,
             const MpelEnvelopeLayout *layout,
             guint8                    kind,
             guint32                   flags,
             guint64                   id)
{
  _mpel_envelope_write_layout (append_inline_frame (conn, layout->total), layout, kind, flags, id);
}

/* Queues an envelope written beforehand as an inline frame. */
void
_mpel_connection_append_inline (MpelConnection *conn,
                                const guint8   *envelope,
                                gsize           size)
{
  memcpy (append_inline_frame (conn, size), envelope, size);
}

/* A frame over the inline limit goes in a shared buffer when both ends have
 * them, in chunks over a byte stream whose ends both have those, and
 * inline up to what the peer takes otherwise (a byte stream to a peer
 * from before chunks: the same message limit, no memfd). A frame that may
 * not pass the chunks of a message before it waits in line. */
static gboolean
send_layout (MpelConnection            *conn,
             const MpelEnvelopeLayout  *layout,
             guint8                     kind,
             guint32                    flags,
             guint64                    id,
             GError                   **error)
{
  if (layout->total > conn->max_inline)
    {
      if (_mpel_connection_can_use (conn, MPEL_FEATURE_BULK))
        return send_bulk (conn, layout, kind, flags, id, error);
      if (_mpel_connection_can_use (conn, MPEL_FEATURE_CHUNKS))
        return _mpel_connection_queue_chunked (conn, layout, kind, flags, id, TRUE, error);

      if (layout->total > conn->peer_max_frame)
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE,
                       _("A message of %zu bytes is over the limit of %zu bytes"),
                       layout->total, conn->peer_max_frame);
          return FALSE;
        }
    }

  if (!g_queue_is_empty (&conn->chunks_out) && _mpel_connection_must_wait (conn, layout, kind, id))
    return _mpel_connection_queue_chunked (conn, layout, kind, flags, id, FALSE, error);

  send_inline (conn, layout, kind, flags, id);
  _mpel_connection_output_commit (conn);

  return TRUE;
}

/* Queues a frame. Floating @body and @meta are sunk and released. */
gboolean
_mpel_connection_send (MpelConnection  *conn,
                      guint8           kind,
                      guint32          flags,
                      guint64          id,
                      const char      *name,
                      GVariant        *body,
                      GVariant        *meta,
                      GError         **error)
{
  g_autoptr(GVariant) owned_body = body ? g_variant_ref_sink (body) : NULL;
  g_autoptr(GVariant) owned_meta = meta ? g_variant_ref_sink (meta) : NULL;
  MpelEnvelopeLayout layout;

  if (conn->closed)
    {
      g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_CLOSED,
                           _("The connection to the peer is closed"));
      return FALSE;
    }

  _mpel_envelope_layout (&layout, name, body, meta);

  return send_layout (conn, &layout, kind, flags, id, error);
}

/* A CALL whose meta is written from its parts (see _mpel_call_meta_write()),
 * with no a{sv} built for it. Floating @body and @kwargs are sunk and
 * released. */
gboolean
_mpel_connection_send_call (MpelConnection  *conn,
                           guint32          flags,
                           guint64          id,
                           const char      *name,
                           GVariant        *body,
                           GVariant        *kwargs,
                           guint32          timeout,
                           GError         **error)
{
  g_autoptr(GVariant) owned_body = body ? g_variant_ref_sink (body) : NULL;
  g_autoptr(GVariant) owned_kwargs = kwargs ? g_variant_ref_sink (kwargs) : NULL;
  MpelEnvelopeLayout layout;

  if (conn->closed)
    {
      g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_CLOSED,
                           _("The connection to the peer is closed"));
      return FALSE;
    }

  _mpel_envelope_layout_call (&layout, name, body, kwargs, timeout);

  return send_layout (conn, &layout, MPEL_FRAME_CALL, flags, id, error);
}

/* write() to a pipe whose reader is gone raises SIGPIPE, which would end
 * an app that did not ignore it: block it for this thread around the
 * write, and take back the one it raised (not one that was already
 * pending). An end we could not make non-blocking of its own (see
 * _mpel_connection_new_stream()) is written only when poll() says it has
 * room, and no more than PIPE_BUF at a time, which then never blocks. */
gssize
_mpel_connection_write_stream (MpelConnection     *conn,
                               const struct iovec *iov,
                               int                 n_iov)
{
  struct iovec limited;
  sigset_t block, old, pending;
  gboolean was_pending;
  gssize n;
  int errsv;

  if (conn->out_is_socket)
    {
      struct msghdr msg = { .msg_iov = (struct iovec *) iov, .msg_iovlen = n_iov };

      do
        n = sendmsg (conn->out_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      while (n < 0 && errno == EINTR);
      return n;
    }

  if (conn->out_blocking)
    {
      struct pollfd pfd = { .fd = conn->out_fd, .events = POLLOUT };

      if (poll (&pfd, 1, 0) == 0)
        {
          errno = EAGAIN;
          return -1;
        }
      while (n_iov > 0 && iov[0].iov_len == 0)
        iov++, n_iov--;
      if (n_iov == 0)
        return 0;
      limited.iov_base = iov[0].iov_base;
      limited.iov_len = MIN (iov[0].iov_len, PIPE_BUF);
      iov = &limited;
      n_iov = 1;
    }

  sigemptyset (&block);
  sigaddset (&block, SIGPIPE);
  sigpending (&pending);
  was_pending = sigismember (&pending, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &block, &old);

  do
    n = writev (conn->out_fd, iov, n_iov);
  while (n < 0 && errno == EINTR);
  errsv = errno;

  if (n < 0 && errsv == EPIPE && !was_pending)
    {
      const struct timespec zero = { 0, 0 };

      while (sigtimedwait (&block, NULL, &zero) < 0 && errno == EINTR)
        ;
    }
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  errno = errsv;

  return n;
}

/* Returns the number of bytes written, 0 when the socket is full, or -1
 * with @error set. */
static gssize
write_some (MpelConnection  *conn,
            GError         **error)
{
  struct msghdr msg = { 0 };
  struct iovec iov;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (int) * MAX_FDS_PER_SENDMSG)];
  } control;
  guint n_fds = MIN (conn->wfds->len, MAX_FDS_PER_SENDMSG);
  gssize n;

  iov.iov_base = conn->wbuf + conn->wstart;
  iov.iov_len = conn->wend - conn->wstart;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;

  if (n_fds > 0)
    {
      struct cmsghdr *cmsg;

      memset (&control, 0, sizeof control);
      msg.msg_control = control.buf;
      msg.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
      memcpy (CMSG_DATA (cmsg), conn->wfds->data, sizeof (int) * n_fds);
    }

  if (conn->stream)
    n = _mpel_connection_write_stream (conn, &iov, 1);
  else
    do
      n = sendmsg (conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);

  if (n < 0)
    return _mpel_connection_write_failed (errno, error);

  /* Descriptors travel with the first byte of a sendmsg(), so every one
   * attached here has been passed, even if the write was short. */
  for (guint i = 0; i < n_fds; i++)
    close (g_array_index (conn->wfds, int, i));
  g_array_remove_range (conn->wfds, 0, n_fds);

  return n;
}

/* Writes what is queued, until the peer's end is full: the chunk being
 * written first (nothing may come between its bytes), then the output
 * buffer, then the messages in line (when @more), a chunk at a time, so
 * that frames queued meanwhile go out between two chunks. Stops starting
 * chunks after @budget bytes, if not 0. Returns 1 when what was asked
 * is written (or the budget spent), 0 when the peer's end is full, -1
 * with @error set. */
static int
write_queued (MpelConnection  *conn,
              gboolean         more,
              gsize            budget,
              GError         **error)
{
  gsize written = 0;

  for (;;)
    {
      gssize n;

      if (!conn->chunk_writing && conn->wend == conn->wstart)
        {
          output_reset (conn);
          if (!more || (budget != 0 && written >= budget) || !_mpel_connection_next_chunk_out (conn))
            return 1;
          continue;
        }

      if (conn->chunk_writing)
        n = _mpel_connection_write_chunk (conn, error);
      else
        {
          n = write_some (conn, error);
          if (n > 0)
            conn->wstart += n;
        }
      if (n < 0)
        return -1;
      if (n == 0)
        return 0;
      written += n;
    }
}

/* Stops starting chunks of large messages after this much a call: the
 * rest waits for the next dispatch, so that a large message does not hold
 * the context while the peer keeps up. */
#define WRITE_CHUNKS_BUDGET (4 * MPEL_CHUNK_SIZE)

void
_mpel_connection_write (MpelConnection *conn)
{
  GError *error = NULL;
  int r = write_queued (conn, TRUE, WRITE_CHUNKS_BUDGET, &error);

  if (r < 0)
    {
      /* The peer is gone; the read side reports it as EOF once the data
       * it sent before going has been read. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        {
          g_error_free (error);
          _mpel_connection_close_fds (conn->wfds);
          _mpel_connection_chunks_drop_output (conn);
          output_reset (conn);
          r = 1;
        }
      else
        {
          _mpel_connection_fail (conn, error);
          return;
        }
    }

  if (r == 0)
    {
      if (!conn->want_write)
        {
          conn->want_write = TRUE;
          _mpel_connection_update_events (conn);
        }
      return;
    }

  if (conn->want_write)
    {
      conn->want_write = FALSE;
      _mpel_connection_update_events (conn);
    }
}

static gboolean
wait_writable (MpelConnection  *conn,
               GError         **error)
{
  struct pollfd pfd = { .fd = conn->out_fd, .events = POLLOUT };

  if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "poll: %s", g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

static gboolean
flush_sync (MpelConnection  *conn,
            gboolean         all,
            GError         **error)
{
  while (!conn->closed)
    {
      int r = write_queued (conn, all, 0, error);

      if (r < 0)
        return FALSE;
      if (r > 0)
        break;
      if (!wait_writable (conn, error))
        return FALSE;
    }

  return !conn->closed;
}

/* Writes the output buffer — whole frames, and the rest of a chunk being
 * written — waiting for room as it must. The messages in line behind a
 * large one stay there (see _mpel_connection_flush_all_sync()). */
gboolean
_mpel_connection_flush_sync (MpelConnection  *conn,
                             GError         **error)
{
  return flush_sync (conn, FALSE, error);
}

/* Writes everything queued, the messages in chunks included, waiting for
 * room as it must: for an end that is about to close. */
gboolean
_mpel_connection_flush_all_sync (MpelConnection  *conn,
                                 GError         **error)
{
  return flush_sync (conn, TRUE, error);
}
