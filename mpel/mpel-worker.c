/* mpel-worker.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <gmodule.h>

#include "mpel-enums.h"
#include "mpel-id-table-private.h"
#include "mpel-peer-private.h"
#include "mpel-wire-private.h"
#include "mpel-worker-builtins-private.h"
#include "mpel-worker-objects-private.h"
#include "mpel-worker-private.h"
#include "mpel-worker-session-private.h"
#include "mpel-util-private.h"

/**
 * MpelWorker:
 *
 * The worker side: runs the events an [class@Mpel.Loop] sends.
 *
 * A worker program makes an `MpelWorker`, registers a [callback@Mpel.Handler]
 * for every target with [method@Mpel.Worker.add_handler], and calls
 * [method@Mpel.Worker.run], which serves the app until it stops the worker
 * or goes away. The default host, `mpel-worker`, does this for handlers
 * that plugins register (see [property@Mpel.Worker:modules]); a worker can
 * just as well be a Python or GJS script.
 *
 * Handlers run on the worker's main context, one after the other in the
 * order the events were added; a handler that answers later lets the next
 * events run meanwhile. A handler's error goes to the app and never ends the
 * worker.
 *
 * Every worker has four built-in targets: `mpel.ping` returns the worker's
 * pid (an `i`), `mpel.echo` returns its arguments, `mpel.sleep` waits for
 * its argument in milliseconds (a `u`), or until it is cancelled, and
 * `mpel.release` drops objects the worker holds for the app, by handle (an
 * `at`), and returns how many it held (a `u`). The targets of remote
 * objects, `mpel.object.new`, `.attach`, `.adopt`, `.set`, `.release`,
 * `.subscribe` and `.unsubscribe`, `mpel.objects.count`, and of remote
 * lists, `mpel.list.watch`, `.unwatch` and `.fetch`, are described in
 * `doc/protocol.md`.
 *
 * [signal@Mpel.Worker::startup] and [signal@Mpel.Worker::shutdown] are the
 * places for set-up and tear-down in the worker process.
 */

typedef struct
{
  MpelHandler handler;
  gpointer user_data;
  GDestroyNotify destroy;
  GQuark target;
} Handler;

/* How long answers may wait in the shared output for the end of a batch */
#define ANSWER_MAX_WAIT_USEC 1000

struct _MpelWorker
{
  GObject         parent_instance;

  GHashTable     *handlers;
  Handler        *last_handler; /* of the last CALL, while it is in handlers */
  MpelIdTable     running;      /* invocation id → MpelInvocation (weak) */
  char          **modules;
  MpelConnection *conn;
  GMainLoop      *main_loop;
  GError         *run_error;
  MpelParentWatch *parent_watch;
  gint64          queued_since;  /* when answers were first seen waiting */

  guint           hello_received : 1;
  guint           stopping : 1;
  guint           serving : 1;
};

G_DEFINE_FINAL_TYPE (MpelWorker, mpel_worker, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODULES,
  PROP_N_RUNNING,
  N_PROPS
};

enum {
  STARTUP,
  SHUTDOWN,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint notify_signal_id;

static void
handler_free (gpointer data)
{
  Handler *handler = data;

  if (handler->destroy != NULL)
    handler->destroy (handler->user_data);
  g_free (handler);
}

static void
mpel_worker_finalize (GObject *object)
{
  MpelWorker *self = (MpelWorker *)object;

  g_clear_pointer (&self->handlers, g_hash_table_unref);
  _mpel_id_table_clear (&self->running);
  _mpel_worker_objects_clear (self);
  g_clear_pointer (&self->modules, g_strfreev);
  g_clear_pointer (&self->conn, _mpel_connection_unref);
  g_clear_pointer (&self->main_loop, g_main_loop_unref);
  g_clear_error (&self->run_error);

  G_OBJECT_CLASS (mpel_worker_parent_class)->finalize (object);
}

static void
mpel_worker_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  MpelWorker *self = MPEL_WORKER (object);

  switch (prop_id)
    {
    case PROP_MODULES:
      g_value_set_boxed (value, self->modules);
      break;

    case PROP_N_RUNNING:
      g_value_set_uint (value, mpel_worker_get_n_running (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_worker_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  MpelWorker *self = MPEL_WORKER (object);

  switch (prop_id)
    {
    case PROP_MODULES:
      if (_mpel_set_strv (&self->modules, g_value_get_boxed (value)))
        g_object_notify_by_pspec (object, pspec);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_worker_class_init (MpelWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  /* A worker in Python or JavaScript never makes an MpelLoop, which would
   * otherwise be the one to bind mpel's messages. */
  _mpel_ensure_i18n ();

  object_class->finalize = mpel_worker_finalize;
  object_class->get_property = mpel_worker_get_property;
  object_class->set_property = mpel_worker_set_property;

  /**
   * MpelWorker:modules:
   *
   * Paths of plugins that [method@Mpel.Worker.run] loads once it is
   * connected, before it serves any event. A plugin exports
   * `void mpel_module_init (MpelWorker *worker)`, which registers handlers.
   * A plugin that cannot be loaded is reported to the app, whose events then
   * fail with %MPEL_ERROR_SPAWN_FAILED and the reason.
   */
  properties[PROP_MODULES] =
    g_param_spec_boxed ("modules", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelWorker:n-running:
   *
   * How many invocations have started and not yet been answered.
   */
  properties[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
  notify_signal_id = g_signal_lookup ("notify", G_TYPE_OBJECT);

  /**
   * MpelWorker::startup:
   * @self: the worker
   *
   * Emitted by [method@Mpel.Worker.run] once it is connected and its
   * modules are loaded, before the first event runs.
   */
  signals[STARTUP] =
    g_signal_new ("startup",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);

  /**
   * MpelWorker::shutdown:
   * @self: the worker
   *
   * Emitted by [method@Mpel.Worker.run] after the last event and before
   * run() ends. When the app stopped the worker, that is once every
   * invocation has been answered; when the app went away, at once.
   */
  signals[SHUTDOWN] =
    g_signal_new ("shutdown",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);
}

static void
mpel_worker_init (MpelWorker *self)
{
  self->handlers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, handler_free);
  _mpel_id_table_init (&self->running);

  _mpel_worker_add_builtins (self);
}

/**
 * mpel_worker_new:
 *
 * Makes a worker with only the built-in targets.
 *
 * Returns: (transfer full): a new #MpelWorker
 */
MpelWorker *
mpel_worker_new (void)
{
  return g_object_new (MPEL_TYPE_WORKER, NULL);
}

/**
 * mpel_worker_add_handler:
 * @self: a #MpelWorker
 * @target: the target name
 * @handler: (scope notified) (closure user_data) (destroy destroy): the handler
 * @user_data: data for @handler
 * @destroy: (nullable): frees @user_data when the handler is replaced or the
 *   worker finalized
 *
 * Registers @handler for events sent to @target, replacing any handler the
 * target had.
 */
void
mpel_worker_add_handler (MpelWorker     *self,
                         const char     *target,
                         MpelHandler     handler,
                         gpointer        user_data,
                         GDestroyNotify  destroy)
{
  Handler *entry;

  g_return_if_fail (MPEL_IS_WORKER (self));
  g_return_if_fail (target != NULL);
  g_return_if_fail (handler != NULL);

  entry = g_new0 (Handler, 1);
  entry->handler = handler;
  entry->user_data = user_data;
  entry->destroy = destroy;
  /* Invocations of a handled target share its name as a quark; names the
   * app sends that no handler has are never interned (see
   * _mpel_invocation_new()), so the app cannot grow the quark table. */
  entry->target = g_quark_from_string (target);

  self->last_handler = NULL;
  g_hash_table_replace (self->handlers, g_strdup (target), entry);
}

/**
 * mpel_worker_remove_handler:
 * @self: a #MpelWorker
 * @target: the target name
 *
 * Removes the handler of @target; later events for it fail with
 * %MPEL_ERROR_UNKNOWN_TARGET.
 *
 * Returns: whether there was a handler
 */
gboolean
mpel_worker_remove_handler (MpelWorker *self,
                            const char *target)
{
  g_return_val_if_fail (MPEL_IS_WORKER (self), FALSE);
  g_return_val_if_fail (target != NULL, FALSE);

  self->last_handler = NULL;
  return g_hash_table_remove (self->handlers, target);
}

/**
 * mpel_worker_has_handler:
 * @self: a #MpelWorker
 * @target: the target name
 *
 * Tells whether a target has a handler.
 *
 * Returns: whether @target has a handler
 */
gboolean
mpel_worker_has_handler (MpelWorker *self,
                         const char *target)
{
  g_return_val_if_fail (MPEL_IS_WORKER (self), FALSE);
  g_return_val_if_fail (target != NULL, FALSE);

  return g_hash_table_contains (self->handlers, target);
}

/**
 * mpel_worker_get_n_running:
 * @self: a #MpelWorker
 *
 * Gets how many invocations are running.
 *
 * Returns: how many invocations have started and not been answered yet
 */
guint
mpel_worker_get_n_running (MpelWorker *self)
{
  g_return_val_if_fail (MPEL_IS_WORKER (self), 0);

  return _mpel_id_table_size (&self->running);
}

/**
 * mpel_worker_load_module:
 * @self: a #MpelWorker
 * @path: the path of a plugin
 * @error: return location for an error
 *
 * Loads a plugin now and calls its `mpel_module_init()`. Plugins stay loaded
 * for the life of the process.
 *
 * Returns: %TRUE if the plugin was loaded and initialised
 */
gboolean
mpel_worker_load_module (MpelWorker  *self,
                         const char  *path,
                         GError     **error)
{
  GModule *module;
  void (*init) (MpelWorker *) = NULL;

  g_return_val_if_fail (MPEL_IS_WORKER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                   _("Could not load module “%s”: %s"), path, g_module_error ());
      return FALSE;
    }

  if (!g_module_symbol (module, MPEL_MODULE_INIT_SYMBOL, (gpointer *) &init) || init == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED,
                   _("Module “%s” does not export %s()"), path, MPEL_MODULE_INIT_SYMBOL);
      g_module_close (module);
      return FALSE;
    }

  /* Handlers and types the module registers must outlive any unload. */
  g_module_make_resident (module);
  init (self);

  return TRUE;
}

/* n-running changes twice per event. GLib 2.74's notify has no fast path
 * for an object nobody watches, and costs as much as a trivial handler:
 * skip it then. A handler of plain `notify` counts as watching. */
static void
notify_n_running (MpelWorker *self)
{
  if (g_signal_has_handler_pending (self, notify_signal_id,
                                    g_param_spec_get_name_quark (properties[PROP_N_RUNNING]), FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
}

/* Objects the app holds */

/* Keeps a reference to @object for the app, until the app releases it
 * (mpel.release) or the connection closes. Returns its handle, never 0 and
 * never reused within the process; the same object keeps its handle, and
 * each sending of it counts. One table serves these and remote objects
 * (mpel-worker-objects.c). */
guint64
_mpel_worker_hold_object (MpelWorker *self,
                          GObject    *object)
{
  g_return_val_if_fail (MPEL_IS_WORKER (self), 0);
  g_return_val_if_fail (G_IS_OBJECT (object), 0);

  return _mpel_worker_objects_add (self, object);
}

/* Transfer none: the object held under @handle, or NULL. */
GObject *
_mpel_worker_lookup_object (MpelWorker *self,
                            guint64     handle)
{
  g_return_val_if_fail (MPEL_IS_WORKER (self), NULL);

  return _mpel_worker_objects_lookup (self, handle);
}

/* Drops one sending of @handle. */
gboolean
_mpel_worker_release_object (MpelWorker *self,
                             guint64     handle)
{
  g_return_val_if_fail (MPEL_IS_WORKER (self), FALSE);

  return _mpel_worker_objects_release (self, handle, 1);
}

guint
_mpel_worker_get_n_held (MpelWorker *self)
{
  g_return_val_if_fail (MPEL_IS_WORKER (self), 0);

  return _mpel_worker_objects_get_n_objects (self);
}

/* Sends a NOTIFY about @handle, on the worker's own initiative; @body may be
 * NULL and is sunk. Returns FALSE if the app is not there to get it. */
gboolean
_mpel_worker_send_notify (MpelWorker *self,
                          guint64     handle,
                          GVariant   *body)
{
  g_autoptr(GVariant) owned_body = body != NULL ? g_variant_ref_sink (body) : NULL;

  g_return_val_if_fail (MPEL_IS_WORKER (self), FALSE);

  if (self->conn == NULL || _mpel_connection_is_closed (self->conn))
    return FALSE;

  return _mpel_connection_send (self->conn, MPEL_FRAME_NOTIFY, 0, handle, NULL, owned_body, NULL, NULL);
}

/* The same with a name: a remote signal or a list's change (see
 * doc/protocol.md); mpel-worker-signals.c sends them. */
gboolean
_mpel_worker_send_notify_named (MpelWorker *self,
                                guint64     handle,
                                const char *name,
                                GVariant   *body)
{
  g_autoptr(GVariant) owned_body = g_variant_ref_sink (body);

  g_return_val_if_fail (MPEL_IS_WORKER (self), FALSE);

  if (self->conn == NULL || _mpel_connection_is_closed (self->conn))
    return FALSE;

  return _mpel_connection_send (self->conn, MPEL_FRAME_NOTIFY, 0, handle, name, owned_body, NULL, NULL);
}

/* Serving */

static void
worker_quit (MpelWorker *self,
             GError     *error)
{
  if (error != NULL && self->run_error == NULL)
    self->run_error = error;
  else
    g_clear_error (&error);

  if (self->main_loop != NULL)
    g_main_loop_quit (self->main_loop);
}

static void
maybe_finish_stop (MpelWorker *self)
{
  if (self->stopping && _mpel_id_table_size (&self->running) == 0)
    worker_quit (self, NULL);
}

gboolean
_mpel_worker_send_reply (MpelWorker     *self,
                         MpelInvocation *invocation,
                         guint8          kind,
                         guint32         flags,
                         GVariant       *body)
{
  return _mpel_worker_send_reply_full (self, invocation, kind, flags, body, NULL);
}

gboolean
_mpel_worker_send_reply_full (MpelWorker     *self,
                              MpelInvocation *invocation,
                              guint8          kind,
                              guint32         flags,
                              GVariant       *body,
                              GVariant       *meta)
{
  /* Sunk here, as an answer that cannot go would leak them otherwise */
  g_autoptr(GVariant) owned_body = body != NULL ? g_variant_ref_sink (body) : NULL;
  g_autoptr(GVariant) owned_meta = meta != NULL ? g_variant_ref_sink (meta) : NULL;
  g_autoptr(GError) error = NULL;
  guint64 id = mpel_invocation_get_id (invocation);

  if (self->conn == NULL || _mpel_connection_is_closed (self->conn))
    return FALSE;

  if (_mpel_connection_send (self->conn, kind, flags, id, NULL, owned_body, owned_meta, &error))
    return TRUE;

  if (_mpel_connection_is_closed (self->conn))
    return FALSE;

  if (kind == MPEL_FRAME_ITEM)
    {
      /* The handler goes on; its answer will still end the event. */
      g_printerr ("mpel-worker[%d]: an item of “%s” was dropped: %s\n",
                  (int) getpid (), mpel_invocation_get_target (invocation), error->message);
      return FALSE;
    }

  /* An answer that cannot be sent (too large, no memory for its buffer)
   * still ends the event, with the reason: small, so it goes inline. */
  {
    g_autoptr(GError) failure = g_error_new (MPEL_ERROR,
                                             g_error_matches (error, MPEL_ERROR, MPEL_ERROR_TOO_LARGE)
                                               ? MPEL_ERROR_TOO_LARGE : MPEL_ERROR_FAILED,
                                             _("The answer of “%s” could not be sent: %s"),
                                             mpel_invocation_get_target (invocation),
                                             error->message);
    g_autoptr(GVariant) failure_body = g_variant_ref_sink (_mpel_error_to_variant (failure));

    return _mpel_connection_send (self->conn, MPEL_FRAME_ERROR, 0, id, NULL, failure_body, NULL, NULL);
  }
}

void
_mpel_worker_invocation_ended (MpelWorker     *self,
                               MpelInvocation *invocation)
{
  guint64 id = mpel_invocation_get_id (invocation);

  if (_mpel_id_table_lookup (&self->running, id) == invocation)
    {
      _mpel_id_table_remove (&self->running, id);
      notify_n_running (self);
    }

  maybe_finish_stop (self);
}

static void
worker_protocol_error (MpelWorker *self,
                       const char *message)
{
  _mpel_peer_protocol_error (self->conn, "%s", message);
}

/* The handler of @name: most CALLs of a batch go to the target of the
 * one before, whose handler is kept, so that the table is not hashed. */
static Handler *
lookup_handler (MpelWorker *self,
                const char *name)
{
  Handler *handler = self->last_handler;

  if (handler != NULL && strcmp (g_quark_to_string (handler->target), name) == 0)
    return handler;

  handler = g_hash_table_lookup (self->handlers, name);
  if (handler != NULL)
    self->last_handler = handler;

  return handler;
}

/* Whether the key "mpel.object", terminated, is somewhere in the bytes of
 * @kwargs: a quick look that spares the look-up proper the kwargs of plain
 * calls (cheaper than memmem () for a dictionary of a few dozen bytes). */
static gboolean
may_name_object (GBytes *kwargs)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (kwargs, &size);
  const guint8 *end;

  if (data == NULL)
    return FALSE;

  end = data + size;
  while ((gsize) (end - data) >= sizeof MPEL_OBJECT_KWARG &&
         (data = memchr (data, MPEL_OBJECT_KWARG[0], end - data - (sizeof MPEL_OBJECT_KWARG - 1))) != NULL)
    {
      if (memcmp (data, MPEL_OBJECT_KWARG, sizeof MPEL_OBJECT_KWARG) == 0)
        return TRUE;
      data++;
    }

  return FALSE;
}

/* The CALL's kwargs, looked up where they lie: they stay the bytes they
 * came in (a slice of the read buffer), and their entries are read only
 * when a handler asks for them. A method call on a remote object (see
 * doc/protocol.md) carries its handle as the kwarg "mpel.object", which no
 * handler sees: then sets @object_handle and returns the other kwargs. */
static GBytes *
take_kwargs (MpelFrame *frame,
             guint64   *object_handle)
{
  g_autoptr(GBytes) kwargs = _mpel_frame_lookup_meta_bytes (frame, "kwargs", G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) handle = NULL;

  if (kwargs != NULL && may_name_object (kwargs) &&
      _mpel_vardict_bytes_lookup (kwargs, MPEL_OBJECT_KWARG, G_VARIANT_TYPE_UINT64,
                                  &handle) == MPEL_VARDICT_FOUND)
    {
      g_autoptr(GVariant) dict = g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, kwargs, FALSE);
      g_autoptr(GVariant) rest = NULL;

      /* The method's own keyword arguments stay; the handle goes. */
      *object_handle = g_variant_get_uint64 (handle);
      g_variant_ref_sink (dict);
      rest = _mpel_worker_objects_strip_handle (dict);
      return rest != NULL ? g_variant_get_data_as_bytes (rest) : NULL;
    }

  return g_steal_pointer (&kwargs);
}

static void
handle_call (MpelWorker *self,
             MpelFrame  *frame)
{
  g_autoptr(MpelInvocation) invocation = NULL;
  GVariant *args = frame->body;
  g_autoptr(GBytes) kwargs = NULL;
  guint64 object_handle = 0;
  Handler *handler = NULL;

  /* g_variant_is_of_type (args, G_VARIANT_TYPE_TUPLE), cheaper */
  if (g_variant_get_type_string (args)[0] != '(')
    {
      worker_protocol_error (self, _("the arguments of a CALL are not a tuple"));
      return;
    }

  if (_mpel_id_table_lookup (&self->running, frame->id) != NULL)
    {
      worker_protocol_error (self, _("a CALL reuses the id of a running event"));
      return;
    }

  kwargs = take_kwargs (frame, &object_handle);
  if (object_handle == 0)
    handler = lookup_handler (self, frame->name);

  invocation = _mpel_invocation_new_for_target (self, frame->id, handler != NULL ? handler->target : 0,
                                                frame->name, args,
                                                (frame->flags & MPEL_FRAME_FLAGS_NO_REPLY) != 0);
  if (kwargs != NULL)
    _mpel_invocation_take_kwargs_bytes (invocation, g_steal_pointer (&kwargs));

  /* The invocation removes its entry before it goes. */
  _mpel_id_table_insert (&self->running, frame->id, invocation);
  notify_n_running (self);

  if (handler == NULL && object_handle == 0)
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_UNKNOWN_TARGET,
                                    _("Worker %d has no handler for “%s”"),
                                    (int) getpid (), frame->name);
      return;
    }

  /* This handler may crash, exit or block until it is killed; the answers
   * earlier handlers of this batch gave must reach the app all the same.
   * With the output in a buffer the app reads back after we are gone (see
   * _mpel_connection_share_output()), they can wait for the end of the batch
   * and leave in one write; they only go out first once they have waited a
   * millisecond, so that a slow batch does not hold them back. Without it,
   * they go out before every handler. Either way, this blocks only while
   * the socket is full, that is until the app reads, which it always does. */
  if (_mpel_connection_get_n_queued (self->conn) == 0)
    self->queued_since = 0;
  else if (!_mpel_connection_has_shared_output (self->conn))
    _mpel_connection_flush_sync (self->conn, NULL);
  else
    {
      gint64 now = g_get_monotonic_time ();

      if (self->queued_since == 0)
        self->queued_since = now;
      else if (now - self->queued_since >= ANSWER_MAX_WAIT_USEC)
        {
          _mpel_connection_flush_sync (self->conn, NULL);
          self->queued_since = 0;
        }
    }

  if (object_handle != 0)
    _mpel_worker_objects_dispatch (self, object_handle, invocation);
  else
    handler->handler (invocation, handler->user_data);
}

static gboolean
on_call_frame (gpointer   owner,
               MpelFrame *frame)
{
  MpelWorker *self = owner;

  if (self->stopping)
    return _mpel_peer_protocol_error (self->conn, "%s", _("a CALL came after STOP"));

  handle_call (self, frame);
  return TRUE;
}

static gboolean
on_cancel_frame (gpointer   owner,
                 MpelFrame *frame)
{
  MpelWorker *self = owner;
  MpelInvocation *invocation = _mpel_id_table_lookup (&self->running, frame->id);

  /* An invocation that already answered needs nothing: its answer is on
   * the way and the app waits for it. */
  if (invocation != NULL)
    _mpel_invocation_cancel (invocation);

  return TRUE;
}

static gboolean
on_stop_frame (gpointer   owner,
               MpelFrame *frame)
{
  MpelWorker *self = owner;

  self->stopping = TRUE;
  maybe_finish_stop (self);
  return TRUE;
}

/* What the worker does with each frame from the app after HELLO. */
static const MpelPeerTable worker_frames = {
  .side = MPEL_PEER_WORKER,
  .handlers = {
    [MPEL_FRAME_CALL] = on_call_frame,
    [MPEL_FRAME_CANCEL] = on_cancel_frame,
    [MPEL_FRAME_STOP] = on_stop_frame,
  },
};

static gboolean
on_frame (MpelConnection *conn,
          MpelFrame      *frame,
          gpointer        user_data)
{
  MpelWorker *self = user_data;

  if (!self->hello_received)
    {
      g_autoptr(GError) share_error = NULL;

      if (!_mpel_peer_check_hello (conn, MPEL_PEER_WORKER, frame, NULL))
        return FALSE;
      self->hello_received = TRUE;

      /* Our last words survive us (see handle_call()) when the app said it
       * takes them; without, or without a memfd, the answers leave before
       * every handler instead. */
      if (_mpel_connection_can_use (conn, MPEL_FEATURE_LAST_WORDS) &&
          !_mpel_connection_share_output (conn, &share_error))
        g_debug ("No shared output buffer: %s", share_error->message);
      return TRUE;
    }

  return _mpel_peer_dispatch (&worker_frames, conn, frame, self) &&
         !_mpel_connection_is_closed (conn);
}

static void
add_ref (gpointer value,
         gpointer user_data)
{
  g_ptr_array_add (user_data, g_object_ref (value));
}

static void
cancel_all (MpelWorker *self)
{
  g_autoptr(GPtrArray) invocations = g_ptr_array_new_with_free_func (g_object_unref);

  _mpel_id_table_foreach (&self->running, add_ref, invocations);

  for (guint i = 0; i < invocations->len; i++)
    _mpel_invocation_cancel (g_ptr_array_index (invocations, i));
}

static void
on_closed (MpelConnection *conn,
           const GError   *error,
           gpointer        user_data)
{
  MpelWorker *self = user_data;

  /* The app is gone or broke the protocol: nobody is left to answer, and
   * nothing the app held here can be reached any more. */
  cancel_all (self);
  _mpel_worker_objects_clear (self);
  worker_quit (self, error ? g_error_copy (error) : NULL);
}

static gboolean
load_modules (MpelWorker  *self,
              GError     **error)
{
  for (guint i = 0; self->modules != NULL && self->modules[i] != NULL; i++)
    {
      if (!mpel_worker_load_module (self, self->modules[i], error))
        return FALSE;
    }

  return TRUE;
}

/**
 * mpel_worker_run:
 * @self: a #MpelWorker
 * @error: return location for an error
 *
 * Serves the app that started this process, over the socket named by the
 * `MPEL_FD` environment variable — or, when that is not set and
 * `MPEL_STDIO` is `1`, over stdin and stdout, for an app that reaches the
 * worker through a byte stream ([enum@Mpel.Transport]; stdout then becomes
 * the channel and fd 1 is pointed at stderr, so that what the process
 * prints cannot corrupt it) — on the thread-default main context,
 * until the app stops the worker ([method@Mpel.Loop.stop]) or goes away.
 * The worker never outlives the app: when the app dies, run() ends, and a
 * process whose handler keeps the main loop busy is killed half a second
 * later, whichever thread of the app started the worker.
 *
 * Returns: %TRUE when the app ended the session normally; %FALSE with
 *   @error when the worker could not start or the app broke the protocol
 */
gboolean
mpel_worker_run (MpelWorker  *self,
                 GError     **error)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GError) startup_error = NULL;
  /* GLib drops the type information of a container type when no value of
   * that type is left, and builds it again for the next one: keep an a{sv}
   * (the type of HELLO and of every meta) for the whole run. */
  g_autoptr(GVariant) keep_vardict = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  int fd, stdout_fd;

  g_return_val_if_fail (MPEL_IS_WORKER (self), FALSE);
  g_return_val_if_fail (!self->serving, FALSE);

  if (!_mpel_worker_take_channel (&fd, &stdout_fd, error))
    return FALSE;

  /* Programs the handlers start must not hold the app's socket open. */
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  g_unsetenv ("MPEL_FD");

  if (!_mpel_parent_watch_start (&self->parent_watch, error))
    return FALSE;

  signal (SIGPIPE, SIG_IGN);

  self->serving = TRUE;
  self->stopping = FALSE;
  self->hello_received = FALSE;
  g_clear_error (&self->run_error);

  context = g_main_context_ref_thread_default ();
  _mpel_worker_objects_serve_here (self);
  self->main_loop = g_main_loop_new (context, FALSE);
  if (stdout_fd >= 0)
    self->conn = _mpel_connection_new_stream (fd, stdout_fd, context, on_frame, on_closed, self);
  else
    self->conn = _mpel_connection_new (fd, context, on_frame, on_closed, self);

  /* HELLO goes only once the modules have loaded: a module whose init
   * crashes or exits ends the process before it said a word, which the app
   * reports as a start-up failure rather than as a crash to recover from. */
  if (!load_modules (self, &startup_error))
    {
      g_autoptr(GVariant) body = g_variant_ref_sink (_mpel_error_to_variant (startup_error));

      /* id 0 right after HELLO: the app fails its events with this. */
      _mpel_peer_send_hello (self->conn);
      _mpel_connection_send (self->conn, MPEL_FRAME_ERROR, 0, 0, NULL, body, NULL, NULL);
      _mpel_connection_flush_all_sync (self->conn, NULL);
      _mpel_connection_close (self->conn);
      g_clear_pointer (&self->conn, _mpel_connection_unref);
      g_clear_pointer (&self->main_loop, g_main_loop_unref);
      g_clear_pointer (&self->parent_watch, _mpel_parent_watch_stop);
      self->serving = FALSE;
      g_propagate_error (error, g_steal_pointer (&startup_error));
      return FALSE;
    }

  /* The output buffer is lent once the app's HELLO says it takes it. */
  _mpel_peer_send_hello (self->conn);
  self->queued_since = 0;

  g_signal_emit (self, signals[STARTUP], 0);

  g_main_loop_run (self->main_loop);

  g_signal_emit (self, signals[SHUTDOWN], 0);

  if (!_mpel_connection_is_closed (self->conn))
    {
      _mpel_connection_flush_all_sync (self->conn, NULL);
      _mpel_connection_close (self->conn);
    }
  _mpel_worker_objects_clear (self);
  g_clear_pointer (&self->conn, _mpel_connection_unref);
  g_clear_pointer (&self->main_loop, g_main_loop_unref);
  g_clear_pointer (&self->parent_watch, _mpel_parent_watch_stop);
  self->serving = FALSE;

  if (self->run_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->run_error));
      return FALSE;
    }

  return TRUE;
}
