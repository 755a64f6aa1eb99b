/* mpel-connection-read.c: the read side of a connection: the read buffer,
 * recvmsg() with descriptors or read() over a byte stream, frames decoded
 * and parsed in place, the peer's HELLO, and the batch with its time budget,
 * its fairness and its mid-batch writes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpel-types.h"
#include "mpel-connection-internal.h"

#define READ_CHUNK             (64 * 1024)
#define MAX_READS_PER_DISPATCH 8
/* Mid-batch writes: checked every so many frames (a power of two), when
 * at least so many bytes are queued. */
#define FLUSH_EVERY_FRAMES     32
#define FLUSH_MIN_BYTES        2048

static ReadBlock *
read_block_new (gsize cap)
{
  ReadBlock *block = g_malloc (sizeof (ReadBlock) + MPEL_ALIGN8 (cap));

  g_atomic_ref_count_init (&block->ref);
  block->cap = MPEL_ALIGN8 (cap);

  return block;
}

static ReadBlock *
read_block_ref (ReadBlock *block)
{
  g_atomic_ref_count_inc (&block->ref);
  return block;
}

void
_mpel_read_block_unref (gpointer data)
{
  ReadBlock *block = data;

  if (g_atomic_ref_count_dec (&block->ref))
    g_free (block);
}

/* read() on a byte stream, as write_stream() writes: a socket without
 * O_NONBLOCK (it is shared) with MSG_DONTWAIT, an end left blocking only
 * when poll() says something is there. */
gssize
_mpel_connection_read_stream (MpelConnection *conn,
                              guint8         *dest,
                              gsize           len)
{
  gssize n;

  if (conn->in_blocking)
    {
      struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };

      if (poll (&pfd, 1, 0) == 0)
        {
          errno = EAGAIN;
          return -1;
        }
    }

  if (conn->in_is_socket)
    do
      n = recv (conn->fd, dest, len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
  else
    do
      n = read (conn->fd, dest, len);
    while (n < 0 && errno == EINTR);

  return n;
}

/* Returns bytes read, 0 on EOF, -1 when nothing is there (EAGAIN), -2 with
 * @error set. */
/* What a failed read() or recvmsg() with @errsv means: -1 to wait for
 * more (EAGAIN), 0 for the end of input (the peer went away), -2 with
 * @error set for any other failure. */
gssize
_mpel_connection_read_failed (int      errsv,
                              GError **error)
{
  if (errsv == EAGAIN || errsv == EWOULDBLOCK)
    return -1;
  if (errsv == ECONNRESET || errsv == EIO)
    return 0;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               _("Could not read from the peer: %s"), g_strerror (errsv));
  return -2;
}

static gssize
read_some (MpelConnection  *conn,
           GError         **error)
{
  struct msghdr msg = { 0 };
  struct iovec iov;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (int) * MPEL_MAX_QUEUED_FDS)];
  } control;
  gssize n;

  iov.iov_base = conn->rbuf + conn->rend;
  iov.iov_len = conn->rcap - conn->rend;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;

  if (conn->stream)
    n = _mpel_connection_read_stream (conn, iov.iov_base, iov.iov_len);
  else
    do
      n = recvmsg (conn->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);

  if (n < 0)
    return _mpel_connection_read_failed (errno, error);

  conn->n_received += n;

  /* read() fills no control message. */
  if (conn->stream)
    return n;

  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg); cmsg != NULL; cmsg = CMSG_NXTHDR (&msg, cmsg))
    {
      if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
        {
          gsize n_fds = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);
          const int *fds = (const int *) (gpointer) CMSG_DATA (cmsg);

          for (gsize i = 0; i < n_fds; i++)
            {
              int fd;

              memcpy (&fd, fds + i, sizeof fd);
              g_array_append_val (conn->rfds, fd);
            }
        }
    }

  if ((msg.msg_flags & MSG_CTRUNC) != 0 || conn->rfds->len > MPEL_MAX_QUEUED_FDS)
    {
      _mpel_protocol_error (error, _("the peer passed more file descriptors than announced"));
      return -2;
    }

  return n;
}

void
_mpel_connection_ensure_read_space (MpelConnection *conn,
                   gsize           needed)
{
  gsize have = conn->rend - conn->rstart;

  /* Frames handed on still point into the block: leave their bytes be. */
  if (conn->rstart > 0 && (conn->rcap - conn->rend < needed || have == 0) &&
      g_atomic_ref_count_compare (&conn->rblock->ref, 1))
    {
      memmove (conn->rbuf, conn->rbuf + conn->rstart, have);
      conn->rstart = 0;
      conn->rend = have;
    }

  if (conn->rcap - conn->rend < needed)
    {
      ReadBlock *block = read_block_new (MAX (have + needed, READ_CHUNK));

      if (have > 0)
        memcpy (block->data, conn->rbuf + conn->rstart, have);
      g_clear_pointer (&conn->rblock, _mpel_read_block_unref);
      conn->rblock = block;
      conn->rbuf = (guint8 *) block->data;
      conn->rcap = block->cap;
      conn->rstart = 0;
      conn->rend = have;
    }
}

/* A frame of length 0 at rstart: a descriptor of a shared buffer, which
 * carries a message (fills @payload), manages the buffers, or lends the
 * peer's output (neither). Returns as next_frame() does. */
static gboolean
next_descriptor (MpelConnection  *conn,
                 gsize            n_fds,
                 GBytes         **payload,
                 gsize           *needed,
                 GError         **error)
{
  gsize have = conn->rend - conn->rstart;
  guint32 words[4];
  guint64 bulk_len;
  int fd = -1;

  *needed = MPEL_FRAME_HEADER_SIZE + MPEL_BULK_DESCRIPTOR_SIZE;
  if ((conn->features & (MPEL_FEATURE_BULK | MPEL_FEATURE_LAST_WORDS)) == 0)
    return _mpel_protocol_error (error, _("the peer sent a shared buffer over a connection without them"));
  if (n_fds > 1)
    return _mpel_protocol_error (error, _("a bulk descriptor announces more than one descriptor"));
  if (have < *needed)
    return FALSE;
  if (n_fds == 1 && conn->rfds->len == 0)
    {
      /* Its descriptor died with the peer: the last words end here. */
      if (conn->recovered)
        {
          conn->rstart = conn->rend;
          return FALSE;
        }
      return _mpel_protocol_error (error, _("a frame announces a descriptor that did not arrive"));
    }

  memcpy (words, conn->rbuf + conn->rstart + MPEL_FRAME_HEADER_SIZE, sizeof words);
  bulk_len = GUINT32_FROM_LE (words[2]) | ((guint64) GUINT32_FROM_LE (words[3]) << 32);
  conn->rstart += *needed;

  if (n_fds == 1)
    {
      fd = g_array_index (conn->rfds, int, 0);
      g_array_remove_index (conn->rfds, 0);
    }

  if (GUINT32_FROM_LE (words[1]) == MPEL_BULK_FLAG_LAST_WORDS)
    {
      *payload = NULL;
      if ((conn->features & MPEL_FEATURE_LAST_WORDS) == 0)
        {
          if (fd >= 0)
            close (fd);
          return _mpel_protocol_error (error, _("the peer lent its output buffer, which this end did not offer to take"));
        }
      return _mpel_connection_take_last_words (conn, fd, bulk_len, error);
    }

  if ((conn->features & MPEL_FEATURE_BULK) == 0)
    {
      if (fd >= 0)
        close (fd);
      return _mpel_protocol_error (error, _("the peer sent a shared buffer over a connection without them"));
    }

  return _mpel_bulk_receive (conn->bulk, GUINT32_FROM_LE (words[0]), GUINT32_FROM_LE (words[1]),
                             bulk_len, fd, payload, error);
}

/* Decodes one whole frame at rstart. Returns TRUE when there was one: a
 * frame in the read buffer sets @inline_len (> 0), the length of the
 * payload that now ends, padded to 8, at rstart; one in a shared buffer
 * fills @payload instead; a descriptor that only manages shared buffers
 * neither. FALSE with @error NULL when more
 * bytes are needed, FALSE with @error set on a protocol error. @needed says
 * how many bytes the frame needs in all. */
static gboolean
next_frame (MpelConnection  *conn,
            GBytes         **payload,
            gsize           *inline_len,
            gsize           *needed,
            GError         **error)
{
  guint32 header[2];
  gsize len, n_fds, frame_size;
  gsize have = conn->rend - conn->rstart;

  if (conn->chunk_reading != NULL)
    return _mpel_connection_chunk_continue (conn, payload, needed);

  *needed = MPEL_FRAME_HEADER_SIZE;
  if (have < MPEL_FRAME_HEADER_SIZE)
    return FALSE;

  memcpy (header, conn->rbuf + conn->rstart, sizeof header);
  len = GUINT32_FROM_LE (header[0]);
  n_fds = GUINT32_FROM_LE (header[1]);

  if (len == 0)
    return next_descriptor (conn, n_fds, payload, needed, error);

  if (n_fds == MPEL_FRAME_CHUNK_MARK)
    return _mpel_connection_next_chunk (conn, len, payload, needed, error);

  if (n_fds != 0)
    return _mpel_protocol_error (error, _("a frame announces descriptors in a way protocol 1 does not allow"));

  if (len > conn->max_frame)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("Protocol error: a frame of %zu bytes is over the limit of %zu bytes"),
                   len, conn->max_frame);
      return FALSE;
    }

  frame_size = MPEL_FRAME_HEADER_SIZE + MPEL_ALIGN8 (len);
  *needed = frame_size;
  if (have < frame_size)
    return FALSE;

  /* Parsed in place: see connection_deliver(). */
  conn->rstart += frame_size;
  *inline_len = len;

  return TRUE;
}

static void
throttle (MpelConnection *conn)
{
  conn->throttled = TRUE;
  _mpel_connection_update_events (conn);
  g_source_set_ready_time (conn->resume_source, 0);
}

/* The peer's HELLO says how large a frame it takes — anything larger goes
 * to it in a shared buffer, or fails when there are none — and what it can
 * do (`features`; a HELLO without them is a socket peer's from before they
 * were named). A peer that takes almost nothing would have every message
 * go through a memfd, or fail as too large: refused. */
static gboolean
connection_read_hello (MpelConnection   *conn,
                       const MpelFrame  *frame,
                       GError          **error)
{
  g_autoptr(GVariant) features = NULL;
  guint32 max_frame;

  if (frame->body == NULL || !g_variant_is_of_type (frame->body, G_VARIANT_TYPE_VARDICT))
    return TRUE;

  features = g_variant_lookup_value (frame->body, "features", G_VARIANT_TYPE_STRING_ARRAY);
  if (features != NULL)
    conn->peer_features = _mpel_features_from_variant (features);
  else
    conn->peer_features = conn->stream ? MPEL_FEATURE_NONE : MPEL_FEATURES_LEGACY;

  if (g_variant_lookup (frame->body, "max-frame", "u", &max_frame))
    {
      if (max_frame < MPEL_MIN_MAX_FRAME)
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                       _("Protocol error: the peer takes frames of at most %u bytes, "
                         "less than the %u bytes every peer must take"),
                       max_frame, (guint) MPEL_MIN_MAX_FRAME);
          return FALSE;
        }
      conn->peer_max_frame = MIN (max_frame, MPEL_DEFAULT_MAX_MESSAGE);
    }

  if (_mpel_connection_can_use (conn, MPEL_FEATURE_BULK))
    conn->max_inline = MIN (MPEL_DEFAULT_MEMFD_THRESHOLD, conn->peer_max_frame);
  else if (_mpel_connection_can_use (conn, MPEL_FEATURE_CHUNKS))
    conn->max_inline = MIN (MPEL_CHUNK_SIZE, conn->peer_max_frame);
  else
    conn->max_inline = conn->peer_max_frame;

  return TRUE;
}

/* A frame parsed in place: its values are slices of the read block. */
typedef struct
{
  ReadBlock    *block;
  const guint8 *data;
} InlineFrame;

static GBytes *
slice_inline_frame (gpointer owner,
                    gsize    offset,
                    gsize    len)
{
  InlineFrame *inline_frame = owner;

  return g_bytes_new_with_free_func (inline_frame->data + offset, len,
                                     _mpel_read_block_unref, read_block_ref (inline_frame->block));
}

/* Parses one frame and hands it on: @payload (taken) when it came in a
 * shared buffer, otherwise the @inline_len bytes just before rstart in the
 * read buffer. Returns FALSE when the batch must stop: the envelope was
 * refused, or the handler said so. */
static gboolean
connection_deliver (MpelConnection *conn,
                    GBytes         *payload,
                    gsize           inline_len)
{
  GError *error = NULL;
  MpelFrame frame;
  InlineFrame inline_frame = { NULL, NULL };
  gboolean ok;

  if (payload != NULL)
    {
      ok = _mpel_envelope_parse (payload, &frame, &error);
      g_bytes_unref (payload);
    }
  else
    {
      /* The block stays while the frame is (its name points into it), even
       * if a handler closes the connection. */
      inline_frame.block = read_block_ref (conn->rblock);
      inline_frame.data = conn->rbuf + conn->rstart - MPEL_ALIGN8 (inline_len);
      ok = _mpel_envelope_parse_data (inline_frame.data, inline_len, slice_inline_frame, &inline_frame,
                                      &frame, &error);
    }
  if (!ok && conn->recovered)
    {
      /* Last words that do not parse: the peer died in a state we cannot
       * trust. What came before stands; the rest is lost. */
      g_debug ("Ignoring the rest of a peer’s last words: %s", error->message);
      g_error_free (error);
      conn->rstart = conn->rend;
      g_clear_pointer (&inline_frame.block, _mpel_read_block_unref);
      return TRUE;
    }
  if (!ok)
    {
      g_clear_pointer (&inline_frame.block, _mpel_read_block_unref);
      _mpel_connection_fail (conn, error);
      return FALSE;
    }

  if (frame.kind == MPEL_FRAME_HELLO && !connection_read_hello (conn, &frame, &error))
    {
      _mpel_frame_clear (&frame);
      g_clear_pointer (&inline_frame.block, _mpel_read_block_unref);
      _mpel_connection_fail (conn, error);
      return FALSE;
    }

  ok = conn->frame_func (conn, &frame, conn->user_data);
  _mpel_frame_clear (&frame);
  g_clear_pointer (&inline_frame.block, _mpel_read_block_unref);

  /* The frames already read are handed on in the next dispatch. */
  if (!ok && !conn->closed)
    g_source_set_ready_time (conn->source, 0);

  return ok;
}

/* Descriptors that came with no frame left to claim them. */
static gboolean
connection_has_stray_fds (MpelConnection *conn)
{
  if (conn->rfds->len > 0 && conn->rend == conn->rstart)
    {
      _mpel_connection_fail (conn, g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                               _("Protocol error: the peer passed file descriptors no frame announced")));
      return TRUE;
    }
  return FALSE;
}

static void
connection_end_of_input (MpelConnection *conn)
{
  GError *error = _mpel_connection_chunks_eof_error (conn);

  if (error != NULL)
    _mpel_connection_fail (conn, error);
  else if (conn->rend > conn->rstart && !conn->recovered)
    _mpel_connection_fail (conn, g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                             _("Protocol error: the peer hung up in the middle of a frame")));
  else
    _mpel_connection_eof (conn);
}

static gboolean
fill_done (MpelConnection *conn,
           gssize          n,
           gboolean        short_read,
           gboolean       *drained,
           GError         *error)
{
  if (n == -2)
    {
      _mpel_connection_fail (conn, error);
      return FALSE;
    }
  if (n == -1)
    {
      connection_has_stray_fds (conn);
      return FALSE;
    }
  if (n == 0)
    {
      conn->eof = TRUE;
      if (conn->in_region != NULL)
        _mpel_connection_recover_last_words (conn);
      return TRUE;
    }
  if (short_read)
    *drained = TRUE;

  return TRUE;
}

/* The end of the current slice of reading, or 0 for none. The budget
 * covers a run of dispatches, not one: a peer that keeps the socket
 * readable makes the source ready on every iteration, and at the default
 * priority it would keep sources of lower priority (GTK's frame clock)
 * from running however short each dispatch is. */
static gint64
slice_deadline (MpelConnection *conn)
{
  conn->read_this_iteration = TRUE;
  if (conn->budget_usec <= 0)
    return 0;
  if (conn->slice_start == 0)
    conn->slice_start = g_get_monotonic_time ();
  return conn->slice_start + conn->budget_usec;
}

/* Reads once, into room for at least @needed bytes. Returns FALSE when
 * there is nothing more to do in this batch. Sets *drained on a short
 * read. */
static gboolean
connection_fill (MpelConnection *conn,
                 gsize           needed,
                 gboolean       *drained)
{
  GError *error = NULL;
  gsize have = conn->rend - conn->rstart;
  gssize n;

  /* The rest of a chunk goes straight into its message. */
  if (conn->chunk_reading != NULL && conn->chunk_left > 0)
    {
      gsize want = conn->chunk_left;

      n = _mpel_connection_read_chunk_data (conn, &error);
      return fill_done (conn, n, n >= 0 && (gsize) n < want, drained, error);
    }

  /* Room for the rest of the frame: a large inline frame (a byte stream's)
   * comes in many reads, and must not be moved at every one. */
  _mpel_connection_ensure_read_space (conn, MAX (needed > have ? needed - have : 0, READ_CHUNK / 4));

  n = read_some (conn, &error);
  if (n > 0)
    conn->rend += n;

  /* A short read drained the socket: decode what came and wait for
   * poll() rather than spend a recvmsg() on EAGAIN. */
  return fill_done (conn, n, n > 0 && (gsize) n < conn->rcap - (conn->rend - n), drained, error);
}

/* Decodes and hands on whole frames, reading as needed. Normally within the
 * time budget and a few reads, so that other sources get their turn; with
 * @drain, until the socket has nothing more. A handler that returns FALSE
 * ends the batch. */
void
_mpel_connection_process (MpelConnection *conn,
                    gboolean        drain)
{
  gint64 deadline = drain ? 0 : slice_deadline (conn);
  guint n_reads = 0;
  guint n_frames = 0;
  gboolean drained = FALSE;

  /* The slice ran out in an earlier dispatch: yield at once. */
  if (deadline != 0 && g_get_monotonic_time () >= deadline)
    {
      throttle (conn);
      return;
    }

  while (!conn->closed)
    {
      GError *error = NULL;
      GBytes *payload = NULL;
      gsize inline_len = 0;
      gsize needed = 0;

      if (next_frame (conn, &payload, &inline_len, &needed, &error))
        {
          /* A descriptor that only manages shared buffers */
          if (payload == NULL && inline_len == 0)
            continue;

          if (!connection_deliver (conn, payload, inline_len))
            return;

          /* What the handlers queued (the app's next calls, the worker's
           * answers) leaves while the batch goes on, so that the peer
           * works while this side still decodes. */
          if ((++n_frames & (FLUSH_EVERY_FRAMES - 1)) == 0 && !conn->closed && !conn->want_write &&
              conn->wend - conn->wstart >= FLUSH_MIN_BYTES)
            {
              _mpel_connection_write (conn);
              if (conn->closed)
                return;
            }

          if (deadline != 0 && (n_frames & 7) == 0 && g_get_monotonic_time () >= deadline)
            {
              if (!conn->closed)
                throttle (conn);
              return;
            }
          continue;
        }

      if (error != NULL && conn->recovered)
        {
          g_debug ("Ignoring the rest of a peer’s last words: %s", error->message);
          g_clear_error (&error);
          conn->rstart = conn->rend;
          continue;
        }
      if (error != NULL)
        {
          _mpel_connection_fail (conn, error);
          return;
        }

      if (drained && !conn->eof && !drain)
        {
          connection_has_stray_fds (conn);
          return;
        }

      if (conn->eof)
        {
          connection_end_of_input (conn);
          return;
        }

      if (n_reads++ >= MAX_READS_PER_DISPATCH && !drain)
        {
          /* Fairness towards the other sources of the context: come back
           * on the next iteration. */
          g_source_set_ready_time (conn->source, 0);
          return;
        }

      if (!connection_fill (conn, needed, &drained))
        return;
    }
}
