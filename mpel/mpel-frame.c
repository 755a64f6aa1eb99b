/* mpel-frame.c: protocol v1 frames: the envelope codec
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "mpel-types.h"
#include "mpel-frame-private.h"

#define MAX_PEER_QUARKS 256

/* Envelope codec.
 *
 * The payload is the GVariant serialisation of (yutsva{sv}). Building it
 * with g_variant_new() would parse a format string and allocate a tree of
 * six values for every frame; writing the bytes directly costs one pass.
 * The layout (GVariant spec, "Structures"):
 *
 *   0   y kind, 3 bytes padding
 *   4   u flags
 *   8   t id
 *   16  s name, NUL-terminated                      ends at e1
 *   a2  v body: data, NUL, type string (a2 = align8 (e1)) ends at e2
 *   a3  a{sv} meta (a3 = align8 (e2))                ends at e3
 *   e3  framing offsets of e2 then e1, each w bytes, little-endian
 *
 * w is the smallest of 1, 2, 4, 8 that can address the whole payload.
 * test-frame checks the result byte for byte against GLib's serialiser.
 */

static inline gsize
offset_size_for_body (gsize body_size)
{
  if (body_size + 2 * 1 <= G_MAXUINT8)
    return 1;
  if (body_size + 2 * 2 <= G_MAXUINT16)
    return 2;
  if (body_size + 2 * 4 <= G_MAXUINT32)
    return 4;
  return 8;
}

static inline gsize
offset_size_for_total (gsize total)
{
  if (total <= G_MAXUINT8)
    return 1;
  if (total <= G_MAXUINT16)
    return 2;
  if (total <= G_MAXUINT32)
    return 4;
  return 8;
}

static inline void
write_le (guint8 *dest,
          gsize   value,
          gsize   size)
{
  for (gsize i = 0; i < size; i++)
    {
      dest[i] = value & 0xff;
      value >>= 8;
    }
}

static inline gsize
read_le (const guint8 *src,
         gsize         size)
{
  gsize value = 0;

  for (gsize i = size; i > 0; i--)
    value = (value << 8) | src[i - 1];

  return value;
}

static GVariant *
unit_variant (void)
{
  static GVariant *unit;

  if (g_once_init_enter (&unit))
    g_once_init_leave (&unit, g_variant_ref_sink (g_variant_new_tuple (NULL, 0)));

  return unit;
}

/* GVariant's rule for a container of @body_size bytes with @n_offsets
 * framing offsets after it. */
static inline gsize
container_total_size (gsize body_size,
                      gsize n_offsets)
{
  if (body_size + 1 * n_offsets <= G_MAXUINT8)
    return body_size + 1 * n_offsets;
  if (body_size + 2 * n_offsets <= G_MAXUINT16)
    return body_size + 2 * n_offsets;
  if (body_size + 4 * n_offsets <= G_MAXUINT32)
    return body_size + 4 * n_offsets;
  return body_size + 8 * n_offsets;
}

/* Meta written from parts.
 *
 * An a{sv} is an array of variable-size {sv} entries, each aligned to 8,
 * followed by the end offset of every entry. An entry is its key with its
 * NUL, the variant aligned to 8 (value, NUL, type string), then the end of
 * the key as its one framing offset. Offset sizes follow the same rule as
 * every GVariant container (container_total_size()). test-frame compares
 * the result with GLib's serialiser byte for byte. */

#define META_KWARGS_KEY  "kwargs"
#define META_TIMEOUT_KEY "timeout"

static inline gsize
meta_entry_body (gsize key_len,
                 gsize value_size,
                 gsize type_len)
{
  return MPEL_ALIGN8 (key_len + 1) + value_size + 1 + type_len;
}

typedef MpelMetaLayout MetaLayout;

static void
call_meta_layout (MetaLayout *m,
                  GVariant   *kwargs,
                  guint32     timeout)
{
  gsize offset = 0;

  memset (m, 0, sizeof *m);
  m->timeout = timeout;
  if (kwargs != NULL)
    {
      /* Serialised once, in place: kwargs are often one value shared by
       * many events, and a value in tree form is sized and serialised
       * again on every send otherwise. Its bytes are copied as they are. */
      m->kwargs_data = g_variant_get_data (kwargs);
      m->kwargs_size = g_variant_get_size (kwargs);
      m->kwargs_type = g_variant_get_type_string (kwargs);
      m->kwargs_type_len = strlen (m->kwargs_type);
      m->kwargs_body = meta_entry_body (strlen (META_KWARGS_KEY), m->kwargs_size, m->kwargs_type_len);
      offset += container_total_size (m->kwargs_body, 1);
      m->kwargs_end = offset;
      m->n++;
    }
  if (timeout > 0)
    {
      offset = MPEL_ALIGN8 (offset);
      m->timeout_body = meta_entry_body (strlen (META_TIMEOUT_KEY), 4, 1);
      offset += container_total_size (m->timeout_body, 1);
      m->timeout_end = offset;
      m->n++;
    }
  m->body = offset;
  m->total = m->n > 0 ? container_total_size (offset, m->n) : 0;
}

gsize
_mpel_call_meta_size (GVariant *kwargs,
                      guint32   timeout)
{
  MetaLayout m;

  call_meta_layout (&m, kwargs, timeout);

  return m.total;
}

/* Writes one {sv} entry at @dest whose body is @body bytes; the value is
 * the kwargs of @m when @kwargs, or else its u timeout. Returns the
 * entry's size. */
static gsize
write_meta_entry (guint8           *dest,
                  gsize             body,
                  const char       *key,
                  gsize             key_len,
                  const MetaLayout *m,
                  gboolean          kwargs)
{
  gsize a = MPEL_ALIGN8 (key_len + 1);
  gsize total = container_total_size (body, 1);
  gsize at;

  memcpy (dest, key, key_len + 1);
  memset (dest + key_len + 1, 0, a - (key_len + 1));
  if (kwargs)
    {
      if (m->kwargs_size > 0)
        memcpy (dest + a, m->kwargs_data, m->kwargs_size);
      dest[a + m->kwargs_size] = 0;
      memcpy (dest + a + m->kwargs_size + 1, m->kwargs_type, m->kwargs_type_len);
      at = a + m->kwargs_size + 1 + m->kwargs_type_len;
    }
  else
    {
      guint32 le = GUINT32_TO_LE (m->timeout);

      memcpy (dest + a, &le, 4);
      dest[a + 4] = 0;
      dest[a + 5] = 'u';
      at = a + 6;
    }
  g_assert (at == body);
  write_le (dest + body, key_len + 1, total - body);

  return total;
}

static void
call_meta_write (guint8           *dest,
                 const MetaLayout *m)
{
  gsize w, at = 0;
  guint i = 0;

  if (m->n == 0)
    return;

  w = (m->total - m->body) / m->n;
  if (m->kwargs_data != NULL)
    at = write_meta_entry (dest, m->kwargs_body, META_KWARGS_KEY, strlen (META_KWARGS_KEY), m, TRUE);
  if (m->timeout > 0)
    {
      gsize a = MPEL_ALIGN8 (at);

      memset (dest + at, 0, a - at);
      at = a + write_meta_entry (dest + a, m->timeout_body, META_TIMEOUT_KEY, strlen (META_TIMEOUT_KEY),
                                 m, FALSE);
    }
  g_assert (at == m->body);
  if (m->kwargs_data != NULL)
    write_le (dest + m->body + w * i++, m->kwargs_end, w);
  if (m->timeout > 0)
    write_le (dest + m->body + w * i++, m->timeout_end, w);
}

void
_mpel_call_meta_write (guint8   *dest,
                       gsize     size,
                       GVariant *kwargs,
                       guint32   timeout)
{
  MetaLayout m;

  call_meta_layout (&m, kwargs, timeout);
  g_assert (m.total == size);
  call_meta_write (dest, &m);
}

void
_mpel_envelope_layout_call (MpelEnvelopeLayout *layout,
                            const char         *name,
                            GVariant           *body,
                            GVariant           *kwargs,
                            guint32             timeout)
{
  _mpel_envelope_layout (layout, name, body, NULL);
  if (kwargs == NULL && timeout == 0)
    return;

  call_meta_layout (&layout->call_meta, kwargs, timeout);
  layout->kwargs = kwargs;
  layout->timeout = timeout;
  layout->meta_size = layout->call_meta.total;
  layout->e3 = layout->a3 + layout->meta_size;
  layout->w = offset_size_for_body (layout->e3);
  layout->total = layout->e3 + 2 * layout->w;
}

void
_mpel_envelope_layout (MpelEnvelopeLayout *layout,
                       const char         *name,
                       GVariant           *body,
                       GVariant           *meta)
{
  if (name == NULL)
    name = "";
  if (body == NULL)
    body = unit_variant ();

  layout->name = name;
  layout->body = body;
  layout->meta = meta;
  layout->kwargs = NULL;
  layout->timeout = 0;
  layout->e1 = 16 + strlen (name) + 1;
  layout->a2 = MPEL_ALIGN8 (layout->e1);
  layout->body_size = g_variant_get_size (body);
  layout->body_type = g_variant_get_type_string (body);
  layout->body_type_len = strlen (layout->body_type);
  layout->e2 = layout->a2 + layout->body_size + 1 + layout->body_type_len;
  layout->a3 = MPEL_ALIGN8 (layout->e2);
  layout->meta_size = meta != NULL ? g_variant_get_size (meta) : 0;
  layout->e3 = layout->a3 + layout->meta_size;
  layout->w = offset_size_for_body (layout->e3);
  layout->total = layout->e3 + 2 * layout->w;
}

/* Writes the envelope whose @layout was computed for its values. */
void
_mpel_envelope_write_layout (guint8                   *dest,
                             const MpelEnvelopeLayout *layout_,
                             guint8                    kind,
                             guint32                   flags,
                             guint64                   id)
{
  const MpelEnvelopeLayout layout = *layout_;

  dest[0] = kind;
  dest[1] = dest[2] = dest[3] = 0;
  memcpy (dest + 4, &flags, 4);
  memcpy (dest + 8, &id, 8);
  memcpy (dest + 16, layout.name, layout.e1 - 16);
  memset (dest + layout.e1, 0, layout.a2 - layout.e1);
  g_variant_store (layout.body, dest + layout.a2);
  dest[layout.a2 + layout.body_size] = 0;
  memcpy (dest + layout.a2 + layout.body_size + 1, layout.body_type, layout.body_type_len);
  memset (dest + layout.e2, 0, layout.a3 - layout.e2);
  if (layout.meta != NULL)
    g_variant_store (layout.meta, dest + layout.a3);
  else if (layout.meta_size > 0)
    call_meta_write (dest + layout.a3, &layout.call_meta);
  write_le (dest + layout.e3, layout.e2, layout.w);
  write_le (dest + layout.e3 + layout.w, layout.e1, layout.w);
}

gsize
_mpel_envelope_size (const char *name,
                    GVariant   *body,
                    GVariant   *meta)
{
  MpelEnvelopeLayout layout;

  _mpel_envelope_layout (&layout, name, body, meta);

  return layout.total;
}

void
_mpel_envelope_write (guint8     *dest,
                     gsize       size,
                     guint8      kind,
                     guint32     flags,
                     guint64     id,
                     const char *name,
                     GVariant   *body,
                     GVariant   *meta)
{
  MpelEnvelopeLayout layout;

  _mpel_envelope_layout (&layout, name, body, meta);
  g_assert (layout.total == size);
  _mpel_envelope_write_layout (dest, &layout, kind, flags, id);
}

const char *
_mpel_frame_kind_to_string (guint8 kind)
{
  switch (kind)
    {
    case MPEL_FRAME_HELLO: return "HELLO";
    case MPEL_FRAME_CALL: return "CALL";
    case MPEL_FRAME_RETURN: return "RETURN";
    case MPEL_FRAME_ERROR: return "ERROR";
    case MPEL_FRAME_ITEM: return "ITEM";
    case MPEL_FRAME_CANCEL: return "CANCEL";
    case MPEL_FRAME_NOTIFY: return "NOTIFY";
    case MPEL_FRAME_STOP: return "STOP";
    default: return "unknown";
    }
}

gboolean
_mpel_protocol_error (GError     **error,
                      const char  *what)
{
  g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
               _("Protocol error: %s"), what);
  return FALSE;
}

/* Parses the v at [a2, e2): the last NUL separates the value from its
 * type. Sets frame->body. */
static gboolean
parse_body (const guint8    *data,
            MpelSliceFunc    slice,
            gpointer         owner,
            gsize            a2,
            gsize            e2,
            MpelFrame       *frame,
            GError         **error)
{
  const guint8 *nul = NULL;
  const char *type_start;
  const char *type_end = NULL;
  gsize type_len;
  g_autoptr(GBytes) body_bytes = NULL;

  for (gsize i = e2; i > a2; i--)
    if (data[i - 1] == '\0')
      {
        nul = data + i - 1;
        break;
      }
  if (nul == NULL || (gsize) (data + e2 - nul) < 2)
    return _mpel_protocol_error (error, _("the body has no type"));

  type_start = (const char *) nul + 1;
  type_len = data + e2 - (const guint8 *) type_start;

  /* A GVariantType is its type string, which need not be terminated:
   * once scanned, the bytes in the payload serve as they are. */
  if (!g_variant_type_string_scan (type_start, type_start + type_len, &type_end) ||
      type_end != type_start + type_len)
    return _mpel_protocol_error (error, _("the body's type is not valid"));

  if (!g_variant_type_is_definite ((const GVariantType *) type_start))
    return _mpel_protocol_error (error, _("the body's type is not definite"));

  body_bytes = slice (owner, a2, nul - (data + a2));
  frame->body = g_variant_ref_sink (g_variant_new_from_bytes ((const GVariantType *) type_start,
                                                              body_bytes, FALSE));

  return TRUE;
}

static GBytes *
slice_payload (gpointer owner,
               gsize    offset,
               gsize    len)
{
  return g_bytes_new_from_bytes (owner, offset, len);
}

/* Parses an envelope received from the peer. Nothing in it is trusted:
 * every offset is checked before it is used, and the values inside are
 * handed to GVariant as untrusted data. */
gboolean
_mpel_envelope_parse (GBytes     *payload,
                     MpelFrame  *frame,
                     GError    **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (payload, &size);

  if (!_mpel_envelope_parse_data (data, size, slice_payload, payload, frame, error))
    return FALSE;

  frame->payload = g_bytes_ref (payload);

  return TRUE;
}

/* _mpel_envelope_parse() over @size bytes at @data, which the caller keeps
 * alive while the frame is (frame->name points into them; frame->payload is
 * NULL). The body and meta are made over @slice (@owner, offset, length),
 * which gives bytes that keep their memory alive. */
gboolean
_mpel_envelope_parse_data (const guint8   *data,
                           gsize           size,
                           MpelSliceFunc   slice,
                           gpointer        owner,
                           MpelFrame      *frame,
                           GError        **error)
{
  gsize w, end, e1, a2, e2, a3;

  memset (frame, 0, sizeof *frame);

  if (size < 16 + 1 + 4 + 2)
    return _mpel_protocol_error (error, _("the envelope is too short"));
  if (((guintptr) data & 7) != 0)
    return _mpel_protocol_error (error, _("the envelope is not aligned"));

  w = offset_size_for_total (size);
  end = size - 2 * w;
  e1 = read_le (data + size - w, w);
  e2 = read_le (data + size - 2 * w, w);

  if (e1 < 17 || e1 > end || e2 > end)
    return _mpel_protocol_error (error, _("a framing offset is out of range"));

  a2 = MPEL_ALIGN8 (e1);
  if (a2 > e2 || e2 - a2 < 2)
    return _mpel_protocol_error (error, _("the body is malformed"));
  a3 = MPEL_ALIGN8 (e2);
  if (a3 > end)
    return _mpel_protocol_error (error, _("the metadata is malformed"));

  /* name: NUL-terminated exactly at e1, UTF-8, no NUL inside */
  if (data[e1 - 1] != '\0' || memchr (data + 16, '\0', e1 - 17) != NULL ||
      !g_utf8_validate ((const char *) data + 16, e1 - 17, NULL))
    return _mpel_protocol_error (error, _("the target name is not a valid string"));

  if (!parse_body (data, slice, owner, a2, e2, frame, error))
    return FALSE;

  /* The meta stays bytes until someone asks: most frames carry none, and
   * a CALL's kwargs are looked up in place (_mpel_frame_lookup_meta()). */
  frame->data = data;
  frame->meta_offset = a3;
  frame->meta_size = end - a3;
  frame->slice = slice;
  frame->owner = owner;

  frame->kind = data[0];
  memcpy (&frame->flags, data + 4, 4);
  memcpy (&frame->id, data + 8, 8);
  frame->name = (const char *) data + 16;

  if (frame->kind < MPEL_FRAME_HELLO || frame->kind > MPEL_FRAME_STOP)
    {
      g_autofree char *what = g_strdup_printf (_("unknown frame kind %u"), frame->kind);

      _mpel_frame_clear (frame);
      return _mpel_protocol_error (error, what);
    }

  return TRUE;
}

/* In-place look-ups in an a{sv} from the peer.
 *
 * An array of variable-size elements: each one's end, in a table at the
 * end whose start the last entry of the table gives. Each {sv} entry is the
 * key, NUL-terminated; the variant at the next multiple of 8 (the value, a
 * NUL, its type); the key's end in the entry's last bytes. Every offset is
 * checked before it is used. */

typedef struct
{
  gsize       value_offset;  /* from the start of the dict */
  gsize       value_len;
  const char *type;          /* not terminated */
  gsize       type_len;
} VardictEntry;

/* Reads the framing of entry @i of the n in the dict at @data, which
 * starts at *start (updated to the next entry). Sets @key, @key_len and
 * the variant's extent [*vs, *ve) relative to @data. FALSE if malformed. */
static gboolean
vardict_entry (const guint8 *data,
               gsize         table,
               gsize         w,
               gsize         i,
               gsize        *start,
               const char  **key,
               gsize        *key_len,
               gsize        *vs,
               gsize        *ve)
{
  gsize end = read_le (data + table + i * w, w);
  gsize entry_size, we, key_end;

  if (end < *start || end > table)
    return FALSE;
  entry_size = end - *start;

  we = offset_size_for_total (entry_size);
  if (entry_size < we)
    return FALSE;
  key_end = read_le (data + *start + entry_size - we, we);
  if (key_end == 0 || key_end > entry_size - we || data[*start + key_end - 1] != '\0')
    return FALSE;

  *key = (const char *) data + *start;
  *key_len = key_end - 1;
  *vs = *start + MPEL_ALIGN8 (key_end);
  *ve = end - we;
  if (*vs > *ve)
    return FALSE;
  *start = MPEL_ALIGN8 (end);

  return TRUE;
}

/* Splits the variant at [vs, ve) of @data into its value and its type
 * (the bytes after the last NUL). FALSE if there is no NUL. */
static gboolean
vardict_variant (const guint8 *data,
                 gsize         vs,
                 gsize         ve,
                 VardictEntry *found)
{
  for (gsize j = ve; j > vs; j--)
    if (data[j - 1] == '\0')
      {
        found->value_offset = vs;
        found->value_len = j - 1 - vs;
        found->type = (const char *) data + j;
        found->type_len = ve - j;
        return TRUE;
      }

  return FALSE;
}

/* Finds the first entry of @key in the @size bytes of a{sv} at @data:
 * g_variant_lookup_value()'s rule, without a GVariant per entry, key and
 * box. */
static MpelVardictResult
vardict_find (const guint8 *data,
              gsize         size,
              const char   *key,
              VardictEntry *found)
{
  gsize key_len = strlen (key);
  gsize w, table, n, start = 0;

  if (size == 0)
    return MPEL_VARDICT_ABSENT;
  if (data == NULL || ((guintptr) data & 7) != 0)
    return MPEL_VARDICT_MALFORMED;

  w = offset_size_for_total (size);
  if (size < w)
    return MPEL_VARDICT_MALFORMED;
  table = read_le (data + size - w, w);
  if (table > size || (size - table) % w != 0)
    return MPEL_VARDICT_MALFORMED;
  n = (size - table) / w;

  for (gsize i = 0; i < n; i++)
    {
      const char *entry_key;
      gsize entry_key_len, vs, ve;

      if (!vardict_entry (data, table, w, i, &start, &entry_key, &entry_key_len, &vs, &ve))
        return MPEL_VARDICT_MALFORMED;
      if (entry_key_len == key_len && memcmp (entry_key, key, key_len) == 0)
        return vardict_variant (data, vs, ve, found) ? MPEL_VARDICT_FOUND : MPEL_VARDICT_MALFORMED;
    }

  return MPEL_VARDICT_ABSENT;
}

/* Whether @found's type is one definite type, all of its bytes. */
static gboolean
vardict_type_valid (const VardictEntry *found)
{
  const char *type_end = NULL;

  return found->type_len > 0 &&
         g_variant_type_string_scan (found->type, found->type + found->type_len, &type_end) &&
         type_end == found->type + found->type_len &&
         g_variant_type_is_definite ((const GVariantType *) found->type);
}

/* The look-up behind every one below: @key in the @size bytes of a{sv} at
 * @data, of @type (definite; NULL for its own type, which is then checked);
 * the value found is made over slice (@owner, offset, length), as
 * untrusted data. */
static MpelVardictResult
vardict_lookup_data (const guint8        *data,
                     gsize                size,
                     const char          *key,
                     const GVariantType  *type,
                     MpelSliceFunc        slice,
                     gpointer             owner,
                     GVariant           **value)
{
  g_autoptr(GBytes) bytes = NULL;
  VardictEntry found;
  MpelVardictResult result;

  *value = NULL;
  result = vardict_find (data, size, key, &found);
  if (result != MPEL_VARDICT_FOUND)
    return result;

  if (type == NULL)
    {
      if (!vardict_type_valid (&found))
        return MPEL_VARDICT_MALFORMED;
      type = (const GVariantType *) found.type;
    }
  else if (found.type_len != g_variant_type_get_string_length (type) ||
           memcmp (found.type, g_variant_type_peek_string (type), found.type_len) != 0)
    return MPEL_VARDICT_ABSENT;  /* of another type: none, as in GLib */

  bytes = slice (owner, found.value_offset, found.value_len);
  *value = g_variant_ref_sink (g_variant_new_from_bytes (type, bytes, FALSE));

  return MPEL_VARDICT_FOUND;
}

static GBytes *
slice_variant (gpointer owner,
               gsize    offset,
               gsize    len)
{
  g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (owner);

  return g_bytes_new_from_bytes (bytes, offset, len);
}

static GBytes *
slice_bytes (gpointer owner,
             gsize    offset,
             gsize    len)
{
  return g_bytes_new_from_bytes (owner, offset, len);
}

/* The value of @key in the a{sv} @dict when it is of @type (definite),
 * or NULL; see vardict_find(). */
GVariant *
_mpel_vardict_lookup (GVariant           *dict,
                      const char         *key,
                      const GVariantType *type)
{
  GVariant *value;

  /* Asserted cheaply: this is on every call's path. */
  g_assert (strcmp (g_variant_get_type_string (dict), "a{sv}") == 0);
  g_assert (type != NULL);

  vardict_lookup_data (g_variant_get_data (dict), g_variant_get_size (dict), key, type,
                       slice_variant, dict, &value);

  return value;
}

/* The value of @key in the a{sv} @dict, of whatever type it has: sets
 * @value (a new reference) and returns MPEL_VARDICT_FOUND; otherwise
 * leaves it NULL and says whether @key is absent or the dict, or the
 * variant of @key, is malformed (no valid type, say). */
MpelVardictResult
_mpel_vardict_lookup_any (GVariant   *dict,
                          const char *key,
                          GVariant  **value)
{
  g_assert (strcmp (g_variant_get_type_string (dict), "a{sv}") == 0);

  return vardict_lookup_data (g_variant_get_data (dict), g_variant_get_size (dict), key, NULL,
                              slice_variant, dict, value);
}

/* The same in an a{sv} that is still bytes (@dict, aligned to 8): @type
 * as in _mpel_vardict_lookup(), or NULL as in _mpel_vardict_lookup_any(). */
MpelVardictResult
_mpel_vardict_bytes_lookup (GBytes              *dict,
                            const char          *key,
                            const GVariantType  *type,
                            GVariant           **value)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (dict, &size);

  return vardict_lookup_data (data, size, key, type, slice_bytes, dict, value);
}

static gboolean
vardict_check_data (const guint8 *data,
                    gsize         size)
{
  gsize w, table, n, start = 0;

  if (size == 0)
    return TRUE;
  if (data == NULL || ((guintptr) data & 7) != 0)
    return FALSE;

  w = offset_size_for_total (size);
  if (size < w)
    return FALSE;
  table = read_le (data + size - w, w);
  if (table > size || (size - table) % w != 0)
    return FALSE;
  n = (size - table) / w;
  /* A dict that is not empty has a table. */
  if (n == 0)
    return FALSE;

  for (gsize i = 0; i < n; i++)
    {
      VardictEntry entry;
      const char *key;
      gsize key_len, vs, ve;

      if (!vardict_entry (data, table, w, i, &start, &key, &key_len, &vs, &ve) ||
          memchr (key, '\0', key_len) != NULL || !g_utf8_validate (key, key_len, NULL) ||
          !vardict_variant (data, vs, ve, &entry) || !vardict_type_valid (&entry))
        return FALSE;
    }

  return TRUE;
}

/* Whether the framing of the a{sv} @dict holds: every entry's offsets in
 * range, every key NUL-terminated UTF-8, every value of one definite type.
 * The values themselves are left to GVariant, which reads untrusted data
 * safely. No allocation. */
gboolean
_mpel_vardict_check (GVariant *dict)
{
  return vardict_check_data (g_variant_get_data (dict), g_variant_get_size (dict));
}

/* _mpel_vardict_check() of an a{sv} that is still bytes */
gboolean
_mpel_vardict_bytes_check (GBytes *dict)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (dict, &size);

  return vardict_check_data (data, size);
}

/* The frame's meta as an a{sv} (untrusted, over a slice of the frame's
 * bytes), or NULL when it has none. Made on the first call; owned by the
 * frame. */
GVariant *
_mpel_frame_get_meta (MpelFrame *frame)
{
  if (frame->meta == NULL && frame->meta_size > 0)
    {
      g_autoptr(GBytes) bytes = frame->slice (frame->owner, frame->meta_offset, frame->meta_size);

      frame->meta = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
    }

  return frame->meta;
}

static GBytes *
slice_frame_meta (gpointer owner,
                  gsize    offset,
                  gsize    len)
{
  MpelFrame *frame = owner;

  return frame->slice (frame->owner, frame->meta_offset + offset, len);
}

/* _mpel_vardict_lookup() in the frame's meta, read where it lies: only the
 * value found becomes a GVariant, over a slice of the frame's bytes. */
GVariant *
_mpel_frame_lookup_meta (MpelFrame          *frame,
                         const char         *key,
                         const GVariantType *type)
{
  GVariant *value = NULL;

  if (frame->meta_size > 0)
    vardict_lookup_data (frame->data + frame->meta_offset, frame->meta_size, key, type,
                         slice_frame_meta, frame, &value);

  return value;
}

/* The bytes of the value of @key in the frame's meta, when its type is
 * @type (definite), or NULL: a slice of the frame's bytes, aligned as the
 * value is, and no GVariant. */
GBytes *
_mpel_frame_lookup_meta_bytes (MpelFrame          *frame,
                               const char         *key,
                               const GVariantType *type)
{
  VardictEntry found;

  if (frame->meta_size == 0 ||
      vardict_find (frame->data + frame->meta_offset, frame->meta_size, key, &found) != MPEL_VARDICT_FOUND ||
      found.type_len != g_variant_type_get_string_length (type) ||
      memcmp (found.type, g_variant_type_peek_string (type), found.type_len) != 0)
    return NULL;

  return slice_frame_meta (frame, found.value_offset, found.value_len);
}

void
_mpel_frame_clear (MpelFrame *frame)
{
  g_clear_pointer (&frame->body, g_variant_unref);
  g_clear_pointer (&frame->meta, g_variant_unref);
  g_clear_pointer (&frame->payload, g_bytes_unref);
  frame->name = NULL;
  frame->data = NULL;
  frame->meta_size = 0;
}

GVariant *
_mpel_error_to_variant (const GError *error)
{
  return g_variant_new ("(sis)",
                        g_quark_to_string (error->domain),
                        error->code,
                        error->message ? error->message : "");
}

/* Re-creates an error sent by the peer. The domain is looked up as a quark
 * so that g_error_matches() works across the wire; a peer may create only a
 * bounded number of new quarks, as quarks are never freed. */
GError *
_mpel_error_from_variant (GVariant *body)
{
  static guint n_peer_quarks;
  const char *domain = NULL;
  const char *message = NULL;
  gint32 code = 0;
  GQuark quark;

  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(sis)")))
    return g_error_new (MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                        _("Protocol error: an ERROR frame does not carry (sis)"));

  g_variant_get (body, "(&si&s)", &domain, &code, &message);

  quark = g_quark_try_string (domain);
  if (quark == 0 && domain[0] != '\0' && strlen (domain) <= 128 &&
      g_atomic_int_add (&n_peer_quarks, 1) < MAX_PEER_QUARKS)
    quark = g_quark_from_string (domain);

  if (quark == 0)
    return g_error_new (MPEL_ERROR, MPEL_ERROR_FAILED, "%s: %s", domain, message);

  return g_error_new_literal (quark, code, message);
}
