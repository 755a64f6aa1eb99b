#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The quick start of mp_event_loop, with mpel: events go to a worker process
# (quickstart_worker.py, also Python), results come back to `output` on this
# process's main context.
#
#   python3 quickstart.py
#   Results summed: 36

import os
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'quickstart_worker.py')


def add_event(loop, target, *args, **kwargs):
    """Sends target(*args, **kwargs) to the worker; int arguments only."""
    event = Mpel.Event.new(target, GLib.Variant('(%s)' % ('i' * len(args)), args))
    if kwargs:
        event.set_kwargs(GLib.Variant('a{sv}', {name: GLib.Variant('i', value)
                                               for name, value in kwargs.items()}))
    loop.push(event)
    return event


results = []


def save_results(loop, event):
    if event.get_state() == Mpel.EventState.DONE:
        results.append(event.get_result().unpack())
    else:
        print('%s failed: %s' % (event.get_target(), event.get_error().message), file=sys.stderr)
    return False  # let other output handlers see the event too


loop = Mpel.Loop.new_for_argv([sys.executable, WORKER])
loop.connect('output', save_results)

add_event(loop, 'add_vals', 2)
add_event(loop, 'add_vals', 3, 4)
add_event(loop, 'add_vals', 5, value2=6)
add_event(loop, 'add_vals', 7, value2=8)

# Like leaving the seed's `with` block: runs the main context until every
# event has ended. A GTK app would not wait; its main loop is running anyway.
loop.wait(None)
loop.stop()

summed = sum(results)
print('Results summed:', summed)
if results != [3, 7, 11, 15] or summed != 36:
    sys.exit('expected [3, 7, 11, 15], got %r' % (results,))
