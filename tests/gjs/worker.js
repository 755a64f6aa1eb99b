// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The GJS worker of the gjs suite: `gjs -m worker.js`, spawned by the tests
// through Mpel.Loop.new_for_argv(). Its handlers use the overrides in
// bindings/gjs/overrides/Mpel.js.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Mpel from 'gi://Mpel?version=1.0';
import System from 'system';

const worker = Mpel.Worker.new();
let lastCancelled = null;

// Plain handlers.
worker.handler('add', (a, b) => a + b);
worker.handler('echo', (...args) => args);
worker.handler('echo_kwargs', function (...args) {
    return [args, this.kwargs, this.target];
});
worker.handler('nothing', () => undefined);
worker.handler('async_add', async (a, b) => {
    await null;
    return a + b;
});
worker.handler('throws', () => {
    throw new TypeError('no such key: missing');
});
worker.handler('rejects', async what => {
    await new Promise(resolve => GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
    throw new RangeError(`${what} is out of range`);
});
worker.handler('throws_gerror', path => {
    throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, `${path} does not exist`);
});
worker.handler('throws_string', () => {
    // eslint-disable-next-line no-throw-literal
    throw 'a bare string';
});
worker.handler('unsendable', () => new Date(0));
class NotReady extends Error {}
worker.handler('not_ready', () => {
    throw new NotReady('later');
});

// The GVariant type of the arguments, as the app's conversion made them.
worker.add_handler('types', invocation => new GLib.Variant('s', invocation.get_args().get_type_string()));

// Checks the 8 MiB buffer the app sends and sends it back.
worker.handler('bytes_roundtrip', bytes => {
    if (!(bytes instanceof Uint8Array))
        throw new TypeError(`expected a Uint8Array, got ${bytes?.constructor?.name}`);
    for (let i = 0; i < bytes.length; i++) {
        if (bytes[i] !== ((i * 7) & 0xff))
            throw new Error(`byte ${i} is ${bytes[i]}`);
    }
    return bytes;
});

// Streaming.
worker.handler('count', function* (n) {
    for (let i = 0; i < n; i++)
        yield i;
    return `counted ${n}`;
});
worker.handler('count_async', async function* (n) {
    for (let i = 0; i < n; i++) {
        // eslint-disable-next-line no-await-in-loop
        await null;
        yield {i, square: i * i};
    }
    return n;
});
worker.handler('count_then_fail', function* (n) {
    for (let i = 0; i < n; i++)
        yield i;
    throw new Error(`failed after ${n}`);
});
worker.handler('count_forever', function* () {
    for (let i = 0; ; i++)
        yield i;
});

// Waits until the app cancels the event; was_cancelled tells what it saw.
worker.handler('wait_for_cancel', function () {
    const cancellable = this.cancellable;
    return new Promise((_resolve, reject) => {
        cancellable.connect(() => {
            lastCancelled = this.target;
            reject(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'cancelled'));
        });
    });
});
worker.handler('was_cancelled', () => lastCancelled);

// Raw handlers (add_handler) that fail: issue 7, item 15.
worker.add_handler('raw_throws', _invocation => {
    throw new Error('raw handler failed');
});
worker.add_handler('raw_rejects', async _invocation => {
    await null;
    throw new Error('raw promise rejected');
});
worker.add_handler('raw_returns', invocation => {
    const [a, b] = invocation.get_args().deepUnpack();
    return new GLib.Variant('i', a * b);
});

try {
    worker.run();
} catch (e) {
    printerr(`worker.js: ${e.message}`);
    System.exit(1);
}
