#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The worker of test_proxy.py: GObject classes defined here and exposed with
# worker.add_type().

import asyncio
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, GObject, Mpel  # noqa: E402

worker = Mpel.Worker()


@worker.add_type
class Point(GObject.Object):
    __gtype_name__ = 'TestPyPoint'

    x = GObject.Property(type=int, default=0)
    y = GObject.Property(type=int, default=0)

    def __init__(self):
        super().__init__()
        self._z = 0

    def get_z(self):
        return self._z

    def set_z(self, z):
        self._z = z

    def move(self, x, y, z):
        self.x = x
        self.y = y
        self._z = z

    def describe(self, prefix='point'):
        return {'prefix': prefix, 'xy': [self.x, self.y], 'z': self._z}

    def echo(self, *args):
        return list(args)

    def fail(self, key):
        return {}[key]

    def count(self, n):
        for i in range(n):
            yield i
        return 'counted %d' % n

    async def later(self, value):
        await asyncio.sleep(0)
        self.x = value
        return value * 2

    async def forever(self):
        await asyncio.get_running_loop().create_future()

    def _hidden(self):
        return 'not callable'


class Point3(Point):
    # A subclass: creatable by its own name, with the methods of Point
    __gtype_name__ = 'TestPyPoint3'

    def norm1(self):
        return abs(self.x) + abs(self.y) + abs(self._z)


worker.add_type(Point3)

origin = Point()
origin.x = 100
worker.export_object('origin', origin)

try:
    worker.run()
except GLib.Error as error:
    sys.exit('proxy_worker: ' + error.message)
