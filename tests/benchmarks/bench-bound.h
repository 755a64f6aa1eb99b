/* bench-bound.h: the fair bound. What a careful hand-written peer pays for
 * mpel's protocol, with nothing else: the same frames (8-byte header,
 * (yutsva{sv}) envelope padded to 8), the same per-event GVariant work as
 * mpel (the args GVariant is serialised into the envelope with
 * g_variant_store (); the result is a GVariant made with
 * g_variant_new_from_bytes () over a slice of the read buffer), envelopes
 * written and parsed by hand with mpel's checks, batched I/O (a read takes
 * what is there and every whole frame in it is decoded; all frames queued
 * leave in one send ()), and at most BOUND_WINDOW calls in flight.
 *
 * Two variants of the app side: blocking (poll () as soon as nothing is
 * readable) and spinning (busy-wait reads for up to BOUND_SPIN_USEC after
 * sending, as mpel does, then poll ()). The echo child is the same for both:
 * it blocks in read (), parses every CALL, builds the RETURN, and answers a
 * whole batch with one write () — the same work as mpel's worker with the
 * test module's add, and no spinning, like mpel's worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench-common.h"

#define BOUND_WINDOW     1024
#define BOUND_SPIN_USEC  50
#define BOUND_BUF_SIZE   (1024 * 1024)
/* Below this much free space a read moves on to a fresh buffer. */
#define BOUND_MIN_FREE   (64 * 1024)
#define BOUND_ALIGN8(n)  (((n) + 7) & ~(gsize) 7)

/* ---- envelopes, by hand (the layout of mpel-wire.c) ------------------ */

static inline gsize
bound_offset_size (gsize body_size)
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
bound_offset_size_for_total (gsize total)
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
bound_write_le (guint8 *dest,
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
bound_read_le (const guint8 *src,
               gsize         size)
{
  gsize value = 0;

  for (gsize i = size; i > 0; i--)
    value = (value << 8) | src[i - 1];
  return value;
}

typedef struct
{
  guint8 *data;
  gsize len, cap;
} BoundOut;

/* Appends one frame with an empty a{sv} (what mpel sends without kwargs)
 * around @body, which is not consumed. */
static inline void
bound_out_frame (BoundOut   *out,
                 guint8      kind,
                 guint64     id,
                 const char *name,
                 GVariant   *body)
{
  gsize name_len = strlen (name);
  gsize e1 = 16 + name_len + 1;
  gsize a2 = BOUND_ALIGN8 (e1);
  gsize body_size = g_variant_get_size (body);
  const char *type = g_variant_get_type_string (body);
  gsize type_len = strlen (type);
  gsize e2 = a2 + body_size + 1 + type_len;
  gsize e3 = BOUND_ALIGN8 (e2);
  gsize w = bound_offset_size (e3);
  gsize total = e3 + 2 * w, padded = BOUND_ALIGN8 (total);
  guint32 flags = 0, header[2];
  guint8 *dest;

  if (out->len + 8 + padded > out->cap)
    {
      while (out->len + 8 + padded > out->cap)
        out->cap = out->cap ? out->cap * 2 : 256 * 1024;
      out->data = g_realloc (out->data, out->cap);
    }
  header[0] = GUINT32_TO_LE ((guint32) total);
  header[1] = 0;
  memcpy (out->data + out->len, header, 8);
  dest = out->data + out->len + 8;
  dest[0] = kind;
  dest[1] = dest[2] = dest[3] = 0;
  memcpy (dest + 4, &flags, 4);
  memcpy (dest + 8, &id, 8);
  memcpy (dest + 16, name, name_len + 1);
  memset (dest + e1, 0, a2 - e1);
  g_variant_store (body, dest + a2);
  dest[a2 + body_size] = 0;
  memcpy (dest + a2 + body_size + 1, type, type_len);
  memset (dest + e2, 0, e3 - e2);
  bound_write_le (dest + e3, e2, w);
  bound_write_le (dest + e3 + w, e1, w);
  memset (dest + total, 0, padded - total);
  out->len += 8 + padded;
}

typedef struct
{
  guint8 kind;
  guint64 id;
  const char *name;
  GVariant *body;  /* owned */
} BoundFrame;

/* Parses the envelope at [@offset, @offset + @size) of @buffer with mpel's
 * checks (framing offsets in range, the name a valid string, the body's
 * type scanned and definite); the body is a GVariant over a slice of
 * @buffer, never a copy. */
static inline void
bound_parse (GBytes     *buffer,
             gsize       offset,
             gsize       size,
             BoundFrame *frame)
{
  const guint8 *data = (const guint8 *) g_bytes_get_data (buffer, NULL) + offset;
  const guint8 *nul = NULL;
  const char *type_start, *type_end = NULL;
  gsize w, end, e1, e2, a2, type_len;
  g_autoptr(GBytes) body_bytes = NULL;

  if (size < 16 + 1 + 4 + 2 || ((guintptr) data & 7) != 0)
    bench_die ("bound: a short or unaligned envelope");
  w = bound_offset_size_for_total (size);
  end = size - 2 * w;
  e1 = bound_read_le (data + size - w, w);
  e2 = bound_read_le (data + size - 2 * w, w);
  if (e1 < 17 || e1 > end || e2 > end)
    bench_die ("bound: a framing offset is out of range");
  a2 = BOUND_ALIGN8 (e1);
  if (a2 > e2 || e2 - a2 < 2 || BOUND_ALIGN8 (e2) > end)
    bench_die ("bound: a malformed envelope");
  if (data[e1 - 1] != '\0' || memchr (data + 16, '\0', e1 - 17) != NULL ||
      !g_utf8_validate ((const char *) data + 16, e1 - 17, NULL))
    bench_die ("bound: the name is not a valid string");
  for (gsize i = e2; i > a2; i--)
    if (data[i - 1] == '\0')
      {
        nul = data + i - 1;
        break;
      }
  if (nul == NULL || (gsize) (data + e2 - nul) < 2)
    bench_die ("bound: the body has no type");
  type_start = (const char *) nul + 1;
  type_len = data + e2 - (const guint8 *) type_start;
  if (!g_variant_type_string_scan (type_start, type_start + type_len, &type_end) ||
      type_end != type_start + type_len ||
      !g_variant_type_is_definite ((const GVariantType *) type_start))
    bench_die ("bound: the body's type is not valid");

  body_bytes = g_bytes_new_from_bytes (buffer, offset + a2, nul - (data + a2));
  frame->body = g_variant_ref_sink (g_variant_new_from_bytes ((const GVariantType *) type_start,
                                                              body_bytes, FALSE));
  frame->kind = data[0];
  memcpy (&frame->id, data + 8, 8);
  frame->name = (const char *) data + 16;
}

/* ---- the read side: refcounted buffers, parsed in place --------------- */

/* A read buffer is a GBytes; every body parsed from it holds a reference
 * to it. A buffer whose last reference goes comes back here for reuse. */
typedef struct
{
  int fd;
  GBytes *bytes;
  guint8 *data;
  gsize cap, start, end;
  guint8 *spare;  /* one free buffer of BOUND_BUF_SIZE */
} BoundIn;

static void
bound_in_release (gpointer data)
{
  BoundIn **owner = data;
  BoundIn *in = owner[0];

  if (in != NULL && in->spare == NULL)
    in->spare = (guint8 *) owner + 16;
  else
    g_free (owner);
}

/* A fresh buffer of at least @min bytes; the first 16 bytes hold the
 * owner, the data is 8-aligned after them. */
static inline void
bound_in_new_buffer (BoundIn *in,
                     gsize    min)
{
  gsize cap = MAX (BOUND_BUF_SIZE, BOUND_ALIGN8 (min));
  guint8 *block;
  GBytes *old = in->bytes;
  gsize tail = in->end - in->start;

  if (cap == BOUND_BUF_SIZE && in->spare != NULL)
    {
      block = in->spare - 16;
      in->spare = NULL;
    }
  else
    block = g_malloc (16 + cap);
  *(BoundIn **) block = in;
  in->data = block + 16;
  in->bytes = g_bytes_new_with_free_func (in->data, cap, bound_in_release, block);
  in->cap = cap;
  if (old != NULL && tail > 0)
    memcpy (in->data, (const guint8 *) g_bytes_get_data (old, NULL) + in->start, tail);
  in->start = 0;
  in->end = tail;
  if (old != NULL)
    {
      /* Its block goes to the spare slot, or is freed, when the last
       * body parsed from it is gone. Blocks bigger than the default are
       * never kept. */
      if (g_bytes_get_size (old) != BOUND_BUF_SIZE)
        {
          guint8 *old_block = (guint8 *) g_bytes_get_data (old, NULL) - 16;

          *(BoundIn **) old_block = NULL;
        }
      g_bytes_unref (old);
    }
}

static inline void
bound_in_init (BoundIn *in,
               int      fd)
{
  memset (in, 0, sizeof *in);
  in->fd = fd;
  bound_in_new_buffer (in, 0);
}

static inline void
bound_in_clear (BoundIn *in)
{
  if (in->spare != NULL)
    g_free (in->spare - 16);
  in->spare = NULL;
  *(BoundIn **) (in->data - 16) = NULL;
  g_clear_pointer (&in->bytes, g_bytes_unref);
}

/* One read of what is there (with @block, waits for something). Returns
 * the number of bytes, 0 at EOF, -1 if nothing is there. */
static inline gssize
bound_in_fill (BoundIn  *in,
               gboolean  block)
{
  gssize n;

  if (in->cap - in->end < BOUND_MIN_FREE)
    bound_in_new_buffer (in, 0);
  do
    n = recv (in->fd, in->data + in->end, in->cap - in->end, block ? 0 : MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return -1;
  if (n < 0)
    bench_die ("bound: recv: %s", g_strerror (errno));
  in->end += n;
  return n;
}

/* The next whole frame in the buffer, or FALSE. */
static inline gboolean
bound_in_next (BoundIn    *in,
               BoundFrame *frame)
{
  gsize avail = in->end - in->start, total;
  guint32 header[2];

  if (avail < 8)
    return FALSE;
  memcpy (header, in->data + in->start, 8);
  if (header[1] != 0)
    bench_die ("bound: unexpected fds in a frame");
  total = 8 + BOUND_ALIGN8 (GUINT32_FROM_LE (header[0]));
  if (avail < total)
    {
      if (total > in->cap - in->start)
        bound_in_new_buffer (in, total);
      return FALSE;
    }
  bound_parse (in->bytes, in->start + 8, GUINT32_FROM_LE (header[0]), frame);
  in->start += total;
  return TRUE;
}

/* ---- the echo child ---------------------------------------------------- */

static inline void
bound_write_all (int         fd,
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
        bench_die ("bound: write: %s", g_strerror (errno));
      p += n;
      len -= n;
    }
}

static G_GNUC_NORETURN void
bound_child_main (int fd)
{
  BoundIn in;
  BoundOut out = { NULL, 0, 0 };

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  bound_in_init (&in, fd);
  for (;;)
    {
      BoundFrame frame;

      /* A blocking read: one system call, as a worker asleep in poll ()
       * and woken for recvmsg () could only match. */
      if (bound_in_fill (&in, TRUE) == 0)
        _exit (0);
      while (bound_in_next (&in, &frame))
        {
          if (frame.kind == BENCH_FRAME_STOP)
            _exit (0);
          if (frame.kind != BENCH_FRAME_CALL || strcmp (frame.name, "add") != 0 ||
              !g_variant_is_of_type (frame.body, G_VARIANT_TYPE ("(ii)")))
            bench_die ("bound child: unexpected frame");
          {
            g_autoptr(GVariant) a = g_variant_get_child_value (frame.body, 0);
            g_autoptr(GVariant) b = g_variant_get_child_value (frame.body, 1);
            g_autoptr(GVariant) sum = g_variant_ref_sink (g_variant_new_int32 (g_variant_get_int32 (a) +
                                                                               g_variant_get_int32 (b)));

            bound_out_frame (&out, BENCH_FRAME_RETURN, frame.id, "", sum);
          }
          g_variant_unref (frame.body);
        }
      if (out.len > 0)
        {
          bound_write_all (fd, out.data, out.len);
          out.len = 0;
        }
    }
}

/* ---- the app side ------------------------------------------------------ */

typedef struct
{
  int fd;
  pid_t pid;
  gboolean spin;
  BoundIn in;
  BoundOut out;
  gsize out_sent;
  guint64 next_id;
} Bound;

/* Forks the echo child: call before anything starts a thread. */
static inline void
bound_spawn (Bound    *bound,
             gboolean  spin)
{
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    bench_die ("socketpair: %s", g_strerror (errno));
  fflush (NULL);
  memset (bound, 0, sizeof *bound);
  bound->pid = fork ();
  if (bound->pid < 0)
    bench_die ("fork: %s", g_strerror (errno));
  if (bound->pid == 0)
    {
      close (sv[0]);
      bound_child_main (sv[1]);
    }
  close (sv[1]);
  bound->fd = sv[0];
  bound->spin = spin;
  bound_in_init (&bound->in, bound->fd);
}

/* Waits until the socket is readable (@want_in) or, with @want_out,
 * writable; spins first when the variant spins. */
static inline void
bound_wait (Bound    *bound,
            gboolean  want_out)
{
  struct pollfd pfd = { .fd = bound->fd, .events = POLLIN | (want_out ? POLLOUT : 0) };

  if (bound->spin && !want_out)
    {
      gint64 until = g_get_monotonic_time () + BOUND_SPIN_USEC;

      do
        {
          if (poll (&pfd, 1, 0) > 0)
            return;
        }
      while (g_get_monotonic_time () < until);
    }
  if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
    bench_die ("bound: poll: %s", g_strerror (errno));
}

/* Sends what is queued, as far as the socket takes it without blocking.
 * TRUE when everything went. */
static inline gboolean
bound_send (Bound *bound)
{
  while (bound->out_sent < bound->out.len)
    {
      ssize_t n = send (bound->fd, bound->out.data + bound->out_sent,
                        bound->out.len - bound->out_sent, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return FALSE;
      if (n < 0)
        bench_die ("bound: send: %s", g_strerror (errno));
      bound->out_sent += n;
    }
  bound->out.len = bound->out_sent = 0;
  return TRUE;
}

/* Takes one RETURN frame of add: checks its id and value. */
static inline void
bound_check_reply (BoundFrame *frame,
                   guint64     id,
                   gint32      expected)
{
  if (frame->kind != BENCH_FRAME_RETURN || frame->id != id ||
      !g_variant_is_of_type (frame->body, G_VARIANT_TYPE_INT32) ||
      g_variant_get_int32 (frame->body) != expected)
    bench_die ("bound: wrong reply to call %" G_GUINT64_FORMAT, id);
  g_variant_unref (frame->body);
}

static inline void
bound_queue_add (Bound  *bound,
                 gint32  a,
                 gint32  b)
{
  g_autoptr(GVariant) args = g_variant_ref_sink (bench_args_ii (a, b));

  bound_out_frame (&bound->out, BENCH_FRAME_CALL, ++bound->next_id, "add", args);
}

/* Waits (spinning first, if so) until something is readable, sending
 * what is left to send meanwhile, then reads what is there. */
static inline void
bound_read_some (Bound *bound)
{
  for (;;)
    {
      gssize n;

      bound_wait (bound, bound->out.len > 0);
      if (bound->out.len > 0)
        bound_send (bound);
      n = bound_in_fill (&bound->in, FALSE);
      if (n == 0)
        bench_die ("bound: the child hung up");
      if (n > 0)
        return;
    }
}

static inline double
bound_roundtrip_once_ns (Bound  *bound,
                         gint32  i)
{
  gint64 t0 = bench_now_ns ();
  BoundFrame frame;

  bound_queue_add (bound, i, 1);
  bound_send (bound);
  while (!bound_in_next (&bound->in, &frame))
    bound_read_some (bound);
  bound_check_reply (&frame, bound->next_id, i + 1);
  return (double) (bench_now_ns () - t0);
}

/* @n calls with at most BOUND_WINDOW unanswered. */
static inline double
bound_pipelined_calls_per_s (Bound *bound,
                             guint  n)
{
  guint64 first = bound->next_id + 1;
  guint sent = 0, received = 0;
  gint64 t0 = bench_now_ns ();
  BoundFrame frame;

  while (received < n)
    {
      while (sent < n && sent - received < BOUND_WINDOW)
        {
          bound_queue_add (bound, (gint32) sent, 1);
          sent++;
        }
      bound_send (bound);
      bound_read_some (bound);
      while (bound_in_next (&bound->in, &frame))
        {
          bound_check_reply (&frame, first + received, (gint32) received + 1);
          received++;
        }
    }
  return n / ((bench_now_ns () - t0) / 1e9);
}

static inline void
bound_stop (Bound *bound)
{
  g_autoptr(GVariant) unit = g_variant_ref_sink (g_variant_new_tuple (NULL, 0));
  int status;

  bound_out_frame (&bound->out, BENCH_FRAME_STOP, 0, "", unit);
  while (!bound_send (bound))
    bound_wait (bound, TRUE);
  close (bound->fd);
  if (waitpid (bound->pid, &status, 0) != bound->pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    bench_die ("bound: the child did not exit cleanly (status %d)", status);
  bound_in_clear (&bound->in);
  g_free (bound->out.data);
}
