// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The quick start of mp_event_loop, with mpel, from GJS: events go to a
// worker process (quickstart-worker.js); results come back as promises of
// plain values, on this process's main loop.
//
//   gjs -m quickstart.js
//   Results summed: 36

import GLib from 'gi://GLib';
import Mpel from 'gi://Mpel?version=1.0';
import System from 'system';

const [here] = GLib.filename_from_uri(GLib.path_get_dirname(import.meta.url));
const loop = Mpel.Loop.new_for_argv([GLib.find_program_in_path('gjs'), '-m',
    GLib.build_filenamev([here, 'quickstart-worker.js'])]);

// Every event also reaches the output signal, as in the seed.
loop.connect('output', (_loop, event) => {
    if (event.get_state() === Mpel.EventState.FAILED)
        printerr(`${event.get_target()} failed: ${event.get_error().message}`);
    return false; // let other output handlers see the event too
});

try {
    const events = [
        loop.submit('add_vals', [2]),
        loop.submit('add_vals', [3, 4]),
        loop.submit('add_vals', [5], {kwargs: {value2: 6}}),
        loop.submit('add_vals', [7], {kwargs: {value2: 8}}),
    ];
    const results = await Promise.all(events.map(event => event.wait()));
    const summed = results.reduce((a, b) => a + b, 0);
    print(`Results summed: ${summed}`);
    if (JSON.stringify(results) !== '[3,7,11,15]')
        throw new Error(`expected [3,7,11,15], got ${JSON.stringify(results)}`);

    // One call on its own.
    const value = await loop.call('add_vals', 20, 22);
    print(`add_vals(20, 22) = ${value}`);

    // An error thrown in the worker, caught here.
    try {
        await loop.call('divide', 1, 0);
        throw new Error('divide(1, 0) did not fail');
    } catch (e) {
        if (!(e instanceof Mpel.EventError))
            throw e;
        print(`divide(1, 0) failed: ${e.message}`);
    }

    // Like leaving the seed's `with` block: resolves once no event is pending.
    await loop.wait_async();
} catch (e) {
    printerr(`quickstart: ${e.message}`);
    loop.stop();
    System.exit(1);
}
loop.stop();
