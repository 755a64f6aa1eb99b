// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A small TAP harness for the GJS tests (ES modules, `gjs -m`). Each test is
// an async function; it runs while a GLib main loop iterates the default
// context, under a deadline that fails it. Nothing sleeps.

import GLib from 'gi://GLib';
import System from 'system';

const DEADLINE_MS = 20000;
const tests = [];

export function test(name, fn, {deadline = DEADLINE_MS} = {}) {
    tests.push({name, fn, deadline});
}

export function assert(condition, message) {
    if (!condition)
        throw new Error(`assertion failed: ${message}`);
}

export function assertEqual(actual, expected, what) {
    const a = JSON.stringify(actual), e = JSON.stringify(expected);
    if (a !== e)
        throw new Error(`${what}: expected ${e}, got ${a}`);
}

// Awaits promise, which must reject; check(error) looks at the error.
export async function assertRejects(promise, check, what) {
    let value;
    try {
        value = await promise;
    } catch (e) {
        check(e);
        return e;
    }
    throw new Error(`${what}: resolved with ${JSON.stringify(value)} instead of failing`);
}

export function withDeadline(promise, ms, what) {
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

// Resolves when the loop's workers have exited after a graceful stop().
export function stopLoop(loop) {
    return new Promise((resolve, reject) => {
        let exits = 0;
        const id = loop.connect('worker-exited', (_loop, index, reason) => {
            exits++;
            if (reason)
                reject(new Error(`worker ${index} did not exit cleanly: ${reason.message}`));
            else if (exits >= loop.n_workers)
                resolve();
            if (reason || exits >= loop.n_workers)
                loop.disconnect(id);
        });
        loop.stop();
    });
}

async function runAll() {
    print(`1..${tests.length}`);
    let failed = 0;
    for (const [index, {name, fn, deadline}] of tests.entries()) {
        try {
            // eslint-disable-next-line no-await-in-loop
            await withDeadline(fn(), deadline, name);
            print(`ok ${index + 1} - ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${index + 1} - ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.trimEnd().split('\n'))
                print(`# ${line}`);
        }
    }
    return failed;
}

// Runs the tests registered so far and exits with their status.
export function run() {
    let status = 1;
    const mainLoop = new GLib.MainLoop(null, false);
    runAll().then(failed => {
        status = failed ? 1 : 0;
    }).catch(e => {
        print(`# ${e}`);
    }).finally(() => mainLoop.quit());
    mainLoop.run();
    System.exit(status);
}
