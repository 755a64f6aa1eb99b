// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A GJS app and a Python worker (tests/python/plain_worker.py, run by the
// python3 that has gi, MPEL_TEST_PYTHON): values keep the mapping both
// layers share, and a raised Python exception arrives as an Mpel.EventError
// with its type and traceback. The other direction is
// tests/python/test_cross_language.py.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mpel from 'gi://Mpel?version=1.0';

import {test, assert, assertEqual, assertRejects, stopLoop, run} from './harness.js';

const HERE = GLib.path_get_dirname(import.meta.url.replace(/^file:\/\//, ''));
const loop = Mpel.Loop.new_for_argv([GLib.getenv('MPEL_TEST_PYTHON'),
    GLib.build_filenamev([HERE, '..', 'python', 'plain_worker.py'])]);

test('values reach Python with the shared types', async () => {
    // types answers with the type string of each argument, as the worker got it.
    assertEqual(await loop.call('types', [1, 2], [], ['a', 1], [[1], [2]], null, new Uint8Array([0]), {k: [1.5]}),
        ['ax', 'av', 'av', 'aax', 'mv', 'ay', 'a{sv}'], 'types');
    const back = await loop.call('identity', {list: [1, 2], mixed: ['a', null], bytes: new Uint8Array([1, 2])});
    assertEqual(back.list, [1, 2], 'list');
    assertEqual(back.mixed, ['a', null], 'mixed');
    assert(back.bytes instanceof Uint8Array && back.bytes.length === 2, 'bytes');
});

test('a raised KeyError arrives with its type and traceback', async () => {
    await assertRejects(loop.call('missing', 'missing'), e => {
        assert(e instanceof Mpel.EventError, `an Mpel.EventError, not ${e}`);
        assert(e.matches(Mpel.Error, Mpel.Error.FAILED), `MPEL_ERROR_FAILED, not ${e.domain}:${e.code}`);
        assertEqual(e.message, "KeyError: 'missing'", 'message');
        assertEqual(e.remoteType, 'KeyError', 'remoteType');
        assert(e.remoteTraceback.startsWith('Traceback (most recent call last)'), `traceback: ${e.remoteTraceback}`);
        assert(e.remoteTraceback.includes('return {}[key]'), `the traceback names the line: ${e.remoteTraceback}`);
    }, 'missing');
});

test('errors of async handlers and generators, through submit()', async () => {
    await assertRejects(loop.submit('async_fail').wait(), e => {
        assertEqual(e.remoteType, 'KeyError', 'remoteType');
        assert(e.remoteTraceback.includes('async_fail'), `traceback: ${e.remoteTraceback}`);
    }, 'async_fail');
    const items = [];
    await assertRejects((async () => {
        for await (const item of loop.submit('fail_midway').items())
            items.push(item);
    })(), e => {
        assertEqual([e.remoteType, e.message], ['ValueError', 'ValueError: midway'], 'fail_midway');
    }, 'fail_midway');
    assertEqual(items, [1], 'the item before the failure');
});

test('a GLib.Error raised in Python keeps its domain and code', async () => {
    await assertRejects(loop.call('glib_error', '/nowhere'), e => {
        assert(e.matches(GLib.FileError, GLib.FileError.NOENT), `G_FILE_ERROR_NOENT, not ${e.domain}:${e.code}`);
        assertEqual(e.message, 'No such file: /nowhere', 'message');
        assertEqual(e.remoteType, 'GLib.Error', 'remoteType');
    }, 'glib_error');
    // A cancellation is no remote exception.
    const cancellable = new Gio.Cancellable();
    const event = loop.submit('async_sleep_forever', [], {cancellable});
    cancellable.cancel();
    await assertRejects(event.wait(), e => {
        assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED), `CANCELLED, not ${e.domain}:${e.code}`);
        assertEqual(e.remoteType, null, 'remoteType');
    }, 'async_sleep_forever');
    await stopLoop(loop);
});

run();
