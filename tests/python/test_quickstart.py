#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpel from Python through GObject-Introspection: the seed's quick start with a
# worker written in Python, the output-handler chain, errors that cross the
# wire, call_async with a callback, cancellation and streamed items.
#
# Prints TAP. Nothing sleeps: every wait iterates the main context until a
# condition holds, with a deadline that fails the test.

import os
import sys
import traceback

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Gio, Mpel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE_S = 20


class Deadline:
    """Wakes the main context up when a deadline passes."""

    def __init__(self, seconds=DEADLINE_S):
        self.seconds = seconds
        self.expired = False
        self.cancellable = Gio.Cancellable()
        self._source = GLib.timeout_add_seconds(seconds, self._expire)

    def _expire(self):
        self.expired = True
        self._source = 0
        self.cancellable.cancel()
        return GLib.SOURCE_REMOVE

    def clear(self):
        if self._source:
            GLib.source_remove(self._source)
            self._source = 0


def iterate_until(condition, what, seconds=DEADLINE_S):
    """Iterates the default main context until condition() is true."""
    deadline = Deadline(seconds)
    context = GLib.MainContext.default()
    try:
        while not condition():
            if deadline.expired:
                raise AssertionError('timed out after %d s waiting for %s' % (seconds, what))
            context.iteration(True)
    finally:
        deadline.clear()


def wait_loop(loop, seconds=DEADLINE_S):
    """loop.wait(), failing the test if it has not returned after seconds."""
    deadline = Deadline(seconds)
    try:
        loop.wait(deadline.cancellable)
    except GLib.Error:
        if deadline.expired:
            raise AssertionError('Mpel.Loop.wait() did not return within %d s (n-pending=%d)'
                                 % (seconds, loop.get_n_pending()))
        raise
    finally:
        deadline.clear()


def stop_loop(loop):
    """Stops the loop gracefully and checks that its workers exit cleanly."""
    exits = []
    handler = loop.connect('worker-exited', lambda _loop, index, reason: exits.append((index, reason)))
    n_workers = loop.get_n_workers()
    loop.stop()
    try:
        iterate_until(lambda: len(exits) >= n_workers, 'worker-exited after stop()')
    finally:
        loop.disconnect(handler)
    for index, reason in exits:
        assert reason is None, 'worker %d did not exit cleanly: %s' % (index, reason)


def test_module_loop():
    """A loop running the default host with the C test module."""
    loop = Mpel.Loop.new()
    loop.set_modules([os.environ['MPEL_TEST_MODULE']])
    return loop


def collect(into, convert=lambda event: event):
    """An output handler that stores what it sees and lets the others run."""
    def handler(_loop, event):
        into.append(convert(event))
        return False
    return handler


def describe(event):
    if event.get_state() == Mpel.EventState.DONE:
        result = event.get_result()
        return result.unpack() if result is not None else None
    error = event.get_error()
    return '%s: %s' % (event.get_state().value_nick, error.message if error else '(no error)')


def test_quickstart_python_worker():
    worker = os.path.join(HERE, 'quickstart_worker.py')
    loop = Mpel.Loop.new_for_argv([sys.executable, worker])
    results = []
    loop.connect('output', collect(results, describe))

    loop.add_event('add_vals', GLib.Variant('(i)', (2,)))
    loop.add_event('add_vals', GLib.Variant('(ii)', (3, 4)))

    event = Mpel.Event.new('add_vals', GLib.Variant('(i)', (5,)))
    event.set_kwargs(GLib.Variant('a{sv}', {'value2': GLib.Variant('i', 6)}))
    loop.push(event)

    event = Mpel.Event.new('add_vals', GLib.Variant('(i)', (7,)))
    event.set_kwargs(GLib.Variant('a{sv}', {'value2': GLib.Variant('i', 8)}))
    loop.push(event)

    wait_loop(loop)

    assert results == [3, 7, 11, 15], results
    assert sum(results) == 36
    assert loop.get_n_pending() == 0, loop.get_n_pending()
    assert event.get_state() == Mpel.EventState.DONE, event.get_state()
    assert event.get_result().unpack() == 15
    stop_loop(loop)


def test_quickstart_python_worker_kwarg_types():
    """A keyword argument of another integer width is used; a string is an error
    that names it (Mpel.Invocation.get_kwarg)."""
    loop = Mpel.Loop.new_for_argv([sys.executable, os.path.join(HERE, 'quickstart_worker.py')])
    results = []
    loop.connect('output', collect(results, describe))

    wide = Mpel.Event.new('add_vals', GLib.Variant('(i)', (7,)))
    wide.set_kwargs(GLib.Variant('a{sv}', {'value2': GLib.Variant('x', 8)}))
    loop.push(wide)
    wrong = Mpel.Event.new('add_vals', GLib.Variant('(i)', (7,)))
    wrong.set_kwargs(GLib.Variant('a{sv}', {'value2': GLib.Variant('s', 'eight')}))
    loop.push(wrong)
    wait_loop(loop)

    assert wide.get_state() == Mpel.EventState.DONE, describe(wide)
    assert wide.get_result().unpack() == 15
    assert wrong.get_state() == Mpel.EventState.FAILED, describe(wrong)
    assert wrong.get_error().matches(Mpel.error_quark(), Mpel.Error.INVALID_ARGS), describe(wrong)
    assert 'value2' in wrong.get_error().message, describe(wrong)
    stop_loop(loop)


def test_quickstart_python_worker_bad_args():
    """A handler written in Python sends its error back, and the worker lives on."""
    loop = Mpel.Loop.new_for_argv([sys.executable, os.path.join(HERE, 'quickstart_worker.py')])
    results = []
    loop.connect('output', collect(results))
    bad = loop.add_event('add_vals', GLib.Variant('(s)', ('two',)))
    good = loop.add_event('add_vals', GLib.Variant('(i)', (2,)))
    wait_loop(loop)

    assert results == [bad, good], [describe(e) for e in results]
    assert bad.get_state() == Mpel.EventState.FAILED, bad.get_state()
    error = bad.get_error()
    assert error is not None
    assert error.matches(Mpel.error_quark(), Mpel.Error.INVALID_ARGS), (error.domain, error.code)
    assert good.get_result().unpack() == 3
    stop_loop(loop)


def test_python_handler_that_forgets():
    """A Python handler that drops its invocation unanswered: the event still ends."""
    loop = Mpel.Loop.new_for_argv([sys.executable, os.path.join(HERE, 'quickstart_worker.py')])
    results = []
    loop.connect('output', collect(results))
    forgotten = loop.add_event('forget', None)
    good = loop.add_event('add_vals', GLib.Variant('(i)', (41,)))
    wait_loop(loop)

    assert results == [forgotten, good], [describe(e) for e in results]
    assert forgotten.get_state() == Mpel.EventState.FAILED, forgotten.get_state()
    error = forgotten.get_error()
    assert error.matches(Mpel.error_quark(), Mpel.Error.FAILED), (error.domain, error.code, error.message)
    assert good.get_result().unpack() == 42
    stop_loop(loop)


# The seed's "Output Handlers" example, line for line.
SEED_OUTPUT_HANDLERS = [
    'Not My Event',
    'Normal Event 2',
    'Not My Event',
    'Normal Event 3',
    'My Event [0, 1, 2]',
    'Not My Event',
    'Normal Event 5',
    'My Event [0, 1, 2, 3, 4]',
]


def test_output_handler_chain():
    loop = test_module_loop()
    printed = []

    def print_my_event(_loop, event):
        if event.get_target() == 'my_event':
            printed.append('My Event %s' % event.get_result().unpack())
            return True  # Stop running the other output handlers
        printed.append('Not My Event')
        return False

    def print_event(_loop, event):
        printed.append('Normal Event %s' % event.get_result().unpack())
        return False

    loop.connect('output', print_my_event)
    loop.connect('output', print_event)

    loop.add_event('add_one', GLib.Variant('(i)', (1,)))
    loop.add_event('add_one', GLib.Variant('(i)', (2,)))
    loop.add_event('my_event', GLib.Variant('(i)', (3,)))
    loop.add_event('add_one', GLib.Variant('(i)', (4,)))
    loop.add_event('my_event', GLib.Variant('(i)', (5,)))
    wait_loop(loop)

    for line in printed:
        print('# ' + line)
    assert printed == SEED_OUTPUT_HANDLERS, printed
    stop_loop(loop)


def test_output_detail():
    """output::TARGET only sees that target's events."""
    loop = test_module_loop()
    seen = []
    loop.connect('output::my_event', collect(seen, lambda event: event.get_target()))
    loop.add_event('add_one', GLib.Variant('(i)', (1,)))
    loop.add_event('my_event', GLib.Variant('(i)', (2,)))
    loop.add_event('add_one', GLib.Variant('(i)', (3,)))
    wait_loop(loop)
    assert seen == ['my_event'], seen
    stop_loop(loop)


def call(loop, target, args, cancellable=None, seconds=DEADLINE_S):
    """call_async + call_finish, iterating the main context meanwhile."""
    done = []
    loop.call_async(target, args, cancellable, lambda source, result: done.append(result))
    iterate_until(lambda: done, 'the call_async callback of %s' % target, seconds)
    return loop.call_finish(done[0])


def test_error_crosses_the_wire():
    loop = test_module_loop()
    try:
        call(loop, 'fail_not_found', GLib.Variant('(s)', ('/no/such/file',)))
    except GLib.Error as error:
        assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND), \
            (error.domain, error.code, error.message)
        assert error.domain == 'g-io-error-quark', error.domain
        assert '/no/such/file' in error.message, error.message
    else:
        raise AssertionError('call_finish did not raise for fail_not_found')
    stop_loop(loop)


def test_unknown_target():
    loop = test_module_loop()
    try:
        call(loop, 'no_such_target', None)
    except GLib.Error as error:
        assert error.matches(Mpel.error_quark(), Mpel.Error.UNKNOWN_TARGET), \
            (error.domain, error.code, error.message)
        assert 'no_such_target' in error.message, error.message
    else:
        raise AssertionError('call_finish did not raise for an unknown target')
    stop_loop(loop)


def test_event_propagate():
    """Mpel.Event.propagate() gives the result alone, or raises: its boolean
    return is skipped for bindings."""
    loop = test_module_loop()
    done = loop.add_event('add_one', GLib.Variant('(i)', (1,)))
    failed = loop.add_event('fail_not_found', GLib.Variant('(s)', ('nowhere',)))
    wait_loop(loop)

    result = done.propagate()
    assert isinstance(result, GLib.Variant), repr(result)
    assert result.unpack() == 2
    try:
        failed.propagate()
    except GLib.Error as error:
        assert 'nowhere' in error.message, error.message
    else:
        raise AssertionError('propagate() did not raise for a failed event')
    stop_loop(loop)


def test_call_async_main_loop():
    loop = test_module_loop()
    main_loop = GLib.MainLoop()
    outcome = {}

    def on_done(source, result, user_data):
        outcome['source'] = source
        outcome['user_data'] = user_data
        try:
            outcome['value'] = source.call_finish(result)
        except GLib.Error as error:
            outcome['error'] = error
        main_loop.quit()

    def on_timeout():
        outcome['timed_out'] = True
        main_loop.quit()
        return GLib.SOURCE_REMOVE

    loop.call_async('add', GLib.Variant('(ii)', (20, 22)), None, on_done, 'my data')
    timeout = GLib.timeout_add_seconds(DEADLINE_S, on_timeout)
    main_loop.run()
    if 'timed_out' not in outcome:
        GLib.source_remove(timeout)

    assert 'timed_out' not in outcome, 'call_async did not call back within %d s' % DEADLINE_S
    assert 'error' not in outcome, outcome.get('error')
    assert outcome['source'] == loop
    assert outcome['user_data'] == 'my data', outcome['user_data']
    value = outcome['value']
    assert value.get_type_string() == 'i', value.get_type_string()
    assert value.unpack() == 42, value.unpack()
    stop_loop(loop)


def test_call_async_cancel():
    """Cancelling a running call ends it at once with G_IO_ERROR_CANCELLED."""
    loop = test_module_loop()
    cancellable = Gio.Cancellable()
    # mpel.ping answers before mpel.sleep starts: once it has, the sleep was
    # sent and is running (or about to) in the worker.
    pinged = []
    loop.call_async('mpel.ping', None, None, lambda s, r: pinged.append(s.call_finish(r)))
    done = []
    loop.call_async('mpel.sleep', GLib.Variant('(u)', (60000,)), cancellable,
                    lambda s, r: done.append(r))
    iterate_until(lambda: pinged, 'mpel.ping')
    assert pinged[0].unpack() == loop.get_worker_pid(0), (pinged[0].unpack(), loop.get_worker_pid(0))
    start = GLib.get_monotonic_time()
    cancellable.cancel()
    iterate_until(lambda: done, 'the cancelled call to call back', 10)
    elapsed_ms = (GLib.get_monotonic_time() - start) / 1000
    try:
        loop.call_finish(done[0])
    except GLib.Error as error:
        assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), \
            (error.domain, error.code, error.message)
    else:
        raise AssertionError('a cancelled mpel.sleep (60 s) returned a value')
    assert elapsed_ms < 5000, 'cancellation took %d ms' % elapsed_ms
    # The worker honours CANCEL: it is free again for the next call.
    value = call(loop, 'add', GLib.Variant('(ii)', (1, 2)), seconds=10)
    assert value.unpack() == 3
    stop_loop(loop)


def test_streamed_items():
    """The seed's async generator: items arrive on `item`, then the result."""
    loop = test_module_loop()
    items = []
    loop.connect('item::yield_range', lambda _loop, event, item: items.append(item.unpack()))
    event = loop.add_event('yield_range', GLib.Variant('(us)', (3, 'first')))
    wait_loop(loop)
    assert items == ['first 0', 'first 1', 'first 2'], items
    assert event.get_state() == Mpel.EventState.DONE, event.get_state()
    assert event.get_result().unpack() == 3
    stop_loop(loop)


TESTS = [
    test_quickstart_python_worker,
    test_quickstart_python_worker_kwarg_types,
    test_quickstart_python_worker_bad_args,
    test_python_handler_that_forgets,
    test_output_handler_chain,
    test_output_detail,
    test_error_crosses_the_wire,
    test_unknown_target,
    test_event_propagate,
    test_call_async_main_loop,
    test_call_async_cancel,
    test_streamed_items,
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
