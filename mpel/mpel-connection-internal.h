/* mpel-connection-internal.h: what the modules of the connection share —
 * mpel-connection.c (the object, its sources, dispatch, the spin),
 * mpel-connection-write.c (the output buffer, sending, sendmsg()/write()),
 * mpel-connection-read.c (the read buffer, recvmsg()/read(), frames parsed
 * in place, the batch) and mpel-last-words.c (the worker's output shared
 * with the app, recovered at EOF). Nothing outside them includes it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sys/uio.h>

#include "mpel-bulk-private.h"
#include "mpel-connection-private.h"

G_BEGIN_DECLS

#define SPIN_HISTORY           8

/* The read buffer. Frames are parsed in place: a payload is a slice of the
 * block, which it keeps alive, so that a result costs no copy. The
 * connection only ever writes past rend, where no slice points; it moves
 * bytes back to the start only while it holds the block alone, and takes a
 * new block otherwise. Its data is 8-aligned, and frames start at multiples
 * of 8, as GVariant needs. */
typedef struct
{
  gatomicrefcount ref;
  gsize           cap;
  guint64         data[];
} ReadBlock;

void _mpel_read_block_unref (gpointer data);

/* Last words: the output buffer of a worker lives in a memfd that the app
 * maps too, so that what the worker has queued but not yet written can be
 * read back once it is gone (crashed, exited, killed). The region starts
 * with this header; the data follows. Offsets are positions in the byte
 * stream the sender writes to the socket. */
typedef struct
{
  guint64 base;       /* stream offset of the first data byte */
  guint64 committed;  /* stream offset after the last whole frame queued */
} LastWordsHeader;

/* Chunks (mpel-connection-chunks.c). A message being received in chunks:
 * its buffer grows with what came, up to the size it announced. */
typedef struct
{
  guint32 number;   /* the sender's; 0 when the slot is free */
  ReadBlock *block; /* its data is the message's */
  guint8 *data;
  gsize   cap;
  gsize   size;     /* announced */
  gsize   received;
} ChunkIn;

/* A message waiting behind the chunks of a large one: itself large (sent
 * in chunks), or a frame that may not overtake what is before it (sent
 * inline when its turn comes). */
typedef struct
{
  guint8 *data;     /* the envelope */
  gsize   size;
  gsize   sent;
  guint64 id;
  guint32 number;   /* 0 for a frame sent inline */
  guint8  kind;
  guint   barrier : 1;
} ChunkOut;

struct _MpelConnection
{
  grefcount ref_count;
  /* Read from fd, write to out_fd: the same socket, or the two ends of a
   * byte stream (watched for G_IO_OUT only while a write waits, through
   * out_tag: a pipe whose reader is gone polls POLLERR whatever we ask). */
  int fd;
  int out_fd;
  GMainContext *context;
  GSource *source;
  GSource *resume_source;
  gpointer fd_tag;
  gpointer out_tag;

  /* Ours, and the peer's as its HELLO gave them (MPEL_FEATURES_LEGACY on
   * a socket until then) */
  MpelFeatures features;
  MpelFeatures peer_features;
  /* The largest inline payload we take, and the peer takes */
  gsize max_frame;
  gsize peer_max_frame;

  MpelConnectionFrameFunc frame_func;
  MpelConnectionClosedFunc closed_func;
  gpointer user_data;

  ReadBlock *rblock; /* holds rbuf; frames read are slices of it */
  guint8 *rbuf;
  gsize rcap;
  gsize rstart;
  gsize rend;
  GArray *rfds;

  guint8 *wbuf;
  gsize wcap;
  gsize wstart;
  gsize wend;
  GArray *wfds;
  /* Stream offset of wbuf[0]: bytes written to the socket before it. */
  guint64 wbase;
  /* The region wbuf is in when the output is shared (the worker), or NULL */
  LastWordsHeader *out_region;
  gsize out_region_size;

  /* Bytes read from the socket so far, and the peer's shared output */
  guint64 n_received;
  const guint8 *in_region;
  gsize in_region_size;

  MpelBulk *bulk;
  /* Chunks: messages partly received, and waiting to be sent */
  ChunkIn chunks_in[MPEL_MAX_PARTIAL_MESSAGES];
  GQueue chunks_out;
  guint n_out_barriers;
  guint32 last_chunk_number;
  /* The chunk being written, straight from its message (the head of
   * chunks_out): its header, its length and how much of it is written */
  guint32 chunk_header[6];
  gsize chunk_len;
  gsize chunk_pos;
  /* The buffer of the last message sent in chunks, and the block of the
   * last one received (reused while nothing else holds it) */
  guint8 *out_cache;
  gsize out_cache_size;
  ReadBlock *in_cache;
  /* The chunk being read straight into its message, past the read buffer */
  ChunkIn *chunk_reading;
  gsize chunk_left;
  gsize chunk_pad;
  /* Inline frames above this go in shared buffers: our threshold, or less
   * if the peer's HELLO says it takes less. */
  gsize max_inline;

  gint64 budget_usec;
  /* When the slice of reading began: one budget covers the consecutive
   * iterations that read, until one iteration of the context does not
   * (see connection_source_prepare()), or 0 */
  gint64 slice_start;
  gint64 spin_usec;
  gboolean (*want_spin) (MpelConnection *conn, gpointer user_data);
  /* Adaptive spin: how long the last answers took to come while spinning
   * (or, capped at spin_usec, after a spin that gave up), and how many
   * spins to skip after failures */
  guint16 spin_history[SPIN_HISTORY];
  guint spin_history_len;
  guint spin_history_pos;
  guint spin_skip;
  guint spin_backoff;
  gint64 spin_missed_at;     /* when a spin gave up or was skipped, or 0 */

  guint stream : 1;
  guint out_is_socket : 1;
  guint in_is_socket : 1;
  /* Ends shared with others that we left blocking: polled before each
   * read or write */
  guint in_blocking : 1;
  guint out_blocking : 1;
  guint chunk_writing : 1;
  guint closed : 1;
  guint eof : 1;
  guint throttled : 1;
  guint want_write : 1;
  guint in_dispatch : 1;
  guint suspended : 1;
  guint read_this_iteration : 1;
  /* What follows in rbuf was read back from the peer's shared output after
   * it hung up: a frame that cannot be recovered ends it. */
  guint recovered : 1;
};

/* mpel-connection.c */
void     _mpel_connection_close_fds        (GArray         *fds);
void     _mpel_connection_update_events    (MpelConnection *conn);
void     _mpel_connection_eof              (MpelConnection *conn);
MpelFeatures _mpel_features_from_variant   (GVariant       *strv);

/* mpel-connection-write.c */
void     _mpel_connection_write            (MpelConnection *conn);
void     _mpel_connection_queue_bulk_descriptor (guint32  id,
                                                 guint32  flags,
                                                 guint64  len,
                                                 int      fd,
                                                 gpointer user_data);

/* mpel-connection-read.c */
void     _mpel_connection_process          (MpelConnection *conn,
                                            gboolean        drain);
void     _mpel_connection_ensure_read_space (MpelConnection *conn,
                                             gsize           needed);

/* mpel-connection-write.c, for the chunks */
void     _mpel_connection_ensure_write_space (MpelConnection *conn,
                                              gsize           needed);
void     _mpel_connection_append_inline    (MpelConnection *conn,
                                            const guint8   *envelope,
                                            gsize           size);
gssize   _mpel_connection_write_stream     (MpelConnection     *conn,
                                            const struct iovec *iov,
                                            int                 n_iov);

/* What a failed write with @errsv means: 0, nothing written (the peer's
 * end is full: wait for it), or -1 with @error set. */
int      _mpel_connection_write_failed     (int             errsv,
                                            GError        **error);

/* mpel-connection-read.c, for the chunks */
gssize   _mpel_connection_read_failed      (int             errsv,
                                            GError        **error);
gssize   _mpel_connection_read_stream      (MpelConnection *conn,
                                            guint8         *dest,
                                            gsize           len);

/* mpel-connection-chunks.c */
gboolean _mpel_connection_must_wait        (MpelConnection           *conn,
                                            const MpelEnvelopeLayout *layout,
                                            guint8                    kind,
                                            guint64                   id);
gboolean _mpel_connection_queue_chunked    (MpelConnection           *conn,
                                            const MpelEnvelopeLayout *layout,
                                            guint8                    kind,
                                            guint32                   flags,
                                            guint64                   id,
                                            gboolean                  chunked,
                                            GError                  **error);
gboolean _mpel_connection_next_chunk_out   (MpelConnection           *conn);
gssize   _mpel_connection_write_chunk      (MpelConnection           *conn,
                                            GError                  **error);
void     _mpel_connection_chunks_drop_output (MpelConnection         *conn);
gssize   _mpel_connection_read_chunk_data  (MpelConnection           *conn,
                                            GError                  **error);
gboolean _mpel_connection_chunk_continue   (MpelConnection           *conn,
                                            GBytes                  **payload,
                                            gsize                    *needed);
gboolean _mpel_connection_next_chunk       (MpelConnection           *conn,
                                            gsize                     len,
                                            GBytes                  **payload,
                                            gsize                    *needed,
                                            GError                  **error);
GError  *_mpel_connection_chunks_eof_error (MpelConnection           *conn);
void     _mpel_connection_chunks_clear     (MpelConnection           *conn);

/* mpel-last-words.c */
gboolean _mpel_connection_take_last_words    (MpelConnection  *conn,
                                              int              fd,
                                              guint64          len,
                                              GError         **error);
void     _mpel_connection_recover_last_words (MpelConnection  *conn);

/* Something to write: the output buffer, a chunk, messages in line */
static inline gboolean
_mpel_connection_has_output (MpelConnection *conn)
{
  return conn->wend > conn->wstart || conn->chunk_writing || conn->chunks_out.length > 0;
}

/* Whole frames up to wend are queued: in a shared output, the peer may read
 * them back from now on. The stores are ordered for the compiler only; the
 * peer reads the region after this process is gone. */
static inline void
_mpel_connection_output_commit (MpelConnection *conn)
{
  if (conn->out_region != NULL)
    __atomic_store_n (&conn->out_region->committed, conn->wbase + conn->wend, __ATOMIC_RELEASE);
}

G_END_DECLS
