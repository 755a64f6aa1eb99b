/* mpel-loop.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpel-enums.h"
#include "mpel-child-private.h"
#include "mpel-event-private.h"
#include "mpel-loop-private.h"
#include "mpel-peer-private.h"
#include "mpel-marshal.h"
#include "mpel-queue-private.h"
#include "mpel-util-private.h"
#include "mpel-wire-private.h"

/**
 * MpelLoop:
 *
 * Runs events in worker processes and brings their results back to the
 * app's main context.
 *
 * A loop spawns its workers when it starts: the default host `mpel-worker`
 * with the plugins named in [property@Mpel.Loop:modules], or any program
 * given with [ctor@Mpel.Loop.new_for_argv] that calls
 * [method@Mpel.Worker.run]. It starts by itself when the first event is
 * added; call [method@Mpel.Loop.start] to see a spawn error at once.
 *
 * Events go in with [method@Mpel.Loop.add_event], [method@Mpel.Loop.push] or
 * [method@Mpel.Loop.call_async]. Their results come back through
 * [signal@Mpel.Loop::output] — the chain of output handlers of
 * mp_event_loop — and through each event's own signals and async results.
 * All of it runs on the main context that was the thread-default one when
 * the loop was made, and nothing there ever blocks: frames are read and
 * written without blocking, and a flood of results is handled in slices
 * that let the GUI draw in between.
 *
 * Every event ends exactly once. When a worker dies, its events fail with
 * %MPEL_ERROR_WORKER_CRASHED; [method@Mpel.Loop.close] fails what is left
 * with %MPEL_ERROR_CLOSED. [method@Mpel.Loop.wait] and
 * [method@Mpel.Loop.wait_async] return once nothing is pending.
 *
 * A loop belongs to the main context that was the thread-default one when
 * it was made, as a [class@Gio.DBusConnection] does. Call its methods from
 * the thread that made it, or from a thread that holds that context (one
 * that iterates it or pushed it as thread-default); from any other thread
 * a call is refused with a critical warning and changes nothing. To use a
 * loop from another thread, send the work to its context with
 * g_main_context_invoke().
 *
 * Handlers of the loop's and its events' signals may add and cancel
 * events, close or drop the loop, and run a nested main loop, whatever path
 * ended the event; they must not call [method@Mpel.Loop.wait].
 */

#define RESTART_WINDOW_USEC    (60 * G_USEC_PER_SEC)
#define RESTART_BASE_MSEC      100
#define RESTART_MAX_MSEC       5000
#define HANDSHAKE_TIMEOUT_MSEC 5000
/* Spawning is a fork and an exec on the main context; past a few workers
 * per processor more workers only add memory and start-up time. */
#define WORKERS_PER_CPU        4
#define MIN_MAX_WORKERS        16

typedef enum
{
  LOOP_IDLE,
  LOOP_RUNNING,
  LOOP_STOPPING,
  /* Being disposed: refuses new events and never starts again. */
  LOOP_DISPOSED,
} LoopState;

typedef struct
{
  guint                  id;
  MpelLoopChildDiedFunc  func;
  gpointer               data;
} ChildHook;

struct _MpelLoop
{
  GObject            parent_instance;

  GMainContext      *context;
  GThread           *owner_thread;
  char             **argv;
  char             **modules;
  guint              n_workers;
  MpelRestartPolicy  restart_policy;
  guint              max_in_flight;
  guint              max_restarts;
  guint              kill_timeout;
  guint              handshake_timeout;

  GPtrArray         *children;    /* MpelChild* by index, NULL for a dead one */
  MpelQueue          queue;       /* queued events, by priority */
  GQueue             deferred;    /* events to fail from an idle */
  GSource           *deferred_source;
  GPtrArray         *waiters;     /* GTask of wait_async */
  GArray            *restarts;    /* gint64 monotonic times */
  GPtrArray         *restart_sources;
  GPtrArray         *start_tasks; /* GTask of start_async */
  GSource           *start_check_source;
  GSource           *spawn_source; /* start_async's remaining workers */
  guint              next_spawn;

  GArray            *child_hooks; /* ChildHook */
  guint              next_hook_id;
  MpelLoopNotifyFunc notify_func;
  gpointer           notify_data;
  GDestroyNotify     notify_destroy;
  guint              n_pinned;    /* events in the children's pinned queues */

  guint64            next_id;
  guint              n_pending;
  guint              n_in_flight;
  guint              in_dispatch;
  LoopState          state;
};

G_DEFINE_FINAL_TYPE (MpelLoop, mpel_loop, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ARGV,
  PROP_MODULES,
  PROP_N_WORKERS,
  PROP_RESTART_POLICY,
  PROP_MAX_IN_FLIGHT,
  PROP_MAX_RESTARTS,
  PROP_KILL_TIMEOUT,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_RUNNING,
  PROP_N_PENDING,
  N_PROPS
};

enum {
  OUTPUT,
  ITEM,
  WORKER_EXITED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void loop_pump          (MpelLoop   *self);
static void loop_end_event     (MpelLoop   *self,
                                MpelEvent  *event,
                                MpelEventState state,
                                GVariant   *result,
                                GError     *error);
static gboolean loop_start_internal (MpelLoop  *self,
                                     GError   **error);

/* A loop belongs to the main context that was thread-default when it was
 * made, as a GDBusConnection does, and its state is touched only from the
 * thread that runs it: the thread that made the loop, or one that holds the
 * context (it is iterating it, or pushed it as thread-default). Comparing
 * contexts alone is not enough: every thread that pushed nothing has the
 * global default. The common case costs a thread-local lookup and a
 * comparison; only a caller elsewhere takes the context's lock. */
static inline gboolean
caller_owns_context (MpelLoop *self)
{
  return g_thread_self () == self->owner_thread || g_main_context_is_owner (self->context);
}

static void loop_fail_start_tasks  (MpelLoop     *self,
                                    const GError *error);
static void loop_check_start_tasks (MpelLoop     *self);

/* Children */

static gboolean
hold_if_abandoned (MpelLoop *self)
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
static MpelChild *
least_loaded (MpelLoop *self)
{
  MpelChild *best = NULL;

  for (guint i = 0; i < self->children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (self->children, i);

      if (!_mpel_child_accepts_events (child, hold_if_abandoned (self)))
        continue;
      if (best == NULL || _mpel_child_get_load (child) < _mpel_child_get_load (best))
        best = child;
    }

  return best;
}

static void
destroy_source (gpointer data)
{
  GSource *source = data;

  _mpel_clear_source (&source);
}

/* Events */

static void
event_clear_sources (MpelEvent *event)
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

/* The one place where events end on the app side. Takes @result and
 * @error. */
static void
loop_end_event (MpelLoop       *self,
                MpelEvent      *event,
                MpelEventState  state,
                GVariant       *result,
                GError         *error)
{
  g_autoptr(GTask) task = NULL;
  gboolean handled = FALSE;

  event_clear_sources (event);

  /* Handlers may drop the last other reference. The caller holds the
   * loop. */
  g_object_ref (event);
  /* Every handler that can see an event end runs inside the guard, so that
   * a nested mpel_loop_wait() is refused on every path alike. */
  self->in_dispatch++;

  if (!_mpel_event_finish (event, state, result, error))
    {
      self->in_dispatch--;
      g_object_unref (event);
      return;
    }

  g_assert (self->n_pending > 0);
  self->n_pending--;

  if (state == MPEL_EVENT_STATE_FAILED ||
      (state == MPEL_EVENT_STATE_DONE && (event->flags & MPEL_EVENT_FLAGS_NO_REPLY) == 0))
    g_signal_emit (self, signals[OUTPUT], event->target, event, &handled);

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

  if (self->n_pending == 0)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PENDING]);
      complete_waiters (self);
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
        loop_end_event (self, deferred->event, MPEL_EVENT_STATE_FAILED, NULL,
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
static void
loop_fail_later (MpelLoop  *self,
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

static gboolean
event_timeout_cb (gpointer data)
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

static gboolean
kill_timeout_cb (gpointer data)
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

  if (!_mpel_queue_is_empty (&self->queue) && (*out_child = least_loaded (self)) != NULL)
    {
      queue = &self->queue;
      best = _mpel_queue_peek (queue);
    }

  for (guint i = 0; self->n_pinned > 0 && i < self->children->len; i++)
    {
      MpelChild *child = g_ptr_array_index (self->children, i);
      MpelEvent *head;

      if (child == NULL || _mpel_queue_is_empty (&child->pinned) ||
          !_mpel_child_accepts_events (child, hold_if_abandoned (self)))
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

static void
loop_pump (MpelLoop *self)
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
          loop_fail_later (self, event, g_steal_pointer (&error));
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
static void
fail_events (MpelLoop  *self,
             GPtrArray *events,
             GError   *(*make_error) (MpelChild *child, MpelEvent *event, gpointer data),
             MpelChild *child,
             gpointer   data)
{
  for (guint i = 0; i < events->len; i++)
    {
      MpelEvent *event = g_ptr_array_index (events, i);

      if (event->state < MPEL_EVENT_STATE_DONE)
        loop_end_event (self, event, MPEL_EVENT_STATE_FAILED, NULL,
                        make_error (child, event, data));
      else
        event_clear_sources (event);
    }
}

static void
fail_queue (MpelLoop     *self,
            const GError *error)
{
  while (!_mpel_queue_is_empty (&self->queue))
    {
      MpelEvent *event = _mpel_queue_pop (&self->queue);

      loop_end_event (self, event, MPEL_EVENT_STATE_FAILED, NULL, g_error_copy (error));
      g_object_unref (event);
    }
}

/* Empties the child's in-flight table and ends each event, in the order
 * they were sent, with an error made by @make_error. */
static void
fail_in_flight (MpelLoop  *self,
                MpelChild *child,
                GError   *(*make_error) (MpelChild *child, MpelEvent *event, gpointer data),
                gpointer   data)
{
  g_autoptr(GPtrArray) events = _mpel_child_take_in_flight (child);

  g_assert (self->n_in_flight >= events->len);
  self->n_in_flight -= events->len;
  fail_events (self, events, make_error, child, data);
}

static GPtrArray *
take_pinned (MpelLoop  *self,
             MpelChild *child)
{
  GPtrArray *events = g_ptr_array_new_with_free_func (g_object_unref);

  while (!_mpel_queue_is_empty (&child->pinned))
    g_ptr_array_add (events, _mpel_queue_pop (&child->pinned));
  g_assert (self->n_pinned >= events->len);
  self->n_pinned -= events->len;

  return events;
}

static GError *
copy_error (MpelChild *child,
            MpelEvent *event,
            gpointer   data)
{
  const GError *error = data;

  return g_error_copy (error);
}

static GError *
crash_error (MpelChild *child,
             MpelEvent *event,
             gpointer   data)
{
  const char *how = data;

  return g_error_new (MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                      _("Worker %u (pid %d) %s while running “%s”"),
                      child->index, (int) child->pid, how, mpel_event_get_target (event));
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

  if (self->start_tasks->len > 0)
    loop_check_start_tasks (self);
}

static void
child_broken (MpelChild *child,
              gpointer   owner)
{
  MpelLoop *self = owner;

  g_object_ref (self);
  fail_in_flight (self, child, copy_error, child->protocol_error);
  loop_pump (self);
  g_object_unref (self);
}

static gboolean hook_is_registered (MpelLoop *self,
                                    guint     id);

/* Runs the hooks of the private API, for what is bound to one process. */
static void
run_child_hooks (MpelLoop     *self,
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
  g_autoptr(GPtrArray) pinned = take_pinned (self, child);
  const GError *reason = child->reason;

  if (reason != NULL && reason->code != MPEL_ERROR_WORKER_CRASHED)
    {
      fail_in_flight (self, child, copy_error, (gpointer) reason);
      fail_events (self, pinned, copy_error, child, (gpointer) reason);
    }
  else
    {
      g_autoptr(GError) gone = g_error_new (MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                                            _("Worker %u (pid %d) %s"),
                                            child->index, (int) child->pid, child->how);

      fail_in_flight (self, child, crash_error, child->how);
      fail_events (self, pinned, copy_error, child, gone);
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
      fail_queue (self, error);
    }

  if (self->state != LOOP_IDLE)
    {
      self->state = LOOP_IDLE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
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
    loop_fail_start_tasks (self, child->reason);

  g_signal_emit (self, signals[WORKER_EXITED], 0, child->index, child->reason);
  run_child_hooks (self, child, child->reason);

  reason = restart_after_death (self, child);

  if (count_live_children (self) == 0 && !children_to_come (self))
    loop_ran_out (self, reason);
  else
    loop_pump (self);

  if (self->start_tasks->len > 0)
    loop_check_start_tasks (self);

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
                                    mpel_frame_kind_to_string (frame->kind), frame->id);
}

/* An ERROR with id 0 is a start-up failure only as the first frame after
 * HELLO; afterwards no event has id 0 and it is a protocol error. */
static gboolean
handle_startup_error (MpelLoop  *self,
                      MpelChild *child,
                      MpelFrame *frame)
{
  g_autoptr(GError) cause = mpel_error_from_variant (frame->body);
  g_autoptr(GError) error = NULL;

  /* A start-up failure, such as a module that does not load: the worker
   * exits next, and is not restarted. */
  _mpel_child_fail_startup (child, cause->message);
  error = g_error_new (MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                       _("Worker %u (pid %d) failed to start: %s"),
                       child->index, (int) child->pid, cause->message);
  child->past_startup = TRUE;
  fail_in_flight (self, child, copy_error, error);
  loop_fail_start_tasks (self, error);

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
      g_signal_emit (self, signals[ITEM], event->target, event, frame->body);
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
  if (frame->kind == MPEL_FRAME_ERROR && frame->meta != NULL && event->state < MPEL_EVENT_STATE_DONE)
    _mpel_event_set_error_details (event, frame->meta);

  if (event->state < MPEL_EVENT_STATE_DONE)
    {
      if (frame->kind == MPEL_FRAME_RETURN)
        loop_end_event (self, event, MPEL_EVENT_STATE_DONE,
                        (frame->flags & MPEL_FRAME_FLAGS_NO_VALUE) ? NULL : g_variant_ref (frame->body),
                        NULL);
      else
        loop_end_event (self, event, MPEL_EVENT_STATE_FAILED, NULL,
                        mpel_error_from_variant (frame->body));
    }
  else
    event_clear_sources (event);

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
    loop_pump (self);

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
  for (guint i = 0; self->modules != NULL && self->modules[i] != NULL; i++)
    {
      g_strv_builder_add (builder, "--module");
      g_strv_builder_add (builder, self->modules[i]);
    }

  return g_strv_builder_end (builder);
}

static MpelChild *
spawn_child (MpelLoop  *self,
             guint      index,
             GError   **error)
{
  g_auto(GStrv) argv = build_argv (self);
  gboolean has_modules = (self->argv == NULL || self->argv[0] == NULL) &&
                         self->modules != NULL && self->modules[0] != NULL;

  return _mpel_child_spawn ((const char * const *) argv, has_modules, self->context, index,
                            self->handshake_timeout, &child_callbacks, self, error);
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
static void
spawn_failed (MpelLoop     *self,
              const GError *error)
{
  loop_fail_start_tasks (self, error);
  if (count_live_children (self) == 0 && !children_to_come (self))
    {
      fail_queue (self, error);
      self->state = LOOP_IDLE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
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
      child = spawn_child (self, index, &error);
      if (child != NULL)
        {
          g_ptr_array_index (self->children, index) = child;
          loop_pump (self);
        }
      else
        spawn_failed (self, error);
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
      child_pinned = take_pinned (self, child);
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

static void
loop_close_internal (MpelLoop *self,
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
              event_clear_sources (event);
              self->in_dispatch++;
              if (_mpel_event_finish (event, MPEL_EVENT_STATE_FAILED, NULL, error))
                self->n_pending--;
              self->in_dispatch--;
            }
          else
            loop_end_event (self, event, MPEL_EVENT_STATE_FAILED, NULL, error);
        }
      else
        event_clear_sources (event);

      event->loop = NULL;
    }

  if (self->start_tasks->len > 0)
    {
      g_autoptr(GError) error = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                                     _("The loop was closed before its workers started"));

      loop_fail_start_tasks (self, error);
    }

  /* What else was bound to the processes fails as their events did. */
  if (!disposing && gone->len > 0)
    {
      g_autoptr(GError) error = g_error_new_literal (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                                     _("The loop was closed"));

      for (guint i = 0; i < gone->len; i++)
        run_child_hooks (self, g_ptr_array_index (gone, i), error);
    }

  if (was_running && !disposing)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

static void
mpel_loop_dispose (GObject *object)
{
  MpelLoop *self = (MpelLoop *)object;

  loop_close_internal (self, TRUE);

  G_OBJECT_CLASS (mpel_loop_parent_class)->dispose (object);
}

static void
mpel_loop_finalize (GObject *object)
{
  MpelLoop *self = (MpelLoop *)object;

  g_assert (self->waiters->len == 0);
  g_assert (self->start_tasks->len == 0);
  g_assert (self->start_check_source == NULL);
  g_assert (self->spawn_source == NULL);

  g_clear_pointer (&self->argv, g_strfreev);
  g_clear_pointer (&self->modules, g_strfreev);
  g_clear_pointer (&self->children, g_ptr_array_unref);
  _mpel_queue_clear (&self->queue);
  g_clear_pointer (&self->child_hooks, g_array_unref);
  if (self->notify_destroy != NULL)
    self->notify_destroy (self->notify_data);
  g_clear_pointer (&self->waiters, g_ptr_array_unref);
  g_clear_pointer (&self->restarts, g_array_unref);
  g_clear_pointer (&self->restart_sources, g_ptr_array_unref);
  g_clear_pointer (&self->start_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->owner_thread, g_thread_unref);

  G_OBJECT_CLASS (mpel_loop_parent_class)->finalize (object);
}

static void
mpel_loop_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  MpelLoop *self = MPEL_LOOP (object);

  switch (prop_id)
    {
    case PROP_ARGV:
      g_value_set_boxed (value, self->argv);
      break;

    case PROP_MODULES:
      g_value_set_boxed (value, self->modules);
      break;

    case PROP_N_WORKERS:
      g_value_set_uint (value, self->n_workers);
      break;

    case PROP_RESTART_POLICY:
      g_value_set_enum (value, self->restart_policy);
      break;

    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, self->max_in_flight);
      break;

    case PROP_MAX_RESTARTS:
      g_value_set_uint (value, self->max_restarts);
      break;

    case PROP_KILL_TIMEOUT:
      g_value_set_uint (value, self->kill_timeout);
      break;

    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;

    case PROP_RUNNING:
      g_value_set_boolean (value, mpel_loop_is_running (self));
      break;

    case PROP_N_PENDING:
      g_value_set_uint (value, self->n_pending);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_loop_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  MpelLoop *self = MPEL_LOOP (object);

  switch (prop_id)
    {
    case PROP_ARGV:
      mpel_loop_set_argv (self, g_value_get_boxed (value));
      break;

    case PROP_MODULES:
      mpel_loop_set_modules (self, g_value_get_boxed (value));
      break;

    case PROP_N_WORKERS:
      mpel_loop_set_n_workers (self, g_value_get_uint (value));
      break;

    case PROP_RESTART_POLICY:
      mpel_loop_set_restart_policy (self, g_value_get_enum (value));
      break;

    case PROP_MAX_IN_FLIGHT:
      mpel_loop_set_max_in_flight (self, g_value_get_uint (value));
      break;

    case PROP_MAX_RESTARTS:
      mpel_loop_set_max_restarts (self, g_value_get_uint (value));
      break;

    case PROP_KILL_TIMEOUT:
      mpel_loop_set_kill_timeout (self, g_value_get_uint (value));
      break;

    case PROP_HANDSHAKE_TIMEOUT:
      mpel_loop_set_handshake_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_loop_class_init (MpelLoopClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  _mpel_ensure_i18n ();

  object_class->dispose = mpel_loop_dispose;
  object_class->finalize = mpel_loop_finalize;
  object_class->get_property = mpel_loop_get_property;
  object_class->set_property = mpel_loop_set_property;

  /**
   * MpelLoop:argv:
   *
   * The worker program and its arguments, or %NULL for the default host
   * `mpel-worker` (its path is taken from the `MPEL_WORKER` environment
   * variable when set, which is how uninstalled tests run it). The program
   * must call [method@Mpel.Worker.run]. Takes effect at the next start.
   */
  properties[PROP_ARGV] =
    g_param_spec_boxed ("argv", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:modules:
   *
   * Plugins for the default host to load (`mpel-worker --module PATH`).
   * Used only when [property@Mpel.Loop:argv] is %NULL. Takes effect at the
   * next start.
   */
  properties[PROP_MODULES] =
    g_param_spec_boxed ("modules", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:n-workers:
   *
   * How many worker processes run side by side. Each event goes to the
   * worker with the fewest events in flight; one worker runs its events in
   * the order it got them. Takes effect at the next start.
   */
  properties[PROP_N_WORKERS] =
    g_param_spec_uint ("n-workers", NULL, NULL,
                       1, 1024, 1,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:restart-policy:
   *
   * Whether a worker that crashes is replaced. A replaced worker gets the
   * events that were still queued; the events it was running have failed
   * with %MPEL_ERROR_WORKER_CRASHED. Restarts back off exponentially and stop
   * after [property@Mpel.Loop:max-restarts] within a minute.
   */
  properties[PROP_RESTART_POLICY] =
    g_param_spec_enum ("restart-policy", NULL, NULL,
                       MPEL_TYPE_RESTART_POLICY, MPEL_RESTART_POLICY_NEVER,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:max-in-flight:
   *
   * How many events may be sent and not yet answered, over all workers; the
   * others wait in the queue, by priority. 0 means no limit.
   */
  properties[PROP_MAX_IN_FLIGHT] =
    g_param_spec_uint ("max-in-flight", NULL, NULL,
                       0, G_MAXUINT, 1024,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:max-restarts:
   *
   * With [enum@Mpel.RestartPolicy].ON_CRASH, how many restarts are allowed
   * within a minute before the loop gives up.
   */
  properties[PROP_MAX_RESTARTS] =
    g_param_spec_uint ("max-restarts", NULL, NULL,
                       0, G_MAXUINT, 5,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:kill-timeout:
   *
   * Milliseconds a worker has to answer an event after it was cancelled or
   * timed out; past that the worker is taken to be stuck (in a handler that
   * cannot be cancelled, say) and is killed. A worker killed this way is
   * replaced whatever [property@Mpel.Loop:restart-policy] says, and the
   * replacement does not count against [property@Mpel.Loop:max-restarts].
   * 0, the default, never kills.
   */
  properties[PROP_KILL_TIMEOUT] =
    g_param_spec_uint ("kill-timeout", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:handshake-timeout:
   *
   * Milliseconds a new worker has to say HELLO. A worker that does not (a
   * program that is not an mpel worker, an interpreter that hangs) is
   * killed, and its events fail with %MPEL_ERROR_SPAWN_FAILED naming the
   * timeout. 0 waits for ever; the default is 5000.
   */
  properties[PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL,
                       0, G_MAXUINT, HANDSHAKE_TIMEOUT_MSEC,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:running:
   *
   * Whether the loop has workers running or starting.
   */
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:n-pending:
   *
   * How many events were added and have not ended yet. Notified when it
   * drops to 0.
   */
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MpelLoop::output:
   * @self: the loop
   * @event: the event that ended
   *
   * Emitted once for every event that ends with a result or an error —
   * a worker crash and [method@Mpel.Loop.close] included — in the order
   * they end. Not emitted for events the caller cancelled, nor for
   * successful %MPEL_EVENT_FLAGS_NO_REPLY events.
   *
   * The signal is detailed by the event's target, so a handler can connect
   * to `output::add_vals` only. Handlers run in order; one that returns
   * %TRUE stops the others, like mp_event_loop's chain of output handlers.
   *
   * Returns: %TRUE to stop other handlers from being invoked
   */
  signals[OUTPUT] =
    g_signal_new ("output",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0,
                  g_signal_accumulator_true_handled, NULL,
                  _mpel_marshal_BOOLEAN__OBJECT,
                  G_TYPE_BOOLEAN, 1, MPEL_TYPE_EVENT);
  g_signal_set_va_marshaller (signals[OUTPUT],
                              G_TYPE_FROM_CLASS (klass),
                              _mpel_marshal_BOOLEAN__OBJECTv);

  /**
   * MpelLoop::item:
   * @self: the loop
   * @event: the event that streamed the item
   * @item: the item
   *
   * Emitted for every item a handler streams with
   * [method@Mpel.Invocation.yield], detailed by the event's target.
   */
  signals[ITEM] =
    g_signal_new ("item",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0,
                  NULL, NULL,
                  _mpel_marshal_VOID__OBJECT_VARIANT,
                  G_TYPE_NONE, 2, MPEL_TYPE_EVENT, G_TYPE_VARIANT);
  g_signal_set_va_marshaller (signals[ITEM],
                              G_TYPE_FROM_CLASS (klass),
                              _mpel_marshal_VOID__OBJECT_VARIANTv);

  /**
   * MpelLoop::worker-exited:
   * @self: the loop
   * @index: the index of the worker, below [property@Mpel.Loop:n-workers]
   * @reason: (nullable): why it ended, or %NULL for a clean exit after
   *   [method@Mpel.Loop.stop]
   *
   * Emitted when a worker process has ended, after its events have failed.
   * Not emitted for workers that [method@Mpel.Loop.close] ends.
   */
  signals[WORKER_EXITED] =
    g_signal_new ("worker-exited",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  _mpel_marshal_VOID__UINT_BOXED,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_ERROR);
  g_signal_set_va_marshaller (signals[WORKER_EXITED],
                              G_TYPE_FROM_CLASS (klass),
                              _mpel_marshal_VOID__UINT_BOXEDv);
}

static void
mpel_loop_init (MpelLoop *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->owner_thread = g_thread_ref (g_thread_self ());
  self->n_workers = 1;
  self->max_in_flight = 1024;
  self->max_restarts = 5;
  self->next_id = 1;
  self->children = g_ptr_array_new ();
  _mpel_queue_init (&self->queue);
  self->child_hooks = g_array_new (FALSE, FALSE, sizeof (ChildHook));
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->restarts = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->restart_sources = g_ptr_array_new_with_free_func (destroy_source);
  self->start_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->handshake_timeout = HANDSHAKE_TIMEOUT_MSEC;
}

/**
 * mpel_loop_new:
 *
 * Makes a loop that runs the default host `mpel-worker`; give it plugins
 * with [property@Mpel.Loop:modules]. The loop's main context is the
 * thread-default one at this call.
 *
 * Returns: (transfer full): a new #MpelLoop
 */
MpelLoop *
mpel_loop_new (void)
{
  return g_object_new (MPEL_TYPE_LOOP, NULL);
}

/**
 * mpel_loop_new_for_argv:
 * @argv: (array zero-terminated=1): the worker program and its arguments
 *
 * Makes a loop whose workers run @argv, a program that calls
 * [method@Mpel.Worker.run]: a C program, or a Python or GJS script (with
 * its interpreter as `argv[0]`).
 *
 * Returns: (transfer full): a new #MpelLoop
 */
MpelLoop *
mpel_loop_new_for_argv (const char * const *argv)
{
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  return g_object_new (MPEL_TYPE_LOOP, "argv", argv, NULL);
}

/**
 * mpel_loop_get_default:
 *
 * The loop of the whole process, like mp_event_loop's module-level
 * functions: made on first use, on the thread-default main context of the
 * first caller, and never finalized.
 *
 * Returns: (transfer none): the default loop
 */
MpelLoop *
mpel_loop_get_default (void)
{
  static MpelLoop *default_loop;

  if (g_once_init_enter (&default_loop))
    g_once_init_leave (&default_loop, mpel_loop_new ());

  return default_loop;
}

/**
 * mpel_loop_get_argv:
 * @self: a #MpelLoop
 *
 * Gets the worker program.
 *
 * Returns: (nullable) (array zero-terminated=1) (transfer none): the worker
 *   program, or %NULL for the default host
 */
const char * const *
mpel_loop_get_argv (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), NULL);

  return (const char * const *) self->argv;
}

/**
 * mpel_loop_set_argv:
 * @self: a #MpelLoop
 * @argv: (nullable) (array zero-terminated=1): the worker program and its
 *   arguments, or %NULL for the default host
 *
 * Sets the worker program for the next start.
 */
void
mpel_loop_set_argv (MpelLoop           *self,
                    const char * const *argv)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));

  if (_mpel_set_strv (&self->argv, argv))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ARGV]);
}

/**
 * mpel_loop_get_modules:
 * @self: a #MpelLoop
 *
 * Gets the plugins of the default host.
 *
 * Returns: (nullable) (array zero-terminated=1) (transfer none): the plugins
 *   of the default host
 */
const char * const *
mpel_loop_get_modules (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), NULL);

  return (const char * const *) self->modules;
}

/**
 * mpel_loop_set_modules:
 * @self: a #MpelLoop
 * @modules: (nullable) (array zero-terminated=1): paths of plugins
 *
 * Sets the plugins the default host loads at the next start.
 */
void
mpel_loop_set_modules (MpelLoop           *self,
                       const char * const *modules)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));

  if (_mpel_set_strv (&self->modules, modules))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODULES]);
}

/**
 * mpel_loop_get_n_workers:
 * @self: a #MpelLoop
 *
 * Gets the number of worker processes.
 *
 * Returns: the number of worker processes
 */
guint
mpel_loop_get_n_workers (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);

  return self->n_workers;
}

/**
 * mpel_loop_set_n_workers:
 * @self: a #MpelLoop
 * @n_workers: the number of worker processes, at least 1
 *
 * Sets how many workers the next start spawns. Workers are spawned on the
 * loop's main context, so the number is capped at what one machine can use:
 * four per processor, and at least 16. A larger value is taken as the cap.
 */
void
mpel_loop_set_n_workers (MpelLoop *self,
                         guint     n_workers)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));
  g_return_if_fail (n_workers >= 1);

  n_workers = MIN (n_workers, MAX (WORKERS_PER_CPU * g_get_num_processors (), MIN_MAX_WORKERS));
  if (self->n_workers == n_workers)
    return;

  self->n_workers = n_workers;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_WORKERS]);
}

/**
 * mpel_loop_get_restart_policy:
 * @self: a #MpelLoop
 *
 * Gets what happens when a worker crashes.
 *
 * Returns: what happens when a worker crashes
 */
MpelRestartPolicy
mpel_loop_get_restart_policy (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);

  return self->restart_policy;
}

/**
 * mpel_loop_set_restart_policy:
 * @self: a #MpelLoop
 * @policy: the policy
 *
 * Sets whether crashed workers are replaced.
 */
void
mpel_loop_set_restart_policy (MpelLoop          *self,
                              MpelRestartPolicy  policy)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));

  if (self->restart_policy == policy)
    return;

  self->restart_policy = policy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESTART_POLICY]);
}

/**
 * mpel_loop_get_max_in_flight:
 * @self: a #MpelLoop
 *
 * Gets the limit of events sent and not yet answered.
 *
 * Returns: the limit of events sent and not answered, 0 for none
 */
guint
mpel_loop_get_max_in_flight (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);

  return self->max_in_flight;
}

/**
 * mpel_loop_set_max_in_flight:
 * @self: a #MpelLoop
 * @max_in_flight: the limit, 0 for none
 *
 * Sets how many events may be sent and not yet answered.
 */
void
mpel_loop_set_max_in_flight (MpelLoop *self,
                             guint     max_in_flight)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));

  if (self->max_in_flight == max_in_flight)
    return;

  self->max_in_flight = max_in_flight;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_IN_FLIGHT]);
  loop_pump (self);
}

/**
 * mpel_loop_get_max_restarts:
 * @self: a #MpelLoop
 *
 * Gets how many restarts a minute are allowed.
 *
 * Returns: how many restarts a minute are allowed
 */
guint
mpel_loop_get_max_restarts (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);

  return self->max_restarts;
}

/**
 * mpel_loop_set_max_restarts:
 * @self: a #MpelLoop
 * @max_restarts: restarts allowed within a minute
 *
 * Sets when [enum@Mpel.RestartPolicy].ON_CRASH gives up.
 */
void
mpel_loop_set_max_restarts (MpelLoop *self,
                            guint     max_restarts)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));

  if (self->max_restarts == max_restarts)
    return;

  self->max_restarts = max_restarts;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_RESTARTS]);
}

/**
 * mpel_loop_get_kill_timeout:
 * @self: a #MpelLoop
 *
 * Gets the grace period of a cancelled event.
 *
 * Returns: the grace period of a cancelled event, in milliseconds; 0 when
 *   stuck workers are never killed
 */
guint
mpel_loop_get_kill_timeout (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);

  return self->kill_timeout;
}

/**
 * mpel_loop_set_kill_timeout:
 * @self: a #MpelLoop
 * @kill_timeout_msec: milliseconds, or 0 to never kill
 *
 * Sets how long a worker has to answer a cancelled or timed-out event
 * before it is killed as stuck.
 */
void
mpel_loop_set_kill_timeout (MpelLoop *self,
                            guint     kill_timeout_msec)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));

  if (self->kill_timeout == kill_timeout_msec)
    return;

  self->kill_timeout = kill_timeout_msec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KILL_TIMEOUT]);
}

/**
 * mpel_loop_get_handshake_timeout:
 * @self: a #MpelLoop
 *
 * Gets how long a new worker has to say HELLO.
 *
 * Returns: the handshake timeout in milliseconds; 0 waits for ever
 */
guint
mpel_loop_get_handshake_timeout (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);

  return self->handshake_timeout;
}

/**
 * mpel_loop_set_handshake_timeout:
 * @self: a #MpelLoop
 * @handshake_timeout_msec: milliseconds, or 0 to wait for ever
 *
 * Sets how long a worker spawned from now on has to say HELLO before it is
 * killed and its events fail with %MPEL_ERROR_SPAWN_FAILED.
 */
void
mpel_loop_set_handshake_timeout (MpelLoop *self,
                                 guint     handshake_timeout_msec)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));
  g_return_if_fail (caller_owns_context (self));

  if (self->handshake_timeout == handshake_timeout_msec)
    return;

  self->handshake_timeout = handshake_timeout_msec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HANDSHAKE_TIMEOUT]);
}

/**
 * mpel_loop_get_n_pending:
 * @self: a #MpelLoop
 *
 * Gets how many events were added and have not ended.
 *
 * Returns: how many events were added and have not ended
 */
guint
mpel_loop_get_n_pending (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);

  return self->n_pending;
}

/**
 * mpel_loop_is_running:
 * @self: a #MpelLoop
 *
 * Tells whether the loop is running.
 *
 * Returns: whether the loop has been started and has not stopped
 */
gboolean
mpel_loop_is_running (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), FALSE);

  return self->state != LOOP_IDLE;
}

/**
 * mpel_loop_get_worker_pid:
 * @self: a #MpelLoop
 * @index: a worker index
 *
 * Gets the process id of a worker.
 *
 * Returns: the process id of worker @index, or 0 if it is not running
 */
GPid
mpel_loop_get_worker_pid (MpelLoop *self,
                          guint     index)
{
  MpelChild *child;

  g_return_val_if_fail (MPEL_IS_LOOP (self), 0);

  if (index >= self->children->len)
    return 0;

  child = g_ptr_array_index (self->children, index);
  if (child == NULL || child->state == MPEL_CHILD_DEAD)
    return 0;

  return child->pid;
}

static gboolean
loop_start_internal (MpelLoop  *self,
                     GError   **error)
{
  g_autoptr(GPtrArray) children = g_ptr_array_new ();

  g_assert (self->state == LOOP_IDLE);

  for (guint i = 0; i < self->n_workers; i++)
    {
      MpelChild *child = spawn_child (self, i, error);

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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

  loop_pump (self);

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

  child = spawn_child (self, index, &error);
  if (child != NULL)
    {
      g_ptr_array_index (self->children, index) = child;
      loop_pump (self);
    }
  else
    spawn_failed (self, error);

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

  first = spawn_child (self, 0, error);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

  loop_pump (self);

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
  g_return_val_if_fail (caller_owns_context (self), FALSE);
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

  return loop_start_internal (self, error);
}

/* Start tasks */

static void
loop_fail_start_tasks (MpelLoop     *self,
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

      loop_fail_start_tasks (self, error);
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
static void
loop_check_start_tasks (MpelLoop *self)
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
  g_return_if_fail (caller_owns_context (self));
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
      g_task_set_task_data (task, source, destroy_source);
    }

  g_ptr_array_add (self->start_tasks, g_steal_pointer (&task));
  loop_check_start_tasks (self);
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

/**
 * mpel_loop_stop:
 * @self: a #MpelLoop
 *
 * Stops the loop gracefully: the events already added still run and their
 * results still arrive, then the workers exit. Events added meanwhile fail
 * with %MPEL_ERROR_CLOSED. [property@Mpel.Loop:running] turns %FALSE when
 * the last worker has exited; the loop can then be started again.
 */
void
mpel_loop_stop (MpelLoop *self)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));

  if (self->state != LOOP_RUNNING)
    return;

  /* A restart that is pending goes ahead: the queued events it would run
   * were added before the stop, and a graceful stop runs them. */
  self->state = LOOP_STOPPING;
  loop_pump (self);
}

/**
 * mpel_loop_close:
 * @self: a #MpelLoop
 *
 * Closes the loop now: the workers are killed, and every event not yet
 * ended fails with %MPEL_ERROR_CLOSED before this returns — in-flight
 * events first, in the order they were sent, then queued ones. The loop can
 * be started again.
 */
void
mpel_loop_close (MpelLoop *self)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));

  g_object_ref (self);
  loop_close_internal (self, FALSE);
  g_object_unref (self);
}

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
  event_clear_sources (event);
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
      loop_fail_later (self, event,
                       g_error_new (MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                                    _("Worker %u (pid %d), which “%s” is pinned to, is gone"),
                                    child->index, (int) child->pid, mpel_event_get_target (event)));
      return;
    }

  _mpel_queue_push (&child->pinned, g_object_ref (event));
  self->n_pinned++;
  loop_pump (self);
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
  g_return_if_fail (caller_owns_context (self));
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

      event_clear_sources (event);
      if (task != NULL)
        g_task_return_error (task, g_error_copy (event->error));
      return;
    }

  self->n_pending++;

  if (event->timeout > 0)
    {
      event->timeout_source = g_timeout_source_new (event->timeout);
      g_source_set_static_name (event->timeout_source, "[mpel] event timeout");
      g_source_set_callback (event->timeout_source, event_timeout_cb, event, NULL);
      g_source_attach (event->timeout_source, self->context);
    }

  /* Refused here, for this event alone: the worker would end the session
   * over it, failing the events of others. */
  if ((error = _mpel_event_check (event)) != NULL)
    {
      loop_fail_later (self, event, g_steal_pointer (&error));
      return;
    }

  if (self->state == LOOP_STOPPING)
    {
      loop_fail_later (self, event,
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

  if (self->state == LOOP_IDLE && !loop_start_internal (self, &error))
    {
      loop_fail_later (self, event, g_steal_pointer (&error));
      return;
    }

  _mpel_queue_push (&self->queue, g_object_ref (event));
  loop_pump (self);
}

/**
 * mpel_loop_add_event:
 * @self: a #MpelLoop
 * @target: the name of the handler in the worker
 * @args: (nullable): the arguments: a tuple, or a single value that is
 *   wrapped into a one-element tuple, or %NULL for none
 *
 * Adds an event, like mp_event_loop's `add_event()`; its result arrives
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
  g_return_val_if_fail (caller_owns_context (self), NULL);
  g_return_val_if_fail (target != NULL, NULL);

  event = mpel_event_new (target, owned_args);
  mpel_loop_push (self, event);
  g_object_unref (event);

  return event;
}

void
_mpel_loop_cancel_event (MpelLoop  *self,
                         MpelEvent *event,
                         GError    *error)
{
  MpelEventState state;

  g_assert (MPEL_IS_LOOP (self));

  if (!caller_owns_context (self))
    {
      g_clear_error (&error);
      g_return_if_fail (caller_owns_context (self));
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
      loop_end_event (self, event, state, NULL, error);
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
      loop_end_event (self, event, state, NULL, error);
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

      loop_end_event (self, event, state, NULL, error);

      /* Unless the worker answered, died or was let go meanwhile */
      if (child != NULL && event->child == child && child->owner == self && self->kill_timeout > 0 &&
          child->conn != NULL && !mpel_connection_is_closed (child->conn))
        {
          event->kill_source = g_timeout_source_new (self->kill_timeout);
          g_source_set_static_name (event->kill_source, "[mpel] stuck worker");
          g_source_set_callback (event->kill_source, kill_timeout_cb, event, NULL);
          g_source_attach (event->kill_source, self->context);
        }

      g_clear_pointer (&child, _mpel_child_unref);
    }

  g_object_unref (event);
  g_object_unref (self);
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
  g_return_if_fail (caller_owns_context (self));
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
  g_return_if_fail (caller_owns_context (self));
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
 * Iterates the loop's main context until no event is pending, like
 * mp_event_loop's `wait()` and the exit of its context manager. Meant for
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
  g_return_val_if_fail (caller_owns_context (self), FALSE);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (self->in_dispatch == 0, FALSE);

  g_object_ref (self);

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
 * Waits, without blocking, until no event is pending.
 */
void
mpel_loop_wait_async (MpelLoop            *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (caller_owns_context (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mpel_loop_wait_async);
  g_task_set_name (task, "[mpel] wait");

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
      g_task_set_task_data (task, source, destroy_source);
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

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Private API: the seams for remote objects */

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

/* Transfer none: the live child with the fewest events in flight or pinned
 * to it, starting the loop if needed; NULL with @error if there is none. */
MpelChild *
_mpel_loop_pick_child (MpelLoop  *self,
                       GError   **error)
{
  MpelChild *best = NULL;

  g_return_val_if_fail (MPEL_IS_LOOP (self), NULL);
  g_return_val_if_fail (caller_owns_context (self), NULL);

  if (self->state == LOOP_DISPOSED || self->state == LOOP_STOPPING)
    {
      g_set_error_literal (error, MPEL_ERROR, MPEL_ERROR_CLOSED,
                           _("The loop is stopping or closed"));
      return NULL;
    }

  if (self->state == LOOP_IDLE && !loop_start_internal (self, error))
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
