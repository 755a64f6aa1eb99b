/* mpel-bulk.c: the pools of shared buffers for large messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpel-types.h"
#include "mpel-bulk-private.h"
#include "mpel-frame-private.h"

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

#define BULK_POOL_SIZE       2
/* Every message size is pooled: a fresh buffer costs far more than its copy
 * (above 128 MiB a message used to take a fresh memfd and a fresh private
 * copy every time, ~50–120× two memcpy instead of ~2×). */
#define BULK_POOL_MAX_CAP    (MPEL_DEFAULT_MAX_MESSAGE + ((gsize) 1 << 20))
/* Buffers above this are let go as soon as a message a quarter of their
 * size or less comes along: what one huge message takes is not kept for
 * good once messages are small again. */
#define BULK_KEEP_CAP        ((gsize) 128 * 1024 * 1024)
/* Two pooled buffers, a one-shot and one being retired, and no more */
#define BULK_MAX_MAPPED      4

/* A buffer we lend to the peer */
struct _MpelBulkBuffer
{
  guint32  id;
  int      fd;
  guint8  *map;
  gsize    cap;
  guint    busy : 1;
  guint    announced : 1;
  guint    pooled : 1;
};

/* A buffer the peer lends us */
typedef struct
{
  guint8 *map;
  gsize   size;
} BulkIn;

struct _MpelBulk
{
  GPtrArray        *out;      /* MpelBulkBuffer*: buffers we lend to the peer */
  GHashTable       *in;       /* id → BulkIn*: buffers the peer lends us */
  guint32           next_id;
  MpelBulkSendFunc  send_func;
  gpointer          user_data;
};

static void
bulk_out_free (gpointer data)
{
  MpelBulkBuffer *buf = data;

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
  guint8 *oversized[BULK_POOL_SIZE] = { NULL, };
  int best = -1;

  g_mutex_lock (&private_cache_lock);
  for (int i = 0; i < BULK_POOL_SIZE; i++)
    {
      if (private_cache[i].data != NULL && private_cache[i].cap > BULK_KEEP_CAP &&
          private_cache[i].cap / 4 >= len)
        {
          oversized[i] = private_cache[i].data;
          private_cache[i].data = NULL;
          private_cache[i].cap = 0;
          continue;
        }
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

  for (int i = 0; i < BULK_POOL_SIZE; i++)
    g_free (oversized[i]);

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

MpelBulk *
_mpel_bulk_new (MpelBulkSendFunc send_func,
                gpointer         user_data)
{
  MpelBulk *bulk = g_new0 (MpelBulk, 1);

  bulk->out = g_ptr_array_new_with_free_func (bulk_out_free);
  bulk->in = g_hash_table_new_full (NULL, NULL, NULL, bulk_in_free);
  bulk->send_func = send_func;
  bulk->user_data = user_data;

  return bulk;
}

void
_mpel_bulk_free (MpelBulk *bulk)
{
  g_ptr_array_unref (bulk->out);
  g_hash_table_unref (bulk->in);
  g_free (bulk);
}

/* Unmaps every buffer, lent or borrowed: the connection is closed. */
void
_mpel_bulk_clear (MpelBulk *bulk)
{
  g_ptr_array_set_size (bulk->out, 0);
  g_hash_table_remove_all (bulk->in);
}

guint
_mpel_bulk_get_n_lent (MpelBulk *bulk)
{
  return bulk->out->len;
}

guint
_mpel_bulk_get_n_borrowed (MpelBulk *bulk)
{
  return g_hash_table_size (bulk->in);
}

/* Lending */

static MpelBulkBuffer *
bulk_out_create (MpelBulk        *bulk,
                 gsize            cap,
                 gboolean         pooled,
                 GError         **error)
{
#ifdef HAVE_MEMFD_CREATE
  MpelBulkBuffer *buf = g_new0 (MpelBulkBuffer, 1);
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

  if (++bulk->next_id == 0)
    ++bulk->next_id;
  buf->id = bulk->next_id;
  g_ptr_array_add (bulk->out, buf);

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
MpelBulkBuffer *
_mpel_bulk_acquire (MpelBulk  *bulk,
                    gsize      size,
                    GError   **error)
{
  MpelBulkBuffer *best = NULL;
  MpelBulkBuffer *smallest_free = NULL;
  guint n_pooled = 0;
  gboolean pooled;

  for (guint i = 0; i < bulk->out->len; i++)
    {
      MpelBulkBuffer *buf = g_ptr_array_index (bulk->out, i);

      if (!buf->pooled)
        continue;
      if (!buf->busy && buf->cap > BULK_KEEP_CAP && buf->cap / 4 >= size)
        {
          if (buf->announced)
            bulk->send_func (buf->id, MPEL_BULK_FLAG_RETIRE, 0, -1, bulk->user_data);
          g_ptr_array_remove_index (bulk->out, i--);
          continue;
        }
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
            bulk->send_func (smallest_free->id, MPEL_BULK_FLAG_RETIRE, 0, -1, bulk->user_data);
          g_ptr_array_remove (bulk->out, smallest_free);
        }
      else
        pooled = FALSE;
    }

  return bulk_out_create (bulk,
                          pooled ? (size + (1 << 20) - 1) & ~(gsize) ((1 << 20) - 1) : size,
                          pooled, error);
}

guint8 *
_mpel_bulk_buffer_get_data (MpelBulkBuffer *buf)
{
  return buf->map;
}

/* Sends the descriptor of the message of @len bytes written into @buf,
 * with the buffer's fd the first time. */
void
_mpel_bulk_lend (MpelBulk       *bulk,
                 MpelBulkBuffer *buf,
                 gsize           len)
{
  bulk->send_func (buf->id, buf->pooled ? 0 : MPEL_BULK_FLAG_ONE_SHOT, len,
                   buf->announced ? -1 : dup (buf->fd), bulk->user_data);
  buf->announced = TRUE;
  buf->busy = TRUE;
}

/* Borrowing */

static MpelBulkBuffer *
find_bulk_out (MpelBulk       *bulk,
               guint32         id)
{
  for (guint i = 0; i < bulk->out->len; i++)
    {
      MpelBulkBuffer *buf = g_ptr_array_index (bulk->out, i);

      if (buf->id == id)
        return buf;
    }
  return NULL;
}

/* Maps a buffer the peer lends us. Takes @fd. */
static gboolean
bulk_in_register (MpelBulk        *bulk,
                  guint32          id,
                  int              fd,
                  GError         **error)
{
  BulkIn *buf;
  struct stat st;
  int seals;
  void *map;

  if (id == 0 || g_hash_table_contains (bulk->in, GUINT_TO_POINTER (id)))
    {
      close (fd);
      return _mpel_protocol_error (error, _("a shared buffer was announced twice"));
    }
  if (g_hash_table_size (bulk->in) >= BULK_MAX_MAPPED)
    {
      close (fd);
      return _mpel_protocol_error (error, _("the peer lends too many shared buffers"));
    }

  seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0 || (seals & F_SEAL_SHRINK) == 0)
    {
      close (fd);
      return _mpel_protocol_error (error, _("a shared buffer is not sealed against shrinking"));
    }

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size <= 0 ||
      (guint64) st.st_size > MPEL_DEFAULT_MAX_MESSAGE + (1 << 20))
    {
      close (fd);
      return _mpel_protocol_error (error, _("a shared buffer has a size out of range"));
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
  g_hash_table_insert (bulk->in, GUINT_TO_POINTER (id), buf);

  return TRUE;
}

/* A RELEASE (the peer is done with a buffer we lent) or a RETIRE (the peer
 * will not use a buffer it lent us again). */
static gboolean
bulk_hand_back (MpelBulk  *bulk,
                guint32    id,
                guint32    flags,
                GError   **error)
{
  if (flags & MPEL_BULK_FLAG_RELEASE)
    {
      MpelBulkBuffer *out = find_bulk_out (bulk, id);

      if (out == NULL || !out->busy)
        return _mpel_protocol_error (error, _("the peer handed back a buffer it did not hold"));
      out->busy = FALSE;
      if (!out->pooled)
        g_ptr_array_remove (bulk->out, out);
      return TRUE;
    }

  if (!g_hash_table_remove (bulk->in, GUINT_TO_POINTER (id)))
    return _mpel_protocol_error (error, _("the peer retired a buffer it never lent"));
  return TRUE;
}

/* Handles a bulk descriptor. Takes @fd (or -1). Sets *payload to the
 * message it carries, or NULL for one that only manages buffers. */
gboolean
_mpel_bulk_receive (MpelBulk  *bulk,
                    guint32    id,
                    guint32    flags,
                    guint64    len,
                    int        fd,
                    GBytes   **payload,
                    GError   **error)
{
  BulkIn *in;
  PrivateBuf *copy;

  *payload = NULL;

  if ((flags & ~MPEL_BULK_FLAGS_ALL) != 0 ||
      __builtin_popcount (flags & (MPEL_BULK_FLAG_RELEASE | MPEL_BULK_FLAG_RETIRE | MPEL_BULK_FLAG_ONE_SHOT)) > 1)
    {
      if (fd >= 0)
        close (fd);
      return _mpel_protocol_error (error, _("a bulk descriptor has unknown flags"));
    }

  if (flags & (MPEL_BULK_FLAG_RELEASE | MPEL_BULK_FLAG_RETIRE))
    {
      if (fd >= 0)
        {
          close (fd);
          return _mpel_protocol_error (error, _("a buffer is handed back with a descriptor"));
        }

      return bulk_hand_back (bulk, id, flags, error);
    }

  if (fd >= 0 && !bulk_in_register (bulk, id, fd, error))
    return FALSE;

  in = g_hash_table_lookup (bulk->in, GUINT_TO_POINTER (id));
  if (in == NULL)
    return _mpel_protocol_error (error, _("a message is in a shared buffer that was never lent"));
  if (len == 0 || len > in->size || len > MPEL_DEFAULT_MAX_MESSAGE)
    return _mpel_protocol_error (error, _("a message is larger than its shared buffer"));

  /* Our own copy before anything reads it: the peer can still write to the
   * buffer, and what was checked must not change. */
  copy = private_buf_take (len);
  memcpy (copy->data, in->map, len);
  *payload = g_bytes_new_with_free_func (copy->data, len, private_buf_give, copy);

  if (flags & MPEL_BULK_FLAG_ONE_SHOT)
    g_hash_table_remove (bulk->in, GUINT_TO_POINTER (id));
  bulk->send_func (id, MPEL_BULK_FLAG_RELEASE, 0, -1, bulk->user_data);

  return TRUE;
}
