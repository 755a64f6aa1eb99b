#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The seed's Point example (mp_event_loop's Proxy), with mpel: the Point
# lives in point_worker.py; the app holds a proxy whose x and y mirror it,
# whose get_z() reads the mirrored getter and whose move() and set_z() run
# in the worker, in order.

import gi

gi.require_version('GObject', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GObject, Mpel  # noqa: E402


class MpPoint(Mpel.Proxy):
    __remote_type__ = 'ExamplePyPoint'
    __remote_methods__ = ('move', 'set_z')
    __getters__ = ('get_z',)

    x = GObject.Property(type=int, default=0)
    y = GObject.Property(type=int, default=0)


with Mpel.Loop.for_python_script('point_worker.py') as loop:
    p = MpPoint(loop=loop)
    p.set_z(3)  # Runs in the other process
    assert p.get_z() != 3

    p.move(1, 2, 7)
    assert p.x == 0
    assert p.y == 0
    assert p.get_z() != 7
    print('Before the worker ran: x=%d y=%d get_z()=%s' % (p.x, p.y, p.get_z()))

    loop.wait()  # every call answered and mirrored
    assert (p.x, p.y, p.get_z()) == (1, 2, 7)
    print('After wait: x=%d y=%d get_z()=%d' % (p.x, p.y, p.get_z()))

    # A method's answer: event.result() gives its return value
    print('move returned:', p.move(4, 5, 6).result())
    print('Now: x=%d y=%d get_z()=%d' % (p.x, p.y, p.get_z()))
