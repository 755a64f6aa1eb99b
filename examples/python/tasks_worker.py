#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The worker of awaitable.py and gtk_app.py: plain functions, a generator
# that reports progress, an async handler, and a handler that raises.

import asyncio
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Mpel', '1.0')
from gi.repository import GLib, Mpel  # noqa: E402

worker = Mpel.Worker()

PRICES = {'apple': 0.5, 'pear': 0.75}


@worker.handler('square')
def square(x):
    return x * x


@worker.handler('price')
def price(fruit):
    return PRICES[fruit]          # KeyError for an unknown fruit


@worker.handler('count_primes')
def count_primes(limit, steps=10):
    """Counts the primes below limit; yields the fraction done after each
    step, so the app can show progress, and returns the count."""
    sieve = bytearray([1]) * limit
    sieve[:2] = b'\0\0'
    step = max(1, limit // steps)
    for start in range(0, limit, step):
        for i in range(start, min(start + step, limit)):
            if sieve[i] and i * i < limit:
                sieve[i * i::i] = bytes(len(range(i * i, limit, i)))
        yield min(1.0, (start + step) / limit)
    return sum(sieve)


@worker.handler('slow')
async def slow(seconds):
    await asyncio.sleep(seconds)  # cancelled with the event
    return 'slept %s s' % seconds


try:
    worker.run()
except GLib.Error as error:
    sys.exit('tasks_worker: ' + error.message)
