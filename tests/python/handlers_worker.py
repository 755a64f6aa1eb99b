#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A worker whose handlers use the Python overrides: results returned, errors
# raised, and an async handler that answers later.

import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402


def add_vals(invocation):
    value, *rest = invocation.get_args().unpack()
    value2 = rest[0] if rest else invocation.get_kwargs().unpack().get('value2', 1)
    return GLib.Variant('i', value + value2)


def raise_value_error(invocation):
    raise ValueError('no good')


def raise_glib_error(invocation):
    raise GLib.Error.new_literal(GLib.file_error_quark(), 'gone', GLib.FileError.NOENT)


def return_wrong_type(invocation):
    return 42


def nothing(invocation):
    return None


def later(invocation):
    def answer():
        invocation.return_value(GLib.Variant('s', 'later'))
        return GLib.SOURCE_REMOVE
    GLib.idle_add(answer)


def main():
    worker = Mpel.Worker.new()
    worker.add_handler('add_vals', add_vals)
    worker.add_handler('raise_value_error', raise_value_error)
    worker.add_handler('raise_glib_error', raise_glib_error)
    worker.add_handler('return_wrong_type', return_wrong_type)
    worker.add_handler('nothing', nothing)
    worker.add_handler('later', later)
    return 0 if worker.run() else 1


if __name__ == '__main__':
    sys.exit(main())
