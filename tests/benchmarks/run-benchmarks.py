#!/usr/bin/env python3
# run-benchmarks.py: mpel taking turns with its anchors, then the rows only
# mpel has, in one run; prints the tables and the targets (ratio, limit,
# PASS/FAIL) and writes benchmarks.json and benchmarks.md to the output
# directory.
#
# Taking turns: in each of BENCH_ROUNDS rounds (default 5) a short mpel run
# (bench-mpel --core) comes before every anchor run and after the last one:
#   mpel, bound-spin, mpel, bound-block, mpel, raw, mpel, gdbus, mpel,
#   python-mp, mpel
# Every anchor is compared with the mean of the two mpel runs around it, and
# the ratio reported is the median over the rounds: a change of load hits
# both sides of a ratio alike. Absolute figures are medians over the rounds.
#
# Exit status: 1 when a contender crashed, erred, gave a wrong result or
# passed its deadline. A target that FAILs is reported; it makes the run fail
# only with MPEL_BENCH_ENFORCE=1 in the environment.
#
# The 60 Hz rows (default allocator, G_SLICE=always-malloc, and their
# anchor: the same timer in a process with nothing else to do) take turns
# for BENCH_LATENESS_ROUNDS rounds (default 3); the latest tick is the
# latest of all runs.
#
# BENCH_SCALE=0.1 makes a quick run (fewer iterations; the flood rows use
# 10^5 events instead of 10^6). Standard library only: run by the python3
# that runs meson.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ANCHORS = ["bound-spin", "bound-block", "raw", "gdbus", "python-mp"]
CORE = ["mpel"] + ANCHORS
LATENESS = ["lateness", "lateness-malloc", "lateness-idle"]
SINGLES = ["payload", "lateness", "lateness-malloc", "lateness-idle", "urgent", "memory", "allocs", "allocs-bound", "misc"]

# Round trips and pipelined calls of one --core run, before BENCH_SCALE:
# each run lasts well under a second on 2 vCPUs.
CORE_COUNTS = {
    "mpel": (1500, 20000),
    "bound-spin": (1500, 20000),
    "bound-block": (1500, 20000),
    "raw": (1500, 20000),
    "gdbus": (1000, 5000),
    "python-mp": (1000, 20000),
}

DEADLINE_S = 240


def scale():
    try:
        v = float(os.environ.get("BENCH_SCALE") or 1)
    except ValueError:
        v = 1
    return v if v > 0 else 1


def run(name, argv, env):
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, env=env, timeout=DEADLINE_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"no result within {DEADLINE_S} s"
    except OSError as e:
        return None, f"cannot run: {e}"
    took = time.monotonic() - t0
    out = proc.stdout.decode(errors="replace").strip().splitlines()
    if proc.returncode != 0:
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
        return None, f"failed with {how}"
    try:
        result = json.loads(out[-1])
    except (IndexError, ValueError):
        return None, "printed no JSON result"
    result["wall_s"] = round(took, 2)
    print(f"== {name}: {took:.1f} s", file=sys.stderr, flush=True)
    return result, None


def machine():
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": mem, "kernel": platform.release(),
            "system": platform.system(), "python": platform.python_version()}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15):
        return f"{int(v):,}".replace(",", " ") + unit
    if abs(v) >= 10000:
        s = f"{v:,.0f}".replace(",", " ")
    elif abs(v) >= 100:
        s = f"{v:.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    elif abs(v) >= 1:
        s = f"{v:.2f}"
    else:
        s = f"{v:.3f}"
    return s + unit


def median(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


class Plan:
    def __init__(self, args, env):
        self.args = args
        self.env = env
        s = scale()
        self.counts = {k: (max(10, int(a * s)), max(10, int(b * s))) for k, (a, b) in CORE_COUNTS.items()}

    def core_argv(self, name):
        a = self.args
        n_rt, n_pipe = self.counts[name]
        counts = ["--core", str(n_rt), str(n_pipe)]
        if name == "mpel":
            return [a.mpel] + counts if a.mpel else None
        if name == "bound-spin":
            return [a.bound, "--spin"] + counts if a.bound else None
        if name == "bound-block":
            return [a.bound] + counts if a.bound else None
        if name == "raw":
            return [a.raw] + counts if a.raw else None
        if name == "gdbus":
            return [a.gdbus] + counts if a.gdbus else None
        if name == "python-mp":
            py = a.mp_python or sys.executable
            if not a.mp_script or not py or not shutil.which(py):
                return None
            return [py, a.mp_script] + counts
        return None

    def single(self, name):
        """argv and environment of a row that runs once, in a process of its own."""
        a = self.args
        if not a.mpel and name != "allocs-bound":
            return None, None
        env = dict(self.env)
        if name == "payload":
            return [a.mpel, "--payload"], env
        if name == "lateness":
            return [a.mpel, "--lateness"], env
        if name == "lateness-malloc":
            env["G_SLICE"] = "always-malloc"
            return [a.mpel, "--lateness"], env
        if name == "lateness-idle":
            return [a.mpel, "--lateness-idle"], env
        if name == "urgent":
            return [a.mpel, "--urgent"], env
        if name == "memory":
            # mallinfo2 () sees every allocation only without the slice
            # allocator (GLib >= 2.76 has none).
            env["G_SLICE"] = "always-malloc"
            return [a.mpel, "--memory"], env
        if name == "allocs":
            if not a.count_alloc:
                return None, None
            env["G_SLICE"] = "always-malloc"
            env["LD_PRELOAD"] = os.path.abspath(a.count_alloc)
            return [a.mpel, "--allocs"], env
        if name == "allocs-bound":
            if not a.count_alloc or not a.bound:
                return None, None
            env["G_SLICE"] = "always-malloc"
            env["LD_PRELOAD"] = os.path.abspath(a.count_alloc)
            return [a.bound, "--allocs"], env
        if name == "misc":
            return [a.mpel, "--misc"], env
        return None, None


def lateness_rounds(plan, names, errors):
    """The 60 Hz rows, default allocator and G_SLICE=always-malloc, and the
    same timer alone, taking turns for BENCH_LATENESS_ROUNDS rounds (default
    3). Each row keeps
    every run (with the load average before it) and sums them up: the
    latest tick of all runs, the ticks over 8 ms and the frames missed
    added up, the medians of the rest."""
    try:
        rounds = max(1, int(os.environ.get("BENCH_LATENESS_ROUNDS") or 3))
    except ValueError:
        rounds = 3
    runs = {n: [] for n in names}
    for r in range(rounds):
        for name in names:
            argv, env = plan.single(name)
            la = loadavg()
            res, err = run(f"round {r + 1}/{rounds}: {name}", argv, env)
            if err:
                errors.append(f"{name}: {err}")
                continue
            res["loadavg_before"] = la
            runs[name].append(res)
    out = {}
    for name, rs in runs.items():
        if not rs:
            continue
        keys = {k for x in rs for k, v in x.items() if isinstance(v, (int, float))}
        agg = {k: median([x.get(k) for x in rs]) for k in keys}
        for k in ("lateness_max_ms", "lateness_max_own_ms"):
            agg[k] = max((x[k] for x in rs if isinstance(x.get(k), (int, float))), default=None)
        for k in ("lateness_over_8ms", "lateness_missed_frames", "lateness_ticks"):
            agg[k] = sum(x.get(k, 0) for x in rs)
        agg["lateness_runs"] = rs
        out[name] = agg
    return out


def take_turns(plan, rounds, anchors, errors):
    """Runs the rounds. Returns {contender: [result, …]} and
    {anchor: [(mpel_mean_result, anchor_result), …]}."""
    runs = {c: [] for c in CORE}
    pairs = {a: [] for a in anchors}
    failed = set()
    for r in range(rounds):
        seq = []
        for a in anchors:
            seq += ["mpel", a]
        seq.append("mpel")
        results = []
        for i, c in enumerate(seq):
            if c in failed:
                results.append(None)
                continue
            argv = plan.core_argv(c)
            if argv is None:
                results.append(None)
                continue
            res, err = run(f"round {r + 1}/{rounds}: {c}", argv, plan.env)
            if err:
                errors.append(f"{c}: {err}")
                failed.add(c)
                res = None
            results.append(res)
            if res:
                runs[c].append(res)
        for i, c in enumerate(seq):
            if c == "mpel" or results[i] is None:
                continue
            around = [x for x in (results[i - 1], results[i + 1]) if x]
            if around:
                pairs[c].append((around, results[i]))
    return runs, pairs


def paired_ratio(pairs, key, invert=False):
    """Median over the rounds of mpel (mean of the runs around) / anchor."""
    ratios = []
    for around, anchor in pairs:
        m = [x.get(key) for x in around if isinstance(x.get(key), (int, float))]
        a = anchor.get(key)
        if not m or not isinstance(a, (int, float)) or a == 0:
            continue
        v = sum(m) / len(m) / a
        ratios.append(1 / v if invert and v else v)
    return median(ratios)


def build_targets(core, pairs, single):
    targets = []
    m = core.get("mpel", {})

    def target(name, value, op, limit, detail):
        if value is None:
            verdict = "n/a"
        elif op == "<=":
            verdict = "PASS" if value <= limit else "FAIL"
        else:
            verdict = "PASS" if value >= limit else "FAIL"
        targets.append({"target": name, "value": value, "op": op, "limit": limit,
                        "verdict": verdict, "detail": detail})

    # The stronger bound is the honest one: whichever pipelines faster.
    bounds = [b for b in ("bound-spin", "bound-block") if core.get(b, {}).get("pipelined_per_s")]
    best = max(bounds, key=lambda b: core[b]["pipelined_per_s"]) if bounds else None
    target("pipelined vs fair bound", paired_ratio(pairs.get(best, []), "pipelined_per_s") if best else None,
           ">=", 0.8, f"mpel calls/s / {best or 'fair bound'} calls/s, taking turns")
    target("round trip vs spinning bound", paired_ratio(pairs.get("bound-spin", []), "roundtrip_us"),
           "<=", 1.15, "mpel round trip / fair bound spinning 50 µs, taking turns")
    target("CPU per round trip / wall time", m.get("roundtrip_cpu_per_wall"), "<=", 1.3,
           "app process user+sys CPU / wall time during the round trips")
    u = single.get("urgent", {})
    target("urgent push behind 10^6 queued (µs)", u.get("urgent_push_us"), "<=", 20,
           "one mpel_loop_push at G_PRIORITY_HIGH, median of 5")
    target("60 Hz timer, latest tick (ms)", single.get("lateness", {}).get("lateness_max_ms"), "<=", 8,
           "while 10^6 results stream in, default allocator, latest of the runs")
    target("  same, G_SLICE=always-malloc (ms)", single.get("lateness-malloc", {}).get("lateness_max_ms"),
           "<=", 8, "as GLib >= 2.76 always allocates, taking turns with the default")
    target("kwargs vs none, pipelined", m.get("kwargs_ratio"), ">=", 0.9,
           "calls/s with a{sv} of 3 entries / without, taking turns")
    target("bytes per queued event beyond args", single.get("memory", {}).get("memory_overhead_bytes"),
           "<=", 320, "heap growth per queued (ii) event minus the args' own size")
    p = single.get("payload", {})
    target("64 MiB echo vs two memcpy", p.get("payload_64MiB_vs_memcpy"), "<=", 2.5,
           "taking turns sample by sample")
    target("256 MiB echo vs two memcpy", p.get("payload_256MiB_vs_memcpy"), "<=", 3,
           "taking turns sample by sample")
    # Issue 4's targets, now measured taking turns.
    target("pipelined vs python-mp", paired_ratio(pairs.get("python-mp", []), "pipelined_per_s"),
           ">=", 2.5, "mpel calls/s / multiprocessing.Queue calls/s")
    target("pipelined vs gdbus", paired_ratio(pairs.get("gdbus", []), "pipelined_per_s"),
           ">=", 12, "mpel calls/s / GDBus p2p calls/s")
    misc = single.get("misc", {})
    sp, nsp = misc.get("pool_speedup"), misc.get("pool_native_speedup")
    target("pool: 2 workers vs 1, relative to the machine's own",
           sp / nsp if isinstance(sp, (int, float)) and nsp else None, ">=", 0.9,
           "mpel speedup / speedup of 2 forked processes doing the same work")
    return targets


def tables(core, pairs, single, targets, info):
    cols = [c for c in CORE if core.get(c)]
    lines = ["| taking turns (median of rounds) | " + " | ".join(cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for label, key in [("round trip, median (µs)", "roundtrip_us"),
                       ("round trip, p99 (µs)", "roundtrip_p99_us"),
                       ("app CPU / wall during round trips", "roundtrip_cpu_per_wall"),
                       ("pipelined (calls/s)", "pipelined_per_s"),
                       ("runs", "runs")]:
        lines.append(f"| {label} | " + " | ".join(fmt(core[c].get(key)) for c in cols) + " |")
    for label, key, inv in [("mpel / anchor: round trip", "roundtrip_us", False),
                            ("mpel / anchor: pipelined", "pipelined_per_s", False)]:
        cells = ["—" if c == "mpel" else fmt(paired_ratio(pairs.get(c, []), key, inv)) for c in cols]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    m = core.get("mpel", {})
    p, u = single.get("payload", {}), single.get("urgent", {})
    la, lm = single.get("lateness", {}), single.get("lateness-malloc", {})
    li = single.get("lateness-idle", {})
    mem, al, misc = single.get("memory", {}), single.get("allocs", {}), single.get("misc", {})
    alb = single.get("allocs-bound", {})
    def n_of(v, default):
        return fmt(v) if isinstance(v, (int, float)) else default

    def per_run(row):
        rs = row.get("lateness_runs")
        return ", ".join(f"{fmt(x.get('lateness_max_ms'))} ({fmt(x.get('loadavg_before'))})" for x in rs) if rs else None

    def cpu_wait(row):
        if row.get("lateness_app_wait_s") is None:
            return None
        return f"{fmt(row.get('lateness_app_wait_s'))} / {fmt(row.get('lateness_app_cpu_s'))}"

    n_flood = n_of(la.get("lateness_n") or lm.get("lateness_n"), "10^6")
    n_urgent = n_of(u.get("urgent_n"), "10^6")
    n_two = n_of(u.get("two_priorities_n"), "10^5")
    two = None
    if u.get("two_priorities_pushed"):
        two = f"{fmt(u['two_priorities_s'])}"
        if u["two_priorities_pushed"] < u.get("two_priorities_n", 0):
            two = f"> {two} (stopped after {u['two_priorities_pushed']:.0f})"
    extra = [
        ("pipelined with kwargs (calls/s)", m.get("pipelined_kwargs_per_s")),
        ("kwargs / none, pipelined", m.get("kwargs_ratio")),
        ("64 KiB echo (ms)", p.get("payload_64KiB_ms")),
        ("4 MiB echo (ms)", p.get("payload_4MiB_ms")),
        ("64 MiB echo (ms)", p.get("payload_64MiB_ms")),
        ("two memcpy of 64 MiB (ms)", p.get("memcpy_2x64MiB_ms")),
        ("64 MiB echo / two memcpy, taking turns", p.get("payload_64MiB_vs_memcpy")),
        ("256 MiB echo (ms)", p.get("payload_256MiB_ms")),
        ("two memcpy of 256 MiB (ms)", p.get("memcpy_2x256MiB_ms")),
        ("256 MiB echo / two memcpy, taking turns", p.get("payload_256MiB_vs_memcpy")),
        (f"60 Hz timer during {n_flood} results, {len(la.get('lateness_runs', []))} runs: "
         "latest tick (ms)", la.get("lateness_max_ms")),
        ("  latest tick of each run (ms), load average before it", per_run(la)),
        ("  p99 lateness (ms)", la.get("lateness_p99_ms")),
        ("  ticks over 8 ms late / ticks", f"{fmt(la.get('lateness_over_8ms'))} / {fmt(la.get('lateness_ticks'))}"
         if la else None),
        ("  frames missed (ticks over 16.7 ms late)", la.get("lateness_missed_frames")),
        ("  all results in (s)", la.get("lateness_total_s")),
        ("  app waiting for a CPU / on a CPU, median of runs (s)", cpu_wait(la)),
        ("  latest tick less the app's wait for a CPU after its deadline (ms)", la.get("lateness_max_own_ms")),
        ("same, G_SLICE=always-malloc, taking turns: latest tick (ms)", lm.get("lateness_max_ms")),
        ("  latest tick of each run (ms), load average before it", per_run(lm)),
        ("  p99 lateness (ms)", lm.get("lateness_p99_ms")),
        ("  ticks over 8 ms late / ticks", f"{fmt(lm.get('lateness_over_8ms'))} / {fmt(lm.get('lateness_ticks'))}"
         if lm else None),
        ("  frames missed (ticks over 16.7 ms late)", lm.get("lateness_missed_frames")),
        ("  all results in (s)", lm.get("lateness_total_s")),
        ("  app waiting for a CPU / on a CPU, median of runs (s)", cpu_wait(lm)),
        ("  latest tick less the app's wait for a CPU after its deadline (ms)", lm.get("lateness_max_own_ms")),
        ("anchor, taking turns: the same timer alone (nothing else in its process): latest tick (ms)",
         li.get("lateness_max_ms")),
        ("  latest tick of each run (ms), load average before it", per_run(li)),
        ("  ticks over 8 ms late / ticks", f"{fmt(li.get('lateness_over_8ms'))} / {fmt(li.get('lateness_ticks'))}"
         if li else None),
        ("  frames missed (ticks over 16.7 ms late)", li.get("lateness_missed_frames")),
        ("  latest tick less its wait for a CPU after its deadline (ms)", li.get("lateness_max_own_ms")),
        (f"urgent push behind {n_urgent} queued: median of 5 (µs)", u.get("urgent_push_us")),
        ("  slowest of 5 (µs)", u.get("urgent_push_max_us")),
        ("  queued events answered before the urgent ones", u.get("urgent_overtaken_by")),
        (f"  pushing the {n_urgent} (s)", u.get("urgent_queue_push_s")),
        (f"{n_two} pushes at two alternating priorities (s)", two),
        ("allocations per event, app, beyond args (pipelined)", al.get("allocs_per_event")),
        ("  args included", al.get("allocs_per_event_total")),
        ("  the fair bound, beyond args / args included",
         f"{fmt(alb.get('allocs_per_event'))} / {fmt(alb.get('allocs_per_event_total'))}" if alb else None),
        ("allocations per call_async round trip, beyond args", al.get("allocs_per_call_async")),
        ("  args included", al.get("allocs_per_call_async_total")),
        ("  the (ii) args alone", al.get("allocs_args")),
        ("bytes per queued event, args included", mem.get("memory_event_bytes")),
        ("  the (ii) args alone, as built (a tree)", mem.get("memory_args_tree_bytes")),
        ("  the (ii) args alone, serialised (as a deep-queued event keeps them)", mem.get("memory_args_bytes")),
        ("  beyond the serialised args", mem.get("memory_overhead_bytes")),
        (f"close () with {n_of(mem.get('memory_n'), '10^6')} queued (s)", mem.get("memory_close_s")),
        ("mpel_loop_start () to first result (ms)", misc.get("startup_ms")),
        ("pool: 1 worker / 2 workers (s)", f"{fmt(misc.get('pool_1_worker_s'))} / {fmt(misc.get('pool_2_workers_s'))}"
         if misc else None),
        ("pool: 1 / 2 forked processes without mpel (s)",
         f"{fmt(misc.get('pool_native_1_s'))} / {fmt(misc.get('pool_native_2_s'))}" if misc else None),
        ("mpel max-in-flight (default)", m.get("max_in_flight")),
    ]
    lines2 = ["| mpel alone | |", "|---|---:|"] + [f"| {label} | {fmt(v)} |" for label, v in extra]
    lines3 = ["| target | measured | limit | verdict |", "|---|---:|---:|---|"]
    for t in targets:
        lines3.append(f"| {t['target']} | {fmt(t['value'])} | {t['op']} {fmt(t['limit'])} | {t['verdict']} |")
    head = (f"mpel benchmarks, {info['date']}, {info['machine']['cpus']} CPUs "
            f"({info['machine']['cpu']}), Linux {info['machine']['kernel']}, "
            f"{info['rounds']} rounds, BENCH_SCALE {info['scale']}, {info['duration_s']:.0f} s, "
            f"load average {info.get('loadavg_before', '?')} before, {info.get('loadavg_after', '?')} after")
    return "\n".join([head, "", *lines, "", *lines2, "", *lines3]) + "\n"


def main():
    ap = argparse.ArgumentParser(description="mpel benchmarks, taking turns")
    ap.add_argument("--bound")
    ap.add_argument("--raw")
    ap.add_argument("--gdbus")
    ap.add_argument("--mpel")
    ap.add_argument("--count-alloc", help="bench-count-alloc.so, LD_PRELOADed for the allocations row")
    ap.add_argument("--mp-script")
    ap.add_argument("--mp-python", help="python3 for the multiprocessing anchor")
    ap.add_argument("--output", default=".", help="directory for benchmarks.json and benchmarks.md")
    ap.add_argument("--only", help="comma-separated anchors and rows to run (mpel's core rounds "
                    "run with any anchor): " + ",".join(["mpel"] + ANCHORS + SINGLES))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS") or 5))
    args = ap.parse_args()

    only = set(args.only.split(",")) if args.only else set(ANCHORS + SINGLES)
    env = dict(os.environ)
    # A benchmark measures the library, not GLib's debugging aids.
    for var in ("G_DEBUG", "G_SLICE", "MALLOC_CHECK_", "MALLOC_PERTURB_", "LD_PRELOAD"):
        env.pop(var, None)

    t_start = time.monotonic()
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "scale": scale(),
        "rounds": max(1, args.rounds),
        "loadavg_before": loadavg(),
    }
    if info["loadavg_before"] is not None and info["loadavg_before"] > 0.5:
        print(f"warning: load average {info['loadavg_before']} before the run: other processes "
              "share the CPUs and the timings will be noisy", file=sys.stderr)
    plan = Plan(args, env)
    errors = []

    anchors = [a for a in ANCHORS if a in only and plan.core_argv(a)]
    # mpel's core rounds run with any anchor, or alone when asked for
    # ("--only mpel"); not for a selection of other rows only.
    if anchors or "mpel" in only:
        runs, pairs = take_turns(plan, info["rounds"], anchors, errors)
    else:
        runs, pairs = {c: [] for c in CORE}, {}
    core = {}
    for c, rs in runs.items():
        if rs:
            keys = {k for r in rs for k, v in r.items() if isinstance(v, (int, float))}
            core[c] = {k: median([r.get(k) for r in rs]) for k in keys}
            core[c]["runs"] = len(rs)

    single = {}
    lateness = [n for n in LATENESS if n in only and plan.single(n)[0]]
    if lateness:
        single.update(lateness_rounds(plan, lateness, errors))
    for name in SINGLES:
        if name not in only or name in LATENESS:
            continue
        argv, env_s = plan.single(name)
        if argv is None:
            continue
        res, err = run(name, argv, env_s)
        if err:
            errors.append(f"{name}: {err}")
        else:
            single[name] = res

    info["loadavg_after"] = loadavg()
    info["duration_s"] = time.monotonic() - t_start
    targets = build_targets(core, pairs, single)
    text = tables(core, pairs, single, targets, info)
    os.makedirs(args.output, exist_ok=True)
    json_path = os.path.join(os.path.abspath(args.output), "benchmarks.json")
    md_path = os.path.join(os.path.abspath(args.output), "benchmarks.md")
    with open(json_path, "w") as f:
        json.dump({**info, "core": core, "runs": runs, "single": single, "targets": targets,
                   "errors": errors}, f, indent=2)
        f.write("\n")
    with open(md_path, "w") as f:
        f.write(text)

    print(text)
    print(f"JSON: {json_path}")
    print(f"Markdown: {md_path}")
    failed = [t["target"].strip() for t in targets if t["verdict"] == "FAIL"]
    if failed:
        print(f"{len(failed)} target(s) FAIL: {', '.join(failed)}"
              + ("" if os.environ.get("MPEL_BENCH_ENFORCE") == "1" else
                 " (reported only; MPEL_BENCH_ENFORCE=1 makes them fatal)"), file=sys.stderr)
    if errors:
        print("Contenders that did not finish:", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 1
    if failed and os.environ.get("MPEL_BENCH_ENFORCE") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
