#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The worker of test_lists.py: a GObject class with a signal of its own,
# exposed with worker.add_type().

import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GObject, Mpel  # noqa: E402

worker = Mpel.Worker()


@worker.add_type
class Bell(GObject.Object):
    __gtype_name__ = 'TestPyBell'
    __gsignals__ = {
        'rang': (GObject.SignalFlags.RUN_LAST, None, (int, str)),
    }

    count = GObject.Property(type=int, default=0)

    def ring(self, text):
        self.count += 1
        self.emit('rang', self.count, text)
        return self.count


if __name__ == '__main__':
    worker.run()
    sys.exit(0)
