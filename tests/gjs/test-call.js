// SPDX-License-Identifier: LGPL-2.1-or-later
//
// mpel from GJS through GObject-Introspection: call_async awaited as a
// promise, errors that cross the wire, the output signal. Run as a plain
// script (`gjs test-call.js`); prints TAP and exits non-zero on failure.
//
// Nothing sleeps: each test awaits its promises while the GLib main loop
// runs, under a deadline that fails the test.

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Gio = '2.0';
imports.gi.versions.Mpel = '1.0';

const {GLib, Gio, Mpel} = imports.gi;
const System = imports.system;

Gio._promisify(Mpel.Loop.prototype, 'call_async', 'call_finish');
Gio._promisify(Mpel.Loop.prototype, 'wait_async', 'wait_finish');

const DEADLINE_MS = 20000;
const TEST_MODULE = GLib.getenv('MPEL_TEST_MODULE');

const tests = [];

function test(name, fn) {
    tests.push({name, fn});
}

function assert(condition, message) {
    if (!condition)
        throw new Error(`assertion failed: ${message}`);
}

function assertEqual(actual, expected, what) {
    const a = JSON.stringify(actual), e = JSON.stringify(expected);
    if (a !== e)
        throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function assertRejects(promise, check, what) {
    let error = null;
    try {
        const value = await promise;
        error = new Error(`${what}: resolved with ${value?.print(true)} instead of failing`);
    } catch (e) {
        check(e);
        return e;
    }
    throw error;
}

function testModuleLoop() {
    const loop = Mpel.Loop.new();
    loop.modules = [TEST_MODULE];
    return loop;
}

// Resolves when the loop's workers have exited after a graceful stop().
function stopLoop(loop) {
    return new Promise((resolve, reject) => {
        const exits = [];
        const id = loop.connect('worker-exited', (_loop, index, reason) => {
            exits.push(index);
            if (reason)
                reject(new Error(`worker ${index} did not exit cleanly: ${reason.message}`));
            else if (exits.length >= loop.n_workers)
                resolve();
            if (exits.length >= loop.n_workers)
                loop.disconnect(id);
        });
        loop.stop();
    });
}

function withDeadline(promise, ms, what) {
    let source = 0;
    const deadline = new Promise((_resolve, reject) => {
        source = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            source = 0;
            reject(new Error(`timed out after ${ms} ms: ${what}`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise, deadline]).finally(() => {
        if (source)
            GLib.source_remove(source);
    });
}

test('call_async resolves with the handler value', async () => {
    const loop = testModuleLoop();
    const result = await loop.call_async('add_vals', new GLib.Variant('(ii)', [3, 4]), null);
    assert(result instanceof GLib.Variant, 'call_finish returns a GLib.Variant');
    assertEqual(result.get_type_string(), 'i', 'result type');
    assertEqual(result.unpack(), 7, 'add_vals(3, 4)');
    await stopLoop(loop);
});

test('calls awaited together end in order', async () => {
    const loop = testModuleLoop();
    const promises = [];
    for (let i = 0; i < 10; i++)
        promises.push(loop.call_async('add', new GLib.Variant('(ii)', [i, 100]), null));
    const results = (await Promise.all(promises)).map(v => v.unpack());
    assertEqual(results, [100, 101, 102, 103, 104, 105, 106, 107, 108, 109], 'results');
    await stopLoop(loop);
});

test('an error from the worker rejects with its domain and code', async () => {
    const loop = testModuleLoop();
    const error = await assertRejects(
        loop.call_async('fail_not_found', new GLib.Variant('(s)', ['/no/such/file']), null),
        e => {
            assert(e instanceof GLib.Error, `a GLib.Error, not ${e}`);
            assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND),
                `G_IO_ERROR_NOT_FOUND, not ${e.domain}:${e.code} ${e.message}`);
        }, 'fail_not_found');
    assert(error.message.includes('/no/such/file'), `message names the file: ${error.message}`);
    await stopLoop(loop);
});

test('an unknown target rejects with MPEL_ERROR_UNKNOWN_TARGET', async () => {
    const loop = testModuleLoop();
    await assertRejects(loop.call_async('no_such_target', null, null), e => {
        assert(e.matches(Mpel.Error, Mpel.Error.UNKNOWN_TARGET),
            `MPEL_ERROR_UNKNOWN_TARGET, not ${e.domain}:${e.code} ${e.message}`);
        assert(e.message.includes('no_such_target'), `message names the target: ${e.message}`);
    }, 'no_such_target');
    // The worker lives on.
    const result = await loop.call_async('add', new GLib.Variant('(ii)', [1, 2]), null);
    assertEqual(result.unpack(), 3, 'add(1, 2) after the error');
    await stopLoop(loop);
});

test('a cancelled call rejects with G_IO_ERROR_CANCELLED', async () => {
    const loop = testModuleLoop();
    const cancellable = new Gio.Cancellable();
    const sleeping = loop.call_async('mpel.sleep', new GLib.Variant('(u)', [60000]), cancellable);
    // mpel.ping answers first, so mpel.sleep has been sent by then.
    await loop.call_async('mpel.ping', null, null);
    cancellable.cancel();
    await assertRejects(sleeping, e => {
        assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
            `G_IO_ERROR_CANCELLED, not ${e.domain}:${e.code} ${e.message}`);
    }, 'mpel.sleep (60 s)');
    await stopLoop(loop);
});

test('output handlers run in order and TRUE stops the chain', async () => {
    const loop = new Mpel.Loop({modules: [TEST_MODULE]});
    const printed = [];
    loop.connect('output', (_loop, event) => {
        if (event.get_target() === 'my_event') {
            printed.push(`My Event ${JSON.stringify(event.get_result().deepUnpack())}`);
            return true;
        }
        printed.push('Not My Event');
        return false;
    });
    loop.connect('output', (_loop, event) => {
        printed.push(`Normal Event ${event.get_result().unpack()}`);
        return false;
    });
    loop.add_event('add_one', new GLib.Variant('(i)', [1]));
    loop.add_event('add_one', new GLib.Variant('(i)', [2]));
    loop.add_event('my_event', new GLib.Variant('(i)', [3]));
    await loop.wait_async(null);
    assertEqual(printed, ['Not My Event', 'Normal Event 2', 'Not My Event', 'Normal Event 3',
        'My Event [0,1,2]'], 'printed');
    await stopLoop(loop);
});

async function main() {
    print(`1..${tests.length}`);
    let failed = 0;
    for (const [index, {name, fn}] of tests.entries()) {
        try {
            // eslint-disable-next-line no-await-in-loop
            await withDeadline(fn(), DEADLINE_MS, name);
            print(`ok ${index + 1} - ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${index + 1} - ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.split('\n'))
                print(`# ${line}`);
        }
    }
    return failed;
}

let status = 1;
const mainLoop = new GLib.MainLoop(null, false);
main().then(failed => {
    status = failed ? 1 : 0;
}).catch(e => {
    print(`# ${e}`);
}).finally(() => mainLoop.quit());
mainLoop.run();
System.exit(status);
