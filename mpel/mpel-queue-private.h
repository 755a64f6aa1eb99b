/* mpel-queue-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-event-private.h"

G_BEGIN_DECLS

/* The events waiting for a worker: one FIFO per priority, the buckets in a
 * small array sorted by priority (lower values first, as for GLib sources).
 * Each event is linked in through its own `link`, so that pushing, popping
 * and removing a cancelled event take constant time whatever the length;
 * only a priority not seen yet costs a search among the distinct ones. */
typedef struct
{
  GArray *buckets;   /* MpelQueueBucket, by ascending priority, none empty */
  guint   length;
} MpelQueue;

void       _mpel_queue_init    (MpelQueue *queue);
void       _mpel_queue_clear   (MpelQueue *queue);
guint      _mpel_queue_length  (const MpelQueue *queue);
gboolean   _mpel_queue_is_empty (const MpelQueue *queue);
void       _mpel_queue_push    (MpelQueue *queue,
                                MpelEvent *event);
MpelEvent *_mpel_queue_peek    (const MpelQueue *queue);
MpelEvent *_mpel_queue_pop     (MpelQueue *queue);
void       _mpel_queue_remove  (MpelQueue *queue,
                                MpelEvent *event);

G_END_DECLS
