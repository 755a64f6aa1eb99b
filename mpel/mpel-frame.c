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

typedef struct
{
  gsize kwargs_body, kwargs_end;    /* 0 when absent */
  gsize timeout_body, timeout_end;  /* 0 when absent */
  gsize body, total;
  guint n;
} MetaLayout;

static void
call_meta_layout (MetaLayout *m,
                  GVariant   *kwargs,
                  guint32     timeout)
{
  gsize offset = 0;

  memset (m, 0, sizeof *m);
  if (kwargs != NULL)
    {
      /* Serialised once, in place: kwargs are often one value shared by
       * many events, and a value in tree form is sized and serialised
       * again on every send otherwise. */
      g_variant_get_data (kwargs);
      m->kwargs_body = meta_entry_body (strlen (META_KWARGS_KEY), g_variant_get_size (kwargs),
                                        strlen (g_variant_get_type_string (kwargs)));
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
 * @kwargs, or else the u @timeout. Returns the entry's size. */
static gsize
write_meta_entry (guint8     *dest,
                  gsize       body,
                  const char *key,
                  GVariant   *kwargs,
                  guint32     timeout)
{
  gsize key_len = strlen (key);
  gsize a = MPEL_ALIGN8 (key_len + 1);
  gsize total = container_total_size (body, 1);
  gsize at;

  memcpy (dest, key, key_len + 1);
  memset (dest + key_len + 1, 0, a - (key_len + 1));
  if (kwargs != NULL)
    {
      const char *type = g_variant_get_type_string (kwargs);
      gsize size = g_variant_get_size (kwargs);

      g_variant_store (kwargs, dest + a);
      dest[a + size] = 0;
      memcpy (dest + a + size + 1, type, strlen (type));
      at = a + size + 1 + strlen (type);
    }
  else
    {
      guint32 le = GUINT32_TO_LE (timeout);

      memcpy (dest + a, &le, 4);
      dest[a + 4] = 0;
      dest[a + 5] = 'u';
      at = a + 6;
    }
  g_assert (at == body);
  write_le (dest + body, key_len + 1, total - body);

  return total;
}

void
_mpel_call_meta_write (guint8   *dest,
                       gsize     size,
                       GVariant *kwargs,
                       guint32   timeout)
{
  MetaLayout m;
  gsize w, at = 0;
  guint i = 0;

  call_meta_layout (&m, kwargs, timeout);
  g_assert (m.total == size);
  if (m.n == 0)
    return;

  w = (m.total - m.body) / m.n;
  if (kwargs != NULL)
    at = write_meta_entry (dest, m.kwargs_body, META_KWARGS_KEY, kwargs, 0);
  if (timeout > 0)
    {
      gsize a = MPEL_ALIGN8 (at);

      memset (dest + at, 0, a - at);
      at = a + write_meta_entry (dest + a, m.timeout_body, META_TIMEOUT_KEY, NULL, timeout);
    }
  g_assert (at == m.body);
  if (kwargs != NULL)
    write_le (dest + m.body + w * i++, m.kwargs_end, w);
  if (timeout > 0)
    write_le (dest + m.body + w * i++, m.timeout_end, w);
}

void
_mpel_envelope_layout_call (MpelEnvelopeLayout *layout,
                            const char         *name,
                            GVariant           *body,
                            GVariant           *kwargs,
                            guint32             timeout)
{
  gsize meta_size = _mpel_call_meta_size (kwargs, timeout);

  _mpel_envelope_layout (layout, name, body, NULL);
  if (meta_size == 0)
    return;

  layout->kwargs = kwargs;
  layout->timeout = timeout;
  layout->meta_size = meta_size;
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
    _mpel_call_meta_write (dest + layout.a3, layout.meta_size, layout.kwargs, layout.timeout);
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

  if (end > a3)
    {
      g_autoptr(GBytes) meta_bytes = slice (owner, a3, end - a3);

      frame->meta = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT,
                                                                  meta_bytes, FALSE));
    }

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

/* The value of @key in the a{sv} @dict when it is of @type (definite),
 * or NULL: g_variant_lookup_value() (the first entry with that key) without
 * a GVariant per entry, key and box. The bytes come from the peer and are
 * checked as they are read; the value is handed to GVariant as untrusted
 * data over a slice of @dict's bytes, as the frame's own values are. */
GVariant *
_mpel_vardict_lookup (GVariant           *dict,
                      const char         *key,
                      const GVariantType *type)
{
  const guint8 *data = g_variant_get_data (dict);
  gsize size = g_variant_get_size (dict);
  const char *type_string = g_variant_type_peek_string (type);
  gsize type_len = g_variant_type_get_string_length (type);
  gsize key_len = strlen (key);
  gsize w, table, n, start;

  g_assert (g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT));
  g_assert (g_variant_type_is_definite (type));

  if (size == 0 || data == NULL || ((guintptr) data & 7) != 0)
    return NULL;

  /* An array of variable-size elements: each one's end, in a table at the
   * end whose start the last entry of the table gives. */
  w = offset_size_for_total (size);
  if (size < w)
    return NULL;
  table = read_le (data + size - w, w);
  if (table > size || (size - table) % w != 0)
    return NULL;
  n = (size - table) / w;

  start = 0;
  for (gsize i = 0; i < n; i++)
    {
      gsize end = read_le (data + table + i * w, w);
      const guint8 *entry = data + start;
      gsize entry_size, we, key_end, vs, ve;
      const guint8 *nul = NULL;

      if (end < start || end > table)
        return NULL;
      entry_size = end - start;

      /* {sv}: the key, NUL-terminated; the variant at the next multiple of
       * 8; the key's end in the entry's last bytes. */
      we = offset_size_for_total (entry_size);
      if (entry_size < we)
        return NULL;
      key_end = read_le (entry + entry_size - we, we);
      if (key_end == 0 || key_end > entry_size - we)
        return NULL;

      if (key_end == key_len + 1 && memcmp (entry, key, key_len + 1) == 0)
        {
          g_autoptr(GBytes) bytes = NULL;
          g_autoptr(GBytes) value = NULL;

          vs = MPEL_ALIGN8 (key_end);
          ve = entry_size - we;
          if (vs > ve)
            return NULL;

          /* A variant: the value, a NUL, its type. */
          for (gsize j = ve; j > vs; j--)
            if (entry[j - 1] == '\0')
              {
                nul = entry + j - 1;
                break;
              }
          if (nul == NULL || (gsize) (entry + ve - (nul + 1)) != type_len ||
              memcmp (nul + 1, type_string, type_len) != 0)
            return NULL;

          bytes = g_variant_get_data_as_bytes (dict);
          value = g_bytes_new_from_bytes (bytes, start + vs, nul - (entry + vs));

          return g_variant_ref_sink (g_variant_new_from_bytes (type, value, FALSE));
        }

      start = MPEL_ALIGN8 (end);
    }

  return NULL;
}

void
_mpel_frame_clear (MpelFrame *frame)
{
  g_clear_pointer (&frame->body, g_variant_unref);
  g_clear_pointer (&frame->meta, g_variant_unref);
  g_clear_pointer (&frame->payload, g_bytes_unref);
  frame->name = NULL;
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
