/* mpel-invocation.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-wire-private.h"
#include "mpel-worker-private.h"

/**
 * MpelInvocation:
 *
 * One event being run in the worker.
 *
 * A [callback@Mpel.Handler] gets an invocation and answers it once, with
 * [method@Mpel.Invocation.return_value] or one of the error variants, either
 * before it returns or later from the worker's main loop — keep a reference
 * for that. Meanwhile it may stream items with
 * [method@Mpel.Invocation.yield].
 *
 * If the app cancels the event, or its timeout passes, the invocation's
 * [method@Mpel.Invocation.get_cancellable] fires; the handler should then
 * stop and answer (any answer will do: the app has already moved on).
 *
 * An invocation released without an answer ends its event with
 * %MPEL_ERROR_FAILED, so a handler that forgets to answer cannot leave the
 * app waiting.
 */

struct _MpelInvocation
{
  GObject       parent_instance;

  MpelWorker   *worker;
  GQuark        target;
  GVariant     *args;
  GVariant     *kwargs;
  GCancellable *cancellable;
  guint64       id;
  guint         no_reply : 1;
  guint         returned : 1;
};

G_DEFINE_FINAL_TYPE (MpelInvocation, mpel_invocation, G_TYPE_OBJECT)

static void
mpel_invocation_dispose (GObject *object)
{
  MpelInvocation *self = (MpelInvocation *)object;

  if (!self->returned && self->worker != NULL)
    mpel_invocation_return_error (self, MPEL_ERROR, MPEL_ERROR_FAILED,
                                  _("The handler of “%s” released its invocation without answering"),
                                  g_quark_to_string (self->target));

  G_OBJECT_CLASS (mpel_invocation_parent_class)->dispose (object);
}

static void
mpel_invocation_finalize (GObject *object)
{
  MpelInvocation *self = (MpelInvocation *)object;

  g_clear_object (&self->worker);
  g_clear_pointer (&self->args, g_variant_unref);
  g_clear_pointer (&self->kwargs, g_variant_unref);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (mpel_invocation_parent_class)->finalize (object);
}

static void
mpel_invocation_class_init (MpelInvocationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mpel_invocation_dispose;
  object_class->finalize = mpel_invocation_finalize;
}

static void
mpel_invocation_init (MpelInvocation *self)
{
}

MpelInvocation *
_mpel_invocation_new (MpelWorker *worker,
                      guint64     id,
                      const char *target,
                      GVariant   *args,
                      GVariant   *kwargs,
                      gboolean    no_reply)
{
  MpelInvocation *self;

  self = g_object_new (MPEL_TYPE_INVOCATION, NULL);
  self->worker = g_object_ref (worker);
  self->id = id;
  self->target = g_quark_from_string (target);
  self->args = g_variant_ref (args);
  self->kwargs = kwargs ? g_variant_ref (kwargs) : NULL;
  self->no_reply = !!no_reply;

  return self;
}

void
_mpel_invocation_cancel (MpelInvocation *self)
{
  if (self->returned)
    return;

  g_cancellable_cancel (mpel_invocation_get_cancellable (self));
}

guint64 *
_mpel_invocation_get_id_ptr (MpelInvocation *self)
{
  return &self->id;
}

/**
 * mpel_invocation_get_worker:
 * @self: a #MpelInvocation
 *
 * Gets the worker running the invocation.
 *
 * Returns: (transfer none): the worker running the invocation
 */
MpelWorker *
mpel_invocation_get_worker (MpelInvocation *self)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), NULL);

  return self->worker;
}

/**
 * mpel_invocation_get_target:
 * @self: a #MpelInvocation
 *
 * Gets the target the app sent.
 *
 * Returns: the target name the app sent
 */
const char *
mpel_invocation_get_target (MpelInvocation *self)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), NULL);

  return g_quark_to_string (self->target);
}

/**
 * mpel_invocation_get_args:
 * @self: a #MpelInvocation
 *
 * The positional arguments. They come from another process: check their
 * type with g_variant_is_of_type() before unpacking them, and answer
 * %MPEL_ERROR_INVALID_ARGS when it is wrong.
 *
 * Returns: (transfer none): the arguments, a tuple
 */
GVariant *
mpel_invocation_get_args (MpelInvocation *self)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), NULL);

  return self->args;
}

/**
 * mpel_invocation_get_kwargs:
 * @self: a #MpelInvocation
 *
 * Gets the keyword arguments.
 *
 * Returns: (transfer none): the keyword arguments, an `a{sv}` (empty when
 *   the app set none)
 */
GVariant *
mpel_invocation_get_kwargs (MpelInvocation *self)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), NULL);

  if (self->kwargs == NULL)
    self->kwargs = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));

  return self->kwargs;
}

/**
 * mpel_invocation_lookup_kwarg:
 * @self: a #MpelInvocation
 * @name: a keyword
 * @expected_type: (nullable): the type the value must have, or %NULL for any
 *
 * Looks up one keyword argument.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if there is no
 *   such keyword or its value has another type
 */
GVariant *
mpel_invocation_lookup_kwarg (MpelInvocation     *self,
                              const char         *name,
                              const GVariantType *expected_type)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (self->kwargs == NULL)
    return NULL;

  return g_variant_lookup_value (self->kwargs, name, expected_type);
}

/**
 * mpel_invocation_get_id:
 * @self: a #MpelInvocation
 *
 * Gets the event's id.
 *
 * Returns: the event's id, the same as [method@Mpel.Event.get_id] in the app
 */
guint64
mpel_invocation_get_id (MpelInvocation *self)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), 0);

  return self->id;
}

/**
 * mpel_invocation_get_cancellable:
 * @self: a #MpelInvocation
 *
 * Gets a cancellable for the invocation.
 *
 * Returns: (transfer none): a cancellable that fires when the app cancels the
 *   event or its timeout passes, or when the app goes away
 */
GCancellable *
mpel_invocation_get_cancellable (MpelInvocation *self)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), NULL);

  if (self->cancellable == NULL)
    self->cancellable = g_cancellable_new ();

  return self->cancellable;
}

/**
 * mpel_invocation_get_no_reply:
 * @self: a #MpelInvocation
 *
 * Tells whether the app wants no result.
 *
 * Returns: whether the app asked for no result (%MPEL_EVENT_FLAGS_NO_REPLY);
 *   the handler must answer all the same, and errors still reach the app
 */
gboolean
mpel_invocation_get_no_reply (MpelInvocation *self)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), FALSE);

  return self->no_reply;
}

/**
 * mpel_invocation_is_returned:
 * @self: a #MpelInvocation
 *
 * Tells whether the invocation has been answered.
 *
 * Returns: whether the invocation has been answered
 */
gboolean
mpel_invocation_is_returned (MpelInvocation *self)
{
  g_return_val_if_fail (MPEL_IS_INVOCATION (self), FALSE);

  return self->returned;
}

static void
finish (MpelInvocation *self,
        guint8          kind,
        guint32         flags,
        GVariant       *body)
{
  self->returned = TRUE;
  _mpel_worker_send_reply (self->worker, self, kind, flags, body);
  _mpel_worker_invocation_ended (self->worker, self);
}

/**
 * mpel_invocation_return_value:
 * @self: a #MpelInvocation
 * @value: (nullable): the result, or %NULL for none
 *
 * Answers with a result. A floating @value is sunk. Call one of the
 * `return` functions exactly once per invocation.
 */
void
mpel_invocation_return_value (MpelInvocation *self,
                              GVariant       *value)
{
  g_autoptr(GVariant) owned = NULL;

  g_return_if_fail (MPEL_IS_INVOCATION (self));
  g_return_if_fail (!self->returned);

  if (value != NULL)
    owned = g_variant_ref_sink (value);

  if (self->no_reply || owned == NULL)
    finish (self, MPEL_FRAME_RETURN, MPEL_FRAME_FLAGS_NO_VALUE, NULL);
  else
    finish (self, MPEL_FRAME_RETURN, MPEL_FRAME_FLAGS_NONE, owned);
}

/**
 * mpel_invocation_return_error:
 * @self: a #MpelInvocation
 * @domain: the error domain
 * @code: the error code
 * @format: printf()-style format of the message
 * @...: arguments for @format
 *
 * Answers with an error. The app sees the same domain and code, so
 * g_error_matches() works there.
 */
void
mpel_invocation_return_error (MpelInvocation *self,
                              GQuark          domain,
                              int             code,
                              const char     *format,
                              ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  g_return_if_fail (MPEL_IS_INVOCATION (self));
  g_return_if_fail (!self->returned);
  g_return_if_fail (format != NULL);

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  mpel_invocation_return_gerror (self, error);
}

/**
 * mpel_invocation_return_error_literal:
 * @self: a #MpelInvocation
 * @domain: the error domain
 * @code: the error code
 * @message: the message
 *
 * Answers with an error, like [method@Mpel.Invocation.return_error] without
 * formatting; the one to use from Python and JavaScript.
 */
void
mpel_invocation_return_error_literal (MpelInvocation *self,
                                      GQuark          domain,
                                      int             code,
                                      const char     *message)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (MPEL_IS_INVOCATION (self));
  g_return_if_fail (!self->returned);
  g_return_if_fail (message != NULL);

  error = g_error_new_literal (domain, code, message);
  mpel_invocation_return_gerror (self, error);
}

/**
 * mpel_invocation_return_gerror:
 * @self: a #MpelInvocation
 * @error: the error
 *
 * Answers with a copy of @error.
 */
void
mpel_invocation_return_gerror (MpelInvocation *self,
                               const GError   *error)
{
  g_return_if_fail (MPEL_IS_INVOCATION (self));
  g_return_if_fail (!self->returned);
  g_return_if_fail (error != NULL);

  finish (self, MPEL_FRAME_ERROR, MPEL_FRAME_FLAGS_NONE, mpel_error_to_variant (error));
}

/**
 * mpel_invocation_return_error_details:
 * @self: a #MpelInvocation
 * @error: the error
 * @details: (nullable): an `a{sv}` with more about the error, or %NULL
 *
 * Answers with a copy of @error, like [method@Mpel.Invocation.return_gerror],
 * and sends @details in the `meta` of the ERROR frame, where the app reads
 * them with [method@Mpel.Event.get_error_details]. Language bindings use it
 * to carry an exception across: `type` (`s`) names the exception type, such
 * as `KeyError`, and `traceback` (`s`) is the traceback as text. Other keys
 * are passed along untouched. A floating @details is sunk.
 */
void
mpel_invocation_return_error_details (MpelInvocation *self,
                                      const GError   *error,
                                      GVariant       *details)
{
  g_autoptr(GVariant) owned = NULL;

  g_return_if_fail (MPEL_IS_INVOCATION (self));
  g_return_if_fail (!self->returned);
  g_return_if_fail (error != NULL);
  g_return_if_fail (details == NULL || g_variant_is_of_type (details, G_VARIANT_TYPE_VARDICT));

  if (details != NULL)
    owned = g_variant_ref_sink (details);

  self->returned = TRUE;
  _mpel_worker_send_reply_full (self->worker, self, MPEL_FRAME_ERROR, MPEL_FRAME_FLAGS_NONE,
                                mpel_error_to_variant (error), owned);
  _mpel_worker_invocation_ended (self->worker, self);
}

/**
 * mpel_invocation_take_error: (skip)
 * @self: a #MpelInvocation
 * @error: (transfer full): the error
 *
 * Answers with @error and frees it.
 */
void
mpel_invocation_take_error (MpelInvocation *self,
                            GError         *error)
{
  g_autoptr(GError) owned = error;

  g_return_if_fail (MPEL_IS_INVOCATION (self));
  g_return_if_fail (error != NULL);

  mpel_invocation_return_gerror (self, owned);
}

/**
 * mpel_invocation_yield:
 * @self: a #MpelInvocation
 * @item: an item
 *
 * Streams one item to the app, where it arrives through
 * [signal@Mpel.Event::item] and [signal@Mpel.Loop::item], in order and
 * before the answer. A floating @item is sunk.
 */
void
mpel_invocation_yield (MpelInvocation *self,
                       GVariant       *item)
{
  g_autoptr(GVariant) owned = NULL;

  g_return_if_fail (MPEL_IS_INVOCATION (self));
  g_return_if_fail (!self->returned);
  g_return_if_fail (item != NULL);

  owned = g_variant_ref_sink (item);

  if (!self->no_reply)
    _mpel_worker_send_reply (self->worker, self, MPEL_FRAME_ITEM, MPEL_FRAME_FLAGS_NONE, owned);
}
