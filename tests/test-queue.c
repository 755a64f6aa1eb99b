/* test-queue.c: the queue of waiting events
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "mpel-queue-private.h"

static MpelEvent *
make_event (guint64 id,
            int     priority)
{
  MpelEvent *event = mpel_event_new ("target", NULL);

  mpel_event_set_priority (event, priority);
  /* Only a label here: the queue orders by priority and arrival. */
  event->id = id;

  return event;
}

static guint64
pop_id (MpelQueue *queue)
{
  g_autoptr(MpelEvent) event = _mpel_queue_pop (queue);

  g_assert_nonnull (event);
  g_assert_null (event->link.prev);
  g_assert_null (event->link.next);

  return event->id;
}

static void
test_fifo_within_priority (void)
{
  MpelQueue queue;

  _mpel_queue_init (&queue);
  for (guint64 id = 1; id <= 5; id++)
    _mpel_queue_push (&queue, make_event (id, G_PRIORITY_DEFAULT));
  g_assert_cmpuint (_mpel_queue_length (&queue), ==, 5);

  g_assert_cmpuint (_mpel_queue_peek (&queue)->id, ==, 1);
  for (guint64 id = 1; id <= 5; id++)
    g_assert_cmpuint (pop_id (&queue), ==, id);

  g_assert_true (_mpel_queue_is_empty (&queue));
  g_assert_null (_mpel_queue_pop (&queue));
  g_assert_null (_mpel_queue_peek (&queue));
  _mpel_queue_clear (&queue);
}

static void
test_priority_first (void)
{
  /* id, priority: lower priority values go first, ties by arrival. */
  static const struct { guint64 id; int priority; } pushes[] = {
    { 1, G_PRIORITY_DEFAULT }, { 2, G_PRIORITY_LOW }, { 3, G_PRIORITY_HIGH },
    { 4, G_PRIORITY_DEFAULT }, { 5, G_PRIORITY_HIGH }, { 6, -5 },
    { 7, G_PRIORITY_LOW }, { 8, G_PRIORITY_DEFAULT_IDLE },
  };
  static const guint64 expected[] = { 3, 5, 6, 1, 4, 8, 2, 7 };
  MpelQueue queue;

  _mpel_queue_init (&queue);
  for (guint i = 0; i < G_N_ELEMENTS (pushes); i++)
    _mpel_queue_push (&queue, make_event (pushes[i].id, pushes[i].priority));

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpuint (pop_id (&queue), ==, expected[i]);

  g_assert_true (_mpel_queue_is_empty (&queue));
  _mpel_queue_clear (&queue);
}

static void
test_remove (void)
{
  MpelEvent *events[6];
  static const int priorities[] = { 0, 0, 0, 10, 10, -10 };
  static const guint64 expected[] = { 1, 0, 4 };
  MpelQueue queue;

  _mpel_queue_init (&queue);
  for (guint i = 0; i < G_N_ELEMENTS (events); i++)
    {
      events[i] = make_event (i, priorities[i]);
      _mpel_queue_push (&queue, g_object_ref (events[i]));
    }

  /* The middle, the head, the tail of a bucket, and a whole bucket. */
  _mpel_queue_remove (&queue, events[0]);
  _mpel_queue_remove (&queue, events[2]);
  _mpel_queue_remove (&queue, events[3]);
  _mpel_queue_remove (&queue, events[5]);
  g_object_unref (events[0]);
  g_object_unref (events[2]);
  g_object_unref (events[3]);
  g_object_unref (events[5]);
  g_assert_cmpuint (_mpel_queue_length (&queue), ==, 2);

  /* A removed event can be pushed again, and goes last in its bucket. */
  _mpel_queue_push (&queue, g_object_ref (events[0]));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpuint (pop_id (&queue), ==, expected[i]);

  g_assert_true (_mpel_queue_is_empty (&queue));
  _mpel_queue_clear (&queue);
  for (guint i = 0; i < G_N_ELEMENTS (events); i++)
    g_assert_finalize_object (events[i]);
}

/* Pushes, pops and removals stay constant-time: 200 000 events at two
 * priorities, an urgent push behind all of them, and removal of every
 * other one. A list scan per push (as before) takes minutes here. */
static void
test_many (void)
{
  const guint n = 200000;
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_object_unref);
  MpelQueue queue;
  gint64 t0 = g_get_monotonic_time ();
  guint64 last_low = 0;

  _mpel_queue_init (&queue);
  for (guint i = 0; i < n; i++)
    {
      MpelEvent *event = make_event (i, (i % 2) ? G_PRIORITY_LOW : G_PRIORITY_DEFAULT);

      g_ptr_array_add (events, event);
      _mpel_queue_push (&queue, g_object_ref (event));
    }
  _mpel_queue_push (&queue, make_event (n, G_PRIORITY_HIGH));
  g_assert_cmpuint (pop_id (&queue), ==, n);

  for (guint i = 0; i < n; i += 4)
    {
      _mpel_queue_remove (&queue, g_ptr_array_index (events, i));
      g_object_unref (g_ptr_array_index (events, i));
    }

  for (guint i = 0; i < n / 2 - n / 4; i++)
    {
      guint64 id = pop_id (&queue);

      g_assert_cmpuint (id % 4, ==, 2);
    }
  while (!_mpel_queue_is_empty (&queue))
    {
      guint64 id = pop_id (&queue);

      g_assert_cmpuint (id % 2, ==, 1);
      g_assert_cmpuint (id, >, last_low);
      last_low = id;
    }
  _mpel_queue_clear (&queue);

  /* Generous for valgrind; a quadratic queue needs far longer. */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 60 * G_USEC_PER_SEC);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Queue/fifo-within-priority", test_fifo_within_priority);
  g_test_add_func ("/Mpel/Queue/priority-first", test_priority_first);
  g_test_add_func ("/Mpel/Queue/remove", test_remove);
  g_test_add_func ("/Mpel/Queue/many", test_many);

  return g_test_run ();
}
