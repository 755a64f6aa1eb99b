/* mpel-loop-children.c: the loop's worker processes — spawning them, what
 * they send, their deaths and restarts
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

/* Children */

gboolean
_mpel_loop_hold_if_abandoned (MpelLoop *self)
{
  return self->kill_timeout > 0;
}

static guint
count_live_children (MpelLoop *self)
{
  guint n = 0;

  for (guint i = 0; i < self->children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (self->children, i);

      if (child != NULL && child->state != MPEL_CHILD_DEAD)
        n++;
    }

  return n;
}

/* Whether a worker will be spawned later: a restart, or start_async's
 * workers not spawned yet. */
static gboolean
children_to_come (MpelLoop *self)
{
  return self->restart_sources->len > 0 || self->spawn_source != NULL;
}

/* The ready child with the fewest events in flight, for an unpinned
 * event. */
MpelChild *
_mpel_loop_least_loaded (MpelLoop *self)
{
  MpelChild *best = NULL;

  for (guint i = 0; i < self->children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (self->children, i);

      if (!_mpel_child_accepts_events (child, _mpel_loop_hold_if_abandoned (self)))
        continue;
      if (best == NULL || _mpel_child_get_load (child) < _mpel_child_get_load (best))
        best = child;
    }

  return best;
}

void
_mpel_loop_destroy_source (gpointer data)
{
  GSource *source = data;

  _mpel_clear_source (&source);
}

static gboolean restart_child_later (MpelLoop  *self,
                                     guint      index,
                                     GError   **error);
static void     schedule_restart    (MpelLoop  *self,
                                     guint      index,
                                     guint      delay);

/* What the child's callbacks tell the loop */

static void
child_greeted (MpelChild *child,
               gpointer   owner)
{
  MpelLoop *self = owner;

  self->n_spawn_failures = 0;
  g_clear_error (&self->spawn_error);
  if (self->start_tasks->len > 0)
    _mpel_loop_check_start_tasks (self);
}

static void
child_broken (MpelChild *child,
              gpointer   owner)
{
  MpelLoop *self = owner;

  g_object_ref (self);
  _mpel_loop_fail_in_flight (self, child, _mpel_loop_copy_error, child->protocol_error);
  _mpel_loop_pump (self);
  g_object_unref (self);
}

static gboolean hook_is_registered (MpelLoop *self,
                                    guint     id);

/* Runs the hooks of the private API, for what is bound to one process. */
void
_mpel_loop_run_child_hooks (MpelLoop     *self,
                            MpelChild    *child,
                            const GError *reason)
{
  g_autoptr(GArray) hooks = NULL;

  if (self->child_hooks->len == 0)
    return;

  /* A hook may add or remove hooks: run the ones there now. */
  hooks = g_array_copy (self->child_hooks);
  for (guint i = 0; i < hooks->len; i++)
    {
      ChildHook *hook = &g_array_index (hooks, ChildHook, i);

      if (hook_is_registered (self, hook->id))
        hook->func (self, child, reason, hook->data);
    }
}

/* The events bound to the process fail: in flight, then pinned. */
static void
fail_child_events (MpelLoop  *self,
                   MpelChild *child)
{
  g_autoptr(GPtrArray) pinned = _mpel_loop_take_pinned (self, child);
  const GError *reason = child->reason;

  if (reason != NULL && reason->code != MPEL_ERROR_WORKER_CRASHED)
    {
      _mpel_loop_fail_in_flight (self, child, _mpel_loop_copy_error, (gpointer) reason);
      _mpel_loop_fail_events (self, pinned, _mpel_loop_copy_error, child, (gpointer) reason);
    }
  else
    {
      g_autoptr(GError) gone = g_error_new (MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                                            _("Worker %u (%s) %s"),
                                            child->index, _mpel_child_get_label (child), child->how);

      _mpel_loop_fail_in_flight (self, child, _mpel_loop_crash_error, child->how);
      _mpel_loop_fail_events (self, pinned, _mpel_loop_copy_error, child, gone);
    }
}

/* After a death: replaces the child as the policy says. Returns the
 * reason to give for events left without a worker. */
static GError *
restart_after_death (MpelLoop  *self,
                     MpelChild *child)
{
  GError *reason = child->reason ? g_error_copy (child->reason) : NULL;

  /* A worker we killed as stuck did not fail by itself: it is replaced
   * whatever the policy, and at once, so that what waited for it runs. */
  if (child->killed &&
      (self->state == LOOP_RUNNING ||
       (self->state == LOOP_STOPPING && !_mpel_queue_is_empty (&self->queue))))
    schedule_restart (self, child->index, 0);
  else if (self->state == LOOP_RUNNING && child->crashed &&
           self->restart_policy == MPEL_RESTART_POLICY_ON_CRASH)
    {
      g_autoptr(GError) give_up = NULL;

      if (!restart_child_later (self, child->index, &give_up))
        {
          g_clear_error (&reason);
          reason = g_steal_pointer (&give_up);
        }
    }

  return reason;
}

/* No worker is left and none comes: what waits fails, the loop idles. */
static void
loop_ran_out (MpelLoop     *self,
              const GError *reason)
{
  if (!_mpel_queue_is_empty (&self->queue))
    {
      g_autoptr(GError) error = NULL;

      if (reason != NULL && reason->code == MPEL_ERROR_SPAWN_FAILED)
        error = g_error_copy (reason);
      else
        error = g_error_new (MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                             _("No worker is left to run the event: %s"),
                             reason ? reason->message : _("the workers stopped"));
      _mpel_loop_fail_queue (self, error);
    }

  if (self->state != LOOP_IDLE)
    {
      self->state = LOOP_IDLE;
      g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_RUNNING]);
    }
}

static void
child_exited (MpelChild *child,
              gpointer   owner)
{
  MpelLoop *self = owner;
  g_autoptr(GError) reason = NULL;

  g_object_ref (self);
  self->in_dispatch++;

  /* Out of the loop's hands before any signal, as a handler may close or
   * restart the loop; the children array's reference is ours now. */
  g_assert (g_ptr_array_index (self->children, child->index) == child);
  g_ptr_array_index (self->children, child->index) = NULL;

  fail_child_events (self, child);

  if (child->reason != NULL && (!child->greeted || child->startup_error != NULL))
    _mpel_loop_fail_start_tasks (self, child->reason);
  if (child->reason != NULL && !child->greeted && child->startup_error != NULL)
    _mpel_loop_note_spawn_failure (self, child->reason);

  g_signal_emit (self, _mpel_loop_signals[LOOP_SIGNAL_WORKER_EXITED], 0, child->index, child->reason);
  _mpel_loop_run_child_hooks (self, child, child->reason);

  reason = restart_after_death (self, child);

  if (count_live_children (self) == 0 && !children_to_come (self))
    loop_ran_out (self, reason);
  else
    _mpel_loop_pump (self);

  if (self->start_tasks->len > 0)
    _mpel_loop_check_start_tasks (self);

  self->in_dispatch--;
  child->owner = NULL;
  _mpel_child_unref (child);
  g_object_unref (self);
}

/* Frames from a child */

static gboolean
child_protocol_error_id (MpelChild *child,
                         MpelFrame *frame)
{
  return _mpel_peer_protocol_error (child->conn,
                                    _("the worker sent %s for event %" PRIu64 ", which is not in flight"),
                                    _mpel_frame_kind_to_string (frame->kind), frame->id);
}

/* An ERROR with id 0 is a start-up failure only as the first frame after
 * HELLO; afterwards no event has id 0 and it is a protocol error. */
static gboolean
handle_startup_error (MpelLoop  *self,
                      MpelChild *child,
                      MpelFrame *frame)
{
  g_autoptr(GError) cause = _mpel_error_from_variant (frame->body);
  g_autoptr(GError) error = NULL;

  /* A start-up failure, such as a module that does not load: the worker
   * exits next, and is not restarted. */
  _mpel_child_fail_startup (child, cause->message);
  error = g_error_new (MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                       _("Worker %u (%s) failed to start: %s"),
                       child->index, _mpel_child_get_label (child), cause->message);
  child->past_startup = TRUE;
  _mpel_loop_fail_in_flight (self, child, _mpel_loop_copy_error, error);
  _mpel_loop_fail_start_tasks (self, error);

  return TRUE;
}

static gboolean
handle_item (MpelLoop  *self,
             MpelChild *child,
             MpelFrame *frame)
{
  MpelEvent *event = _mpel_child_lookup_event (child, frame->id);

  child->past_startup = TRUE;
  if (event == NULL)
    return child_protocol_error_id (child, frame);

  /* Items of an event the caller gave up on are dropped. */
  if (event->state < MPEL_EVENT_STATE_DONE)
    {
      _mpel_event_emit_item (event, frame->body);
      g_signal_emit (self, _mpel_loop_signals[LOOP_SIGNAL_ITEM], event->target, event, frame->body);
    }

  return TRUE;
}

static gboolean
handle_answer (MpelLoop  *self,
               MpelChild *child,
               MpelFrame *frame)
{
  MpelEvent *event;

  if (frame->id == 0 && frame->kind == MPEL_FRAME_ERROR && !child->past_startup)
    return handle_startup_error (self, child, frame);

  child->past_startup = TRUE;
  if (_mpel_child_lookup_event (child, frame->id) == NULL)
    return child_protocol_error_id (child, frame);

  if (frame->kind == MPEL_FRAME_ERROR && !g_variant_is_of_type (frame->body, G_VARIANT_TYPE ("(sis)")))
    return _mpel_peer_protocol_error (child->conn, "%s", _("an ERROR frame does not carry (sis)"));

  event = _mpel_child_take_event (child, frame->id);
  self->n_in_flight--;

  /* What the worker adds about an error (exception type, traceback)
   * travels in the ERROR frame's meta. */
  if (frame->kind == MPEL_FRAME_ERROR && frame->meta_size > 0 && event->state < MPEL_EVENT_STATE_DONE)
    _mpel_event_set_error_details (event, _mpel_frame_get_meta (frame));

  if (event->state < MPEL_EVENT_STATE_DONE)
    {
      if (frame->kind == MPEL_FRAME_RETURN)
        _mpel_loop_end_event (self, event, MPEL_EVENT_STATE_DONE,
                        (frame->flags & MPEL_FRAME_FLAGS_NO_VALUE) ? NULL : g_variant_ref (frame->body),
                        NULL);
      else
        _mpel_loop_end_event (self, event, MPEL_EVENT_STATE_FAILED, NULL,
                        _mpel_error_from_variant (frame->body));
    }
  else
    _mpel_loop_event_clear_sources (event);

  g_object_unref (event);

  return TRUE;
}

static gboolean
handle_notify (MpelLoop  *self,
               MpelChild *child,
               MpelFrame *frame)
{
  child->past_startup = TRUE;

  /* Unsolicited: a NOTIFY nobody asked for is dropped, as it may well be
   * about a remote object the app just released (see doc/protocol.md). */
  if (self->notify_func == NULL)
    {
      g_debug ("Dropped a NOTIFY for handle %" PRIu64 " from worker %u", frame->id, child->index);
      return TRUE;
    }

  self->notify_func (self, child, frame->id, frame->name, frame->body, self->notify_data);

  return TRUE;
}

/* Context for the frame table: the loop and the child a frame came from. */
typedef struct
{
  MpelLoop  *loop;
  MpelChild *child;
} FrameSource;

static gboolean
on_answer_frame (gpointer   data,
                 MpelFrame *frame)
{
  FrameSource *source = data;

  return handle_answer (source->loop, source->child, frame);
}

static gboolean
on_item_frame (gpointer   data,
               MpelFrame *frame)
{
  FrameSource *source = data;

  return handle_item (source->loop, source->child, frame);
}

static gboolean
on_notify_frame (gpointer   data,
                 MpelFrame *frame)
{
  FrameSource *source = data;

  return handle_notify (source->loop, source->child, frame);
}

/* What the app does with each frame from a worker after HELLO. */
static const MpelPeerTable app_frames = {
  .side = MPEL_PEER_APP,
  .handlers = {
    [MPEL_FRAME_RETURN] = on_answer_frame,
    [MPEL_FRAME_ERROR] = on_answer_frame,
    [MPEL_FRAME_ITEM] = on_item_frame,
    [MPEL_FRAME_NOTIFY] = on_notify_frame,
  },
};

static gboolean
child_frame (MpelChild *child,
             MpelFrame *frame,
             gpointer   owner)
{
  MpelLoop *self = owner;
  FrameSource source = { self, child };
  gboolean ret;

  g_object_ref (self);
  self->in_dispatch++;

  ret = _mpel_peer_dispatch (&app_frames, child->conn, frame, &source);
  if (ret && child->owner != NULL && frame->kind != MPEL_FRAME_NOTIFY)
    _mpel_loop_pump (self);

  self->in_dispatch--;
  g_object_unref (self);

  return ret;
}

static const MpelChildCallbacks child_callbacks = {
  .greeted = child_greeted,
  .frame = child_frame,
  .broken = child_broken,
  .exited = child_exited,
};

/* Spawning */

static char **
build_argv (MpelLoop *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *host;

  if (self->argv != NULL && self->argv[0] != NULL)
    return g_strdupv (self->argv);

  host = g_getenv ("MPEL_WORKER");
  if (host == NULL || host[0] == '\0')
    host = MPEL_LIBEXECDIR "/mpel-worker";

  g_strv_builder_add (builder, host);
  if (self->transport == MPEL_TRANSPORT_STDIO)
    g_strv_builder_add (builder, "--stdio");
  for (guint i = 0; self->modules != NULL && self->modules[i] != NULL; i++)
    {
      g_strv_builder_add (builder, "--module");
      g_strv_builder_add (builder, self->modules[i]);
    }

  return g_strv_builder_end (builder);
}

/* What a spawn back-off is for: the same command, the same way. */
static char *
build_spawn_key (MpelLoop *self)
{
  g_auto(GStrv) argv = build_argv (self);
  g_autofree char *joined = g_strjoinv ("\n", argv);

  return g_strdup_printf ("%d %d %s", self->transport, self->sandbox, joined);
}

/* A worker could not be spawned, or died before it said HELLO: the next
 * spawns of the same command wait, as restarts do, rather than fork on
 * every push (issue 9). */
void
_mpel_loop_note_spawn_failure (MpelLoop     *self,
                               const GError *error)
{
  g_autofree char *key = build_spawn_key (self);
  guint delay;

  if (g_strcmp0 (key, self->spawn_key) != 0)
    self->n_spawn_failures = 0;
  g_free (self->spawn_key);
  self->spawn_key = g_steal_pointer (&key);
  g_clear_error (&self->spawn_error);
  self->spawn_error = g_error_copy (error);

  delay = MIN (RESTART_BASE_MSEC << MIN (self->n_spawn_failures, 16), RESTART_MAX_MSEC);
  self->n_spawn_failures++;
  self->spawn_retry_at = g_get_monotonic_time () + (gint64) delay * 1000;
}

static gboolean
spawn_backing_off (MpelLoop  *self,
                   GError   **error)
{
  g_autofree char *key = NULL;
  gint64 now = g_get_monotonic_time ();

  if (self->spawn_error == NULL || now >= self->spawn_retry_at)
    return FALSE;

  key = build_spawn_key (self);
  if (g_strcmp0 (key, self->spawn_key) != 0)
    return FALSE;

  g_set_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
               _("%s (not tried again for another %u ms)"), self->spawn_error->message,
               (guint) ((self->spawn_retry_at - now + 999) / 1000));
  return TRUE;
}

MpelChild *
_mpel_loop_spawn_child (MpelLoop  *self,
                        guint      index,
                        GError   **error)
{
  g_auto(GStrv) argv = build_argv (self);
  gboolean has_modules = (self->argv == NULL || self->argv[0] == NULL) &&
                         self->modules != NULL && self->modules[0] != NULL;
  g_autoptr(GError) local_error = NULL;
  MpelChild *child;

  MpelChildSpawn spawn = {
    .argv = (const char * const *) argv,
    .has_modules = has_modules,
    .transport = self->transport,
    .sandbox = self->sandbox,
    .handshake_timeout = self->handshake_timeout,
  };

  if (spawn_backing_off (self, error))
    return NULL;

  child = _mpel_child_spawn (&spawn, self->context, index, &child_callbacks, self, &local_error);
  if (child == NULL)
    {
      _mpel_loop_note_spawn_failure (self, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
    }

  return child;
}

/* Restarts */

typedef struct
{
  MpelLoop *loop;
  guint index;
  GSource *source;
} Restart;

/* A spawn that failed where a worker was to come: if it was the last
 * hope, what waits fails. */
void
_mpel_loop_spawn_failed (MpelLoop     *self,
                         const GError *error)
{
  _mpel_loop_fail_start_tasks (self, error);
  if (count_live_children (self) == 0 && !children_to_come (self))
    {
      _mpel_loop_fail_queue (self, error);
      self->state = LOOP_IDLE;
      g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_RUNNING]);
    }
}

static gboolean
restart_cb (gpointer data)
{
  Restart *restart = data;
  MpelLoop *self = restart->loop;
  guint index = restart->index;
  g_autoptr(GError) error = NULL;
  MpelChild *child;

  g_object_ref (self);
  /* Our callback data stays alive until this dispatch returns. */
  g_ptr_array_remove_fast (self->restart_sources, restart->source);

  if ((self->state == LOOP_RUNNING || self->state == LOOP_STOPPING) &&
      index < self->children->len &&
      g_ptr_array_index (self->children, index) == NULL)
    {
      child = _mpel_loop_spawn_child (self, index, &error);
      if (child != NULL)
        {
          g_ptr_array_index (self->children, index) = child;
          _mpel_loop_pump (self);
        }
      else
        _mpel_loop_spawn_failed (self, error);
    }

  g_object_unref (self);

  return G_SOURCE_REMOVE;
}

static gboolean
restart_child_later (MpelLoop  *self,
                     guint      index,
                     GError   **error)
{
  gint64 now = g_get_monotonic_time ();
  guint n_recent = 0;
  guint delay;

  for (guint i = 0; i < self->restarts->len; )
    {
      if (now - g_array_index (self->restarts, gint64, i) > RESTART_WINDOW_USEC)
        g_array_remove_index (self->restarts, i);
      else
        i++, n_recent++;
    }

  if (n_recent >= self->max_restarts)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                   _("Workers crashed %u times within a minute; worker %u is not restarted"),
                   n_recent + 1, index);
      return FALSE;
    }

  g_array_append_val (self->restarts, now);
  delay = MIN (RESTART_BASE_MSEC << MIN (n_recent, 16), RESTART_MAX_MSEC);
  schedule_restart (self, index, delay);

  return TRUE;
}

static void
schedule_restart (MpelLoop *self,
                  guint     index,
                  guint     delay)
{
  Restart *restart;

  restart = g_new0 (Restart, 1);
  restart->loop = self;
  restart->index = index;
  restart->source = g_timeout_source_new (delay);
  g_source_set_static_name (restart->source, "[mpel] restart");
  g_source_set_callback (restart->source, restart_cb, restart, g_free);
  g_source_attach (restart->source, self->context);
  g_ptr_array_add (self->restart_sources, restart->source);
}

/* Private API: the seams for remote objects */

/* Transfer none: the live child with the fewest events in flight or pinned
 * to it, starting the loop if needed; NULL with @error if there is none. */
MpelChild *
_mpel_loop_pick_child (MpelLoop  *self,
                       GError   **error)
{
  MpelChild *best = NULL;

  g_return_val_if_fail (MPEL_IS_LOOP (self), NULL);
  g_return_val_if_fail (_mpel_loop_caller_owns_context (self), NULL);

  if (self->state == LOOP_DISPOSED || self->state == LOOP_STOPPING)
    {
      g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_CLOSED,
                           _("The loop is stopping or closed"));
      return NULL;
    }

  if (self->state == LOOP_IDLE && !_mpel_loop_start_internal (self, error))
    return NULL;

  for (guint i = 0; i < self->children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (self->children, i);

      if (!_mpel_child_accepts_events (child, FALSE))
        continue;
      if (best == NULL ||
          _mpel_child_get_load (child) + _mpel_queue_length (&child->pinned) <
          _mpel_child_get_load (best) + _mpel_queue_length (&best->pinned))
        best = child;
    }

  if (best == NULL)
    g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                         _("No worker is running"));

  return best;
}

/* Transfer none: the process in slot @index, or NULL. */
MpelChild *
_mpel_loop_get_child (MpelLoop *self,
                      guint     index)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), NULL);

  if (index >= self->children->len)
    return NULL;

  return g_ptr_array_index (self->children, index);
}

static gboolean
hook_is_registered (MpelLoop *self,
                    guint     id)
{
  for (guint i = 0; i < self->child_hooks->len; i++)
    {
      if (g_array_index (self->child_hooks, ChildHook, i).id == id)
        return TRUE;
    }

  return FALSE;
}

/* Calls @func whenever a worker process dies or is let go of (closing the
 * loop lets go of all), after the process's events failed and after
 * #MpelLoop::worker-exited. Returns an id for removal. */
guint
_mpel_loop_add_child_died_hook (MpelLoop              *self,
                                MpelLoopChildDiedFunc  func,
                                gpointer               user_data)
{
  ChildHook hook = { ++self->next_hook_id, func, user_data };

  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  g_array_append_val (self->child_hooks, hook);

  return hook.id;
}

void
_mpel_loop_remove_child_died_hook (MpelLoop *self,
                                   guint     id)
{
  g_return_if_fail (MPEL_IS_LOOP (self));

  for (guint i = 0; i < self->child_hooks->len; i++)
    {
      if (g_array_index (self->child_hooks, ChildHook, i).id == id)
        {
          g_array_remove_index (self->child_hooks, i);
          return;
        }
    }
}

/* Routes NOTIFY frames to @func; with none, they are dropped. */
void
_mpel_loop_set_notify_handler (MpelLoop           *self,
                               MpelLoopNotifyFunc  func,
                               gpointer            user_data,
                               GDestroyNotify      destroy)
{
  g_return_if_fail (MPEL_IS_LOOP (self));

  if (self->notify_destroy != NULL)
    self->notify_destroy (self->notify_data);
  self->notify_func = func;
  self->notify_data = user_data;
  self->notify_destroy = destroy;
}
