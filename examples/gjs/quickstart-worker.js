// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The worker process of quickstart.js, also written in JavaScript. It runs
// beside the app for as long as the app's Mpel.Loop keeps it.
//
//   gjs -m quickstart-worker.js   (started by quickstart.js, not by hand)

import Mpel from 'gi://Mpel?version=1.0';

const worker = Mpel.Worker.new();

// add_vals(value, value2 = 1): plain values in and out; value2 may also come
// as a keyword argument, which a function expression reads in this.kwargs.
worker.handler('add_vals', function (value, value2 = this.kwargs.value2 ?? 1) {
    return value + value2;
});

// A handler that fails: the app gets an Mpel.EventError with this message at
// once, and the worker goes on.
worker.handler('divide', (a, b) => {
    if (b === 0)
        throw new RangeError(`cannot divide ${a} by zero`);
    return a / b;
});

// Serves the app until it stops the loop or goes away.
worker.run();
