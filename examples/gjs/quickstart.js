// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The quick start of mp_event_loop, with mpel, from GJS: events go to a worker
// process (quickstart-worker.js), results come back as promises and on the
// `output` signal, on this process's main loop.
//
//   gjs quickstart.js
//   Results summed: 36

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Gio = '2.0';
imports.gi.versions.Mpel = '1.0';

const {GLib, Gio, Mpel} = imports.gi;
const System = imports.system;

Gio._promisify(Mpel.Loop.prototype, 'call_async', 'call_finish');
Gio._promisify(Mpel.Loop.prototype, 'wait_async', 'wait_finish');

const worker = GLib.build_filenamev([GLib.path_get_dirname(System.programPath), 'quickstart-worker.js']);
const loop = Mpel.Loop.new_for_argv([GLib.find_program_in_path('gjs'), worker]);

// Sends target(...args, kwargs) to the worker; int arguments only.
function addEvent(target, args, kwargs = {}) {
    const event = Mpel.Event.new(target, new GLib.Variant(`(${'i'.repeat(args.length)})`, args));
    const dict = {};
    for (const [name, value] of Object.entries(kwargs))
        dict[name] = new GLib.Variant('i', value);
    event.set_kwargs(new GLib.Variant('a{sv}', dict));
    loop.push(event);
    return event;
}

const results = [];
loop.connect('output', (_loop, event) => {
    if (event.get_state() === Mpel.EventState.DONE)
        results.push(event.get_result().unpack());
    else
        printerr(`${event.get_target()} failed: ${event.get_error().message}`);
    return false; // let other output handlers see the event too
});

async function main() {
    addEvent('add_vals', [2]);
    addEvent('add_vals', [3, 4]);
    addEvent('add_vals', [5], {value2: 6});
    addEvent('add_vals', [7], {value2: 8});
    // Like leaving the seed's `with` block: resolves once every event ended.
    await loop.wait_async(null);

    const summed = results.reduce((a, b) => a + b, 0);
    print(`Results summed: ${summed}`);
    if (JSON.stringify(results) !== '[3,7,11,15]' || summed !== 36)
        throw new Error(`expected [3,7,11,15], got ${JSON.stringify(results)}`);

    // A single call can also be awaited on its own (it reaches `output` too).
    const result = await loop.call_async('add_vals', new GLib.Variant('(ii)', [20, 22]), null);
    print(`add_vals(20, 22) = ${result.unpack()}`);
    if (result.unpack() !== 42)
        throw new Error(`add_vals(20, 22) returned ${result.unpack()}`);
}

let status = 1;
const mainLoop = new GLib.MainLoop(null, false);
main().then(() => {
    status = 0;
}).catch(e => {
    printerr(`quickstart: ${e.message}`);
}).finally(() => {
    loop.stop();
    mainLoop.quit();
});
mainLoop.run();
System.exit(status);
