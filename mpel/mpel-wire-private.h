/* mpel-wire-private.h: protocol v1 frames and the connection that carries
 * them, shared by the app side (MpelLoop) and the worker side (MpelWorker).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MPEL_PROTOCOL_VERSION        1
#define MPEL_FRAME_HEADER_SIZE       8
#define MPEL_ENVELOPE_TYPE_STRING    "(yutsva{sv})"
#define MPEL_ENVELOPE_TYPE           ((const GVariantType *) MPEL_ENVELOPE_TYPE_STRING)

/* Inline frames larger than this are a protocol error. */
#define MPEL_DEFAULT_MAX_FRAME       (16u * 1024u * 1024u)
/* Payloads larger than this travel in a sealed memfd. */
#define MPEL_DEFAULT_MEMFD_THRESHOLD (512u * 1024u)
/* Messages (memfd payloads) larger than this are refused. */
#define MPEL_DEFAULT_MAX_MESSAGE     ((gsize) 1 << 30)
/* Received fds waiting for their frame. */
#define MPEL_MAX_QUEUED_FDS          64

typedef enum
{
  MPEL_FRAME_HELLO  = 1,
  MPEL_FRAME_CALL   = 2,
  MPEL_FRAME_RETURN = 3,
  MPEL_FRAME_ERROR  = 4,
  MPEL_FRAME_ITEM   = 5,
  MPEL_FRAME_CANCEL = 6,
  MPEL_FRAME_NOTIFY = 7,
  MPEL_FRAME_STOP   = 8,
} MpelFrameKind;

typedef enum
{
  MPEL_FRAME_FLAGS_NONE     = 0,
  MPEL_FRAME_FLAGS_NO_REPLY = 1 << 0,
  MPEL_FRAME_FLAGS_NO_VALUE = 1 << 1,
} MpelFrameFlags;

typedef struct
{
  guint8      kind;
  guint32     flags;
  guint64     id;
  const char *name;   /* points into payload; valid while the frame is */
  GVariant   *body;   /* nullable */
  GVariant   *meta;   /* nullable: an empty a{sv} is NULL */
  GBytes     *payload;
} MpelFrame;

const char *mpel_frame_kind_to_string (guint8              kind);

gsize       mpel_envelope_size        (const char         *name,
                                       GVariant           *body,
                                       GVariant           *meta);
void        mpel_envelope_write       (guint8             *dest,
                                       gsize               size,
                                       guint8              kind,
                                       guint32             flags,
                                       guint64             id,
                                       const char         *name,
                                       GVariant           *body,
                                       GVariant           *meta);
gboolean    mpel_envelope_parse       (GBytes             *payload,
                                       MpelFrame          *frame,
                                       GError            **error);
void        mpel_frame_clear          (MpelFrame          *frame);

GVariant   *mpel_error_to_variant     (const GError       *error);
GError     *mpel_error_from_variant   (GVariant           *body);

typedef struct _MpelConnection MpelConnection;

/* Called for every decoded frame. Return FALSE after mpel_connection_fail()
 * or mpel_connection_close() to stop the batch. */
typedef gboolean (*MpelConnectionFrameFunc)  (MpelConnection *conn,
                                              MpelFrame      *frame,
                                              gpointer        user_data);
/* Called once when the peer hangs up (error == NULL) or the connection
 * fails (protocol or I/O error). Not called after mpel_connection_close(). */
typedef void     (*MpelConnectionClosedFunc) (MpelConnection *conn,
                                              const GError   *error,
                                              gpointer        user_data);

MpelConnection *mpel_connection_new            (int                       fd,
                                                GMainContext             *context,
                                                MpelConnectionFrameFunc   frame_func,
                                                MpelConnectionClosedFunc  closed_func,
                                                gpointer                  user_data);
MpelConnection *mpel_connection_ref            (MpelConnection           *conn);
void            mpel_connection_unref          (MpelConnection           *conn);
void            mpel_connection_set_budget     (MpelConnection           *conn,
                                                gint64                    budget_usec);
void            mpel_connection_set_spin       (MpelConnection           *conn,
                                                gint64                    spin_usec,
                                                gboolean                (*want_spin) (MpelConnection *conn,
                                                                                      gpointer        user_data));
gboolean        mpel_connection_send           (MpelConnection           *conn,
                                                guint8                    kind,
                                                guint32                   flags,
                                                guint64                   id,
                                                const char               *name,
                                                GVariant                 *body,
                                                GVariant                 *meta,
                                                GError                  **error);
void            mpel_connection_drain          (MpelConnection           *conn);
gboolean        mpel_connection_flush_sync     (MpelConnection           *conn,
                                                GError                  **error);
void            mpel_connection_fail           (MpelConnection           *conn,
                                                GError                   *error);
void            mpel_connection_close          (MpelConnection           *conn);
gboolean        mpel_connection_is_closed      (MpelConnection           *conn);
gsize           mpel_connection_get_n_queued   (MpelConnection           *conn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpelConnection, mpel_connection_unref)

G_END_DECLS
