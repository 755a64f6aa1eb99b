/* mpel-wire.c: protocol v1 frames and the connection that carries them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib-unix.h>

#include "mpel-types.h"
#include "mpel-wire-private.h"

#define ALIGN8(n)          (((n) + 7) & ~(gsize) 7)
#define READ_CHUNK         (64 * 1024)
#define MAX_READS_PER_DISPATCH 8
#define MAX_FDS_PER_SENDMSG 253
#define MAX_PEER_QUARKS    256

/* Envelope codec.
 *
 * The payload is the GVariant serialisation of (yutsva{sv}). Building it
 * with g_variant_new() would parse a format string and allocate a tree of
 * six values for every frame; writing the bytes directly costs one pass.
 * The layout (GVariant spec, "Structures"):
 *
 *   0   y kind, 3 bytes padding
 *   4   u flags
 *   8   t id
 *   16  s name, NUL-terminated                      ends at e1
 *   a2  v body: data, NUL, type string (a2 = align8 (e1)) ends at e2
 *   a3  a{sv} meta (a3 = align8 (e2))                ends at e3
 *   e3  framing offsets of e2 then e1, each w bytes, little-endian
 *
 * w is the smallest of 1, 2, 4, 8 that can address the whole payload.
 * test-wire checks the result byte for byte against GLib's serialiser.
 */

static inline gsize
offset_size_for_body (gsize body_size)
{
  if (body_size + 2 * 1 <= G_MAXUINT8)
    return 1;
  if (body_size + 2 * 2 <= G_MAXUINT16)
    return 2;
  if (body_size + 2 * 4 <= G_MAXUINT32)
    return 4;
  return 8;
}

static inline gsize
offset_size_for_total (gsize total)
{
  if (total <= G_MAXUINT8)
    return 1;
  if (total <= G_MAXUINT16)
    return 2;
  if (total <= G_MAXUINT32)
    return 4;
  return 8;
}

static inline void
write_le (guint8 *dest,
          gsize   value,
          gsize   size)
{
  for (gsize i = 0; i < size; i++)
    {
      dest[i] = value & 0xff;
      value >>= 8;
    }
}

static inline gsize
read_le (const guint8 *src,
         gsize         size)
{
  gsize value = 0;

  for (gsize i = size; i > 0; i--)
    value = (value << 8) | src[i - 1];

  return value;
}

static GVariant *
unit_variant (void)
{
  static GVariant *unit;

  if (g_once_init_enter (&unit))
    g_once_init_leave (&unit, g_variant_ref_sink (g_variant_new_tuple (NULL, 0)));

  return unit;
}

typedef struct
{
  gsize e1, a2, body_size, e2, a3, meta_size, e3, w, total;
  const char *body_type;
  gsize body_type_len;
} EnvelopeLayout;

static void
envelope_layout (EnvelopeLayout *layout,
                 const char     *name,
                 GVariant       *body,
                 GVariant       *meta)
{
  if (body == NULL)
    body = unit_variant ();

  layout->e1 = 16 + strlen (name) + 1;
  layout->a2 = ALIGN8 (layout->e1);
  layout->body_size = g_variant_get_size (body);
  layout->body_type = g_variant_get_type_string (body);
  layout->body_type_len = strlen (layout->body_type);
  layout->e2 = layout->a2 + layout->body_size + 1 + layout->body_type_len;
  layout->a3 = ALIGN8 (layout->e2);
  layout->meta_size = meta != NULL ? g_variant_get_size (meta) : 0;
  layout->e3 = layout->a3 + layout->meta_size;
  layout->w = offset_size_for_body (layout->e3);
  layout->total = layout->e3 + 2 * layout->w;
}

static void envelope_write_layout (guint8               *dest,
                                   const EnvelopeLayout *layout,
                                   guint8                kind,
                                   guint32               flags,
                                   guint64               id,
                                   const char           *name,
                                   GVariant             *body,
                                   GVariant             *meta);

gsize
mpel_envelope_size (const char *name,
                    GVariant   *body,
                    GVariant   *meta)
{
  EnvelopeLayout layout;

  envelope_layout (&layout, name ? name : "", body, meta);

  return layout.total;
}

void
mpel_envelope_write (guint8     *dest,
                     gsize       size,
                     guint8      kind,
                     guint32     flags,
                     guint64     id,
                     const char *name,
                     GVariant   *body,
                     GVariant   *meta)
{
  EnvelopeLayout layout;

  if (name == NULL)
    name = "";
  if (body == NULL)
    body = unit_variant ();

  envelope_layout (&layout, name, body, meta);
  g_assert (layout.total == size);
  envelope_write_layout (dest, &layout, kind, flags, id, name, body, meta);
}

/* Writes the envelope whose @layout was computed for these values; @name
 * and @body are not NULL. */
static void
envelope_write_layout (guint8               *dest,
                       const EnvelopeLayout *layout_,
                       guint8                kind,
                       guint32               flags,
                       guint64               id,
                       const char           *name,
                       GVariant             *body,
                       GVariant             *meta)
{
  const EnvelopeLayout layout = *layout_;

  dest[0] = kind;
  dest[1] = dest[2] = dest[3] = 0;
  memcpy (dest + 4, &flags, 4);
  memcpy (dest + 8, &id, 8);
  memcpy (dest + 16, name, layout.e1 - 16);
  memset (dest + layout.e1, 0, layout.a2 - layout.e1);
  g_variant_store (body, dest + layout.a2);
  dest[layout.a2 + layout.body_size] = 0;
  memcpy (dest + layout.a2 + layout.body_size + 1, layout.body_type, layout.body_type_len);
  memset (dest + layout.e2, 0, layout.a3 - layout.e2);
  if (meta != NULL)
    g_variant_store (meta, dest + layout.a3);
  write_le (dest + layout.e3, layout.e2, layout.w);
  write_le (dest + layout.e3 + layout.w, layout.e1, layout.w);
}

const char *
mpel_frame_kind_to_string (guint8 kind)
{
  switch (kind)
    {
    case MPEL_FRAME_HELLO: return "HELLO";
    case MPEL_FRAME_CALL: return "CALL";
    case MPEL_FRAME_RETURN: return "RETURN";
    case MPEL_FRAME_ERROR: return "ERROR";
    case MPEL_FRAME_ITEM: return "ITEM";
    case MPEL_FRAME_CANCEL: return "CANCEL";
    case MPEL_FRAME_NOTIFY: return "NOTIFY";
    case MPEL_FRAME_STOP: return "STOP";
    default: return "unknown";
    }
}

static gboolean
protocol_error (GError     **error,
                const char  *what)
{
  g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
               _("Protocol error: %s"), what);
  return FALSE;
}

/* Parses an envelope received from the peer. Nothing in it is trusted:
 * every offset is checked before it is used, and the values inside are
 * handed to GVariant as untrusted data. */
gboolean
mpel_envelope_parse (GBytes     *payload,
                     MpelFrame  *frame,
                     GError    **error)
{
  const guint8 *data;
  const guint8 *nul;
  gsize size, w, end, e1, a2, e2, a3;

  memset (frame, 0, sizeof *frame);

  data = g_bytes_get_data (payload, &size);
  if (size < 16 + 1 + 4 + 2)
    return protocol_error (error, _("the envelope is too short"));
  if (((guintptr) data & 7) != 0)
    return protocol_error (error, _("the envelope is not aligned"));

  w = offset_size_for_total (size);
  end = size - 2 * w;
  e1 = read_le (data + size - w, w);
  e2 = read_le (data + size - 2 * w, w);

  if (e1 < 17 || e1 > end || e2 > end)
    return protocol_error (error, _("a framing offset is out of range"));

  a2 = ALIGN8 (e1);
  if (a2 > e2 || e2 - a2 < 2)
    return protocol_error (error, _("the body is malformed"));
  a3 = ALIGN8 (e2);
  if (a3 > end)
    return protocol_error (error, _("the metadata is malformed"));

  /* name: NUL-terminated exactly at e1, UTF-8, no NUL inside */
  if (data[e1 - 1] != '\0' || memchr (data + 16, '\0', e1 - 17) != NULL ||
      !g_utf8_validate ((const char *) data + 16, e1 - 17, NULL))
    return protocol_error (error, _("the target name is not a valid string"));

  /* v: the last NUL in [a2, e2) separates the value from its type */
  nul = NULL;
  for (gsize i = e2; i > a2; i--)
    if (data[i - 1] == '\0')
      {
        nul = data + i - 1;
        break;
      }
  if (nul == NULL || (gsize) (data + e2 - nul) < 2)
    return protocol_error (error, _("the body has no type"));

  {
    const char *type_start = (const char *) nul + 1;
    gsize type_len = data + e2 - (const guint8 *) type_start;
    const char *type_end = NULL;
    g_autoptr(GBytes) body_bytes = NULL;

    /* A GVariantType is its type string, which need not be terminated:
     * once scanned, the bytes in the payload serve as they are. */
    if (!g_variant_type_string_scan (type_start, type_start + type_len, &type_end) ||
        type_end != type_start + type_len)
      return protocol_error (error, _("the body's type is not valid"));

    if (!g_variant_type_is_definite ((const GVariantType *) type_start))
      return protocol_error (error, _("the body's type is not definite"));

    body_bytes = g_bytes_new_from_bytes (payload, a2, nul - (data + a2));
    frame->body = g_variant_ref_sink (g_variant_new_from_bytes ((const GVariantType *) type_start,
                                                                body_bytes, FALSE));
  }

  if (end > a3)
    {
      g_autoptr(GBytes) meta_bytes = g_bytes_new_from_bytes (payload, a3, end - a3);

      frame->meta = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT,
                                                                  meta_bytes, FALSE));
    }

  frame->kind = data[0];
  memcpy (&frame->flags, data + 4, 4);
  memcpy (&frame->id, data + 8, 8);
  frame->name = (const char *) data + 16;
  frame->payload = g_bytes_ref (payload);

  if (frame->kind < MPEL_FRAME_HELLO || frame->kind > MPEL_FRAME_STOP)
    {
      g_autofree char *what = g_strdup_printf (_("unknown frame kind %u"), frame->kind);

      mpel_frame_clear (frame);
      return protocol_error (error, what);
    }

  return TRUE;
}

void
mpel_frame_clear (MpelFrame *frame)
{
  g_clear_pointer (&frame->body, g_variant_unref);
  g_clear_pointer (&frame->meta, g_variant_unref);
  g_clear_pointer (&frame->payload, g_bytes_unref);
  frame->name = NULL;
}

GVariant *
mpel_error_to_variant (const GError *error)
{
  return g_variant_new ("(sis)",
                        g_quark_to_string (error->domain),
                        error->code,
                        error->message ? error->message : "");
}

/* Re-creates an error sent by the peer. The domain is looked up as a quark
 * so that g_error_matches() works across the wire; a peer may create only a
 * bounded number of new quarks, as quarks are never freed. */
GError *
mpel_error_from_variant (GVariant *body)
{
  static guint n_peer_quarks;
  const char *domain = NULL;
  const char *message = NULL;
  gint32 code = 0;
  GQuark quark;

  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(sis)")))
    return g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                        _("Protocol error: an ERROR frame does not carry (sis)"));

  g_variant_get (body, "(&si&s)", &domain, &code, &message);

  quark = g_quark_try_string (domain);
  if (quark == 0 && domain[0] != '\0' && strlen (domain) <= 128 &&
      g_atomic_int_add (&n_peer_quarks, 1) < MAX_PEER_QUARKS)
    quark = g_quark_from_string (domain);

  if (quark == 0)
    return g_error_new (MPEL_ERROR, MPEL_ERROR_FAILED, "%s: %s", domain, message);

  return g_error_new_literal (quark, code, message);
}

/* Bulk buffers: large messages.
 *
 * A message above the threshold is written into a buffer shared with the
 * peer: a memfd, sealed against shrinking (a peer that truncated a file we
 * map would crash us with SIGBUS), that both sides keep mapped. Its frame is
 * a 24-byte descriptor: the usual header with length 0, then buffer id,
 * flags and message length; the buffer's descriptor travels with the first
 * message that uses it. The receiver copies the message out into memory of
 * its own before anything reads it — so a peer writing to the buffer
 * meanwhile changes nothing that was checked — and hands the buffer back
 * with a RELEASE descriptor. Buffers are reused: fresh pages are what large
 * messages cost most (about 2 µs a page here, against 0.15 µs to copy one),
 * so each side keeps two buffers and two private copies' worth of pages.
 */

#define BULK_FLAG_ONE_SHOT   (1u << 0)   /* unmap after this message */
#define BULK_FLAG_RELEASE    (1u << 1)   /* receiver → sender: done with it */
#define BULK_FLAG_RETIRE     (1u << 2)   /* sender → receiver: unmap it */
#define BULK_FLAGS_ALL       (BULK_FLAG_ONE_SHOT | BULK_FLAG_RELEASE | BULK_FLAG_RETIRE)
#define BULK_DESCRIPTOR_SIZE 16
#define BULK_POOL_SIZE       2
#define BULK_POOL_MAX_CAP    ((gsize) 128 * 1024 * 1024)
/* Two pooled buffers, a one-shot and one being retired, and no more */
#define BULK_MAX_MAPPED      4

typedef struct
{
  guint32  id;
  int      fd;
  guint8  *map;
  gsize    cap;
  guint    busy : 1;
  guint    announced : 1;
  guint    pooled : 1;
} BulkOut;

typedef struct
{
  guint8 *map;
  gsize   size;
} BulkIn;

static void
bulk_out_free (gpointer data)
{
  BulkOut *buf = data;

  if (buf->map != NULL)
    munmap (buf->map, buf->cap);
  if (buf->fd >= 0)
    close (buf->fd);
  g_free (buf);
}

static void
bulk_in_free (gpointer data)
{
  BulkIn *buf = data;

  munmap (buf->map, buf->size);
  g_free (buf);
}

/* Private copies: a few large buffers whose pages are already there, shared
 * by every connection of the process. GBytes may be freed on any thread. */

typedef struct
{
  guint8 *data;
  gsize   cap;
} PrivateBuf;

static GMutex private_cache_lock;
static PrivateBuf private_cache[BULK_POOL_SIZE];

static PrivateBuf *
private_buf_take (gsize len)
{
  PrivateBuf *ret = g_new0 (PrivateBuf, 1);
  int best = -1;

  g_mutex_lock (&private_cache_lock);
  for (int i = 0; i < BULK_POOL_SIZE; i++)
    {
      /* Big enough, and not wastefully so. */
      if (private_cache[i].data != NULL && private_cache[i].cap >= len &&
          private_cache[i].cap / 2 <= len &&
          (best < 0 || private_cache[i].cap < private_cache[best].cap))
        best = i;
    }
  if (best >= 0)
    {
      *ret = private_cache[best];
      private_cache[best].data = NULL;
      private_cache[best].cap = 0;
    }
  g_mutex_unlock (&private_cache_lock);

  if (ret->data == NULL)
    {
      ret->data = g_malloc (len);
      ret->cap = len;
    }

  return ret;
}

static void
private_buf_give (gpointer data)
{
  PrivateBuf *buf = data;
  PrivateBuf evicted = { NULL, 0 };

  if (buf->cap <= BULK_POOL_MAX_CAP)
    {
      g_mutex_lock (&private_cache_lock);
      for (int i = 0; i < BULK_POOL_SIZE; i++)
        {
          if (private_cache[i].data == NULL)
            {
              private_cache[i] = *buf;
              buf->data = NULL;
              break;
            }
        }
      if (buf->data != NULL)
        {
          /* Keep the larger ones: they serve more messages. */
          for (int i = 0; i < BULK_POOL_SIZE; i++)
            {
              if (private_cache[i].cap < buf->cap)
                {
                  evicted = private_cache[i];
                  private_cache[i] = *buf;
                  buf->data = NULL;
                  break;
                }
            }
        }
      g_mutex_unlock (&private_cache_lock);
    }

  g_free (evicted.data);
  g_free (buf->data);
  g_free (buf);
}

/* Connection */

typedef struct
{
  GSource source;
  MpelConnection *conn;
} ConnectionSource;

struct _MpelConnection
{
  grefcount ref_count;
  int fd;
  GMainContext *context;
  GSource *source;
  GSource *resume_source;
  gpointer fd_tag;

  MpelConnectionFrameFunc frame_func;
  MpelConnectionClosedFunc closed_func;
  gpointer user_data;

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

  GPtrArray *bulk_out;      /* BulkOut*: buffers we lend to the peer */
  GHashTable *bulk_in;      /* id → BulkIn*: buffers the peer lends us */
  guint32 next_bulk_id;

  gint64 budget_usec;
  gint64 spin_usec;
  gboolean (*want_spin) (MpelConnection *conn, gpointer user_data);

  guint closed : 1;
  guint eof : 1;
  guint throttled : 1;
  guint want_write : 1;
  guint in_dispatch : 1;
  guint suspended : 1;
};

static void connection_process (MpelConnection *conn,
                                gboolean        drain);
static void connection_write (MpelConnection *conn);
static void connection_spin (MpelConnection *conn);

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
  g_source_modify_unix_fd (conn->source, conn->fd_tag, events);
}

/* Right after sending calls whose answers are awaited, watch the socket for
 * a few tens of microseconds before going back to the main loop. An answer
 * that comes meanwhile is handled at once: going to sleep in poll() and
 * being woken costs far more than that on a VM (a bare blocking ping-pong
 * between two CPUs takes ~65 µs here, ~30 µs with the waiting side awake),
 * and the main context is held for no longer than a dispatch slice. */
static void
connection_spin (MpelConnection *conn)
{
  gint64 until;

  if (conn->spin_usec <= 0 || conn->want_spin == NULL || conn->closed ||
      conn->throttled || conn->rend > conn->rstart ||
      !conn->want_spin (conn, conn->user_data))
    return;

  until = g_get_monotonic_time () + conn->spin_usec;
  do
    {
      struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };

      if (poll (&pfd, 1, 0) > 0)
        {
          connection_process (conn, FALSE);
          return;
        }
    }
  while (g_get_monotonic_time () < until);
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
    connection_process (conn, FALSE);

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

MpelConnection *
mpel_connection_new (int                       fd,
                     GMainContext             *context,
                     MpelConnectionFrameFunc   frame_func,
                     MpelConnectionClosedFunc  closed_func,
                     gpointer                  user_data)
{
  MpelConnection *conn;

  g_return_val_if_fail (fd >= 0, NULL);

  conn = g_new0 (MpelConnection, 1);
  g_ref_count_init (&conn->ref_count);
  conn->fd = fd;
  conn->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  conn->frame_func = frame_func;
  conn->closed_func = closed_func;
  conn->user_data = user_data;
  conn->rfds = g_array_new (FALSE, FALSE, sizeof (int));
  conn->wfds = g_array_new (FALSE, FALSE, sizeof (int));
  conn->bulk_out = g_ptr_array_new_with_free_func (bulk_out_free);
  conn->bulk_in = g_hash_table_new_full (NULL, NULL, NULL, bulk_in_free);

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
  g_ptr_array_unref (conn->bulk_out);
  g_hash_table_unref (conn->bulk_in);
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

  close (conn->fd);
  conn->fd = -1;
  close_fds (conn->rfds);
  close_fds (conn->wfds);
  g_ptr_array_set_size (conn->bulk_out, 0);
  g_hash_table_remove_all (conn->bulk_in);
  g_clear_pointer (&conn->rbuf, g_free);
  g_clear_pointer (&conn->wbuf, g_free);
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

static void
ensure_write_space (MpelConnection *conn,
                    gsize           needed)
{
  if (conn->wcap - conn->wend >= needed)
    return;

  if (conn->wstart > 0)
    {
      memmove (conn->wbuf, conn->wbuf + conn->wstart, conn->wend - conn->wstart);
      conn->wend -= conn->wstart;
      conn->wstart = 0;
      if (conn->wcap - conn->wend >= needed)
        return;
    }

  conn->wcap = MAX (conn->wcap * 2, MAX (conn->wend + needed, 16 * 1024));
  conn->wbuf = g_realloc (conn->wbuf, conn->wcap);
}

static void
queue_bulk_descriptor (MpelConnection *conn,
                       guint32         id,
                       guint32         flags,
                       guint64         len,
                       int             fd)
{
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
}

static BulkOut *
bulk_out_create (MpelConnection  *conn,
                 gsize            cap,
                 gboolean         pooled,
                 GError         **error)
{
#ifdef HAVE_MEMFD_CREATE
  BulkOut *buf = g_new0 (BulkOut, 1);
  int errsv;

  buf->fd = memfd_create ("mpel-bulk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  buf->cap = cap;
  buf->pooled = !!pooled;
  if (buf->fd < 0 ||
      ftruncate (buf->fd, cap) < 0 ||
      fcntl (buf->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
    goto fail;

  buf->map = mmap (NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, buf->fd, 0);
  if (buf->map == MAP_FAILED)
    {
      buf->map = NULL;
      goto fail;
    }

  if (++conn->next_bulk_id == 0)
    ++conn->next_bulk_id;
  buf->id = conn->next_bulk_id;
  g_ptr_array_add (conn->bulk_out, buf);

  return buf;

fail:
  errsv = errno;
  bulk_out_free (buf);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               _("Could not make a shared buffer of %zu bytes: %s"),
               cap, g_strerror (errsv));
  return NULL;
#else
  g_set_error (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE,
               _("Messages of %zu bytes need memfd, which this system lacks"),
               cap);
  return NULL;
#endif
}

/* A free pooled buffer large enough, else a new one: pooled while the pool
 * has room (retiring a smaller free buffer makes room), one-shot otherwise. */
static BulkOut *
bulk_out_acquire (MpelConnection  *conn,
                  gsize            size,
                  GError         **error)
{
  BulkOut *best = NULL;
  BulkOut *smallest_free = NULL;
  guint n_pooled = 0;
  gboolean pooled;

  for (guint i = 0; i < conn->bulk_out->len; i++)
    {
      BulkOut *buf = g_ptr_array_index (conn->bulk_out, i);

      if (!buf->pooled)
        continue;
      n_pooled++;
      if (buf->busy)
        continue;
      if (buf->cap >= size && (best == NULL || buf->cap < best->cap))
        best = buf;
      if (smallest_free == NULL || buf->cap < smallest_free->cap)
        smallest_free = buf;
    }

  if (best != NULL)
    return best;

  pooled = size <= BULK_POOL_MAX_CAP;
  if (pooled && n_pooled >= BULK_POOL_SIZE)
    {
      if (smallest_free != NULL)
        {
          if (smallest_free->announced)
            queue_bulk_descriptor (conn, smallest_free->id, BULK_FLAG_RETIRE, 0, -1);
          g_ptr_array_remove (conn->bulk_out, smallest_free);
        }
      else
        pooled = FALSE;
    }

  return bulk_out_create (conn,
                          pooled ? (size + (1 << 20) - 1) & ~(gsize) ((1 << 20) - 1) : size,
                          pooled, error);
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
  EnvelopeLayout layout;
  gsize size;
  guint32 header[2];

  if (conn->closed)
    {
      g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_CLOSED,
                           _("The connection to the peer is closed"));
      return FALSE;
    }

  if (name == NULL)
    name = "";
  if (body == NULL)
    body = unit_variant ();
  envelope_layout (&layout, name, body, meta);
  size = layout.total;

  if (size > MPEL_DEFAULT_MEMFD_THRESHOLD)
    {
      BulkOut *buf;

      if (size > MPEL_DEFAULT_MAX_MESSAGE)
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE,
                       _("A message of %zu bytes is over the limit of %zu bytes"),
                       size, MPEL_DEFAULT_MAX_MESSAGE);
          return FALSE;
        }

      buf = bulk_out_acquire (conn, size, error);
      if (buf == NULL)
        return FALSE;

      envelope_write_layout (buf->map, &layout, kind, flags, id, name, body, meta);
      queue_bulk_descriptor (conn, buf->id, buf->pooled ? 0 : BULK_FLAG_ONE_SHOT, size,
                             buf->announced ? -1 : dup (buf->fd));
      buf->announced = TRUE;
      buf->busy = TRUE;
    }
  else
    {
      gsize padded = ALIGN8 (size);

      header[0] = GUINT32_TO_LE ((guint32) size);
      header[1] = GUINT32_TO_LE (0);
      ensure_write_space (conn, sizeof header + padded);
      memcpy (conn->wbuf + conn->wend, header, sizeof header);
      envelope_write_layout (conn->wbuf + conn->wend + sizeof header, &layout,
                             kind, flags, id, name, body, meta);
      memset (conn->wbuf + conn->wend + sizeof header + size, 0, padded - size);
      conn->wend += sizeof header + padded;
    }


  return TRUE;
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
              conn->wstart = conn->wend = 0;
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

  conn->wstart = conn->wend = 0;
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
          struct pollfd pfd = { .fd = conn->fd, .events = POLLOUT };

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
    conn->wstart = conn->wend = 0;

  return !conn->closed;
}

/* Read side */

static BulkOut *
find_bulk_out (MpelConnection *conn,
               guint32         id)
{
  for (guint i = 0; i < conn->bulk_out->len; i++)
    {
      BulkOut *buf = g_ptr_array_index (conn->bulk_out, i);

      if (buf->id == id)
        return buf;
    }
  return NULL;
}

/* Maps a buffer the peer lends us. Takes @fd. */
static gboolean
bulk_in_register (MpelConnection  *conn,
                  guint32          id,
                  int              fd,
                  GError         **error)
{
  BulkIn *buf;
  struct stat st;
  int seals;
  void *map;

  if (id == 0 || g_hash_table_contains (conn->bulk_in, GUINT_TO_POINTER (id)))
    {
      close (fd);
      return protocol_error (error, _("a shared buffer was announced twice"));
    }
  if (g_hash_table_size (conn->bulk_in) >= BULK_MAX_MAPPED)
    {
      close (fd);
      return protocol_error (error, _("the peer lends too many shared buffers"));
    }

  seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0 || (seals & F_SEAL_SHRINK) == 0)
    {
      close (fd);
      return protocol_error (error, _("a shared buffer is not sealed against shrinking"));
    }

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size <= 0 ||
      (guint64) st.st_size > MPEL_DEFAULT_MAX_MESSAGE + (1 << 20))
    {
      close (fd);
      return protocol_error (error, _("a shared buffer has a size out of range"));
    }

  /* Not populated: a peer could lend a large sparse file, and only the
   * pages of the messages we copy should cost us anything. */
  map = mmap (NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  close (fd);
  if (map == MAP_FAILED)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Could not map a shared buffer: %s"), g_strerror (errsv));
      return FALSE;
    }

  buf = g_new0 (BulkIn, 1);
  buf->map = map;
  buf->size = st.st_size;
  g_hash_table_insert (conn->bulk_in, GUINT_TO_POINTER (id), buf);

  return TRUE;
}

/* Handles a bulk descriptor. Takes @fd (or -1). Sets *payload to the
 * message it carries, or NULL for one that only manages buffers. */
static gboolean
bulk_receive (MpelConnection  *conn,
              guint32          id,
              guint32          flags,
              guint64          len,
              int              fd,
              GBytes         **payload,
              GError         **error)
{
  BulkIn *in;
  PrivateBuf *copy;

  *payload = NULL;

  if ((flags & ~BULK_FLAGS_ALL) != 0 ||
      __builtin_popcount (flags & (BULK_FLAG_RELEASE | BULK_FLAG_RETIRE | BULK_FLAG_ONE_SHOT)) > 1)
    {
      if (fd >= 0)
        close (fd);
      return protocol_error (error, _("a bulk descriptor has unknown flags"));
    }

  if (flags & (BULK_FLAG_RELEASE | BULK_FLAG_RETIRE))
    {
      if (fd >= 0)
        {
          close (fd);
          return protocol_error (error, _("a buffer is handed back with a descriptor"));
        }

      if (flags & BULK_FLAG_RELEASE)
        {
          BulkOut *out = find_bulk_out (conn, id);

          if (out == NULL || !out->busy)
            return protocol_error (error, _("the peer handed back a buffer it did not hold"));
          out->busy = FALSE;
          if (!out->pooled)
            g_ptr_array_remove (conn->bulk_out, out);
          return TRUE;
        }

      if (!g_hash_table_remove (conn->bulk_in, GUINT_TO_POINTER (id)))
        return protocol_error (error, _("the peer retired a buffer it never lent"));
      return TRUE;
    }

  if (fd >= 0 && !bulk_in_register (conn, id, fd, error))
    return FALSE;

  in = g_hash_table_lookup (conn->bulk_in, GUINT_TO_POINTER (id));
  if (in == NULL)
    return protocol_error (error, _("a message is in a shared buffer that was never lent"));
  if (len == 0 || len > in->size || len > MPEL_DEFAULT_MAX_MESSAGE)
    return protocol_error (error, _("a message is larger than its shared buffer"));

  /* Our own copy before anything reads it: the peer can still write to the
   * buffer, and what was checked must not change. */
  copy = private_buf_take (len);
  memcpy (copy->data, in->map, len);
  *payload = g_bytes_new_with_free_func (copy->data, len, private_buf_give, copy);

  if (flags & BULK_FLAG_ONE_SHOT)
    g_hash_table_remove (conn->bulk_in, GUINT_TO_POINTER (id));
  queue_bulk_descriptor (conn, id, BULK_FLAG_RELEASE, 0, -1);

  return TRUE;
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

  do
    n = recvmsg (conn->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      int errsv = errno;

      if (errsv == EAGAIN || errsv == EWOULDBLOCK)
        return -1;
      if (errsv == ECONNRESET)
        return 0;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Could not read from the peer: %s"), g_strerror (errsv));
      return -2;
    }

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
      protocol_error (error, _("the peer passed more file descriptors than announced"));
      return -2;
    }

  return n;
}

static void
ensure_read_space (MpelConnection *conn,
                   gsize           needed)
{
  gsize have = conn->rend - conn->rstart;

  if (conn->rstart > 0 && (conn->rcap - conn->rend < needed || have == 0))
    {
      memmove (conn->rbuf, conn->rbuf + conn->rstart, have);
      conn->rstart = 0;
      conn->rend = have;
    }

  if (conn->rcap - conn->rend < needed)
    {
      /* g_malloc() memory is 16-aligned, so payloads, which start at
       * multiples of 8, are aligned for GVariant. */
      gsize cap = MAX (conn->rend + needed, READ_CHUNK);
      guint8 *buf = g_malloc (cap);

      if (have > 0)
        memcpy (buf, conn->rbuf + conn->rstart, have);
      g_free (conn->rbuf);
      conn->rbuf = buf;
      conn->rcap = cap;
      conn->rstart = 0;
      conn->rend = have;
    }
}

/* Decodes one whole frame at rstart. Returns TRUE and fills @payload when
 * there was one, FALSE with @error NULL when more bytes are needed, FALSE
 * with @error set on a protocol error. @needed says how many bytes the
 * frame needs in all. */
static gboolean
next_frame (MpelConnection  *conn,
            GBytes         **payload,
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

      *needed = MPEL_FRAME_HEADER_SIZE + BULK_DESCRIPTOR_SIZE;
      if (n_fds > 1)
        return protocol_error (error, _("a bulk descriptor announces more than one descriptor"));
      if (have < *needed)
        return FALSE;
      if (n_fds == 1 && conn->rfds->len == 0)
        return protocol_error (error, _("a frame announces a descriptor that did not arrive"));

      memcpy (words, conn->rbuf + conn->rstart + MPEL_FRAME_HEADER_SIZE, sizeof words);
      bulk_len = GUINT32_FROM_LE (words[2]) | ((guint64) GUINT32_FROM_LE (words[3]) << 32);
      conn->rstart += *needed;

      if (n_fds == 1)
        {
          fd = g_array_index (conn->rfds, int, 0);
          g_array_remove_index (conn->rfds, 0);
        }

      return bulk_receive (conn, GUINT32_FROM_LE (words[0]), GUINT32_FROM_LE (words[1]),
                           bulk_len, fd, payload, error);
    }

  if (n_fds != 0)
    return protocol_error (error, _("a frame announces descriptors in a way protocol 1 does not allow"));

  if (len > (gsize) MPEL_DEFAULT_MAX_FRAME)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("Protocol error: a frame of %zu bytes is over the limit of %zu bytes"),
                   len, (gsize) MPEL_DEFAULT_MAX_FRAME);
      return FALSE;
    }

  frame_size = MPEL_FRAME_HEADER_SIZE + ALIGN8 (len);
  *needed = frame_size;
  if (have < frame_size)
    return FALSE;

  *payload = g_bytes_new (conn->rbuf + conn->rstart + MPEL_FRAME_HEADER_SIZE, len);
  conn->rstart += frame_size;

  return TRUE;
}

static void
throttle (MpelConnection *conn)
{
  conn->throttled = TRUE;
  connection_update_events (conn);
  g_source_set_ready_time (conn->resume_source, 0);
}

/* Decodes and hands on whole frames, reading as needed. Normally within the
 * time budget and a few reads, so that other sources get their turn; with
 * @drain, until the socket has nothing more. */
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
      gsize needed = 0;

      if (next_frame (conn, &payload, &needed, &error))
        {
          MpelFrame frame;
          gboolean ok;

          /* A descriptor that only manages shared buffers */
          if (payload == NULL)
            continue;

          ok = mpel_envelope_parse (payload, &frame, &error);
          g_bytes_unref (payload);
          if (!ok)
            {
              mpel_connection_fail (conn, error);
              return;
            }

          conn->frame_func (conn, &frame, conn->user_data);
          mpel_frame_clear (&frame);

          if (deadline != 0 && (++n_frames & 7) == 0 && g_get_monotonic_time () >= deadline)
            {
              if (!conn->closed)
                throttle (conn);
              return;
            }
          continue;
        }

      if (error != NULL)
        {
          mpel_connection_fail (conn, error);
          return;
        }

      if (drained && !conn->eof && !drain)
        {
          if (conn->rfds->len > 0 && conn->rend == conn->rstart)
            mpel_connection_fail (conn, g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                                     _("Protocol error: the peer passed file descriptors no frame announced")));
          return;
        }

      if (conn->eof)
        {
          if (conn->rend > conn->rstart)
            mpel_connection_fail (conn, g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                                     _("Protocol error: the peer hung up in the middle of a frame")));
          else
            connection_eof (conn);
          return;
        }

      if (n_reads++ >= MAX_READS_PER_DISPATCH && !drain)
        {
          /* Fairness towards the other sources of the context: come back
           * on the next iteration. */
          g_source_set_ready_time (conn->source, 0);
          return;
        }

      ensure_read_space (conn, MAX (needed, READ_CHUNK / 4));

      {
        gssize n = read_some (conn, &error);

        if (n == -2)
          {
            mpel_connection_fail (conn, error);
            return;
          }
        if (n == -1)
          {
            if (conn->rfds->len > 0 && conn->rend == conn->rstart)
              mpel_connection_fail (conn, g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                                       _("Protocol error: the peer passed file descriptors no frame announced")));
            return;
          }
        if (n == 0)
          {
            conn->eof = TRUE;
            continue;
          }
        conn->rend += n;

        /* A short read drained the socket: decode what came and wait for
         * poll() rather than spend a recvmsg() on EAGAIN. */
        if ((gsize) n < conn->rcap - (conn->rend - n))
          drained = TRUE;
      }
    }
}
