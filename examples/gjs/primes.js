// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A GTK 4 app that offloads work to a worker process (primes-worker.js),
// shows its progress from streamed items, cancels it, and reports its
// errors. doc/javascript.md walks through it.
//
//   gjs -m primes.js
//   gjs -m primes.js --self-test   (clicks through by itself; used by the tests)

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Gtk from 'gi://Gtk?version=4.0';
import Mpel from 'gi://Mpel?version=1.0';
import System from 'system';

const [here] = GLib.filename_from_uri(GLib.path_get_dirname(import.meta.url));

class PrimesWindow {
    constructor(app, loop) {
        this.loop = loop;
        this.cancellable = null;
        this.running = null;

        this.limit = Gtk.SpinButton.new_with_range(0, 100_000_000, 100_000);
        this.limit.value = 2_000_000;
        this.start = new Gtk.Button({label: 'Count primes'});
        this.cancel = new Gtk.Button({label: 'Cancel', sensitive: false});
        this.progress = new Gtk.ProgressBar({show_text: true});
        this.status = new Gtk.Label({label: 'Pick a limit', xalign: 0, wrap: true});

        const row = new Gtk.Box({spacing: 6});
        row.append(this.limit);
        row.append(this.start);
        row.append(this.cancel);
        const box = new Gtk.Box({
            orientation: Gtk.Orientation.VERTICAL, spacing: 12,
            margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12,
        });
        box.append(row);
        box.append(this.progress);
        box.append(this.status);

        this.window = new Gtk.ApplicationWindow({application: app, title: 'Primes', child: box});
        this.start.connect('clicked', () => {
            this.running = this.count(this.limit.get_value_as_int());
        });
        this.cancel.connect('clicked', () => this.cancellable?.cancel());
    }

    async count(limit) {
        this.start.sensitive = false;
        this.cancel.sensitive = true;
        this.progress.fraction = 0;
        this.cancellable = new Gio.Cancellable();
        const event = this.loop.submit('count_primes', [limit], {cancellable: this.cancellable});
        try {
            for await (const {done, total, count} of event.items()) {
                this.progress.fraction = done / total;
                this.status.label = `${count} primes up to ${done}…`;
            }
            const count = await event.wait();
            this.progress.fraction = 1;
            this.status.label = `${count} primes up to ${limit}`;
        } catch (e) {
            if (e instanceof Mpel.EventError && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                this.status.label = 'Cancelled';
            else
                this.status.label = `Failed: ${e.message}`;
        } finally {
            this.cancellable = null;
            this.start.sensitive = true;
            this.cancel.sensitive = false;
        }
    }
}

// Resolves once the progress bar has moved: the worker is streaming.
function progressShown(win) {
    return new Promise(resolve => {
        const id = win.progress.connect('notify::fraction', () => {
            if (win.progress.fraction > 0) {
                win.progress.disconnect(id);
                resolve();
            }
        });
    });
}

async function selfTest(win) {
    const expect = (what, pattern) => {
        if (!pattern.test(win.status.label))
            throw new Error(`${what}: the status says “${win.status.label}”`);
        print(`${what}: ${win.status.label}`);
    };
    win.limit.value = 50_000_000;
    const moving = progressShown(win);
    win.start.emit('clicked');
    await moving;
    win.cancel.emit('clicked');
    await win.running;
    expect('cancel', /^Cancelled$/);

    win.limit.value = 100_000;
    win.start.emit('clicked');
    await win.running;
    expect('count', /^9592 primes up to 100000$/);

    win.limit.value = 1;
    win.start.emit('clicked');
    await win.running;
    expect('error', /^Failed: count_primes threw RangeError: the limit must be an integer of at least 2, not 1$/);
}

const loop = Mpel.Loop.new_for_argv([GLib.find_program_in_path('gjs'), '-m',
    GLib.build_filenamev([here, 'primes-worker.js'])]);
const app = new Gtk.Application({
    application_id: 'org.mpel.GjsPrimes',
    flags: Gio.ApplicationFlags.NON_UNIQUE,
});
let status = 0;

app.connect('activate', () => {
    const win = new PrimesWindow(app, loop);
    win.window.present();
    if (System.programArgs.includes('--self-test')) {
        selfTest(win).catch(e => {
            printerr(`self-test failed: ${e.message}`);
            status = 1;
        }).finally(() => app.quit());
    }
});
app.connect('shutdown', () => loop.stop());

app.run([System.programInvocationName]);
System.exit(status);
