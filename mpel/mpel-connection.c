/* mpel-connection.c: moves protocol v1 frames over a socket: its sources,
 * buffers, sendmsg() and recvmsg(), the dispatch budget and throttling; or
 * over a byte stream (two pipes, ssh's stdio) with read() and write() only
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib-unix.h>

#include "mpel-types.h"
#include "mpel-bulk-private.h"
#include "mpel-connection-private.h"

#define READ_CHUNK             (64 * 1024)
#define MAX_READS_PER_DISPATCH 8
/* Mid-batch writes: checked every so many frames (a power of two), when
 * at least so many bytes are queued. */
#define FLUSH_EVERY_FRAMES     32
#define FLUSH_MIN_BYTES        2048
#define MAX_FDS_PER_SENDMSG    253
#define SPIN_HISTORY           8
#define SPIN_MIN_USEC          5
#define SPIN_MAX_BACKOFF       64

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

static void
read_block_unref (gpointer data)
{
  ReadBlock *block = data;

  if (g_atomic_ref_count_dec (&block->ref))
    g_free (block);
}

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

#define LAST_WORDS_HEADER_SIZE 64
/* Room for the largest inline frame with descriptors beside it. */
#define LAST_WORDS_DATA_SIZE   ((gsize) 1024 * 1024)
#define LAST_WORDS_MIN_DATA    (MPEL_FRAME_HEADER_SIZE + MPEL_DEFAULT_MEMFD_THRESHOLD)
#define LAST_WORDS_MAX_DATA    ((gsize) 16 * 1024 * 1024)

typedef struct
{
  GSource source;
  MpelConnection *conn;
} ConnectionSource;

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
  /* What follows in rbuf was read back from the peer's shared output after
   * it hung up: a frame that cannot be recovered ends it. */
  guint recovered : 1;
};

static void connection_process (MpelConnection *conn,
                                gboolean        drain);
static void connection_write (MpelConnection *conn);
static void connection_spin (MpelConnection *conn);
static void ensure_read_space (MpelConnection *conn,
                               gsize           needed);
static void queue_bulk_descriptor (guint32  id,
                                   guint32  flags,
                                   guint64  len,
                                   int      fd,
                                   gpointer user_data);

static void
close_fds (GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_set_size (fds, 0);
}

static void
connection_update_events (MpelConnection *conn)
{
  GIOCondition events = 0;

  if (conn->closed)
    return;
  if (!conn->throttled && !conn->eof && !conn->suspended)
    events |= G_IO_IN;
  if (conn->want_write && !conn->suspended)
    events |= G_IO_OUT;

  if (conn->out_fd == conn->fd)
    {
      g_source_modify_unix_fd (conn->source, conn->fd_tag, events);
      return;
    }

  g_source_modify_unix_fd (conn->source, conn->fd_tag, events & G_IO_IN);
  if ((events & G_IO_OUT) != 0 && conn->out_tag == NULL)
    conn->out_tag = g_source_add_unix_fd (conn->source, conn->out_fd, G_IO_OUT);
  else if ((events & G_IO_OUT) == 0 && conn->out_tag != NULL)
    {
      g_source_remove_unix_fd (conn->source, conn->out_tag);
      conn->out_tag = NULL;
    }
}

/* Right after sending calls whose answers are awaited, watch the socket for
 * a few tens of microseconds before going back to the main loop. An answer
 * that comes meanwhile is handled at once: going to sleep in poll() and
 * being woken costs far more than that on a VM (a bare blocking ping-pong
 * between two CPUs takes ~65 µs here, ~30 µs with the waiting side awake),
 * and the main context is held for no longer than a dispatch slice.
 *
 * The spin adapts, so that it burns CPU (on the GUI thread) only while it
 * pays: it lasts 1.5× the median time the last answers took to come, at
 * most spin_usec; a spin that gives up makes the next ones be skipped, one,
 * then two, four… up to 64 sends, until one catches its answer again (a
 * worker whose handlers take longer than a spin, or both ends on one CPU,
 * where spinning only keeps the worker from running). */
static void
spin_record (MpelConnection *conn,
             gint64          usec)
{
  conn->spin_history[conn->spin_history_pos] = (guint16) CLAMP (usec, 0, conn->spin_usec);
  conn->spin_history_pos = (conn->spin_history_pos + 1) % SPIN_HISTORY;
  conn->spin_history_len = MIN (conn->spin_history_len + 1, SPIN_HISTORY);
}

static gint64
spin_limit (MpelConnection *conn)
{
  guint16 sorted[SPIN_HISTORY];
  guint n = conn->spin_history_len;

  if (n == 0)
    return conn->spin_usec;

  /* Insertion sort of at most 8 */
  for (guint i = 0; i < n; i++)
    {
      guint16 v = conn->spin_history[i];
      guint j = i;

      for (; j > 0 && sorted[j - 1] > v; j--)
        sorted[j] = sorted[j - 1];
      sorted[j] = v;
    }

  return CLAMP (sorted[n / 2] * 3 / 2, SPIN_MIN_USEC, conn->spin_usec);
}

/* An answer came in a dispatch, after a spin that gave up or was skipped:
 * how long it took, wake-up included, tells the next spins how long to
 * wait (capped at spin_usec). */
static void
spin_note_answer (MpelConnection *conn)
{
  if (conn->spin_missed_at == 0)
    return;
  spin_record (conn, g_get_monotonic_time () - conn->spin_missed_at);
  conn->spin_missed_at = 0;
}

static void
connection_spin (MpelConnection *conn)
{
  gint64 start, until, now;

  if (conn->spin_usec <= 0 || conn->want_spin == NULL || conn->closed ||
      conn->throttled || conn->rend > conn->rstart ||
      !conn->want_spin (conn, conn->user_data))
    return;

  start = g_get_monotonic_time ();
  if (conn->spin_skip > 0)
    {
      conn->spin_skip--;
      if (conn->spin_missed_at == 0)
        conn->spin_missed_at = start;
      return;
    }

  until = start + spin_limit (conn);
  do
    {
      struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };

      if (poll (&pfd, 1, 0) > 0)
        {
          spin_record (conn, g_get_monotonic_time () - start);
          conn->spin_backoff = 0;
          conn->spin_missed_at = 0;
          connection_process (conn, FALSE);
          return;
        }
      now = g_get_monotonic_time ();
    }
  while (now < until);

  conn->spin_backoff = conn->spin_backoff == 0 ? 1 : MIN (conn->spin_backoff * 2, SPIN_MAX_BACKOFF);
  conn->spin_skip = conn->spin_backoff;
  if (conn->spin_missed_at == 0)
    conn->spin_missed_at = start;
}

static gboolean
connection_source_dispatch (GSource     *source,
                            GSourceFunc  callback,
                            gpointer     user_data)
{
  MpelConnection *conn = ((ConnectionSource *) source)->conn;
  GIOCondition revents;
  gboolean wrote = FALSE;

  /* A handler ran a main loop of its own (the source can recurse, see
   * mpel_connection_new()): stop polling until the outer dispatch is back,
   * rather than decode frames under it or spin. */
  if (conn->in_dispatch)
    {
      if (!conn->suspended)
        {
          conn->suspended = TRUE;
          connection_update_events (conn);
        }
      return G_SOURCE_CONTINUE;
    }

  /* Only when set: setting it wakes the context up. */
  if (g_source_get_ready_time (source) != -1)
    g_source_set_ready_time (source, -1);
  revents = g_source_query_unix_fd (source, conn->fd_tag);

  mpel_connection_ref (conn);
  conn->in_dispatch = TRUE;

  if (!conn->closed && conn->wend > conn->wstart)
    {
      connection_write (conn);
      wrote = TRUE;
    }

  if (!conn->closed && !conn->throttled &&
      ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) != 0 || conn->rend > conn->rstart))
    {
      if ((revents & G_IO_IN) != 0)
        spin_note_answer (conn);
      connection_process (conn, FALSE);
    }

  /* Results queued by the handlers of this batch go out now rather than on
   * the next iteration. */
  if (!conn->closed && conn->wend > conn->wstart)
    {
      connection_write (conn);
      wrote = TRUE;
    }

  if (wrote)
    connection_spin (conn);

  conn->in_dispatch = FALSE;
  if (conn->suspended)
    {
      conn->suspended = FALSE;
      connection_update_events (conn);
      g_source_set_ready_time (source, 0);
    }

  mpel_connection_unref (conn);

  return G_SOURCE_CONTINUE;
}

/* Frames queued since the last dispatch make the source ready here, on
 * every iteration, rather than through g_source_set_ready_time(), which in
 * GLib 2.74 wakes the context up through its eventfd even from its own
 * thread: a write, a poll and a read more for every batch. */
static gboolean
connection_source_prepare (GSource *source,
                           int     *timeout)
{
  MpelConnection *conn = ((ConnectionSource *) source)->conn;

  *timeout = -1;

  return !conn->closed && !conn->in_dispatch && !conn->want_write && conn->wend > conn->wstart;
}

static GSourceFuncs connection_source_funcs = {
  .prepare = connection_source_prepare,
  .dispatch = connection_source_dispatch,
};

static gboolean
resume_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  MpelConnection *conn = ((ConnectionSource *) source)->conn;

  if (g_source_get_ready_time (source) != -1)
    g_source_set_ready_time (source, -1);
  if (conn->closed || !conn->throttled)
    return G_SOURCE_CONTINUE;

  conn->throttled = FALSE;
  connection_update_events (conn);
  g_source_set_ready_time (conn->source, 0);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs resume_source_funcs = {
  .dispatch = resume_source_dispatch,
};

static MpelConnection *
connection_new (int                       fd,
                int                       out_fd,
                gboolean                  stream,
                GMainContext             *context,
                MpelConnectionFrameFunc   frame_func,
                MpelConnectionClosedFunc  closed_func,
                gpointer                  user_data)
{
  MpelConnection *conn;
  struct stat st;

  conn = g_new0 (MpelConnection, 1);
  g_ref_count_init (&conn->ref_count);
  conn->fd = fd;
  conn->out_fd = out_fd;
  conn->stream = stream;
  conn->out_is_socket = fstat (out_fd, &st) == 0 && S_ISSOCK (st.st_mode);
  if (stream)
    {
      /* No shared buffers: every payload up to the message limit goes
       * inline, both ways. Only peers that know streams speak over one. */
      conn->features = MPEL_FEATURE_NONE;
      conn->peer_features = MPEL_FEATURE_NONE;
      conn->max_frame = MPEL_DEFAULT_MAX_MESSAGE;
      conn->peer_max_frame = MPEL_DEFAULT_MAX_MESSAGE;
      conn->max_inline = MPEL_DEFAULT_MAX_MESSAGE;
    }
  else
    {
      conn->features = MPEL_FEATURES_SOCKET;
      conn->peer_features = MPEL_FEATURES_LEGACY;
      conn->max_frame = MPEL_DEFAULT_MAX_FRAME;
      conn->peer_max_frame = MPEL_DEFAULT_MAX_FRAME;
      conn->max_inline = MPEL_DEFAULT_MEMFD_THRESHOLD;
    }
  conn->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  conn->frame_func = frame_func;
  conn->closed_func = closed_func;
  conn->user_data = user_data;
  conn->rfds = g_array_new (FALSE, FALSE, sizeof (int));
  conn->wfds = g_array_new (FALSE, FALSE, sizeof (int));
  conn->bulk = _mpel_bulk_new (queue_bulk_descriptor, conn);

  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  if (out_fd != fd)
    g_unix_set_fd_nonblocking (out_fd, TRUE, NULL);

  conn->source = g_source_new (&connection_source_funcs, sizeof (ConnectionSource));
  ((ConnectionSource *) conn->source)->conn = conn;
  g_source_set_static_name (conn->source, "[mpel] connection");
  /* GLib takes the poll fds of a source that cannot recurse out of the
   * context and puts them back around every dispatch, and each of those
   * wakes the context up: two eventfd writes, a poll and a read more per
   * batch. connection_source_dispatch() handles recursion itself. */
  g_source_set_can_recurse (conn->source, TRUE);
  conn->fd_tag = g_source_add_unix_fd (conn->source, fd, G_IO_IN);
  g_source_attach (conn->source, conn->context);

  /* Runs below the redraw priority, so that a flood of frames yields to
   * drawing between two dispatch slices. */
  conn->resume_source = g_source_new (&resume_source_funcs, sizeof (ConnectionSource));
  ((ConnectionSource *) conn->resume_source)->conn = conn;
  g_source_set_static_name (conn->resume_source, "[mpel] connection resume");
  g_source_set_priority (conn->resume_source, G_PRIORITY_DEFAULT_IDLE);
  g_source_attach (conn->resume_source, conn->context);

  return conn;
}

MpelConnection *
mpel_connection_new (int                       fd,
                     GMainContext             *context,
                     MpelConnectionFrameFunc   frame_func,
                     MpelConnectionClosedFunc  closed_func,
                     gpointer                  user_data)
{
  g_return_val_if_fail (fd >= 0, NULL);

  return connection_new (fd, fd, FALSE, context, frame_func, closed_func, user_data);
}

MpelConnection *
mpel_connection_new_stream (int                       in_fd,
                            int                       out_fd,
                            GMainContext             *context,
                            MpelConnectionFrameFunc   frame_func,
                            MpelConnectionClosedFunc  closed_func,
                            gpointer                  user_data)
{
  g_return_val_if_fail (in_fd >= 0, NULL);
  g_return_val_if_fail (out_fd >= 0, NULL);

  return connection_new (in_fd, out_fd, TRUE, context, frame_func, closed_func, user_data);
}

MpelConnection *
mpel_connection_ref (MpelConnection *conn)
{
  g_ref_count_inc (&conn->ref_count);
  return conn;
}

void
mpel_connection_unref (MpelConnection *conn)
{
  if (!g_ref_count_dec (&conn->ref_count))
    return;

  mpel_connection_close (conn);
  g_array_unref (conn->rfds);
  g_array_unref (conn->wfds);
  _mpel_bulk_free (conn->bulk);
  g_main_context_unref (conn->context);
  g_free (conn);
}

void
mpel_connection_set_budget (MpelConnection *conn,
                            gint64          budget_usec)
{
  conn->budget_usec = budget_usec;
}

void
mpel_connection_set_spin (MpelConnection *conn,
                          gint64          spin_usec,
                          gboolean      (*want_spin) (MpelConnection *conn,
                                                      gpointer        user_data))
{
  conn->spin_usec = spin_usec;
  conn->want_spin = want_spin;
}

gboolean
mpel_connection_is_closed (MpelConnection *conn)
{
  return conn->closed;
}

gsize
mpel_connection_get_n_queued (MpelConnection *conn)
{
  return conn->wend - conn->wstart;
}

MpelFeatures
mpel_connection_get_features (MpelConnection *conn)
{
  return conn->features;
}

/* Whether both ends have @feature (as far as we know: before the peer's
 * HELLO, a socket's peer is taken to have the legacy features). */
gboolean
mpel_connection_can_use (MpelConnection *conn,
                         MpelFeatures    feature)
{
  return (conn->features & conn->peer_features & feature) == feature;
}

/* The largest inline payload we take, for our HELLO's max-frame */
guint32
mpel_connection_get_max_frame (MpelConnection *conn)
{
  return (guint32) conn->max_frame;
}

static const struct {
  MpelFeatures feature;
  const char *name;
} feature_names[] = {
  { MPEL_FEATURE_FD_PASSING, "fd-passing" },
  { MPEL_FEATURE_BULK, "bulk" },
  { MPEL_FEATURE_LAST_WORDS, "last-words" },
};

/* HELLO's `features`, an `as`. Floating. */
GVariant *
mpel_features_to_variant (MpelFeatures features)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < G_N_ELEMENTS (feature_names); i++)
    if ((features & feature_names[i].feature) != 0)
      g_variant_builder_add (&builder, "s", feature_names[i].name);

  return g_variant_builder_end (&builder);
}

/* Names it does not know are a newer peer's: ignored. */
static MpelFeatures
features_from_variant (GVariant *strv)
{
  MpelFeatures features = MPEL_FEATURE_NONE;
  GVariantIter iter;
  const char *name;

  g_variant_iter_init (&iter, strv);
  while (g_variant_iter_next (&iter, "&s", &name))
    for (guint i = 0; i < G_N_ELEMENTS (feature_names); i++)
      if (strcmp (name, feature_names[i].name) == 0)
        features |= feature_names[i].feature;

  return features;
}

void
mpel_connection_close (MpelConnection *conn)
{
  if (conn->closed)
    return;

  conn->closed = TRUE;

  if (conn->source != NULL)
    {
      g_source_destroy (conn->source);
      g_clear_pointer (&conn->source, g_source_unref);
    }
  if (conn->resume_source != NULL)
    {
      g_source_destroy (conn->resume_source);
      g_clear_pointer (&conn->resume_source, g_source_unref);
    }

  if (conn->out_fd != conn->fd)
    close (conn->out_fd);
  close (conn->fd);
  conn->fd = -1;
  conn->out_fd = -1;
  conn->out_tag = NULL;
  close_fds (conn->rfds);
  close_fds (conn->wfds);
  _mpel_bulk_clear (conn->bulk);
  g_clear_pointer (&conn->rblock, read_block_unref);
  conn->rbuf = NULL;
  if (conn->out_region != NULL)
    {
      munmap (conn->out_region, conn->out_region_size);
      conn->out_region = NULL;
      conn->wbuf = NULL;
    }
  g_clear_pointer (&conn->wbuf, g_free);
  if (conn->in_region != NULL)
    {
      munmap ((gpointer) conn->in_region, conn->in_region_size);
      conn->in_region = NULL;
    }
  conn->rcap = conn->rstart = conn->rend = 0;
  conn->wcap = conn->wstart = conn->wend = 0;
}

void
mpel_connection_fail (MpelConnection *conn,
                      GError         *error)
{
  g_autoptr(GError) owned = error;

  if (conn->closed)
    return;

  mpel_connection_ref (conn);
  mpel_connection_close (conn);
  if (conn->closed_func != NULL)
    conn->closed_func (conn, owned, conn->user_data);
  mpel_connection_unref (conn);
}

static void
connection_eof (MpelConnection *conn)
{
  if (conn->closed)
    return;

  mpel_connection_ref (conn);
  mpel_connection_close (conn);
  if (conn->closed_func != NULL)
    conn->closed_func (conn, NULL, conn->user_data);
  mpel_connection_unref (conn);
}

/* Write side */

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

/* Whole frames up to wend are queued: in a shared output, the peer may read
 * them back from now on. The stores are ordered for the compiler only; the
 * peer reads the region after this process is gone. */
static inline void
output_commit (MpelConnection *conn)
{
  if (conn->out_region != NULL)
    __atomic_store_n (&conn->out_region->committed, conn->wbase + conn->wend, __ATOMIC_RELEASE);
}

static void
ensure_write_space (MpelConnection *conn,
                    gsize           needed)
{
  if (conn->wcap - conn->wend >= needed)
    return;

  if (conn->out_region != NULL)
    {
      /* The region does not move, and what it holds must stay where the
       * header says: write it all out, then start over. Rare: it holds
       * a megabyte, and a batch's answers leave at the end of the batch. */
      if (conn->wend > conn->wstart && !mpel_connection_flush_sync (conn, NULL))
        close_fds (conn->wfds);
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
static void
queue_bulk_descriptor (guint32  id,
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

  ensure_write_space (conn, sizeof words);
  memcpy (conn->wbuf + conn->wend, words, sizeof words);
  conn->wend += sizeof words;
  if (fd >= 0)
    g_array_append_val (conn->wfds, fd);
  output_commit (conn);
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

static void
send_inline (MpelConnection           *conn,
             const MpelEnvelopeLayout *layout,
             guint8                    kind,
             guint32                   flags,
             guint64                   id)
{
  gsize size = layout->total;
  gsize padded = MPEL_ALIGN8 (size);
  guint32 header[2];

  header[0] = GUINT32_TO_LE ((guint32) size);
  header[1] = GUINT32_TO_LE (0);
  ensure_write_space (conn, sizeof header + padded);
  memcpy (conn->wbuf + conn->wend, header, sizeof header);
  _mpel_envelope_write_layout (conn->wbuf + conn->wend + sizeof header, layout, kind, flags, id);
  memset (conn->wbuf + conn->wend + sizeof header + size, 0, padded - size);
  conn->wend += sizeof header + padded;
}

/* A frame over the inline limit goes in a shared buffer when both ends have
 * them, and inline up to what the peer takes otherwise (a byte stream:
 * the same message limit, no memfd). */
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
      if (mpel_connection_can_use (conn, MPEL_FEATURE_BULK))
        return send_bulk (conn, layout, kind, flags, id, error);

      if (layout->total > conn->peer_max_frame)
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE,
                       _("A message of %zu bytes is over the limit of %zu bytes"),
                       layout->total, conn->peer_max_frame);
          return FALSE;
        }
    }

  send_inline (conn, layout, kind, flags, id);
  output_commit (conn);

  return TRUE;
}

/* Queues a frame. Floating @body and @meta are sunk and released. */
gboolean
mpel_connection_send (MpelConnection  *conn,
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
mpel_connection_send_call (MpelConnection  *conn,
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
 * pending). */
static gssize
write_stream (MpelConnection *conn,
              const guint8   *data,
              gsize           len)
{
  sigset_t block, old, pending;
  gboolean was_pending;
  gssize n;
  int errsv;

  if (conn->out_is_socket)
    {
      do
        n = send (conn->out_fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      while (n < 0 && errno == EINTR);
      return n;
    }

  sigemptyset (&block);
  sigaddset (&block, SIGPIPE);
  sigpending (&pending);
  was_pending = sigismember (&pending, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &block, &old);

  do
    n = write (conn->out_fd, data, len);
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
    n = write_stream (conn, conn->wbuf + conn->wstart, conn->wend - conn->wstart);
  else
    do
      n = sendmsg (conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      int errsv = errno;

      if (errsv == EAGAIN || errsv == EWOULDBLOCK)
        return 0;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Could not write to the peer: %s"), g_strerror (errsv));
      return -1;
    }

  /* Descriptors travel with the first byte of a sendmsg(), so every one
   * attached here has been passed, even if the write was short. */
  for (guint i = 0; i < n_fds; i++)
    close (g_array_index (conn->wfds, int, i));
  g_array_remove_range (conn->wfds, 0, n_fds);

  return n;
}

static void
connection_write (MpelConnection *conn)
{
  while (conn->wend > conn->wstart)
    {
      GError *error = NULL;
      gssize n = write_some (conn, &error);

      if (n < 0)
        {
          /* The peer is gone; the read side reports it as EOF once the
           * data it sent before going has been read. */
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
              g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
            {
              g_error_free (error);
              close_fds (conn->wfds);
              break;
            }
          mpel_connection_fail (conn, error);
          return;
        }

      if (n == 0)
        {
          if (!conn->want_write)
            {
              conn->want_write = TRUE;
              connection_update_events (conn);
            }
          return;
        }

      conn->wstart += n;
    }

  output_reset (conn);
  if (conn->want_write)
    {
      conn->want_write = FALSE;
      connection_update_events (conn);
    }
}

/* Hands on every frame the peer has sent, without waiting for more: for a
 * peer that is known to be gone, whose last words must not be lost. Does
 * nothing while the connection is dispatching. */
void
mpel_connection_drain (MpelConnection *conn)
{
  if (conn->closed || conn->in_dispatch)
    return;

  mpel_connection_ref (conn);
  conn->in_dispatch = TRUE;
  if (conn->throttled)
    {
      conn->throttled = FALSE;
      connection_update_events (conn);
    }
  connection_process (conn, TRUE);
  conn->in_dispatch = FALSE;
  mpel_connection_unref (conn);
}

gboolean
mpel_connection_flush_sync (MpelConnection  *conn,
                            GError         **error)
{
  while (!conn->closed && conn->wend > conn->wstart)
    {
      gssize n = write_some (conn, error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          struct pollfd pfd = { .fd = conn->out_fd, .events = POLLOUT };

          if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
            {
              int errsv = errno;

              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                           "poll: %s", g_strerror (errsv));
              return FALSE;
            }
          continue;
        }
      conn->wstart += n;
    }

  if (!conn->closed)
    output_reset (conn);

  return !conn->closed;
}

/* Moves the output buffer into a sealed memfd and lends it to the peer
 * (a descriptor with MPEL_BULK_FLAG_LAST_WORDS), which reads what was
 * queued but not written back from it once we are gone. Call it before
 * anything was written, right after HELLO. Returns FALSE with @error set
 * when the system cannot make one; the connection then works as before.
 */
gboolean
mpel_connection_share_output (MpelConnection  *conn,
                              GError         **error)
{
#ifdef HAVE_MEMFD_CREATE
  gsize size = LAST_WORDS_HEADER_SIZE + LAST_WORDS_DATA_SIZE;
  gsize queued = conn->wend - conn->wstart;
  LastWordsHeader *region;
  int fd, errsv;

  g_return_val_if_fail (!conn->closed, FALSE);
  g_return_val_if_fail (conn->out_region == NULL, FALSE);
  g_return_val_if_fail (!conn->stream, FALSE);
  g_return_val_if_fail (queued <= LAST_WORDS_DATA_SIZE / 2, FALSE);

  fd = memfd_create ("mpel-last-words", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 ||
      ftruncate (fd, size) < 0 ||
      fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    goto fail;

  region = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (region == MAP_FAILED)
    goto fail;

  if (queued > 0)
    memcpy ((guint8 *) region + LAST_WORDS_HEADER_SIZE, conn->wbuf + conn->wstart, queued);
  g_free (conn->wbuf);
  conn->wbase += conn->wstart;
  conn->wbuf = (guint8 *) region + LAST_WORDS_HEADER_SIZE;
  conn->wcap = LAST_WORDS_DATA_SIZE;
  conn->wstart = 0;
  conn->wend = queued;
  conn->out_region = region;
  conn->out_region_size = size;
  region->base = conn->wbase;
  output_commit (conn);

  queue_bulk_descriptor (0, MPEL_BULK_FLAG_LAST_WORDS, size, fd, conn);

  return TRUE;

fail:
  errsv = errno;
  if (fd >= 0)
    close (fd);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               _("Could not make a shared buffer of %zu bytes: %s"),
               size, g_strerror (errsv));
  return FALSE;
#else
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "memfd_create");
  return FALSE;
#endif
}

gboolean
mpel_connection_has_shared_output (MpelConnection *conn)
{
  return conn->out_region != NULL;
}

/* Read side */

/* The peer lends us its output buffer. Takes @fd. */
static gboolean
connection_take_last_words (MpelConnection  *conn,
                            int              fd,
                            guint64          len,
                            GError         **error)
{
  struct stat st;
  int seals;
  void *map;

  if (fd < 0 || conn->in_region != NULL)
    {
      if (fd >= 0)
        close (fd);
      return _mpel_protocol_error (error, _("the peer lent its output buffer twice, or without a descriptor"));
    }

  seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0 || (seals & F_SEAL_SHRINK) == 0 ||
      fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || (guint64) st.st_size != len ||
      len < LAST_WORDS_HEADER_SIZE + LAST_WORDS_MIN_DATA ||
      len > LAST_WORDS_HEADER_SIZE + LAST_WORDS_MAX_DATA)
    {
      close (fd);
      return _mpel_protocol_error (error, _("the peer’s output buffer is not sealed or has a size out of range"));
    }

  map = mmap (NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  close (fd);
  if (map == MAP_FAILED)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Could not map a shared buffer: %s"), g_strerror (errsv));
      return FALSE;
    }

  conn->in_region = map;
  conn->in_region_size = len;

  return TRUE;
}

/* The peer hung up: what it had queued but not written, whole frames, is
 * still in its output buffer. Appended to what was read, it goes through
 * the same checks as everything else; a region that does not add up is
 * ignored, as if the peer had shared nothing. */
static void
connection_recover_last_words (MpelConnection *conn)
{
  const LastWordsHeader *header = (const LastWordsHeader *) (gconstpointer) conn->in_region;
  gsize cap = conn->in_region_size - LAST_WORDS_HEADER_SIZE;
  guint64 base = __atomic_load_n (&header->base, __ATOMIC_ACQUIRE);
  guint64 committed = __atomic_load_n (&header->committed, __ATOMIC_ACQUIRE);

  if (base <= conn->n_received && conn->n_received < committed && committed - base <= cap)
    {
      gsize len = committed - conn->n_received;

      ensure_read_space (conn, len);
      memcpy (conn->rbuf + conn->rend,
              conn->in_region + LAST_WORDS_HEADER_SIZE + (conn->n_received - base), len);
      conn->rend += len;
      conn->n_received += len;
      conn->recovered = TRUE;
    }

  munmap ((gpointer) conn->in_region, conn->in_region_size);
  conn->in_region = NULL;
}

/* Returns bytes read, 0 on EOF, -1 when nothing is there (EAGAIN), -2 with
 * @error set. */
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
    do
      n = read (conn->fd, iov.iov_base, iov.iov_len);
    while (n < 0 && errno == EINTR);
  else
    do
      n = recvmsg (conn->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      int errsv = errno;

      if (errsv == EAGAIN || errsv == EWOULDBLOCK)
        return -1;
      if (errsv == ECONNRESET || errsv == EIO)
        return 0;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Could not read from the peer: %s"), g_strerror (errsv));
      return -2;
    }

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

static void
ensure_read_space (MpelConnection *conn,
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
      g_clear_pointer (&conn->rblock, read_block_unref);
      conn->rblock = block;
      conn->rbuf = (guint8 *) block->data;
      conn->rcap = block->cap;
      conn->rstart = 0;
      conn->rend = have;
    }
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

  *needed = MPEL_FRAME_HEADER_SIZE;
  if (have < MPEL_FRAME_HEADER_SIZE)
    return FALSE;

  memcpy (header, conn->rbuf + conn->rstart, sizeof header);
  len = GUINT32_FROM_LE (header[0]);
  n_fds = GUINT32_FROM_LE (header[1]);

  if (len == 0)
    {
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
          return connection_take_last_words (conn, fd, bulk_len, error);
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
  connection_update_events (conn);
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
    conn->peer_features = features_from_variant (features);
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

  conn->max_inline = mpel_connection_can_use (conn, MPEL_FEATURE_BULK)
                       ? MIN (MPEL_DEFAULT_MEMFD_THRESHOLD, conn->peer_max_frame)
                       : conn->peer_max_frame;

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
                                     read_block_unref, read_block_ref (inline_frame->block));
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
      ok = mpel_envelope_parse (payload, &frame, &error);
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
      g_clear_pointer (&inline_frame.block, read_block_unref);
      return TRUE;
    }
  if (!ok)
    {
      g_clear_pointer (&inline_frame.block, read_block_unref);
      mpel_connection_fail (conn, error);
      return FALSE;
    }

  if (frame.kind == MPEL_FRAME_HELLO && !connection_read_hello (conn, &frame, &error))
    {
      mpel_frame_clear (&frame);
      g_clear_pointer (&inline_frame.block, read_block_unref);
      mpel_connection_fail (conn, error);
      return FALSE;
    }

  ok = conn->frame_func (conn, &frame, conn->user_data);
  mpel_frame_clear (&frame);
  g_clear_pointer (&inline_frame.block, read_block_unref);

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
      mpel_connection_fail (conn, g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                               _("Protocol error: the peer passed file descriptors no frame announced")));
      return TRUE;
    }
  return FALSE;
}

static void
connection_end_of_input (MpelConnection *conn)
{
  if (conn->rend > conn->rstart && !conn->recovered)
    mpel_connection_fail (conn, g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                             _("Protocol error: the peer hung up in the middle of a frame")));
  else
    connection_eof (conn);
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

  /* Room for the rest of the frame: a large inline frame (a byte stream's)
   * comes in many reads, and must not be moved at every one. */
  ensure_read_space (conn, MAX (needed > have ? needed - have : 0, READ_CHUNK / 4));

  n = read_some (conn, &error);
  if (n == -2)
    {
      mpel_connection_fail (conn, error);
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
        connection_recover_last_words (conn);
      return TRUE;
    }
  conn->rend += n;

  /* A short read drained the socket: decode what came and wait for
   * poll() rather than spend a recvmsg() on EAGAIN. */
  if ((gsize) n < conn->rcap - (conn->rend - n))
    *drained = TRUE;

  return TRUE;
}

/* Decodes and hands on whole frames, reading as needed. Normally within the
 * time budget and a few reads, so that other sources get their turn; with
 * @drain, until the socket has nothing more. A handler that returns FALSE
 * ends the batch. */
static void
connection_process (MpelConnection *conn,
                    gboolean        drain)
{
  gint64 deadline = conn->budget_usec > 0 && !drain ? g_get_monotonic_time () + conn->budget_usec : 0;
  guint n_reads = 0;
  guint n_frames = 0;
  gboolean drained = FALSE;

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
              connection_write (conn);
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
          mpel_connection_fail (conn, error);
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
