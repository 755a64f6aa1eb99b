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

/* mpel-last-words.c */
gboolean _mpel_connection_take_last_words    (MpelConnection  *conn,
                                              int              fd,
                                              guint64          len,
                                              GError         **error);
void     _mpel_connection_recover_last_words (MpelConnection  *conn);

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
