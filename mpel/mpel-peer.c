/* mpel-peer.c: what both ends of a connection share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpel-peer-private.h"
#include "mpel-types.h"

/* The app and the worker speak the same protocol over one connection: each
 * starts with HELLO, checks the other's once, and hands every later frame to
 * the handler its table names for that kind. Who may send which kind is
 * written here once, so that a new kind is one line in this table and one
 * entry in the table of the end that receives it. */

typedef enum
{
  SENT_BY_NONE   = 0,
  SENT_BY_APP    = 1 << MPEL_PEER_APP,
  SENT_BY_WORKER = 1 << MPEL_PEER_WORKER,
} SentBy;

static const guint8 senders[MPEL_FRAME_N_KINDS] = {
  [MPEL_FRAME_HELLO]  = SENT_BY_APP | SENT_BY_WORKER,
  [MPEL_FRAME_CALL]   = SENT_BY_APP,
  [MPEL_FRAME_RETURN] = SENT_BY_WORKER,
  [MPEL_FRAME_ERROR]  = SENT_BY_WORKER,
  [MPEL_FRAME_ITEM]   = SENT_BY_WORKER,
  [MPEL_FRAME_CANCEL] = SENT_BY_APP,
  [MPEL_FRAME_NOTIFY] = SENT_BY_WORKER,
  [MPEL_FRAME_STOP]   = SENT_BY_APP,
};

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
#define MPEL_PEER_BYTE_ORDER "little-endian"
#else
#define MPEL_PEER_BYTE_ORDER "big-endian"
#endif

gboolean
_mpel_peer_may_send (MpelPeerSide sender,
                     guint8       kind)
{
  return kind < MPEL_FRAME_N_KINDS && (senders[kind] & (1 << sender)) != 0;
}

/* Queues this end's HELLO, the first frame either end sends. */
void
_mpel_peer_send_hello (MpelConnection *conn)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) body = NULL;

  g_variant_dict_insert (&dict, "version", "u", (guint32) MPEL_PROTOCOL_VERSION);
  g_variant_dict_insert (&dict, "byte-order", "s", MPEL_PEER_BYTE_ORDER);
  g_variant_dict_insert (&dict, "pid", "i", (gint32) getpid ());
  g_variant_dict_insert (&dict, "max-frame", "u", _mpel_connection_get_max_frame (conn));
  g_variant_dict_insert_value (&dict, "features",
                               _mpel_features_to_variant (_mpel_connection_get_features (conn)));
  body = g_variant_ref_sink (g_variant_dict_end (&dict));
  _mpel_connection_send (conn, MPEL_FRAME_HELLO, 0, 0, g_get_prgname (), body, NULL, NULL);
}

gboolean
_mpel_peer_protocol_error (MpelConnection *conn,
                           const char     *format,
                           ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  _mpel_connection_fail (conn,
                        g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                                     _("Protocol error: %s"), message));
  return FALSE;
}

/* Checks the other end's HELLO, which @frame must be; on a mismatch fails
 * the connection and returns FALSE. The connection reads `max-frame` itself.
 * @out_pid gets the pid the other end gave, or 0. */
gboolean
_mpel_peer_check_hello (MpelConnection *conn,
                        MpelPeerSide    side,
                        MpelFrame      *frame,
                        gint32         *out_pid)
{
  guint32 version = 0;
  gint32 pid = 0;
  const char *byte_order = NULL;

  if (frame->kind != MPEL_FRAME_HELLO || frame->body == NULL ||
      !g_variant_is_of_type (frame->body, G_VARIANT_TYPE_VARDICT) ||
      !g_variant_lookup (frame->body, "version", "u", &version))
    return _mpel_peer_protocol_error (conn, "%s",
                                      side == MPEL_PEER_APP
                                        ? _("the worker did not start with HELLO")
                                        : _("the app did not start with HELLO"));

  /* Before the version, which a peer of the other byte order sends
   * swapped (GVariant numbers are in the sender's order; its strings and
   * offsets read the same). Such a peer is refused rather than byteswapped:
   * every payload would have to be, and none of today's machines needs it. */
  if (g_variant_lookup (frame->body, "byte-order", "&s", &byte_order) &&
      strcmp (byte_order, MPEL_PEER_BYTE_ORDER) != 0)
    {
      if (side == MPEL_PEER_APP)
        return _mpel_peer_protocol_error (conn, _("the worker is %s and this app %s: both ends must have the same byte order"),
                                          byte_order, MPEL_PEER_BYTE_ORDER);
      else
        return _mpel_peer_protocol_error (conn, _("the app is %s and this worker %s: both ends must have the same byte order"),
                                          byte_order, MPEL_PEER_BYTE_ORDER);
    }

  if (version != MPEL_PROTOCOL_VERSION)
    {
      if (side == MPEL_PEER_APP)
        return _mpel_peer_protocol_error (conn, _("the worker speaks protocol %u, this app %u"),
                                          version, MPEL_PROTOCOL_VERSION);
      else
        return _mpel_peer_protocol_error (conn, _("the app speaks protocol %u, this worker %u"),
                                          version, MPEL_PROTOCOL_VERSION);
    }

  if (!g_variant_lookup (frame->body, "pid", "i", &pid) || pid < 0)
    pid = 0;
  if (out_pid != NULL)
    *out_pid = pid;

  return TRUE;
}

/* Hands @frame, which came after HELLO, to the handler of its kind. */
gboolean
_mpel_peer_dispatch (const MpelPeerTable *table,
                     MpelConnection      *conn,
                     MpelFrame           *frame,
                     gpointer             owner)
{
  MpelPeerSide other = table->side == MPEL_PEER_APP ? MPEL_PEER_WORKER : MPEL_PEER_APP;

  if (frame->kind < MPEL_FRAME_N_KINDS && table->handlers[frame->kind] != NULL &&
      _mpel_peer_may_send (other, frame->kind))
    return table->handlers[frame->kind] (owner, frame);

  if (table->side == MPEL_PEER_APP)
    return _mpel_peer_protocol_error (conn, _("the worker sent a %s frame"),
                                      _mpel_frame_kind_to_string (frame->kind));
  else
    return _mpel_peer_protocol_error (conn, _("the app sent a %s frame"),
                                      _mpel_frame_kind_to_string (frame->kind));
}
