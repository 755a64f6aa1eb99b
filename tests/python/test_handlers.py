#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python overrides of Mpel.Worker: a handler may return its result, and
# one that raises answers with the error instead of leaving its event
# pending. Prints TAP; every wait has a deadline.

import os
import sys
import traceback

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def call(loop, target, args=None, seconds=20):
    outcome = {}

    def done(source, result):
        try:
            outcome['value'] = source.call_finish(result)
        except GLib.Error as e:
            outcome['error'] = e

    loop.call_async(target, args, None, done)
    deadline = GLib.get_monotonic_time() + seconds * 1000000
    timer = GLib.timeout_add_seconds(seconds, lambda: GLib.SOURCE_REMOVE)
    try:
        while not outcome:
            if GLib.get_monotonic_time() > deadline:
                raise AssertionError('timed out waiting for %s' % target)
            GLib.MainContext.default().iteration(True)
    finally:
        GLib.source_remove(timer)
    return outcome


def test_returned_result(loop):
    out = call(loop, 'add_vals', GLib.Variant('(ii)', (3, 4)))
    assert out['value'].unpack() == 7, out


def test_value_error(loop):
    out = call(loop, 'raise_value_error')
    e = out['error']
    assert e.matches(Mpel.error_quark(), Mpel.Error.FAILED), e
    assert 'ValueError: no good' in e.message, e.message


def test_glib_error(loop):
    out = call(loop, 'raise_glib_error')
    e = out['error']
    assert e.matches(GLib.file_error_quark(), GLib.FileError.NOENT), e
    assert e.message == 'gone', e.message


def test_wrong_type(loop):
    out = call(loop, 'return_wrong_type')
    assert 'TypeError' in out['error'].message, out


def test_nothing(loop):
    out = call(loop, 'nothing')
    assert 'error' in out, out
    assert out['error'].matches(Mpel.error_quark(), Mpel.Error.FAILED), out


def test_later(loop):
    out = call(loop, 'later')
    assert out['value'].unpack() == 'later', out


def main():
    tests = [test_returned_result, test_value_error, test_glib_error,
             test_wrong_type, test_nothing, test_later]
    loop = Mpel.Loop.new_for_argv([sys.executable, os.path.join(HERE, 'handlers_worker.py')])
    print('1..%d' % len(tests))
    failed = 0
    for i, test in enumerate(tests, 1):
        try:
            test(loop)
            print('ok %d - %s' % (i, test.__name__))
        except Exception:  # noqa: BLE001
            failed += 1
            print('not ok %d - %s' % (i, test.__name__))
            for line in traceback.format_exc().splitlines():
                print('# ' + line)
    loop.close()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
