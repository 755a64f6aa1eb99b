#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The worker process of point.py: a Point class that lives here, exposed to
# proxies with worker.add_type(). Its GObject properties x and y are
# mirrored into the app; get_z, set_z and move are called from there.

import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, GObject, Mpel  # noqa: E402

worker = Mpel.Worker()


@worker.add_type
class Point(GObject.Object):
    # The name the app's proxy creates it by
    __gtype_name__ = 'ExamplePyPoint'

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

    def _private(self):
        # Not callable from the app: it starts with an underscore
        return 'secret'


try:
    worker.run()
except GLib.Error as error:
    sys.exit('point_worker: ' + error.message)
