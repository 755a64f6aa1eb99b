/* mpel-loop-wait.c: starting in steps, async calls, and waiting
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
#include "mpel-proxy-registry-private.h"
#include "mpel-queue-private.h"
#include "mpel-util-private.h"
#include "mpel-wire-private.h"

gboolean
_mpel_loop_start_internal (MpelLoop  *self,
                           GError   **error)
{
  g_autoptr(GPtrArray) children = g_ptr_array_new ();

  g_assert (self->state == LOOP_IDLE);

  for (guint i = 0; i < self->n_workers; i++)
    {
      MpelChild *child = _mpel_loop_spawn_child (self, i, error);

      if (child == NULL)
        {
          for (guint j = 0; j < children->len; j++)
            _mpel_child_discard (g_ptr_array_index (children, j));
          return FALSE;
        }
      g_ptr_array_add (children, child);
    }

  g_ptr_array_set_size (self->children, 0);
  for (guint i = 0; i < children->len; i++)
    g_ptr_array_add (self->children, g_ptr_array_index (children, i));
  g_array_set_size (self->restarts, 0);

  self->state = LOOP_RUNNING;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_RUNNING]);

  _mpel_loop_pump (self);

  return TRUE;
}

/* start_async spawns its workers one per main-context iteration, at a
 * priority below GTK's redraw: each spawn is a fork() and an exec(), and many
 * of them in a row would freeze the GUI. */
static gboolean
spawn_next_cb (gpointer data)
{
  MpelLoop *self = data;
  g_autoptr(GError) error = NULL;
  MpelChild *child = NULL;
  guint index = self->next_spawn++;
  gboolean done = self->next_spawn >= self->children->len || self->state != LOOP_RUNNING;

  if (done)
    g_clear_pointer (&self->spawn_source, g_source_unref);

  if (self->state != LOOP_RUNNING || index >= self->children->len ||
      g_ptr_array_index (self->children, index) != NULL)
    return G_SOURCE_REMOVE;

  g_object_ref (self);

  child = _mpel_loop_spawn_child (self, index, &error);
  if (child != NULL)
    {
      g_ptr_array_index (self->children, index) = child;
      _mpel_loop_pump (self);
    }
  else
    _mpel_loop_spawn_failed (self, error);

  g_object_unref (self);

  return done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Spawns the first worker now, so that a program that cannot be executed
 * is reported at once, and the others from an idle. */
static gboolean
loop_start_in_steps (MpelLoop  *self,
                     GError   **error)
{
  MpelChild *first;

  g_assert (self->state == LOOP_IDLE);

  first = _mpel_loop_spawn_child (self, 0, error);
  if (first == NULL)
    return FALSE;

  g_ptr_array_set_size (self->children, 0);
  g_ptr_array_add (self->children, first);
  g_ptr_array_set_size (self->children, self->n_workers);
  g_array_set_size (self->restarts, 0);

  if (self->n_workers > 1)
    {
      self->next_spawn = 1;
      self->spawn_source = g_idle_source_new ();
      g_source_set_priority (self->spawn_source, G_PRIORITY_DEFAULT_IDLE);
      g_source_set_static_name (self->spawn_source, "[mpel] spawn");
      g_source_set_callback (self->spawn_source, spawn_next_cb, self, NULL);
      g_source_attach (self->spawn_source, self->context);
    }

  self->state = LOOP_RUNNING;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_RUNNING]);

  _mpel_loop_pump (self);

  return TRUE;
}

/**
 * mpel_loop_start:
 * @self: a #MpelLoop
 * @error: return location for an error
 *
 * Spawns the workers. A loop also starts by itself when an event is added,
 * so this is needed only to see a spawn error at once or to have the
 * workers ready ahead of time. Starting a running loop does nothing.
 *
 * A worker that starts but fails to set up (a plugin that does not load)
 * is reported later: its events fail with %MPEL_ERROR_SPAWN_FAILED.
 *
 * Returns: %TRUE if the workers were spawned
 */
gboolean
mpel_loop_start (MpelLoop  *self,
                 GError   **error)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), FALSE);
  g_return_val_if_fail (_mpel_loop_caller_owns_context (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state == LOOP_RUNNING)
    return TRUE;

  if (self->state == LOOP_DISPOSED)
    {
      g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_CLOSED,
                           _("The loop is being disposed"));
      return FALSE;
    }

  if (self->state == LOOP_STOPPING)
    {
      g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_CLOSED,
                           _("The loop is stopping; start it again once it has stopped"));
      return FALSE;
    }

  return _mpel_loop_start_internal (self, error);
}

/* Start tasks */

void
_mpel_loop_fail_start_tasks (MpelLoop     *self,
                             const GError *error)
{
  g_autoptr(GPtrArray) tasks = NULL;

  if (self->start_tasks->len == 0)
    return;

  tasks = g_steal_pointer (&self->start_tasks);
  self->start_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  _mpel_clear_source (&self->start_check_source);

  for (guint i = 0; i < tasks->len; i++)
    g_task_return_error (g_ptr_array_index (tasks, i), g_error_copy (error));
}

static gboolean
workers_ready (MpelLoop *self)
{
  if (self->children->len == 0)
    return FALSE;

  for (guint i = 0; i < self->children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (self->children, i);

      if (child == NULL || !_mpel_child_has_started (child))
        return FALSE;
    }

  return TRUE;
}

static gboolean
start_check_cb (gpointer data)
{
  MpelLoop *self = data;
  g_autoptr(GPtrArray) tasks = NULL;

  g_clear_pointer (&self->start_check_source, g_source_unref);

  if (self->state != LOOP_RUNNING && self->state != LOOP_STOPPING)
    {
      g_autoptr(GError) error = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                                     _("The loop stopped before its workers started"));

      _mpel_loop_fail_start_tasks (self, error);
      return G_SOURCE_REMOVE;
    }

  if (!workers_ready (self))
    return G_SOURCE_REMOVE;

  tasks = g_steal_pointer (&self->start_tasks);
  self->start_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < tasks->len; i++)
    g_task_return_boolean (g_ptr_array_index (tasks, i), TRUE);

  return G_SOURCE_REMOVE;
}

/* Looks from an idle rather than at once: a worker whose modules fail to
 * load says HELLO and then sends its start-up error, and both are read in
 * one go. */
void
_mpel_loop_check_start_tasks (MpelLoop *self)
{
  if (self->start_tasks->len == 0 || self->start_check_source != NULL)
    return;

  self->start_check_source = g_idle_source_new ();
  g_source_set_priority (self->start_check_source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (self->start_check_source, "[mpel] start check");
  g_source_set_callback (self->start_check_source, start_check_cb, self, NULL);
  g_source_attach (self->start_check_source, self->context);
}

static void
start_cancelled (GCancellable *cancellable,
                 GTask        *task)
{
  MpelLoop *self = g_task_get_source_object (task);
  guint index;

  if (g_ptr_array_find (self->start_tasks, task, &index))
    {
      g_autoptr(GTask) owned = g_object_ref (task);

      g_ptr_array_remove_index (self->start_tasks, index);
      g_task_return_error_if_cancelled (owned);
    }
}

static gboolean
start_cancel_source_cb (GCancellable *cancellable,
                        gpointer      data)
{
  start_cancelled (cancellable, data);

  return G_SOURCE_REMOVE;
}

/**
 * mpel_loop_start_async:
 * @self: a #MpelLoop
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called once every worker
 *   has connected, or one of them failed to
 * @user_data: data for @callback
 *
 * Starts the loop, like [method@Mpel.Loop.start], and completes once every
 * worker has connected (said HELLO). This is the way to learn early that
 * the worker is wrong: a program that is not a worker, a script that
 * exits, a plugin that does not load. Events may be added meanwhile; they
 * run as workers connect.
 *
 * Unlike [method@Mpel.Loop.start], which spawns every worker before it
 * returns, this spawns the first one at once and the others one per
 * main-context iteration, below GTK's redraw priority, so that starting
 * many workers does not freeze the GUI.
 */
void
mpel_loop_start_async (MpelLoop            *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (_mpel_loop_caller_owns_context (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mpel_loop_start_async);
  g_task_set_name (task, "[mpel] start");

  if (self->state == LOOP_IDLE ? !loop_start_in_steps (self, &error) : !mpel_loop_start (self, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (cancellable != NULL)
    {
      GSource *source = g_cancellable_source_new (cancellable);

      /* The task owns the source, so that it goes with the task. */
      g_source_set_callback (source, G_SOURCE_FUNC (start_cancel_source_cb), task, NULL);
      g_source_attach (source, self->context);
      g_task_set_task_data (task, source, _mpel_loop_destroy_source);
    }

  g_ptr_array_add (self->start_tasks, g_steal_pointer (&task));
  _mpel_loop_check_start_tasks (self);
}

/**
 * mpel_loop_start_finish:
 * @self: a #MpelLoop
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Gets the result of [method@Mpel.Loop.start_async]: %MPEL_ERROR_SPAWN_FAILED
 * with the reason if a worker could not be spawned or did not connect,
 * %MPEL_ERROR_CLOSED if the loop was closed meanwhile.
 *
 * Returns: %TRUE once every worker has connected
 */
gboolean
mpel_loop_start_finish (MpelLoop      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mpel_loop_start_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Async calls */

static gboolean
cancellable_cb (GCancellable *cancellable,
                gpointer      data)
{
  MpelEvent *event = data;

  g_clear_pointer (&event->cancel_source, g_source_unref);
  mpel_event_cancel (event);

  return G_SOURCE_REMOVE;
}

static void
push_with_task (MpelLoop            *self,
                MpelEvent           *event,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data,
                gpointer             source_tag)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_name (task, "[mpel] call");
  g_task_set_task_data (task, g_object_ref (event), g_object_unref);

  if (g_cancellable_is_cancelled (cancellable))
    {
      mpel_event_cancel (event);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("Event “%s” was cancelled"), mpel_event_get_target (event));
      return;
    }

  event->task = g_steal_pointer (&task);

  if (cancellable != NULL)
    {
      /* A source rather than a signal handler: the cancellable may be
       * cancelled from another thread, and the event must only be touched
       * from the loop's context. */
      event->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (event->cancel_source, "[mpel] call cancellable");
      g_source_set_callback (event->cancel_source, G_SOURCE_FUNC (cancellable_cb), event, NULL);
      g_source_attach (event->cancel_source, self->context);
    }

  mpel_loop_push (self, event);
}

/**
 * mpel_loop_call_async:
 * @self: a #MpelLoop
 * @target: the name of the handler in the worker
 * @args: (nullable): the arguments, as for [method@Mpel.Loop.add_event]
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called with the result
 * @user_data: data for @callback
 *
 * Runs @target in a worker and calls @callback with its result — with
 * `Gio._promisify()` in GJS or an `await` in Python, a call that reads like
 * a local one. Cancelling @cancellable cancels the event in the worker and
 * ends the call at once with %G_IO_ERROR_CANCELLED.
 */
void
mpel_loop_call_async (MpelLoop            *self,
                      const char          *target,
                      GVariant            *args,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  /* Taken first, so that a refused call does not leak a floating value */
  g_autoptr(GVariant) owned_args = args ? g_variant_ref_sink (args) : NULL;
  g_autoptr(MpelEvent) event = NULL;

  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (_mpel_loop_caller_owns_context (self));
  g_return_if_fail (target != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  event = mpel_event_new (target, owned_args);
  push_with_task (self, event, cancellable, callback, user_data, mpel_loop_call_async);
}

/**
 * mpel_loop_call_finish:
 * @self: a #MpelLoop
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Gets the result of [method@Mpel.Loop.call_async]. An error that the
 * handler returned keeps its domain and code.
 *
 * Returns: (transfer full) (nullable): the handler's result, or %NULL if it
 *   returned no value or on error
 */
GVariant *
mpel_loop_call_finish (MpelLoop      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mpel_loop_call_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mpel_loop_push_async:
 * @self: a #MpelLoop
 * @event: an event that has not been pushed before
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when @event ends
 * @user_data: data for @callback
 *
 * Like [method@Mpel.Loop.call_async] for an event made with
 * [ctor@Mpel.Event.new], to set keyword arguments, flags, a priority or a
 * timeout first.
 */
void
mpel_loop_push_async (MpelLoop            *self,
                      MpelEvent           *event,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (_mpel_loop_caller_owns_context (self));
  g_return_if_fail (MPEL_IS_EVENT (event));
  g_return_if_fail (!event->pushed);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  push_with_task (self, event, cancellable, callback, user_data, mpel_loop_push_async);
}

/**
 * mpel_loop_push_finish:
 * @self: a #MpelLoop
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Gets the result of [method@Mpel.Loop.push_async].
 *
 * Returns: (transfer full) (nullable): the handler's result, or %NULL if it
 *   returned no value or on error
 */
GVariant *
mpel_loop_push_finish (MpelLoop      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mpel_loop_push_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Waiting */

static gboolean
wake_up_cb (GCancellable *cancellable,
            gpointer      data)
{
  return G_SOURCE_CONTINUE;
}

/**
 * mpel_loop_wait:
 * @self: a #MpelLoop
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Iterates the loop's main context until no event is pending. Events
 * include what proxies send: their creations, calls and sets, and the
 * releases of proxies released or finalized before this call. Meant for
 * scripts and tests; a GUI uses [method@Mpel.Loop.wait_async]. It never
 * hangs on a dead worker: that worker's events fail and the wait ends.
 *
 * Must not be called from a handler of this loop's signals.
 *
 * Returns: %TRUE once nothing is pending, %FALSE if @cancellable was
 *   cancelled
 */
gboolean
mpel_loop_wait (MpelLoop      *self,
                GCancellable  *cancellable,
                GError       **error)
{
  GSource *source = NULL;
  gboolean ret = TRUE;

  g_return_val_if_fail (MPEL_IS_LOOP (self), FALSE);
  g_return_val_if_fail (_mpel_loop_caller_owns_context (self), FALSE);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (self->in_dispatch == 0, FALSE);

  g_object_ref (self);

  /* Proxy releases wait for an idle: sent now, they are pending too */
  _mpel_proxy_registry_flush (self);

  if (cancellable != NULL)
    {
      source = g_cancellable_source_new (cancellable);
      g_source_set_callback (source, G_SOURCE_FUNC (wake_up_cb), NULL, NULL);
      g_source_attach (source, self->context);
    }

  while (self->n_pending > 0)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ret = FALSE;
          break;
        }
      g_main_context_iteration (self->context, TRUE);
    }

  _mpel_clear_source (&source);

  g_object_unref (self);

  return ret;
}

static gboolean
waiter_cancel_source_cb (GCancellable *cancellable,
                         gpointer      data)
{
  GTask *task = data;
  MpelLoop *self = g_task_get_source_object (task);
  guint index;

  if (g_ptr_array_find (self->waiters, task, &index))
    {
      g_autoptr(GTask) owned = g_object_ref (task);

      g_ptr_array_remove_index (self->waiters, index);
      g_task_return_error_if_cancelled (owned);
    }

  return G_SOURCE_REMOVE;
}

/**
 * mpel_loop_wait_async:
 * @self: a #MpelLoop
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called once nothing is
 *   pending
 * @user_data: data for @callback
 *
 * Waits, without blocking, until no event is pending, proxy creations,
 * calls, sets and releases included, as [method@Mpel.Loop.wait] does.
 */
void
mpel_loop_wait_async (MpelLoop            *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (_mpel_loop_caller_owns_context (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mpel_loop_wait_async);
  g_task_set_name (task, "[mpel] wait");

  _mpel_proxy_registry_flush (self);

  if (self->n_pending == 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (cancellable != NULL)
    {
      GSource *source = g_cancellable_source_new (cancellable);

      /* The task owns the source, so that it goes with the task. */
      g_source_set_callback (source, G_SOURCE_FUNC (waiter_cancel_source_cb), task, NULL);
      g_source_attach (source, self->context);
      g_task_set_task_data (task, source, _mpel_loop_destroy_source);
    }

  g_ptr_array_add (self->waiters, g_steal_pointer (&task));
}

/**
 * mpel_loop_wait_finish:
 * @self: a #MpelLoop
 * @result: the #GAsyncResult
 * @error: return location for an error
 *
 * Gets the result of [method@Mpel.Loop.wait_async].
 *
 * Returns: %TRUE once nothing was pending, %FALSE if cancelled
 */
gboolean
mpel_loop_wait_finish (MpelLoop      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mpel_loop_wait_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
