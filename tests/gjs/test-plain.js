// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The GJS layer (bindings/gjs/overrides/Mpel.js): plain values both ways,
// promises, streaming with for await, cancellation, and errors both ways,
// against a worker in JavaScript (worker.js) and one in C (the test module).

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mpel from 'gi://Mpel?version=1.0';

import {test, assert, assertEqual, assertRejects, stopLoop, run} from './harness.js';

const WORKER = GLib.build_filenamev([GLib.path_get_dirname(import.meta.url.replace(/^file:\/\//, '')),
    'worker.js']);

function gjsLoop() {
    return Mpel.Loop.new_for_argv([GLib.find_program_in_path('gjs'), '-m', WORKER]);
}

function testModuleLoop() {
    return new Mpel.Loop({modules: [GLib.getenv('MPEL_TEST_MODULE')]});
}

function isEventError(e, domain, code) {
    assert(e instanceof Mpel.EventError, `an Mpel.EventError, not ${e}`);
    assert(e instanceof Error, 'an Error');
    assert(e.cause instanceof GLib.Error, 'its cause is the GLib.Error');
    assert(e.matches(domain, code), `domain ${domain} code ${code}, not ${e.domain}:${e.code} ${e.message}`);
    return true;
}

test('plain values go to the worker and come back', async () => {
    const loop = gjsLoop();
    const values = [true, false, 0, -7, 2 ** 40, 1.5, 'héllo', '', null, [], [1, 'two', [3.5, false]],
        {}, {name: 'x', nested: {list: [1, null], flag: true}}];
    assertEqual(await loop.call('echo', ...values), values, 'echo');
    assertEqual(await loop.call('add', 20, 22), 42, 'add(20, 22)');
    assertEqual(await loop.call('async_add', 0.25, 0.5), 0.75, 'async_add');
    assertEqual(await loop.call('nothing'), null, 'a handler that returns undefined');
    await stopLoop(loop);
});

test('values take the documented GVariant types', async () => {
    const loop = gjsLoop();
    const type = await loop.call('types', true, 1, 1.5, 's', null, new Uint8Array(2),
        new GLib.Bytes([1]), [1], {a: 1}, new GLib.Variant('u', 7));
    assertEqual(type, '(bxdsmvayayaxa{sv}u)', 'args type');
    // A C handler that wants exact types gets them from GLib.Variant.
    const c = testModuleLoop();
    assertEqual(await c.call('add_vals', new GLib.Variant('i', 3), new GLib.Variant('i', 4)), 7, 'add_vals(3, 4)');
    await Promise.all([stopLoop(loop), stopLoop(c)]);
});

test('values take the types of the table shared with Python', async () => {
    const here = GLib.path_get_dirname(import.meta.url.replace(/^file:\/\//, ''));
    const [, contents] = GLib.file_get_contents(GLib.build_filenamev([here, '..', 'value-types.json']));
    const rows = JSON.parse(new TextDecoder().decode(contents)).filter(row => row.length === 2);
    assert(rows.length > 20, `the table has its rows: ${rows.length}`);
    const wrong = rows.map(([value, type]) => [value, Mpel.toVariant(value).get_type_string(), type])
        .filter(([, got, type]) => got !== type);
    assertEqual(wrong, [], 'values whose type differs from the table');
    // JavaScript's own values follow the same rule.
    assertEqual(Mpel.toVariant([new Uint8Array([1]), new GLib.Bytes([2])]).get_type_string(), 'aay', 'bytes');
    assertEqual(Mpel.toVariant([undefined, null]).get_type_string(), 'amv', 'undefined and null');
    assertEqual(Mpel.toVariant([1, 2n]).get_type_string(), 'ax', 'a Number and a BigInt');
    await null;
});

test('what cannot be sent throws a TypeError naming it', async () => {
    const loop = gjsLoop();
    await assertRejects(loop.call('echo', new Date(0)), e => {
        assert(e instanceof TypeError, `a TypeError, not ${e}`);
        assert(e.message.includes('Date'), `names the value: ${e.message}`);
    }, 'echo(Date)');
    await assertRejects(loop.call('echo', {f: () => 1}), e => assert(e instanceof TypeError, `${e}`), 'echo(fn)');
    assert(loop.n_pending === 0, 'nothing was sent');
    // And a handler that returns what cannot be sent fails its event.
    await assertRejects(loop.call('unsendable'), e => {
        isEventError(e, Mpel.Error, Mpel.Error.FAILED);
        assert(e.message.includes('TypeError') && e.message.includes('Date'), `message: ${e.message}`);
    }, 'unsendable');
    await stopLoop(loop);
});

test('an 8 MiB Uint8Array goes both ways intact', async () => {
    const loop = gjsLoop();
    const bytes = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++)
        bytes[i] = (i * 7) & 0xff;
    const back = await loop.call('bytes_roundtrip', bytes);
    assert(back instanceof Uint8Array, `a Uint8Array, not ${back?.constructor?.name}`);
    assertEqual(back.length, bytes.length, 'length');
    for (let i = 0; i < back.length; i++) {
        if (back[i] !== bytes[i])
            throw new Error(`byte ${i}: ${back[i]} != ${bytes[i]}`);
    }
    await stopLoop(loop);
});

test('Promise.all of 100 calls gives every result in order', async () => {
    const loop = gjsLoop();
    const calls = [];
    for (let i = 0; i < 100; i++)
        calls.push(loop.call('add', i, 1000));
    const results = await Promise.all(calls);
    assertEqual(results, Array.from({length: 100}, (_, i) => i + 1000), 'results');
    await stopLoop(loop);
});

test('keyword arguments reach the handler as this.kwargs', async () => {
    const loop = gjsLoop();
    const event = loop.submit('echo_kwargs', [1], {kwargs: {scale: 2, label: 'x'}});
    assertEqual(await event.wait(), [[1], {scale: 2, label: 'x'}, 'echo_kwargs'], 'echo_kwargs(1, {scale, label})');
    assertEqual(await loop.call('echo_kwargs', 2), [[2], {}, 'echo_kwargs'], 'no kwargs');
    assert(event.get_state() === Mpel.EventState.DONE, 'the event is DONE');
    let error = null;
    try {
        loop.submit('echo', [], {timout: 5});
    } catch (e) {
        error = e;
    }
    assert(error instanceof TypeError && error.message.includes('timout'), `an unknown option is refused: ${error}`);
    error = null;
    try {
        loop.submit('echo', [], new Gio.Cancellable());
    } catch (e) {
        error = e;
    }
    assert(error instanceof TypeError, `options that are not a plain object are refused: ${error}`);
    assertEqual(loop.n_pending, 0, 'nothing was sent');
    await stopLoop(loop);
});

test('a throwing handler ends its event at once with the message', async () => {
    const loop = gjsLoop();
    await assertRejects(loop.call('throws'), e => {
        isEventError(e, Mpel.Error, Mpel.Error.FAILED);
        assertEqual(e.message, 'throws threw TypeError: no such key: missing', 'message');
        assertEqual(e.target, 'throws', 'target');
    }, 'throws');
    await assertRejects(loop.call('throws_string'), e => {
        assertEqual(e.message, 'throws_string threw a bare string', 'message');
    }, 'throws_string');
    // The worker goes on.
    assertEqual(await loop.call('add', 1, 2), 3, 'add after the failure');
    await stopLoop(loop);
});

test('a thrown error carries its type and stack to the app', async () => {
    const loop = gjsLoop();
    await assertRejects(loop.call('throws'), e => {
        isEventError(e, Mpel.Error, Mpel.Error.FAILED);
        assertEqual(e.remoteType, 'TypeError', 'remoteType');
        assert(e.remoteTraceback?.includes('worker.js:'), `the stack names the worker: ${e.remoteTraceback}`);
    }, 'throws');
    // submit() and items() give the same error.
    await assertRejects(loop.submit('not_ready').wait(), e => {
        assertEqual(e.remoteType, 'NotReady', 'a subclass of Error keeps its class name');
        assertEqual(e.message, 'not_ready threw NotReady: later', 'message');
    }, 'not_ready');
    await assertRejects((async () => {
        for await (const _item of loop.submit('count_then_fail', [1]).items())
            ;
    })(), e => assertEqual(e.remoteType, 'Error', 'remoteType from items()'), 'count_then_fail');
    await assertRejects(loop.call('throws_gerror', '/x'), e => {
        assertEqual(e.remoteType, 'GLib.Error', 'a GLib.Error');
        assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), 'keeps its domain and code');
    }, 'throws_gerror');
    await assertRejects(loop.call('throws_string'), e => {
        assertEqual([e.remoteType, e.remoteTraceback], [null, null], 'a thrown string has no type');
    }, 'throws_string');
    // An error of mpel's own has no remote details.
    await assertRejects(loop.call('no_such_target'), e => {
        isEventError(e, Mpel.Error, Mpel.Error.UNKNOWN_TARGET);
        assertEqual([e.remoteType, e.remoteTraceback], [null, null], 'no details');
    }, 'no_such_target');
    await stopLoop(loop);
});

test('a rejected promise ends its event at once with the message', async () => {
    const loop = gjsLoop();
    await assertRejects(loop.call('rejects', 'seven'), e => {
        isEventError(e, Mpel.Error, Mpel.Error.FAILED);
        assertEqual(e.message, 'rejects threw RangeError: seven is out of range', 'message');
    }, 'rejects');
    await stopLoop(loop);
});

// Issue 7, item 15: a raw add_handler() handler that throws used to leave its
// event pending until the JS garbage collector finalized the invocation, and
// the event then failed with a message that had lost the exception.
test('a raw handler that throws or rejects answers at once with the message', async () => {
    const loop = gjsLoop();
    // Only the C API on this side: what is checked is the worker's.
    const callRaw = (target, args) => new Promise((resolve, reject) => {
        loop.call_async(target, args, null, (_loop, result) => {
            try {
                resolve(loop.call_finish(result));
            } catch (e) {
                reject(e);
            }
        });
    });
    const calls = [callRaw('raw_throws', null), callRaw('raw_rejects', null),
        callRaw('raw_returns', new GLib.Variant('(ii)', [6, 7]))];
    await assertRejects(calls[0], e => {
        assert(e.matches(Mpel.Error, Mpel.Error.FAILED), `MPEL_ERROR_FAILED, not ${e.domain}:${e.code}`);
        assertEqual(e.message, 'raw_throws threw Error: raw handler failed', 'message');
    }, 'raw_throws');
    await assertRejects(calls[1], e => {
        assert(e.matches(Mpel.Error, Mpel.Error.FAILED), `MPEL_ERROR_FAILED, not ${e.domain}:${e.code}`);
        assertEqual(e.message, 'raw_rejects threw Error: raw promise rejected', 'message');
    }, 'raw_rejects');
    assertEqual((await calls[2]).unpack(), 42, 'a raw handler may return its GLib.Variant');
    assertEqual(loop.n_pending, 0, 'nothing pending');
    await stopLoop(loop);
});

test('a GLib.Error keeps its domain and code both ways', async () => {
    const gjs = gjsLoop();
    await assertRejects(gjs.call('throws_gerror', '/no/such/file'), e => {
        isEventError(e, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND);
        assertEqual(e.message, '/no/such/file does not exist', 'message');
    }, 'throws_gerror');
    const c = testModuleLoop();
    await assertRejects(c.call('fail_not_found', '/no/such/file'), e => {
        isEventError(e, Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND);
        assert(e.message.includes('/no/such/file'), `message names the file: ${e.message}`);
    }, 'fail_not_found');
    await assertRejects(c.call('no_such_target'), e => {
        isEventError(e, Mpel.Error, Mpel.Error.UNKNOWN_TARGET);
        assert(e.message.includes('no_such_target'), `message names the target: ${e.message}`);
    }, 'no_such_target');
    await Promise.all([stopLoop(gjs), stopLoop(c)]);
});

test('for await reads the items a generator yields, then the result', async () => {
    const loop = gjsLoop();
    const event = loop.submit('count', [5]);
    const items = [];
    for await (const item of event.items())
        items.push(item);
    assertEqual(items, [0, 1, 2, 3, 4], 'items');
    assertEqual(await event.wait(), 'counted 5', 'result');

    const asyncEvent = loop.submit('count_async', [3]);
    const asyncItems = [];
    for await (const item of asyncEvent.items())
        asyncItems.push(item);
    assertEqual(asyncItems, [{i: 0, square: 0}, {i: 1, square: 1}, {i: 2, square: 4}], 'async generator items');
    assertEqual(await asyncEvent.wait(), 3, 'async generator result');
    await stopLoop(loop);
});

test('items from a C handler, and a stream that fails, through for await', async () => {
    const c = testModuleLoop();
    const event = c.submit('yield_range', [new GLib.Variant('u', 3), 'r']);
    const items = [];
    for await (const item of event.items())
        items.push(item);
    assertEqual(items, ['r 0', 'r 1', 'r 2'], 'yield_range items');
    assertEqual(await event.wait(), 3, 'yield_range result');

    const loop = gjsLoop();
    const failing = loop.submit('count_then_fail', [2]);
    const seen = [];
    await assertRejects((async () => {
        for await (const item of failing.items())
            seen.push(item);
    })(), e => {
        isEventError(e, Mpel.Error, Mpel.Error.FAILED);
        assertEqual(e.message, 'count_then_fail threw Error: failed after 2', 'message');
    }, 'count_then_fail');
    assertEqual(seen, [0, 1], 'the items before the failure');
    await Promise.all([stopLoop(loop), stopLoop(c)]);
});

test('a Gio.Cancellable cancels the event in the app and the worker', async () => {
    const loop = gjsLoop();
    const cancellable = new Gio.Cancellable();
    const event = loop.submit('wait_for_cancel', [], {cancellable});
    // add answers after wait_for_cancel has started in the worker.
    const started = loop.submit('echo', ['started']);
    // Caught at once: the loop ends while the test awaits something else.
    const iterated = (async () => {
        for await (const _item of event.items())
            ;
    })().then(() => null, e => e);
    assertEqual(await loop.call('add', 1, 1), 2, 'the worker answers while one event waits');
    await started.wait();
    cancellable.cancel();
    await assertRejects(event.wait(), e => isEventError(e, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
        'wait_for_cancel');
    assert(isEventError(await iterated, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED), 'items() ends with the error');
    assert(event.get_state() === Mpel.EventState.CANCELLED, 'the event is CANCELLED');
    // The CANCEL frame reached the handler's cancellable in the worker.
    // The CANCEL frame went out before this call's, and the worker reads them in order.
    assertEqual(await loop.call('was_cancelled'), 'wait_for_cancel', 'the worker saw the cancellation');
    await stopLoop(loop);
});

test('cancelling stops an endless stream in the worker', async () => {
    const loop = gjsLoop();
    const cancellable = new Gio.Cancellable();
    const event = loop.submit('count_forever', [], {cancellable});
    const seen = [];
    await assertRejects((async () => {
        for await (const item of event.items()) {
            seen.push(item);
            if (item === 10)
                cancellable.cancel();
        }
    })(), e => isEventError(e, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED), 'count_forever');
    assertEqual(seen.slice(0, 11), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'the first items');
    // The worker stopped streaming: it answers the next event.
    assertEqual(await loop.call('add', 2, 2), 4, 'add after the cancelled stream');
    await stopLoop(loop);
});

test('connectItems gives plain values', async () => {
    const loop = gjsLoop();
    const mine = [], all = [], raw = [];
    const event = loop.submit('count_async', [2]);
    event.connectItems((source, value) => mine.push([source === event, value]));
    event.connect('item', (_event, item) => raw.push(item));
    const id = loop.connectItems((_loop, _event, value) => all.push(value), 'count_async');
    await event.wait();
    assertEqual(mine, [[true, {i: 0, square: 0}], [true, {i: 1, square: 1}]], 'the event\'s items');
    assertEqual(all, [{i: 0, square: 0}, {i: 1, square: 1}], 'the loop\'s items');
    assert(raw.every(item => item instanceof GLib.Variant), 'the signal keeps the GLib.Variant');
    loop.disconnect(id);
    await loop.submit('count_async', [1]).wait();
    assertEqual(all.length, 2, 'disconnected');
    await stopLoop(loop);
});

test('two streams in one worker interleave', async () => {
    const loop = gjsLoop();
    const order = [];
    loop.connect('item', (_loop, event) => order.push(event.get_target() === 'count' ? 'a' : 'b'));
    const a = loop.submit('count', [300]);
    const b = loop.submit('count_async', [300]);
    await Promise.all([a.wait(), b.wait()]);
    assertEqual(order.length, 600, 'items');
    assert(order.indexOf('b') < order.lastIndexOf('a'), 'the second stream began before the first ended');
    await stopLoop(loop);
});

test('items() has one reader, and keeps what arrived before it began', async () => {
    const loop = gjsLoop();
    const event = loop.submit('count', [4]);
    await event.wait();
    const items = [];
    for await (const item of event.items())
        items.push(item);
    assertEqual(items, [0, 1, 2, 3], 'items read after the end');
    let error = null;
    try {
        event.items();
    } catch (e) {
        error = e;
    }
    assert(error?.message.includes('already'), `a second reader is refused: ${error}`);

    // Leaving the loop early does not cancel the event.
    const long = loop.submit('count', [50]);
    for await (const item of long.items()) {
        if (item === 2)
            break;
    }
    assertEqual(await long.wait(), 'counted 50', 'the event went on');
    await stopLoop(loop);
});

test('timeout and noReply options', async () => {
    const loop = gjsLoop();
    await assertRejects(loop.submit('wait_for_cancel', [], {timeout: 100}).wait(),
        e => isEventError(e, Mpel.Error, Mpel.Error.TIMED_OUT), 'timeout');
    const quiet = loop.submit('add', [1, 2], {noReply: true});
    assertEqual(await quiet.wait(), null, 'a NO_REPLY event gives no value');
    assert(quiet.get_flags() & Mpel.EventFlags.NO_REPLY, 'the flag is set');
    await assertRejects(loop.submit('throws', [], {noReply: true}).wait(), e => {
        assertEqual(e.message, 'throws threw TypeError: no such key: missing', 'a NO_REPLY failure');
    }, 'throws with noReply');
    await stopLoop(loop);
});

test('toVariant and fromVariant', async () => {
    const v = Mpel.toVariant({bytes: new Uint8Array([1, 2, 255]), big: 5n, list: [null, 'a']});
    assertEqual(v.get_type_string(), 'a{sv}', 'an object');
    const back = Mpel.fromVariant(v);
    assert(back.bytes instanceof Uint8Array, 'bytes come back as a Uint8Array');
    assertEqual([...back.bytes], [1, 2, 255], 'bytes');
    assertEqual(back.big, 5, 'a BigInt');
    assertEqual(back.list, [null, 'a'], 'list');
    const map = Mpel.fromVariant(new GLib.Variant('a{is}', {1: 'one'}));
    assert(map instanceof Map && map.get(1) === 'one', 'integer keys give a Map');
    assertEqual(Mpel.fromVariant(new GLib.Variant('(ums)', [7, null])), [7, null], 'a tuple with a maybe');
    let error = null;
    try {
        Mpel.toVariant(2n ** 64n);
    } catch (e) {
        error = e;
    }
    assert(error instanceof TypeError, `a BigInt out of range is refused: ${error}`);
    await null;
});

test('start_async, wait_async and call_async return promises', async () => {
    const loop = gjsLoop();
    await loop.start_async();
    assert(loop.is_running(), 'running after start_async()');
    const events = [1, 2, 3].map(i => loop.submit('add', [i, i]));
    await loop.wait_async();
    assertEqual(events.map(e => e.get_result().unpack()), [2, 4, 6], 'every event ended before wait_async');
    const raw = await loop.call_async('raw_returns', new GLib.Variant('(ii)', [3, 5]));
    assert(raw instanceof GLib.Variant, 'call_async gives the GLib.Variant');
    assertEqual(raw.unpack(), 15, 'raw_returns(3, 5)');
    await stopLoop(loop);

    const bad = Mpel.Loop.new_for_argv(['/nonexistent/mpel-worker']);
    await assertRejects(bad.start_async(), e => {
        assert(e instanceof GLib.Error, `a GLib.Error, not ${e}`);
        assert(e.matches(Mpel.Error, Mpel.Error.SPAWN_FAILED), `SPAWN_FAILED, not ${e.domain}:${e.code} ${e.message}`);
    }, 'start_async with a missing worker');
    bad.close();
});

run();
