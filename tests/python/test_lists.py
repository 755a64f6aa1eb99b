#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Remote signals and list models from Python, through GObject-Introspection:
# a Gtk.Adjustment's value-changed in the default mpel-worker host emitted
# on its proxy as remote-signal::value-changed, a signal of a class of a
# Python worker (lists_worker.py); an Mpel.ListModel over a
# Gtk.StringList in the worker, with plain and subclassed item types.
#
# Prints TAP. Nothing sleeps: every wait runs the main context until the
# awaited thing has happened, with a deadline that fails the test.

import sys
import traceback

import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, GObject, Gio, Mpel  # noqa: E402

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


def test_remote_signal():
    loop = Mpel.Loop.new()
    with loop:
        adj = Mpel.Proxy(loop=loop, remote_type='Gtk-4.0.Adjustment',
                         construct_values={'lower': 0.0, 'upper': 100.0, 'value': 50.0},
                         properties=['value'])
        seen = []

        def on_value_changed(proxy, name, args):
            # The mirror is current when the signal arrives
            seen.append((name, args.unpack(), proxy.get_value('value')))

        adj.connect('remote-signal::value-changed', on_value_changed)
        adj.subscribe_signal('value-changed')
        adj.call('set_value', 30.0)
        loop.wait(None)
        assert seen == [('value-changed', (), 30.0)], seen
        adj.unsubscribe_signal('value-changed')
        adj.call('set_value', 40.0)
        loop.wait(None)
        assert adj.get_value('value') == 40.0
        assert len(seen) == 1, seen


def test_signal_of_a_python_worker_class():
    loop = Mpel.Loop.for_python_script('lists_worker.py')
    with loop:
        bell = Mpel.Proxy(loop=loop, remote_type='TestPyBell', properties=['count'])
        seen = []
        bell.connect('remote-signal::rang', lambda proxy, _name, args: seen.append(
            (args.unpack(), proxy.get_value('count'))))
        bell.subscribe_signal('rang')
        assert bell.call('ring', 'ding').result(timeout=DEADLINE_S) == 1
        assert seen == [((1, 'ding'), 1)], seen


class StringItem(Mpel.Proxy):
    string = GObject.Property(type=str)


def string_list(loop):
    strings = Mpel.Proxy(loop=loop, remote_type='Gtk-4.0.StringList')
    for text in ('a', 'b', 'c'):
        strings.call('append', text)
    strings.call('remove', 1)
    strings.call('append', 'd')
    return strings


def test_list_model():
    loop = Mpel.Loop.new()
    with loop:
        strings = Mpel.Proxy(loop=loop, remote_type='Gtk-4.0.StringList')
        model = Mpel.ListModel.new(strings, Mpel.Proxy)
        assert isinstance(model, Gio.ListModel)
        changes = []
        model.connect('items-changed', lambda _m, *change: changes.append(change))
        for text in ('a', 'b', 'c'):
            strings.call('append', text)
        strings.call('remove', 1)
        strings.call('append', 'd')
        loop.wait(None)
        assert changes == [(0, 0, 1), (1, 0, 1), (2, 0, 1), (1, 1, 0), (2, 0, 1)], changes
        assert model.get_n_items() == 3 and model.props.n_items == 3
        items = [model.get_item(i) for i in range(3)]
        assert items[0].get_state() == Mpel.ProxyState.PENDING
        loop.wait(None)
        assert [item.get_value('string') for item in items] == ['a', 'c', 'd']


def test_list_model_of_a_subclass():
    loop = Mpel.Loop.new()
    with loop:
        strings = string_list(loop)
        model = Mpel.ListModel.new(strings, StringItem)
        loop.wait(None)
        item = model.get_item(2)
        assert isinstance(item, StringItem), type(item)
        seen = []
        item.connect('notify::string', lambda proxy, _pspec: seen.append(proxy.string))
        loop.wait(None)
        assert seen == ['d'], seen
        assert model.get_item_type() == StringItem.__gtype__


TESTS = [
    test_remote_signal,
    test_signal_of_a_python_worker_class,
    test_list_model,
    test_list_model_of_a_subclass,
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
