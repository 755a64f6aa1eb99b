/* mpel-loop-pump.c: the loop's queue and pump, and where events end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>

#include "mpel-child-private.h"
#include "mpel-enums.h"
#include "mpel-event-private.h"
#include "mpel-loop-private.h"
#include "mpel-peer-private.h"
#include "mpel-queue-private.h"
#include "mpel-util-private.h"
#include "mpel-wire-private.h"

/* Events */

void
_mpel_loop_event_clear_sources (MpelEvent *event)
{
  _mpel_clear_source (&event->timeout_source);
  _mpel_clear_source (&event->kill_source);
  _mpel_clear_source (&event->cancel_source);
}

static void
complete_waiters (MpelLoop *self)
{
  g_autoptr(GPtrArray) waiters = NULL;

  if (self->n_pending > 0 || self->waiters->len == 0)
    return;

  waiters = g_steal_pointer (&self->waiters);
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < waiters->len; i++)
    g_task_return_boolean (g_ptr_array_index (waiters, i), TRUE);
}

/* Hands the ended event to the loop's signal and its task. */
static void
emit_ended (MpelLoop  *self,
            MpelEvent *event)
{
  g_autoptr(GTask) task = NULL;
  gboolean handled = FALSE;

  if (event->state == MPEL_EVENT_STATE_FAILED ||
      (event->state == MPEL_EVENT_STATE_DONE && (event->flags & MPEL_EVENT_FLAGS_NO_REPLY) == 0))
    g_signal_emit (self, _mpel_loop_signals[LOOP_SIGNAL_OUTPUT], event->target, event, &handled);

  task = g_steal_pointer (&event->task);
  if (task != NULL)
    {
      if (event->state == MPEL_EVENT_STATE_DONE)
        g_task_return_pointer (task,
                               event->result ? g_variant_ref (event->result) : NULL,
                               (GDestroyNotify) g_variant_unref);
      else
        g_task_return_error (task, g_error_copy (event->error));
    }
}

/* The one place where events end on the app side. Takes @result and
 * @error. */
void
_mpel_loop_end_event (MpelLoop       *self,
                      MpelEvent      *event,
                      MpelEventState  state,
                      GVariant       *result,
                      GError         *error)
{
  _mpel_loop_event_clear_sources (event);

  /* Handlers may drop the last other reference. The caller holds the
   * loop. */
  g_object_ref (event);
  /* Every handler that can see an event end runs inside the guard, so that
   * a nested mpel_loop_wait() is refused on every path alike. */
  self->in_dispatch++;

  if (_mpel_event_finish (event, state, result, error))
    {
      g_assert (self->n_pending > 0);
      self->n_pending--;

      emit_ended (self, event);

      if (self->n_pending == 0)
        {
          g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_N_PENDING]);
          complete_waiters (self);
        }
    }

  self->in_dispatch--;
  g_object_unref (event);
}

typedef struct
{
  MpelEvent *event;
  GError *error;
} Deferred;

static void
deferred_free (Deferred *deferred)
{
  deferred->event->deferred = FALSE;
  g_clear_object (&deferred->event);
  g_clear_error (&deferred->error);
  g_free (deferred);
}

static gboolean
deferred_dispatch (gpointer data)
{
  MpelLoop *self = data;

  g_object_ref (self);
  self->in_dispatch++;

  while (!g_queue_is_empty (&self->deferred))
    {
      Deferred *deferred = g_queue_pop_head (&self->deferred);

      /* Unless the caller cancelled it meanwhile */
      if (deferred->event->state < MPEL_EVENT_STATE_DONE)
        _mpel_loop_end_event (self, deferred->event, MPEL_EVENT_STATE_FAILED, NULL,
                        g_steal_pointer (&deferred->error));
      deferred_free (deferred);
    }

  self->in_dispatch--;
  g_clear_pointer (&self->deferred_source, g_source_unref);
  g_object_unref (self);

  return G_SOURCE_REMOVE;
}

/* Fails @event from an idle, so that no signal is emitted from inside the
 * call that found the failure. */
void
_mpel_loop_fail_later (MpelLoop  *self,
                       MpelEvent *event,
                       GError    *error)
{
  Deferred *deferred;

  g_assert (!event->deferred);

  deferred = g_new0 (Deferred, 1);
  deferred->event = g_object_ref (event);
  deferred->error = error;
  event->deferred = TRUE;
  g_queue_push_tail (&self->deferred, deferred);

  if (self->deferred_source == NULL)
    {
      self->deferred_source = g_idle_source_new ();
      g_source_set_priority (self->deferred_source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (self->deferred_source, "[mpel] deferred");
      g_source_set_callback (self->deferred_source, deferred_dispatch, self, NULL);
      g_source_attach (self->deferred_source, self->context);
    }
}

gboolean
_mpel_loop_event_timeout_cb (gpointer data)
{
  MpelEvent *event = data;

  g_clear_pointer (&event->timeout_source, g_source_unref);

  if (event->loop != NULL && event->state < MPEL_EVENT_STATE_DONE)
    _mpel_loop_cancel_event (event->loop, event,
                             g_error_new (MPEL_ERROR, MPEL_ERROR_TIMED_OUT,
                                          _("Event “%s” did not end within %u ms"),
                                          mpel_event_get_target (event), event->timeout));

  return G_SOURCE_REMOVE;
}

gboolean
_mpel_loop_kill_timeout_cb (gpointer data)
{
  MpelEvent *event = data;
  MpelChild *child = event->child;

  g_clear_pointer (&event->kill_source, g_source_unref);

  if (child != NULL && event->loop != NULL)
    _mpel_child_kill_as_stuck (child, event, event->loop->kill_timeout);

  return G_SOURCE_REMOVE;
}

/* The pump */

/* Whether @a goes before @b: the more urgent priority, then the older. */
static gboolean
goes_before (MpelEvent *a,
             MpelEvent *b)
{
  if (b == NULL)
    return TRUE;
  if (a->priority != b->priority)
    return a->priority < b->priority;
  return a->id < b->id;
}

/* The next event to send and the child to send it to: the most urgent of
 * the shared queue's head (for the least-loaded child) and the heads of the
 * children's pinned queues. */
static MpelQueue *
pick_next (MpelLoop   *self,
           MpelChild **out_child)
{
  MpelQueue *queue = NULL;
  MpelEvent *best = NULL;

  *out_child = NULL;

  if (!_mpel_queue_is_empty (&self->queue) && (*out_child = _mpel_loop_least_loaded (self)) != NULL)
    {
      queue = &self->queue;
      best = _mpel_queue_peek (queue);
    }

  for (guint i = 0; self->n_pinned > 0 && i < self->children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (self->children, i);
      MpelEvent *head;

      if (child == NULL || _mpel_queue_is_empty (&child->pinned) ||
          !_mpel_child_accepts_events (child, _mpel_loop_hold_if_abandoned (self)))
        continue;

      head = _mpel_queue_peek (&child->pinned);
      if (goes_before (head, best))
        {
          best = head;
          queue = &child->pinned;
          *out_child = child;
        }
    }

  return queue;
}

static void
send_stops (MpelLoop *self)
{
  if (!_mpel_queue_is_empty (&self->queue))
    return;

  for (guint i = 0; i < self->children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (self->children, i);

      if (child != NULL && _mpel_queue_is_empty (&child->pinned))
        _mpel_child_send_stop (child);
    }
}

void
_mpel_loop_pump (MpelLoop *self)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      MpelQueue *queue;
      MpelChild *child;
      MpelEvent *event;

      if (self->max_in_flight > 0 && self->n_in_flight >= self->max_in_flight)
        return;

      queue = pick_next (self, &child);
      if (queue == NULL)
        break;

      event = _mpel_queue_pop (queue);
      if (queue != &self->queue)
        self->n_pinned--;

      if (!_mpel_child_send_event (child, event, &error))
        {
          /* Too large, or no memfd: this event fails, the others go on. */
          _mpel_loop_fail_later (self, event, g_steal_pointer (&error));
          g_object_unref (event);
          continue;
        }

      /* The queue's reference moved to the child's in-flight table. */
      _mpel_event_set_running (event);
      self->n_in_flight++;
    }

  if (self->state == LOOP_STOPPING)
    send_stops (self);
}

/* Ending many events */

/* Ends the events of @events (which ended already or not) in their order,
 * each with an error made by @make_error. */
void
_mpel_loop_fail_events (MpelLoop          *self,
                        GPtrArray         *events,
                        MpelLoopErrorFunc  make_error,
                        MpelChild         *child,
                        gpointer           data)
{
  for (guint i = 0; i < events->len; i++)
    {
      MpelEvent *event = g_ptr_array_index (events, i);

      if (event->state < MPEL_EVENT_STATE_DONE)
        _mpel_loop_end_event (self, event, MPEL_EVENT_STATE_FAILED, NULL,
                        make_error (child, event, data));
      else
        _mpel_loop_event_clear_sources (event);
    }
}

void
_mpel_loop_fail_queue (MpelLoop     *self,
                       const GError *error)
{
  while (!_mpel_queue_is_empty (&self->queue))
    {
      MpelEvent *event = _mpel_queue_pop (&self->queue);

      _mpel_loop_end_event (self, event, MPEL_EVENT_STATE_FAILED, NULL, g_error_copy (error));
      g_object_unref (event);
    }
}

/* Empties the child's in-flight table and ends each event, in the order
 * they were sent, with an error made by @make_error. */
void
_mpel_loop_fail_in_flight (MpelLoop          *self,
                           MpelChild         *child,
                           MpelLoopErrorFunc  make_error,
                           gpointer           data)
{
  g_autoptr(GPtrArray) events = _mpel_child_take_in_flight (child);

  g_assert (self->n_in_flight >= events->len);
  self->n_in_flight -= events->len;
  _mpel_loop_fail_events (self, events, make_error, child, data);
}

GPtrArray *
_mpel_loop_take_pinned (MpelLoop  *self,
                        MpelChild *child)
{
  GPtrArray *events = g_ptr_array_new_with_free_func (g_object_unref);

  while (!_mpel_queue_is_empty (&child->pinned))
    g_ptr_array_add (events, _mpel_queue_pop (&child->pinned));
  g_assert (self->n_pinned >= events->len);
  self->n_pinned -= events->len;

  return events;
}

GError *
_mpel_loop_copy_error (MpelChild *child,
                       MpelEvent *event,
                       gpointer   data)
{
  const GError *error = data;

  return g_error_copy (error);
}

GError *
_mpel_loop_crash_error (MpelChild *child,
                        MpelEvent *event,
                        gpointer   data)
{
  const char *how = data;

  return g_error_new (MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                      _("Worker %u (%s) %s while running “%s”"),
                      child->index, _mpel_child_get_label (child), how, mpel_event_get_target (event));
}

/* Life cycle */

static int
compare_event_ids (gconstpointer a,
                   gconstpointer b)
{
  const MpelEvent *ea = *(MpelEvent * const *) a;
  const MpelEvent *eb = *(MpelEvent * const *) b;

  return ea->id < eb->id ? -1 : ea->id > eb->id;
}

/* Takes every event the loop holds: in flight (in the order sent), queued,
 * pinned, then those about to fail. */
static GPtrArray *
take_all_events (MpelLoop  *self,
                 GPtrArray *gone)
{
  g_autoptr(GPtrArray) children = g_steal_pointer (&self->children);
  GPtrArray *events = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) pinned = g_ptr_array_new_with_free_func (g_object_unref);

  self->children = g_ptr_array_new ();
  for (guint i = 0; i < children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (children, i);
      g_autoptr(GPtrArray) in_flight = NULL;
      g_autoptr(GPtrArray) child_pinned = NULL;

      if (child == NULL)
        continue;

      in_flight = _mpel_child_take_in_flight (child);
      child_pinned = _mpel_loop_take_pinned (self, child);
      g_ptr_array_extend_and_steal (events, g_steal_pointer (&in_flight));
      g_ptr_array_extend_and_steal (pinned, g_steal_pointer (&child_pinned));
      g_ptr_array_add (gone, _mpel_child_ref (child));
      _mpel_child_discard (child);
    }
  g_ptr_array_sort (events, compare_event_ids);
  self->n_in_flight = 0;

  while (!_mpel_queue_is_empty (&self->queue))
    g_ptr_array_add (events, _mpel_queue_pop (&self->queue));
  g_ptr_array_extend_and_steal (events, g_steal_pointer (&pinned));

  while (!g_queue_is_empty (&self->deferred))
    {
      Deferred *deferred = g_queue_pop_head (&self->deferred);

      g_ptr_array_add (events, g_object_ref (deferred->event));
      deferred_free (deferred);
    }
  _mpel_clear_source (&self->deferred_source);

  return events;
}

void
_mpel_loop_close_internal (MpelLoop *self,
                           gboolean  disposing)
{
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func ((GDestroyNotify) _mpel_child_unref);
  gboolean was_running = self->state == LOOP_RUNNING || self->state == LOOP_STOPPING;

  /* A loop being disposed stays so, even if a handler closes it again. */
  if (disposing || self->state == LOOP_DISPOSED)
    self->state = LOOP_DISPOSED;
  else
    self->state = LOOP_IDLE;
  g_ptr_array_set_size (self->restart_sources, 0);
  _mpel_clear_source (&self->start_check_source);
  _mpel_clear_source (&self->spawn_source);

  events = take_all_events (self, gone);

  for (guint i = 0; i < events->len; i++)
    {
      MpelEvent *event = g_ptr_array_index (events, i);

      if (event->state < MPEL_EVENT_STATE_DONE)
        {
          GError *error = g_error_new (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                       _("The loop was closed before “%s” ended"),
                                       mpel_event_get_target (event));

          if (disposing)
            {
              /* No loop signals from a loop being disposed; the event's own
               * signals still tell its owner. */
              _mpel_loop_event_clear_sources (event);
              self->in_dispatch++;
              if (_mpel_event_finish (event, MPEL_EVENT_STATE_FAILED, NULL, error))
                self->n_pending--;
              self->in_dispatch--;
            }
          else
            _mpel_loop_end_event (self, event, MPEL_EVENT_STATE_FAILED, NULL, error);
        }
      else
        _mpel_loop_event_clear_sources (event);

      event->loop = NULL;
    }

  if (self->start_tasks->len > 0)
    {
      g_autoptr(GError) error = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                                     _("The loop was closed before its workers started"));

      _mpel_loop_fail_start_tasks (self, error);
    }

  /* What else was bound to the processes fails as their events did. */
  if (!disposing && gone->len > 0)
    {
      g_autoptr(GError) error = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                                     _("The loop was closed"));

      for (guint i = 0; i < gone->len; i++)
        _mpel_loop_run_child_hooks (self, g_ptr_array_index (gone, i), error);
    }

  if (was_running && !disposing)
    g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_RUNNING]);
}
