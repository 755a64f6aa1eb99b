/* mpel-connection-private.h: the connection that moves protocol v1 frames
 * over a socket, shared by the app side (MpelLoop) and the worker side
 * (MpelWorker).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "mpel-frame-private.h"

G_BEGIN_DECLS

typedef struct _MpelConnection MpelConnection;

/* What a peer can do beyond frames over a byte stream, as HELLO's
 * `features` names them. Each side uses a feature only when both have it. */
typedef enum
{
  MPEL_FEATURE_NONE       = 0,
  MPEL_FEATURE_FD_PASSING = 1 << 0,  /* "fd-passing": SCM_RIGHTS */
  MPEL_FEATURE_BULK       = 1 << 1,  /* "bulk": sealed-memfd shared buffers */
  MPEL_FEATURE_LAST_WORDS = 1 << 2,  /* "last-words": the worker's output buffer */
  MPEL_FEATURE_CHUNKS     = 1 << 3,  /* "chunks": large messages in interleaved chunks */
} MpelFeatures;

#define MPEL_FEATURES_SOCKET (MPEL_FEATURE_FD_PASSING | MPEL_FEATURE_BULK | MPEL_FEATURE_LAST_WORDS)
/* What a HELLO without `features` stands for: a peer from before they
 * were named, on a socket pair. */
#define MPEL_FEATURES_LEGACY (MPEL_FEATURE_FD_PASSING | MPEL_FEATURE_BULK)
/* What a byte stream has */
#define MPEL_FEATURES_STREAM (MPEL_FEATURE_CHUNKS)

/* Called for every decoded frame. Return FALSE to stop the batch, as after
 * _mpel_connection_fail() or _mpel_connection_close(); on a connection still
 * open, the frames already received then wait for the next dispatch. */
typedef gboolean (*MpelConnectionFrameFunc)  (MpelConnection *conn,
                                              MpelFrame      *frame,
                                              gpointer        user_data);
/* Called once when the peer hangs up (error == NULL) or the connection
 * fails (protocol or I/O error). Not called after _mpel_connection_close(). */
typedef void     (*MpelConnectionClosedFunc) (MpelConnection *conn,
                                              const GError   *error,
                                              gpointer        user_data);

MpelConnection *_mpel_connection_new            (int                       fd,
                                                GMainContext             *context,
                                                MpelConnectionFrameFunc   frame_func,
                                                MpelConnectionClosedFunc  closed_func,
                                                gpointer                  user_data);
/* A byte stream (pipes, a pty, ssh's stdio): plain read() and write(), no
 * descriptors, no shared memory; every payload inline. @in_fd and @out_fd
 * may be the same. Takes both. */
MpelConnection *_mpel_connection_new_stream     (int                       in_fd,
                                                int                       out_fd,
                                                GMainContext             *context,
                                                MpelConnectionFrameFunc   frame_func,
                                                MpelConnectionClosedFunc  closed_func,
                                                gpointer                  user_data);
MpelConnection *_mpel_connection_ref            (MpelConnection           *conn);
void            _mpel_connection_unref          (MpelConnection           *conn);
void            _mpel_connection_set_budget     (MpelConnection           *conn,
                                                gint64                    budget_usec);
void            _mpel_connection_set_spin       (MpelConnection           *conn,
                                                gint64                    spin_usec,
                                                gboolean                (*want_spin) (MpelConnection *conn,
                                                                                      gpointer        user_data));
gboolean        _mpel_connection_send           (MpelConnection           *conn,
                                                guint8                    kind,
                                                guint32                   flags,
                                                guint64                   id,
                                                const char               *name,
                                                GVariant                 *body,
                                                GVariant                 *meta,
                                                GError                  **error);
gboolean        _mpel_connection_send_call      (MpelConnection           *conn,
                                                guint32                   flags,
                                                guint64                   id,
                                                const char               *name,
                                                GVariant                 *body,
                                                GVariant                 *kwargs,
                                                guint32                   timeout,
                                                GError                  **error);
void            _mpel_connection_drain          (MpelConnection           *conn);
gboolean        _mpel_connection_flush_sync     (MpelConnection           *conn,
                                                GError                  **error);
gboolean        _mpel_connection_flush_all_sync (MpelConnection           *conn,
                                                GError                  **error);
gboolean        _mpel_connection_share_output   (MpelConnection           *conn,
                                                GError                  **error);
gboolean        _mpel_connection_has_shared_output (MpelConnection        *conn);
void            _mpel_connection_fail           (MpelConnection           *conn,
                                                GError                   *error);
void            _mpel_connection_close          (MpelConnection           *conn);
gboolean        _mpel_connection_is_closed      (MpelConnection           *conn);
gsize           _mpel_connection_get_n_queued   (MpelConnection           *conn);
GVariant       *_mpel_features_to_variant       (MpelFeatures              features);
MpelFeatures    _mpel_connection_get_features   (MpelConnection           *conn);
gboolean        _mpel_connection_can_use        (MpelConnection           *conn,
                                                MpelFeatures              feature);
guint32         _mpel_connection_get_max_frame  (MpelConnection           *conn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpelConnection, _mpel_connection_unref)

G_END_DECLS
