// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Mpel.js: GJS overrides for mpel.
//
// GJS applies this file by itself the first time a script imports the
// namespace (`import Mpel from 'gi://Mpel?version=1.0'` or imports.gi.Mpel),
// the way PyGObject applies bindings/python/gi/overrides/Mpel.py. It is
// installed in $datadir/gjs-1.0/overrides, which GJS searches through
// XDG_DATA_DIRS; an uninstalled tree puts bindings/gjs in GJS_PATH.
//
// App side:
//   await loop.call('add', 2, 3)                  // 5, plain values both ways
//   const event = loop.submit('scan', [dir], {cancellable, kwargs, timeout});
//   for await (const item of event.items()) …     // streamed items
//   event.connectItems((event, value) => …)       // streamed items, from a
//                                                 // signal handler
//   await event.wait()                            // the plain result
//   await loop.start_async() / loop.wait_async() / loop.call_async(…)
//                                                 // promises when no callback
//   failures reject with Mpel.EventError (a JS Error keeping the GLib.Error's
//   domain and code: error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
//   with remoteType and remoteTraceback when a worker's handler threw)
//
// Worker side:
//   worker.handler('add', (a, b) => a + b);       // plain values; a Promise,
//                                                 // generator or async
//                                                 // generator works too;
//                                                 // `this.kwargs`,
//                                                 // `this.cancellable` in a
//                                                 // function expression
//   worker.add_handler(target, invocation => …)   // raw; a throw or a rejected
//                                                 // promise answers at once
//
// Without the try/catch below, a handler that throws leaves its invocation in
// the JS heap until the garbage collector finalizes it, seconds later, and
// the event ends with a message that has lost the exception.

const {GLib, GObject, Gio} = imports.gi;

let Mpel;

// JS values to GVariant: the same mapping as the Python overrides
// (doc/values.md, checked against tests/value-types.json).
function describe(value) {
    if (value === null)
        return 'null';
    if (typeof value === 'object' || typeof value === 'function')
        return `${value.constructor?.name ?? 'object'} ${String(value).slice(0, 40)}`;
    return `${typeof value} ${String(value).slice(0, 40)}`;
}

function bytesVariant(bytes) {
    return GLib.Variant.new_from_bytes(new GLib.VariantType('ay'), bytes, true);
}

function isPlainObject(value) {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

function toVariant(value) {
    switch (typeof value) {
    case 'boolean':
        return new GLib.Variant('b', value);
    case 'number':
        return Number.isSafeInteger(value)
            ? new GLib.Variant('x', value)
            : new GLib.Variant('d', value);
    case 'bigint':
        if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER))
            throw new TypeError(`mpel cannot send ${describe(value)}: outside the safe integer range`);
        return new GLib.Variant('x', Number(value));
    case 'string':
        return new GLib.Variant('s', value);
    case 'undefined':
        return GLib.Variant.new_maybe(new GLib.VariantType('v'), null);
    case 'object':
        if (value === null)
            return GLib.Variant.new_maybe(new GLib.VariantType('v'), null);
        if (value instanceof GLib.Variant)
            return value;
        // The worker's object, for a method's object parameter
        if (value instanceof Mpel.Proxy)
            return new GLib.Variant('t', value.get_handle());
        if (value instanceof GLib.Bytes)
            return bytesVariant(value);
        if (value instanceof Uint8Array)
            return bytesVariant(new GLib.Bytes(value));
        if (value instanceof ArrayBuffer)
            return bytesVariant(new GLib.Bytes(new Uint8Array(value)));
        if (Array.isArray(value))
            return arrayVariant(value.map(toVariant));
        if (isPlainObject(value))
            return dictVariant(value);
        break;
    }
    throw new TypeError(`mpel cannot send ${describe(value)}: use a boolean, number, string, ` +
        'Uint8Array, GLib.Bytes, null, array, plain object, Mpel.Proxy or GLib.Variant');
}

// An array of its items' type when they all have the same one, so that a C
// handler reads [1, 2] as `ax` with g_variant_get(); `av` when they differ
// or there are none, so that every array has a type.
function arrayVariant(items) {
    if (items.length > 0) {
        const type = items[0].get_type_string();
        if (items.every(item => item.get_type_string() === type))
            return GLib.Variant.new_array(new GLib.VariantType(type), items);
    }
    return new GLib.Variant('av', items);
}

function dictVariant(object) {
    const dict = {};
    for (const [key, value] of Object.entries(object))
        dict[key] = toVariant(value);
    return new GLib.Variant('a{sv}', dict);
}

function argsVariant(args) {
    if (!Array.isArray(args))
        throw new TypeError(`the arguments are an array, not ${describe(args)}`);
    return GLib.Variant.new_tuple(args.map(toVariant));
}

// GVariant to JS values. Integers of 64 bits become numbers, as everywhere
// in GJS; `ay` becomes a Uint8Array, maybe types null or their value, tuples
// and arrays become arrays, dictionaries with string keys plain objects (a
// Map for other keys).
function fromVariant(variant) {
    if (variant === null)
        return null;
    const type = variant.get_type_string();
    switch (type[0]) {
    case 'v':
        return fromVariant(variant.get_variant());
    case 'm':
        return fromVariant(variant.get_maybe());
    case '(':
        return children(variant).map(fromVariant);
    case 'a':
        if (type === 'ay')
            return variant.get_data_as_bytes().toArray();
        if (type[1] === '{') {
            const entries = children(variant).map(entry =>
                [fromVariant(entry.get_child_value(0)), fromVariant(entry.get_child_value(1))]);
            return 'sog'.includes(type[2]) ? Object.fromEntries(entries) : new Map(entries);
        }
        return children(variant).map(fromVariant);
    case '{':
        return children(variant).map(fromVariant);
    default:
        return variant.unpack();
    }
}

function children(variant) {
    const n = variant.n_children();
    const list = new Array(n);
    for (let i = 0; i < n; i++)
        list[i] = variant.get_child_value(i);
    return list;
}

// App side.

/**
 * A failed event, as a JS Error. The GLib.Error that ended the event is its
 * `cause`; `domain` and `code` are that error's, and `matches()` works as on
 * a GLib.Error. When a handler in the worker threw (in any language that
 * sends the details), `remoteType` is the name of what it threw (`KeyError`,
 * `TypeError`, `GLib.Error`) and `remoteTraceback` where, as text in the
 * worker's language; both are null otherwise.
 */
class EventError extends Error {
    constructor(error, target, details = null) {
        super(error.message, {cause: error});
        this.name = 'Mpel.EventError';
        this.domain = error.domain;
        this.code = error.code;
        this.target = target;
        const remote = details ? fromVariant(details) : {};
        this.remoteType = typeof remote.type === 'string' ? remote.type : null;
        this.remoteTraceback = typeof remote.traceback === 'string' ? remote.traceback : null;
    }

    matches(domain, code) {
        return this.cause.matches(domain, code);
    }
}

function toEventError(error, target, event = null) {
    if (error instanceof GLib.Error)
        return new EventError(error, target, event?.get_error_details() ?? null);
    return error;
}

// Gives foo_async the GJS convention of Gio's own overrides: without a
// callback it returns a Promise, and the trailing nullable arguments (the
// cancellable) may be left out.
function promisify(proto, asyncName, finishName, nArgs) {
    const original = proto[asyncName];
    proto[asyncName] = function (...args) {
        if (typeof args[args.length - 1] === 'function')
            return original.apply(this, args);
        while (args.length < nArgs)
            args.push(null);
        return new Promise((resolve, reject) => {
            original.call(this, ...args, (source, result) => {
                try {
                    resolve(source[finishName](result));
                } catch (e) {
                    reject(e);
                }
            });
        });
    };
}

const EVENT_OPTIONS = ['kwargs', 'cancellable', 'key', 'priority', 'timeout', 'noReply'];

function setEventOptions(event, options) {
    if (options === null || typeof options !== 'object' || !isPlainObject(options))
        throw new TypeError(`the event options are a plain object, not ${describe(options)}`);
    for (const name of Object.keys(options)) {
        if (!EVENT_OPTIONS.includes(name))
            throw new TypeError(`unknown event option “${name}”; the options are ${EVENT_OPTIONS.join(', ')}`);
    }
    if (options.kwargs !== undefined && options.kwargs !== null)
        event.set_kwargs(options.kwargs instanceof GLib.Variant ? options.kwargs : dictVariant(options.kwargs));
    if (options.key !== undefined)
        event.set_key(options.key);
    if (options.priority !== undefined)
        event.set_priority(options.priority);
    if (options.timeout !== undefined)
        event.set_timeout(options.timeout);
    if (options.noReply)
        event.set_flags(event.get_flags() | Mpel.EventFlags.NO_REPLY);
}

// What submit() keeps beside an event: its outcome as a promise, and the
// items that arrived and were not read yet.
class EventState {
    constructor(event) {
        this.items = [];
        this.finished = false;
        this.wake = null;
        const itemId = event.connect('item', (_event, item) => {
            this.items.push(item);
            this._wakeUp();
        });
        const finishedId = event.connect('finished', () => {
            event.disconnect(itemId);
            event.disconnect(finishedId);
            this.finished = true;
            this._wakeUp();
        });
    }

    _wakeUp() {
        const wake = this.wake;
        this.wake = null;
        wake?.();
    }

    nextChange() {
        return new Promise(resolve => {
            this.wake = resolve;
        });
    }
}

function eventState(event) {
    if (!event._mpelState)
        throw new Error('wait() and items() are for events made by Mpel.Loop.prototype.submit()');
    return event._mpelState;
}

function applyAppOverrides() {
    promisify(Mpel.Loop.prototype, 'call_async', 'call_finish', 3);
    promisify(Mpel.Loop.prototype, 'push_async', 'push_finish', 2);
    promisify(Mpel.Loop.prototype, 'wait_async', 'wait_finish', 1);
    if ('start_async' in Mpel.Loop.prototype) {
        promisify(Mpel.Loop.prototype, 'start_async', 'start_finish', 1);
    } else {
        // Until libmpel has mpel_loop_start_async(): the sync start (it
        // spawns, it does not wait for the worker) behind the same promise.
        Mpel.Loop.prototype.start_async = function (cancellable = null) {
            return new Promise(resolve => {
                if (cancellable?.is_cancelled())
                    throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'Operation was cancelled');
                resolve(this.start());
            });
        };
    }

    /**
     * Calls target in the worker with plain arguments.
     *
     * @returns {Promise} the handler's value as a plain value; rejects with
     *   an Mpel.EventError
     */
    Mpel.Loop.prototype.call = async function (target, ...args) {
        // An event rather than call_async(), for the error's details.
        const event = Mpel.Event.new(target, argsVariant(args));
        try {
            return fromVariant(await this.push_async(event, null));
        } catch (e) {
            throw toEventError(e, target, event);
        }
    };

    /**
     * Sends target(...args) with options {kwargs, cancellable, key, priority,
     * timeout, noReply} and gives the event at once; its wait() and items()
     * give the outcome.
     *
     * @returns {Mpel.Event} the event, already pushed
     */
    Mpel.Loop.prototype.submit = function (target, args = [], options = {}) {
        const event = Mpel.Event.new(target, argsVariant(args));
        setEventOptions(event, options);
        const state = new EventState(event);
        state.outcome = this.push_async(event, options.cancellable ?? null)
            .then(fromVariant, e => {
                throw toEventError(e, target, event);
            });
        // Nobody needs to read the outcome: the output signal has it too.
        state.outcome.catch(() => {});
        event._mpelState = state;
        return event;
    };

    /**
     * Calls callback(event, value) for every item the event streams, with
     * the item as a plain value (the item signal gives the GLib.Variant).
     * Works for any event, however it was sent.
     *
     * @returns {number} the handler id, for disconnect()
     */
    Mpel.Event.prototype.connectItems = function (callback) {
        return this.connect('item', (event, item) => callback(event, fromVariant(item)));
    };

    /**
     * Calls callback(loop, event, value) for every item any event of the
     * loop streams (only target's events when target is given), with the
     * item as a plain value.
     *
     * @returns {number} the handler id, for disconnect()
     */
    Mpel.Loop.prototype.connectItems = function (callback, target = null) {
        return this.connect(target ? `item::${target}` : 'item',
            (loop, event, item) => callback(loop, event, fromVariant(item)));
    };

    /**
     * @returns {Promise} the plain result of an event made by submit();
     *   rejects with an Mpel.EventError
     */
    Mpel.Event.prototype.wait = function () {
        return eventState(this).outcome;
    };

    /**
     * Streams the items of an event made by submit(), from the first: for
     * await (const item of event.items()). The loop ends when the event does
     * and throws its Mpel.EventError if it failed. Leaving the loop early does
     * not cancel the event. There is one reader per event.
     */
    Mpel.Event.prototype.items = function () {
        const state = eventState(this);
        // Items are dropped once read, so that a long stream does not pile
        // up: one reader only.
        if (state.reading)
            throw new Error(`the items of “${this.get_target()}” are already being read`);
        state.reading = true;
        return readItems(this, state);
    };
}

async function* readItems(event, state) {
    let index = 0;
    for (;;) {
        if (index < state.items.length) {
            const item = state.items[index];
            state.items[index++] = null;
            yield fromVariant(item);
        } else if (state.finished) {
            state.items = [];
            break;
        } else {
            state.items.splice(0, index);
            index = 0;
            // eslint-disable-next-line no-await-in-loop
            await state.nextChange();
        }
    }
    const error = event.get_error();
    if (error)
        throw toEventError(error, event.get_target(), event);
}

// Worker side.

// The name of what a handler threw: its `name`, or its class's for a
// subclass of Error that kept the name `Error`.
function typeName(e) {
    if (e instanceof GLib.Error)
        return 'GLib.Error';
    if (e instanceof Error) {
        if (e.name !== 'Error')
            return e.name;
        return e.constructor?.name || 'Error';
    }
    return null;
}

function describeException(e) {
    if (e instanceof Error)
        return `${typeName(e)}: ${e.message}`;
    return String(e);
}

// The ERROR frame's meta: `type` and `traceback` (the JS stack), for the
// app's Mpel.EventError (remoteType, remoteTraceback) or Python's
// Mpel.RemoteError (remote_type, remote_traceback).
function errorDetails(e) {
    const details = {};
    const type = typeName(e);
    if (type)
        details.type = new GLib.Variant('s', type);
    if (typeof e?.stack === 'string' && e.stack)
        details.traceback = new GLib.Variant('s', e.stack);
    return new GLib.Variant('a{sv}', details);
}

function answerWithException(invocation, e) {
    const target = invocation.get_target();
    // As Python prints a traceback; a cancellation is no failure to report.
    if (!(e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))) {
        printerr(`mpel: the handler of “${target}” failed: ${describeException(e)}`);
        if (e?.stack)
            printerr(e.stack.trimEnd().replace(/^/gm, '  '));
    }
    if (invocation.is_returned())
        return;
    const error = e instanceof GLib.Error ? e
        : new GLib.Error(Mpel.error_quark(), Mpel.Error.FAILED, `${target} threw ${describeException(e)}`);
    invocation.return_error_details(error, errorDetails(e));
}

function isThenable(value) {
    return typeof value?.then === 'function';
}

function isIterator(value) {
    return typeof value?.next === 'function' &&
        (Symbol.asyncIterator in value || Symbol.iterator in value);
}

// One turn of the worker's main loop: reads what the app sent (a cancel, the
// next event) between two items.
function mainLoopTurn() {
    return new Promise(resolve => {
        GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

function answer(invocation, value) {
    if (invocation.is_returned())
        return;
    invocation.return_value(value === undefined || value === null ? null : toVariant(value));
}

async function stream(invocation, iterator) {
    const cancellable = invocation.get_cancellable();
    for (;;) {
        if (cancellable.is_cancelled()) {
            // eslint-disable-next-line no-await-in-loop
            await iterator.return?.();
            throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED,
                `${invocation.get_target()} was cancelled`);
        }
        // eslint-disable-next-line no-await-in-loop
        const step = await iterator.next();
        if (step.done) {
            answer(invocation, step.value);
            return;
        }
        invocation.yield(toVariant(step.value));
        // eslint-disable-next-line no-await-in-loop
        await mainLoopTurn();
    }
}

// What a plain handler gets as `this`.
class HandlerContext {
    constructor(invocation) {
        this.invocation = invocation;
        this.target = invocation.get_target();
        this.kwargs = fromVariant(invocation.get_kwargs());
    }

    get cancellable() {
        return this.invocation.get_cancellable();
    }
}

function runPlain(invocation, fn) {
    const result = fn.apply(new HandlerContext(invocation), fromVariant(invocation.get_args()));
    if (isIterator(result))
        return stream(invocation, result);
    if (isThenable(result))
        return Promise.resolve(result).then(value => answer(invocation, value));
    answer(invocation, result);
    return undefined;
}

function applyWorkerOverrides() {
    const addHandler = Mpel.Worker.prototype.add_handler;

    /**
     * Registers handler(invocation) for target. The handler answers with
     * invocation.return_value(), by returning a GLib.Variant (or a Promise of
     * one), or later; a throw or a rejected promise answers the event at once
     * with the error: a GLib.Error keeps its domain and code, anything else
     * becomes MPEL_ERROR_FAILED with “target threw Name: message”.
     */
    Mpel.Worker.prototype.add_handler = function (target, handler) {
        addHandler.call(this, target, invocation => {
            let result;
            try {
                result = handler(invocation);
            } catch (e) {
                answerWithException(invocation, e);
                return;
            }
            if (isThenable(result)) {
                Promise.resolve(result).then(value => {
                    if (value instanceof GLib.Variant && !invocation.is_returned())
                        invocation.return_value(value);
                }).catch(e => answerWithException(invocation, e));
            } else if (result instanceof GLib.Variant && !invocation.is_returned()) {
                invocation.return_value(result);
            }
        });
    };

    /**
     * Registers fn for target with plain values: fn(...args) runs with `this`
     * a context {invocation, target, kwargs, cancellable} (kwargs a plain
     * object, empty when the app sent none), and its value is the result. A
     * Promise is awaited; a generator or async generator streams each value
     * it yields, and its return value is the result.
     */
    Mpel.Worker.prototype.handler = function (target, fn) {
        if (typeof fn !== 'function')
            throw new TypeError(`the handler of “${target}” is a function, not ${describe(fn)}`);
        this.add_handler(target, invocation => runPlain(invocation, fn));
    };
}

// Proxies, app side: plain values, promises.

// The outcome of an event made by the C API, as a promise of a plain value.
function eventOutcome(event, target) {
    return new Promise((resolve, reject) => {
        const settle = () => {
            if (event.get_state() === Mpel.EventState.DONE) {
                resolve(fromVariant(event.get_result()));
                return;
            }
            const error = event.get_error() ??
                new GLib.Error(Mpel.error_quark(), Mpel.Error.FAILED, `${target} ended without a result`);
            reject(toEventError(error, target, event));
        };
        if (event.is_finished()) {
            settle();
            return;
        }
        const id = event.connect('finished', () => {
            event.disconnect(id);
            settle();
        });
    });
}

// A single GLib.Variant tuple is the exact arguments.
function callArgs(args) {
    if (args.length === 1 && args[0] instanceof GLib.Variant && args[0].get_type_string().startsWith('('))
        return args[0];
    return argsVariant(args);
}

function applyProxyOverrides() {
    const cCall = Mpel.Proxy.prototype.call;
    const cCallFull = Mpel.Proxy.prototype.call_full;
    const cGetValue = Mpel.Proxy.prototype.get_value;
    const cSetValue = Mpel.Proxy.prototype.set_value;

    /**
     * Calls method(...args) on the remote object with plain arguments (a
     * single GLib.Variant tuple is the exact arguments), in order with the
     * proxy's other calls and sets.
     *
     * @returns {Promise} the method's return value as a plain value (null
     *   for none); rejects with an Mpel.EventError. When it resolves, the
     *   mirrored values the call changed are current.
     */
    Mpel.Proxy.prototype.call = function (method, ...args) {
        return eventOutcome(cCall.call(this, method, callArgs(args)), method);
    };

    /**
     * Calls method with plain arguments and gives the Mpel.Event at once
     * (what the C mpel_proxy_call() returns).
     *
     * @returns {Mpel.Event} the event
     */
    Mpel.Proxy.prototype.submit = function (method, args = [], options = {}) {
        const {kwargs = null} = options;
        if (kwargs === null)
            return cCall.call(this, method, callArgs(args));
        const dict = kwargs instanceof GLib.Variant ? kwargs : dictVariant(kwargs);
        return cCallFull.call(this, method, callArgs(args), dict);
    };

    /**
     * Calls method(...args) with options {kwargs}: keyword arguments (a
     * plain object or an a{sv} GLib.Variant) for a handler of
     * Mpel.Worker.add_method, or a method of worker.addType(), which gets
     * them as a last options object. A method called through
     * GObject-Introspection takes none.
     *
     * @returns {Promise} the method's return value as a plain value, as
     *   call() gives
     */
    Mpel.Proxy.prototype.callFull = function (method, args = [], options = {}) {
        return eventOutcome(this.submit(method, args, options), method);
    };

    /**
     * @returns {*} the mirrored value of a property or getter as a plain
     *   value; null while it is unknown. getVariant() gives the GLib.Variant.
     */
    Mpel.Proxy.prototype.getValue = function (name) {
        return fromVariant(cGetValue.call(this, name) ?? null);
    };
    Mpel.Proxy.prototype.getVariant = function (name) {
        return cGetValue.call(this, name);
    };

    /**
     * Sets a property of the remote object to a plain value (or a
     * GLib.Variant), in order with calls; the worker converts numbers to
     * the property's type and its value wins.
     */
    Mpel.Proxy.prototype.setValue = function (name, value) {
        cSetValue.call(this, name, toVariant(value));
    };

    /**
     * Calls callback(proxy, value) with the plain value each time the
     * mirrored property or getter name changes.
     *
     * @returns {number} the handler id, for disconnect()
     */
    Mpel.Proxy.prototype.connectChanged = function (name, callback) {
        return this.connect(`changed::${name}`, (proxy, _name, value) => callback(proxy, fromVariant(value)));
    };
}

// What registerProxyClass() declared for a class.
const MIRROR = Symbol('mpel-proxy-mirror');

function mirrorOf(klass) {
    const properties = [], getters = [];
    let remoteType = null;
    for (let k = klass; k && k !== Mpel.Proxy; k = Object.getPrototypeOf(k)) {
        const own = Object.prototype.hasOwnProperty.call(k, MIRROR) ? k[MIRROR] : null;
        if (!own)
            continue;
        remoteType ??= own.remoteType;
        properties.push(...own.properties.filter(n => !properties.includes(n)));
        getters.unshift(...own.getters.filter(n => !getters.includes(n)));
    }
    return {properties, getters, remoteType};
}

// The C class notifies the properties of C subclasses; GJS keeps the
// get/set_property of JS ones, so notify them here, once per change of the
// value the property reads.
function notifyMirrored(proxy, name, value, mirror) {
    if (!mirror.properties.includes(name))
        return;
    const plain = fromVariant(value);
    proxy[MIRROR] ??= new Map();
    const old = proxy[MIRROR].has(name) ? proxy[MIRROR].get(name)
        : proxy.constructor.find_property(name)?.get_default_value();
    proxy[MIRROR].set(name, plain);
    if (plain !== old)
        proxy.notify(name);
}

function applyProxyClassOverrides() {
    const proxyInit = Mpel.Proxy.prototype._init;

    // new Mpel.Proxy({loop, remote_type, construct_values, properties,
    // getters}): construct_values may be a plain object (applied in its
    // order); a registerProxyClass() class adds what it declared.
    Mpel.Proxy.prototype._init = function (params = {}) {
        params = {...params};
        const mirror = mirrorOf(this.constructor);
        const cv = params.construct_values ?? params.constructValues;
        delete params.constructValues;
        if (cv !== undefined && cv !== null && !(cv instanceof GLib.Variant))
            params.construct_values = dictVariant(cv);
        if (mirror.remoteType && params.remote_type === undefined && params.remoteType === undefined &&
            params.remote_name === undefined && params.remoteName === undefined)
            params.remote_type = mirror.remoteType;
        if (mirror.properties.length > 0)
            params.properties = [...new Set([...params.properties ?? [], ...mirror.properties])];
        if (mirror.getters.length > 0)
            params.getters = [...new Set([...params.getters ?? [], ...mirror.getters])];
        proxyInit.call(this, params);
        if (mirror.properties.length > 0)
            this.connect('changed', (proxy, name, value) => notifyMirrored(proxy, name, value, mirror));
    };

    /**
     * Mpel.registerProxyClass(meta, klass): GObject.registerClass(meta, klass)
     * for a subclass of Mpel.Proxy, with three more fields in meta:
     * RemoteType (the worker's type), RemoteMethods (names: proxy.move(...)
     * calls and returns the promise of call()) and Getters (names:
     * proxy.get_z() gives the mirrored value). Its Properties are mirrored:
     * reading one gives the worker's value (the default while unknown),
     * setting one sends it, notify fires when the worker's value changes.
     *
     * @returns {Function} the registered class
     */
    Mpel.registerProxyClass = function (meta, klass) {
        const {RemoteType = null, RemoteMethods = [], Getters = [], ...gmeta} = meta;
        if (!(klass.prototype instanceof Mpel.Proxy))
            throw new TypeError('Mpel.registerProxyClass() registers a subclass of Mpel.Proxy');
        const properties = Object.values(gmeta.Properties ?? {}).map(pspec => pspec.name);
        for (const name of properties) {
            const accessor = {
                get() {
                    const value = this.getValue(name);
                    return value ?? this.constructor.find_property(name).get_default_value();
                },
                set(value) {
                    this.setValue(name, value);
                },
                configurable: true,
            };
            const underscored = name.replace(/-/g, '_');
            const camel = underscored.replace(/_([a-z])/g, (_m, c) => c.toUpperCase());
            for (const key of new Set([underscored, camel])) {
                if (!Object.getOwnPropertyDescriptor(klass.prototype, key))
                    Object.defineProperty(klass.prototype, key, accessor);
            }
        }
        for (const method of RemoteMethods) {
            if (!Object.getOwnPropertyDescriptor(klass.prototype, method))
                klass.prototype[method] = function (...args) {
                    return this.call(method, ...args);
                };
        }
        for (const getter of Getters) {
            if (!Object.getOwnPropertyDescriptor(klass.prototype, getter))
                klass.prototype[getter] = function () {
                    return this.getValue(getter);
                };
        }
        const registered = GObject.registerClass(gmeta, klass);
        registered[MIRROR] = {remoteType: RemoteType, properties, getters: [...Getters]};
        return registered;
    };
}

// Proxies, worker side: a GObject class defined in the worker script.

function runMethod(invocation, object, fn) {
    try {
        // Keyword arguments (proxy.callFull()) come as a last options object
        const args = fromVariant(invocation.get_args());
        const kwargs = invocation.get_kwargs();
        if (kwargs.n_children() > 0)
            args.push(fromVariant(kwargs));
        const result = fn.apply(object, args);
        if (isIterator(result)) {
            stream(invocation, result).catch(e => answerWithException(invocation, e));
        } else if (isThenable(result)) {
            Promise.resolve(result).then(value => answer(invocation, value))
                .catch(e => answerWithException(invocation, e));
        } else {
            answer(invocation, result);
        }
    } catch (e) {
        answerWithException(invocation, e);
    }
}

function applyTypeOverrides() {
    /**
     * Exposes klass, a class made with GObject.registerClass, to proxies:
     * an app creates its objects by its GType name (GTypeName, or the one
     * GJS gave it: klass.$gtype.name), reads its GObject properties and
     * calls the public methods of its prototype (not constructor, _init,
     * vfunc_…, on_…, nor names starting with _) with plain values. A
     * method's return value answers the call; a Promise is awaited, a
     * generator streams; a throw answers with the error's type and stack.
     *
     * @returns {Function} klass
     */
    Mpel.Worker.prototype.addType = function (klass) {
        const gtype = klass?.$gtype;
        if (!gtype)
            throw new TypeError(`worker.addType() takes a GObject.registerClass class, not ${describe(klass)}`);
        for (const name of Object.getOwnPropertyNames(klass.prototype)) {
            if (name === 'constructor' || name.startsWith('_') || name.startsWith('vfunc_') ||
                name.startsWith('on_'))
                continue;
            const descriptor = Object.getOwnPropertyDescriptor(klass.prototype, name);
            if (typeof descriptor.value !== 'function')
                continue;
            const fn = descriptor.value;
            this.add_method(gtype, name, (invocation, object) => runMethod(invocation, object, fn));
        }
        return klass;
    };
}

function _init() {
    Mpel = this;

    Mpel.EventError = EventError;
    Mpel.toVariant = toVariant;
    Mpel.fromVariant = fromVariant;

    applyAppOverrides();
    applyWorkerOverrides();
    applyProxyOverrides();
    applyProxyClassOverrides();
    applyTypeOverrides();
}
