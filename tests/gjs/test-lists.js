// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Remote signals and list models from GJS, through GObject-Introspection:
// a Gtk.Adjustment's value-changed in the default mpel-worker host emitted
// on its proxy as remote-signal::value-changed; an Mpel.ListModel over a
// Gtk.StringList in the worker.

import GLib from 'gi://GLib';
import Mpel from 'gi://Mpel?version=1.0';

import {test, assertEqual, stopLoop, run} from './harness.js';

test('a remote signal: remote-signal::value-changed of a Gtk.Adjustment', async () => {
    const loop = new Mpel.Loop();
    const adj = Mpel.Proxy.new(loop, 'Gtk-4.0.Adjustment',
        new GLib.Variant('a{sv}', {
            lower: new GLib.Variant('d', 0), upper: new GLib.Variant('d', 100), value: new GLib.Variant('d', 50),
        }), ['value'], null);
    const seen = [];
    adj.connect('remote-signal::value-changed', (proxy, name, args) =>
        seen.push([name, args.deepUnpack(), proxy.getValue('value')]));
    adj.subscribe_signal('value-changed');
    await adj.call('set_value', 30);
    assertEqual(seen, [['value-changed', [], 30]], 'the signal, after the mirror');
    adj.unsubscribe_signal('value-changed');
    await adj.call('set_value', 40);
    assertEqual([adj.getValue('value'), seen.length], [40, 1], 'nothing after unsubscribing');
    await stopLoop(loop);
});

test('an Mpel.ListModel over a Gtk.StringList', async () => {
    const loop = new Mpel.Loop();
    const strings = Mpel.Proxy.new(loop, 'Gtk-4.0.StringList', null, null, null);
    const model = Mpel.ListModel.new(strings, Mpel.Proxy.$gtype);
    const changes = [];
    model.connect('items-changed', (m, position, removed, added) => changes.push([position, removed, added]));
    for (const text of ['a', 'b', 'c'])
        strings.call('append', text);
    strings.call('remove', 1);
    await strings.call('append', 'd');
    assertEqual(changes, [[0, 0, 1], [1, 0, 1], [2, 0, 1], [1, 1, 0], [2, 0, 1]], 'items-changed in order');
    assertEqual(model.get_n_items(), 3, 'n_items');
    const items = [0, 1, 2].map(i => model.get_item(i));
    assertEqual(items[0].state, Mpel.ProxyState.PENDING, 'a placeholder first');
    await loop.wait_async();
    assertEqual(items.map(item => item.getValue('string')), ['a', 'c', 'd'], 'the strings');
    await stopLoop(loop);
});

run();
