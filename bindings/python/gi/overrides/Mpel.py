# Mpel.py: PyGObject overrides for mpel
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Makes Python handlers safe and short:
#
#   def add_vals(invocation, value, value2=1):
#       return GLib.Variant('i', value + value2)
#
#   worker.add_handler('add_vals', add_vals)
#
# - A handler may return its result, a GLib.Variant, instead of calling
#   invocation.return_value(). Returning None is not an answer: a handler
#   that has no value to give calls invocation.return_value(None).
# - A handler that raises answers its event with the error: a GLib.Error keeps
#   its domain and code, any other exception becomes MPEL_ERROR_FAILED with
#   the exception in the message. Without this, PyGObject would print the
#   exception and keep the invocation alive in sys.last_traceback, and the
#   event would never end.
# - A handler that keeps the invocation to answer later (async) is left alone.

import sys
import traceback

from gi.repository import GLib

from ..module import get_introspection_module
from ..overrides import override

Mpel = get_introspection_module('Mpel')

__all__ = []


def _answer_with_exception(invocation, exc):
    if invocation.is_returned():
        return
    if isinstance(exc, GLib.Error):
        invocation.return_error_literal(GLib.quark_from_string(exc.domain),
                                        exc.code, exc.message)
    else:
        message = '%s: %s' % (type(exc).__name__, exc)
        invocation.return_error_literal(Mpel.error_quark(), Mpel.Error.FAILED,
                                        '%s raised %s' % (invocation.get_target(), message))


class Worker(Mpel.Worker):
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
                traceback.print_exc(file=sys.stderr)
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


Worker = override(Worker)
__all__.append('Worker')
