/* mpel-child-private.h: one worker process, on the app side
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-types.h"
#include "mpel-event-private.h"
#include "mpel-id-table-private.h"
#include "mpel-queue-private.h"
#include "mpel-wire-private.h"

G_BEGIN_DECLS

/* The life of one worker process. Each state is entered once, in this
 * order, though a child may skip ahead (a spawn that dies at once goes from
 * GREETING to DEAD):
 *   SPAWNING   the process is being made;
 *   GREETING   our HELLO is queued, theirs has not come; events may be sent
 *              already, they wait in the socket;
 *   READY      its HELLO came;
 *   STOPPING   it takes no more events: STOP was sent, or it is being ended
 *              (a start-up failure, a protocol error, killed as stuck);
 *   DEAD       its exit was handled, or its owner let it go. */
typedef enum
{
  MPEL_CHILD_SPAWNING,
  MPEL_CHILD_GREETING,
  MPEL_CHILD_READY,
  MPEL_CHILD_STOPPING,
  MPEL_CHILD_DEAD,
} MpelChildState;

typedef struct _MpelChild MpelChild;

/* What to spawn, and how */
typedef struct
{
  const char * const *argv;
  gboolean            has_modules;      /* the default host, given modules */
  MpelTransport       transport;
  MpelSandbox         sandbox;
  guint               handshake_timeout;
} MpelChildSpawn;

/* What a child tells its owner. None runs once the owner let go. */
typedef struct
{
  /* Its HELLO came. */
  void     (*greeted) (MpelChild *child,
                       gpointer   owner);
  /* A frame after HELLO; FALSE stops the batch. */
  gboolean (*frame)   (MpelChild *child,
                       MpelFrame *frame,
                       gpointer   owner);
  /* It broke the protocol (child->protocol_error): it is killed next. */
  void     (*broken)  (MpelChild *child,
                       gpointer   owner);
  /* It died: child->reason says why (NULL for a clean exit). The owner's
   * reference is the owner's to drop. */
  void     (*exited)  (MpelChild *child,
                       gpointer   owner);
} MpelChildCallbacks;

struct _MpelChild
{
  gpointer                  owner;        /* NULL once the owner let go */
  const MpelChildCallbacks *callbacks;
  MpelChildState            state;
  guint64                   serial;       /* unique in this process, never reused */
  guint                     index;        /* the owner's slot, reused by a restart */
  GPid                      pid;
  GMainContext             *context;
  GSubprocess              *subprocess;
  MpelConnection           *conn;
  GCancellable             *cancellable;
  GSource                  *grace_source;
  GSource                  *handshake_source;
  MpelIdTable               in_flight;    /* event->id → MpelEvent (owned) */
  MpelQueue                 pinned;       /* events only this child may run */
  char                     *argv_string;  /* for start-up errors */
  char                     *label;        /* "pid N", and where a stream leads */
  char                     *where;        /* where a stream leads, or NULL */
  MpelTransport             transport;
  gboolean                  hello_pid_is_ours; /* a local child, in our pid namespace */
  gboolean                  has_modules;  /* the default host, given modules */
  guint                     handshake_timeout;
  guint                     kill_timeout; /* when it was killed as stuck */
  guint                     n_abandoned;  /* ended here, not yet answered there */
  GError                   *startup_error;
  GError                   *protocol_error;
  GError                   *reason;       /* why it died; NULL: a clean exit */
  char                     *how;          /* how it died, for event errors */
  /* Facts, not states: */
  gboolean                  greeted;      /* its HELLO came */
  gboolean                  past_startup; /* a frame after HELLO was handled */
  gboolean                  killed;       /* by us, as stuck */
  gboolean                  crashed;      /* at death: a crash a restart may cure */
};

MpelChild  *_mpel_child_spawn           (const MpelChildSpawn      *spawn,
                                         GMainContext              *context,
                                         guint                      index,
                                         const MpelChildCallbacks  *callbacks,
                                         gpointer                   owner,
                                         GError                   **error);
MpelChild  *_mpel_child_ref             (MpelChild                 *child);
void        _mpel_child_unref           (MpelChild                 *child);
void        _mpel_child_discard         (MpelChild                 *child);

guint64     _mpel_child_get_serial      (MpelChild                 *child);
const char *_mpel_child_get_label       (MpelChild                 *child);
gboolean    _mpel_child_is_alive        (MpelChild                 *child);
gboolean    _mpel_child_accepts_events  (MpelChild                 *child,
                                         gboolean                   hold_if_abandoned);
guint       _mpel_child_get_load        (MpelChild                 *child);
gboolean    _mpel_child_has_started     (MpelChild                 *child);

gboolean    _mpel_child_send_event      (MpelChild                 *child,
                                         MpelEvent                 *event,
                                         GError                   **error);
MpelEvent  *_mpel_child_lookup_event    (MpelChild                 *child,
                                         guint64                    id);
MpelEvent  *_mpel_child_take_event      (MpelChild                 *child,
                                         guint64                    id);
GPtrArray  *_mpel_child_take_in_flight  (MpelChild                 *child);
void        _mpel_child_cancel_event    (MpelChild                 *child,
                                         MpelEvent                 *event);
void        _mpel_child_kill_as_stuck   (MpelChild                 *child,
                                         MpelEvent                 *event,
                                         guint                      kill_timeout);
void        _mpel_child_fail_startup    (MpelChild                 *child,
                                         const char                *message);
void        _mpel_child_send_stop       (MpelChild                 *child);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpelChild, _mpel_child_unref)

G_END_DECLS
