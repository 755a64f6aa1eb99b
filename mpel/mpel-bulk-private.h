/* mpel-bulk-private.h: the shared buffers (sealed memfds) that carry
 * messages too large for a frame: those we lend to the peer and those the
 * peer lends us, with the checks on what the peer says about them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MPEL_BULK_FLAG_ONE_SHOT   (1u << 0)   /* unmap after this message */
#define MPEL_BULK_FLAG_RELEASE    (1u << 1)   /* receiver → sender: done with it */
#define MPEL_BULK_FLAG_RETIRE     (1u << 2)   /* sender → receiver: unmap it */
/* sender → receiver: the sender's output buffer, read back after it is gone
 * (handled by the connection, not the pools) */
#define MPEL_BULK_FLAG_LAST_WORDS (1u << 3)
#define MPEL_BULK_FLAGS_ALL       (MPEL_BULK_FLAG_ONE_SHOT | MPEL_BULK_FLAG_RELEASE | MPEL_BULK_FLAG_RETIRE)
/* What follows the frame header of a descriptor: buffer id, flags and
 * message length (two words). */
#define MPEL_BULK_DESCRIPTOR_SIZE 16

typedef struct _MpelBulk       MpelBulk;
typedef struct _MpelBulkBuffer MpelBulkBuffer;

/* Queues a descriptor for the peer, with @fd (or -1), which it takes. */
typedef void (*MpelBulkSendFunc) (guint32  id,
                                  guint32  flags,
                                  guint64  len,
                                  int      fd,
                                  gpointer user_data);

MpelBulk       *_mpel_bulk_new             (MpelBulkSendFunc   send_func,
                                            gpointer           user_data);
void            _mpel_bulk_free            (MpelBulk          *bulk);
void            _mpel_bulk_clear           (MpelBulk          *bulk);

MpelBulkBuffer *_mpel_bulk_acquire         (MpelBulk          *bulk,
                                            gsize              size,
                                            GError           **error);
guint8         *_mpel_bulk_buffer_get_data (MpelBulkBuffer    *buf);
void            _mpel_bulk_lend            (MpelBulk          *bulk,
                                            MpelBulkBuffer    *buf,
                                            gsize              len);

gboolean        _mpel_bulk_receive         (MpelBulk          *bulk,
                                            guint32            id,
                                            guint32            flags,
                                            guint64            len,
                                            int                fd,
                                            GBytes           **payload,
                                            GError           **error);

guint           _mpel_bulk_get_n_lent      (MpelBulk          *bulk);
guint           _mpel_bulk_get_n_borrowed  (MpelBulk          *bulk);

G_END_DECLS
