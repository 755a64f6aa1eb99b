#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The worker of test_quickstart.py: a Python program that serves the seed's
# quick-start target add_vals (value, value2=1) with Mpel.Worker, and
# forget, a handler that never answers.

import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402


def add_vals(invocation):
    args = invocation.get_args().unpack()
    if len(args) not in (1, 2) or not all(isinstance(a, int) for a in args):
        invocation.return_error_literal(Mpel.error_quark(), Mpel.Error.INVALID_ARGS,
                                        'add_vals takes (i) or (ii), not %s'
                                        % invocation.get_args().get_type_string())
        return
    value = args[0]
    value2 = args[1] if len(args) == 2 else 1
    # Any integer that fits an i (an app in Python sends an x); raises
    # GLib.Error otherwise, which ends the event with it.
    kwarg = invocation.get_kwarg('value2', GLib.VariantType.new('i'))
    if kwarg is not None:
        value2 = kwarg.get_int32()
    invocation.return_value(GLib.Variant('i', value + value2))


def forget(invocation):
    """Returns without answering and without keeping the invocation."""


def main():
    worker = Mpel.Worker.new()
    worker.add_handler('add_vals', add_vals)
    worker.add_handler('forget', forget)
    try:
        worker.run()
    except GLib.Error as error:
        print('quickstart_worker: %s' % error.message, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
