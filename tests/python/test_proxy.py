#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Proxies from Python: worker.add_type() in a Python worker (proxy_worker.py),
# Mpel.Proxy subclasses with mirrored GObject properties, remote methods and
# getters, plain values for get_value/set_value/call, await, remote
# exceptions; a Gtk.Adjustment in the default mpel-worker host; a mirrored
# property in a bidirectional GObject binding.
#
# Prints TAP. Nothing sleeps: every wait runs the main context until the
# awaited thing has happened, with a deadline that fails the test.

import asyncio
import os
import sys
import traceback

import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, GObject, Mpel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE_S = 30


class MpPoint(Mpel.Proxy):
    __remote_type__ = 'TestPyPoint'
    __remote_methods__ = ('move', 'set_z', 'describe', 'echo', 'fail', 'count', 'later', 'forever')
    __getters__ = ('get_z',)

    x = GObject.Property(type=int, default=0)
    y = GObject.Property(type=int, default=0)


class MpPoint3(MpPoint):
    __remote_type__ = 'TestPyPoint3'
    __remote_methods__ = ('norm1',)


_shared = None


def shared_loop():
    global _shared
    if _shared is None:
        _shared = Mpel.Loop.for_python_script('proxy_worker.py')
    return _shared



def result(event):
    return event.result(timeout=DEADLINE_S)


def expect_error(function, exc_type=GLib.Error):
    try:
        function()
    except exc_type as exc:
        return exc
    raise AssertionError('%s did not raise %s' % (function, exc_type.__name__))


def run(coroutine):
    return Mpel.asyncio_run(asyncio.wait_for(coroutine, DEADLINE_S))


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


# The seed's Point -------------------------------------------------------

def test_point_as_in_the_seed():
    loop = shared_loop()
    p = MpPoint(loop=loop)
    p.set_z(3)
    assert p.get_z() != 3
    p.move(1, 2, 7)
    assert p.x == 0 and p.y == 0, (p.x, p.y)
    assert p.get_z() != 3 and p.get_z() != 7, p.get_z()
    loop.wait(None)
    assert p.get_state() == Mpel.ProxyState.READY, p.get_state()
    assert (p.x, p.y, p.get_z()) == (1, 2, 7), (p.x, p.y, p.get_z())
    assert (p.props.x, p.props.y) == (1, 2)
    assert p.get_property('x') == 1


def test_properties_and_getters_are_declared():
    p = MpPoint(loop=shared_loop())
    assert sorted(p.get_properties()) == ['x', 'y'], p.get_properties()
    assert list(p.get_getters()) == ['get_z'], p.get_getters()
    assert p.get_remote_type() == 'TestPyPoint'


def test_notify_fires_once_per_change():
    loop = shared_loop()
    p = MpPoint(loop=loop)
    seen = []
    p.connect('notify::x', lambda proxy, _pspec: seen.append(proxy.x))
    loop.wait(None)
    assert seen == [], seen          # 0 → 0 is no change
    p.move(5, 0, 0)
    loop.wait(None)
    assert seen == [5], seen
    p.move(5, 1, 0)                 # x unchanged
    loop.wait(None)
    assert seen == [5], seen
    p.move(6, 1, 0)
    loop.wait(None)
    assert seen == [5, 6], seen


def test_setting_a_property_forwards_it():
    loop = shared_loop()
    p = MpPoint(loop=loop)
    p.x = 11
    assert p.x == 11                 # the mirror takes it at once
    p.props.y = 12
    loop.wait(None)
    assert result(p.describe()) == {'prefix': 'point', 'xy': [11, 12], 'z': 0}


def test_plain_values():
    loop = shared_loop()
    p = MpPoint(loop=loop)
    assert p.get_value('x') is None  # unknown before the worker answered
    p.move(3, 4, 5)
    loop.wait(None)
    assert p.get_value('x') == 3 and p.get_value('get_z') == 5
    assert p.get_variant('x').get_type_string() == 'i'
    assert result(p.call('describe', 'here')) == {'prefix': 'here', 'xy': [3, 4], 'z': 5}
    values = [True, 2**40, 1.5, 'héllo', b'\0\xff', None, [1, 2], ('a', 1), {'k': [1.5]}]
    assert result(p.echo(*values)) == values
    # A single GLib.Variant tuple is the exact argument tuple
    assert result(p.call('echo', GLib.Variant('(ii)', (1, 2)))) == [1, 2]
    assert result(p.call('move', GLib.Variant('(iii)', (7, 8, 9)))) is None
    assert (p.x, p.y, p.get_z()) == (7, 8, 9)
    p.set_value('x', 42)
    loop.wait(None)
    assert p.x == 42


def test_keyword_arguments():
    loop = shared_loop()
    p = MpPoint(loop=loop)
    # A keyword parameter of the worker's Python method
    assert result(p.describe(prefix='kw')) == {'prefix': 'kw', 'xy': [0, 0], 'z': 0}
    assert result(p.call('describe', prefix='kw2'))['prefix'] == 'kw2'

    async def main():
        return await p.acall('describe', prefix='async-kw')
    assert run(main())['prefix'] == 'async-kw'
    # An unknown keyword, mpel's own one
    exc = expect_error(lambda: result(p.describe(nope=1)))
    assert exc.matches(Mpel.error_quark(), Mpel.Error.INVALID_ARGS), exc
    assert 'nope' in exc.message, exc.message
    exc = expect_error(lambda: result(p.call('describe', **{'mpel.object': 1})))
    assert exc.matches(Mpel.error_quark(), Mpel.Error.INVALID_ARGS), exc


def test_gobject_new_honours_the_declarations():
    loop = shared_loop()
    p = GObject.new(MpPoint3, loop=loop, getters=['norm1'])
    assert p.get_remote_type() == 'TestPyPoint3', p.get_remote_type()
    assert sorted(p.get_properties()) == ['x', 'y'], p.get_properties()
    assert list(p.get_getters()) == ['get_z', 'norm1'], p.get_getters()
    seen = []
    p.connect('notify::x', lambda proxy, _pspec: seen.append(proxy.x))
    p.move(1, -2, 3)
    loop.wait(None)
    assert p.get_state() == Mpel.ProxyState.READY, p.get_error()
    assert (p.x, p.y, p.get_z(), p.get_value('norm1')) == (1, -2, 3, 6)
    assert seen == [1], seen
    p.move(1, 0, 0)
    loop.wait(None)
    assert seen == [1], seen
    # The class call is unchanged
    q = MpPoint3(loop=loop)
    assert q.get_remote_type() == 'TestPyPoint3' and list(q.get_getters()) == ['get_z']


def test_changed_fires_once_per_change_for_python_properties():
    loop = shared_loop()
    p = MpPoint(loop=loop)
    changed = []
    p.connect('changed', lambda proxy, name, value: changed.append(name))
    loop.wait(None)
    # x and y are 0, their defaults: no change; get_z is a getter, news
    assert changed == ['get_z'], changed
    p.move(0, 0, 0)
    loop.wait(None)
    assert changed == ['get_z'], changed


def test_await_a_call():
    loop = shared_loop()
    p = MpPoint(loop=loop)

    async def main():
        described = await p.acall('describe', 'async')
        doubled = await p.later(21)
        return described, doubled
    described, doubled = run(main())
    assert described['prefix'] == 'async', described
    assert doubled == 42 and p.x == 21, (doubled, p.x)


def test_cancelling_the_awaiting_task_cancels_the_call():
    loop = shared_loop()
    p = MpPoint(loop=loop)
    event = p.forever()

    async def main():
        started = asyncio.get_running_loop().create_future()

        async def waiter():
            started.set_result(None)
            return await event      # in the same step: awaiting once main resumes
        task = asyncio.ensure_future(waiter())
        await started
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False
    assert run(main()), 'the task was cancelled'
    loop.wait(None)
    assert event.get_state() == Mpel.EventState.CANCELLED, event.get_state()
    # The proxy still answers
    assert result(p.later(1)) == 2


def test_attach_to_an_exported_object():
    loop = shared_loop()
    p = MpPoint(loop=loop, remote_name='origin')
    loop.wait(None)
    assert p.get_state() == Mpel.ProxyState.READY, p.get_error()
    assert p.x == 100 and p.get_remote_name() == 'origin'
    p.move(101, 0, 0)
    loop.wait(None)
    q = MpPoint(loop=loop, remote_name='origin')
    loop.wait(None)
    assert q.x == 101, q.x


def test_generator_method_streams():
    p = MpPoint(loop=shared_loop())
    event = p.count(3)
    items = []
    event.connect_items(lambda _e, item: items.append(item))
    assert result(event) == 'counted 3'
    assert items == [0, 1, 2], items


def test_remote_exception():
    p = MpPoint(loop=shared_loop())
    exc = expect_error(lambda: result(p.fail('missing')), Mpel.RemoteError)
    assert str(exc) == "KeyError: 'missing'", str(exc)
    assert exc.remote_type == 'KeyError'
    assert 'in fail' in exc.remote_traceback, exc.remote_traceback

    async def main():
        try:
            await p.acall('fail', 'other')
        except Mpel.RemoteError as error:
            return error
    assert str(run(main())) == "KeyError: 'other'"


def test_unknown_and_private_methods_and_bad_args():
    p = MpPoint(loop=shared_loop())
    for name in ('_hidden', 'nope', 'do_get_property'):
        exc = expect_error(lambda: result(p.call(name)))
        assert exc.matches(Mpel.error_quark(), Mpel.Error.NO_SUCH_METHOD), (name, exc.message)
    exc = expect_error(lambda: result(p.move(1)))
    assert exc.matches(Mpel.error_quark(), Mpel.Error.INVALID_ARGS), exc.message
    assert 'move' in exc.message, exc.message


def test_subclass_of_an_added_type():
    loop = shared_loop()
    p = MpPoint3(loop=loop)
    p.move(1, -2, 3)
    assert result(p.norm1()) == 6
    assert (p.x, p.y, p.get_z()) == (1, -2, 3)


def test_unknown_remote_type_fails():
    loop = shared_loop()
    p = Mpel.Proxy(loop=loop, remote_type='NoSuchPyType')
    loop.wait(None)
    assert p.get_state() == Mpel.ProxyState.FAILED
    assert p.get_error().matches(Mpel.error_quark(), Mpel.Error.NO_SUCH_OBJECT)
    assert 'NoSuchPyType' in p.get_error().message


def test_add_type_refuses_what_is_not_a_python_subclass():
    worker = Mpel.Worker()
    expect_error(lambda: worker.add_type(int), TypeError)
    expect_error(lambda: worker.add_type(GObject.Object), TypeError)


# Through GObject-Introspection in the default host ------------------------

def gtk_loop():
    loop = Mpel.Loop.new()
    return loop


def test_gtk_adjustment():
    loop = gtk_loop()
    with loop:
        adj = Mpel.Proxy(loop=loop, remote_type='Gtk-4.0.Adjustment',
                         construct_values={'lower': 0.0, 'upper': 100.0, 'value': 50.0},
                         properties=['value', 'lower', 'upper'], getters=['get_page_size'])
        loop.wait(None)
        assert adj.get_state() == Mpel.ProxyState.READY, adj.get_error()
        assert adj.get_value('value') == 50.0
        adj.call('set_value', 150.0)  # clamped by the worker
        loop.wait(None)
        assert adj.get_value('value') == 100.0
        assert result(adj.call('configure', 10.0, 0.0, 20.0, 1.0, 5.0, 2.0)) is None
        assert (adj.get_value('value'), adj.get_value('upper'), adj.get_value('get_page_size')) \
            == (10.0, 20.0, 2.0)
        adj.set_value('value', -5)     # an int, converted to the double
        loop.wait(None)
        assert adj.get_value('value') == 0.0


def test_a_proxy_argument_goes_as_its_handle():
    loop = Mpel.Loop.new()
    with loop:
        group = Mpel.Proxy(loop=loop, remote_type='Gio.SimpleActionGroup')
        action = Mpel.Proxy(loop=loop, remote_type='Gio.SimpleAction',
                            construct_values={'name': 'go'}, properties=['name'])
        assert Mpel.pack(action).get_type_string() == 't'
        assert Mpel.pack(action).unpack() == action.get_handle()
        group.call('add_action', action)  # the proxy itself, not its handle
        handle = result(group.call('lookup_action', 'go'))
        # The worker gives the object it sends a handle of its own, below
        # 2**53, which a JavaScript number holds exactly
        assert 2 ** 52 <= handle < 2 ** 53, hex(handle)
        assert result(group.call('lookup_action', 'missing')) is None
        found = Mpel.Proxy.new_for_handle(group, handle, ['name'], None)
        loop.wait(None)
        assert found.get_state() == Mpel.ProxyState.READY, found.get_error()
        assert found.get_value('name') == 'go'


class Knob(GObject.Object):
    value = GObject.Property(type=float, default=0.0)


class AdjustmentProxy(Mpel.Proxy):
    __remote_type__ = 'Gtk-4.0.Adjustment'
    __remote_methods__ = ('configure',)
    value = GObject.Property(type=float, default=0.0)


def test_binding_a_mirrored_property():
    loop = gtk_loop()
    with loop:
        adj = AdjustmentProxy(loop=loop, construct_values={'upper': 10.0})
        knob = Knob()
        adj.bind_property('value', knob, 'value',
                          GObject.BindingFlags.BIDIRECTIONAL | GObject.BindingFlags.SYNC_CREATE)
        seen = []
        knob.connect('notify::value', lambda k, _p: seen.append(k.value))
        # Local → worker, clamped there, back to the knob
        knob.value = 4.0
        knob.value = 5.0
        knob.value = 40.0
        loop.wait(None)
        assert adj.value == 10.0 and knob.value == 10.0, (adj.value, knob.value)
        # No jitter: the values of the sets in flight were not replayed
        assert seen == [4.0, 5.0, 40.0, 10.0], seen
        # Worker → local
        del seen[:]
        adj.configure(3.0, 0.0, 10.0, 1.0, 1.0, 0.0)
        loop.wait(None)
        assert knob.value == 3.0 and seen == [3.0], (knob.value, seen)


TESTS = [
    test_keyword_arguments,
    test_gobject_new_honours_the_declarations,
    test_changed_fires_once_per_change_for_python_properties,
    test_point_as_in_the_seed,
    test_properties_and_getters_are_declared,
    test_notify_fires_once_per_change,
    test_setting_a_property_forwards_it,
    test_plain_values,
    test_await_a_call,
    test_cancelling_the_awaiting_task_cancels_the_call,
    test_attach_to_an_exported_object,
    test_generator_method_streams,
    test_remote_exception,
    test_unknown_and_private_methods_and_bad_args,
    test_subclass_of_an_added_type,
    test_unknown_remote_type_fails,
    test_add_type_refuses_what_is_not_a_python_subclass,
    test_gtk_adjustment,
    test_binding_a_mirrored_property,
    test_a_proxy_argument_goes_as_its_handle,
]


def main():
    print('1..%d' % len(TESTS), flush=True)
    failed = 0
    for number, test in enumerate(TESTS, 1):
        name = test.__name__[len('test_'):]
        try:
            outcome = test()
        except Exception:  # noqa: BLE001 - every failure is reported as TAP
            failed += 1
            print('not ok %d - %s' % (number, name))
            for line in traceback.format_exc().splitlines():
                print('# ' + line)
        else:
            if isinstance(outcome, str) and outcome.startswith('SKIP'):
                print('ok %d - %s # %s' % (number, name, outcome))
            else:
                print('ok %d - %s' % (number, name))
        sys.stdout.flush()
    if _shared is not None:
        with _shared:
            pass
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
