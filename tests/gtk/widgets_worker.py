#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A Python worker that owns a window, as doc/widgets.md shows it: GTK
# initialised by the script, the window exported for the app to attach to.

import gi

gi.require_version('Gtk', '4.0')
gi.require_version('Mpel', '1.0')
from gi.repository import Gtk, Mpel  # noqa: E402

Gtk.init()
worker = Mpel.Worker()
window = Gtk.Window(title='Plugin')
worker.export_object('plugin-window', window)
worker.run()
