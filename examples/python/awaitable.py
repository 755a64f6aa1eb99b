#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpel with asyncio (aioprocessing's awaitable calls, coproc's request/reply
# with errors): await calls, gather many, stream progress with `async for`,
# catch a worker's exception, give up on a slow call. Runs on an asyncio
# loop on GLib: PyGObject's own (3.50) or gbulb (Debian: python3-gbulb).
#
#   python3 awaitable.py

import asyncio

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402


async def main():
    loop = Mpel.Loop.for_python_script('tasks_worker.py')
    async with loop:
        print('2 squared:', await loop.call('square', 2))
        print('Squares:', await asyncio.gather(*(loop.call('square', i) for i in range(10))))

        event = loop.submit('count_primes', 100000, steps=4)
        async for done in event:
            print('Progress: %d%%' % (done * 100))
        print('Primes below 100000:', await event)

        try:
            await loop.call('price', 'durian')
        except Mpel.RemoteError as error:
            print('Error:', error)                  # KeyError: 'durian'
        except GLib.Error as error:
            print('mpel error:', error.message)

        try:
            await asyncio.wait_for(loop.call('slow', 3600), timeout=0.2)
        except asyncio.TimeoutError:
            print('Gave up on slow: the worker was told to stop it')


Mpel.asyncio_run(main())
