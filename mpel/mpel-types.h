/* mpel-types.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPEL_INSIDE) && !defined (MPEL_COMPILATION)
# error "Only <mpel.h> can be included directly."
#endif

#include <glib-object.h>

#include "mpel-version-macros.h"

G_BEGIN_DECLS

typedef struct _MpelEvent      MpelEvent;
typedef struct _MpelInvocation MpelInvocation;
typedef struct _MpelLoop       MpelLoop;
typedef struct _MpelWorker     MpelWorker;

/**
 * MPEL_ERROR:
 *
 * The error domain of mpel. Errors in this domain are from the
 * [enum@Mpel.Error] enumeration.
 */
#define MPEL_ERROR (mpel_error_quark ())

/**
 * MpelError:
 * @MPEL_ERROR_FAILED: a generic failure
 * @MPEL_ERROR_UNKNOWN_TARGET: the worker has no handler for the target
 * @MPEL_ERROR_INVALID_ARGS: the arguments do not fit the target
 * @MPEL_ERROR_WORKER_CRASHED: the worker died while the event was in flight
 * @MPEL_ERROR_SPAWN_FAILED: the worker could not be started
 * @MPEL_ERROR_PROTOCOL: the peer sent something that is not protocol v1
 * @MPEL_ERROR_CLOSED: the loop was closed or is stopping
 * @MPEL_ERROR_TIMED_OUT: the event did not end within its timeout
 * @MPEL_ERROR_TOO_LARGE: a message is over the size limit
 * @MPEL_ERROR_NO_SUCH_OBJECT: no remote object has that handle or exported
 *   name, or the worker knows no type of that name
 * @MPEL_ERROR_NO_SUCH_METHOD: the remote object has no such method
 *
 * Error codes in the %MPEL_ERROR domain.
 */
typedef enum
{
  MPEL_ERROR_FAILED,
  MPEL_ERROR_UNKNOWN_TARGET,
  MPEL_ERROR_INVALID_ARGS,
  MPEL_ERROR_WORKER_CRASHED,
  MPEL_ERROR_SPAWN_FAILED,
  MPEL_ERROR_PROTOCOL,
  MPEL_ERROR_CLOSED,
  MPEL_ERROR_TIMED_OUT,
  MPEL_ERROR_TOO_LARGE,
  MPEL_ERROR_NO_SUCH_OBJECT,
  MPEL_ERROR_NO_SUCH_METHOD,
} MpelError;

/**
 * MpelRestartPolicy:
 * @MPEL_RESTART_POLICY_NEVER: a worker that dies is not replaced
 * @MPEL_RESTART_POLICY_ON_CRASH: a worker that dies unexpectedly is replaced
 *   by a new one, with back-off
 *
 * What [class@Mpel.Loop] does when one of its workers dies.
 */
typedef enum
{
  MPEL_RESTART_POLICY_NEVER,
  MPEL_RESTART_POLICY_ON_CRASH,
} MpelRestartPolicy;

/**
 * MpelTransport:
 * @MPEL_TRANSPORT_SOCKET: a socket pair, the worker's fd 3: file
 *   descriptors and shared memory for large payloads; the worker is a local
 *   child process
 * @MPEL_TRANSPORT_STDIO: the command's stdin and stdout, a plain byte
 *   stream: every payload inline, no file descriptors, no shared memory;
 *   the command may reach the worker anywhere (`ssh HOST mpel-worker
 *   --stdio`, `flatpak-spawn --host mpel-worker --stdio`)
 *
 * How [class@Mpel.Loop] talks to its workers. See
 * [Transports](transports.html).
 */
typedef enum
{
  MPEL_TRANSPORT_SOCKET,
  MPEL_TRANSPORT_STDIO,
} MpelTransport;

/**
 * MpelSandbox:
 * @MPEL_SANDBOX_NONE: the worker runs as the app does
 * @MPEL_SANDBOX_STRICT: the worker runs under bubblewrap: no network, a
 *   read-only view of the system and of its own program and modules, a
 *   private `/tmp`, no new privileges, limits on memory and CPU time
 *
 * How [class@Mpel.Loop] confines its workers. See
 * [Transports](transports.html).
 */
typedef enum
{
  MPEL_SANDBOX_NONE,
  MPEL_SANDBOX_STRICT,
} MpelSandbox;

/**
 * MpelEventState:
 * @MPEL_EVENT_STATE_QUEUED: the event waits to be sent to a worker
 * @MPEL_EVENT_STATE_RUNNING: the event was sent and has not ended yet
 * @MPEL_EVENT_STATE_DONE: the event ended with a result
 * @MPEL_EVENT_STATE_FAILED: the event ended with an error
 * @MPEL_EVENT_STATE_CANCELLED: the event was cancelled by the caller
 *
 * The life cycle of an [class@Mpel.Event]. DONE, FAILED and CANCELLED are
 * final: an event reaches exactly one of them, exactly once.
 */
typedef enum
{
  MPEL_EVENT_STATE_QUEUED,
  MPEL_EVENT_STATE_RUNNING,
  MPEL_EVENT_STATE_DONE,
  MPEL_EVENT_STATE_FAILED,
  MPEL_EVENT_STATE_CANCELLED,
} MpelEventState;

/**
 * MpelEventFlags:
 * @MPEL_EVENT_FLAGS_NONE: no flags
 * @MPEL_EVENT_FLAGS_NO_REPLY: the worker does not send the result back; the
 *   event still ends, and a failure still reaches [signal@Mpel.Loop::output]
 *
 * Flags of an [class@Mpel.Event].
 */
typedef enum /*< flags >*/
{
  MPEL_EVENT_FLAGS_NONE     = 0,
  MPEL_EVENT_FLAGS_NO_REPLY = 1 << 0,
} MpelEventFlags;

MPEL_AVAILABLE_IN_ALL
GQuark mpel_error_quark (void);

/**
 * MpelProxyState:
 * @MPEL_PROXY_STATE_PENDING: the remote object is being made or attached
 * @MPEL_PROXY_STATE_READY: the remote object exists and its values are
 *   mirrored
 * @MPEL_PROXY_STATE_FAILED: the object could not be made, or its worker
 *   died; [method@Mpel.Proxy.get_error] says why
 *
 * The state of an [class@Mpel.Proxy].
 */
typedef enum
{
  MPEL_PROXY_STATE_PENDING,
  MPEL_PROXY_STATE_READY,
  MPEL_PROXY_STATE_FAILED,
} MpelProxyState;

G_END_DECLS
