#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The worker process of quickstart.py. It runs beside the app for as long as
# the app's Mpel.Loop keeps it, and answers the events sent to "add_vals".

import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402


def add_vals(invocation):
    """add_vals(value, value2=1); value2 may also come as a keyword argument."""
    value, *rest = invocation.get_args().unpack()
    value2 = rest[0] if rest else 1
    kwarg = invocation.lookup_kwarg('value2', GLib.VariantType.new('i'))
    if kwarg is not None:
        value2 = kwarg.get_int32()
    invocation.return_value(GLib.Variant('i', value + value2))


worker = Mpel.Worker.new()
worker.add_handler('add_vals', add_vals)

# Serves the app until it stops the loop or goes away.
try:
    worker.run()
except GLib.Error as error:
    sys.exit('quickstart_worker: ' + error.message)
