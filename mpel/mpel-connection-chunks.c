/* mpel-connection-chunks.c: large messages over a byte stream, cut in
 * chunks so that other frames pass between them, both ways.
 *
 * Over a stream there is no shared memory: a 64 MiB result written as one
 * inline frame would hold every other frame back while it is written, and
 * the reader would see none of them until it had read all of it. When both
 * ends declare `chunks` in their HELLO, a sender cuts a message larger than
 * MPEL_CHUNK_SIZE in chunks, and writes the next chunk only once its
 * output buffer is nearly empty; frames queued meanwhile go out between
 * two chunks. The receiver puts each chunk in place in the message's own
 * buffer, and hands the message on when the last byte has come.
 *
 * A frame may pass a message in chunks only when nothing can tell: a CALL
 * of an event (not `mpel.release` nor an `mpel.object…` built-in, not a
 * method of a remote object), a RETURN, ERROR, ITEM or CANCEL, and only
 * when no message of the same event is waiting and no barrier is (a
 * NOTIFY, a STOP, a HELLO, one of those CALLs, which keep their order
 * against everything). Others wait in line behind it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "mpel-types.h"
#include "mpel-connection-internal.h"

/* ---- sending ---- */

/* A CALL that must keep its order against everything: the built-in
 * targets that manage what the worker holds (a release must not overtake
 * a call on the object), and calls to remote objects, ordered like the
 * object's property sets. */
static gboolean
call_is_barrier (const MpelEnvelopeLayout *layout)
{
  g_autoptr(GVariant) kwargs = NULL;
  g_autoptr(GVariant) handle = NULL;

  if (g_str_has_prefix (layout->name, "mpel.object") || strcmp (layout->name, "mpel.release") == 0)
    return TRUE;

  if (layout->kwargs != NULL)
    kwargs = g_variant_ref (layout->kwargs);
  else if (layout->meta != NULL && g_variant_is_of_type (layout->meta, G_VARIANT_TYPE_VARDICT))
    kwargs = g_variant_lookup_value (layout->meta, "kwargs", G_VARIANT_TYPE_VARDICT);
  if (kwargs == NULL || !g_variant_is_of_type (kwargs, G_VARIANT_TYPE_VARDICT))
    return FALSE;

  handle = g_variant_lookup_value (kwargs, "mpel.object", NULL);
  return handle != NULL;
}

static gboolean
frame_is_barrier (const MpelEnvelopeLayout *layout,
                  guint8                    kind)
{
  switch (kind)
    {
    case MPEL_FRAME_RETURN:
    case MPEL_FRAME_ERROR:
    case MPEL_FRAME_ITEM:
    case MPEL_FRAME_CANCEL:
      return FALSE;
    case MPEL_FRAME_CALL:
      return call_is_barrier (layout);
    default:
      return TRUE;
    }
}

/* Whether a frame must wait behind the messages in line rather than go
 * out between their chunks. */
gboolean
_mpel_connection_must_wait (MpelConnection           *conn,
                            const MpelEnvelopeLayout *layout,
                            guint8                    kind,
                            guint64                   id)
{
  if (g_queue_is_empty (&conn->chunks_out))
    return FALSE;
  if (conn->n_out_barriers > 0 || frame_is_barrier (layout, kind))
    return TRUE;

  /* Every message in line is an event's: none of the same event may be
   * overtaken (an ITEM by its RETURN, a CALL by its CANCEL). */
  for (GList *l = conn->chunks_out.head; l != NULL; l = l->next)
    if (((ChunkOut *) l->data)->id == id)
      return TRUE;

  return FALSE;
}

static void
chunk_out_free (ChunkOut *out)
{
  g_free (out->data);
  g_free (out);
}

/* A buffer for an envelope of @size bytes: the last large message's if it
 * fits and is not far too large (fresh pages cost more than the copy). */
static guint8 *
out_buffer_new (MpelConnection *conn,
                gsize           size)
{
  if (conn->out_cache != NULL && conn->out_cache_size >= size && conn->out_cache_size / 4 <= size)
    {
      conn->out_cache_size = 0;
      return g_steal_pointer (&conn->out_cache);
    }

  g_clear_pointer (&conn->out_cache, g_free);
  conn->out_cache_size = 0;
  return g_try_malloc (size);
}

/* Puts a message in line: in chunks when @chunked, inline when its turn
 * comes otherwise. The envelope is written once, into a buffer of its own,
 * and the chunks are written from there. */
gboolean
_mpel_connection_queue_chunked (MpelConnection           *conn,
                                const MpelEnvelopeLayout *layout,
                                guint8                    kind,
                                guint32                   flags,
                                guint64                   id,
                                gboolean                  chunked,
                                GError                  **error)
{
  ChunkOut *out;
  guint8 *data;

  if (layout->total > MPEL_DEFAULT_MAX_MESSAGE)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE,
                   _("A message of %zu bytes is over the limit of %zu bytes"),
                   layout->total, MPEL_DEFAULT_MAX_MESSAGE);
      return FALSE;
    }

  data = chunked ? out_buffer_new (conn, layout->total) : g_malloc (layout->total);
  if (data == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE,
                   _("Not enough memory for a message of %zu bytes"), layout->total);
      return FALSE;
    }
  _mpel_envelope_write_layout (data, layout, kind, flags, id);

  out = g_new0 (ChunkOut, 1);
  out->data = data;
  out->size = layout->total;
  out->id = id;
  out->kind = kind;
  out->barrier = frame_is_barrier (layout, kind);
  if (chunked)
    {
      if (++conn->last_chunk_number == 0)
        conn->last_chunk_number = 1;
      out->number = conn->last_chunk_number;
    }
  if (out->barrier)
    conn->n_out_barriers++;
  g_queue_push_tail (&conn->chunks_out, out);

  return TRUE;
}

static void
chunk_out_done (MpelConnection *conn)
{
  ChunkOut *out = g_queue_pop_head (&conn->chunks_out);

  if (out->barrier)
    conn->n_out_barriers--;
  if (out->number != 0)
    {
      g_free (conn->out_cache);
      conn->out_cache = g_steal_pointer (&out->data);
      conn->out_cache_size = out->size;
    }
  chunk_out_free (out);
}

/* Called once the output buffer is written: moves the frames at the head
 * of the line into it, or starts the next chunk. Returns FALSE when
 * nothing is in line. */
gboolean
_mpel_connection_next_chunk_out (MpelConnection *conn)
{
  ChunkOut *out;
  gboolean appended = FALSE;

  while ((out = g_queue_peek_head (&conn->chunks_out)) != NULL && out->number == 0)
    {
      _mpel_connection_append_inline (conn, out->data, out->size);
      chunk_out_done (conn);
      appended = TRUE;
    }
  if (appended || out == NULL)
    return appended;

  conn->chunk_len = MIN (MPEL_CHUNK_SIZE, out->size - out->sent);
  conn->chunk_pos = 0;
  conn->chunk_header[0] = GUINT32_TO_LE ((guint32) conn->chunk_len);
  conn->chunk_header[1] = GUINT32_TO_LE (MPEL_FRAME_CHUNK_MARK);
  conn->chunk_header[2] = GUINT32_TO_LE (out->number);
  conn->chunk_header[3] = GUINT32_TO_LE (0);
  conn->chunk_header[4] = GUINT32_TO_LE ((guint32) (out->size & 0xffffffff));
  conn->chunk_header[5] = GUINT32_TO_LE ((guint32) ((guint64) out->size >> 32));
  conn->chunk_writing = TRUE;

  return TRUE;
}

/* Writes (more of) the chunk being written, straight from its message.
 * Returns the bytes written, 0 when the peer's end is full, -1 with @error
 * set. */
gssize
_mpel_connection_write_chunk (MpelConnection  *conn,
                              GError         **error)
{
  static const guint8 zeros[8] = { 0 };
  ChunkOut *out = g_queue_peek_head (&conn->chunks_out);
  gsize header = sizeof conn->chunk_header;
  gsize padded = MPEL_ALIGN8 (conn->chunk_len);
  gsize pos = conn->chunk_pos;
  struct iovec iov[3];
  int n_iov = 0;
  gssize n;

  if (pos < header)
    iov[n_iov++] = (struct iovec) { (guint8 *) conn->chunk_header + pos, header - pos };
  if (pos < header + conn->chunk_len)
    {
      gsize skip = pos > header ? pos - header : 0;

      iov[n_iov++] = (struct iovec) { out->data + out->sent + skip, conn->chunk_len - skip };
    }
  {
    gsize skip = pos > header + conn->chunk_len ? pos - header - conn->chunk_len : 0;

    if (padded > conn->chunk_len)
      iov[n_iov++] = (struct iovec) { (guint8 *) zeros, padded - conn->chunk_len - skip };
  }

  n = _mpel_connection_write_stream (conn, iov, n_iov);
  if (n < 0)
    return _mpel_connection_write_failed (errno, error);

  conn->chunk_pos += n;
  if (conn->chunk_pos == header + padded)
    {
      conn->chunk_writing = FALSE;
      out->sent += conn->chunk_len;
      if (out->sent == out->size)
        chunk_out_done (conn);
    }

  return n;
}

/* The peer is gone: what is in line is for nobody. */
void
_mpel_connection_chunks_drop_output (MpelConnection *conn)
{
  g_queue_clear_full (&conn->chunks_out, (GDestroyNotify) chunk_out_free);
  conn->n_out_barriers = 0;
  conn->chunk_writing = FALSE;
}

/* ---- receiving ---- */

/* The block for a message of @size bytes: the last message's if nothing
 * else holds it any more, it fits and is not far too large. Its pages are
 * only touched as the chunks come. */
static ReadBlock *
in_block_new (MpelConnection *conn,
              gsize           size)
{
  ReadBlock *block = conn->in_cache;

  if (block != NULL && g_atomic_ref_count_compare (&block->ref, 1) &&
      block->cap >= size && block->cap / 4 <= size)
    {
      conn->in_cache = NULL;
      return block;
    }

  g_clear_pointer (&conn->in_cache, _mpel_read_block_unref);
  block = g_try_malloc (sizeof (ReadBlock) + MPEL_ALIGN8 (size));
  if (block == NULL)
    return NULL;
  g_atomic_ref_count_init (&block->ref);
  block->cap = MPEL_ALIGN8 (size);

  return block;
}

static ChunkIn *
chunk_in_find (MpelConnection  *conn,
               guint32          number,
               gsize            size,
               GError         **error)
{
  ChunkIn *free_slot = NULL;

  for (guint i = 0; i < MPEL_MAX_PARTIAL_MESSAGES; i++)
    {
      ChunkIn *in = &conn->chunks_in[i];

      if (in->number == number)
        {
          if (in->size != size)
            {
              g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                           _("Protocol error: a message announced as %zu bytes "
                             "goes on as one of %zu bytes"),
                           in->size, size);
              return NULL;
            }
          return in;
        }
      if (in->number == 0 && free_slot == NULL)
        free_slot = in;
    }

  if (free_slot == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("Protocol error: the peer sends more than %u messages in chunks at once"),
                   (guint) MPEL_MAX_PARTIAL_MESSAGES);
      return NULL;
    }

  free_slot->block = in_block_new (conn, size);
  if (free_slot->block == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE,
                   _("Not enough memory for a message of %zu bytes"), size);
      return NULL;
    }
  free_slot->data = (guint8 *) free_slot->block->data;
  free_slot->number = number;
  free_slot->size = size;
  free_slot->received = 0;

  return free_slot;
}

/* The chunk being read: takes what the read buffer has of it, and once it
 * is all there (its padding too), hands the message on if it is whole.
 * Returns as _mpel_connection_next_chunk() does. */
gboolean
_mpel_connection_chunk_continue (MpelConnection  *conn,
                                 GBytes         **payload,
                                 gsize           *needed)
{
  ChunkIn *in = conn->chunk_reading;
  gsize have = conn->rend - conn->rstart;
  gsize n = MIN (have, conn->chunk_left);

  *payload = NULL;
  memcpy (in->data + in->received, conn->rbuf + conn->rstart, n);
  in->received += n;
  conn->chunk_left -= n;
  conn->rstart += n;
  have -= n;

  /* The rest is read past the read buffer, straight into the message. */
  *needed = conn->chunk_left + conn->chunk_pad;
  if (conn->chunk_left > 0 || have < conn->chunk_pad)
    return FALSE;

  conn->rstart += conn->chunk_pad;
  conn->chunk_pad = 0;
  conn->chunk_reading = NULL;
  if (in->received == in->size)
    {
      ReadBlock *block = g_steal_pointer (&in->block);

      /* Kept to be reused once the message is let go */
      g_clear_pointer (&conn->in_cache, _mpel_read_block_unref);
      g_atomic_ref_count_inc (&block->ref);
      conn->in_cache = block;
      *payload = g_bytes_new_with_free_func (block->data, in->size, _mpel_read_block_unref, block);
      in->number = 0;
      in->data = NULL;
    }

  return TRUE;
}

/* A chunk at rstart, whose header says it carries @len bytes. Returns as
 * next_frame() does: TRUE with @payload set when it completes a message,
 * TRUE with @payload NULL when more chunks are to come, FALSE when more
 * bytes are needed (@needed) or on a protocol error. */
gboolean
_mpel_connection_next_chunk (MpelConnection  *conn,
                             gsize            len,
                             GBytes         **payload,
                             gsize           *needed,
                             GError         **error)
{
  gsize have = conn->rend - conn->rstart;
  guint32 words[4];
  guint64 size;
  ChunkIn *in;

  *payload = NULL;
  if ((conn->features & MPEL_FEATURE_CHUNKS) == 0)
    return _mpel_protocol_error (error, _("the peer sent a chunk over a connection without them"));
  if (len > MPEL_MAX_CHUNK)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("Protocol error: a chunk of %zu bytes is over the limit of %u bytes"),
                   len, (guint) MPEL_MAX_CHUNK);
      return FALSE;
    }

  *needed = MPEL_FRAME_HEADER_SIZE + MPEL_CHUNK_HEADER_SIZE;
  if (have < *needed)
    return FALSE;

  memcpy (words, conn->rbuf + conn->rstart + MPEL_FRAME_HEADER_SIZE, sizeof words);
  size = GUINT32_FROM_LE (words[2]) | ((guint64) GUINT32_FROM_LE (words[3]) << 32);
  if (GUINT32_FROM_LE (words[0]) == 0 || GUINT32_FROM_LE (words[1]) != 0)
    return _mpel_protocol_error (error, _("a chunk has message number 0 or unknown flags"));
  if (size > MPEL_DEFAULT_MAX_MESSAGE)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("Protocol error: a message of %" G_GUINT64_FORMAT " bytes is over the limit of %zu bytes"),
                   size, MPEL_DEFAULT_MAX_MESSAGE);
      return FALSE;
    }

  in = chunk_in_find (conn, GUINT32_FROM_LE (words[0]), size, error);
  if (in == NULL)
    return FALSE;
  if (len > in->size - in->received)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("Protocol error: the chunks of a message carry more than the %zu bytes it announced"),
                   in->size);
      return FALSE;
    }

  conn->rstart += *needed;
  conn->chunk_reading = in;
  conn->chunk_left = len;
  conn->chunk_pad = MPEL_ALIGN8 (len) - len;
  if (!_mpel_connection_chunk_continue (conn, payload, needed))
    {
      /* Nothing more to decode until the rest of the chunk has come */
      return FALSE;
    }

  return TRUE;
}

/* Reads the rest of the chunk being read straight into its message.
 * Returns as read_some() does: bytes read, 0 on end-of-file, -1 when
 * nothing is there, -2 with @error set. */
gssize
_mpel_connection_read_chunk_data (MpelConnection  *conn,
                                  GError         **error)
{
  ChunkIn *in = conn->chunk_reading;
  gssize n = _mpel_connection_read_stream (conn, in->data + in->received, conn->chunk_left);

  if (n < 0)
    return _mpel_connection_read_failed (errno, error);

  in->received += n;
  conn->chunk_left -= n;
  conn->n_received += n;

  return n;
}

/* End-of-file in the middle of a message in chunks, or NULL */
GError *
_mpel_connection_chunks_eof_error (MpelConnection *conn)
{
  for (guint i = 0; i < MPEL_MAX_PARTIAL_MESSAGES; i++)
    if (conn->chunks_in[i].number != 0)
      return g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                          _("Protocol error: the peer hung up in the middle of a message of %zu bytes "
                            "(%zu received)"),
                          conn->chunks_in[i].size, conn->chunks_in[i].received);
  return NULL;
}

void
_mpel_connection_chunks_clear (MpelConnection *conn)
{
  for (guint i = 0; i < MPEL_MAX_PARTIAL_MESSAGES; i++)
    {
      g_clear_pointer (&conn->chunks_in[i].block, _mpel_read_block_unref);
      conn->chunks_in[i].data = NULL;
      conn->chunks_in[i].number = 0;
    }
  conn->chunk_reading = NULL;
  _mpel_connection_chunks_drop_output (conn);
  g_clear_pointer (&conn->out_cache, g_free);
  g_clear_pointer (&conn->in_cache, _mpel_read_block_unref);
}
