// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The worker process of quickstart.js, also written in JavaScript. It runs
// beside the app for as long as the app's Mpel.Loop keeps it.

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Mpel = '1.0';

const {GLib, Mpel} = imports.gi;
const System = imports.system;

// add_vals(value, value2 = 1); value2 may also come as a keyword argument.
function addVals(invocation) {
    let [value, value2 = 1] = invocation.get_args().deepUnpack();
    const kwarg = invocation.lookup_kwarg('value2', new GLib.VariantType('i'));
    if (kwarg !== null)
        value2 = kwarg.unpack();
    invocation.return_value(new GLib.Variant('i', value + value2));
}

const worker = Mpel.Worker.new();
worker.add_handler('add_vals', addVals);

// Serves the app until it stops the loop or goes away.
try {
    worker.run();
} catch (e) {
    printerr(`quickstart-worker: ${e.message}`);
    System.exit(1);
}
