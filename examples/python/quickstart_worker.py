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

worker = Mpel.Worker()


@worker.handler('add_vals')
def add_vals(value, value2=1):
    return value + value2


# Serves the app until it stops the loop or goes away.
try:
    worker.run()
except GLib.Error as error:
    sys.exit('quickstart_worker: ' + error.message)
