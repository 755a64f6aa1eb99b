/* mpel-frame-private.h: protocol v1 frame kinds, flags and limits, and the
 * envelope codec, shared by both ends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MPEL_PROTOCOL_VERSION        1
#define MPEL_FRAME_HEADER_SIZE       8

/* Inline frames larger than this are a protocol error. */
#define MPEL_DEFAULT_MAX_FRAME       (16u * 1024u * 1024u)
/* Payloads larger than this travel in a sealed memfd. */
#define MPEL_DEFAULT_MEMFD_THRESHOLD (512u * 1024u)
/* The least max-frame a peer may announce in its HELLO */
#define MPEL_MIN_MAX_FRAME           (64u * 1024u)
/* Messages (memfd payloads) larger than this are refused. */
#define MPEL_DEFAULT_MAX_MESSAGE     ((gsize) 1 << 30)
/* Received fds waiting for their frame. */
#define MPEL_MAX_QUEUED_FDS          64

/* Chunks (over a byte stream whose ends both have `chunks`): the second
 * header word of a chunk, the size of what follows the header, the size
 * of the chunks a sender cuts, the most a chunk may carry, and how many
 * messages a sender may have partly sent at once. */
#define MPEL_FRAME_CHUNK_MARK        0xffffffffu
#define MPEL_CHUNK_HEADER_SIZE       16
#define MPEL_CHUNK_SIZE              (1024u * 1024u)
#define MPEL_MAX_CHUNK               (1024u * 1024u)
#define MPEL_MAX_PARTIAL_MESSAGES    4

#define MPEL_ALIGN8(n)               (((n) + 7) & ~(gsize) 7)

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

/* Gives bytes for @len bytes at @offset of what @owner holds, which keep
 * that memory alive. */
typedef GBytes *(*MpelSliceFunc)          (gpointer                  owner,
                                          gsize                     offset,
                                          gsize                     len);

typedef struct
{
  guint8      kind;
  guint32     flags;
  guint64     id;
  const char *name;   /* points into payload; valid while the frame is */
  GVariant   *body;   /* nullable */
  GBytes     *payload;  /* NULL when parsed in place */
  /* The meta as received: an a{sv} of meta_size bytes at meta_offset in
   * data (0 bytes for none), read in place by _mpel_frame_lookup_meta() and
   * made a GVariant only by _mpel_frame_get_meta(), over slice (owner, …).
   * Valid while the frame is. */
  const guint8  *data;
  gsize          meta_offset, meta_size;
  MpelSliceFunc  slice;
  gpointer       owner;
  GVariant      *meta;  /* private: see _mpel_frame_get_meta() */
} MpelFrame;

/* Where each part of one envelope goes, computed once for the values it
 * carries: the connection sizes a frame with it, then writes the frame
 * where it belongs (its write buffer or a shared buffer). */
/* A CALL's meta from its parts (see _mpel_call_meta_size()), laid out
 * once per frame: the kwargs' bytes are taken from the value once. */
typedef struct
{
  const guint8 *kwargs_data;      /* NULL when there are no kwargs */
  gsize         kwargs_size;
  const char   *kwargs_type;
  gsize         kwargs_type_len;
  guint32       timeout;
  gsize         kwargs_body, kwargs_end;    /* 0 when absent */
  gsize         timeout_body, timeout_end;  /* 0 when absent */
  gsize         body, total;
  guint         n;
} MpelMetaLayout;

typedef struct
{
  const char *name;        /* never NULL */
  GVariant   *body;        /* never NULL */
  GVariant   *meta;        /* nullable */
  GVariant   *kwargs;      /* nullable: with timeout, the meta when meta is NULL */
  guint32     timeout;
  MpelMetaLayout call_meta;  /* when kwargs or timeout */
  const char *body_type;
  gsize       body_type_len;
  gsize       e1, a2, body_size, e2, a3, meta_size, e3, w, total;
} MpelEnvelopeLayout;

const char *_mpel_frame_kind_to_string    (guint8                    kind);

gsize       _mpel_envelope_size           (const char               *name,
                                          GVariant                 *body,
                                          GVariant                 *meta);
void        _mpel_envelope_write          (guint8                   *dest,
                                          gsize                     size,
                                          guint8                    kind,
                                          guint32                   flags,
                                          guint64                   id,
                                          const char               *name,
                                          GVariant                 *body,
                                          GVariant                 *meta);
gboolean    _mpel_envelope_parse          (GBytes                   *payload,
                                          MpelFrame                *frame,
                                          GError                  **error);
gboolean    _mpel_envelope_parse_data    (const guint8             *data,
                                          gsize                     size,
                                          MpelSliceFunc             slice,
                                          gpointer                  owner,
                                          MpelFrame                *frame,
                                          GError                  **error);
void        _mpel_frame_clear             (MpelFrame                *frame);
GVariant   *_mpel_frame_get_meta         (MpelFrame                *frame);
GVariant   *_mpel_frame_lookup_meta      (MpelFrame                *frame,
                                          const char               *key,
                                          const GVariantType       *type);
GVariant   *_mpel_vardict_lookup         (GVariant                 *dict,
                                          const char               *key,
                                          const GVariantType       *type);

/* How an in-place look-up in an a{sv} from the peer went */
typedef enum
{
  MPEL_VARDICT_FOUND,
  MPEL_VARDICT_ABSENT,
  MPEL_VARDICT_MALFORMED,
} MpelVardictResult;

MpelVardictResult _mpel_vardict_lookup_any (GVariant           *dict,
                                            const char         *key,
                                            GVariant          **value);
gboolean    _mpel_vardict_check          (GVariant                 *dict);
MpelVardictResult _mpel_vardict_bytes_lookup (GBytes            *dict,
                                              const char        *key,
                                              const GVariantType *type,
                                              GVariant         **value);
gboolean    _mpel_vardict_bytes_check    (GBytes                   *dict);
GBytes     *_mpel_frame_lookup_meta_bytes (MpelFrame               *frame,
                                          const char               *key,
                                          const GVariantType       *type);

/* @name and @body may be NULL; the layout refers to them (or to the
 * values that stand for them) and is valid while they are. */
void        _mpel_envelope_layout        (MpelEnvelopeLayout       *layout,
                                          const char               *name,
                                          GVariant                 *body,
                                          GVariant                 *meta);
void        _mpel_envelope_write_layout  (guint8                   *dest,
                                          const MpelEnvelopeLayout *layout,
                                          guint8                    kind,
                                          guint32                   flags,
                                          guint64                   id);

/* The meta of a CALL written from its parts, with no GVariantDict: the
 * a{sv} of "kwargs" (@kwargs, when not NULL) and "timeout" (u, when
 * @timeout > 0), in that order; 0 bytes when there is neither. */
gsize       _mpel_call_meta_size         (GVariant                 *kwargs,
                                          guint32                   timeout);
void        _mpel_call_meta_write        (guint8                   *dest,
                                          gsize                     size,
                                          GVariant                 *kwargs,
                                          guint32                   timeout);
/* _mpel_envelope_layout() for a CALL whose meta is given by its parts */
void        _mpel_envelope_layout_call   (MpelEnvelopeLayout       *layout,
                                          const char               *name,
                                          GVariant                 *body,
                                          GVariant                 *kwargs,
                                          guint32                   timeout);

GVariant   *_mpel_error_to_variant        (const GError             *error);
GError     *_mpel_error_from_variant      (GVariant                 *body);

/* Sets a protocol error ("Protocol error: @what") and returns FALSE. */
gboolean    _mpel_protocol_error         (GError                  **error,
                                          const char               *what);

G_END_DECLS
