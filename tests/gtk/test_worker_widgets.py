#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Widgets in a worker from Python, as doc/widgets.md shows them: made by
# their GI names in a default mpel-worker host that loads libmpel-gtk's
# display module, a handle passed as a `t`, a click heard as a remote
# signal; and a window a Python worker made and exported.
#
# Needs a display (run under xvfb-run -a). Prints TAP. Nothing sleeps: every
# wait runs the main context until the awaited thing has happened, with a
# deadline that fails the test.

import os
import sys
import traceback

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
gi.require_version('MpelGtk', '1.0')
from gi.repository import GLib, Mpel, MpelGtk  # noqa: E402

DEADLINE_S = 30


def iterate_until(condition):
    context = GLib.MainContext.default()
    expired = []
    source = GLib.timeout_source_new(DEADLINE_S * 1000)
    source.set_callback(lambda *_a: expired.append(True) or GLib.SOURCE_REMOVE)
    source.attach(context)
    try:
        while not condition() and not expired:
            context.iteration(True)
    finally:
        source.destroy()
    assert condition(), 'gave up waiting after %d s' % DEADLINE_S


def test_display_module():
    loop = Mpel.Loop.new()
    loop.set_modules([MpelGtk.get_display_module()])
    with loop:
        window = Mpel.Proxy.new(loop, 'Gtk.Window',
                                GLib.Variant('a{sv}', {'title': GLib.Variant('s', 'Tool')}),
                                ['title'], ['get_mapped'])
        label = Mpel.Proxy.new(loop, 'Gtk.Label', None, ['label'], None)
        button = Mpel.Proxy.new(loop, 'Gtk.Button', None, [], None)
        box = Mpel.Proxy.new(loop, 'Gtk.Box', None, [], None)
        clicks = []
        button.connect('remote-signal::clicked', lambda proxy, name, args: clicks.append(name))
        button.subscribe_signal('clicked')
        # A handle goes as a `t`: a plain int would be an `x`
        box.call('append', GLib.Variant('t', label.get_handle()))
        box.call('append', GLib.Variant('t', button.get_handle()))
        window.call('set_child', GLib.Variant('t', box.get_handle()))
        window.call('present')
        label.call('set_label', 'Hello')
        loop.wait(None)
        assert window.get_state() == Mpel.ProxyState.READY, window.get_error()
        assert window.get_value('title') == 'Tool'
        assert window.get_value('get_mapped') is True
        assert label.get_value('label') == 'Hello'
        window.set_value('title', GLib.Variant('s', 'Renamed'))
        button.call('activate')
        iterate_until(lambda: clicks == ['clicked'])
        loop.wait(None)
        assert window.get_value('title') == 'Renamed'


def test_python_worker():
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'widgets_worker.py')
    loop = Mpel.Loop.new_for_argv([sys.executable, script])
    with loop:
        window = Mpel.Proxy.new_for_name(loop, 'plugin-window', ['title'], ['get_mapped'])
        window.call('present')
        loop.wait(None)
        assert window.get_state() == Mpel.ProxyState.READY, window.get_error()
        assert window.get_value('title') == 'Plugin'
        assert window.get_value('get_mapped') is True


TESTS = [
    test_display_module,
    test_python_worker,
]


def main():
    print('1..%d' % len(TESTS), flush=True)
    failed = 0
    for number, test in enumerate(TESTS, 1):
        name = test.__name__[len('test_'):]
        try:
            test()
        except Exception:  # noqa: BLE001 - every failure is reported as TAP
            failed += 1
            print('not ok %d - %s' % (number, name))
            for line in traceback.format_exc().splitlines():
                print('# ' + line)
        else:
            print('ok %d - %s' % (number, name))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
