#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The quick start of mp_event_loop, with mpel: events go to a worker process
# (quickstart_worker.py, also Python), results come back to `output` on this
# process's main context.
#
#   python3 quickstart.py
#   Results summed: 36

import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402

results = []


def save_results(loop, event):
    try:
        results.append(event.result())
    except GLib.Error as error:
        print('%s failed: %s' % (event.get_target(), error), file=sys.stderr)
    return False  # let other output handlers see the event too


loop = Mpel.Loop.for_python_script('quickstart_worker.py')
loop.connect('output', save_results)

# Leaving the block waits for every result and stops the worker, as the
# seed's `with loop:` does. A GTK app would not wait: its main loop runs.
with loop:
    loop.submit('add_vals', 2)
    loop.submit('add_vals', 3, 4)
    loop.submit('add_vals', 5, value2=6)
    loop.submit('add_vals', 7, value2=8)

summed = sum(results)
print('Results summed:', summed)
if results != [3, 7, 11, 15] or summed != 36:
    sys.exit('expected [3, 7, 11, 15], got %r' % (results,))
