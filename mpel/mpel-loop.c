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
 * [signal@Mpel.Loop::output], a chain of handlers any of which may stop
 * the others, and through each event's own signals and async results.
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

G_DEFINE_FINAL_TYPE (MpelLoop, mpel_loop, G_TYPE_OBJECT)

GParamSpec *_mpel_loop_properties[LOOP_N_PROPS];
guint _mpel_loop_signals[LOOP_N_SIGNALS];

static void
mpel_loop_dispose (GObject *object)
{
  MpelLoop *self = (MpelLoop *)object;

  _mpel_loop_close_internal (self, TRUE);

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
  g_clear_error (&self->spawn_error);
  g_clear_pointer (&self->spawn_key, g_free);
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
    case LOOP_PROP_ARGV:
      g_value_set_boxed (value, self->argv);
      break;

    case LOOP_PROP_MODULES:
      g_value_set_boxed (value, self->modules);
      break;

    case LOOP_PROP_N_WORKERS:
      g_value_set_uint (value, self->n_workers);
      break;

    case LOOP_PROP_RESTART_POLICY:
      g_value_set_enum (value, self->restart_policy);
      break;

    case LOOP_PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, self->max_in_flight);
      break;

    case LOOP_PROP_MAX_RESTARTS:
      g_value_set_uint (value, self->max_restarts);
      break;

    case LOOP_PROP_KILL_TIMEOUT:
      g_value_set_uint (value, self->kill_timeout);
      break;

    case LOOP_PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;

    case LOOP_PROP_TRANSPORT:
      g_value_set_enum (value, self->transport);
      break;

    case LOOP_PROP_SANDBOX:
      g_value_set_enum (value, self->sandbox);
      break;

    case LOOP_PROP_RUNNING:
      g_value_set_boolean (value, mpel_loop_is_running (self));
      break;

    case LOOP_PROP_N_PENDING:
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
    case LOOP_PROP_ARGV:
      mpel_loop_set_argv (self, g_value_get_boxed (value));
      break;

    case LOOP_PROP_MODULES:
      mpel_loop_set_modules (self, g_value_get_boxed (value));
      break;

    case LOOP_PROP_N_WORKERS:
      mpel_loop_set_n_workers (self, g_value_get_uint (value));
      break;

    case LOOP_PROP_RESTART_POLICY:
      mpel_loop_set_restart_policy (self, g_value_get_enum (value));
      break;

    case LOOP_PROP_MAX_IN_FLIGHT:
      mpel_loop_set_max_in_flight (self, g_value_get_uint (value));
      break;

    case LOOP_PROP_MAX_RESTARTS:
      mpel_loop_set_max_restarts (self, g_value_get_uint (value));
      break;

    case LOOP_PROP_KILL_TIMEOUT:
      mpel_loop_set_kill_timeout (self, g_value_get_uint (value));
      break;

    case LOOP_PROP_TRANSPORT:
      mpel_loop_set_transport (self, g_value_get_enum (value));
      break;

    case LOOP_PROP_SANDBOX:
      mpel_loop_set_sandbox (self, g_value_get_enum (value));
      break;

    case LOOP_PROP_HANDSHAKE_TIMEOUT:
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
  _mpel_loop_properties[LOOP_PROP_ARGV] =
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
  _mpel_loop_properties[LOOP_PROP_MODULES] =
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
  _mpel_loop_properties[LOOP_PROP_N_WORKERS] =
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
  _mpel_loop_properties[LOOP_PROP_RESTART_POLICY] =
    g_param_spec_enum ("restart-policy", NULL, NULL,
                       MPEL_TYPE_RESTART_POLICY, MPEL_RESTART_POLICY_NEVER,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:transport:
   *
   * How the loop talks to its workers: over a socket pair (the default),
   * or over the stdin and stdout of [property@Mpel.Loop:argv], which may
   * then reach a worker on another machine or outside a Flatpak sandbox
   * (`mpel-worker --stdio`). Without an argv, the default worker host is
   * started with `--stdio`. Takes effect at the next spawn. See
   * [Transports](transports.html).
   */
  _mpel_loop_properties[LOOP_PROP_TRANSPORT] =
    g_param_spec_enum ("transport", NULL, NULL,
                       MPEL_TYPE_TRANSPORT, MPEL_TRANSPORT_SOCKET,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:sandbox:
   *
   * How workers are confined. With %MPEL_SANDBOX_STRICT each worker runs
   * under bubblewrap (`bwrap`), and a worker fails to start with
   * %MPEL_ERROR_SPAWN_FAILED when bubblewrap is not installed or cannot
   * run: it never runs unconfined instead. Takes effect at the next spawn.
   * See [Transports](transports.html).
   */
  _mpel_loop_properties[LOOP_PROP_SANDBOX] =
    g_param_spec_enum ("sandbox", NULL, NULL,
                       MPEL_TYPE_SANDBOX, MPEL_SANDBOX_NONE,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:max-in-flight:
   *
   * How many events may be sent and not yet answered, over all workers; the
   * others wait in the queue, by priority. 0 means no limit.
   */
  _mpel_loop_properties[LOOP_PROP_MAX_IN_FLIGHT] =
    g_param_spec_uint ("max-in-flight", NULL, NULL,
                       0, G_MAXUINT, 1024,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:max-restarts:
   *
   * With [enum@Mpel.RestartPolicy].ON_CRASH, how many restarts are allowed
   * within a minute before the loop gives up.
   */
  _mpel_loop_properties[LOOP_PROP_MAX_RESTARTS] =
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
  _mpel_loop_properties[LOOP_PROP_KILL_TIMEOUT] =
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
  _mpel_loop_properties[LOOP_PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL,
                       0, G_MAXUINT, HANDSHAKE_TIMEOUT_MSEC,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:running:
   *
   * Whether the loop has workers running or starting.
   */
  _mpel_loop_properties[LOOP_PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * MpelLoop:n-pending:
   *
   * How many events were added and have not ended yet. Notified when it
   * drops to 0.
   */
  _mpel_loop_properties[LOOP_PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, LOOP_N_PROPS, _mpel_loop_properties);

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
   * %TRUE stops the others.
   *
   * Returns: %TRUE to stop other handlers from being invoked
   */
  _mpel_loop_signals[LOOP_SIGNAL_OUTPUT] =
    g_signal_new ("output",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0,
                  g_signal_accumulator_true_handled, NULL,
                  _mpel_marshal_BOOLEAN__OBJECT,
                  G_TYPE_BOOLEAN, 1, MPEL_TYPE_EVENT);
  g_signal_set_va_marshaller (_mpel_loop_signals[LOOP_SIGNAL_OUTPUT],
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
  _mpel_loop_signals[LOOP_SIGNAL_ITEM] =
    g_signal_new ("item",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0,
                  NULL, NULL,
                  _mpel_marshal_VOID__OBJECT_VARIANT,
                  G_TYPE_NONE, 2, MPEL_TYPE_EVENT, G_TYPE_VARIANT);
  g_signal_set_va_marshaller (_mpel_loop_signals[LOOP_SIGNAL_ITEM],
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
  _mpel_loop_signals[LOOP_SIGNAL_WORKER_EXITED] =
    g_signal_new ("worker-exited",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  _mpel_marshal_VOID__UINT_BOXED,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_ERROR);
  g_signal_set_va_marshaller (_mpel_loop_signals[LOOP_SIGNAL_WORKER_EXITED],
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
  self->restart_sources = g_ptr_array_new_with_free_func (_mpel_loop_destroy_source);
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
 * The loop of the whole process, for code that does not pass a loop
 * around: made on first use, on the thread-default main context of the
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
 * mpel_loop_new_for_stream_argv:
 * @argv: (array zero-terminated=1): a command that runs a worker and
 *   connects its stdin and stdout to the worker's channel
 *
 * Makes a loop whose workers are reached through the stdin and stdout of
 * @argv ([property@Mpel.Loop:transport] %MPEL_TRANSPORT_STDIO): for
 * example `ssh HOST mpel-worker --stdio --module PATH`, or
 * `flatpak-spawn --host mpel-worker --stdio --module PATH`. Killing a
 * worker means ending that command: the pid a worker gives in its HELLO
 * may be on another machine, or in another pid namespace, and is never
 * signalled. See [Transports](transports.html).
 *
 * Returns: (transfer full): a new #MpelLoop
 */
MpelLoop *
mpel_loop_new_for_stream_argv (const char * const *argv)
{
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  return g_object_new (MPEL_TYPE_LOOP,
                       "argv", argv,
                       "transport", MPEL_TRANSPORT_STDIO,
                       NULL);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  if (_mpel_set_strv (&self->argv, argv))
    g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_ARGV]);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  if (_mpel_set_strv (&self->modules, modules))
    g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_MODULES]);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));
  g_return_if_fail (n_workers >= 1);

  n_workers = MIN (n_workers, MAX (WORKERS_PER_CPU * g_get_num_processors (), MIN_MAX_WORKERS));
  if (self->n_workers == n_workers)
    return;

  self->n_workers = n_workers;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_N_WORKERS]);
}

/**
 * mpel_loop_get_transport:
 * @self: a #MpelLoop
 *
 * Gets how the loop talks to its workers.
 *
 * Returns: the transport
 */
MpelTransport
mpel_loop_get_transport (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), MPEL_TRANSPORT_SOCKET);

  return self->transport;
}

/**
 * mpel_loop_set_transport:
 * @self: a #MpelLoop
 * @transport: the transport
 *
 * Sets how the loop talks to the workers it spawns from now on.
 */
void
mpel_loop_set_transport (MpelLoop      *self,
                         MpelTransport  transport)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (transport == MPEL_TRANSPORT_SOCKET || transport == MPEL_TRANSPORT_STDIO);

  if (self->transport == transport)
    return;

  self->transport = transport;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_TRANSPORT]);
}

/**
 * mpel_loop_get_sandbox:
 * @self: a #MpelLoop
 *
 * Gets how workers are confined.
 *
 * Returns: the sandbox
 */
MpelSandbox
mpel_loop_get_sandbox (MpelLoop *self)
{
  g_return_val_if_fail (MPEL_IS_LOOP (self), MPEL_SANDBOX_NONE);

  return self->sandbox;
}

/**
 * mpel_loop_set_sandbox:
 * @self: a #MpelLoop
 * @sandbox: the sandbox
 *
 * Sets how the workers spawned from now on are confined.
 */
void
mpel_loop_set_sandbox (MpelLoop    *self,
                       MpelSandbox  sandbox)
{
  g_return_if_fail (MPEL_IS_LOOP (self));
  g_return_if_fail (sandbox == MPEL_SANDBOX_NONE || sandbox == MPEL_SANDBOX_STRICT);

  if (self->sandbox == sandbox)
    return;

  self->sandbox = sandbox;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_SANDBOX]);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  if (self->restart_policy == policy)
    return;

  self->restart_policy = policy;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_RESTART_POLICY]);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  if (self->max_in_flight == max_in_flight)
    return;

  self->max_in_flight = max_in_flight;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_MAX_IN_FLIGHT]);
  _mpel_loop_pump (self);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  if (self->max_restarts == max_restarts)
    return;

  self->max_restarts = max_restarts;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_MAX_RESTARTS]);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  if (self->kill_timeout == kill_timeout_msec)
    return;

  self->kill_timeout = kill_timeout_msec;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_KILL_TIMEOUT]);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  if (self->handshake_timeout == handshake_timeout_msec)
    return;

  self->handshake_timeout = handshake_timeout_msec;
  g_object_notify_by_pspec (G_OBJECT (self), _mpel_loop_properties[LOOP_PROP_HANDSHAKE_TIMEOUT]);
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
 * Gets the process id of a worker: of the process the loop spawned, which
 * over [property@Mpel.Loop:transport] %MPEL_TRANSPORT_STDIO is the command
 * (ssh, flatpak-spawn) rather than the worker, and under
 * [property@Mpel.Loop:sandbox] %MPEL_SANDBOX_STRICT is bwrap.
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  if (self->state != LOOP_RUNNING)
    return;

  /* A restart that is pending goes ahead: the queued events it would run
   * were added before the stop, and a graceful stop runs them. */
  self->state = LOOP_STOPPING;
  _mpel_loop_pump (self);
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
  g_return_if_fail (_mpel_loop_caller_owns_context (self));

  g_object_ref (self);
  _mpel_loop_close_internal (self, FALSE);
  g_object_unref (self);
}
