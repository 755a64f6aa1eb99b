/* mpel-child.c: one worker process, on the app side
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpel-child-private.h"
#include "mpel-peer-private.h"
#include "mpel-sandbox-private.h"
#include "mpel-types.h"
#include "mpel-util-private.h"

/* A child is one worker process as the app sees it: the subprocess, its
 * connection, the events it runs and the events pinned to it, its timers,
 * and, once it died, why. It knows nothing of queues, restarts or signals:
 * it tells its owner (the loop) through MpelChildCallbacks, and the owner
 * decides. Its serial names the process, not the slot: a restarted worker
 * is a new child with a new serial, so that whatever was bound to the old
 * process (a pinned event, a remote object) can tell. */

#define EOF_GRACE_MSEC 2000
/* Dispatching frames from one worker yields to the GUI after this long. */
#define DISPATCH_BUDGET_USEC 1000
#define SPIN_USEC            50

static guint64 last_serial;

static void
child_clear (gpointer data)
{
  MpelChild *child = data;

  g_assert (child->owner == NULL);
  g_assert (_mpel_id_table_size (&child->in_flight) == 0);

  _mpel_clear_source (&child->grace_source);
  _mpel_clear_source (&child->handshake_source);
  g_clear_pointer (&child->conn, _mpel_connection_unref);
  g_clear_object (&child->subprocess);
  g_clear_object (&child->cancellable);
  g_clear_pointer (&child->context, g_main_context_unref);
  _mpel_id_table_clear (&child->in_flight);
  _mpel_queue_clear (&child->pinned);
  g_clear_error (&child->startup_error);
  g_clear_error (&child->protocol_error);
  g_clear_error (&child->reason);
  g_clear_pointer (&child->how, g_free);
  g_clear_pointer (&child->argv_string, g_free);
  g_clear_pointer (&child->label, g_free);
  g_clear_pointer (&child->where, g_free);
}

MpelChild *
_mpel_child_ref (MpelChild *child)
{
  return g_atomic_rc_box_acquire (child);
}

void
_mpel_child_unref (MpelChild *child)
{
  g_atomic_rc_box_release_full (child, child_clear);
}

guint64
_mpel_child_get_serial (MpelChild *child)
{
  return child->serial;
}

/* The host an ssh command line connects to: the first argument that is
 * neither an option nor an option's value. */
static const char *
ssh_host (const char * const *argv)
{
  for (guint i = 1; argv[i] != NULL; i++)
    {
      const char *arg = argv[i];

      if (arg[0] != '-')
        return arg;
      /* Options that take a value in the next argument */
      if (arg[1] != '\0' && arg[2] == '\0' && strchr ("BbcDEeFIiJLlmOoPpQRSWw", arg[1]) != NULL)
        i++;
      if (argv[i] == NULL)
        break;
    }
  return NULL;
}

/* Where a stream leads, for errors: "ssh to “HOST”", or the command. */
static char *
describe_stream (const char * const *argv)
{
  g_autofree char *base = g_path_get_basename (argv[0]);
  const char *host;

  if (g_str_equal (base, "ssh") && (host = ssh_host (argv)) != NULL)
    return g_strdup_printf (_("ssh to “%s”"), host);
  return g_strdup_printf (_("“%s” over stdio"), base);
}

/* What names the worker in errors: its local pid, and for a stream where
 * it leads (the pid in its HELLO may be another machine's or another pid
 * namespace's: it is neither named nor signalled). */
static void
child_update_label (MpelChild *child)
{
  g_free (child->label);
  if (child->where != NULL)
    child->label = g_strdup_printf (_("%s, local pid %d"), child->where, (int) child->pid);
  else
    child->label = g_strdup_printf (_("pid %d"), (int) child->pid);
}

const char *
_mpel_child_get_label (MpelChild *child)
{
  return child->label;
}

/* Whether the process is there and its owner still holds it. */
gboolean
_mpel_child_is_alive (MpelChild *child)
{
  return child != NULL && child->owner != NULL && child->state != MPEL_CHILD_DEAD;
}

/* Whether a new event may be sent to it now. */
gboolean
_mpel_child_accepts_events (MpelChild *child,
                            gboolean   hold_if_abandoned)
{
  if (child == NULL ||
      (child->state != MPEL_CHILD_GREETING && child->state != MPEL_CHILD_READY) ||
      child->conn == NULL || _mpel_connection_is_closed (child->conn))
    return FALSE;

  /* With kill-timeout, a worker that has not yet given back a cancelled
   * event may be stuck: hold new events back until it answers or is
   * replaced, rather than send them to their death. */
  if (hold_if_abandoned && child->n_abandoned > 0)
    return FALSE;

  return TRUE;
}

guint
_mpel_child_get_load (MpelChild *child)
{
  return _mpel_id_table_size (&child->in_flight);
}

/* Whether it said HELLO and did not fail to set up. */
gboolean
_mpel_child_has_started (MpelChild *child)
{
  return child->state != MPEL_CHILD_DEAD && child->greeted && child->startup_error == NULL;
}

static void
child_stop_taking (MpelChild *child)
{
  if (child->state < MPEL_CHILD_STOPPING)
    child->state = MPEL_CHILD_STOPPING;
}

/* Sending */

gboolean
_mpel_child_send_event (MpelChild  *child,
                        MpelEvent  *event,
                        GError    **error)
{
  guint32 flags = 0;

  if (event->flags & MPEL_EVENT_FLAGS_NO_REPLY)
    flags |= MPEL_FRAME_FLAGS_NO_REPLY;

  /* The meta (kwargs, timeout) is written from its parts, in place. */
  if (!_mpel_connection_send_call (child->conn, flags, event->id,
                                  g_quark_to_string (event->target), event->args,  /* NULL: () */
                                  event->kwargs,
                                  event->timeout > 0 ? (guint32) event->timeout : 0,
                                  error))
    return FALSE;

  /* The caller's reference moves to the in-flight table. */
  event->child = child;
  _mpel_id_table_insert (&child->in_flight, event->id, event);

  return TRUE;
}

/* Transfer none. */
MpelEvent *
_mpel_child_lookup_event (MpelChild *child,
                          guint64    id)
{
  return _mpel_id_table_lookup (&child->in_flight, id);
}

/* Takes the event of @id out of flight, answered. Transfer full. */
MpelEvent *
_mpel_child_take_event (MpelChild *child,
                        guint64    id)
{
  MpelEvent *event = _mpel_id_table_remove (&child->in_flight, id);

  if (event == NULL)
    return NULL;

  event->child = NULL;

  if (event->state >= MPEL_EVENT_STATE_DONE)
    {
      g_assert (child->n_abandoned > 0);
      child->n_abandoned--;
    }

  return event;
}

static int
compare_event_ids (gconstpointer a,
                   gconstpointer b)
{
  const MpelEvent *ea = *(MpelEvent * const *) a;
  const MpelEvent *eb = *(MpelEvent * const *) b;

  return ea->id < eb->id ? -1 : ea->id > eb->id;
}

static void
take_one (gpointer value,
          gpointer user_data)
{
  MpelEvent *event = value;

  event->child = NULL;
  g_ptr_array_add (user_data, event);
}

/* Empties the in-flight table. Transfer full: the events, in the order they
 * were sent. */
GPtrArray *
_mpel_child_take_in_flight (MpelChild *child)
{
  GPtrArray *events = g_ptr_array_new_with_free_func (g_object_unref);

  _mpel_id_table_steal_all (&child->in_flight, take_one, events);
  g_ptr_array_sort (events, compare_event_ids);
  child->n_abandoned = 0;

  return events;
}

/* The app gave up on @event, which the worker still runs: tell it, and keep
 * the event in flight until it answers, so that its load stays true. */
void
_mpel_child_cancel_event (MpelChild *child,
                          MpelEvent *event)
{
  child->n_abandoned++;
  if (child->conn != NULL && !_mpel_connection_is_closed (child->conn))
    _mpel_connection_send (child->conn, MPEL_FRAME_CANCEL, 0, event->id, NULL, NULL, NULL, NULL);
}

/* The worker did not give up @event within the grace period: it is stuck,
 * perhaps in a handler that cannot be cancelled. */
void
_mpel_child_kill_as_stuck (MpelChild *child,
                           MpelEvent *event,
                           guint      kill_timeout)
{
  if (child->state == MPEL_CHILD_DEAD || child->subprocess == NULL)
    return;

  child->killed = TRUE;
  child->kill_timeout = kill_timeout;
  child_stop_taking (child);
  g_debug ("Killing worker %u (pid %d): “%s” was not answered %u ms after it was cancelled",
           child->index, (int) child->pid, mpel_event_get_target (event), kill_timeout);
  g_subprocess_force_exit (child->subprocess);
}

/* A start-up failure, such as a module that does not load: the worker exits
 * next, and is not restarted. */
void
_mpel_child_fail_startup (MpelChild  *child,
                          const char *message)
{
  g_clear_error (&child->startup_error);
  child->startup_error = g_error_new (MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED, "%s", message);
  child_stop_taking (child);
}

void
_mpel_child_send_stop (MpelChild *child)
{
  if (child->state != MPEL_CHILD_GREETING && child->state != MPEL_CHILD_READY)
    return;
  if (child->conn == NULL || _mpel_connection_is_closed (child->conn))
    return;

  child->state = MPEL_CHILD_STOPPING;
  _mpel_connection_send (child->conn, MPEL_FRAME_STOP, 0, 0, NULL, NULL, NULL, NULL);
}

/* Death */

static char *
describe_status (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf (_("exited with status %d"), WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf (_("was killed by signal %d (%s)"),
                            WTERMSIG (status), g_strsignal (WTERMSIG (status)));
  return g_strdup_printf (_("ended with wait status %d"), status);
}

/* Sets child->how, ->crashed and ->reason from the exit @status and what
 * came before it. */
static void
child_explain_death (MpelChild *child,
                     int        status)
{
  gboolean clean;

  child->how = describe_status (status);
  clean = child->state == MPEL_CHILD_STOPPING && !child->killed &&
          WIFEXITED (status) && WEXITSTATUS (status) == 0 &&
          child->protocol_error == NULL && child->startup_error == NULL &&
          _mpel_id_table_size (&child->in_flight) == 0;
  child->crashed = !clean && child->startup_error == NULL && child->protocol_error == NULL;

  if (child->crashed && !child->greeted)
    {
      /* It never connected: a wrong program or script path, an interpreter
       * without gi, a worker that does not run, a module whose init crashes
       * or exits (the worker says HELLO only once its modules loaded). A
       * restart would fail the same way. */
      if (child->has_modules)
        child->startup_error = g_error_new (MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                                            _("it %s before connecting — did a module crash or exit while it loaded? (%s)"),
                                            child->how, child->argv_string);
      else
        child->startup_error = g_error_new (MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                                            _("it %s before connecting — does “%s” call Mpel.Worker.run()?"),
                                            child->how, child->argv_string);
      child->crashed = FALSE;
    }
  else if (child->killed)
    {
      g_free (child->how);
      child->how = g_strdup_printf (_("was killed as stuck (it did not give back a cancelled event within %u ms)"),
                                    child->kill_timeout);
    }

  if (child->startup_error != NULL)
    child->reason = g_error_new (MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                                 _("Worker %u (%s) failed to start: %s"),
                                 child->index, child->label, child->startup_error->message);
  else if (child->protocol_error != NULL)
    child->reason = g_error_copy (child->protocol_error);
  else if (!clean)
    child->reason = g_error_new (MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED,
                                 _("Worker %u (%s) %s"), child->index, child->label, child->how);
}

static void
child_died (MpelChild *child,
            int        status)
{
  /* What the worker sent before it died is still in the socket, perhaps:
   * results, or a protocol error. They come first. */
  if (child->conn != NULL && !_mpel_connection_is_closed (child->conn))
    {
      _mpel_connection_drain (child->conn);
      if (child->owner == NULL)
        return;
    }

  /* Read in the state it died in. */
  child_explain_death (child, status);

  child->state = MPEL_CHILD_DEAD;
  _mpel_clear_source (&child->grace_source);
  _mpel_clear_source (&child->handshake_source);
  if (child->conn != NULL)
    _mpel_connection_close (child->conn);
  child->callbacks->exited (child, child->owner);
}

static void
on_subprocess_exited (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(MpelChild) child = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (object), result, &error) ||
      child->owner == NULL || child->state == MPEL_CHILD_DEAD)
    return;

  child_died (child, g_subprocess_get_status (G_SUBPROCESS (object)));
}

static gboolean
grace_expired_cb (gpointer data)
{
  MpelChild *child = data;

  g_clear_pointer (&child->grace_source, g_source_unref);
  if (child->state != MPEL_CHILD_DEAD && child->subprocess != NULL)
    g_subprocess_force_exit (child->subprocess);

  return G_SOURCE_REMOVE;
}

static void
on_connection_closed (MpelConnection *conn,
                      const GError   *error,
                      gpointer        user_data)
{
  MpelChild *child = user_data;

  if (child->owner == NULL || child->state == MPEL_CHILD_DEAD)
    return;

  if (error != NULL && g_error_matches (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL))
    {
      /* A worker that breaks the protocol cannot be trusted with anything
       * more: its owner fails its events now, and it is ended. */
      _mpel_child_ref (child);
      child->protocol_error = g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                           _("Worker %u (%s): %s"),
                                           child->index, child->label, error->message);
      child_stop_taking (child);
      child->callbacks->broken (child, child->owner);
      if (child->state != MPEL_CHILD_DEAD)
        g_subprocess_force_exit (child->subprocess);
      _mpel_child_unref (child);
      return;
    }

  /* EOF: the process is ending. Its exit status, which the events' errors
   * name, follows; a process that closed the socket but lives on is ended
   * after a grace period. */
  if (child->grace_source == NULL)
    {
      child->grace_source = g_timeout_source_new (EOF_GRACE_MSEC);
      g_source_set_static_name (child->grace_source, "[mpel] worker grace");
      g_source_set_callback (child->grace_source, grace_expired_cb, child, NULL);
      g_source_attach (child->grace_source, child->context);
    }
}

/* Receiving */

static gboolean
on_frame (MpelConnection *conn,
          MpelFrame      *frame,
          gpointer        user_data)
{
  MpelChild *child = user_data;
  g_autoptr(MpelChild) hold = NULL;
  gint32 pid = 0;

  if (child->owner == NULL || child->state == MPEL_CHILD_DEAD)
    return FALSE;

  if (child->greeted)
    {
      hold = _mpel_child_ref (child);
      return child->callbacks->frame (child, frame, child->owner) &&
             child->owner != NULL && child->state != MPEL_CHILD_DEAD &&
             !_mpel_connection_is_closed (conn);
    }

  if (!_mpel_peer_check_hello (conn, MPEL_PEER_APP, frame, &pid))
    return FALSE;

  if (child->pid == 0 && pid > 0 && child->hello_pid_is_ours)
    {
      child->pid = pid;
      child_update_label (child);
    }
  child->greeted = TRUE;
  if (child->state == MPEL_CHILD_GREETING)
    child->state = MPEL_CHILD_READY;
  _mpel_clear_source (&child->handshake_source);
  child->callbacks->greeted (child, child->owner);

  return TRUE;
}

static gboolean
awaits_answers (MpelConnection *conn,
                gpointer        user_data)
{
  MpelChild *child = user_data;

  return child->owner != NULL && child->state != MPEL_CHILD_DEAD &&
         _mpel_id_table_size (&child->in_flight) > 0;
}

/* Spawning */

static gboolean
handshake_expired_cb (gpointer data)
{
  MpelChild *child = data;

  g_clear_pointer (&child->handshake_source, g_source_unref);

  if (child->owner == NULL || child->state == MPEL_CHILD_DEAD || child->greeted)
    return G_SOURCE_REMOVE;

  /* Its exit is reported as a start-up failure, naming this reason; a
   * worker that never spoke is not restarted. */
  child->startup_error = g_error_new (MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                                      _("it did not connect within %u ms and was killed — "
                                        "is “%s” a program that calls Mpel.Worker.run()?"),
                                      child->handshake_timeout, child->argv_string);
  child_stop_taking (child);
  if (child->subprocess != NULL)
    g_subprocess_force_exit (child->subprocess);

  return G_SOURCE_REMOVE;
}

/* The ends of the channel: ours, and what the child gets (a socket as its
 * fd 3, or two pipes as its stdin and stdout). */
typedef struct
{
  int ours_in;
  int ours_out;
  int child_in;
  int child_out;
} ChannelFds;

static void
channel_fds_close (ChannelFds *fds)
{
  int *all[] = { &fds->ours_in, &fds->ours_out, &fds->child_in, &fds->child_out };

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    {
      /* A socket is both ours_in and ours_out. */
      if (*all[i] >= 0 && (i != 1 || fds->ours_out != fds->ours_in))
        close (*all[i]);
      *all[i] = -1;
    }
}

static gboolean
channel_fds_open (MpelTransport   transport,
                  ChannelFds     *fds,
                  GError        **error)
{
  int sv[2], to_child[2], from_child[2];

  *fds = (ChannelFds) { -1, -1, -1, -1 };

  if (transport == MPEL_TRANSPORT_SOCKET)
    {
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        goto fail;
      *fds = (ChannelFds) { sv[0], sv[0], sv[1], -1 };
      return TRUE;
    }

  if (pipe2 (to_child, O_CLOEXEC) < 0)
    goto fail;
  if (pipe2 (from_child, O_CLOEXEC) < 0)
    {
      close (to_child[0]);
      close (to_child[1]);
      goto fail;
    }
#ifdef F_SETPIPE_SZ
  /* Fewer wake-ups for large payloads; the default (64 KiB) otherwise. */
  fcntl (to_child[1], F_SETPIPE_SZ, 1024 * 1024);
  fcntl (from_child[1], F_SETPIPE_SZ, 1024 * 1024);
#endif
  *fds = (ChannelFds) { from_child[0], to_child[1], to_child[0], from_child[1] };
  return TRUE;

fail:
  {
    int errsv = errno;

    g_set_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                 _("Could not make the channel to a worker: %s"), g_strerror (errsv));
    return FALSE;
  }
}

/* Gives the launcher the child's ends of the channel (it closes them in
 * this process once it is finalized) and the environment that names them. */
static void
launcher_set_channel (GSubprocessLauncher *launcher,
                      MpelTransport        transport,
                      MpelSandbox          sandbox,
                      ChannelFds          *fds)
{
  g_autofree char *parent_pid = g_strdup_printf ("%d", (int) getpid ());

  if (transport == MPEL_TRANSPORT_SOCKET)
    {
      g_subprocess_launcher_take_fd (launcher, fds->child_in, 3);
      g_subprocess_launcher_setenv (launcher, "MPEL_FD", "3", TRUE);
      g_subprocess_launcher_unsetenv (launcher, "MPEL_STDIO");
    }
  else
    {
      g_subprocess_launcher_take_stdin_fd (launcher, fds->child_in);
      g_subprocess_launcher_take_stdout_fd (launcher, fds->child_out);
      g_subprocess_launcher_setenv (launcher, "MPEL_STDIO", "1", TRUE);
      g_subprocess_launcher_unsetenv (launcher, "MPEL_FD");
    }
  fds->child_in = fds->child_out = -1;

  /* Our pid means something to the worker only in our pid namespace, on
   * our machine: a stream may lead elsewhere, a sandbox has its own. */
  if (transport == MPEL_TRANSPORT_SOCKET && sandbox == MPEL_SANDBOX_NONE)
    g_subprocess_launcher_setenv (launcher, "MPEL_PARENT_PID", parent_pid, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "MPEL_PARENT_PID");
}

static GSubprocess *
launch (const MpelChildSpawn  *spawn,
        GMainContext          *context,
        ChannelFds            *fds,
        GError               **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) argv = NULL;
  gboolean pushed = FALSE;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  launcher_set_channel (launcher, spawn->transport, spawn->sandbox, fds);

  if (!_mpel_sandbox_prepare (spawn->sandbox, spawn->argv, launcher, &argv, &local_error))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                   _("Could not start worker “%s”: %s"), spawn->argv[0], local_error->message);
      return NULL;
    }

  /* The exit of the child is reported on the thread-default context at the
   * time of the call: make it ours. */
  if (g_main_context_get_thread_default () != context &&
      !(context == g_main_context_default () && g_main_context_get_thread_default () == NULL))
    {
      g_main_context_push_thread_default (context);
      pushed = TRUE;
    }

  subprocess = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, &local_error);
  /* Closes the child's end of the channel in this process. */
  g_clear_object (&launcher);

  if (pushed)
    g_main_context_pop_thread_default (context);

  if (subprocess == NULL)
    g_set_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                 _("Could not start worker “%s”: %s"), argv[0], local_error->message);

  return g_steal_pointer (&subprocess);
}

/* Spawns a worker with a new connection to it — a socket as its fd 3, or
 * its stdin and stdout — and queues our HELLO. The owner's callbacks run
 * on @context. */
MpelChild *
_mpel_child_spawn (const MpelChildSpawn      *spawn,
                   GMainContext              *context,
                   guint                      index,
                   const MpelChildCallbacks  *callbacks,
                   gpointer                   owner,
                   GError                   **error)
{
  MpelChild *child;
  ChannelFds fds;
  gboolean pushed = FALSE;

  if (!channel_fds_open (spawn->transport, &fds, error))
    return NULL;

  child = g_atomic_rc_box_new0 (MpelChild);
  child->state = MPEL_CHILD_SPAWNING;
  child->serial = g_atomic_pointer_add (&last_serial, 1) + 1;
  child->owner = owner;
  child->callbacks = callbacks;
  child->index = index;
  child->has_modules = spawn->has_modules;
  child->transport = spawn->transport;
  /* Over a stream the worker may be on another machine, in a sandbox in
   * its own pid namespace: its HELLO's pid is not one of ours. */
  child->hello_pid_is_ours = spawn->transport == MPEL_TRANSPORT_SOCKET &&
                             spawn->sandbox == MPEL_SANDBOX_NONE;
  child->context = g_main_context_ref (context);
  child->handshake_timeout = spawn->handshake_timeout;
  child->argv_string = g_strjoinv (" ", (char **) spawn->argv);
  if (spawn->transport == MPEL_TRANSPORT_STDIO)
    child->where = describe_stream (spawn->argv);
  _mpel_id_table_init (&child->in_flight);
  _mpel_queue_init (&child->pinned);

  child->subprocess = launch (spawn, context, &fds, error);
  if (child->subprocess == NULL)
    {
      channel_fds_close (&fds);
      child->owner = NULL;
      child->state = MPEL_CHILD_DEAD;
      _mpel_child_unref (child);
      return NULL;
    }

  /* NULL if GLib has already reaped a child that died at once; its HELLO,
   * if it sent one, tells the pid then (over a socket only). */
  if (g_subprocess_get_identifier (child->subprocess) != NULL)
    child->pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (child->subprocess), NULL, 10);
  child_update_label (child);
  child->cancellable = g_cancellable_new ();
  if (spawn->transport == MPEL_TRANSPORT_SOCKET)
    child->conn = _mpel_connection_new (fds.ours_in, context, on_frame, on_connection_closed, child);
  else
    child->conn = _mpel_connection_new_stream (fds.ours_in, fds.ours_out, context,
                                              on_frame, on_connection_closed, child);
  _mpel_connection_set_budget (child->conn, DISPATCH_BUDGET_USEC);
  _mpel_connection_set_spin (child->conn, SPIN_USEC, awaits_answers);
  _mpel_peer_send_hello (child->conn);
  child->state = MPEL_CHILD_GREETING;

  if (g_main_context_get_thread_default () != context &&
      !(context == g_main_context_default () && g_main_context_get_thread_default () == NULL))
    {
      g_main_context_push_thread_default (context);
      pushed = TRUE;
    }
  g_subprocess_wait_async (child->subprocess, child->cancellable, on_subprocess_exited,
                           _mpel_child_ref (child));
  if (pushed)
    g_main_context_pop_thread_default (context);

  if (spawn->handshake_timeout > 0)
    {
      /* The child is alive while the source is: child_died(),
       * _mpel_child_discard() and child_clear() destroy it. */
      child->handshake_source = g_timeout_source_new (spawn->handshake_timeout);
      g_source_set_static_name (child->handshake_source, "[mpel] handshake");
      g_source_set_callback (child->handshake_source, handshake_expired_cb, child, NULL);
      g_source_attach (child->handshake_source, context);
    }

  return child;
}

/* The owner lets go of @child, and of its reference: no more callbacks
 * reach the owner, and the process is ended. GSubprocess reaps it. The
 * owner has taken its events. */
void
_mpel_child_discard (MpelChild *child)
{
  g_cancellable_cancel (child->cancellable);
  _mpel_clear_source (&child->handshake_source);
  _mpel_clear_source (&child->grace_source);
  if (child->conn != NULL)
    _mpel_connection_close (child->conn);
  if (child->state != MPEL_CHILD_DEAD && child->subprocess != NULL)
    g_subprocess_force_exit (child->subprocess);
  child->state = MPEL_CHILD_DEAD;
  child->owner = NULL;
  _mpel_child_unref (child);
}
