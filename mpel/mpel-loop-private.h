/* mpel-loop-private.h: what the library's other parts (remote objects,
 * tests) use of MpelLoop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-child-private.h"
#include "mpel-loop.h"
#include "mpel-queue-private.h"

G_BEGIN_DECLS

/* A worker process died or was let go of; @reason is NULL for a clean
 * exit. Its events have failed already. */
typedef void (*MpelLoopChildDiedFunc) (MpelLoop     *loop,
                                       MpelChild    *child,
                                       const GError *reason,
                                       gpointer      user_data);

/* A NOTIFY frame: @handle and @name as the worker sent them, @body may be
 * NULL. */
typedef void (*MpelLoopNotifyFunc)    (MpelLoop     *loop,
                                       MpelChild    *child,
                                       guint64       handle,
                                       const char   *name,
                                       GVariant     *body,
                                       gpointer      user_data);

MpelChild *_mpel_loop_pick_child              (MpelLoop              *loop,
                                               GError               **error);
MpelChild *_mpel_loop_get_child               (MpelLoop              *loop,
                                               guint                  index);
void       _mpel_loop_push_pinned             (MpelLoop              *loop,
                                               MpelEvent             *event,
                                               MpelChild             *child);
guint      _mpel_loop_add_child_died_hook     (MpelLoop              *loop,
                                               MpelLoopChildDiedFunc  func,
                                               gpointer               user_data);
void       _mpel_loop_remove_child_died_hook  (MpelLoop              *loop,
                                               guint                  id);
void       _mpel_loop_set_notify_handler      (MpelLoop              *loop,
                                               MpelLoopNotifyFunc     func,
                                               gpointer               user_data,
                                               GDestroyNotify         destroy);

/* Between MpelLoop's own files: mpel-loop.c (the GObject and its API),
 * mpel-loop-push.c (pushing and cancelling events),
 * mpel-loop-pump.c (the queue, the pump, ending events),
 * mpel-loop-children.c (worker processes, their frames, deaths and
 * restarts) and mpel-loop-wait.c (starting in steps, async calls, waiting).
 * Nothing else uses what follows. */

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
  MpelTransport      transport;
  MpelSandbox        sandbox;

  GPtrArray         *children;    /* MpelChild* by index, NULL for a dead one */
  MpelQueue          queue;       /* queued events, by priority */
  GQueue             deferred;    /* events to fail from an idle */
  GSource           *deferred_source;
  GPtrArray         *waiters;     /* GTask of wait_async */
  GArray            *restarts;    /* gint64 monotonic times */
  GPtrArray         *restart_sources;
  /* Spawn back-off: the last failure to start a worker of this command,
   * and when it may be tried again */
  GError            *spawn_error;
  char              *spawn_key;
  guint              n_spawn_failures;
  gint64             spawn_retry_at;
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


enum {
  LOOP_PROP_0,
  LOOP_PROP_ARGV,
  LOOP_PROP_MODULES,
  LOOP_PROP_N_WORKERS,
  LOOP_PROP_RESTART_POLICY,
  LOOP_PROP_MAX_IN_FLIGHT,
  LOOP_PROP_MAX_RESTARTS,
  LOOP_PROP_KILL_TIMEOUT,
  LOOP_PROP_HANDSHAKE_TIMEOUT,
  LOOP_PROP_TRANSPORT,
  LOOP_PROP_SANDBOX,
  LOOP_PROP_RUNNING,
  LOOP_PROP_N_PENDING,
  LOOP_N_PROPS
};

enum {
  LOOP_SIGNAL_OUTPUT,
  LOOP_SIGNAL_ITEM,
  LOOP_SIGNAL_WORKER_EXITED,
  LOOP_N_SIGNALS
};



/* A loop belongs to the main context that was thread-default when it was
 * made, as a GDBusConnection does, and its state is touched only from the
 * thread that runs it: the thread that made the loop, or one that holds the
 * context (it is iterating it, or pushed it as thread-default). Comparing
 * contexts alone is not enough: every thread that pushed nothing has the
 * global default. The common case costs a thread-local lookup and a
 * comparison; only a caller elsewhere takes the context's lock. */
static inline gboolean
_mpel_loop_caller_owns_context (MpelLoop *self)
{
  return g_thread_self () == self->owner_thread || g_main_context_is_owner (self->context);
}

extern GParamSpec *_mpel_loop_properties[LOOP_N_PROPS];
extern guint _mpel_loop_signals[LOOP_N_SIGNALS];

typedef GError *(*MpelLoopErrorFunc) (MpelChild *child,
                                      MpelEvent *event,
                                      gpointer   data);

/* mpel-loop-pump.c */
void       _mpel_loop_pump                (MpelLoop          *self);
void       _mpel_loop_end_event           (MpelLoop          *self,
                                           MpelEvent         *event,
                                           MpelEventState     state,
                                           GVariant          *result,
                                           GError            *error);
void       _mpel_loop_fail_later          (MpelLoop          *self,
                                           MpelEvent         *event,
                                           GError            *error);
void       _mpel_loop_fail_events         (MpelLoop          *self,
                                           GPtrArray         *events,
                                           MpelLoopErrorFunc  make_error,
                                           MpelChild         *child,
                                           gpointer           data);
void       _mpel_loop_fail_in_flight      (MpelLoop          *self,
                                           MpelChild         *child,
                                           MpelLoopErrorFunc  make_error,
                                           gpointer           data);
void       _mpel_loop_fail_queue          (MpelLoop          *self,
                                           const GError      *error);
GPtrArray *_mpel_loop_take_pinned         (MpelLoop          *self,
                                           MpelChild         *child);
GError    *_mpel_loop_copy_error          (MpelChild         *child,
                                           MpelEvent         *event,
                                           gpointer           data);
GError    *_mpel_loop_crash_error         (MpelChild         *child,
                                           MpelEvent         *event,
                                           gpointer           data);
void       _mpel_loop_event_clear_sources (MpelEvent         *event);
gboolean   _mpel_loop_event_timeout_cb    (gpointer           data);
gboolean   _mpel_loop_kill_timeout_cb     (gpointer           data);
void       _mpel_loop_close_internal      (MpelLoop          *self,
                                           gboolean           disposing);

/* mpel-loop-children.c */
gboolean   _mpel_loop_hold_if_abandoned   (MpelLoop          *self);
MpelChild *_mpel_loop_least_loaded        (MpelLoop          *self);
MpelChild *_mpel_loop_spawn_child         (MpelLoop          *self,
                                           guint              index,
                                           GError           **error);
void       _mpel_loop_note_spawn_failure  (MpelLoop          *self,
                                           const GError      *error);
void       _mpel_loop_spawn_failed        (MpelLoop          *self,
                                           const GError      *error);
void       _mpel_loop_run_child_hooks     (MpelLoop          *self,
                                           MpelChild         *child,
                                           const GError      *reason);
void       _mpel_loop_destroy_source      (gpointer           data);

/* mpel-loop-wait.c */
gboolean   _mpel_loop_start_internal      (MpelLoop          *self,
                                           GError           **error);
void       _mpel_loop_fail_start_tasks    (MpelLoop          *self,
                                           const GError      *error);
void       _mpel_loop_check_start_tasks   (MpelLoop          *self);

G_END_DECLS
