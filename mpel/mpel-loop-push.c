/* mpel-loop-push.c: events in and out of the loop: mpel_loop_push() and
 * mpel_loop_add_event(), events pinned to one process, and cancelling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-child-private.h"
#include "mpel-enums.h"
#include "mpel-event-private.h"
#include "mpel-loop-private.h"
#include "mpel-queue-private.h"

/* From a handler that runs while the loop is being disposed ("retry on
 * failure"): the event ends at once, without the loop, which is going
 * away and has no main-context iteration left in which to fail it. */
static gboolean
release_cb (gpointer data)
{
  return G_SOURCE_REMOVE;
}

static void
push_refused (MpelLoop  *self,
              MpelEvent *event)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSource) release = g_idle_source_new ();

  /* mpel_loop_add_event() returns the event unowned: keep it until the
   * context runs again, as for any event that fails. */
  g_source_set_static_name (release, "[mpel] refused event");
  g_source_set_callback (release, release_cb, g_object_ref (event), g_object_unref);
  g_source_attach (release, self->context);

  _mpel_event_attach (event, NULL, 0);
  _mpel_loop_event_clear_sources (event);
  _mpel_event_finish (event, MPEL_EVENT_STATE_FAILED, NULL,
                      g_error_new (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                   _("The loop is being disposed; “%s” was not run"),
                                   mpel_event_get_target (event)));
  task = g_steal_pointer (&event->task);
  if (task != NULL)
    g_task_return_error (task, g_error_copy (event->error));
}

/* An event pinned to a process runs there or nowhere: if the process is
 * gone, it fails as the process's own events did. */
static void
push_pinned (MpelLoop  *self,
             MpelEvent *event)
{
  MpelChild *child = event->pinned;

  if (!_mpel_child_is_alive (child) || child->owner != self)
    {
      _mpel_loop_fail_later (self, event,
                       g_error_new (MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                                    _("Worker %u (%s), which “%s” is pinned to, is gone"),
                                    child->index, _mpel_child_get_label (child), mpel_event_get_target (event)));
      return;
    }

  _mpel_queue_push (&child->pinned, g_object_ref (event));
  self->n_pinned++;
  _mpel_loop_pump (self);
}

/**
 * mpel_loop_push:
 * @self: a #MpelLoop
 * @event: an event that has not been pushed before
 *
 * Adds @event, made with [ctor@Mpel.Event.new], to the queue, starting the
 * loop if it is not running. The loop keeps a reference until the event
 * ends. If the loop is stopping, or its workers cannot be spawned, the
 * event fails from the main context with %MPEL_ERROR_CLOSED or
 * %MPEL_ERROR_SPAWN_FAILED: it is never dropped silently. An event whose
 * target name is empty or not UTF-8, or whose keyword arguments were
 * refused (see [method@Mpel.Event.set_kwargs]), fails the same way with
 * %MPEL_ERROR_INVALID_ARGS, without starting the loop or reaching a worker.
 * An event pushed from a handler while the loop is being disposed fails at
 * once with %MPEL_ERROR_CLOSED, and nothing is started.
 */
void
mpel_loop_push (MpelLoop  *self,
                MpelEvent *event)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (_mpel_loop_caller_owns_context (self));
  g_return_if_fail (MPEL_IS_EVENT (event));
  g_return_if_fail (!event->pushed);

  if (self->state == LOOP_DISPOSED)
    {
      push_refused (self, event);
      return;
    }

  _mpel_event_attach (event, self, self->next_id++);

  /* Cancelled before it was pushed: it has ended already. */
  if (event->state >= MPEL_EVENT_STATE_DONE)
    {
      g_autoptr(GTask) task = g_steal_pointer (&event->task);

      _mpel_loop_event_clear_sources (event);
      if (task != NULL)
        g_task_return_error (task, g_error_copy (event->error));
      return;
    }

  self->n_pending++;

  if (event->timeout > 0)
    {
      event->timeout_source = g_timeout_source_new (event->timeout);
      g_source_set_static_name (event->timeout_source, "[mpel] event timeout");
      g_source_set_callback (event->timeout_source, _mpel_loop_event_timeout_cb, event, NULL);
      g_source_attach (event->timeout_source, self->context);
    }

  /* Refused here, for this event alone: the worker would end the session
   * over it, failing the events of others. */
  if ((error = _mpel_event_check (event)) != NULL)
    {
      _mpel_loop_fail_later (self, event, g_steal_pointer (&error));
      return;
    }

  if (self->state == LOOP_STOPPING)
    {
      _mpel_loop_fail_later (self, event,
                       g_error_new (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                    _("The loop is stopping; “%s” was not run"),
                                    mpel_event_get_target (event)));
      return;
    }

  if (event->pinned != NULL)
    {
      push_pinned (self, event);
      return;
    }

  if (self->state == LOOP_IDLE && !_mpel_loop_start_internal (self, &error))
    {
      _mpel_loop_fail_later (self, event, g_steal_pointer (&error));
      return;
    }

  _mpel_queue_push (&self->queue, g_object_ref (event));
  _mpel_loop_pump (self);

  /* Waiting behind a full window and as many events again, it may wait a
   * while: see _mpel_event_compact(). */
  if (event->state == MPEL_EVENT_STATE_QUEUED &&
      _mpel_queue_length (&self->queue) > self->max_in_flight)
    _mpel_event_compact (event);
}

/**
 * mpel_loop_add_event:
 * @self: a #MpelLoop
 * @target: the name of the handler in the worker
 * @args: (nullable): the arguments: a tuple, or a single value that is
 *   wrapped into a one-element tuple, or %NULL for none
 *
 * Adds an event made of @target and @args; its result arrives
 * through [signal@Mpel.Loop::output]. A floating @args is sunk. Starts the
 * loop if it is not running.
 *
 * Returns: (transfer none): the event, which the loop keeps until it ends;
 *   take a reference to keep it longer
 */
MpelEvent *
mpel_loop_add_event (MpelLoop   *self,
                     const char *target,
                     GVariant   *args)
{
  /* Taken first, so that a refused call does not leak a floating value */
  g_autoptr(GVariant) owned_args = args ? g_variant_ref_sink (args) : NULL;
  MpelEvent *event;

  g_return_val_if_fail (MPEL_IS_LOOP (self), NULL);
  g_return_val_if_fail (_mpel_loop_caller_owns_context (self), NULL);
  g_return_val_if_fail (target != NULL, NULL);

  event = mpel_event_new (target, owned_args);
  mpel_loop_push (self, event);
  g_object_unref (event);

  return event;
}

/* Private API, for remote objects */

/* Pushes @event to run in @child only, as mpel_loop_push() otherwise does.
 * If @child is gone, or dies before the event runs, the event fails with
 * %MPEL_ERROR_WORKER_CRASHED rather than move to another process. */
void
_mpel_loop_push_pinned (MpelLoop  *self,
                        MpelEvent *event,
                        MpelChild *child)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (MPEL_IS_EVENT (event));
  g_return_if_fail (child != NULL);
  g_return_if_fail (!event->pushed);

  g_clear_pointer (&event->pinned, _mpel_child_unref);
  event->pinned = _mpel_child_ref (child);
  mpel_loop_push (self, event);
}

void
_mpel_loop_cancel_event (MpelLoop  *self,
                         MpelEvent *event,
                         GError    *error)
{
  MpelEventState state;

  g_assert (MPEL_IS_LOOP (self));

  if (!_mpel_loop_caller_owns_context (self))
    {
      g_clear_error (&error);
      g_return_if_fail (_mpel_loop_caller_owns_context (self));
    }

  state = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
            ? MPEL_EVENT_STATE_CANCELLED : MPEL_EVENT_STATE_FAILED;

  if (event->state >= MPEL_EVENT_STATE_DONE)
    {
      g_error_free (error);
      return;
    }

  /* Handlers may drop the last reference to the loop, or to the event. */
  g_object_ref (self);
  g_object_ref (event);

  if (event->deferred)
    {
      /* Its failure is on the way; the cancel is first. The idle skips it. */
      _mpel_loop_end_event (self, event, state, NULL, error);
    }
  else if (event->state == MPEL_EVENT_STATE_QUEUED)
    {
      if (event->pinned != NULL)
        {
          _mpel_queue_remove (&event->pinned->pinned, event);
          self->n_pinned--;
        }
      else
        _mpel_queue_remove (&self->queue, event);
      _mpel_loop_end_event (self, event, state, NULL, error);
      g_object_unref (event);
    }
  else
    {
      MpelChild *child = event->child ? _mpel_child_ref (event->child) : NULL;

      /* The worker still holds the event: tell it, and keep it in flight
       * there until it answers, so that its load and the in-flight limit
       * stay true. All of it before the event ends, since a handler may run
       * a nested main loop in which the worker's answer arrives. */
      if (child != NULL)
        _mpel_child_cancel_event (child, event);

      _mpel_loop_end_event (self, event, state, NULL, error);

      /* Unless the worker answered, died or was let go meanwhile */
      if (child != NULL && event->child == child && child->owner == self && self->kill_timeout > 0 &&
          child->conn != NULL && !_mpel_connection_is_closed (child->conn))
        {
          event->kill_source = g_timeout_source_new (self->kill_timeout);
          g_source_set_static_name (event->kill_source, "[mpel] stuck worker");
          g_source_set_callback (event->kill_source, _mpel_loop_kill_timeout_cb, event, NULL);
          g_source_attach (event->kill_source, self->context);
        }

      g_clear_pointer (&child, _mpel_child_unref);
    }

  g_object_unref (event);
  g_object_unref (self);
}
