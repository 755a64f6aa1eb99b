#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A Python app and a GJS worker (tests/gjs/worker.js): values keep the
# mapping both layers share, and a thrown JS error arrives as
# Mpel.RemoteError with its type and stack. The other direction, a GJS app
# and a Python worker, is tests/gjs/test-cross-language.js.
#
# Prints TAP. Nothing sleeps: every wait runs the main context until the
# event has ended, with a deadline that fails the test.

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

loop = Mpel.Loop.new_for_argv([GLib.find_program_in_path('gjs'), '-m',
                               os.path.join(HERE, '..', 'gjs', 'worker.js')])


def failure(event):
    try:
        value = event.result(timeout=DEADLINE_S)
    except GLib.Error as exc:
        return exc
    raise AssertionError('%s gave %r instead of failing' % (event.get_target(), value))


def test_values_reach_gjs_with_the_shared_types():
    # types answers with the arguments' type string, as the worker got it.
    got = loop.submit('types', [1, 2], [], ['a', 1], [[1], [2]], None, b'\x00', {'k': [1.5]}).result(
        timeout=DEADLINE_S)
    assert got == '(axavavaaxmvaya{sv})', got
    back = loop.submit('echo', [1, 2], ['a', None], {'k': [True]}, b'\x01\x02').result(timeout=DEADLINE_S)
    assert back == [[1, 2], ['a', None], {'k': [True]}, b'\x01\x02'], back


def test_thrown_error_has_type_and_traceback():
    exc = failure(loop.submit('throws'))
    assert isinstance(exc, Mpel.RemoteError), type(exc)
    assert exc.matches(Mpel.error_quark(), Mpel.Error.FAILED), (exc.domain, exc.code)
    assert exc.remote_type == 'TypeError', exc.remote_type
    assert str(exc) == 'throws threw TypeError: no such key: missing', str(exc)
    assert 'worker.js:' in exc.remote_traceback, exc.remote_traceback
    assert exc.__cause__ is not None and 'worker.js:' in str(exc.__cause__)


def test_rejected_promise_and_generator_errors():
    exc = failure(loop.submit('rejects', 'seven'))
    assert isinstance(exc, Mpel.RemoteError) and exc.remote_type == 'RangeError', exc
    assert 'worker.js:' in exc.remote_traceback, exc.remote_traceback
    items = []
    event = loop.submit('count_then_fail', 2)
    event.connect_items(lambda _event, value: items.append(value))
    exc = failure(event)
    assert items == [0, 1], items
    assert isinstance(exc, Mpel.RemoteError) and exc.remote_type == 'Error', exc


def test_glib_error_keeps_domain_and_code():
    exc = failure(loop.submit('throws_gerror', '/no/such/file'))
    assert exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND), (exc.domain, exc.code)
    assert isinstance(exc, Mpel.RemoteError) and exc.remote_type == 'GLib.Error', exc
    assert exc.message == '/no/such/file does not exist', exc.message


def test_a_thrown_string_is_a_plain_error():
    exc = failure(loop.submit('throws_string'))
    assert type(exc) is GLib.Error, type(exc)
    assert exc.message == 'throws_string threw a bare string', exc.message


TESTS = [
    test_values_reach_gjs_with_the_shared_types,
    test_thrown_error_has_type_and_traceback,
    test_rejected_promise_and_generator_errors,
    test_glib_error_keeps_domain_and_code,
    test_a_thrown_string_is_a_plain_error,
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
    with loop:
        pass
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
