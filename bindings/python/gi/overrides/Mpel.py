# Mpel.py: PyGObject overrides for mpel
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Makes mpel read like concurrent.futures and asyncio:
#
#   loop = Mpel.Loop.for_python_script('worker.py')
#   event = loop.submit('add_vals', 2, value2=5)     # plain values
#   event.result()                                   # 7, or raises
#   value = await loop.call('add_vals', 2)            # on an asyncio loop on GLib
#
#   worker = Mpel.Worker()
#
#   @worker.handler('add_vals')
#   def add_vals(value, value2=1):
#       return value + value2
#
# Remote objects (doc/python.md "Remote objects"):
#
#   @worker.add_type                                 # in the worker
#   class Point(GObject.Object): …                   # public methods, plain values
#
#   class MpPoint(Mpel.Proxy):                       # in the app
#       __remote_type__ = 'MyPoint'
#       __remote_methods__ = ('move',)               # p.move(1, 2) → Mpel.Event
#       __getters__ = ('get_z',)                     # p.get_z() → mirrored value
#       x = GObject.Property(type=int)               # p.x → mirrored value
#   p.call('move', 1, 2); await p.acall('move', 1, 2); p.get_value('x')
#
# Values are converted by pack() and unpack(); see doc/values.md for the
# mapping. The Variant-level API (Mpel.Event.new, add_handler with an
# invocation) stays for callers who want exact types.

import asyncio
import contextvars
import inspect
import os
import sys
import threading
import traceback

from gi.repository import GLib, GObject, Gio

from ..module import get_introspection_module
from ..overrides import override

Mpel = get_introspection_module('Mpel')
_GObjectRaw = get_introspection_module('GObject')

__all__ = []

_MAX_INT64 = (1 << 63) - 1
_MIN_INT64 = -(1 << 63)
_MAX_UINT64 = (1 << 64) - 1

_T_BYTES = GLib.VariantType.new('ay')
_T_VARIANT = GLib.VariantType.new('v')
_T_DICT_ENTRY = GLib.VariantType.new('{sv}')
_BASIC = frozenset('bynqiuxthdsog')


# Values ---------------------------------------------------------------------

def pack(value):
    """Converts a plain Python value to a GLib.Variant.

    bool → b, int → x (t above the int64 range), float → d, str → s,
    bytes/bytearray/memoryview → ay (one copy through GLib.Bytes), None → mv
    (nothing), tuple → a tuple of its items, list → an array of its items'
    type when they all convert to the same type and av otherwise (an empty
    list is av), dict with str keys → a{sv}, an Mpel.Proxy → t (its handle:
    the worker's object, for a method's object parameter). A GLib.Variant
    passes through. Anything else raises TypeError naming the value.
    """
    if isinstance(value, GLib.Variant):
        return value
    if isinstance(value, Mpel.Proxy):
        return GLib.Variant.new_uint64(value.get_handle())
    if isinstance(value, bool):
        return GLib.Variant.new_boolean(value)
    if isinstance(value, int):
        if _MIN_INT64 <= value <= _MAX_INT64:
            return GLib.Variant.new_int64(value)
        if 0 <= value <= _MAX_UINT64:
            return GLib.Variant.new_uint64(value)
        raise OverflowError('mpel: %r does not fit in 64 bits' % (value,))
    if isinstance(value, float):
        return GLib.Variant.new_double(value)
    if isinstance(value, str):
        if '\0' in value:
            raise ValueError('mpel: a str with a NUL character cannot be sent: %r' % (value,))
        return GLib.Variant.new_string(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return GLib.Variant.new_from_bytes(_T_BYTES, GLib.Bytes.new(bytes(value)), True)
    if value is None:
        return GLib.Variant.new_maybe(_T_VARIANT, None)
    if isinstance(value, tuple):
        return GLib.Variant.new_tuple(*[pack(item) for item in value])
    if isinstance(value, list):
        return _pack_list(value)
    if isinstance(value, dict):
        return _pack_dict(value)
    raise TypeError('mpel cannot send %r (of type %s): use bool, int, float, str, bytes, '
                    'None, list, tuple, dict with str keys, Mpel.Proxy or GLib.Variant'
                    % (value, type(value).__name__))


def _pack_list(value):
    children = [pack(item) for item in value]
    if children:
        first = children[0].get_type_string()
        if all(child.get_type_string() == first for child in children):
            return GLib.Variant.new_array(None, children)
    return GLib.Variant.new_array(_T_VARIANT, [GLib.Variant.new_variant(c) for c in children])


def _pack_dict(value):
    entries = []
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError('mpel sends dicts with str keys only, not the key %r (of type %s)'
                            % (key, type(key).__name__))
        entries.append(GLib.Variant.new_dict_entry(pack(key), GLib.Variant.new_variant(pack(item))))
    return GLib.Variant.new_array(_T_DICT_ENTRY, entries)


def pack_args(args):
    """The arguments tuple of an event: a single GLib.Variant tuple is taken
    as the exact arguments, anything else is packed item by item."""
    if len(args) == 1 and isinstance(args[0], GLib.Variant) and args[0].get_type_string().startswith('('):
        return args[0]
    return GLib.Variant.new_tuple(*[pack(arg) for arg in args])


def unpack(variant):
    """Converts a GLib.Variant to plain Python values: the inverse of pack().

    v and maybe types are unwrapped (nothing is None), ay is bytes, other
    arrays are lists, dictionaries dicts, tuples tuples. None stays None.
    """
    if variant is None:
        return None
    type_string = variant.get_type_string()
    head = type_string[0]
    if head == 'v':
        return unpack(variant.get_variant())
    if head == 'a':
        if type_string == 'ay':
            return variant.get_data_as_bytes().get_data()
        if type_string[1] == '{':
            return {unpack(entry.get_child_value(0)): unpack(entry.get_child_value(1))
                    for entry in (variant.get_child_value(i) for i in range(variant.n_children()))}
        if type_string[1] in _BASIC:
            return variant.unpack()
        return [unpack(variant.get_child_value(i)) for i in range(variant.n_children())]
    if head == 'm':
        inner = variant.get_maybe()
        return None if inner is None else unpack(inner)
    if head == '(':
        return tuple(unpack(variant.get_child_value(i)) for i in range(variant.n_children()))
    return variant.unpack()


__all__ += ['pack', 'unpack', 'pack_args']


# Errors ---------------------------------------------------------------------

class RemoteError(GLib.Error):
    """An exception raised by a handler in the worker.

    A GLib.Error (so domain, code and matches() work) whose message names the
    remote type and text, such as ``KeyError: 'missing'``. ``remote_type``
    is that type's name and ``remote_traceback`` the worker's traceback as
    text; the traceback is also chained as the cause, so it is printed with
    the exception.
    """

    remote_type = None
    remote_traceback = None

    def __str__(self):
        return self.message


class _RemoteTraceback(Exception):
    def __init__(self, text):
        super().__init__(text)
        self.text = text

    def __str__(self):
        return '\n"""\n%s"""' % self.text


def _type_name(exc):
    cls = type(exc)
    if cls.__module__ == 'builtins':
        return cls.__qualname__
    if isinstance(exc, GLib.Error):
        return 'GLib.Error'
    return '%s.%s' % (cls.__module__, cls.__qualname__)


def _event_exception(event):
    """The exception an event that did not end with a result raises."""
    error = event.get_error()
    if error is None:
        return GLib.Error('%s ended without a result' % event.get_target(),
                          GLib.quark_to_string(Mpel.error_quark()), Mpel.Error.FAILED)
    details = unpack(event.get_error_details())
    if not isinstance(details, dict) or not isinstance(details.get('type'), str):
        return error
    exc = RemoteError(error.message, error.domain, error.code)
    exc.remote_type = details['type']
    text = details.get('traceback')
    if isinstance(text, str):
        exc.remote_traceback = text
        exc.__cause__ = _RemoteTraceback(text)
    return exc


__all__.append('RemoteError')


# asyncio on GLib ------------------------------------------------------------

def _glib_policy_class():
    try:
        from gi.events import GLibEventLoopPolicy  # PyGObject >= 3.50
        return GLibEventLoopPolicy
    except ImportError:
        pass
    try:
        import gbulb
        return gbulb.GLibEventLoopPolicy
    except ImportError:
        return None


def _is_glib_loop(aloop):
    module = type(aloop).__module__
    return module.startswith('gbulb') or module.startswith('gi.events') or module.startswith('gi._')


def install_asyncio():
    """Makes asyncio's event loop run on GLib's default main context and
    returns it: PyGObject's own (gi.events) where it exists, gbulb otherwise.
    Raises RuntimeError if neither is installed."""
    policy = asyncio.get_event_loop_policy()
    if not _is_glib_loop_policy(policy):
        cls = _glib_policy_class()
        if cls is None:
            raise RuntimeError('mpel: asyncio on GLib needs PyGObject 3.50 (gi.events) or gbulb '
                               '(Debian: python3-gbulb)')
        policy = cls()
        asyncio.set_event_loop_policy(policy)
    return policy.get_event_loop()


def _is_glib_loop_policy(policy):
    module = type(policy).__module__
    return module.startswith('gbulb') or module.startswith('gi.events')


def asyncio_run(main):
    """Runs the coroutine main to completion on an asyncio loop on GLib, like
    asyncio.run(), and returns its result."""
    return install_asyncio().run_until_complete(main)


def _running_glib_loop():
    aloop = asyncio.get_running_loop()
    if not _is_glib_loop(aloop):
        raise RuntimeError('mpel: awaiting an event needs an asyncio loop that runs on GLib '
                           '(Mpel.install_asyncio() or Mpel.asyncio_run()), not %s' % type(aloop).__name__)
    return aloop


async def _gio_await(start, finish, cancellable=None):
    """Awaits a GIO-style pair: start(cancellable, callback), then
    finish(source, result). Cancelling the task cancels the call."""
    aloop = _running_glib_loop()
    future = aloop.create_future()
    if cancellable is None:
        cancellable = Gio.Cancellable()

    def done(source, result, *_data):
        if future.done():
            return
        try:
            future.set_result(finish(source, result))
        except GLib.Error as error:
            future.set_exception(error)

    start(cancellable, done)
    try:
        return await future
    except asyncio.CancelledError:
        cancellable.cancel()
        raise


__all__ += ['install_asyncio', 'asyncio_run']


# Signal handlers ------------------------------------------------------------

# How many handlers of mpel signals are running in this thread. The loop
# does not read its workers' answers while it dispatches one of them, so a
# blocking wait from inside a handler would wait for ever; mpel_loop_wait()
# refuses it in C, and the Python layer refuses it with an exception.
_handlers = threading.local()


def _in_handler():
    return getattr(_handlers, 'depth', 0) > 0


class _Handler:
    """A signal handler of a Loop or Event, counted while it runs.

    It compares equal to the function it wraps, so that disconnect_by_func()
    and handler_block_by_func() find it. With item set, the argument at that
    index (a streamed item) is unpacked to a plain value first.
    """

    __slots__ = ('function', 'item')

    def __init__(self, function, item=None):
        if not callable(function):
            raise TypeError('a signal handler must be callable, not %r' % (function,))
        self.function = function
        self.item = item

    def __call__(self, *args):
        if self.item is not None:
            args = args[:self.item] + (unpack(args[self.item]),) + args[self.item + 1:]
        _handlers.depth = getattr(_handlers, 'depth', 0) + 1
        try:
            return self.function(*args)
        finally:
            _handlers.depth -= 1

    def __eq__(self, other):
        if isinstance(other, _Handler):
            other = other.function
        return self.function == other

    def __hash__(self):
        return hash(self.function)


class _GuardedSignals:
    """connect() and its variants for the classes whose signals mpel emits
    while it dispatches: handlers are counted while they run."""

    def connect(self, detailed_signal, handler, *args):
        return GObject.Object.connect(self, detailed_signal, _Handler(handler), *args)

    def connect_after(self, detailed_signal, handler, *args):
        return GObject.Object.connect_after(self, detailed_signal, _Handler(handler), *args)

    def connect_object(self, detailed_signal, handler, obj, *args):
        return GObject.Object.connect_object(self, detailed_signal, _Handler(handler), obj, *args)

    def connect_object_after(self, detailed_signal, handler, obj, *args):
        return GObject.Object.connect_object_after(self, detailed_signal, _Handler(handler), obj, *args)

    def connect_data(self, detailed_signal, handler, *data, **kwargs):
        return GObject.Object.connect_data(self, detailed_signal, _Handler(handler), *data, **kwargs)


def _refuse_wait_in_handler(what):
    if _in_handler():
        raise RuntimeError(
            'mpel: %s cannot wait inside a handler of an mpel signal: the loop reads '
            'no answer from its workers until the handler returns, so it would wait for '
            'ever. Connect to "finished" (or connect_items()), or await the event.' % what)


# The app side ---------------------------------------------------------------

class Options:
    """Event options, given at submission with Mpel.Loop.with_options().

    key: the event's key (str); priority: int, higher runs first among
    waiting events; timeout: seconds (float) after which the event fails
    with Mpel.Error.TIMED_OUT; no_reply: the worker sends no result back
    (errors still reach the loop's output signal).
    """

    __slots__ = ('key', 'priority', 'timeout', 'no_reply')

    def __init__(self, key=None, priority=None, timeout=None, no_reply=False):
        if timeout is not None and timeout < 0:
            raise ValueError('mpel: a timeout is a number of seconds >= 0, not %r' % (timeout,))
        self.key = key
        self.priority = priority
        self.timeout = timeout
        self.no_reply = no_reply

    def apply(self, event):
        if self.key is not None:
            event.set_key(self.key)
        if self.priority is not None:
            event.set_priority(self.priority)
        if self.timeout is not None:
            event.set_timeout(max(1, round(self.timeout * 1000)))
        if self.no_reply:
            event.set_flags(event.get_flags() | Mpel.EventFlags.NO_REPLY)


class _Submitter:
    """What Mpel.Loop.with_options() returns: submit() and call() as on the
    loop, with the options applied to every event."""

    def __init__(self, loop, options):
        self._loop = loop
        self._options = options

    def submit(self, target, *args, **kwargs):
        return self._loop._submit(target, args, kwargs, self._options)

    async def call(self, target, *args, **kwargs):
        return await self._loop._submit(target, args, kwargs, self._options)


def _new_event(target, args, kwargs, options):
    event = Mpel.Event.new(target, pack_args(args))
    if kwargs:
        event.set_kwargs(_pack_dict(kwargs))
    if options is not None:
        options.apply(event)
    return event


_c_start_async = getattr(Mpel.Loop, 'start_async', None)


class Loop(_GuardedSignals, Mpel.Loop):
    @classmethod
    def for_python_script(cls, path, *args, **properties):
        """A loop whose workers run the Python script path with this
        interpreter (sys.executable). A relative path is taken from the
        directory of the file that calls this. Extra args go to the script;
        keyword arguments set properties (n_workers=2, …)."""
        if not os.path.isabs(path):
            caller = sys._getframe(1).f_code.co_filename
            base = os.path.dirname(os.path.abspath(caller)) if os.path.exists(caller) else os.getcwd()
            path = os.path.join(base, path)
        loop = cls.new_for_argv([sys.executable, path] + [str(arg) for arg in args])
        for name, value in properties.items():
            loop.set_property(name.replace('_', '-'), value)
        return loop

    def submit(self, target, *args, **kwargs):
        """Sends target(*args, **kwargs) to a worker and returns the
        Mpel.Event; event.result() or `await event` gives the plain result."""
        return self._submit(target, args, kwargs, None)

    def _submit(self, target, args, kwargs, options):
        event = _new_event(target, args, kwargs, options)
        self.push(event)
        return event

    async def call(self, target, *args, **kwargs):
        """Awaits target(*args, **kwargs) and gives the plain result, or
        raises. Cancelling the awaiting task cancels the event."""
        return await self._submit(target, args, kwargs, None)

    def with_options(self, key=None, priority=None, timeout=None, no_reply=False):
        """submit() and call() with event options:
        loop.with_options(priority=5, timeout=2.5).submit('f', 1, x=2)."""
        return _Submitter(self, Options(key, priority, timeout, no_reply))

    if _c_start_async is not None:
        def start_async(self, cancellable=None, callback=None, *user_data):
            """Starts the workers; without a callback, returns an awaitable
            that raises GLib.Error if a worker cannot start."""
            if callback is not None:
                return _c_start_async(self, cancellable, callback, *user_data)
            return _gio_await(lambda c, done: _c_start_async(self, c, done),
                              lambda source, result: Mpel.Loop.start_finish(self, result),
                              cancellable)
    else:
        async def start_async(self, cancellable=None):
            """Starts the workers (synchronously: this mpel has no
            mpel_loop_start_async); raises GLib.Error if one cannot start."""
            return self.start()

    def wait(self, cancellable=None):
        """Runs the main context until no event is pending (mpel_loop_wait).
        Raises RuntimeError inside a handler of an mpel signal, where it
        would wait for ever."""
        _refuse_wait_in_handler('loop.wait()')
        return Mpel.Loop.wait(self, cancellable)

    def connect_items(self, callback, *user_data, target=None):
        """Calls callback(loop, event, value, *user_data) for every item any
        event streams (of target's events only, if given), with the item as
        a plain value. Returns the handler id; disconnect_by_func(callback)
        works too."""
        signal = 'item' if target is None else 'item::' + target
        return GObject.Object.connect(self, signal, _Handler(callback, item=2), *user_data)

    async def wait_until_done(self):
        """Awaits the end of every pending event (mpel_loop_wait_async)."""
        return await _gio_await(lambda c, done: Mpel.Loop.wait_async(self, c, done),
                                lambda source, result: Mpel.Loop.wait_finish(self, result))

    def _wait_stopped(self):
        context = GLib.MainContext.ref_thread_default()
        while self.is_running():
            context.iteration(True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        # Like the seed's context manager: what was submitted still runs.
        # An exception (Ctrl-C) closes the loop instead of waiting.
        if exc_type is None:
            self.wait(None)
            self.stop()
        else:
            self.close()
        self._wait_stopped()
        return False

    async def __aenter__(self):
        await self.start_async()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        if exc_type is None:
            await self.wait_until_done()
            self.stop()
        else:
            self.close()
        if self.is_running():
            future = _running_glib_loop().create_future()

            def on_running(loop, _pspec):
                if not loop.is_running() and not future.done():
                    future.set_result(None)

            handler = self.connect('notify::running', on_running)
            try:
                if self.is_running():
                    await future
            finally:
                self.disconnect(handler)
        return False


Loop = override(Loop)
__all__ += ['Loop', 'Options']


class Event(_GuardedSignals, Mpel.Event):
    def _outcome(self):
        if self.get_state() == Mpel.EventState.DONE:
            return unpack(self.get_result())
        raise _event_exception(self)

    def done(self):
        """Whether the event has ended (result, error or cancelled)."""
        return self.is_finished()

    def result(self, timeout=None):
        """The plain result; raises the event's error. If the event has not
        ended, runs the thread-default main context until it has, or until
        timeout seconds passed (then raises TimeoutError). Inside a handler
        of an mpel signal, where that wait would never end, an unfinished
        event raises RuntimeError instead."""
        if not self.is_finished():
            _refuse_wait_in_handler('event.result() on an unfinished event')
            context = GLib.MainContext.ref_thread_default()
            expired = []
            source = None
            if timeout is not None:
                source = GLib.timeout_source_new(max(0, round(timeout * 1000)))
                source.set_callback(lambda *_a: expired.append(True) or GLib.SOURCE_REMOVE)
                source.attach(context)
            try:
                while not self.is_finished() and not expired:
                    context.iteration(True)
            finally:
                if source is not None:
                    source.destroy()
            if not self.is_finished():
                raise TimeoutError('%s has not ended after %s s' % (self.get_target(), timeout))
        return self._outcome()

    def connect_items(self, callback, *user_data):
        """Calls callback(event, value, *user_data) for every item the event
        streams, with the item as a plain value (the item signal gives the
        GLib.Variant). Returns the handler id; disconnect_by_func(callback)
        works too."""
        return GObject.Object.connect(self, 'item', _Handler(callback, item=1), *user_data)

    def __await__(self):
        return self._wait().__await__()

    async def _wait(self):
        if not self.is_finished():
            future = _running_glib_loop().create_future()

            def on_finished(_event):
                if not future.done():
                    future.set_result(None)

            handler = self.connect('finished', on_finished)
            try:
                await future
            except asyncio.CancelledError:
                self.cancel()
                raise
            finally:
                self.disconnect(handler)
        return self._outcome()

    async def items(self):
        """Async iterator over the streamed items, as plain values; it ends
        when the event ends and raises the event's error if it failed.
        Items that arrived before the iteration began are not replayed, so
        start iterating before the main loop runs again. Cancelling the
        iterating task cancels the event."""
        queue = asyncio.Queue()
        handlers = [
            self.connect('item', lambda _event, item: queue.put_nowait((True, item))),
            self.connect('finished', lambda _event: queue.put_nowait((False, None))),
        ]
        try:
            _running_glib_loop()
            if self.is_finished():
                queue.put_nowait((False, None))
            while True:
                try:
                    is_item, item = await queue.get()
                except asyncio.CancelledError:
                    self.cancel()
                    raise
                if not is_item:
                    break
                yield unpack(item)
        finally:
            for handler in handlers:
                self.disconnect(handler)
        if self.get_state() != Mpel.EventState.DONE:
            raise _event_exception(self)

    def __aiter__(self):
        return self.items().__aiter__()


Event = override(Event)
__all__.append('Event')


# Proxies --------------------------------------------------------------------

def _mirrored_getter(name, default):
    def fget(proxy):
        # The property's default while the worker has not answered
        value = Mpel.Proxy.get_value(proxy, name)
        return default if value is None else unpack(value)
    return fget


def _notify_python_property(proxy, name, value):
    # The C class notifies the properties of C subclasses; PyGObject keeps
    # the get/set_property of Python ones, so notify them here, once per
    # change of the value the property reads (the first value from the
    # worker is a change only if it differs from the default).
    if name not in type(proxy)._mpel_python_properties:
        return
    value = unpack(value)
    last = proxy.__dict__.setdefault('_mpel_notified', {})
    if name in last:
        old = last[name]
    else:
        old = proxy.find_property(name).default_value
    last[name] = value
    if value != old:
        proxy.notify(name)


def _set_during_init(proxy, name, value):
    # g_object_set_property() itself, with a GValue: PyGObject's own
    # set_property (and props) leaks the copy of a string it makes for a
    # property that has introspection data (pygobject 3.42).
    pspec = proxy.find_property(name)
    gvalue = GObject.Value(pspec.value_type, value)
    _GObjectRaw.Object.set_property(proxy, name, gvalue)
    gvalue.unset()


def _made_by_gobject_new(proxy):
    # The wrapper of an instance GObject.new() makes has its GObject while
    # __init__ runs; one the class call makes gets it in Object.__init__.
    try:
        proxy.__gpointer__
    except ValueError:
        return False
    return True


class Proxy(_GuardedSignals, Mpel.Proxy):
    """A GObject that mirrors an object living in a worker.

    A plain proxy: Mpel.Proxy(loop=loop, remote_type='Gtk.Adjustment',
    construct_values={'upper': 10.0}, properties=['value'], getters=[...]).
    A subclass declares what it mirrors and calls:

        class Point(Mpel.Proxy):
            __remote_type__ = 'MyPoint'               # the worker's type
            __remote_methods__ = ('move', 'set_z')     # p.move(1, 2, 7)
            __getters__ = ('get_z',)                   # p.get_z(): mirrored
            x = GObject.Property(type=int)             # p.x: mirrored
            y = GObject.Property(type=int)

        p = Point(loop=loop)

    Its GObject properties read the mirrored value and setting one sends it
    to the worker (set_value); notify fires when the worker's value
    changes. A remote method returns the Mpel.Event (event.result() or
    `await event` gives the plain return value); a getter method returns
    the getter's last mirrored value (None while unknown).
    """

    _mpel_python_properties = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = set()
        for attr, prop in list(cls.__dict__.items()):
            if not isinstance(prop, GObject.Property):
                continue
            name = (prop.name or attr).replace('_', '-')
            own.add(name)
            if prop.fget == prop._default_getter:
                prop.fget = _mirrored_getter(name, prop.default)
            if prop.fset == prop._default_setter:
                prop.fset = lambda proxy, value, _name=name: Proxy.set_value(proxy, _name, value)
        inherited = set()
        for base in cls.__mro__[1:]:
            inherited |= getattr(base, '_mpel_python_properties', frozenset())
        cls._mpel_python_properties = frozenset(own | inherited)

        for name in cls.__dict__.get('__remote_methods__', ()):
            if name not in cls.__dict__:
                setattr(cls, name, _remote_method(name))
        for name in cls.__dict__.get('__getters__', ()):
            if name not in cls.__dict__:
                setattr(cls, name, _getter_method(name))

    def __init__(self, loop=None, remote_type=None, construct_values=None,
                 properties=None, getters=None, **kwargs):
        cls = type(self)
        if remote_type is None and 'remote_name' not in kwargs:
            remote_type = getattr(cls, '__remote_type__', None)
        declared = sorted(cls._mpel_python_properties)
        if declared:
            properties = list(properties or ()) + [p for p in declared if p not in (properties or ())]
        declared_getters = []
        for base in reversed(cls.__mro__):
            declared_getters += [g for g in base.__dict__.get('__getters__', ()) if g not in declared_getters]
        if declared_getters:
            getters = list(getters or ()) + [g for g in declared_getters if g not in (getters or ())]
        if construct_values is not None and not isinstance(construct_values, GLib.Variant):
            if not isinstance(construct_values, dict):
                raise TypeError('construct_values is a dict (or an a{sv} GLib.Variant), not %r'
                                % (construct_values,))
            # In the order given: a Gtk.Adjustment clamps value to the bounds set before
            construct_values = _pack_dict(construct_values)
        given = (('loop', loop), ('remote_type', remote_type),
                 ('construct_values', construct_values),
                 ('properties', properties), ('getters', getters))
        if _made_by_gobject_new(self):
            # GObject.new(cls, ...): PyGObject runs __init__ (with no
            # arguments) while GObject initializes the instance, before it
            # sets the construct properties given to GObject.new(). What
            # the class declares is set now; the C class keeps it when
            # GObject then sets the defaults, and adds the names given.
            for name, value in given:
                if value is not None:
                    _set_during_init(self, name.replace('_', '-'), value)
        else:
            for name, value in given:
                if value is not None:
                    kwargs[name] = value
            super().__init__(**kwargs)
        if cls._mpel_python_properties:
            GObject.Object.connect(self, 'changed', _notify_python_property)

    def get_value(self, name):
        """The mirrored value of a property or getter as a plain value;
        None while it is unknown. get_variant() gives the GLib.Variant."""
        value = Mpel.Proxy.get_value(self, name)
        return None if value is None else unpack(value)

    def get_variant(self, name):
        """The mirrored value as a GLib.Variant, None while unknown."""
        return Mpel.Proxy.get_value(self, name)

    def set_value(self, name, value):
        """Sets a property of the remote object to a plain value (or a
        GLib.Variant), in order with calls; the worker converts numbers to
        the property's type and its value wins."""
        Mpel.Proxy.set_value(self, name, pack(value))

    def call(self, method, *args, **kwargs):
        """Calls method(*args, **kwargs) on the remote object with plain
        arguments (a single GLib.Variant tuple is the exact arguments) and
        returns the Mpel.Event: event.result() or `await event` gives the
        plain return value or raises the remote exception. Keyword
        arguments reach a handler of Mpel.Worker.add_method (and the
        keyword parameters of a Python method of worker.add_type); a
        method called through GObject-Introspection takes none."""
        if kwargs:
            return Mpel.Proxy.call_full(self, method, pack_args(args), _pack_dict(kwargs))
        return Mpel.Proxy.call(self, method, pack_args(args))

    async def acall(self, method, *args, **kwargs):
        """Awaits method(*args, **kwargs) and gives the plain return value,
        or raises. Cancelling the awaiting task cancels the call."""
        return await self.call(method, *args, **kwargs)


def _remote_method(name):
    def method(self, *args, **kwargs):
        return Proxy.call(self, name, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = 'Calls %s(*args) in the worker; returns the Mpel.Event.' % name
    return method


def _getter_method(name):
    def getter(self):
        return Proxy.get_value(self, name)
    getter.__name__ = name
    getter.__doc__ = 'The mirrored value of the getter %s(), as of the last call.' % name
    return getter


Proxy = override(Proxy)
__all__.append('Proxy')


# The worker side ------------------------------------------------------------

_current_invocation = contextvars.ContextVar('mpel_invocation', default=None)


def current_invocation():
    """The Mpel.Invocation a handler registered with Worker.handler() is
    running for (for its get_cancellable()), or None outside handlers."""
    return _current_invocation.get()


__all__.append('current_invocation')


def _cancelled_error():
    return GLib.Error('The event was cancelled', GLib.quark_to_string(Gio.io_error_quark()),
                      Gio.IOErrorEnum.CANCELLED)


def _answer_with_exception(invocation, exc):
    if invocation.is_returned():
        return
    if isinstance(exc, GLib.Error):
        error = GLib.Error(exc.message, exc.domain, exc.code)
    else:
        error = GLib.Error('%s: %s' % (_type_name(exc), exc),
                           GLib.quark_to_string(Mpel.error_quark()), Mpel.Error.FAILED)
    details = {
        'type': _type_name(exc),
        'traceback': ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }
    invocation.return_error_details(error, pack(details))


def _answer_cancelled(invocation):
    if not invocation.is_returned():
        invocation.return_gerror(_cancelled_error())


def _answer_invalid_args(invocation, message):
    invocation.return_error_literal(Mpel.error_quark(), Mpel.Error.INVALID_ARGS, message)


def _answer(invocation, value):
    if invocation.is_returned():
        return
    try:
        variant = None if value is None else pack(value)
    except (TypeError, ValueError, OverflowError) as exc:
        _answer_with_exception(invocation, exc)
        return
    invocation.return_value(variant)


def _on_cancelled(invocation, callback):
    """Calls callback() once the invocation is cancelled; returns a function
    that disconnects it."""
    cancellable = invocation.get_cancellable()
    if cancellable.is_cancelled():
        GLib.idle_add(lambda: callback() and False)
        return lambda: None
    handler = GObject.Object.connect(cancellable, 'cancelled', lambda _c: callback())
    return lambda: GObject.Object.disconnect(cancellable, handler)


class _GeneratorStream:
    """Runs a generator one item per main-loop dispatch (below I/O, so the
    worker reads, writes and starts other events between items)."""

    def __init__(self, invocation, generator):
        self.invocation = invocation
        self.generator = generator
        self.disconnect = _on_cancelled(invocation, self.cancel)
        self.source = GLib.idle_add(self.step)

    def step(self):
        invocation = self.invocation
        token = _current_invocation.set(invocation)
        try:
            item = next(self.generator)
        except StopIteration as stop:
            self.end(_answer, invocation, stop.value)
            return GLib.SOURCE_REMOVE
        except Exception as exc:  # noqa: BLE001 - every error must answer
            self.end(_answer_with_exception, invocation, exc)
            return GLib.SOURCE_REMOVE
        finally:
            _current_invocation.reset(token)
        try:
            invocation.yield_(pack(item))
        except (TypeError, ValueError, OverflowError) as exc:
            self.generator.close()
            self.end(_answer_with_exception, invocation, exc)
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    def cancel(self):
        if not self.source:
            return
        GLib.source_remove(self.source)
        invocation = self.invocation
        try:
            self.generator.close()
        except Exception as exc:  # noqa: BLE001 - a finally block that raised
            self.end(_answer_with_exception, invocation, exc)
            return
        self.end(_answer_cancelled, invocation)

    def end(self, answer, *args):
        self.source = 0
        self.disconnect()
        self.invocation = self.generator = None
        answer(*args)


async def _drive_async_generator(invocation, agen):
    try:
        async for item in agen:
            invocation.yield_(pack(item))
            # A turn for the worker's main loop between items.
            await asyncio.sleep(0)
    finally:
        await agen.aclose()


def _run_awaitable(invocation, awaitable):
    aloop = _worker_asyncio_loop()
    if aloop is None:
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        _answer_with_exception(invocation, RuntimeError(
            'async handlers need PyGObject 3.50 (gi.events) or gbulb (Debian: python3-gbulb)'))
        return
    task = aloop.create_task(awaitable) if inspect.iscoroutine(awaitable) \
        else asyncio.ensure_future(awaitable, loop=aloop)
    disconnect = _on_cancelled(invocation, task.cancel)

    def done(task):
        disconnect()
        if task.cancelled():
            _answer_cancelled(invocation)
        elif task.exception() is not None:
            _answer_with_exception(invocation, task.exception())
        else:
            _answer(invocation, task.result())

    task.add_done_callback(done)


_worker_loop = None


def _worker_asyncio_loop():
    global _worker_loop
    if _worker_loop is None and _glib_policy_class() is not None:
        _worker_loop = install_asyncio()
    return _worker_loop


def _bind(target, function, method=False):
    """A handler(invocation) that calls function with the event's plain
    arguments and answers with what it gives. With method, the handler is
    an MpelMethodHandler(invocation, object) and function is called with
    the object first (its first parameter, self, is not bound to an
    argument)."""
    signature = inspect.signature(function)
    if method:
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    parameters = signature.parameters.values()
    takes_any_keyword = any(p.kind == p.VAR_KEYWORD for p in parameters)
    keywords = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def call_handler(invocation, *rest):
        args = unpack(invocation.get_args()) or ()
        kwargs = unpack(invocation.get_kwargs()) or {}
        if not takes_any_keyword:
            unknown = sorted(set(kwargs) - keywords)
            if unknown:
                _answer_invalid_args(invocation, '%s got unknown keyword argument%s: %s'
                                     % (target, 's' if len(unknown) > 1 else '', ', '.join(unknown)))
                return
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            _answer_invalid_args(invocation, '%s: %s' % (target, exc))
            return

        token = _current_invocation.set(invocation)
        try:
            if method:
                result = function(rest[0], *bound.args, **bound.kwargs)
            else:
                result = function(*bound.args, **bound.kwargs)
        except Exception as exc:  # noqa: BLE001 - every error must answer
            _answer_with_exception(invocation, exc)
            return
        finally:
            _current_invocation.reset(token)

        if inspect.isgenerator(result):
            _GeneratorStream(invocation, result)
        elif inspect.isasyncgen(result):
            _run_awaitable(invocation, _drive_async_generator(invocation, result))
        elif inspect.isawaitable(result):
            _run_awaitable(invocation, result)
        else:
            _answer(invocation, result)

    return call_handler


class Worker(Mpel.Worker):
    def handler(self, target=None):
        """Decorator: registers a plain function for target (its own name
        by default). Its parameters take the event's positional and keyword
        arguments as plain values; its return value is the result. A
        generator streams its items and its return value is the result; an
        async def is awaited, an async generator streams."""
        if callable(target):
            function = target
            self.add_function(function.__name__, function)
            return function

        def register(function):
            self.add_function(target or function.__name__, function)
            return function
        return register

    def add_function(self, target, function):
        """worker.add_function('name', f): what @worker.handler('name') does."""
        Mpel.Worker.add_handler(self, target, _bind(target, function))

    def add_type(self, cls):
        """Exposes the GObject subclass cls to proxies: an app creates its
        objects by the GType name (cls.__gtype__.name, __gtype_name__ when
        the class sets it), reads its GObject properties (mirrored as any
        GObject's) and calls its public methods (the functions defined on
        the class whose names do not start with an underscore or do_) with
        plain values, and keyword arguments (proxy.call(..., key=value))
        as keyword parameters. A method's return value is the call's result (None:
        no value); a generator streams, an async def is awaited, as with
        handler(); an exception answers with its type and traceback.
        Returns cls, so it can decorate the class. Objects are created with
        no arguments: __init__ takes none (or only defaults)."""
        if not (isinstance(cls, type) and issubclass(cls, GObject.Object)):
            raise TypeError('worker.add_type() takes a GObject.Object subclass, not %r' % (cls,))
        # PyGObject registered the GType when it created the class
        gtype = cls.__gtype__
        if gtype.pytype is not cls or cls.__module__.split('.')[0] == 'gi':
            raise TypeError('%s is a wrapper of the GType %s, not a subclass defined in Python: '
                            'its methods are called through GObject-Introspection'
                            % (cls.__name__, gtype.name))
        for name, member in vars(cls).items():
            if name.startswith('_') or name.startswith('do_') or not inspect.isfunction(member):
                continue
            Mpel.Worker.add_method(self, gtype, name, _bind(name, member, method=True))
        return cls

    def add_handler(self, target, handler, *user_data):
        """Registers handler(invocation, *user_data) for target.

        The handler answers with invocation.return_value(), by returning a
        GLib.Variant, or by raising; or it keeps the invocation and answers
        later. Returning None answers nothing.
        """
        def call_handler(invocation, *data):
            try:
                result = handler(invocation, *data)
            except Exception as exc:  # noqa: BLE001 - every error must answer
                _answer_with_exception(invocation, exc)
                # Drop the frames that hold the invocation.
                sys.last_type = sys.last_value = sys.last_traceback = None
                return
            if invocation.is_returned():
                return
            if result is not None:
                if not isinstance(result, GLib.Variant):
                    _answer_with_exception(invocation, TypeError(
                        'a handler returns a GLib.Variant or None, not %s' % type(result).__name__))
                    return
                invocation.return_value(result)

        Mpel.Worker.add_handler(self, target, call_handler, *user_data)

    def run(self):
        """Serves the app until it stops the worker; async handlers run on
        an asyncio loop on GLib's default main context meanwhile."""
        aloop = _worker_asyncio_loop()
        # gbulb's loop only counts as running inside its own run(); mpel
        # runs the same main context, so say so for the time it does.
        mark = aloop is not None and type(aloop).__module__.startswith('gbulb') \
            and asyncio._get_running_loop() is None
        if mark:
            asyncio._set_running_loop(aloop)
        try:
            return Mpel.Worker.run(self)
        finally:
            if mark:
                asyncio._set_running_loop(None)


Worker = override(Worker)
__all__.append('Worker')
