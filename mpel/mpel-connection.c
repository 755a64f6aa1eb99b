/* mpel-connection.c: the connection that moves protocol v1 frames over a
 * socket or a byte stream: the object, its sources and their dispatch, the
 * short adaptive spin for awaited answers, features, closing. Writing is in
 * mpel-connection-write.c, reading in mpel-connection-read.c, the shared
 * output buffer in mpel-last-words.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "mpel-types.h"
#include "mpel-connection-internal.h"

#define SPIN_MIN_USEC          5
#define SPIN_MAX_BACKOFF       64

typedef struct
{
  GSource source;
  MpelConnection *conn;
} ConnectionSource;

void
_mpel_connection_close_fds (GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_set_size (fds, 0);
}

void
_mpel_connection_update_events (MpelConnection *conn)
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
          _mpel_connection_process (conn, FALSE);
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
   * _mpel_connection_new()): stop polling until the outer dispatch is back,
   * rather than decode frames under it or spin. */
  if (conn->in_dispatch)
    {
      if (!conn->suspended)
        {
          conn->suspended = TRUE;
          _mpel_connection_update_events (conn);
        }
      return G_SOURCE_CONTINUE;
    }

  /* Only when set: setting it wakes the context up. */
  if (g_source_get_ready_time (source) != -1)
    g_source_set_ready_time (source, -1);
  revents = g_source_query_unix_fd (source, conn->fd_tag);

  _mpel_connection_ref (conn);
  conn->in_dispatch = TRUE;

  if (!conn->closed && _mpel_connection_has_output (conn))
    {
      _mpel_connection_write (conn);
      wrote = TRUE;
    }

  if (!conn->closed && !conn->throttled &&
      ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) != 0 || conn->rend > conn->rstart))
    {
      if ((revents & G_IO_IN) != 0)
        spin_note_answer (conn);
      _mpel_connection_process (conn, FALSE);
    }

  /* Results queued by the handlers of this batch go out now rather than on
   * the next iteration. */
  if (!conn->closed && _mpel_connection_has_output (conn))
    {
      _mpel_connection_write (conn);
      wrote = TRUE;
    }

  if (wrote)
    connection_spin (conn);

  conn->in_dispatch = FALSE;
  if (conn->suspended)
    {
      conn->suspended = FALSE;
      _mpel_connection_update_events (conn);
      g_source_set_ready_time (source, 0);
    }

  _mpel_connection_unref (conn);

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

  /* The last iteration did not read: the sources of lower priority had
   * their turn, and the next read begins a new slice. */
  if (!conn->read_this_iteration)
    conn->slice_start = 0;
  conn->read_this_iteration = FALSE;

  return !conn->closed && !conn->in_dispatch && !conn->want_write && _mpel_connection_has_output (conn);
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
  _mpel_connection_update_events (conn);
  g_source_set_ready_time (conn->source, 0);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs resume_source_funcs = {
  .dispatch = resume_source_dispatch,
};

/* An end of a byte stream may be shared with others — the stdin and stdout
 * a worker inherited from ssh, a terminal or a shell — and O_NONBLOCK
 * lives on the open file description they share: setting it would make
 * their reads and writes fail with EAGAIN. A socket is read and written
 * with MSG_DONTWAIT instead; a pipe or a terminal is opened again through
 * /proc, which gives a description of our own to make non-blocking; a
 * regular file never blocks. Anything else (no /proc) is left blocking and
 * polled before each read or write (see _mpel_connection_read_stream()).
 * Returns the fd to use, and closes @fd if it is not that. */
static int
stream_end_open (int       fd,
                 int       mode,
                 gboolean *out_is_socket,
                 gboolean *out_blocking)
{
  char path[64];
  struct stat st, st2;
  int flags, new_fd;

  *out_is_socket = FALSE;
  *out_blocking = FALSE;
  if (fstat (fd, &st) < 0)
    return fd;
  if (S_ISSOCK (st.st_mode))
    {
      *out_is_socket = TRUE;
      return fd;
    }
  flags = fcntl (fd, F_GETFL);
  if (S_ISREG (st.st_mode) || (flags >= 0 && (flags & O_NONBLOCK) != 0))
    return fd;

  g_snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  new_fd = open (path, mode | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (new_fd >= 0 && fstat (new_fd, &st2) == 0 && st2.st_dev == st.st_dev && st2.st_ino == st.st_ino)
    {
      close (fd);
      return new_fd;
    }
  if (new_fd >= 0)
    close (new_fd);

  *out_blocking = TRUE;
  return fd;
}

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
      conn->features = MPEL_FEATURES_STREAM;
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
  conn->bulk = _mpel_bulk_new (_mpel_connection_queue_bulk_descriptor, conn);

  if (stream)
    {
      gboolean is_socket, blocking;

      if (out_fd == fd)
        {
          /* One end both ways: a socket, or a terminal */
          conn->fd = conn->out_fd = fd = out_fd = stream_end_open (fd, O_RDWR, &is_socket, &blocking);
          conn->in_is_socket = conn->out_is_socket = is_socket;
          conn->in_blocking = conn->out_blocking = blocking;
        }
      else
        {
          conn->fd = fd = stream_end_open (fd, O_RDONLY, &is_socket, &blocking);
          conn->in_is_socket = is_socket;
          conn->in_blocking = blocking;
          conn->out_fd = out_fd = stream_end_open (out_fd, O_WRONLY, &is_socket, &blocking);
          conn->out_is_socket = is_socket;
          conn->out_blocking = blocking;
        }
    }
  else
    g_unix_set_fd_nonblocking (fd, TRUE, NULL);

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
_mpel_connection_new (int                       fd,
                     GMainContext             *context,
                     MpelConnectionFrameFunc   frame_func,
                     MpelConnectionClosedFunc  closed_func,
                     gpointer                  user_data)
{
  g_return_val_if_fail (fd >= 0, NULL);

  return connection_new (fd, fd, FALSE, context, frame_func, closed_func, user_data);
}

MpelConnection *
_mpel_connection_new_stream (int                       in_fd,
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
_mpel_connection_ref (MpelConnection *conn)
{
  g_ref_count_inc (&conn->ref_count);
  return conn;
}

void
_mpel_connection_unref (MpelConnection *conn)
{
  if (!g_ref_count_dec (&conn->ref_count))
    return;

  _mpel_connection_close (conn);
  g_array_unref (conn->rfds);
  g_array_unref (conn->wfds);
  _mpel_bulk_free (conn->bulk);
  g_main_context_unref (conn->context);
  g_free (conn);
}

void
_mpel_connection_set_budget (MpelConnection *conn,
                            gint64          budget_usec)
{
  conn->budget_usec = budget_usec;
}

void
_mpel_connection_set_spin (MpelConnection *conn,
                          gint64          spin_usec,
                          gboolean      (*want_spin) (MpelConnection *conn,
                                                      gpointer        user_data))
{
  conn->spin_usec = spin_usec;
  conn->want_spin = want_spin;
}

gboolean
_mpel_connection_is_closed (MpelConnection *conn)
{
  return conn->closed;
}

gsize
_mpel_connection_get_n_queued (MpelConnection *conn)
{
  return conn->wend - conn->wstart;
}

MpelFeatures
_mpel_connection_get_features (MpelConnection *conn)
{
  return conn->features;
}

/* Whether both ends have @feature (as far as we know: before the peer's
 * HELLO, a socket's peer is taken to have the legacy features). */
gboolean
_mpel_connection_can_use (MpelConnection *conn,
                         MpelFeatures    feature)
{
  return (conn->features & conn->peer_features & feature) == feature;
}

/* The largest inline payload we take, for our HELLO's max-frame */
guint32
_mpel_connection_get_max_frame (MpelConnection *conn)
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
  { MPEL_FEATURE_CHUNKS, "chunks" },
};

/* HELLO's `features`, an `as`. Floating. */
GVariant *
_mpel_features_to_variant (MpelFeatures features)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < G_N_ELEMENTS (feature_names); i++)
    if ((features & feature_names[i].feature) != 0)
      g_variant_builder_add (&builder, "s", feature_names[i].name);

  return g_variant_builder_end (&builder);
}

/* Names it does not know are a newer peer's: ignored. */
MpelFeatures
_mpel_features_from_variant (GVariant *strv)
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
_mpel_connection_close (MpelConnection *conn)
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
  _mpel_connection_close_fds (conn->rfds);
  _mpel_connection_close_fds (conn->wfds);
  _mpel_bulk_clear (conn->bulk);
  _mpel_connection_chunks_clear (conn);
  g_clear_pointer (&conn->rblock, _mpel_read_block_unref);
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
_mpel_connection_fail (MpelConnection *conn,
                      GError         *error)
{
  g_autoptr(GError) owned = error;

  if (conn->closed)
    return;

  _mpel_connection_ref (conn);
  _mpel_connection_close (conn);
  if (conn->closed_func != NULL)
    conn->closed_func (conn, owned, conn->user_data);
  _mpel_connection_unref (conn);
}

void
_mpel_connection_eof (MpelConnection *conn)
{
  if (conn->closed)
    return;

  _mpel_connection_ref (conn);
  _mpel_connection_close (conn);
  if (conn->closed_func != NULL)
    conn->closed_func (conn, NULL, conn->user_data);
  _mpel_connection_unref (conn);
}

/* Hands on every frame the peer has sent, without waiting for more: for a
 * peer that is known to be gone, whose last words must not be lost. Does
 * nothing while the connection is dispatching. */
void
_mpel_connection_drain (MpelConnection *conn)
{
  if (conn->closed || conn->in_dispatch)
    return;

  _mpel_connection_ref (conn);
  conn->in_dispatch = TRUE;
  if (conn->throttled)
    {
      conn->throttled = FALSE;
      _mpel_connection_update_events (conn);
    }
  _mpel_connection_process (conn, TRUE);
  conn->in_dispatch = FALSE;
  _mpel_connection_unref (conn);
}
