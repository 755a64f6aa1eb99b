// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Proxies from GJS: worker.addType() in a GJS worker (proxy-worker.js), a
// plain Mpel.Proxy with promise-returning call() and plain getValue(), a
// subclass made with Mpel.registerProxyClass() (the seed's Point), and a
// mirrored property in a bidirectional binding.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Mpel from 'gi://Mpel?version=1.0';

import {test, assert, assertEqual, assertRejects, stopLoop, run} from './harness.js';

const WORKER = GLib.build_filenamev([GLib.path_get_dirname(import.meta.url.replace(/^file:\/\//, '')),
    'proxy-worker.js']);

function gjsLoop() {
    return Mpel.Loop.new_for_argv([GLib.find_program_in_path('gjs'), '-m', WORKER]);
}

const int = name => GObject.ParamSpec.int(name, name, name, GObject.ParamFlags.READWRITE, -1e6, 1e6, 0);

const MpPoint = Mpel.registerProxyClass({
    RemoteType: 'TestJsPoint',
    RemoteMethods: ['move', 'set_z', 'describe'],
    Getters: ['get_z'],
    Properties: {x: int('x'), y: int('y')},
}, class MpPoint extends Mpel.Proxy {});

const Knob = GObject.registerClass({
    Properties: {x: int('x')},
}, class Knob extends GObject.Object {});

test('the seed\'s Point, with a registerProxyClass() subclass', async () => {
    const loop = gjsLoop();
    const p = new MpPoint({loop});
    p.set_z(3);
    assert(p.get_z() !== 3, 'get_z is not 3 before a dispatch');
    p.move(1, 2, 7);
    assertEqual([p.x, p.y], [0, 0], 'x, y before a dispatch');
    assert(p.get_z() !== 7, 'get_z is not 7 before a dispatch');
    await loop.wait_async();
    assertEqual(p.state, Mpel.ProxyState.READY, 'state');
    assertEqual([p.x, p.y, p.get_z()], [1, 2, 7], 'x, y, get_z after wait');
    const value = new GObject.Value();
    value.init(GObject.TYPE_INT);
    p.get_property('x', value);
    assertEqual(value.get_int(), 1, 'g_object_get_property reads the mirror');
    assertEqual([...p.properties].sort(), ['x', 'y'], 'mirrored properties');
    assertEqual([...p.getters], ['get_z'], 'getters');
    await stopLoop(loop);
});

test('a plain proxy: call() gives promises of plain values, getValue() plain values', async () => {
    const loop = gjsLoop();
    const p = Mpel.Proxy.new(loop, 'TestJsPoint', null, ['x', 'y'], ['get_z']);
    assertEqual(p.getValue('x'), null, 'unknown before the worker answered');
    const changes = [];
    p.connectChanged('x', (proxy, value) => changes.push(value));
    const moved = p.call('move', 3, 4, 5);
    assertEqual(await moved, null, 'move returns nothing');
    assertEqual([p.getValue('x'), p.getValue('y'), p.getValue('get_z')], [3, 4, 5], 'mirrored at once');
    assertEqual(p.getVariant('x').get_type_string(), 'i', 'the Variant');
    assertEqual(await p.call('describe', 'here'), {prefix: 'here', xy: [3, 4], z: 5}, 'describe');
    const values = [true, 2 ** 40, 1.5, 'héllo', null, [1, 2], {k: [1.5]}];
    assertEqual(await p.call('echo', ...values), values, 'echo');
    assertEqual(await p.call('echo', new GLib.Variant('(ii)', [1, 2])), [1, 2], 'a Variant tuple is the arguments');
    assertEqual(await p.call('later', 21), 42, 'an async method');
    assertEqual(p.getValue('x'), 21, 'its change');
    assertEqual(changes, [0, 3, 21], 'connectChanged gives plain values');
    const event = p.submit('count', [3]);
    const items = [];
    event.connectItems((_e, item) => items.push(item));
    await new Promise(resolve => event.connect('finished', resolve));
    assertEqual([Mpel.fromVariant(event.get_result()), items], ['counted 3', [0, 1, 2]], 'a generator streams');
    p.setValue('y', 40);
    await loop.wait_async();
    assertEqual(await p.call('describe'), {prefix: 'point', xy: [21, 40], z: 5}, 'setValue reached the worker');
    await stopLoop(loop);
});

test('keyword arguments: callFull() and submit() with {kwargs}', async () => {
    const loop = gjsLoop();
    const p = Mpel.Proxy.new(loop, 'TestJsPoint', null, null, null);
    assertEqual(await p.callFull('scaled', [2], {kwargs: {scale: 3}}), {value: 6, options: {scale: 3}},
        'a last options object');
    assertEqual(await p.callFull('scaled', [2]), {value: 2, options: {}}, 'no kwargs, no options object');
    const event = p.submit('scaled', [5], {kwargs: new GLib.Variant('a{sv}', {scale: new GLib.Variant('i', 2)})});
    await new Promise(resolve => event.connect('finished', resolve));
    assertEqual(Mpel.fromVariant(event.get_result()).value, 10, 'an a{sv} Variant');
    await assertRejects(p.callFull('scaled', [1], {kwargs: {'mpel.object': 1}}),
        err => assert(err.matches(Mpel.error_quark(), Mpel.Error.INVALID_ARGS), err.message), 'mpel.object');
    await stopLoop(loop);
});

test('errors: a thrown exception, an unknown or private method, bad arguments', async () => {
    const loop = gjsLoop();
    const p = Mpel.Proxy.new(loop, 'TestJsPoint', null, null, null);
    const e = await assertRejects(p.call('fail', 'k'), () => {}, 'fail');
    assert(e instanceof Mpel.EventError, `an EventError, not ${e}`);
    assertEqual(e.remoteType, 'RangeError', 'remoteType');
    assert(e.message.includes('no key k'), e.message);
    assert(e.remoteTraceback.includes('fail'), e.remoteTraceback);
    for (const name of ['_hidden', 'nope', 'constructor']) {
        // eslint-disable-next-line no-await-in-loop
        await assertRejects(p.call(name), err => assert(err.matches(Mpel.error_quark(), Mpel.Error.NO_SUCH_METHOD),
            `${name}: ${err.message}`), name);
    }
    await stopLoop(loop);
});

test('notify once per change; a mirrored property in a bidirectional binding', async () => {
    const loop = gjsLoop();
    const p = new MpPoint({loop});
    const knob = new Knob();
    const seen = [];
    p.connect('notify::x', () => seen.push(p.x));
    p.bind_property('x', knob, 'x', GObject.BindingFlags.BIDIRECTIONAL | GObject.BindingFlags.SYNC_CREATE);
    await loop.wait_async();
    assertEqual(seen, [], 'no notify for the default value');
    knob.x = 4;
    knob.x = 5;
    await loop.wait_async();
    assertEqual(await p.describe(), {prefix: 'point', xy: [5, 0], z: 0}, 'the knob reached the worker');
    assertEqual(seen, [4, 5], 'no jitter');
    await p.move(8, 0, 0);
    assertEqual([knob.x, seen], [8, [4, 5, 8]], 'the worker reached the knob');
    await p.move(8, 1, 0);
    assertEqual(seen, [4, 5, 8], 'no notify for an unchanged value');
    await stopLoop(loop);
});

test('a proxy argument goes as its handle; handles are safe integers', async () => {
    const loop = Mpel.Loop.new();
    const group = Mpel.Proxy.new(loop, 'Gio.SimpleActionGroup', null, null, null);
    const action = Mpel.Proxy.new(loop, 'Gio.SimpleAction', Mpel.toVariant({name: 'go'}), ['name'], null);
    assertEqual(Mpel.toVariant(action).get_type_string(), 't', 'a proxy is a t');
    await group.call('add_action', action);
    // The worker gives the object it sends a handle of its own: a safe integer
    const handle = await group.call('lookup_action', 'go');
    assert(Number.isSafeInteger(handle) && handle >= 2 ** 52, `a safe worker handle, not ${handle}`);
    const found = Mpel.Proxy.new_for_handle(group, handle, ['name'], null);
    await loop.wait_async();
    assertEqual(found.state, Mpel.ProxyState.READY, 'a proxy of the object');
    assertEqual(found.getValue('name'), 'go', 'its name');
    await stopLoop(loop);
});

test('addType refuses what is not a registered class', () => {
    const worker = new Mpel.Worker();
    let threw = false;
    try {
        worker.addType(class NotGObject {});
    } catch (e) {
        threw = e instanceof TypeError;
    }
    assert(threw, 'a TypeError');
    return Promise.resolve();
});

run();
