/* mpel-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "mpel-queue-private.h"

typedef struct
{
  int    priority;
  /* GList nodes point at each other, never at the GQueue: a bucket may move
   * in the array when another priority comes or goes. */
  GQueue events;
} MpelQueueBucket;

void
_mpel_queue_init (MpelQueue *queue)
{
  queue->buckets = g_array_new (FALSE, FALSE, sizeof (MpelQueueBucket));
  queue->length = 0;
}

/* The queue must be empty: its links belong to the events. */
void
_mpel_queue_clear (MpelQueue *queue)
{
  g_assert (queue->length == 0);
  g_clear_pointer (&queue->buckets, g_array_unref);
}

guint
_mpel_queue_length (const MpelQueue *queue)
{
  return queue->length;
}

gboolean
_mpel_queue_is_empty (const MpelQueue *queue)
{
  return queue->length == 0;
}

/* The index of the bucket of @priority, or where it would go. */
static guint
find_bucket (const MpelQueue *queue,
             int              priority,
             gboolean        *found)
{
  guint lo = 0;
  guint hi = queue->buckets->len;

  /* Almost every event has the default priority, usually the last bucket. */
  if (hi > 0 && g_array_index (queue->buckets, MpelQueueBucket, hi - 1).priority == priority)
    {
      *found = TRUE;
      return hi - 1;
    }

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int p = g_array_index (queue->buckets, MpelQueueBucket, mid).priority;

      if (p == priority)
        {
          *found = TRUE;
          return mid;
        }
      if (p < priority)
        lo = mid + 1;
      else
        hi = mid;
    }

  *found = FALSE;
  return lo;
}

/* Takes the caller's reference to @event, which must be in no queue. */
void
_mpel_queue_push (MpelQueue *queue,
                  MpelEvent *event)
{
  MpelQueueBucket *bucket;
  gboolean found;
  guint index;

  g_assert (event->link.prev == NULL && event->link.next == NULL);

  index = find_bucket (queue, event->priority, &found);
  if (!found)
    {
      MpelQueueBucket empty = { event->priority, G_QUEUE_INIT };

      g_array_insert_val (queue->buckets, index, empty);
    }

  bucket = &g_array_index (queue->buckets, MpelQueueBucket, index);
  g_queue_push_tail_link (&bucket->events, &event->link);
  queue->length++;
}

/* Transfer none: the first event, of the most urgent priority, or NULL. */
MpelEvent *
_mpel_queue_peek (const MpelQueue *queue)
{
  if (queue->length == 0)
    return NULL;

  return g_array_index (queue->buckets, MpelQueueBucket, 0).events.head->data;
}

static void
unlink_from (MpelQueue *queue,
             guint      index,
             MpelEvent *event)
{
  MpelQueueBucket *bucket = &g_array_index (queue->buckets, MpelQueueBucket, index);

  g_queue_unlink (&bucket->events, &event->link);
  queue->length--;

  if (g_queue_is_empty (&bucket->events))
    g_array_remove_index (queue->buckets, index);
}

/* Transfer full: the queue's reference. */
MpelEvent *
_mpel_queue_pop (MpelQueue *queue)
{
  MpelEvent *event = _mpel_queue_peek (queue);

  if (event != NULL)
    unlink_from (queue, 0, event);

  return event;
}

/* Unlinks @event, which is in @queue; the queue's reference goes to the
 * caller. */
void
_mpel_queue_remove (MpelQueue *queue,
                    MpelEvent *event)
{
  gboolean found;
  guint index = find_bucket (queue, event->priority, &found);

  g_assert (found);
  unlink_from (queue, index, event);
}
