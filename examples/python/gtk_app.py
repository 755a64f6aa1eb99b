#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A GTK 4 app that offloads work to a Python worker (tasks_worker.py): it
# counts primes there, shows progress from the streamed items, can cancel,
# and reports the worker's errors. The window never blocks: results arrive
# as signals on GTK's own main loop. See doc/python.md.
#
#   python3 gtk_app.py [--self-test]

import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gtk', '4.0')
gi.require_version('Mpel', '1.0')
from gi.repository import Gio, GLib, Gtk, Mpel  # noqa: E402


class PrimesWindow(Gtk.ApplicationWindow):
    def __init__(self, app, loop):
        super().__init__(application=app, title='Primes', default_width=360)
        self.loop = loop
        self.event = None

        self.progress = Gtk.ProgressBar(show_text=True)
        self.status = Gtk.Label(label='Ready', xalign=0)
        self.start_button = Gtk.Button(label='Count primes')
        self.cancel_button = Gtk.Button(label='Cancel', sensitive=False)
        self.price_button = Gtk.Button(label='Price of a durian')
        self.start_button.connect('clicked', self.on_start)
        self.cancel_button.connect('clicked', self.on_cancel)
        self.price_button.connect('clicked', self.on_price)

        buttons = Gtk.Box(spacing=6)
        for button in (self.start_button, self.cancel_button, self.price_button):
            buttons.append(button)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12,
                      margin_top=12, margin_bottom=12, margin_start=12, margin_end=12)
        box.append(self.progress)
        box.append(self.status)
        box.append(buttons)
        self.set_child(box)

    def on_start(self, _button):
        self.event = self.loop.submit('count_primes', 2_000_000, steps=50)
        self.event.connect_items(self.on_progress)
        self.event.connect('finished', self.on_finished)
        self.progress.set_fraction(0)
        self.status.set_text('Counting…')
        self.start_button.set_sensitive(False)
        self.cancel_button.set_sensitive(True)

    def on_progress(self, _event, done):
        self.progress.set_fraction(done)   # a float from the generator

    def on_finished(self, event):
        try:
            self.status.set_text('%d primes below 2,000,000' % event.result())
        except GLib.Error as error:
            self.status.set_text('Stopped: %s' % error.message)
        self.start_button.set_sensitive(True)
        self.cancel_button.set_sensitive(False)
        self.event = None

    def on_cancel(self, _button):
        if self.event is not None:
            self.event.cancel()    # ends it now; the worker's generator is closed

    def on_price(self, _button):
        def show(event):
            try:
                self.status.set_text('A durian costs %s' % event.result())
            except Mpel.RemoteError as error:
                self.status.set_text('The worker says: %s' % error)   # KeyError: 'durian'
        self.loop.submit('price', 'durian').connect('finished', show)


class PrimesApp(Gtk.Application):
    def __init__(self, self_test):
        super().__init__(application_id='org.mpel.PythonExample',
                         flags=Gio.ApplicationFlags.NON_UNIQUE)
        self.self_test = self_test
        self.loop = Mpel.Loop.for_python_script('tasks_worker.py')

    def do_activate(self):
        window = PrimesWindow(self, self.loop)
        window.present()
        if self.self_test:
            SelfTest(self, window)

    def do_shutdown(self):
        self.loop.close()    # pending work is dropped with the window
        Gtk.Application.do_shutdown(self)


class SelfTest:
    """Clicks through the window as a user would and prints what it shows."""

    def __init__(self, app, window):
        self.app, self.window = app, window
        self.steps = iter([self.count, self.count_and_cancel, self.price])
        self.window.status.connect('notify::label', self.on_status)
        self.next()

    def next(self):
        step = next(self.steps, None)
        if step is None:
            self.app.quit()
        else:
            step()

    def on_status(self, label, _pspec):
        text = label.get_label()
        if text.endswith('…'):
            return
        print(text, flush=True)
        GLib.idle_add(lambda: self.next() and False)

    def count(self):
        self.window.start_button.emit('clicked')

    def count_and_cancel(self):
        self.window.start_button.emit('clicked')
        event = self.window.event

        def first_item(_event, _item):
            event.disconnect(handler)
            self.window.cancel_button.emit('clicked')
        handler = event.connect('item', first_item)

    def price(self):
        self.window.price_button.emit('clicked')


if __name__ == '__main__':
    self_test = '--self-test' in sys.argv
    sys.exit(PrimesApp(self_test).run([sys.argv[0]]))
