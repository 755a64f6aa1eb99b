#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Benchmark row (issue 12): an 8 MiB `bytes` round trip from Python with the
# plain-value layer, `loop.submit('identity', data).result()`, to a Python
# worker (this script with --worker) and to the C host's mpel.echo. Prints a
# Markdown table row per worker; checks the content of every answer.
#
# Needs the python3 that has PyGObject and the build tree:
#
#   env GI_TYPELIB_PATH=build/mpel LD_LIBRARY_PATH=build/mpel \
#       PYTHONPATH=bindings/python MPEL_WORKER=build/mpel/mpel-worker \
#       /usr/bin/python3 tests/benchmarks/bench-python-bytes.py [ROUNDS]

import statistics
import sys
import time

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import Mpel  # noqa: E402

SIZE = 8 * 1024 * 1024


def worker():
    w = Mpel.Worker()

    @w.handler('identity')
    def identity(value):
        return value

    w.run()


def bench(name, loop, target, unwrap, rounds):
    data = bytes(range(256)) * (SIZE // 256)
    with loop:
        loop.submit(target, b'warm-up').result()
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            got = unwrap(loop.submit(target, data).result())
            times.append(time.perf_counter() - start)
            if got != data:
                sys.exit('%s: the answer differs from what was sent' % name)
    print('| 8 MiB bytes round trip, Python app → %s | %.1f ms | %.1f ms | %d |'
          % (name, statistics.median(times) * 1000, min(times) * 1000, rounds))


def main():
    if '--worker' in sys.argv:
        return worker()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print('| benchmark | median | best | rounds |')
    print('|---|---|---|---|')
    bench('Python worker', Mpel.Loop.for_python_script(__file__, '--worker'), 'identity',
          lambda value: value, rounds)
    bench('C host (mpel.echo)', Mpel.Loop.new(), 'mpel.echo', lambda args: args[0], rounds)
    return 0


if __name__ == '__main__':
    sys.exit(main())
