/* bench-common.h: small helpers shared by the benchmark programs.
 *
 * Every benchmark program prints exactly one JSON object on stdout (built
 * with BenchJson) and diagnostics on stderr. Every wait is bounded by a
 * deadline: a contender that stops answering makes its program fail, never
 * hang.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

/* Kinds of protocol v1 frames (DESIGN §2). */
enum
{
  BENCH_FRAME_HELLO  = 1,
  BENCH_FRAME_CALL   = 2,
  BENCH_FRAME_RETURN = 3,
  BENCH_FRAME_ERROR  = 4,
  BENCH_FRAME_STOP   = 8,
};

#define BENCH_ENVELOPE_TYPE ((const GVariantType *) "(yutsva{sv})")

static inline gint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
bench_cmp_i64 (const void *a,
               const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* Sorts @samples in place. */
static inline double
bench_percentile_ns (gint64 *samples,
                     gsize   n,
                     double  p)
{
  gsize i;

  if (n == 0)
    return 0;
  qsort (samples, n, sizeof *samples, bench_cmp_i64);
  i = (gsize) (p * (double) (n - 1) + 0.5);
  if (i >= n)
    i = n - 1;
  return (double) samples[i];
}

/* The (ii) args of add (a, b), built the same way for every contender and
 * without a format string, so that what differs is the transport. */
static inline GVariant *
bench_args_ii (gint32 a,
               gint32 b)
{
  /* One (ii) value kept for the whole run keeps GLib's type info of "(ii)"
   * cached: otherwise a program whose last (ii) value is gone pays for
   * creating and freeing it (six allocations) on every call, one that keeps
   * them queued does not, and the comparison would measure that. */
  static GVariant *keep_type_info;
  GVariant *children[2] = { g_variant_new_int32 (a), g_variant_new_int32 (b) };

  if (keep_type_info == NULL)
    {
      GVariant *zero[2] = { g_variant_new_int32 (0), g_variant_new_int32 (0) };

      keep_type_info = g_variant_ref_sink (g_variant_new_tuple (zero, 2));
    }
  return g_variant_new_tuple (children, 2);
}

/* Scale factor for the iteration counts: BENCH_SCALE=0.1 makes a quick run.
 * The default (1) is what the issue asks for. */
static inline double
bench_scale (void)
{
  const char *s = g_getenv ("BENCH_SCALE");
  double v;

  if (s == NULL || *s == '\0')
    return 1.0;
  v = g_ascii_strtod (s, NULL);
  return v > 0 ? v : 1.0;
}

static inline guint
bench_count (guint n)
{
  double v = (double) n * bench_scale ();

  return v < 1 ? 1 : (guint) v;
}

G_GNUC_NORETURN G_GNUC_PRINTF (1, 2) static inline void
bench_die (const char *format,
           ...)
{
  va_list ap;

  fprintf (stderr, "bench: ");
  va_start (ap, format);
  vfprintf (stderr, format, ap);
  va_end (ap);
  fprintf (stderr, "\n");
  fflush (stderr);
  exit (2);
}

/* A flat JSON object: "key": number | string | null | nested raw JSON. */
typedef struct
{
  GString *str;
} BenchJson;

static inline void
bench_json_init (BenchJson *json)
{
  json->str = g_string_new ("{");
}

static inline void
bench_json_key (BenchJson  *json,
                const char *key)
{
  if (json->str->len > 1)
    g_string_append (json->str, ", ");
  g_string_append_printf (json->str, "\"%s\": ", key);
}

static inline void
bench_json_num (BenchJson  *json,
                const char *key,
                double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  bench_json_key (json, key);
  g_string_append (json->str, g_ascii_formatd (buf, sizeof buf, "%.6g", value));
}

static inline void
bench_json_null (BenchJson  *json,
                 const char *key)
{
  bench_json_key (json, key);
  g_string_append (json->str, "null");
}

static inline void
bench_json_str (BenchJson  *json,
                const char *key,
                const char *value)
{
  bench_json_key (json, key);
  g_string_append_c (json->str, '"');
  for (const char *p = value; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (json->str, '\\');
      if ((guchar) *p < 0x20)
        g_string_append_printf (json->str, "\\u%04x", *p);
      else
        g_string_append_c (json->str, *p);
    }
  g_string_append_c (json->str, '"');
}

static inline void
bench_json_print (BenchJson *json)
{
  g_string_append (json->str, "}\n");
  fputs (json->str->str, stdout);
  fflush (stdout);
  g_string_free (json->str, TRUE);
  json->str = NULL;
}

static inline gboolean
bench_read_exact (int    fd,
                  void  *data,
                  gsize  len)
{
  guint8 *p = data;

  while (len > 0)
    {
      ssize_t n = read (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= n;
    }
  return TRUE;
}

/* The payload sizes of the large round trips: 64 KiB, 4 MiB, 64 MiB. */
static const struct
{
  const char *name;
  gsize size;
  guint iterations;
} bench_payloads[] = {
  { "64KiB", 64 * 1024, 200 },
  { "4MiB", 4 * 1024 * 1024, 20 },
  { "64MiB", 64 * 1024 * 1024, 5 },
};

/* A payload of @size bytes, every byte set, so its pages are really there,
 * and a scratch buffer of the same size, touched once, that every echo's
 * args are copied into (see bench_payload_args()). */
typedef struct
{
  GBytes *bytes;
  guint8 *scratch;
  gsize size;
} BenchPayload;

static inline void
bench_payload_init (BenchPayload *payload,
                    gsize         size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 31 + 7);
  payload->bytes = g_bytes_new_take (data, size);
  payload->scratch = g_malloc (size);
  memset (payload->scratch, 0, size);
  payload->size = size;
}

static inline void
bench_payload_clear (BenchPayload *payload)
{
  g_clear_pointer (&payload->bytes, g_bytes_unref);
  g_clear_pointer (&payload->scratch, g_free);
}

/* Fresh (ay) args for one echo: new GBytes and GVariants each time, over a
 * new copy of the payload, so that no contender can profit from seeing the
 * same value again. The copy is made (and its pages written) before the
 * clock starts, into the same scratch buffer every time: a fresh 64 MiB
 * allocation per sample (g_bytes_new ()), mapped and unmapped around every
 * echo, puts a process on this VM into a state where all its memory writes
 * are many times slower, the anchor's memcpy included (see
 * doc/performance.md, footnote ²), which measures the VM rather than the
 * contenders. The args must be gone before the next call. */
static inline GVariant *
bench_payload_args (BenchPayload *payload)
{
  g_autoptr(GBytes) copy = NULL;
  GVariant *ay;

  memcpy (payload->scratch, g_bytes_get_data (payload->bytes, NULL), payload->size);
  copy = g_bytes_new_static (payload->scratch, payload->size);
  ay = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, copy, TRUE);

  return g_variant_ref_sink (g_variant_new_tuple (&ay, 1));
}

/* User + system CPU time of this process (every thread), in ns. */
#include <sys/resource.h>

static inline gint64
bench_process_cpu_ns (void)
{
  struct rusage ru;

  if (getrusage (RUSAGE_SELF, &ru) != 0)
    bench_die ("getrusage: %s", g_strerror (errno));
  return ((gint64) ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_GINT64_CONSTANT (1000000000) +
         ((gint64) ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* The iteration counts of a --core run: round trips and pipelined calls,
 * from the command line ("--core N_RT N_PIPE"), else the defaults given. */
static inline void
bench_core_counts (int     argc,
                   char   *argv[],
                   guint  *n_rt,
                   guint  *n_pipe)
{
  for (int i = 1; i + 2 < argc; i++)
    if (strcmp (argv[i], "--core") == 0)
      {
        *n_rt = MAX (10, (guint) g_ascii_strtoull (argv[i + 1], NULL, 10));
        *n_pipe = MAX (10, (guint) g_ascii_strtoull (argv[i + 2], NULL, 10));
        return;
      }
}

static inline gboolean
bench_has_arg (int         argc,
               char       *argv[],
               const char *arg)
{
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], arg) == 0)
      return TRUE;
  return FALSE;
}
