/* bench-frames.h: protocol v1 frames (DESIGN §2) with blocking I/O and no
 * objects beyond the GVariants — the old "raw" loop, an anchor (not a bound:
 * bench-bound.h is).
 *
 * A frame is an 8-byte header (u32 LE payload length, u32 LE number of fds,
 * always 0 here) followed by the payload, a GVariant of type (yutsva{sv}) in
 * normal form, padded with zeros to a multiple of 8.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <unistd.h>

#include "bench-common.h"

#define BENCH_ALIGN8(n) (((n) + 7) & ~(gsize) 7)
/* Frames bigger than this get a buffer of their own: no extra copy. */
#define BENCH_BIG_FRAME (256 * 1024)

static void
bench_write_all (int         fd,
                 const void *data,
                 gsize       len)
{
  const guint8 *p = data;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        bench_die ("write: %s", g_strerror (errno));
      p += n;
      len -= n;
    }
}

static gboolean
bench_read_all (int    fd,
                void  *data,
                gsize  len)
{
  guint8 *p = data;

  while (len > 0)
    {
      ssize_t n = read (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        bench_die ("read: %s", g_strerror (errno));
      if (n == 0)
        return FALSE;
      p += n;
      len -= n;
    }
  return TRUE;
}

/* ---- writing ---------------------------------------------------------- */

typedef struct
{
  guint8 *data;
  gsize len;
  gsize cap;
} BenchOut;

static void
bench_out_reserve (BenchOut *out,
                   gsize     extra)
{
  if (out->len + extra <= out->cap)
    return;
  while (out->len + extra > out->cap)
    out->cap = out->cap ? out->cap * 2 : 64 * 1024;
  out->data = g_realloc (out->data, out->cap);
}

static GVariant *
bench_empty_meta (void)
{
  static GVariant *meta;

  if (meta == NULL)
    meta = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  return meta;
}

/* Appends one frame to @out. Takes @body: a floating value is sunk, a full
 * reference is given up. */
static void
bench_out_frame (BenchOut   *out,
                 guint8      kind,
                 guint32     flags,
                 guint64     id,
                 const char *name,
                 GVariant   *body)
{
  GVariant *children[6];
  GVariant *envelope;
  gsize size, padded;
  guint32 header[2];

  children[0] = g_variant_new_byte (kind);
  children[1] = g_variant_new_uint32 (flags);
  children[2] = g_variant_new_uint64 (id);
  children[3] = g_variant_new_string (name);
  if (g_variant_is_floating (body))
    g_variant_ref_sink (body);
  children[4] = g_variant_new_variant (body);
  children[5] = bench_empty_meta ();
  envelope = g_variant_ref_sink (g_variant_new_tuple (children, 6));

  size = g_variant_get_size (envelope);
  padded = BENCH_ALIGN8 (size);
  bench_out_reserve (out, 8 + padded);
  header[0] = GUINT32_TO_LE ((guint32) size);
  header[1] = 0;
  memcpy (out->data + out->len, header, 8);
  g_variant_store (envelope, out->data + out->len + 8);
  memset (out->data + out->len + 8 + size, 0, padded - size);
  out->len += 8 + padded;
  g_variant_unref (envelope);
  g_variant_unref (body);
}

static void
bench_out_flush (BenchOut *out,
                 int       fd)
{
  if (out->len > 0)
    bench_write_all (fd, out->data, out->len);
  out->len = 0;
  /* Do not keep a 64 MiB buffer around after a large payload. */
  if (out->cap > 4 * 1024 * 1024)
    {
      g_free (out->data);
      out->data = NULL;
      out->cap = 0;
    }
}

/* ---- reading ---------------------------------------------------------- */

typedef struct
{
  int fd;
  guint8 *buf;
  gsize cap, start, end;
  /* The current frame, set by bench_in_next(). */
  guint8 *big;
  gsize consume;
} BenchIn;

static void
bench_in_init (BenchIn *in,
               int      fd)
{
  memset (in, 0, sizeof *in);
  in->fd = fd;
  in->cap = 256 * 1024;
  in->buf = g_malloc (in->cap);
}

/* One read(): whatever is there (blocks if nothing is). FALSE on EOF. */
static gboolean
bench_in_fill (BenchIn *in)
{
  ssize_t n;

  if (in->start == in->end)
    in->start = in->end = 0;
  if (in->end == in->cap)
    {
      if (in->start > 0)
        {
          memmove (in->buf, in->buf + in->start, in->end - in->start);
          in->end -= in->start;
          in->start = 0;
        }
      else
        {
          in->cap *= 2;
          in->buf = g_realloc (in->buf, in->cap);
        }
    }
  do
    n = read (in->fd, in->buf + in->end, in->cap - in->end);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    bench_die ("read: %s", g_strerror (errno));
  if (n == 0)
    return FALSE;
  in->end += n;
  return TRUE;
}

/* Returns the payload (8-aligned) of the next whole frame and its length, or
 * NULL: with @block FALSE when no whole frame is buffered, with @block TRUE
 * at EOF. Call bench_in_consume() when done with the payload. */
static const guint8 *
bench_in_next (BenchIn  *in,
               gboolean  block,
               gsize    *len)
{
  for (;;)
    {
      gsize avail = in->end - in->start;

      if (avail >= 8)
        {
          guint32 header[2];
          gsize plen, total;

          memcpy (header, in->buf + in->start, 8);
          plen = GUINT32_FROM_LE (header[0]);
          if (header[1] != 0)
            bench_die ("unexpected fds in a frame");
          total = 8 + BENCH_ALIGN8 (plen);
          if (avail >= total)
            {
              *len = plen;
              in->consume = total;
              return in->buf + in->start + 8;
            }
          if (total > BENCH_BIG_FRAME)
            {
              /* A buffer of its own, read into directly. */
              gsize have = avail - 8;

              if (!block)
                return NULL;
              in->big = g_malloc (BENCH_ALIGN8 (plen));
              memcpy (in->big, in->buf + in->start + 8, have);
              in->start = in->end = 0;
              if (!bench_read_all (in->fd, in->big + have, BENCH_ALIGN8 (plen) - have))
                bench_die ("EOF in the middle of a frame");
              *len = plen;
              in->consume = 0;
              return in->big;
            }
          if (total > in->cap - in->start)
            {
              memmove (in->buf, in->buf + in->start, avail);
              in->start = 0;
              in->end = avail;
            }
        }
      if (!block)
        return NULL;
      if (!bench_in_fill (in))
        {
          if (in->end != in->start)
            bench_die ("EOF in the middle of a frame");
          return NULL;
        }
    }
}

static void
bench_in_consume (BenchIn *in)
{
  if (in->big)
    g_clear_pointer (&in->big, g_free);
  else
    in->start += in->consume;
  in->consume = 0;
}

/* Decodes a payload: the envelope, which must not outlive the payload. */
static GVariant *
bench_decode (const guint8 *payload,
              gsize         len)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static (payload, len);

  return g_variant_ref_sink (g_variant_new_from_bytes (BENCH_ENVELOPE_TYPE, bytes, FALSE));
}

static guint8
bench_envelope_kind (GVariant *envelope)
{
  g_autoptr(GVariant) v = g_variant_get_child_value (envelope, 0);

  return g_variant_get_byte (v);
}

static guint64
bench_envelope_id (GVariant *envelope)
{
  g_autoptr(GVariant) v = g_variant_get_child_value (envelope, 2);

  return g_variant_get_uint64 (v);
}

/* The value inside the body variant (transfer full). */
static GVariant *
bench_envelope_body (GVariant *envelope)
{
  g_autoptr(GVariant) v = g_variant_get_child_value (envelope, 4);

  return g_variant_get_variant (v);
}
