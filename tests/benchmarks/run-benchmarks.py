#!/usr/bin/env python3
# run-benchmarks.py: runs every contender in one go, prints a table of the
# results and of the targets (ratio, PASS/FAIL), and writes benchmarks.json
# (and benchmarks.md, the same tables in Markdown) to the output directory.
#
# Exits 0 when every contender ran, even if targets FAIL: the benchmark
# reports, the tests check behaviour. Exits 1 when a contender crashed,
# errored, gave wrong results or passed its deadline.
#
# Standard library only: run by the python3 that meson runs on.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

CONTENDERS = ["raw", "gdbus", "python-mp", "mpel"]

# name, contender -> deadline in seconds
DEADLINES = {"raw": 180, "gdbus": 300, "python-mp": 300, "mpel": 900}


def run_contender(name, argv, env):
    print(f"== {name}: {' '.join(argv)}", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, env=env, timeout=DEADLINES[name],
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"no result within {DEADLINES[name]} s"
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
    print(f"== {name}: done in {took:.1f} s", file=sys.stderr, flush=True)
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
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": mem,
        "kernel": platform.release(),
        "system": platform.system(),
        "python": platform.python_version(),
    }


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


def get(results, contender, key):
    r = results.get(contender)
    if not isinstance(r, dict):
        return None
    return r.get(key)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def build_targets(results):
    m = lambda k: get(results, "mpel", k)
    targets = []

    def target(name, value, op, limit, detail):
        if value is None:
            verdict = "n/a"
        elif op == "<=":
            verdict = "PASS" if value <= limit else "FAIL"
        else:
            verdict = "PASS" if value >= limit else "FAIL"
        targets.append({"target": name, "value": value, "op": op, "limit": limit,
                        "verdict": verdict, "detail": detail})

    # Against the raw loop measured in turns with mpel, in the same process,
    # when there is one: both then see the same machine.
    raw_rt = m("raw_interleaved_roundtrip_us") or get(results, "raw", "roundtrip_us")
    raw_pipe = m("raw_interleaved_pipelined_per_s") or get(results, "raw", "pipelined_per_s")
    target("round trip vs raw", ratio(m("roundtrip_us"), raw_rt),
           "<=", 1.5, "mpel round trip / raw round trip (raw interleaved with mpel)")
    target("  same, both ends pinned to one CPU", ratio(m("roundtrip_same_cpu_us"), m("raw_roundtrip_same_cpu_us")),
           "<=", 1.5, "mpel / raw round trip, app and worker (child) on the same CPU")
    target("  same, ends pinned to two CPUs", ratio(m("roundtrip_two_cpus_us"), m("raw_roundtrip_two_cpus_us")),
           "<=", 1.5, "mpel / raw round trip, app on one CPU and worker (child) on another")
    target("pipelined vs raw", ratio(m("pipelined_per_s"), raw_pipe),
           ">=", 0.7, "mpel calls/s / raw calls/s (raw interleaved with mpel)")
    target("pipelined vs python-mp",
           ratio(m("pipelined_per_s"), get(results, "python-mp", "pipelined_per_s")),
           ">=", 2.5, "mpel calls/s / multiprocessing.Queue calls/s")
    target("pipelined vs gdbus", ratio(m("pipelined_per_s"), get(results, "gdbus", "pipelined_per_s")),
           ">=", 12, "mpel calls/s / GDBus p2p calls/s")
    target("64 MiB round trip vs 2 memcpy", ratio(m("payload_64MiB_ms"), m("memcpy_2x64MiB_ms")),
           "<=", 3, "mpel 64 MiB echo / two memcpy of 64 MiB")
    target("64 MiB round trip vs gdbus",
           ratio(get(results, "gdbus", "payload_64MiB_ms"), m("payload_64MiB_ms")),
           ">=", 5, "GDBus 64 MiB Echo / mpel 64 MiB echo (n/a where GDBus cannot carry it)")
    target("longest dispatch under a flood (ms)", m("flood_max_dispatch_ms"), "<=", 4,
           "longest g_main_context_dispatch () while 1 000 000 results stream in (wall clock)")
    target("  same, CPU time of the dispatch (ms)", m("flood_max_dispatch_cpu_ms"), "<=", 4,
           "as above in thread CPU time: what is left when other processes' preemption is not counted")
    target("app bytes per queued event beyond args", m("memory_overhead_bytes"), "<=", 256,
           "heap growth per queued (ii) event minus the args' own size")
    target("pool: 2 workers vs 1", m("pool_speedup"), ">=", 1.8,
           "count_primes over a fixed range, n-workers 1 time / n-workers 2 time")
    target("  same, relative to the machine's own 2-vs-1", ratio(m("pool_speedup"), m("pool_native_speedup")),
           ">=", 0.9, "mpel speedup / speedup of 2 forked processes doing the same work without mpel")
    return targets


def tables(results, targets, info):
    cols = CONTENDERS
    rows = [
        ("round trip, median (µs)", "roundtrip_us"),
        ("round trip, p99 (µs)", "roundtrip_p99_us"),
        ("pipelined (calls/s)", "pipelined_per_s"),
        ("64 KiB echo round trip (ms)", "payload_64KiB_ms"),
        ("4 MiB echo round trip (ms)", "payload_4MiB_ms"),
        ("64 MiB echo round trip (ms)", "payload_64MiB_ms"),
    ]
    lines = []
    lines.append("| | " + " | ".join(cols) + " |")
    lines.append("|---|" + "---:|" * len(cols))
    for label, key in rows:
        cells = []
        for c in cols:
            r = results.get(c)
            if isinstance(r, str):
                cells.append("—")
            elif r is None:
                cells.append("—")
            elif key.startswith("payload_") and key not in r:
                cells.append("—")
            else:
                cells.append(fmt(r.get(key)))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    notes = []
    for c in cols:
        if isinstance(results.get(c), str):
            notes.append(f"- {c}: {results[c]}")
        elif isinstance(results.get(c), dict):
            for k, v in results[c].items():
                if k.endswith("_error"):
                    notes.append(f"- {c} {k[:-6].replace('payload_', '')}: n/a — {v}")

    m = results.get("mpel") if isinstance(results.get("mpel"), dict) else {}
    extra = [
        ("raw loop taking turns with mpel: round trip (µs)", m.get("raw_interleaved_roundtrip_us")),
        ("raw loop taking turns with mpel: pipelined (calls/s)", m.get("raw_interleaved_pipelined_per_s")),
        ("round trip, both ends on one CPU: mpel (µs)", m.get("roundtrip_same_cpu_us")),
        ("round trip, both ends on one CPU: raw (µs)", m.get("raw_roundtrip_same_cpu_us")),
        ("round trip, ends on two CPUs: mpel (µs)", m.get("roundtrip_two_cpus_us")),
        ("round trip, ends on two CPUs: raw (µs)", m.get("raw_roundtrip_two_cpus_us")),
        ("two memcpy of 64 MiB, buffers mapped (ms)", m.get("memcpy_2x64MiB_ms")),
        ("two fresh sealed memfds of 64 MiB filled (ms)", m.get("memfd_2x64MiB_ms")),
        ("two fresh anonymous 64 MiB mappings filled (ms)", m.get("anon_2x64MiB_ms")),
        ("mpel_loop_start () to first result (ms)", m.get("startup_ms")),
        ("flood: results", m.get("flood_n")),
        ("flood: pushing them (s)", m.get("flood_push_s")),
        ("flood: all results in (s)", m.get("flood_total_s")),
        ("flood: dispatches", m.get("flood_dispatches")),
        ("flood: longest dispatch, wall clock (ms)", m.get("flood_max_dispatch_ms")),
        ("flood: longest dispatch, CPU time (ms)", m.get("flood_max_dispatch_cpu_ms")),
        ("flood: dispatches over 4 ms (wall clock)", m.get("flood_dispatches_over_4ms")),
        ("flood: p99 dispatch (ms)", m.get("flood_p99_dispatch_ms")),
        ("memory: (ii) args alone (bytes)", m.get("memory_args_bytes")),
        ("memory: per queued event, args included (bytes)", m.get("memory_event_bytes")),
        ("memory: close () with 1 000 000 queued (s)", m.get("memory_close_s")),
        ("pool: 1 worker (s)", m.get("pool_1_worker_s")),
        ("pool: 2 workers (s)", m.get("pool_2_workers_s")),
        ("pool: same work, 1 forked process without mpel (s)", m.get("pool_native_1_s")),
        ("pool: same work, 2 forked processes without mpel (s)", m.get("pool_native_2_s")),
        ("pool: the machine's own 2-vs-1 speedup", m.get("pool_native_speedup")),
        ("mpel max-in-flight (default)", m.get("max_in_flight")),
    ]
    lines2 = ["| mpel only | |", "|---|---:|"]
    for label, v in extra:
        lines2.append(f"| {label} | {fmt(v)} |")

    lines3 = ["| target | measured | limit | verdict |", "|---|---:|---:|---|"]
    for t in targets:
        lines3.append(f"| {t['target']} | {fmt(t['value'])} | {t['op']} {fmt(t['limit'])} | {t['verdict']} |")

    head = (f"mpel benchmarks, {info['date']}, {info['machine']['cpus']} CPUs "
            f"({info['machine']['cpu']}), Linux {info['machine']['kernel']}, "
            f"load average {info.get('loadavg_before', '?')} before, {info.get('loadavg_after', '?')} after")
    out = [head, "", *lines]
    if notes:
        out += ["", *notes]
    out += ["", *lines2, "", *lines3]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--raw")
    ap.add_argument("--gdbus")
    ap.add_argument("--mpel")
    ap.add_argument("--mp-script")
    ap.add_argument("--mp-python", help="python3 for the multiprocessing contender")
    ap.add_argument("--output", default=".", help="directory for benchmarks.json and benchmarks.md")
    ap.add_argument("--only", help="comma-separated contenders to run")
    args = ap.parse_args()

    only = set(args.only.split(",")) if args.only else set(CONTENDERS)
    env = dict(os.environ)
    # A benchmark measures the library, not GLib's debugging aids.
    for var in ("G_DEBUG", "G_SLICE", "MALLOC_CHECK_", "MALLOC_PERTURB_"):
        env.pop(var, None)

    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "scale": float(os.environ.get("BENCH_SCALE") or 1),
    }
    info["loadavg_before"] = loadavg()
    if info["loadavg_before"] is not None and info["loadavg_before"] > 0.5:
        print(f"warning: load average {info['loadavg_before']} before the run: other processes "
              "share the CPUs and the timings will be noisy", file=sys.stderr)
    results = {}
    errors = []

    mp_python = args.mp_python or sys.executable
    plans = {
        "raw": [args.raw] if args.raw else None,
        "gdbus": [args.gdbus] if args.gdbus else None,
        "python-mp": [mp_python, args.mp_script] if args.mp_script else None,
        "mpel": [args.mpel] if args.mpel else None,
    }
    for name in CONTENDERS:
        if name not in only:
            results[name] = "not run (--only)"
            continue
        argv = plans[name]
        if argv is None:
            results[name] = "not built"
            continue
        if name == "python-mp" and (not mp_python or not shutil.which(mp_python)):
            results[name] = "skipped: no python3"
            continue
        result, error = run_contender(name, argv, env)
        if name == "mpel" and not error:
            # Memory per queued event: a fresh process, every allocation
            # seen by mallinfo2 () (GLib >= 2.76 has no slice allocator).
            mem, error = run_contender(name, argv + ["--memory"], {**env, "G_SLICE": "always-malloc"})
            if mem:
                result.update({k: v for k, v in mem.items() if k != "wall_s"})
        if error:
            errors.append(f"{name}: {error}")
            results[name] = f"ERROR: {error}"
        else:
            results[name] = result

    info["loadavg_after"] = loadavg()
    targets = build_targets(results)
    text = tables(results, targets, info)
    os.makedirs(args.output, exist_ok=True)
    json_path = os.path.join(os.path.abspath(args.output), "benchmarks.json")
    md_path = os.path.join(os.path.abspath(args.output), "benchmarks.md")
    with open(json_path, "w") as f:
        json.dump({**info, "results": results, "targets": targets, "errors": errors}, f, indent=2)
        f.write("\n")
    with open(md_path, "w") as f:
        f.write(text)

    print(text)
    print(f"JSON: {json_path}")
    print(f"Markdown: {md_path}")
    if errors:
        print("Contenders that did not finish:", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
