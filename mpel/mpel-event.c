/* mpel-event.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "mpel-enums.h"
#include "mpel-child-private.h"
#include "mpel-event-private.h"
#include "mpel-marshal.h"
#include "mpel-util-private.h"

/**
 * MpelEvent:
 *
 * One unit of work sent to a worker: a target name and its arguments.
 *
 * Most events are made by [method@Mpel.Loop.add_event] or
 * [method@Mpel.Loop.call_async]. Make one with [ctor@Mpel.Event.new] to set
 * options first — keyword arguments, a key, flags, a priority or a timeout —
 * then give it to [method@Mpel.Loop.push].
 *
 * An event ends exactly once: with a result ([enum@Mpel.EventState].DONE),
 * an error (FAILED) or because the caller cancelled it (CANCELLED). The
 * [signal@Mpel.Event::finished] signal tells when; streamed items arrive
 * before it through [signal@Mpel.Event::item].
 *
 * Options can be set only before the event is pushed.
 */

G_DEFINE_FINAL_TYPE (MpelEvent, mpel_event, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TARGET,
  PROP_ARGS,
  PROP_KWARGS,
  PROP_KEY,
  PROP_FLAGS,
  PROP_PRIORITY,
  PROP_TIMEOUT,
  PROP_ID,
  PROP_STATE,
  PROP_RESULT,
  PROP_ERROR,
  N_PROPS
};

enum {
  FINISHED,
  ITEM,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint notify_signal_id;

static GVariant *
empty_tuple (void)
{
  static GVariant *unit;

  if (g_once_init_enter (&unit))
    g_once_init_leave (&unit, g_variant_ref_sink (g_variant_new_tuple (NULL, 0)));

  return g_variant_ref (unit);
}

/* g_quark_from_string (@target), which takes GLib's global quark lock and
 * hashes the name, for the target of most events: an app sends many events
 * to few targets, so the last one's quark is kept. Quarks and their
 * strings live for ever, and g_quark_to_string () takes no lock. */
static GQuark
target_quark (const char *target)
{
  static guint last_target;
  GQuark quark = g_atomic_int_get (&last_target);

  /* the property set to NULL */
  if (target == NULL)
    return 0;

  if (quark != 0 && strcmp (g_quark_to_string (quark), target) == 0)
    return quark;

  quark = g_quark_from_string (target);
  g_atomic_int_set (&last_target, quark);

  return quark;
}

/* g_object_notify_by_pspec (), skipped when nobody listens: setting an
 * option is on the path of every event made with options, and the notify
 * machinery costs more than the rest of it. */
static void
notify (MpelEvent *self,
        guint      prop_id)
{
  if (g_signal_has_handler_pending (self, notify_signal_id,
                                    g_param_spec_get_name_quark (properties[prop_id]), FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

/* Takes a reference (sinking a floating one) and makes a tuple of it. */
static GVariant *
normalize_args (GVariant *args)
{
  GVariant *ret;

  if (args == NULL)
    return empty_tuple ();

  g_variant_ref_sink (args);
  /* g_variant_is_of_type (args, G_VARIANT_TYPE_TUPLE), without walking
   * two type strings: only a tuple's type starts with a parenthesis. */
  if (g_variant_get_type_string (args)[0] == '(')
    return args;

  ret = g_variant_ref_sink (g_variant_new_tuple (&args, 1));
  g_variant_unref (args);

  return ret;
}

static void
mpel_event_finalize (GObject *object)
{
  MpelEvent *self = (MpelEvent *)object;

  g_assert (self->task == NULL);
  g_assert (self->timeout_source == NULL);
  g_assert (self->kill_source == NULL);
  g_assert (self->cancel_source == NULL);

  g_clear_pointer (&self->args, g_variant_unref);
  g_clear_pointer (&self->kwargs, g_variant_unref);
  g_clear_pointer (&self->key, g_free);
  g_clear_pointer (&self->result, g_variant_unref);
  g_clear_error (&self->error);
  g_clear_error (&self->invalid);
  g_clear_pointer (&self->error_details, g_variant_unref);
  g_clear_pointer (&self->pinned, _mpel_child_unref);

  G_OBJECT_CLASS (mpel_event_parent_class)->finalize (object);
}

static void
mpel_event_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  MpelEvent *self = MPEL_EVENT (object);

  switch (prop_id)
    {
    case PROP_TARGET:
      g_value_set_string (value, mpel_event_get_target (self));
      break;

    case PROP_ARGS:
      g_value_set_variant (value, mpel_event_get_args (self));
      break;

    case PROP_KWARGS:
      g_value_set_variant (value, mpel_event_get_kwargs (self));
      break;

    case PROP_KEY:
      g_value_set_string (value, self->key);
      break;

    case PROP_FLAGS:
      g_value_set_flags (value, self->flags);
      break;

    case PROP_PRIORITY:
      g_value_set_int (value, self->priority);
      break;

    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;

    case PROP_ID:
      g_value_set_uint64 (value, self->id);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_RESULT:
      g_value_set_variant (value, self->result);
      break;

    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_event_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  MpelEvent *self = MPEL_EVENT (object);

  switch (prop_id)
    {
    case PROP_TARGET:
      g_return_if_fail (!self->pushed);
      self->target = target_quark (g_value_get_string (value));
      break;

    case PROP_ARGS:
      g_return_if_fail (!self->pushed);
      /* NULL, which mpel_event_get_args () gives as () when asked */
      g_clear_pointer (&self->args, g_variant_unref);
      if (g_value_get_variant (value) != NULL)
        self->args = normalize_args (g_value_get_variant (value));
      break;

    case PROP_KWARGS:
      mpel_event_set_kwargs (self, g_value_get_variant (value));
      break;

    case PROP_KEY:
      mpel_event_set_key (self, g_value_get_string (value));
      break;

    case PROP_FLAGS:
      mpel_event_set_flags (self, g_value_get_flags (value));
      break;

    case PROP_PRIORITY:
      mpel_event_set_priority (self, g_value_get_int (value));
      break;

    case PROP_TIMEOUT:
      mpel_event_set_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_event_class_init (MpelEventClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mpel_event_finalize;
  object_class->get_property = mpel_event_get_property;
  object_class->set_property = mpel_event_set_property;

  /**
   * MpelEvent:target:
   *
   * The name of the handler that runs the event in the worker.
   *
   * Like the options, it can be set only before the event is pushed.
   * It is not construct-only: GObject would then set it, and
   * [property@Mpel.Event:args], to their defaults for every event made,
   * a cost on the path of every event.
   */
  properties[PROP_TARGET] =
    g_param_spec_string ("target", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:args:
   *
   * The positional arguments, always a tuple. Like the options, they can
   * be set only before the event is pushed.
   */
  properties[PROP_ARGS] =
    g_param_spec_variant ("args", NULL, NULL,
                          G_VARIANT_TYPE_TUPLE, NULL,
                          (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:kwargs:
   *
   * The keyword arguments, a `a{sv}` dictionary.
   */
  properties[PROP_KWARGS] =
    g_param_spec_variant ("kwargs", NULL, NULL,
                          G_VARIANT_TYPE_VARDICT, NULL,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:key:
   *
   * A string of the caller's that names the event in output handlers.
   * mpel does not look at it.
   */
  properties[PROP_KEY] =
    g_param_spec_string ("key", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:flags:
   *
   * Flags, such as %MPEL_EVENT_FLAGS_NO_REPLY.
   */
  properties[PROP_FLAGS] =
    g_param_spec_flags ("flags", NULL, NULL,
                        MPEL_TYPE_EVENT_FLAGS, MPEL_EVENT_FLAGS_NONE,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:priority:
   *
   * The priority among queued events, as for GLib sources: lower values go
   * first. Events of equal priority keep the order they were pushed in.
   */
  properties[PROP_PRIORITY] =
    g_param_spec_int ("priority", NULL, NULL,
                      G_MININT, G_MAXINT, G_PRIORITY_DEFAULT,
                      (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:timeout:
   *
   * Milliseconds from the push after which the event fails with
   * %MPEL_ERROR_TIMED_OUT; 0 for none.
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:id:
   *
   * The id the loop gave the event when it was pushed; 0 before.
   */
  properties[PROP_ID] =
    g_param_spec_uint64 ("id", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:state:
   *
   * Where the event is in its life cycle.
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       MPEL_TYPE_EVENT_STATE, MPEL_EVENT_STATE_QUEUED,
                       (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:result:
   *
   * What the handler returned, once the event is DONE; %NULL if it returned
   * no value.
   */
  properties[PROP_RESULT] =
    g_param_spec_variant ("result", NULL, NULL,
                          G_VARIANT_TYPE_ANY, NULL,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * MpelEvent:error:
   *
   * Why the event failed or was cancelled, once it is FAILED or CANCELLED.
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MpelEvent::finished:
   * @self: the event
   *
   * Emitted once, when the event ends, whatever the way. Look at
   * [property@Mpel.Event:state] to know which.
   */
  signals[FINISHED] =
    g_signal_new ("finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);

  /**
   * MpelEvent::item:
   * @self: the event
   * @item: the item
   *
   * Emitted for every item the handler streams with
   * [method@Mpel.Invocation.yield], before [signal@Mpel.Event::finished].
   */
  signals[ITEM] =
    g_signal_new ("item",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  _mpel_marshal_VOID__VARIANT,
                  G_TYPE_NONE, 1, G_TYPE_VARIANT);
  g_signal_set_va_marshaller (signals[ITEM],
                              G_TYPE_FROM_CLASS (klass),
                              _mpel_marshal_VOID__VARIANTv);

  notify_signal_id = g_signal_lookup ("notify", G_TYPE_OBJECT);
}

static void
mpel_event_init (MpelEvent *self)
{
  self->link.data = self;
  self->state = MPEL_EVENT_STATE_QUEUED;
  self->priority = G_PRIORITY_DEFAULT;
}

/**
 * mpel_event_new:
 * @target: the name of the handler in the worker
 * @args: (nullable): the arguments: a tuple, or a single value that is
 *   wrapped into a one-element tuple, or %NULL for none
 *
 * Makes an event to give to [method@Mpel.Loop.push]. A floating @args is
 * sunk.
 *
 * Returns: (transfer full): a new event
 */
MpelEvent *
mpel_event_new (const char *target,
                GVariant   *args)
{
  MpelEvent *self;

  g_return_val_if_fail (target != NULL, NULL);

  self = (MpelEvent *) g_object_new_with_properties (MPEL_TYPE_EVENT, 0, NULL, NULL);
  self->target = target_quark (target);
  self->args = normalize_args (args);

  return self;
}

/**
 * mpel_event_get_target:
 * @self: a #MpelEvent
 *
 * Gets the name of the handler that runs the event.
 *
 * Returns: the target name
 */
const char *
mpel_event_get_target (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), NULL);

  return g_quark_to_string (self->target);
}

/**
 * mpel_event_get_args:
 * @self: a #MpelEvent
 *
 * Gets the positional arguments.
 *
 * Returns: (transfer none): the arguments, a tuple
 */
GVariant *
mpel_event_get_args (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), NULL);

  if (self->args == NULL)
    self->args = empty_tuple ();

  return self->args;
}

/**
 * mpel_event_get_kwargs:
 * @self: a #MpelEvent
 *
 * Gets the keyword arguments.
 *
 * Returns: (transfer none) (nullable): the keyword arguments, an `a{sv}`,
 *   or %NULL if none were set
 */
GVariant *
mpel_event_get_kwargs (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), NULL);

  return self->kwargs;
}

/**
 * mpel_event_set_kwargs:
 * @self: a #MpelEvent
 * @kwargs: (nullable): an `a{sv}` of keyword arguments
 *
 * Sets the keyword arguments, which the handler reads with
 * [method@Mpel.Invocation.get_kwargs]. A floating @kwargs is sunk.
 *
 * Anything but a well-formed `a{sv}` (another type, or keys and strings
 * that are not UTF-8) is not kept: the event then fails with
 * %MPEL_ERROR_INVALID_ARGS when it is pushed, and never reaches a worker.
 */
void
mpel_event_set_kwargs (MpelEvent *self,
                       GVariant  *kwargs)
{
  g_autoptr(GVariant) owned = kwargs != NULL ? g_variant_ref_sink (kwargs) : NULL;

  g_return_if_fail (MPEL_IS_EVENT (self));
  g_return_if_fail (!self->pushed);

  g_clear_error (&self->invalid);
  g_clear_pointer (&self->kwargs, g_variant_unref);

  /* Anything else is refused when the event is pushed, for this event
   * alone. The worker would read an a{sv} that is not in normal form (a
   * key that is not UTF-8, say) as empty strings and zeros. */
  if (owned != NULL && strcmp (g_variant_get_type_string (owned), "a{sv}") != 0)
    self->invalid = g_error_new (MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                 _("The keyword arguments of “%s” must be an a{sv}, not %s"),
                                 mpel_event_get_target (self), g_variant_get_type_string (owned));
  else if (owned != NULL && !g_variant_is_normal_form (owned))
    self->invalid = g_error_new (MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                 _("The keyword arguments of “%s” are not a valid a{sv}: "
                                   "a key or a value is not well formed, such as a string "
                                   "that is not UTF-8"),
                                 mpel_event_get_target (self));
  else
    self->kwargs = g_steal_pointer (&owned);

  notify (self, PROP_KWARGS);
}

/* Arguments made of values (a tuple of a few numbers and strings) are a
 * tree of GVariants, a few allocations each. Serialised, they are one
 * block, which is written out as it is when the event is sent: an event
 * queued in a long flood keeps fewer and smaller allocations, and sending
 * it reads one block rather than chase the tree. Large arguments stay as
 * they are: serialising them here would copy them once more. */
#define COMPACT_MAX_SIZE 4096

void
_mpel_event_compact (MpelEvent *self)
{
  if (self->args != NULL && g_variant_get_size (self->args) <= COMPACT_MAX_SIZE)
    g_variant_get_data (self->args);
}

/* Why the event cannot be sent, or %NULL. A worker takes a target name that
 * is not UTF-8 for a protocol error and ends the session, failing the
 * events of others with it: such an event is refused before it goes. */
GError *
_mpel_event_check (MpelEvent *self)
{
  const char *target = mpel_event_get_target (self);

  if (target == NULL || target[0] == '\0')
    return g_error_new_literal (MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                _("An event needs a target name"));

  if (G_UNLIKELY (!g_utf8_validate (target, -1, NULL)))
    {
      g_autofree char *shown = g_utf8_make_valid (target, -1);

      return g_error_new (MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                          _("The target name “%s” is not valid UTF-8"), shown);
    }

  if (self->invalid != NULL)
    return g_error_copy (self->invalid);

  return NULL;
}

/**
 * mpel_event_get_key:
 * @self: a #MpelEvent
 *
 * Gets the caller's key for the event.
 *
 * Returns: (nullable): the caller's key for the event
 */
const char *
mpel_event_get_key (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), NULL);

  return self->key;
}

/**
 * mpel_event_set_key:
 * @self: a #MpelEvent
 * @key: (nullable): a key
 *
 * Sets a key that output handlers can use to recognise the event.
 */
void
mpel_event_set_key (MpelEvent  *self,
                    const char *key)
{
  g_return_if_fail (MPEL_IS_EVENT (self));

  if (_mpel_set_str (&self->key, key))
    notify (self, PROP_KEY);
}

/**
 * mpel_event_get_flags:
 * @self: a #MpelEvent
 *
 * Gets the event's flags.
 *
 * Returns: the event's flags
 */
MpelEventFlags
mpel_event_get_flags (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), 0);

  return self->flags;
}

/**
 * mpel_event_set_flags:
 * @self: a #MpelEvent
 * @flags: flags
 *
 * Sets the flags. Only before the event is pushed.
 */
void
mpel_event_set_flags (MpelEvent      *self,
                      MpelEventFlags  flags)
{
  g_return_if_fail (MPEL_IS_EVENT (self));
  g_return_if_fail (!self->pushed);

  if (self->flags == flags)
    return;

  self->flags = flags;
  notify (self, PROP_FLAGS);
}

/**
 * mpel_event_get_priority:
 * @self: a #MpelEvent
 *
 * Gets the priority among queued events.
 *
 * Returns: the priority; lower values go first
 */
int
mpel_event_get_priority (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), 0);

  return self->priority;
}

/**
 * mpel_event_set_priority:
 * @self: a #MpelEvent
 * @priority: a priority, such as %G_PRIORITY_DEFAULT
 *
 * Sets the priority among queued events. Only before the event is pushed.
 */
void
mpel_event_set_priority (MpelEvent *self,
                         int        priority)
{
  g_return_if_fail (MPEL_IS_EVENT (self));
  g_return_if_fail (!self->pushed);

  if (self->priority == priority)
    return;

  self->priority = priority;
  notify (self, PROP_PRIORITY);
}

/**
 * mpel_event_get_timeout:
 * @self: a #MpelEvent
 *
 * Gets the timeout of the event.
 *
 * Returns: the timeout in milliseconds, 0 for none
 */
guint
mpel_event_get_timeout (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), 0);

  return self->timeout;
}

/**
 * mpel_event_set_timeout:
 * @self: a #MpelEvent
 * @timeout_msec: milliseconds, or 0 for no timeout
 *
 * Sets how long after the push the event may take before it fails with
 * %MPEL_ERROR_TIMED_OUT. A running event that times out is cancelled in the
 * worker too. Only before the event is pushed.
 */
void
mpel_event_set_timeout (MpelEvent *self,
                        guint      timeout_msec)
{
  g_return_if_fail (MPEL_IS_EVENT (self));
  g_return_if_fail (!self->pushed);

  if (self->timeout == timeout_msec)
    return;

  self->timeout = timeout_msec;
  notify (self, PROP_TIMEOUT);
}

/**
 * mpel_event_get_id:
 * @self: a #MpelEvent
 *
 * Gets the id the loop gave the event.
 *
 * Returns: the id given by the loop, unique within it; 0 before the push
 */
guint64
mpel_event_get_id (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), 0);

  return self->id;
}

/**
 * mpel_event_get_state:
 * @self: a #MpelEvent
 *
 * Gets where the event is in its life cycle.
 *
 * Returns: the state of the event
 */
MpelEventState
mpel_event_get_state (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), 0);

  return self->state;
}

/**
 * mpel_event_is_finished:
 * @self: a #MpelEvent
 *
 * Tells whether the event has ended.
 *
 * Returns: whether the event has ended (DONE, FAILED or CANCELLED)
 */
gboolean
mpel_event_is_finished (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), FALSE);

  return self->state >= MPEL_EVENT_STATE_DONE;
}

/**
 * mpel_event_get_result:
 * @self: a #MpelEvent
 *
 * Gets what the handler returned.
 *
 * Returns: (transfer none) (nullable): the result once the event is DONE,
 *   or %NULL
 */
GVariant *
mpel_event_get_result (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), NULL);

  return self->result;
}

/**
 * mpel_event_get_error:
 * @self: a #MpelEvent
 *
 * Gets why the event failed or was cancelled.
 *
 * Returns: (transfer none) (nullable): the error once the event is FAILED
 *   or CANCELLED, or %NULL
 */
const GError *
mpel_event_get_error (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), NULL);

  return self->error;
}

/**
 * mpel_event_get_error_details:
 * @self: a #MpelEvent
 *
 * Gets what the worker told about the error beyond its domain, code and
 * message: the `meta` of the ERROR frame, sent with
 * [method@Mpel.Invocation.return_error_details]. The keys mpel defines are
 * `type` (`s`), the name of the exception type that the handler raised, such
 * as `KeyError`, and `traceback` (`s`), the handler's traceback as text.
 * They come from the worker: check each value's type before use, as
 * g_variant_lookup() does.
 *
 * Returns: (transfer none) (nullable): an `a{sv}`, or %NULL if the event did
 *   not fail in the worker or the worker told nothing more
 */
GVariant *
mpel_event_get_error_details (MpelEvent *self)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), NULL);

  return self->error_details;
}

/**
 * mpel_event_propagate:
 * @self: a finished #MpelEvent
 * @result: (out) (optional) (nullable) (transfer full): the result
 * @error: the error, if the event did not end with a result
 *
 * Gives the outcome of a finished event the way a `_finish` function does,
 * which suits bindings: an exception in Python and JavaScript, and
 * otherwise the result alone (%NULL when the handler returned no value).
 *
 * Returns: (skip): %TRUE if the event is DONE
 */
gboolean
mpel_event_propagate (MpelEvent  *self,
                      GVariant  **result,
                      GError    **error)
{
  g_return_val_if_fail (MPEL_IS_EVENT (self), FALSE);

  if (result != NULL)
    *result = NULL;

  switch ((MpelEventState) self->state)
    {
    case MPEL_EVENT_STATE_DONE:
      if (result != NULL && self->result != NULL)
        *result = g_variant_ref (self->result);
      return TRUE;

    case MPEL_EVENT_STATE_FAILED:
    case MPEL_EVENT_STATE_CANCELLED:
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;

    case MPEL_EVENT_STATE_QUEUED:
    case MPEL_EVENT_STATE_RUNNING:
    default:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                   _("Event “%s” has not finished yet"), mpel_event_get_target (self));
      return FALSE;
    }
}

/**
 * mpel_event_cancel:
 * @self: a #MpelEvent
 *
 * Cancels the event. One not yet sent is removed from the queue; one that is
 * running is cancelled in the worker (its invocation's cancellable fires)
 * and ends here at once. Either way it ends CANCELLED with
 * %G_IO_ERROR_CANCELLED, and [signal@Mpel.Loop::output] is not emitted for
 * it. Does nothing if the event has already ended.
 */
void
mpel_event_cancel (MpelEvent *self)
{
  g_return_if_fail (MPEL_IS_EVENT (self));

  if (self->state >= MPEL_EVENT_STATE_DONE)
    return;

  if (self->loop != NULL)
    {
      _mpel_loop_cancel_event (self->loop, self,
                               g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            _("Event “%s” was cancelled"),
                                            mpel_event_get_target (self)));
      return;
    }

  /* Not pushed yet: a later push ends it at once. */
  _mpel_event_finish (self, MPEL_EVENT_STATE_CANCELLED, NULL,
                      g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   _("Event “%s” was cancelled"),
                                   mpel_event_get_target (self)));
}

void
_mpel_event_attach (MpelEvent *self,
                    MpelLoop  *loop,
                    guint64    id)
{
  self->loop = loop;
  self->id = id;
  self->pushed = TRUE;
}

void
_mpel_event_set_error_details (MpelEvent *self,
                               GVariant  *details)
{
  g_assert (details == NULL || g_variant_is_of_type (details, G_VARIANT_TYPE_VARDICT));

  if (details != NULL)
    g_variant_ref_sink (details);
  g_clear_pointer (&self->error_details, g_variant_unref);
  self->error_details = details;
}

void
_mpel_event_set_running (MpelEvent *self)
{
  self->state = MPEL_EVENT_STATE_RUNNING;
}

/* Ends the event: the only place where state becomes final, so an event
 * ends once. Takes @result (a reference) and @error. */
gboolean
_mpel_event_finish (MpelEvent      *self,
                    MpelEventState  state,
                    GVariant       *result,
                    GError         *error)
{
  g_assert (state >= MPEL_EVENT_STATE_DONE);

  if (self->state >= MPEL_EVENT_STATE_DONE)
    {
      g_clear_pointer (&result, g_variant_unref);
      g_clear_error (&error);
      return FALSE;
    }

  self->state = state;
  self->result = result;
  self->error = error;

  /* Most events are watched by nobody: skip the emissions then, as they
   * cost more than the rest of the event's ending. */
  notify (self, PROP_STATE);
  if (g_signal_has_handler_pending (self, signals[FINISHED], 0, TRUE))
    g_signal_emit (self, signals[FINISHED], 0);

  return TRUE;
}

void
_mpel_event_emit_item (MpelEvent *self,
                       GVariant  *item)
{
  g_signal_emit (self, signals[ITEM], 0, item);
}
