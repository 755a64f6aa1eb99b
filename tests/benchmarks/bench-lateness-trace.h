/* bench-lateness-trace.h: where a late tick of the 60 Hz row went (see
 * bench-lateness-trace.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bench-common.h"

enum
{
  BENCH_MARK_START,
  BENCH_MARK_POLL_ENTER,
  BENCH_MARK_POLL_EXIT,
  BENCH_MARK_PUSH_BEGIN,
  BENCH_MARK_PUSH_END,
  BENCH_MARK_TICK,
  BENCH_MARK_END,
};

void bench_trace_start     (const guint64 *count,
                            GPid           worker);
void bench_trace_mark      (int            kind);
void bench_trace_tick      (gint64         deadline,
                            gint64         late);
void bench_trace_finish    (BenchJson     *json);
