/* bench-lateness-trace.c: where a late tick of the 60 Hz row went.
 *
 * Records, at every main-context poll (a poll function around g_poll ())
 * and around the benchmark's own pushes, the wall time, the app thread's
 * CPU time and its run-queue wait (/proc/thread-self/schedstat: the time
 * it was runnable but not running), about 3 µs a mark. For every tick it
 * takes out of the lateness the wait for a CPU after the deadline: what is
 * left (lateness_max_own_ms, an upper bound) is what the app's own work
 * made of it, and any sleep past the deadline that the kernel does not
 * count as a wait. For a tick later than 8 ms it adds up the time on a
 * CPU, waiting for a CPU, in poll and pushing. With MPEL_BENCH_TRACE=MS,
 * every tick later than MS (8 if not a number) is printed on stderr with
 * the longest stretch outside poll (one iteration's dispatches).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE 1

#include <fcntl.h>
#include <string.h>

#include "bench-lateness-trace.h"

#define RING_SIZE (1u << 16)

typedef struct
{
  gint64 t;      /* monotonic µs */
  gint64 cpu;    /* thread CPU, ns */
  gint64 wait;   /* run-queue wait, ns */
  guint64 count; /* results handled */
  int kind;
} Mark;

static struct
{
  gboolean on;
  gboolean verbose;
  gint64 verbose_usec;
  gint64 max_own_usec;
  int self_fd, worker_fd;
  GPollFunc poll_func;
  const guint64 *count;
  Mark ring[RING_SIZE];
  guint64 n_marks;
  /* Totals over the late ticks, ms */
  double late_ms, late_cpu_ms, late_wait_ms, late_blocked_ms, late_push_ms;
  guint n_late;
  /* The whole flood */
  gint64 t0, cpu0, wait0, worker_cpu0, worker_wait0;
} tr;

static gboolean
read_schedstat (int     fd,
                gint64 *run,
                gint64 *wait)
{
  char buf[128];
  ssize_t n;

  if (fd < 0 || (n = pread (fd, buf, sizeof buf - 1, 0)) <= 0)
    return FALSE;
  buf[n] = '\0';
  return sscanf (buf, "%" G_GINT64_MODIFIER "d %" G_GINT64_MODIFIER "d", run, wait) == 2;
}

static void
mark (int kind)
{
  Mark *m = &tr.ring[tr.n_marks++ % RING_SIZE];
  struct timespec ts;
  gint64 run;

  m->t = g_get_monotonic_time ();
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  m->cpu = (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
  if (!read_schedstat (tr.self_fd, &run, &m->wait))
    m->wait = 0;
  m->count = tr.count ? *tr.count : 0;
  m->kind = kind;
}

static int
traced_poll (GPollFD *fds,
             guint    nfds,
             int      timeout)
{
  int ret;

  mark (BENCH_MARK_POLL_ENTER);
  ret = tr.poll_func (fds, nfds, timeout);
  mark (BENCH_MARK_POLL_EXIT);
  return ret;
}

void
bench_trace_start (const guint64 *count,
                   GPid           worker)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/schedstat", (int) worker);

  tr.on = TRUE;
  tr.verbose = g_getenv ("MPEL_BENCH_TRACE") != NULL;
  tr.verbose_usec = tr.verbose ? (gint64) (g_ascii_strtod (g_getenv ("MPEL_BENCH_TRACE"), NULL) * 1000) : 0;
  if (tr.verbose && tr.verbose_usec <= 0)
    tr.verbose_usec = 8000;
  tr.count = count;
  tr.self_fd = open ("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  tr.worker_fd = worker > 0 ? open (path, O_RDONLY | O_CLOEXEC) : -1;
  tr.poll_func = g_main_context_get_poll_func (NULL);
  g_main_context_set_poll_func (NULL, traced_poll);
  mark (BENCH_MARK_START);
  tr.t0 = tr.ring[0].t;
  tr.cpu0 = tr.ring[0].cpu;
  tr.wait0 = tr.ring[0].wait;
  if (!read_schedstat (tr.worker_fd, &tr.worker_cpu0, &tr.worker_wait0))
    tr.worker_cpu0 = tr.worker_wait0 = -1;
}

void
bench_trace_mark (int kind)
{
  if (tr.on)
    mark (kind);
}

static gint64
overlap (gint64 a0, gint64 a1, gint64 b0, gint64 b1)
{
  return MAX (0, MIN (a1, b1) - MAX (a0, b0));
}

typedef struct
{
  gint64 in_poll, pushing;           /* µs after the deadline */
  const Mark *longest_from, *longest_to; /* the longest stretch outside poll */
} Window;

/* Splits the time from @deadline to @now over the marks @first to @last. */
static void
scan_window (guint64     first,
             guint64     last,
             gint64      deadline,
             const Mark *now,
             Window     *w)
{
  const Mark *poll_enter = NULL, *poll_exit = NULL, *push_begin = NULL;
  gint64 longest = -1;

  memset (w, 0, sizeof *w);
  for (guint64 i = first; i <= last; i++)
    {
      const Mark *m = &tr.ring[i % RING_SIZE];
      const Mark *to = m->kind == BENCH_MARK_POLL_ENTER || i == last ? m : NULL;

      if (to != NULL && poll_exit != NULL && overlap (poll_exit->t, to->t, deadline, now->t) > longest)
        {
          longest = overlap (poll_exit->t, to->t, deadline, now->t);
          w->longest_from = poll_exit;
          w->longest_to = to;
        }
      switch (m->kind)
        {
        case BENCH_MARK_POLL_ENTER:
          poll_enter = m;
          poll_exit = NULL;
          break;
        case BENCH_MARK_POLL_EXIT:
          if (poll_enter != NULL)
            w->in_poll += overlap (poll_enter->t, m->t, deadline, now->t);
          poll_enter = NULL;
          poll_exit = m;
          break;
        case BENCH_MARK_PUSH_BEGIN:
          push_begin = m;
          break;
        case BENCH_MARK_PUSH_END:
          if (push_begin != NULL)
            w->pushing += overlap (push_begin->t, m->t, deadline, now->t);
          push_begin = NULL;
          break;
        default:
          break;
        }
    }
}

/* A tick was just marked, @deadline its deadline. */
static void
tick (gint64   deadline,
      gboolean over,
      gboolean verbose)
{
  guint64 last = tr.n_marks - 1, first = last;
  const Mark *now = &tr.ring[last % RING_SIZE], *from;
  gint64 own;
  Window w;

  while (first > 0 && last - first < RING_SIZE - 1 && tr.ring[(first - 1) % RING_SIZE].t >= deadline)
    first--;
  if (first > 0 && last - first < RING_SIZE - 1)
    first--;
  from = &tr.ring[first % RING_SIZE];

  /* What is left of the lateness once the time the app waited for a CPU
   * after the deadline is taken out: its own work, and any sleep past the
   * deadline that the kernel does not count as waiting (a timer or a
   * vCPU that runs late). The wait is known from the mark before the
   * deadline on; all of it before the deadline is taken as waiting, so
   * that this is an upper bound. */
  own = (now->t - deadline) - MAX (0, (now->wait - from->wait) / 1000 - MAX (0, deadline - from->t));
  tr.max_own_usec = MAX (tr.max_own_usec, own);
  if (!verbose && !over)
    return;

  scan_window (first, last, deadline, now, &w);
  if (over)
    {
      tr.n_late++;
      tr.late_ms += (now->t - deadline) / 1e3;
      tr.late_cpu_ms += (now->cpu - from->cpu) / 1e6;
      tr.late_wait_ms += (now->wait - from->wait) / 1e6;
      tr.late_blocked_ms += w.in_poll / 1e3;
      tr.late_push_ms += w.pushing / 1e3;
    }
  if (!verbose)
    return;

  g_printerr ("late tick %.1f ms (%.1f ms not waiting for a CPU after the deadline, at most) (at %.3f s): from the mark before the deadline (%.1f ms before it): "
              "on a CPU %.1f ms, waiting for a CPU %.1f ms; after the deadline: in poll %.1f ms, "
              "pushing %.1f ms; %" G_GUINT64_FORMAT " results, %" G_GUINT64_FORMAT " marks\n",
              (now->t - deadline) / 1e3, own / 1e3, (now->t - tr.t0) / 1e6, (deadline - from->t) / 1e3,
              (now->cpu - from->cpu) / 1e6, (now->wait - from->wait) / 1e6, w.in_poll / 1e3,
              w.pushing / 1e3, now->count - from->count, last - first);
  if (w.longest_to != NULL)
    g_printerr ("  longest stretch outside poll: %.1f ms, on a CPU %.1f ms, waiting %.1f ms, "
                "%" G_GUINT64_FORMAT " results\n",
                (w.longest_to->t - w.longest_from->t) / 1e3,
                (w.longest_to->cpu - w.longest_from->cpu) / 1e6,
                (w.longest_to->wait - w.longest_from->wait) / 1e6,
                w.longest_to->count - w.longest_from->count);
}

void
bench_trace_tick (gint64 deadline,
                  gint64 late)
{
  if (!tr.on)
    return;
  mark (BENCH_MARK_TICK);
  tick (deadline, late > 8000, tr.verbose && late > tr.verbose_usec);
}

void
bench_trace_finish (BenchJson *json)
{
  Mark end;
  gint64 worker_cpu, worker_wait;

  if (!tr.on)
    return;
  g_main_context_set_poll_func (NULL, tr.poll_func);
  mark (BENCH_MARK_END);
  end = tr.ring[(tr.n_marks - 1) % RING_SIZE];
  bench_json_num (json, "lateness_app_cpu_s", (end.cpu - tr.cpu0) / 1e9);
  bench_json_num (json, "lateness_app_wait_s", (end.wait - tr.wait0) / 1e9);
  if (tr.worker_cpu0 >= 0 && read_schedstat (tr.worker_fd, &worker_cpu, &worker_wait))
    {
      bench_json_num (json, "lateness_worker_cpu_s", (worker_cpu - tr.worker_cpu0) / 1e9);
      bench_json_num (json, "lateness_worker_wait_s", (worker_wait - tr.worker_wait0) / 1e9);
    }
  bench_json_num (json, "lateness_max_own_ms", tr.max_own_usec / 1e3);
  bench_json_num (json, "lateness_trace_marks", tr.n_marks);
  bench_json_num (json, "lateness_late_ticks_ms", tr.late_ms);
  bench_json_num (json, "lateness_late_ticks_cpu_ms", tr.late_cpu_ms);
  bench_json_num (json, "lateness_late_ticks_wait_ms", tr.late_wait_ms);
  bench_json_num (json, "lateness_late_ticks_poll_ms", tr.late_blocked_ms);
  bench_json_num (json, "lateness_late_ticks_push_ms", tr.late_push_ms);
  if (tr.self_fd >= 0)
    close (tr.self_fd);
  if (tr.worker_fd >= 0)
    close (tr.worker_fd);
  tr.on = FALSE;
}
