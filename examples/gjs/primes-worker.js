// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The worker of primes.js: counts primes, streaming its progress.
//
//   gjs -m primes-worker.js   (started by primes.js, not by hand)

import Mpel from 'gi://Mpel?version=1.0';

function isPrime(n) {
    if (n < 4)
        return n > 1;
    if (n % 2 === 0)
        return false;
    for (let d = 3; d * d <= n; d += 2) {
        if (n % d === 0)
            return false;
    }
    return true;
}

const worker = Mpel.Worker.new();

// A generator streams what it yields; its return value is the result. The
// worker's main loop gets a turn between items, so a cancellation from the
// app stops the generator there.
worker.handler('count_primes', function* (limit) {
    if (!Number.isInteger(limit) || limit < 2)
        throw new RangeError(`the limit must be an integer of at least 2, not ${limit}`);
    const step = Math.max(1, Math.floor(limit / 100));
    let count = 0;
    for (let n = 2; n <= limit; n++) {
        if (isPrime(n))
            count++;
        if (n % step === 0)
            yield {done: n, total: limit, count};
    }
    return count;
});

worker.run();
