// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The seed's Point example (mp_event_loop's Proxy), with mpel in GJS: the
// Point lives in point-worker.js; the app holds a proxy whose x and y mirror
// it, whose get_z() reads the mirrored getter and whose move() and set_z()
// run in the worker, in order.
//
//   gjs -m point.js

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Mpel from 'gi://Mpel?version=1.0';

const int = name => GObject.ParamSpec.int(name, name, name, GObject.ParamFlags.READWRITE, -1e6, 1e6, 0);

const MpPoint = Mpel.registerProxyClass({
    RemoteType: 'ExampleJsPoint',       // the worker's GType name
    RemoteMethods: ['move', 'set_z'],   // p.move(1, 2, 7): a promise
    Getters: ['get_z'],                 // p.get_z(): the mirrored value
    Properties: {x: int('x'), y: int('y')},
}, class MpPoint extends Mpel.Proxy {});

const here = GLib.path_get_dirname(GLib.filename_from_uri(import.meta.url)[0]);
const loop = Mpel.Loop.new_for_argv([GLib.find_program_in_path('gjs'), '-m',
    GLib.build_filenamev([here, 'point-worker.js'])]);
const mainLoop = new GLib.MainLoop(null, false);
let status = 0;

function check(condition, what) {
    if (!condition)
        throw new Error(`check failed: ${what}`);
}

async function main() {
    const p = new MpPoint({loop});
    p.set_z(3);  // runs in the other process
    check(p.get_z() !== 3, 'get_z is not 3 yet');

    p.move(1, 2, 7);
    check(p.x === 0 && p.y === 0 && p.get_z() !== 7, 'not moved yet');
    print(`Before the worker ran: x=${p.x} y=${p.y} get_z()=${p.get_z()}`);

    await loop.wait_async();  // every call answered and mirrored
    check(p.x === 1 && p.y === 2 && p.get_z() === 7, 'moved');
    print(`After wait: x=${p.x} y=${p.y} get_z()=${p.get_z()}`);

    // A call's promise gives the method's return value, once the mirrors are current
    print(`move returned: ${await p.move(4, 5, 6)}; now x=${p.x}`);

    // A plain proxy: call() by name, getValue() by name
    const plain = Mpel.Proxy.new(loop, 'ExampleJsPoint', null, ['x'], null);
    await plain.call('move', 9, 0, 0);
    print(`plain proxy: x=${plain.getValue('x')}`);
    try {
        await plain.call('jump');
    } catch (e) {
        print(`jump failed: ${e.message}`);
    }
}

main().catch(e => {
    printerr(e.stack ?? e);
    status = 1;
}).finally(() => {
    loop.stop();
    mainLoop.quit();
});
mainLoop.run();
imports.system.exit(status);
