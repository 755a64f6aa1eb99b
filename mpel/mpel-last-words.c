/* mpel-last-words.c: the last words of a worker. Its output buffer lives
 * in a sealed memfd lent to the app, which reads back from it, once the
 * worker is gone, what was queued but never written.
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
#include "mpel-connection-internal.h"

#define LAST_WORDS_HEADER_SIZE 64
/* Room for the largest inline frame with descriptors beside it. */
#define LAST_WORDS_DATA_SIZE   ((gsize) 1024 * 1024)
#define LAST_WORDS_MIN_DATA    (MPEL_FRAME_HEADER_SIZE + MPEL_DEFAULT_MEMFD_THRESHOLD)
#define LAST_WORDS_MAX_DATA    ((gsize) 16 * 1024 * 1024)

/* Moves the output buffer into a sealed memfd and lends it to the peer
 * (a descriptor with MPEL_BULK_FLAG_LAST_WORDS), which reads what was
 * queued but not written back from it once we are gone. Call it before
 * anything was written, right after HELLO. Returns FALSE with @error set
 * when the system cannot make one; the connection then works as before.
 */
gboolean
_mpel_connection_share_output (MpelConnection  *conn,
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
  _mpel_connection_output_commit (conn);

  _mpel_connection_queue_bulk_descriptor (0, MPEL_BULK_FLAG_LAST_WORDS, size, fd, conn);

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
_mpel_connection_has_shared_output (MpelConnection *conn)
{
  return conn->out_region != NULL;
}

/* The peer lends us its output buffer. Takes @fd. */
gboolean
_mpel_connection_take_last_words (MpelConnection  *conn,
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
void
_mpel_connection_recover_last_words (MpelConnection *conn)
{
  const LastWordsHeader *header = (const LastWordsHeader *) (gconstpointer) conn->in_region;
  gsize cap = conn->in_region_size - LAST_WORDS_HEADER_SIZE;
  guint64 base = __atomic_load_n (&header->base, __ATOMIC_ACQUIRE);
  guint64 committed = __atomic_load_n (&header->committed, __ATOMIC_ACQUIRE);

  if (base <= conn->n_received && conn->n_received < committed && committed - base <= cap)
    {
      gsize len = committed - conn->n_received;

      _mpel_connection_ensure_read_space (conn, len);
      memcpy (conn->rbuf + conn->rend,
              conn->in_region + LAST_WORDS_HEADER_SIZE + (conn->n_received - base), len);
      conn->rend += len;
      conn->n_received += len;
      conn->recovered = TRUE;
    }

  munmap ((gpointer) conn->in_region, conn->in_region_size);
  conn->in_region = NULL;
}
