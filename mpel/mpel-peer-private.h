/* mpel-peer-private.h: what both ends of a connection share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-wire-private.h"

G_BEGIN_DECLS

/* Which end this process is. */
typedef enum
{
  MPEL_PEER_APP,
  MPEL_PEER_WORKER,
} MpelPeerSide;

#define MPEL_FRAME_N_KINDS (MPEL_FRAME_STOP + 1)

/* Handles one frame for its owner; FALSE stops the batch (the connection
 * failed or the owner let go). */
typedef gboolean (*MpelPeerHandler) (gpointer   owner,
                                     MpelFrame *frame);

/* What one end does with each kind of frame, by kind. A kind without a
 * handler, or one that only this end may send, is a protocol error. */
typedef struct
{
  MpelPeerSide    side;
  MpelPeerHandler handlers[MPEL_FRAME_N_KINDS];
} MpelPeerTable;

void      _mpel_peer_send_hello     (MpelConnection       *conn);
gboolean  _mpel_peer_check_hello    (MpelConnection       *conn,
                                     MpelPeerSide          side,
                                     MpelFrame            *frame,
                                     gint32               *out_pid);
gboolean  _mpel_peer_protocol_error (MpelConnection       *conn,
                                     const char           *format,
                                     ...) G_GNUC_PRINTF (2, 3);
gboolean  _mpel_peer_may_send       (MpelPeerSide          sender,
                                     guint8                kind);
gboolean  _mpel_peer_dispatch       (const MpelPeerTable  *table,
                                     MpelConnection       *conn,
                                     MpelFrame            *frame,
                                     gpointer              owner);

G_END_DECLS
