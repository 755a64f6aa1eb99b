/* bench-mpel.c: mpel through its public API only. One mode per run, so
 * that run-benchmarks.py can have mpel and each anchor take turns, and give
 * the rows that need a process of their own (allocator, LD_PRELOAD) one:
 *
 *   --core N_RT N_PIPE   round trip (call_async, one at a time; median, p99,
 *                        CPU per wall time), pipelined add (i, 1) without and
 *                        with kwargs, alternately (median of three each)
 *   --payload            echo of 64 KiB … 256 MiB; 64 and 256 MiB alternate
 *                        with two memcpy of the same size
 *   --lateness           a 60 Hz timer with absolute deadlines on the app's
 *                        context while 1 000 000 results stream in, and
 *                        where the late ticks' time went (bench-lateness-
 *                        trace.c; MPEL_BENCH_TRACE=MS prints every tick
 *                        later than MS)
 *   --lateness-idle      its anchor: the same timer for 5 s in a process
 *                        with nothing else to do
 *   --urgent             one high-priority push behind 1 000 000 queued
 *                        events; 100 000 pushes at two priorities
 *   --memory             heap per queued event (G_SLICE=always-malloc)
 *   --allocs             allocations per event (LD_PRELOAD of
 *                        bench-count-alloc.so, G_SLICE=always-malloc)
 *   --misc               start-up and the worker pool
 *   --pipelined-only N   for callgrind.sh (with MPEL_BENCH_KWARGS=1 in the
 *                        environment, every event carries the kwargs row's
 *                        a{sv})
 *
 * The worker is the default host ($MPEL_WORKER) with the test module
 * ($MPEL_TEST_MODULE). Prints one JSON object on stdout. Every result is
 * checked. Every wait is bounded: a deadline per phase (SIGALRM) names the
 * phase that did not finish and exits non-zero.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE 1  /* RTLD_DEFAULT */

#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mpel.h>

#include "bench-common.h"
#include "bench-lateness-trace.h"

/* ---- deadlines -------------------------------------------------------- */

static const char *volatile phase = "start-up";

static void
on_alarm (int sig)
{
  static const char prefix[] = "bench-mpel: deadline passed in phase: ";
  const char *p = phase;

  if (write (2, prefix, sizeof prefix - 1) < 0 || write (2, p, strlen (p)) < 0 || write (2, "\n", 1) < 0)
    {
      /* nothing to do */
    }
  _exit (3);
}

/* Starts @name with a deadline of @seconds. */
static void
begin_phase (const char *name,
             guint       seconds)
{
  phase = name;
  g_printerr ("bench-mpel: %s\n", name);
  alarm (seconds);
}

/* ---- loops ------------------------------------------------------------ */

static MpelLoop *
new_loop (guint n_workers)
{
  const char *module = g_getenv ("MPEL_TEST_MODULE");
  const char *modules[] = { module, NULL };
  MpelLoop *loop;

  if (module == NULL || g_getenv ("MPEL_WORKER") == NULL)
    bench_die ("set MPEL_WORKER and MPEL_TEST_MODULE (meson test does)");
  loop = mpel_loop_new ();
  mpel_loop_set_modules (loop, modules);
  mpel_loop_set_n_workers (loop, n_workers);
  return loop;
}

static void
wait_loop (MpelLoop *loop)
{
  g_autoptr(GError) error = NULL;

  if (!mpel_loop_wait (loop, NULL, &error))
    bench_die ("mpel: wait failed in %s: %s", phase, error->message);
}

/* ---- one call at a time ---------------------------------------------- */

typedef struct
{
  gboolean done;
  GVariant *result;
  GError *error;
} Call;

static void
call_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *call = user_data;

  call->result = mpel_loop_call_finish (MPEL_LOOP (source), result, &call->error);
  call->done = TRUE;
}

/* Calls @target and iterates the default main context until the result. */
static GVariant *
call_sync (MpelLoop   *loop,
           const char *target,
           GVariant   *args)
{
  Call call = { FALSE, NULL, NULL };

  mpel_loop_call_async (loop, target, args, NULL, call_done, &call);
  while (!call.done)
    g_main_context_iteration (NULL, TRUE);
  if (call.error != NULL)
    bench_die ("mpel: %s failed in %s: %s", target, phase, call.error->message);
  return call.result;
}

static double
roundtrip_once_ns (MpelLoop *loop,
                   gint32    i)
{
  gint64 t0 = bench_now_ns ();
  g_autoptr(GVariant) result = call_sync (loop, "add", bench_args_ii (i, 1));
  gint64 t = bench_now_ns () - t0;

  if (result == NULL || !g_variant_is_of_type (result, G_VARIANT_TYPE_INT32) ||
      g_variant_get_int32 (result) != i + 1)
    bench_die ("mpel: add (%d, 1) returned %s", i,
               result ? g_variant_print (result, TRUE) : "nothing");
  return (double) t;
}

/* ---- pipelined -------------------------------------------------------- */

typedef struct
{
  guint64 count;
  gint64 sum;
  guint64 errors;
} Outputs;

static gboolean
on_output (MpelLoop  *loop,
           MpelEvent *event,
           gpointer   user_data)
{
  Outputs *out = user_data;
  GVariant *result = mpel_event_get_result (event);

  out->count++;
  if (mpel_event_get_error (event) != NULL || result == NULL)
    {
      if (out->errors++ == 0)
        g_printerr ("bench-mpel: event %s failed: %s\n", mpel_event_get_target (event),
                    mpel_event_get_error (event) ? mpel_event_get_error (event)->message : "no result");
      return FALSE;
    }
  if (g_variant_is_of_type (result, G_VARIANT_TYPE_INT32))
    out->sum += g_variant_get_int32 (result);
  else if (g_variant_is_of_type (result, G_VARIANT_TYPE_UINT32))
    out->sum += g_variant_get_uint32 (result);
  return FALSE;
}

static void
check_outputs (Outputs *out,
               guint64  n,
               gint64   expected_sum)
{
  if (out->errors > 0)
    bench_die ("mpel: %" G_GUINT64_FORMAT " events failed in %s", out->errors, phase);
  if (out->count != n)
    bench_die ("mpel: %" G_GUINT64_FORMAT " outputs for %" G_GUINT64_FORMAT " events in %s",
               out->count, n, phase);
  if (expected_sum >= 0 && out->sum != expected_sum)
    bench_die ("mpel: the results are wrong in %s (sum %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT ")",
               phase, out->sum, expected_sum);
}

/* The kwargs of the kwargs-vs-none row: three entries, built once and
 * shared by every event, so that what is measured is mpel carrying them. */
static GVariant *
bench_kwargs (void)
{
  static GVariant *kwargs;

  if (kwargs == NULL)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "scale", g_variant_new_int32 (2));
      g_variant_builder_add (&b, "{sv}", "label", g_variant_new_string ("bench"));
      g_variant_builder_add (&b, "{sv}", "exact", g_variant_new_boolean (TRUE));
      kwargs = g_variant_ref_sink (g_variant_builder_end (&b));
    }
  return kwargs;
}

/* @n add (i, 1) pushed at once (mpel keeps max-in-flight of them on the
 * wire), all results counted and checked. With @kwargs, every event carries
 * bench_kwargs (); either way each event is made with mpel_event_new () and
 * pushed with mpel_loop_push (), so that the two differ in the kwargs only. */
static double
pipelined_calls_per_s_with (MpelLoop *loop,
                            guint     n,
                            gboolean  kwargs)
{
  Outputs out = { 0, 0, 0 };
  gulong id = g_signal_connect (loop, "output", G_CALLBACK (on_output), &out);
  gint64 t0 = bench_now_ns ();
  double rate;

  for (guint i = 0; i < n; i++)
    {
      MpelEvent *event = mpel_event_new ("add", bench_args_ii ((gint32) i, 1));

      if (kwargs)
        mpel_event_set_kwargs (event, bench_kwargs ());
      mpel_loop_push (loop, event);
      g_object_unref (event);
    }
  wait_loop (loop);
  rate = n / ((bench_now_ns () - t0) / 1e9);
  g_signal_handler_disconnect (loop, id);
  check_outputs (&out, n, (gint64) n * (n - 1) / 2 + n);
  return rate;
}

static double
pipelined_calls_per_s (MpelLoop *loop,
                       guint     n)
{
  return pipelined_calls_per_s_with (loop, n, FALSE);
}

/* ---- large payloads --------------------------------------------------- */

static double
echo_once_ns (MpelLoop     *loop,
              BenchPayload *payload)
{
  gsize size = payload->size;
  g_autoptr(GVariant) args = bench_payload_args (payload);
  gint64 t0 = bench_now_ns ();
  g_autoptr(GVariant) result = call_sync (loop, "mpel.echo", args);
  gint64 t = bench_now_ns () - t0;
  g_autoptr(GVariant) ay = NULL;
  const guint8 *data;
  gsize n;

  if (result != NULL && g_variant_is_of_type (result, G_VARIANT_TYPE ("(ay)")))
    ay = g_variant_get_child_value (result, 0);
  else if (result != NULL && g_variant_is_of_type (result, G_VARIANT_TYPE_BYTESTRING))
    ay = g_variant_ref (result);
  else
    bench_die ("mpel: mpel.echo returned %s", result ? g_variant_get_type_string (result) : "nothing");
  data = g_variant_get_fixed_array (ay, &n, 1);
  if (n != size || data[0] != 7 || data[n - 1] != (guint8) ((n - 1) * 31 + 7))
    bench_die ("mpel: mpel.echo returned %zu bytes, not %zu", n, size);
  return (double) t;
}

/* ---- two memcpy -------------------------------------------------------- */

/* Buffers for two memcpy of @size bytes, mapped and touched once, kept for
 * every sample so that the copy is all that is timed. */
typedef struct
{
  guint8 *a, *b, *c;
  gsize size;
} Memcpy;

static void
memcpy_init (Memcpy *m,
             gsize   size)
{
  m->size = size;
  m->a = g_malloc (size);
  m->b = g_malloc (size);
  m->c = g_malloc (size);
  memset (m->a, 1, size);
  memset (m->b, 2, size);
  memset (m->c, 3, size);
}

static double
memcpy_two_ns (Memcpy *m)
{
  gint64 t0;

  m->a[m->size / 2]++;
  t0 = bench_now_ns ();
  memcpy (m->b, m->a, m->size);
  memcpy (m->c, m->b, m->size);
  t0 = bench_now_ns () - t0;
  if (m->c[m->size / 2] != m->a[m->size / 2])
    bench_die ("memcpy went wrong");
  return (double) t0;
}

static void
memcpy_clear (Memcpy *m)
{
  g_free (m->a);
  g_free (m->b);
  g_free (m->c);
}

/* ---- 60 Hz timer lateness under a flood ------------------------------- */

#define FRAME_USEC 16667

/* GDK_PRIORITY_REDRAW: where GTK's frame clock paints. */
#define BENCH_PRIORITY_REDRAW (G_PRIORITY_HIGH_IDLE + 20)

typedef struct
{
  GSource source;
  gint64 deadline;  /* absolute, monotonic µs */
  GArray *lateness; /* gint64 µs, one per tick */
} Frame;

static gboolean
frame_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  Frame *frame = (Frame *) source;
  gint64 late = g_get_monotonic_time () - frame->deadline;

  g_array_append_val (frame->lateness, late);
  bench_trace_tick (frame->deadline, late);
  /* The next deadline is absolute: a late tick does not move the ones
   * after it, and a frame missed shows as a later tick right away. */
  frame->deadline += FRAME_USEC;
  g_source_set_ready_time (source, frame->deadline);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs frame_funcs = { NULL, NULL, frame_dispatch, NULL, NULL, NULL, };

/* The app pushes from its own callbacks, a chunk at a time: an idle that
 * pushes chunks until HIGH_WATER events are pending, re-armed by the
 * output handler when fewer than LOW_WATER are, so that results stream in
 * without a pause and without 10^6 events queued at once. */
#define PUSH_CHUNK 1000
#define LOW_WATER  2048
#define HIGH_WATER 8192

typedef struct
{
  MpelLoop *loop;
  guint n, pushed, idle;
  Outputs out;
} Pusher;

static gboolean
push_chunk (gpointer user_data)
{
  Pusher *p = user_data;

  bench_trace_mark (BENCH_MARK_PUSH_BEGIN);
  for (guint k = 0; k < PUSH_CHUNK && p->pushed < p->n; k++, p->pushed++)
    mpel_loop_add_event (p->loop, "add", bench_args_ii ((gint32) p->pushed, 1));
  bench_trace_mark (BENCH_MARK_PUSH_END);
  if (p->pushed < p->n && mpel_loop_get_n_pending (p->loop) < HIGH_WATER)
    return G_SOURCE_CONTINUE;
  p->idle = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
on_flood_output (MpelLoop  *loop,
                 MpelEvent *event,
                 gpointer   user_data)
{
  Pusher *p = user_data;

  on_output (loop, event, &p->out);
  if (p->idle == 0 && p->pushed < p->n && mpel_loop_get_n_pending (loop) < LOW_WATER)
    p->idle = g_idle_add (push_chunk, p);
  return FALSE;
}

/* A 60 Hz timer at the redraw priority on the default context. */
static Frame *
frame_new (void)
{
  Frame *frame = (Frame *) g_source_new (&frame_funcs, sizeof (Frame));

  frame->lateness = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_source_set_priority (&frame->source, BENCH_PRIORITY_REDRAW);
  frame->deadline = g_get_monotonic_time () + FRAME_USEC;
  g_source_set_ready_time (&frame->source, frame->deadline);
  g_source_attach (&frame->source, NULL);
  return frame;
}

/* Stops @frame and reports its ticks. */
static void
frame_finish (Frame     *frame,
              BenchJson *json)
{
  gint64 *late = (gint64 *) (void *) frame->lateness->data;
  guint n_ticks = frame->lateness->len, over_8ms = 0, missed = 0;

  g_source_destroy (&frame->source);
  for (guint i = 0; i < n_ticks; i++)
    {
      over_8ms += late[i] > 8000;
      missed += late[i] > FRAME_USEC;
    }
  bench_json_num (json, "lateness_ticks", n_ticks);
  bench_json_num (json, "lateness_over_8ms", over_8ms);
  bench_json_num (json, "lateness_missed_frames", missed);
  bench_json_num (json, "lateness_max_ms", n_ticks ? bench_percentile_ns (late, n_ticks, 1.0) / 1e3 : 0);
  bench_json_num (json, "lateness_p99_ms", n_ticks ? bench_percentile_ns (late, n_ticks, 0.99) / 1e3 : 0);
  bench_json_num (json, "lateness_median_ms", n_ticks ? bench_percentile_ns (late, n_ticks, 0.5) / 1e3 : 0);
  bench_json_str (json, "lateness_g_slice", g_getenv ("G_SLICE") ? g_getenv ("G_SLICE") : "");
  g_array_unref (frame->lateness);
  g_source_unref (&frame->source);
}

static void
lateness (guint      n,
          BenchJson *json)
{
  g_autoptr(MpelLoop) loop = new_loop (1);
  Pusher pusher = { loop, n, 0, 0, { 0, 0, 0 } };
  Outputs *out = &pusher.out;
  Frame *frame;
  gint64 t0;

  g_variant_unref (call_sync (loop, "mpel.ping", NULL));  /* the worker is up */
  g_signal_connect (loop, "output", G_CALLBACK (on_flood_output), &pusher);

  frame = frame_new ();
  pusher.idle = g_idle_add (push_chunk, &pusher);

  bench_trace_start (&out->count, mpel_loop_get_worker_pid (loop, 0));
  t0 = bench_now_ns ();
  while (out->count < n)
    g_main_context_iteration (NULL, TRUE);
  bench_json_num (json, "lateness_total_s", (bench_now_ns () - t0) / 1e9);
  bench_trace_finish (json);
  check_outputs (out, n, (gint64) n * (n - 1) / 2 + n);

  bench_json_num (json, "lateness_n", n);
  frame_finish (frame, json);
  mpel_loop_stop (loop);
}

/* The anchor of the two rows above: the same timer in a process that has
 * nothing else to do, for @seconds. What it shows is the machine's own
 * wake-up latency: under load from other processes, a process that only
 * sleeps is late too. */
static void
lateness_idle (double     seconds,
               BenchJson *json)
{
  guint64 count = 0;
  Frame *frame = frame_new ();
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  bench_trace_start (&count, 0);
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  bench_json_num (json, "lateness_total_s", seconds);
  bench_trace_finish (json);
  frame_finish (frame, json);
}

/* ---- urgent push behind a full queue ---------------------------------- */

/* A loop whose one worker is busy with a long mpel.sleep, and max-in-flight
 * 1: everything pushed after it stays queued in the app. */
static MpelLoop *
blocked_loop (MpelEvent **sleeper)
{
  MpelLoop *loop = new_loop (1);

  mpel_loop_set_max_in_flight (loop, 1);
  g_variant_unref (call_sync (loop, "mpel.ping", NULL));
  *sleeper = g_object_ref (mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 600000)));
  while (mpel_event_get_state (*sleeper) == MPEL_EVENT_STATE_QUEUED)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return loop;
}

#define N_URGENT 5

/* Counts the results of the queued add (i, 1): positive, where the urgent
 * ones are negative. */
static gboolean
count_normal (MpelLoop  *loop,
              MpelEvent *event,
              gpointer   user_data)
{
  GVariant *result = mpel_event_get_result (event);

  if (result != NULL && g_variant_is_of_type (result, G_VARIANT_TYPE_INT32) &&
      g_variant_get_int32 (result) > 0)
    (*(guint *) user_data)++;
  return FALSE;
}

static void
urgent (guint      n,
        guint      n_two,
        BenchJson *json)
{
  MpelEvent *sleeper, *urgent_events[N_URGENT];
  MpelLoop *loop = blocked_loop (&sleeper);
  gint64 t0, s[N_URGENT];
  guint before_urgent = 0, pushed;

  t0 = bench_now_ns ();
  for (guint i = 0; i < n; i++)
    mpel_loop_add_event (loop, "add", bench_args_ii ((gint32) i, 1));
  bench_json_num (json, "urgent_queue_push_s", (bench_now_ns () - t0) / 1e9);
  if (mpel_loop_get_n_pending (loop) < n)
    bench_die ("mpel: only %u events pending after pushing %u behind a busy worker",
               mpel_loop_get_n_pending (loop), n);

  for (guint k = 0; k < N_URGENT; k++)
    {
      urgent_events[k] = mpel_event_new ("add", bench_args_ii (-1000 - (gint32) k, 1));
      mpel_event_set_priority (urgent_events[k], G_PRIORITY_HIGH);
      t0 = bench_now_ns ();
      mpel_loop_push (loop, urgent_events[k]);
      s[k] = bench_now_ns () - t0;
    }
  bench_json_num (json, "urgent_n", n);
  bench_json_num (json, "urgent_push_max_us", bench_percentile_ns (s, N_URGENT, 1.0) / 1e3);
  bench_json_num (json, "urgent_push_us", bench_percentile_ns (s, N_URGENT, 0.5) / 1e3);

  /* The urgent events must go first once the worker is free: how many of
   * the others were answered before the last urgent one (0 is right). */
  g_signal_connect (loop, "output", G_CALLBACK (count_normal), &before_urgent);
  mpel_event_cancel (sleeper);
  for (guint k = 0; k < N_URGENT; k++)
    {
      while (!mpel_event_is_finished (urgent_events[k]))
        g_main_context_iteration (NULL, TRUE);
      if (mpel_event_get_error (urgent_events[k]) != NULL ||
          g_variant_get_int32 (mpel_event_get_result (urgent_events[k])) != -999 - (gint32) k)
        bench_die ("mpel: the urgent add returned a wrong result");
    }
  for (guint k = 0; k < N_URGENT; k++)
    g_object_unref (urgent_events[k]);
  bench_json_num (json, "urgent_overtaken_by", before_urgent);
  mpel_loop_close (loop);
  g_object_unref (sleeper);
  g_object_unref (loop);

  /* n_two pushes at two alternating priorities, behind a busy worker.
   * Stopped after 10 s: a quadratic queue would take minutes. */
  loop = blocked_loop (&sleeper);
  t0 = bench_now_ns ();
  for (pushed = 0; pushed < n_two; pushed++)
    {
      MpelEvent *event = mpel_event_new ("add", bench_args_ii ((gint32) pushed, 1));

      mpel_event_set_priority (event, pushed % 2 ? G_PRIORITY_DEFAULT : G_PRIORITY_HIGH);
      mpel_loop_push (loop, event);
      g_object_unref (event);
      if (pushed % 1024 == 1023 && bench_now_ns () - t0 > 10 * G_GINT64_CONSTANT (1000000000))
        {
          pushed++;
          break;
        }
    }
  bench_json_num (json, "two_priorities_s", (bench_now_ns () - t0) / 1e9);
  bench_json_num (json, "two_priorities_pushed", pushed);
  bench_json_num (json, "two_priorities_n", n_two);
  mpel_loop_close (loop);
  g_object_unref (sleeper);
  g_object_unref (loop);
}

/* ---- allocations per event -------------------------------------------- */

typedef guint64 (*AllocCountFunc) (void);

static void
allocs (guint      n,
        BenchJson *json)
{
  AllocCountFunc count = (AllocCountFunc) dlsym (RTLD_DEFAULT, "bench_alloc_count");
  g_autoptr(MpelLoop) loop = new_loop (1);
  guint64 c0, args, pipelined, calls;

  if (count == NULL)
    bench_die ("--allocs needs LD_PRELOAD=bench-count-alloc.so");
  g_variant_unref (call_sync (loop, "mpel.ping", NULL));
  pipelined_calls_per_s (loop, n);  /* warm-up: every pool and cache filled */
  for (guint i = 0; i < 100; i++)
    roundtrip_once_ns (loop, (gint32) i);

  c0 = count ();
  for (guint i = 0; i < n; i++)
    g_variant_unref (g_variant_ref_sink (bench_args_ii ((gint32) i, 1)));
  args = count () - c0;

  c0 = count ();
  pipelined_calls_per_s (loop, n);
  pipelined = count () - c0;

  c0 = count ();
  for (guint i = 0; i < n / 10; i++)
    roundtrip_once_ns (loop, (gint32) i);
  calls = count () - c0;

  bench_json_num (json, "allocs_n", n);
  bench_json_num (json, "allocs_args", (double) args / n);
  bench_json_num (json, "allocs_per_event_total", (double) pipelined / n);
  bench_json_num (json, "allocs_per_event", (double) pipelined / n - (double) args / n);
  bench_json_num (json, "allocs_per_call_async_total", (double) calls / (n / 10));
  bench_json_num (json, "allocs_per_call_async", (double) calls / (n / 10) - (double) args / n);
  bench_json_str (json, "allocs_g_slice", g_getenv ("G_SLICE") ? g_getenv ("G_SLICE") : "");
  mpel_loop_stop (loop);
}

/* ---- one run of each mode ---------------------------------------------- */

static void
core (guint      n_rt,
      guint      n_pipe,
      BenchJson *json)
{
  g_autoptr(MpelLoop) loop = new_loop (1);
  g_autofree gint64 *samples = g_new (gint64, n_rt);
  gint64 none[3], with[3], ratio[3], t0, c0, cpu, wall;

  begin_phase ("round trip", 120);
  g_variant_unref (call_sync (loop, "mpel.ping", NULL));
  for (guint i = 0; i < MAX (200, n_rt / 5); i++)
    roundtrip_once_ns (loop, (gint32) i);
  t0 = bench_now_ns ();
  c0 = bench_process_cpu_ns ();
  for (guint i = 0; i < n_rt; i++)
    samples[i] = (gint64) roundtrip_once_ns (loop, (gint32) i);
  cpu = bench_process_cpu_ns () - c0;
  wall = bench_now_ns () - t0;
  bench_json_num (json, "roundtrip_us", bench_percentile_ns (samples, n_rt, 0.5) / 1e3);
  bench_json_num (json, "roundtrip_p99_us", bench_percentile_ns (samples, n_rt, 0.99) / 1e3);
  bench_json_num (json, "roundtrip_cpu_per_wall", (double) cpu / wall);
  bench_json_num (json, "roundtrip_n", n_rt);

  /* Without and with kwargs, taking turns. */
  begin_phase ("pipelined", 120);
  pipelined_calls_per_s_with (loop, MAX (10, n_pipe / 10), FALSE);  /* warm-up */
  pipelined_calls_per_s_with (loop, MAX (10, n_pipe / 10), TRUE);
  for (guint r = 0; r < 3; r++)
    {
      none[r] = (gint64) pipelined_calls_per_s_with (loop, n_pipe, FALSE);
      with[r] = (gint64) pipelined_calls_per_s_with (loop, n_pipe, TRUE);
      ratio[r] = (gint64) (1e6 * with[r] / none[r]);
    }
  bench_json_num (json, "pipelined_per_s", bench_percentile_ns (none, 3, 0.5));
  bench_json_num (json, "pipelined_kwargs_per_s", bench_percentile_ns (with, 3, 0.5));
  bench_json_num (json, "kwargs_ratio", bench_percentile_ns (ratio, 3, 0.5) / 1e6);
  bench_json_num (json, "pipelined_n", n_pipe);
  bench_json_num (json, "max_in_flight", mpel_loop_get_max_in_flight (loop));
  mpel_loop_stop (loop);
}

/* The echo of a payload, and for 64 and 256 MiB two memcpy of the same
 * size, taking turns sample by sample. */
static void
payloads (BenchJson *json)
{
  static const struct
  {
    const char *name;
    gsize size;
    guint n;
    gboolean memcpy;
  } sizes[] = {
    { "64KiB", 64 * 1024, 100, FALSE },
    { "4MiB", 4 * 1024 * 1024, 10, FALSE },
    { "64MiB", 64 * 1024 * 1024, 5, TRUE },
    { "256MiB", 256 * 1024 * 1024, 3, TRUE },
  };
  g_autoptr(MpelLoop) loop = new_loop (1);

  g_variant_unref (call_sync (loop, "mpel.ping", NULL));
  for (guint p = 0; p < G_N_ELEMENTS (sizes); p++)
    {
      BenchPayload payload;
      gboolean huge = sizes[p].size > 128 * 1024 * 1024;
      guint n = MAX (huge ? 1 : 3, bench_count (sizes[p].n));
      g_autofree gint64 *s = g_new (gint64, n);
      g_autofree gint64 *m = g_new (gint64, n);
      g_autofree gint64 *r = g_new (gint64, n);
      g_autofree char *name = g_strdup_printf ("payload %s", sizes[p].name);
      g_autofree char *key = g_strdup_printf ("payload_%s_ms", sizes[p].name);
      Memcpy mc = { NULL, NULL, NULL, 0 };
      gint64 t_phase;

      begin_phase (name, 180);
      bench_payload_init (&payload, sizes[p].size);
      if (sizes[p].memcpy)
        memcpy_init (&mc, sizes[p].size);
      echo_once_ns (loop, &payload);  /* warm-up */
      t_phase = bench_now_ns ();
      for (guint i = 0; i < n; i++)
        {
          /* Fewer samples of what takes seconds: the run stays short. */
          if (i > 0 && bench_now_ns () - t_phase > 10 * G_GINT64_CONSTANT (1000000000))
            {
              n = i;
              break;
            }
          s[i] = (gint64) echo_once_ns (loop, &payload);
          if (sizes[p].memcpy)
            {
              m[i] = (gint64) memcpy_two_ns (&mc);
              r[i] = (gint64) (1e6 * s[i] / m[i]);
            }
        }
      bench_json_num (json, key, bench_percentile_ns (s, n, 0.5) / 1e6);
      {
        g_autofree char *nkey = g_strdup_printf ("payload_%s_n", sizes[p].name);

        bench_json_num (json, nkey, n);
      }
      if (sizes[p].memcpy)
        {
          g_autofree char *mkey = g_strdup_printf ("memcpy_2x%s_ms", sizes[p].name);
          g_autofree char *rkey = g_strdup_printf ("payload_%s_vs_memcpy", sizes[p].name);

          bench_json_num (json, mkey, bench_percentile_ns (m, n, 0.5) / 1e6);
          bench_json_num (json, rkey, bench_percentile_ns (r, n, 0.5) / 1e6);
          memcpy_clear (&mc);
        }
      bench_payload_clear (&payload);
    }
  mpel_loop_stop (loop);
}

/* ---- memory per queued event ----------------------------------------- */

static gsize
heap_in_use (void)
{
  struct mallinfo2 mi = mallinfo2 ();

  return mi.uordblks + mi.hblkhd;
}

typedef struct
{
  double args_tree_bytes;
  double args_bytes;
  double event_bytes;
  double close_s;
} Memory;

static void
memory_per_event (guint   n,
                  Memory *result)
{
  g_autoptr(MpelLoop) loop = new_loop (1);
  GVariant **held = g_new (GVariant *, n);
  MpelEvent *sleeper;
  gsize before, after;
  gint64 t0;

  /* The args alone: what a (ii) GVariant costs as it is built (a tree of
   * three values), then serialised, as mpel keeps the arguments of an
   * event queued deep (behind a full window and as many again). The
   * overhead is counted against the serialised form. */
  before = heap_in_use ();
  for (guint i = 0; i < n; i++)
    held[i] = g_variant_ref_sink (bench_args_ii ((gint32) i, 1));
  after = heap_in_use ();
  result->args_tree_bytes = (double) (after - before) / n;
  for (guint i = 0; i < n; i++)
    g_variant_unref (held[i]);
  before = heap_in_use ();
  for (guint i = 0; i < n; i++)
    {
      held[i] = g_variant_ref_sink (bench_args_ii ((gint32) i, 1));
      g_variant_get_data (held[i]);
    }
  after = heap_in_use ();
  result->args_bytes = (double) (after - before) / n;
  for (guint i = 0; i < n; i++)
    g_variant_unref (held[i]);
  g_free (held);

  /* A worker kept busy: a long mpel.sleep in flight, and max-in-flight 1 so
   * that everything pushed after it stays queued in the app. */
  mpel_loop_set_max_in_flight (loop, 1);
  {
    g_autoptr(GVariant) r = call_sync (loop, "mpel.ping", NULL);
  }
  sleeper = g_object_ref (mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 120000)));
  while (mpel_event_get_state (sleeper) == MPEL_EVENT_STATE_QUEUED)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  before = heap_in_use ();
  for (guint i = 0; i < n; i++)
    mpel_loop_add_event (loop, "add", bench_args_ii ((gint32) i, 1));
  after = heap_in_use ();
  result->event_bytes = (double) (after - before) / n;

  if (mpel_loop_get_n_pending (loop) < n)
    bench_die ("mpel: only %u events pending after pushing %u behind a busy worker",
               mpel_loop_get_n_pending (loop), n);

  t0 = bench_now_ns ();
  mpel_loop_close (loop);
  result->close_s = (bench_now_ns () - t0) / 1e9;
  if (mpel_event_get_state (sleeper) != MPEL_EVENT_STATE_FAILED)
    bench_die ("mpel: the sleeping event did not fail on close");
  g_object_unref (sleeper);
}

/* ---- worker pool ------------------------------------------------------ */

#define PRIMES_TO     4000000u
#define PRIMES_CHUNKS 100u

static double
pool_seconds (MpelLoop *loop,
              gint64   *count)
{
  Outputs out = { 0, 0, 0 };
  gulong id = g_signal_connect (loop, "output", G_CALLBACK (on_output), &out);
  guint32 to = (guint32) (PRIMES_TO * MIN (1.0, bench_scale ()));
  guint32 step = to / PRIMES_CHUNKS;
  gint64 t0 = bench_now_ns ();
  double t;

  for (guint c = 0; c < PRIMES_CHUNKS; c++)
    mpel_loop_add_event (loop, "count_primes",
                         g_variant_new ("(uu)", c * step, c == PRIMES_CHUNKS - 1 ? to : (c + 1) * step));
  wait_loop (loop);
  t = (bench_now_ns () - t0) / 1e9;
  g_signal_handler_disconnect (loop, id);
  check_outputs (&out, PRIMES_CHUNKS, -1);
  *count = out.sum;
  return t;
}

/* The machine's own ceiling: the same chunks counted by 1 or 2 forked
 * processes with the same code as the test module's count_primes, no mpel.
 * On a VM whose two vCPUs share a core, or under other load, two processes
 * cannot reach 2x whatever the library does. */
static gboolean
native_is_prime (guint32 n)
{
  if (n < 2)
    return FALSE;
  for (guint32 d = 2; d * d <= n; d++)
    if (n % d == 0)
      return FALSE;
  return TRUE;
}

static double
native_pool_seconds (guint   n_procs,
                     gint64 *count)
{
  guint32 to = (guint32) (PRIMES_TO * MIN (1.0, bench_scale ()));
  guint32 step = to / PRIMES_CHUNKS;
  pid_t pids[2];
  int fds[2][2];
  gint64 t0 = bench_now_ns ();

  g_assert (n_procs <= 2);
  *count = 0;
  for (guint k = 0; k < n_procs; k++)
    {
      if (pipe (fds[k]) != 0)
        bench_die ("pipe: %s", g_strerror (errno));
      pids[k] = fork ();
      if (pids[k] < 0)
        bench_die ("fork: %s", g_strerror (errno));
      if (pids[k] == 0)
        {
          guint32 c_count = 0;

          /* Only computation, write () and _exit () after a fork. */
          for (guint c = k; c < PRIMES_CHUNKS; c += n_procs)
            for (guint32 n = c * step; n < (c == PRIMES_CHUNKS - 1 ? to : (c + 1) * step); n++)
              c_count += native_is_prime (n);
          if (write (fds[k][1], &c_count, sizeof c_count) != sizeof c_count)
            _exit (1);
          _exit (0);
        }
      close (fds[k][1]);
    }
  for (guint k = 0; k < n_procs; k++)
    {
      guint32 c_count;
      int status;

      if (!bench_read_exact (fds[k][0], &c_count, sizeof c_count))
        bench_die ("native pool: a child died");
      close (fds[k][0]);
      *count += c_count;
      if (waitpid (pids[k], &status, 0) != pids[k] || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
        bench_die ("native pool: a child failed");
    }
  return (bench_now_ns () - t0) / 1e9;
}

static void
on_worker_exited (MpelLoop     *loop,
                  guint         index,
                  const GError *reason,
                  gpointer      user_data)
{
  if (reason != NULL)
    bench_die ("mpel: the worker exited with an error: %s", reason->message);
  *(gboolean *) user_data = TRUE;
}

/* ---- main -------------------------------------------------------------- */

static void
misc (BenchJson *json)
{
  gint64 s[5];

  /* Start-up: from mpel_loop_start () to the first result, fresh loops. */
  begin_phase ("start-up", 60);
  for (guint r = 0; r < G_N_ELEMENTS (s); r++)
    {
      g_autoptr(MpelLoop) loop = new_loop (1);
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = NULL;
      gint64 t0 = bench_now_ns ();

      if (!mpel_loop_start (loop, &error))
        bench_die ("mpel: start: %s", error->message);
      result = call_sync (loop, "add", bench_args_ii (1, 1));
      s[r] = bench_now_ns () - t0;
      if (g_variant_get_int32 (result) != 2)
        bench_die ("mpel: add (1, 1) is not 2");
      mpel_loop_close (loop);
    }
  bench_json_num (json, "startup_ms", bench_percentile_ns (s, G_N_ELEMENTS (s), 0.5) / 1e6);

  {
    g_autoptr(MpelLoop) one = new_loop (1);
    g_autoptr(MpelLoop) two = new_loop (2);
    g_autoptr(GError) error = NULL;
    double t1 = G_MAXDOUBLE, t2 = G_MAXDOUBLE, n1 = G_MAXDOUBLE, n2 = G_MAXDOUBLE;
    gint64 c1 = 0, c2 = 0, nc1 = 0, nc2 = 0;

    begin_phase ("worker pool", 180);
    if (!mpel_loop_start (one, &error) || !mpel_loop_start (two, &error))
      bench_die ("mpel: start: %s", error->message);
    /* Warm both: every worker up and its module loaded. */
    for (guint i = 0; i < 4; i++)
      {
        mpel_loop_add_event (one, "count_primes", g_variant_new ("(uu)", 0, 1000));
        mpel_loop_add_event (two, "count_primes", g_variant_new ("(uu)", 0, 1000));
      }
    wait_loop (one);
    wait_loop (two);
    /* Alternate, best of two each: the machine is noisy. The native
     * ceiling is measured in between, under the same conditions. */
    for (guint r = 0; r < 2; r++)
      {
        n1 = MIN (n1, native_pool_seconds (1, &nc1));
        t1 = MIN (t1, pool_seconds (one, &c1));
        n2 = MIN (n2, native_pool_seconds (2, &nc2));
        t2 = MIN (t2, pool_seconds (two, &c2));
      }
    if (c1 != c2 || c1 != nc1 || c1 != nc2)
      bench_die ("mpel: prime counts differ: 1 worker %" G_GINT64_FORMAT ", 2 workers %" G_GINT64_FORMAT
                 ", native %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT, c1, c2, nc1, nc2);
    bench_json_num (json, "pool_primes", c1);
    bench_json_num (json, "pool_1_worker_s", t1);
    bench_json_num (json, "pool_2_workers_s", t2);
    bench_json_num (json, "pool_speedup", t1 / t2);
    bench_json_num (json, "pool_native_1_s", n1);
    bench_json_num (json, "pool_native_2_s", n2);
    bench_json_num (json, "pool_native_speedup", n1 / n2);
    bench_json_num (json, "n_cpus", g_get_num_processors ());
    mpel_loop_stop (one);
    mpel_loop_stop (two);
  }
}

int
main (int   argc,
      char *argv[])
{
  BenchJson json;
  const char *mode = argc > 1 ? argv[1] : "";
  guint n_rt = 2000, n_pipe = 100000;
  guint n_flood = bench_count (1000000);

  signal (SIGALRM, on_alarm);

  /* For callgrind.sh: one worker, N pipelined add (i, 1), nothing else. */
  if (argc == 3 && strcmp (mode, "--pipelined-only") == 0)
    {
      g_autoptr(MpelLoop) loop = new_loop (1);
      guint n = (guint) g_ascii_strtoull (argv[2], NULL, 10);
      gboolean exited = FALSE;
      double rate;

      begin_phase ("pipelined only", 3600);
      g_variant_unref (call_sync (loop, "mpel.ping", NULL));
      rate = pipelined_calls_per_s_with (loop, n, g_getenv ("MPEL_BENCH_KWARGS") != NULL);
      /* Let the worker exit by itself (under callgrind it must live to
       * write its profile) before this process exits. */
      g_signal_connect (loop, "worker-exited", G_CALLBACK (on_worker_exited), &exited);
      mpel_loop_stop (loop);
      while (!exited)
        g_main_context_iteration (NULL, TRUE);
      bench_json_init (&json);
      bench_json_num (&json, "pipelined_n", n);
      bench_json_num (&json, "pipelined_per_s", rate);
      bench_json_print (&json);
      return 0;
    }

  bench_json_init (&json);
  bench_json_str (&json, "contender", "mpel");

  if (strcmp (mode, "--core") == 0)
    {
      bench_core_counts (argc, argv, &n_rt, &n_pipe);
      core (n_rt, n_pipe, &json);
    }
  else if (strcmp (mode, "--payload") == 0)
    payloads (&json);
  else if (strcmp (mode, "--lateness") == 0)
    {
      begin_phase ("60 Hz timer under a flood of results", 180);
      lateness (n_flood, &json);
    }
  else if (strcmp (mode, "--lateness-idle") == 0)
    {
      begin_phase ("60 Hz timer alone", 60);
      lateness_idle (5 * MIN (1.0, bench_scale ()), &json);
    }
  else if (strcmp (mode, "--urgent") == 0)
    {
      begin_phase ("urgent push", 120);
      urgent (n_flood, bench_count (100000), &json);
    }
  else if (strcmp (mode, "--allocs") == 0)
    {
      begin_phase ("allocations per event", 120);
      allocs (bench_count (20000), &json);
    }
  else if (strcmp (mode, "--memory") == 0)
    {
      /* In a process of its own: what earlier phases freed must not be
       * reused by the phase that counts. Run it with G_SLICE=always-malloc
       * (GLib >= 2.76 always does) so that mallinfo2 () sees every
       * allocation and every free. */
      Memory m = { 0, };

      begin_phase ("memory per queued event", 180);
      memory_per_event (n_flood, &m);
      bench_json_num (&json, "memory_n", n_flood);
      bench_json_num (&json, "memory_args_tree_bytes", m.args_tree_bytes);
      bench_json_num (&json, "memory_args_bytes", m.args_bytes);
      bench_json_num (&json, "memory_event_bytes", m.event_bytes);
      bench_json_num (&json, "memory_overhead_bytes", m.event_bytes - m.args_bytes);
      bench_json_num (&json, "memory_close_s", m.close_s);
      bench_json_str (&json, "memory_g_slice", g_getenv ("G_SLICE") ? g_getenv ("G_SLICE") : "");
    }
  else if (strcmp (mode, "--misc") == 0)
    misc (&json);
  else
    bench_die ("usage: bench-mpel --core N_RT N_PIPE | --payload | --lateness | --lateness-idle | "
               "--urgent | --allocs | --memory | --misc | --pipelined-only N");

  alarm (0);
  bench_json_print (&json);
  return 0;
}
