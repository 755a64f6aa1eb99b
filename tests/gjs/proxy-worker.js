// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The worker of test-proxy.js: GObject classes defined here with
// GObject.registerClass and exposed with worker.addType().

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Mpel from 'gi://Mpel?version=1.0';

const Point = GObject.registerClass({
    GTypeName: 'TestJsPoint',
    Properties: {
        x: GObject.ParamSpec.int('x', 'X', 'X', GObject.ParamFlags.READWRITE, -1e6, 1e6, 0),
        y: GObject.ParamSpec.int('y', 'Y', 'Y', GObject.ParamFlags.READWRITE, -1e6, 1e6, 0),
    },
}, class Point extends GObject.Object {
    constructor(params = {}) {
        super(params);
        this._z = 0;
    }

    get_z() {
        return this._z;
    }

    set_z(z) {
        this._z = z;
    }

    move(x, y, z) {
        this.x = x;
        this.y = y;
        this._z = z;
    }

    describe(prefix = 'point') {
        return {prefix, xy: [this.x, this.y], z: this._z};
    }

    echo(...args) {
        return args;
    }

    // Keyword arguments come as a last options object
    scaled(dx, options = {}) {
        return {value: dx * (options.scale ?? 1), options};
    }

    fail(key) {
        throw new RangeError(`no key ${key}`);
    }

    async later(value) {
        await new Promise(resolve => GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        }));
        this.x = value;
        return value * 2;
    }

    *count(n) {
        for (let i = 0; i < n; i++)
            yield i;
        return `counted ${n}`;
    }

    _hidden() {
        return 'not callable';
    }
});

const worker = new Mpel.Worker();
worker.addType(Point);
worker.run();
