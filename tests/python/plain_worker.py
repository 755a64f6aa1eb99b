#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A worker written the plain way: @worker.handler functions that take and
# return plain values, generators and async generators that stream, async
# handlers, and exceptions. Used by test_plain.py.

import asyncio
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402

worker = Mpel.Worker()


@worker.handler('add_vals')
def add_vals(value, value2=1):
    return value + value2


@worker.handler('echo')
def echo(*args, **kwargs):
    return [list(args), kwargs]


@worker.handler('identity')
def identity(value):
    return value


@worker.handler('types')
def types(*args):
    """The type strings the worker received, to check the mapping."""
    invocation = Mpel.current_invocation()
    variant = invocation.get_args()
    return [variant.get_child_value(i).get_type_string() for i in range(variant.n_children())]


@worker.handler('nothing')
def nothing():
    pass


@worker.handler('bytes_len')
def bytes_len(data):
    return len(data)


@worker.handler('missing')
def missing(key):
    return {}[key]


@worker.handler('glib_error')
def glib_error(path):
    raise GLib.Error.new_literal(GLib.file_error_quark(), 'No such file: ' + path,
                                 GLib.FileError.NOENT)


@worker.handler('count')
def count(n, tag=''):
    """Streams tag+i for i < n, then returns n."""
    for i in range(n):
        yield '%s%d' % (tag, i)
    return n


@worker.handler('count_forever')
def count_forever():
    """Streams until cancelled; then says so to a later call."""
    i = 0
    try:
        while True:
            yield i
            i += 1
    finally:
        state['generator_closed'] = True


@worker.handler('fail_midway')
def fail_midway():
    yield 1
    raise ValueError('midway')


state = {'generator_closed': False}
flags = {}


def _flag(name):
    if name not in flags:
        flags[name] = asyncio.Event()
    return flags[name]


@worker.handler('flag')
async def wait_flag(name):
    """Answers once the flag name is set in this worker."""
    await _flag(name).wait()
    return True


@worker.handler('state')
def get_state():
    return state


@worker.handler('async_add')
async def async_add(a, b):
    await asyncio.sleep(0)
    return a + b


@worker.handler('async_sleep_forever')
async def async_sleep_forever():
    _flag('sleeping').set()
    try:
        await asyncio.Future()
    except asyncio.CancelledError:
        _flag('sleep_cancelled').set()
        raise


@worker.handler('async_count')
async def async_count(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


@worker.handler('async_fail')
async def async_fail():
    await asyncio.sleep(0)
    raise KeyError('async missing')


@worker.handler
def unsendable():
    return object()


if __name__ == '__main__':
    try:
        worker.run()
    except GLib.Error as error:
        sys.exit('plain_worker: ' + error.message)
