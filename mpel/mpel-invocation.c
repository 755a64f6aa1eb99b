/* mpel-invocation.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "mpel-value-private.h"
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
 * The answer and the items may also be given from another thread, as with
 * `GDBusMethodInvocation` (a handler that hands its work to a `GTask` in a
 * thread, say): they are then sent from the worker's main context, in the
 * order that thread gave them. [method@Mpel.Invocation.get_target],
 * [method@Mpel.Invocation.get_args] and
 * [method@Mpel.Invocation.get_cancellable] may be called from any thread
 * too; the keyword-argument getters, which read the kwargs on first use,
 * only from the worker's.
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
  char         *target_name; /* a name that is no quark: see _mpel_invocation_new() */
  GVariant     *args;
  GVariant     *kwargs;       /* made from kwargs_bytes when asked */
  GBytes       *kwargs_bytes; /* as they came from the app, or NULL */
  GCancellable *cancellable;
  /* Where the invocation was made: the worker's context, and the thread
   * that runs it. Answers from other threads are sent from there. */
  GMainContext *context;
  GThread      *thread;
  guint64       id;
  /* In-process answers (remote objects): see _mpel_invocation_set_hook() */
  MpelInvocationHook hook;
  gpointer      hook_data;
  GDestroyNotify hook_destroy;
  guint         no_reply : 1;
  guint         returned : 1;
  guint         kwargs_checked : 1;
  guint         kwargs_malformed : 1;
};

G_DEFINE_FINAL_TYPE (MpelInvocation, mpel_invocation, G_TYPE_OBJECT)

static void
mpel_invocation_dispose (GObject *object)
{
  MpelInvocation *self = (MpelInvocation *)object;

  if (!self->returned && self->worker != NULL)
    mpel_invocation_return_error (self, MPEL_ERROR, MPEL_ERROR_FAILED,
                                  _("The handler of “%s” released its invocation without answering"),
                                  mpel_invocation_get_target (self));

  G_OBJECT_CLASS (mpel_invocation_parent_class)->dispose (object);
}

static void
mpel_invocation_finalize (GObject *object)
{
  MpelInvocation *self = (MpelInvocation *)object;

  g_clear_object (&self->worker);
  g_clear_pointer (&self->target_name, g_free);
  g_clear_pointer (&self->args, g_variant_unref);
  g_clear_pointer (&self->kwargs, g_variant_unref);
  g_clear_pointer (&self->kwargs_bytes, g_bytes_unref);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  if (self->hook_destroy != NULL)
    self->hook_destroy (self->hook_data);

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
  MpelInvocation *self = _mpel_invocation_new_for_target (worker, id, 0, target, args, no_reply);

  self->kwargs = kwargs ? g_variant_ref (kwargs) : NULL;

  return self;
}

MpelInvocation *
_mpel_invocation_new_for_target (MpelWorker *worker,
                                 guint64     id,
                                 GQuark      target_quark,
                                 const char *target,
                                 GVariant   *args,
                                 gboolean    no_reply)
{
  MpelInvocation *self;

  self = g_object_new (MPEL_TYPE_INVOCATION, NULL);
  self->worker = g_object_ref (worker);
  self->id = id;
  /* Quarks are never freed, and the app may send any number of names: a
   * name that is not a quark already (every handler's is, see
   * mpel_worker_add_handler()) is copied rather than interned. */
  self->target = target_quark != 0 ? target_quark : g_quark_try_string (target);
  if (self->target == 0)
    self->target_name = g_strdup (target);
  self->args = g_variant_ref (args);
  self->no_reply = !!no_reply;
  self->context = g_main_context_ref_thread_default ();
  self->thread = g_thread_self ();

  return self;
}

void
_mpel_invocation_take_kwargs_bytes (MpelInvocation *self,
                                    GBytes         *kwargs)
{
  g_clear_pointer (&self->kwargs, g_variant_unref);
  g_clear_pointer (&self->kwargs_bytes, g_bytes_unref);
  self->kwargs_bytes = kwargs;
  self->kwargs_checked = FALSE;
}

void
_mpel_invocation_cancel (MpelInvocation *self)
{
  if (self->returned)
    return;

  g_cancellable_cancel (mpel_invocation_get_cancellable (self));
}

/* @hook runs once, when the invocation answers, before anything is sent:
 * a remote object's mirrors go out ahead of a call's answer, and a getter
 * implemented by a handler is read in process. If it returns TRUE it took
 * the answer and nothing is sent. */
void
_mpel_invocation_set_hook (MpelInvocation     *self,
                           MpelInvocationHook  hook,
                           gpointer            data,
                           GDestroyNotify      destroy)
{
  if (self->hook_destroy != NULL)
    self->hook_destroy (self->hook_data);

  self->hook = hook;
  self->hook_data = data;
  self->hook_destroy = destroy;
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

  return self->target_name != NULL ? self->target_name : g_quark_to_string (self->target);
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

  if (self->kwargs == NULL && self->kwargs_bytes != NULL)
    self->kwargs = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT,
                                                                 self->kwargs_bytes, FALSE));
  if (self->kwargs == NULL)
    self->kwargs = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));

  return self->kwargs;
}

/* Finds @name in the kwargs where they lie (they are the bytes of the
 * frame they came in): no GVariant for the entries passed over. Their
 * framing is checked once, on the first look-up, as they come from the
 * app's process; a blob that does not hold is MPEL_VARDICT_MALFORMED for
 * every name. */
static MpelVardictResult
lookup_kwarg (MpelInvocation  *self,
              const char      *name,
              GVariant       **value)
{
  *value = NULL;

  if (self->kwargs_bytes == NULL && self->kwargs == NULL)
    return MPEL_VARDICT_ABSENT;

  if (!self->kwargs_checked)
    {
      self->kwargs_malformed = self->kwargs_bytes != NULL
                                 ? !_mpel_vardict_bytes_check (self->kwargs_bytes)
                                 : !_mpel_vardict_check (self->kwargs);
      self->kwargs_checked = TRUE;
    }
  if (self->kwargs_malformed)
    return MPEL_VARDICT_MALFORMED;

  if (self->kwargs_bytes != NULL)
    return _mpel_vardict_bytes_lookup (self->kwargs_bytes, name, NULL, value);

  return _mpel_vardict_lookup_any (self->kwargs, name, value);
}

/**
 * mpel_invocation_lookup_kwarg:
 * @self: a #MpelInvocation
 * @name: a keyword
 * @expected_type: (nullable): the type the value must have, or %NULL for any
 *
 * Looks up one keyword argument. A value of another type is taken for
 * none, silently: [method@Mpel.Invocation.get_kwarg] tells the app instead,
 * and converts numbers where it can.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if there is no
 *   such keyword, its value has another type, or the keyword arguments are
 *   malformed
 */
GVariant *
mpel_invocation_lookup_kwarg (MpelInvocation     *self,
                              const char         *name,
                              const GVariantType *expected_type)
{
  g_autoptr(GVariant) found = NULL;

  g_return_val_if_fail (MPEL_IS_INVOCATION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (lookup_kwarg (self, name, &found) != MPEL_VARDICT_FOUND)
    return NULL;

  if (expected_type != NULL && !g_variant_is_of_type (found, expected_type))
    return NULL;

  return g_steal_pointer (&found);
}

/* A number as its sign and magnitude, which holds every value of every
 * GVariant integer type exactly. */
typedef struct
{
  gboolean negative;
  guint64  magnitude;
} Number;

/* Makes @n a value of @type if it holds it exactly, or returns %NULL. */
static GVariant *
number_to_variant (Number              n,
                   const GVariantType *type)
{
  guint64 m = n.magnitude;

  switch (g_variant_type_peek_string (type)[0])
    {
    case 'y':
      return !n.negative && m <= G_MAXUINT8 ? g_variant_new_byte ((guint8) m) : NULL;
    case 'q':
      return !n.negative && m <= G_MAXUINT16 ? g_variant_new_uint16 ((guint16) m) : NULL;
    case 'u':
      return !n.negative && m <= G_MAXUINT32 ? g_variant_new_uint32 ((guint32) m) : NULL;
    case 't':
      return !n.negative || m == 0 ? g_variant_new_uint64 (m) : NULL;
    case 'n':
      if (m > (n.negative ? (guint64) G_MAXINT16 + 1 : (guint64) G_MAXINT16))
        return NULL;
      return g_variant_new_int16 (n.negative ? (gint16) -(gint64) m : (gint16) m);
    case 'i':
      if (m > (n.negative ? (guint64) G_MAXINT32 + 1 : (guint64) G_MAXINT32))
        return NULL;
      return g_variant_new_int32 (n.negative ? (gint32) -(gint64) m : (gint32) m);
    case 'x':
      if (m > (n.negative ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64))
        return NULL;
      /* -2^63 has no positive counterpart in a gint64 */
      return g_variant_new_int64 (n.negative ? (gint64) (~m + 1) : (gint64) m);
    case 'd':
      {
        /* Exact when its significant bits fit in a double's 53 */
        guint64 bits = m;

        while (bits != 0 && (bits & 1) == 0)
          bits >>= 1;
        if (bits >= (G_GUINT64_CONSTANT (1) << 53))
          return NULL;
        return g_variant_new_double (n.negative ? -(double) m : (double) m);
      }
    default:
      return NULL;
    }
}

/**
 * mpel_invocation_get_kwarg:
 * @self: a #MpelInvocation
 * @name: a keyword
 * @type: (nullable): the type the handler wants, or %NULL for any
 * @value: (out) (optional) (nullable) (transfer full): the value, of @type,
 *   or %NULL if the app did not give @name
 * @error: return location for an error
 *
 * Gets one keyword argument, converted to @type where that loses nothing:
 * an integer of any width or signedness to another that holds its value,
 * an integer to a double that holds it exactly, and a double that holds an
 * integer to an integer type that holds it. So a Python `int`, which
 * arrives as an `x`, serves a handler that wants an `i`.
 *
 * A keyword the app did not give is not an error: @value is set to %NULL and
 * the handler uses its default. A value of another type, or one that does
 * not fit, is: answer the event with the error, which names the keyword,
 * the target and both types.
 *
 * |[<!-- language="C" -->
 * g_autoptr(GVariant) kwarg = NULL;
 * g_autoptr(GError) error = NULL;
 * gint32 value2 = 1;
 *
 * if (!mpel_invocation_get_kwarg (invocation, "value2", G_VARIANT_TYPE_INT32, &kwarg, &error))
 *   {
 *     mpel_invocation_take_error (invocation, g_steal_pointer (&error));
 *     return;
 *   }
 * if (kwarg != NULL)
 *   value2 = g_variant_get_int32 (kwarg);
 * ]|
 *
 * The keyword arguments stay the bytes they came in until a handler asks:
 * each call finds @name where it lies, and the first checks that the
 * `a{sv}` is well framed. Keyword arguments that are not (from a broken or
 * hostile app) fail every call with %MPEL_ERROR_INVALID_ARGS, for this
 * invocation alone.
 *
 * Returns: (skip): %TRUE if @value is set (to %NULL when the keyword is
 *   absent); %FALSE with %MPEL_ERROR_INVALID_ARGS if the value cannot be
 *   had as @type, or the keyword arguments are malformed
 */
gboolean
mpel_invocation_get_kwarg (MpelInvocation      *self,
                           const char          *name,
                           const GVariantType  *type,
                           GVariant           **value,
                           GError             **error)
{
  g_autoptr(GVariant) found = NULL;
  GVariant *converted = NULL;
  Number n;

  g_return_val_if_fail (MPEL_IS_INVOCATION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (value != NULL)
    *value = NULL;

  switch (lookup_kwarg (self, name, &found))
    {
    case MPEL_VARDICT_ABSENT:
      return TRUE;
    case MPEL_VARDICT_MALFORMED:
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The keyword arguments of “%s” are malformed: “%s” cannot be read"),
                   mpel_invocation_get_target (self), name);
      return FALSE;
    case MPEL_VARDICT_FOUND:
    default:
      break;
    }

  if (type == NULL || g_variant_is_of_type (found, type))
    converted = g_steal_pointer (&found);
  else if (g_variant_type_is_basic (type) &&
           strchr ("yqutnixd", g_variant_type_peek_string (type)[0]) != NULL &&
           _mpel_value_read_integer (found, &n.negative, &n.magnitude))
    {
      converted = number_to_variant (n, type);
      if (converted == NULL)
        {
          g_autofree char *shown = g_variant_print (found, FALSE);

          g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                       _("The keyword argument “%s” of “%s” is %s, which does not fit in %c"),
                       name, mpel_invocation_get_target (self), shown,
                       g_variant_type_peek_string (type)[0]);
          return FALSE;
        }
      g_variant_ref_sink (converted);
    }
  else
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The keyword argument “%s” of “%s” must be %.*s, not %s"),
                   name, mpel_invocation_get_target (self),
                   (int) g_variant_type_get_string_length (type),
                   g_variant_type_peek_string (type),
                   g_variant_get_type_string (found));
      return FALSE;
    }

  if (value != NULL)
    *value = converted;
  else
    g_variant_unref (converted);

  return TRUE;
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

  /* A handler's thread may ask while the worker cancels */
  if (g_once_init_enter (&self->cancellable))
    g_once_init_leave (&self->cancellable, g_cancellable_new ());

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

/* An answer (or a streamed item) given from another thread than the
 * worker's, sent from the worker's context in the order given. */
typedef struct
{
  MpelInvocation *self;
  guint8 kind;
  guint32 flags;
  GVariant *body;
} Answer;

static void
answer_free (Answer *answer)
{
  g_object_unref (answer->self);
  g_clear_pointer (&answer->body, g_variant_unref);
  g_free (answer);
}

static void
send_answer (MpelInvocation *self,
             guint8          kind,
             guint32         flags,
             GVariant       *body)
{
  if (kind == MPEL_FRAME_ITEM)
    {
      _mpel_worker_send_reply (self->worker, self, kind, flags, body);
      return;
    }

  if (self->hook == NULL || !self->hook (self, kind, body, self->hook_data))
    _mpel_worker_send_reply (self->worker, self, kind, flags, body);
  _mpel_worker_invocation_ended (self->worker, self);
}

static gboolean
send_answer_cb (gpointer data)
{
  Answer *answer = data;

  send_answer (answer->self, answer->kind, answer->flags, answer->body);

  return G_SOURCE_REMOVE;
}

/* Handlers may answer from a thread of their own, as with
 * GDBusMethodInvocation: the worker's connection and tables are touched
 * only from its own thread, so such an answer goes through an idle there.
 * Idles of one priority run in the order they were added, so items and the
 * answer given from one thread arrive in that order. */
static void
answer (MpelInvocation *self,
        guint8          kind,
        guint32         flags,
        GVariant       *body)
{
  Answer *deferred;
  GSource *source;

  if (g_thread_self () == self->thread)
    {
      send_answer (self, kind, flags, body);
      return;
    }

  deferred = g_new0 (Answer, 1);
  deferred->self = g_object_ref (self);
  deferred->kind = kind;
  deferred->flags = flags;
  deferred->body = body ? g_variant_ref (body) : NULL;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[mpel] answer from a thread");
  g_source_set_callback (source, send_answer_cb, deferred, (GDestroyNotify) answer_free);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static void
finish (MpelInvocation *self,
        guint8          kind,
        guint32         flags,
        GVariant       *body)
{
  self->returned = TRUE;
  answer (self, kind, flags, body);
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

  finish (self, MPEL_FRAME_ERROR, MPEL_FRAME_FLAGS_NONE, _mpel_error_to_variant (error));
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
                                _mpel_error_to_variant (error), owned);
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
    answer (self, MPEL_FRAME_ITEM, MPEL_FRAME_FLAGS_NONE, owned);
}
