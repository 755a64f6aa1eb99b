#!/usr/bin/env python3
# bench-mp.py: Python multiprocessing.Queue, the anchor of the Python seed.
# A child process reads (i, a, b) from one Queue and puts (i, a + b) on
# another. One call at a time, then pipelined with WINDOW calls outstanding.
#
#   bench-mp.py --core N_RT N_PIPE
#
# Prints one JSON object on stdout. Standard library only.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import multiprocessing as mp
import os
import queue
import statistics
import sys
import time

WINDOW = 1000
TIMEOUT = 60  # seconds: the deadline of every get()


def core_counts():
    n_rt, n_pipe = 2000, 20000
    if "--core" in sys.argv:
        i = sys.argv.index("--core")
        n_rt, n_pipe = max(10, int(sys.argv[i + 1])), max(10, int(sys.argv[i + 2]))
    return n_rt, n_pipe


def child(requests, replies):
    while True:
        msg = requests.get()
        if msg is None:
            return
        i, a, b = msg
        replies.put((i, a + b))


def roundtrip(requests, replies, i):
    t0 = time.perf_counter_ns()
    requests.put((i, i, 1))
    j, s = replies.get(timeout=TIMEOUT)
    t = time.perf_counter_ns() - t0
    if j != i or s != i + 1:
        raise RuntimeError(f"wrong reply {j, s} to {i}")
    return t


def pipelined(requests, replies, n):
    sent = received = 0
    t0 = time.perf_counter_ns()
    while received < n:
        while sent < n and sent - received < WINDOW:
            requests.put((sent, sent, 1))
            sent += 1
        j, s = replies.get(timeout=TIMEOUT)
        if j != received or s != received + 1:
            raise RuntimeError(f"wrong reply {j, s} to {received}")
        received += 1
    return n / ((time.perf_counter_ns() - t0) / 1e9)


def main():
    ctx = mp.get_context("fork")
    requests, replies = ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=child, args=(requests, replies), daemon=True)
    proc.start()
    try:
        n_rt, n_pipe = core_counts()
        for i in range(max(100, n_rt // 5)):
            roundtrip(requests, replies, i)
        samples = [roundtrip(requests, replies, i) for i in range(n_rt)]
        samples.sort()
        pipelined(requests, replies, max(10, n_pipe // 10))  # warm-up
        rate = pipelined(requests, replies, n_pipe)
        result = {
            "contender": "python-mp",
            "python": sys.version.split()[0],
            "roundtrip_us": statistics.median(samples) / 1e3,
            "roundtrip_p99_us": samples[min(len(samples) - 1, int(0.99 * len(samples)))] / 1e3,
            "pipelined_per_s": rate,
            "pipelined_n": n_pipe,
            "roundtrip_n": n_rt,
            "window": WINDOW,
        }
    except queue.Empty:
        print("python-mp: the child did not answer in time", file=sys.stderr)
        proc.kill()
        return 2
    requests.put(None)
    proc.join(TIMEOUT)
    if proc.exitcode != 0:
        print(f"python-mp: the child exited with {proc.exitcode}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
