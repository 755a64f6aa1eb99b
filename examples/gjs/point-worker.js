// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The worker of point.js: a Point class that lives here, exposed to proxies
// with worker.addType(). Its GObject properties x and y are mirrored into
// the app; getZ, setZ and move are called from there.

import GObject from 'gi://GObject';
import Mpel from 'gi://Mpel?version=1.0';

const Point = GObject.registerClass({
    GTypeName: 'ExampleJsPoint',
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
});

const worker = new Mpel.Worker();
worker.addType(Point);
worker.run();
