#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Pythonic layer of the overrides: plain values both ways, submit /
# result, await and asyncio (on gbulb or gi.events), cancellation, streaming
# from generators and async generators, remote exceptions, event options,
# `with loop:` and the one-line Python worker. The worker is plain_worker.py.
#
# Prints TAP. Nothing sleeps: every wait runs the main context until the
# awaited thing has happened, with a deadline that fails the test.

import asyncio
import json
import os
import sys
import traceback

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Gio, Mpel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE_S = 30


def expect_error(function, exc_type=GLib.Error):
    try:
        function()
    except exc_type as exc:
        return exc
    raise AssertionError('%s did not raise %s' % (function, exc_type.__name__))


def run(coroutine):
    """Runs a coroutine on the asyncio loop on GLib, with a deadline."""
    return Mpel.asyncio_run(asyncio.wait_for(coroutine, DEADLINE_S))


_shared = None


def shared_loop():
    """One worker for the tests that do not care about the loop's life."""
    global _shared
    if _shared is None:
        _shared = Mpel.Loop.for_python_script('plain_worker.py')
    return _shared


def result(event):
    return event.result(timeout=DEADLINE_S)


# Values -----------------------------------------------------------------

VALUES = [
    True, False, 0, -1, 2**63 - 1, -2**63, 2**64 - 1, 1.5, '', 'héllo', b'', b'\0\xff',
    None, [], [1, 2, 3], ['a', 1, None], (), (1, 'a', 2.5), {}, {'a': 1, 'b': [b'x', None]},
    [[1, 2], [3]], [(1, 'a'), (2, 'b')], {'nested': {'deeper': (None, True)}},
]


def test_values_round_trip():
    loop = shared_loop()
    for value in VALUES:
        got = result(loop.submit('identity', value))
        assert got == value and type(got) is type(value), (value, got)


def test_value_types_on_the_wire():
    """The documented mapping, as the worker sees it."""
    loop = shared_loop()
    got = result(loop.submit('types', True, 1, 2**64 - 1, 1.0, 's', b'b', bytearray(b'b'), None,
                             [1, 2], ['a', 1], [], (1, 's'), {'k': 1},
                             GLib.Variant('i', 3)))
    assert got == ['b', 'x', 't', 'd', 's', 'ay', 'ay', 'mv', 'ax', 'av', 'av', '(xs)',
                   'a{sv}', 'i'], got


def test_value_types_shared_with_gjs():
    """The rows of tests/value-types.json, which test-plain.js checks too:
    one mapping for both languages."""
    with open(os.path.join(HERE, '..', 'value-types.json'), encoding='utf-8') as table:
        rows = [row for row in json.load(table) if len(row) == 2]
    assert len(rows) > 20, rows
    wrong = [(value, Mpel.pack(value).get_type_string(), expected) for value, expected in rows
             if Mpel.pack(value).get_type_string() != expected]
    assert not wrong, wrong
    # Python's own values follow the same rule.
    for value, expected in [((1, 'a'), '(xs)'), ([(1, 'a'), (2, 'b')], 'a(xs)'), ([b'x', b'y'], 'aay'),
                            ([2**64 - 1, 1], 'av'), ([b'x', None], 'av')]:
        assert Mpel.pack(value).get_type_string() == expected, (value, expected)


def test_variant_tuple_is_the_exact_arguments():
    loop = shared_loop()
    got = result(loop.submit('types', GLib.Variant('(iu)', (1, 2))))
    assert got == ['i', 'u'], got
    assert result(loop.submit('add_vals', GLib.Variant('(ii)', (40, 2)))) == 42


def test_refused_values():
    loop = shared_loop()
    pending = loop.get_n_pending()
    thing = object()
    exc = expect_error(lambda: loop.submit('identity', thing), TypeError)
    assert repr(thing) in str(exc), str(exc)
    exc = expect_error(lambda: loop.submit('identity', {1: 'one'}), TypeError)
    assert '1' in str(exc) and 'str keys' in str(exc), str(exc)
    exc = expect_error(lambda: loop.submit('identity', x={2.5}), TypeError)
    assert '{2.5}' in str(exc), str(exc)
    expect_error(lambda: loop.submit('identity', 2**64), OverflowError)
    expect_error(lambda: loop.submit('identity', 'nul\0inside'), ValueError)
    assert loop.get_n_pending() == pending, 'a refused submission queued an event'
    # The worker's side refuses the same way, and the event says why.
    exc = expect_error(lambda: result(loop.submit('unsendable')), Mpel.RemoteError)
    assert exc.remote_type == 'TypeError' and 'object' in str(exc), str(exc)


def test_bytes_8mib_round_trip():
    loop = shared_loop()
    data = bytes(range(256)) * (32 * 1024)
    assert len(data) == 8 * 1024 * 1024
    assert result(loop.submit('bytes_len', data)) == len(data)
    got = result(loop.submit('identity', data))
    assert type(got) is bytes and got == data, (type(got), len(got))


# Calls ------------------------------------------------------------------

def test_submit_positional_and_keyword():
    loop = shared_loop()
    events = [loop.submit('add_vals', 2), loop.submit('add_vals', 3, 4),
              loop.submit('add_vals', 5, value2=6), loop.submit('add_vals', value=7, value2=8)]
    assert [result(e) for e in events] == [3, 7, 11, 15]
    assert result(loop.submit('echo', 1, 'a', k=[1])) == [[1, 'a'], {'k': [1]}]
    assert result(loop.submit('nothing')) is None


def test_unknown_keyword_argument():
    loop = shared_loop()
    exc = expect_error(lambda: result(loop.submit('add_vals', 1, bogus=2, other=3)))
    assert exc.matches(Mpel.error_quark(), Mpel.Error.INVALID_ARGS), (exc.domain, exc.code)
    assert 'bogus, other' in exc.message and 'add_vals' in exc.message, exc.message
    exc = expect_error(lambda: result(loop.submit('add_vals')))
    assert exc.matches(Mpel.error_quark(), Mpel.Error.INVALID_ARGS), (exc.domain, exc.code)
    assert 'value' in exc.message, exc.message


def test_result_timeout_then_cancel():
    loop = shared_loop()
    event = loop.submit('async_sleep_forever')
    expect_error(lambda: event.result(timeout=0), TimeoutError)
    assert not event.done()
    event.cancel()
    exc = expect_error(lambda: result(event))
    assert exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), (exc.domain, exc.code)


# Exceptions -------------------------------------------------------------

def test_remote_exception():
    loop = shared_loop()
    event = loop.submit('missing', 'missing')
    exc = expect_error(lambda: result(event), Mpel.RemoteError)
    assert str(exc) == "KeyError: 'missing'", str(exc)
    assert isinstance(exc, GLib.Error)
    assert exc.matches(Mpel.error_quark(), Mpel.Error.FAILED), (exc.domain, exc.code)
    assert exc.remote_type == 'KeyError', exc.remote_type
    assert 'return {}[key]' in exc.remote_traceback, exc.remote_traceback
    assert 'Traceback (most recent call last)' in exc.remote_traceback
    assert exc.__cause__ is not None and 'return {}[key]' in str(exc.__cause__)
    # The C API sees the same details, from the ERROR frame's meta.
    details = event.get_error_details()
    assert details is not None and details.get_type_string() == 'a{sv}'
    assert details.lookup_value('type', GLib.VariantType('s')).get_string() == 'KeyError'
    assert 'return {}[key]' in details.lookup_value('traceback', GLib.VariantType('s')).get_string()
    # The worker lives on.
    assert result(loop.submit('add_vals', 1)) == 2


def test_remote_glib_error_keeps_domain_and_code():
    loop = shared_loop()
    exc = expect_error(lambda: result(loop.submit('glib_error', '/nowhere')))
    assert exc.matches(GLib.file_error_quark(), GLib.FileError.NOENT), (exc.domain, exc.code)
    assert exc.message == 'No such file: /nowhere', exc.message
    assert isinstance(exc, Mpel.RemoteError) and exc.remote_type == 'GLib.Error', type(exc)
    assert 'glib_error' in exc.remote_traceback


def test_c_worker_error_has_no_details():
    """A C handler's error has no meta: a plain GLib.Error, no details."""
    loop = Mpel.Loop.new()
    loop.set_modules([os.environ['MPEL_TEST_MODULE']])
    with loop:
        event = loop.submit('fail_not_found', '/no/such/file')
        exc = expect_error(lambda: result(event))
    assert type(exc) is GLib.Error, type(exc)
    assert exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND), (exc.domain, exc.code)
    assert event.get_error_details() is None


# Streaming --------------------------------------------------------------

def test_generator_streams_items_then_result():
    loop = shared_loop()
    items = []
    event = loop.submit('count', 3, tag='t')
    event.connect('item', lambda _event, item: items.append(Mpel.unpack(item)))
    assert result(event) == 3
    assert items == ['t0', 't1', 't2'], items


def test_connect_items_gives_plain_values():
    loop = shared_loop()
    items, everywhere, raw = [], [], []
    event = loop.submit('count', 3, tag='p')

    def on_item(_event, value, tag):
        items.append((tag, value))

    def on_any_item(_loop, _event, value):
        everywhere.append(value)

    event.connect_items(on_item, 'mine')
    event.connect('item', lambda _event, item: raw.append(item))
    loop.connect_items(on_any_item, target='count')
    assert result(event) == 3
    assert items == [('mine', 'p0'), ('mine', 'p1'), ('mine', 'p2')], items
    assert everywhere[-3:] == ['p0', 'p1', 'p2'], everywhere
    # The signal itself keeps giving the GLib.Variant.
    assert all(isinstance(item, GLib.Variant) for item in raw), raw
    # The callback identifies the handler, as for connect().
    assert loop.disconnect_by_func(on_any_item) == 1
    assert result(loop.submit('count', 1, tag='q')) == 1
    assert 'q0' not in everywhere, everywhere


def test_waiting_inside_a_handler_raises():
    """The loop reads no answer while a handler of its signals runs, so a
    wait there would never end: it raises RuntimeError at once."""
    loop = Mpel.Loop.for_python_script('plain_worker.py')
    slow = loop.submit('async_sleep_forever')
    seen = []

    def try_waits(where):
        for name, wait in (('result', lambda: slow.result(timeout=DEADLINE_S)),
                           ('wait', lambda: loop.wait(None))):
            try:
                wait()
            except RuntimeError as exc:
                assert 'inside a handler' in str(exc), str(exc)
                seen.append((where, name))

    def on_output(_loop, event):
        try_waits('output')
        seen.append(('output', event.result()))   # a finished event is fine
        return False

    loop.connect('output', on_output)
    event = loop.submit('add_vals', 1)
    event.connect('finished', lambda _event: try_waits('finished'))
    event.connect_items(lambda *_args: None)
    assert result(event) == 2
    assert sorted(seen, key=str) == sorted([('output', 'result'), ('output', 'wait'), ('output', 2),
                                            ('finished', 'result'), ('finished', 'wait')], key=str), seen
    assert not slow.done()
    # Outside handlers the same calls wait as before.
    slow.cancel()
    assert loop.wait(None) is True
    with loop:
        pass


def test_generators_interleave():
    """Two streams in one worker take turns: the worker's main loop runs
    between items."""
    loop = shared_loop()
    order = []
    first = loop.submit('count', 200, tag='a')
    second = loop.submit('count', 200, tag='b')
    for event in (first, second):
        event.connect('item', lambda _event, item: order.append(Mpel.unpack(item)))
    assert result(first) == 200 and result(second) == 200
    assert len(order) == 400
    assert order.index('b0') < order.index('a199'), order[:10]
    assert [x for x in order if x[0] == 'a'] == ['a%d' % i for i in range(200)]


def test_generator_error_after_items():
    loop = shared_loop()
    items = []
    event = loop.submit('fail_midway')
    event.connect('item', lambda _event, item: items.append(Mpel.unpack(item)))
    exc = expect_error(lambda: result(event), Mpel.RemoteError)
    assert items == [1], items
    assert str(exc) == 'ValueError: midway', str(exc)


def test_cancel_reaches_generator():
    loop = Mpel.Loop.for_python_script('plain_worker.py')

    async def main():
        event = loop.submit('count_forever')
        seen = []
        async for item in event.items():
            seen.append(item)
            if len(seen) == 3:
                event.cancel()
        return seen, event

    exc = None
    try:
        run(main())
    except GLib.Error as error:
        exc = error
    assert exc is not None and exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), exc
    # CANCEL went before this call on the same connection.
    assert result(loop.submit('state'))['generator_closed'] is True
    with loop:
        pass


# asyncio ----------------------------------------------------------------

def test_await_call_and_event():
    loop = shared_loop()

    async def main():
        a = await loop.call('add_vals', 20, value2=22)
        b = await loop.submit('async_add', 1, 2)
        c = [item async for item in loop.submit('async_count', 4)]
        d = await loop.call('identity', {'x': [None]})
        return a, b, c, d

    assert run(main()) == (42, 3, [0, 1, 2, 3], {'x': [None]})


def test_gather_100_calls():
    loop = shared_loop()

    async def main():
        return await asyncio.gather(*(loop.call('add_vals', i, value2=i) for i in range(100)))

    assert run(main()) == [2 * i for i in range(100)]


def test_await_raises_remote_exception():
    loop = shared_loop()

    async def main():
        with_error = []
        for target in ('missing', 'async_fail'):
            try:
                await loop.call(target, 'k') if target == 'missing' else await loop.call(target)
            except Mpel.RemoteError as exc:
                with_error.append((exc.remote_type, str(exc)))
        return with_error

    assert run(main()) == [('KeyError', "KeyError: 'k'"), ('KeyError', "KeyError: 'async missing'")]


def test_cancelling_the_task_cancels_the_event():
    loop = Mpel.Loop.for_python_script('plain_worker.py')

    async def main():
        event = loop.submit('async_sleep_forever')
        task = asyncio.ensure_future(event)
        # Once this returns, the handler's coroutine is running.
        assert await loop.call('flag', 'sleeping') is True
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError('the task was not cancelled')
        assert event.get_state() == Mpel.EventState.CANCELLED, event.get_state()
        # Ends once the handler's coroutine has seen CancelledError.
        return await loop.call('flag', 'sleep_cancelled')

    assert run(main()) is True
    with loop:
        pass


def test_await_needs_a_glib_loop():
    loop = shared_loop()
    event = loop.submit('add_vals', 1)
    plain = asyncio.SelectorEventLoop()
    try:
        exc = expect_error(lambda: plain.run_until_complete(event._wait()), RuntimeError)
    finally:
        plain.close()
    assert 'GLib' in str(exc), str(exc)
    assert result(event) == 2


# Options ----------------------------------------------------------------

def test_options_do_not_clash_with_kwargs():
    loop = shared_loop()
    event = loop.submit('echo', key='k', priority=1, timeout=2, no_reply=True)
    assert result(event) == [[], {'key': 'k', 'priority': 1, 'timeout': 2, 'no_reply': True}]
    event = loop.with_options(key='mine', priority=7).submit('echo', 1, key='theirs')
    assert event.get_key() == 'mine' and event.get_priority() == 7
    assert result(event) == [[1], {'key': 'theirs'}]


def test_option_timeout_and_no_reply():
    loop = shared_loop()
    exc = expect_error(lambda: result(loop.with_options(timeout=0.05).submit('async_sleep_forever')))
    assert exc.matches(Mpel.error_quark(), Mpel.Error.TIMED_OUT), (exc.domain, exc.code)
    event = loop.with_options(no_reply=True).submit('add_vals', 1)
    assert event.get_flags() & Mpel.EventFlags.NO_REPLY
    assert result(event) is None and event.get_state() == Mpel.EventState.DONE

    async def main():
        return await loop.with_options(priority=3).call('add_vals', 2)

    assert run(main()) == 3


# Loop life --------------------------------------------------------------

def test_for_python_script_resolves_against_the_caller():
    loop = Mpel.Loop.for_python_script('plain_worker.py', n_workers=2)
    argv = loop.get_argv()
    assert argv[0] == sys.executable and argv[1] == os.path.join(HERE, 'plain_worker.py'), argv
    assert loop.get_n_workers() == 2


def test_with_loop_waits_stops_and_can_restart():
    loop = Mpel.Loop.for_python_script('plain_worker.py')
    for _ in range(2):
        with loop:
            events = [loop.submit('count', 5), loop.submit('async_add', 1, 1)]
        assert all(e.done() for e in events), [e.get_state() for e in events]
        assert not loop.is_running()
        assert result(events[0]) == 5 and result(events[1]) == 2
    # The default loop (the C host) the same way, twice in a row.
    for n in range(2):
        with Mpel.Loop.get_default() as default:
            echo = default.submit('mpel.echo', n, 'x')
        assert not default.is_running()
        assert result(echo) == (n, 'x'), result(echo)


def test_async_with_loop():
    loop = Mpel.Loop.for_python_script('plain_worker.py')

    async def main():
        async with loop:
            event = loop.submit('count', 3)
        assert not loop.is_running()
        return await event

    assert run(main()) == 3


def test_start_async():
    if not hasattr(Mpel.Loop, 'start_finish'):
        return 'SKIP this mpel has no mpel_loop_start_async'
    bad = Mpel.Loop.new_for_argv(['/nonexistent/worker'])

    async def main():
        try:
            await bad.start_async()
        except GLib.Error as error:
            return error
        return None

    error = run(main())
    assert error is not None and error.matches(Mpel.error_quark(), Mpel.Error.SPAWN_FAILED), error
    good = Mpel.Loop.for_python_script('plain_worker.py')

    async def good_main():
        await good.start_async()
        assert good.is_running()
        return await good.call('add_vals', 1)

    assert run(good_main()) == 2
    with good:
        pass


TESTS = [
    test_values_round_trip,
    test_value_types_on_the_wire,
    test_value_types_shared_with_gjs,
    test_variant_tuple_is_the_exact_arguments,
    test_refused_values,
    test_bytes_8mib_round_trip,
    test_submit_positional_and_keyword,
    test_unknown_keyword_argument,
    test_result_timeout_then_cancel,
    test_remote_exception,
    test_remote_glib_error_keeps_domain_and_code,
    test_c_worker_error_has_no_details,
    test_generator_streams_items_then_result,
    test_connect_items_gives_plain_values,
    test_waiting_inside_a_handler_raises,
    test_generators_interleave,
    test_generator_error_after_items,
    test_cancel_reaches_generator,
    test_await_call_and_event,
    test_gather_100_calls,
    test_await_raises_remote_exception,
    test_cancelling_the_task_cancels_the_event,
    test_await_needs_a_glib_loop,
    test_options_do_not_clash_with_kwargs,
    test_option_timeout_and_no_reply,
    test_for_python_script_resolves_against_the_caller,
    test_with_loop_waits_stops_and_can_restart,
    test_async_with_loop,
    test_start_async,
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
