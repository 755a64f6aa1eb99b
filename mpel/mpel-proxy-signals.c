/* mpel-proxy-signals.c: remote signals, and the changes of watched lists,
 * on the app's side
 *
 * A proxy subscribes to a signal of its remote object by name
 * (mpel.object.subscribe); the worker sends each emission as a NOTIFY
 * named after the signal, whose body is the tuple of its arguments, and
 * the proxy emits MpelProxy::remote-signal, detailed by that name. A
 * NOTIFY named MPEL_LIST_CHANGED_NAME is a watched list's change, given to
 * the list models watching it (mpel-list-model.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-event-private.h"
#include "mpel-marshal.h"
#include "mpel-peer-private.h"
#include "mpel-proxy-private.h"
#include "mpel-proxy-signals-private.h"
#include "mpel-worker-signals-private.h"

typedef struct
{
  MpelProxyItemsFunc func;
  gpointer           user_data;
} Watcher;

/* A proxy's subscriptions, as its qdata */
typedef struct
{
  GHashTable *counts;   /* signal name → subscriptions held */
  GHashTable *known;    /* every name ever subscribed to */
  GArray     *watchers; /* Watcher */
  gboolean    watched;  /* a list model ever watched it */
} Signals;

static guint remote_signal_id;
static GQuark signals_quark;

static void
signals_free (gpointer data)
{
  Signals *signals = data;

  g_hash_table_unref (signals->counts);
  g_hash_table_unref (signals->known);
  g_array_unref (signals->watchers);
  g_free (signals);
}

static Signals *
get_signals (MpelProxy *self,
             gboolean   create)
{
  Signals *signals = g_object_get_qdata (G_OBJECT (self), signals_quark);

  if (signals == NULL && create)
    {
      signals = g_new0 (Signals, 1);
      signals->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      signals->known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      signals->watchers = g_array_new (FALSE, FALSE, sizeof (Watcher));
      g_object_set_qdata_full (G_OBJECT (self), signals_quark, signals, signals_free);
    }

  return signals;
}

void
_mpel_proxy_signals_class_init (MpelProxyClass *klass)
{
  signals_quark = g_quark_from_static_string ("mpel-proxy-signals");

  /**
   * MpelProxy::remote-signal:
   * @self: the proxy
   * @signal_name: the remote object's signal, as subscribed to
   * @args: its arguments, a tuple (objects as their handles, `t`)
   *
   * The remote object emitted a signal the proxy subscribed to with
   * [method@Mpel.Proxy.subscribe_signal]. Detailed by @signal_name:
   * connect to `remote-signal::clicked`. The mirrored values are current
   * when it is emitted; a signal emitted during a call comes before the
   * call's answer. What the handlers return does not reach the worker.
   */
  remote_signal_id =
    g_signal_new ("remote-signal",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  G_STRUCT_OFFSET (MpelProxyClass, remote_signal),
                  NULL, NULL,
                  _mpel_marshal_VOID__STRING_VARIANT,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_VARIANT);
  g_signal_set_va_marshaller (remote_signal_id, G_TYPE_FROM_CLASS (klass),
                              _mpel_marshal_VOID__STRING_VARIANTv);
}

static void
on_subscribed (MpelEvent *event,
               gpointer   data)
{
  MpelProxy *self = data;
  Signals *signals = get_signals (self, TRUE);
  const char *name = g_object_get_data (G_OBJECT (event), "mpel-signal-name");
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (signals->counts, name));

  /* Refused (no such signal, or the proxy failed): not held */
  if (mpel_event_get_state (event) != MPEL_EVENT_STATE_DONE && count > 0)
    g_hash_table_insert (signals->counts, g_strdup (name), GUINT_TO_POINTER (count - 1));
}

/**
 * mpel_proxy_subscribe_signal:
 * @self: a #MpelProxy
 * @signal_name: a signal of the remote object, `name` or `name::detail`
 *
 * Has the worker forward @signal_name of the remote object: each emission
 * then emits [signal@Mpel.Proxy::remote-signal] on @self, detailed by
 * @signal_name, with the arguments converted as values are (objects become
 * their handles, for [ctor@Mpel.Proxy.new_for_handle]). Nothing is
 * forwarded that nobody subscribed to. Subscriptions are counted: each one
 * is ended by [method@Mpel.Proxy.unsubscribe_signal], and all of them when
 * the proxy is released.
 *
 * The subscription follows the calls made before it, in order. Its event
 * fails with %MPEL_ERROR_INVALID_ARGS if the remote object has no such
 * signal or an argument of it cannot cross (a `GParamSpec`, a pointer).
 *
 * Returns: (transfer none): the subscription's event, which the loop keeps
 *   until it ends
 */
MpelEvent *
mpel_proxy_subscribe_signal (MpelProxy  *self,
                             const char *signal_name)
{
  Signals *signals;
  g_autoptr(MpelEvent) event = NULL;
  guint count;

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);
  g_return_val_if_fail (signal_name != NULL && signal_name[0] != '\0', NULL);

  signals = get_signals (self, TRUE);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (signals->counts, signal_name));
  g_hash_table_insert (signals->counts, g_strdup (signal_name), GUINT_TO_POINTER (count + 1));
  g_hash_table_add (signals->known, g_strdup (signal_name));

  event = mpel_event_new ("mpel.object.subscribe",
                          g_variant_new ("(ts)", mpel_proxy_get_handle (self), signal_name));
  g_object_set_data_full (G_OBJECT (event), "mpel-signal-name", g_strdup (signal_name), g_free);
  g_signal_connect_object (event, "finished", G_CALLBACK (on_subscribed), self, 0);
  _mpel_proxy_push (self, event);

  /* The loop holds it until it ends */
  return event;
}

/**
 * mpel_proxy_unsubscribe_signal:
 * @self: a #MpelProxy
 * @signal_name: a signal subscribed to with
 *   [method@Mpel.Proxy.subscribe_signal]
 *
 * Ends one subscription to @signal_name. When none is left, the worker
 * disconnects from the signal and the proxy no longer emits
 * [signal@Mpel.Proxy::remote-signal] for it, not even for emissions
 * already on their way.
 */
void
mpel_proxy_unsubscribe_signal (MpelProxy  *self,
                               const char *signal_name)
{
  Signals *signals;
  g_autoptr(MpelEvent) event = NULL;
  guint count;

  g_return_if_fail (MPEL_IS_PROXY (self));
  g_return_if_fail (signal_name != NULL);

  signals = get_signals (self, FALSE);
  count = signals ? GPOINTER_TO_UINT (g_hash_table_lookup (signals->counts, signal_name)) : 0;
  g_return_if_fail (count > 0);

  g_hash_table_insert (signals->counts, g_strdup (signal_name), GUINT_TO_POINTER (count - 1));
  if (mpel_proxy_get_state (self) == MPEL_PROXY_STATE_FAILED)
    return;

  event = mpel_event_new ("mpel.object.unsubscribe",
                          g_variant_new ("(ts)", mpel_proxy_get_handle (self), signal_name));
  mpel_event_set_flags (event, MPEL_EVENT_FLAGS_NO_REPLY);
  _mpel_proxy_push (self, event);
}

void
_mpel_proxy_add_items_watcher (MpelProxy          *self,
                               MpelProxyItemsFunc  func,
                               gpointer            user_data)
{
  Signals *signals = get_signals (self, TRUE);
  Watcher watcher = { func, user_data };

  signals->watched = TRUE;
  g_array_append_val (signals->watchers, watcher);
}

void
_mpel_proxy_remove_items_watcher (MpelProxy          *self,
                                  MpelProxyItemsFunc  func,
                                  gpointer            user_data)
{
  Signals *signals = get_signals (self, FALSE);

  for (guint i = 0; signals != NULL && i < signals->watchers->len; i++)
    {
      Watcher *watcher = &g_array_index (signals->watchers, Watcher, i);

      if (watcher->func == func && watcher->user_data == user_data)
        {
          g_array_remove_index (signals->watchers, i);
          return;
        }
    }
}

static gboolean
dispatch_items_changed (MpelProxy  *proxy,
                        Signals    *signals,
                        GVariant   *body,
                        GError    **error)
{
  g_autoptr(GArray) watchers = NULL;
  guint position, removed, added;

  if (!g_variant_is_of_type (body, G_VARIANT_TYPE ("(uuu)")))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                   _("a list change carries %s, not (uuu)"), g_variant_get_type_string (body));
      return FALSE;
    }

  g_variant_get (body, "(uuu)", &position, &removed, &added);
  /* A watcher may go away while the change is given to the others */
  watchers = g_array_copy (signals->watchers);
  for (guint i = 0; i < watchers->len; i++)
    {
      Watcher *watcher = &g_array_index (watchers, Watcher, i);

      if (!watcher->func (proxy, position, removed, added, watcher->user_data, error))
        return FALSE;
    }

  return TRUE;
}

void
_mpel_proxy_signals_dispatch (Registry   *registry,
                              MpelChild  *child,
                              guint64     handle,
                              const char *name,
                              GVariant   *body)
{
  g_autoptr(MpelProxy) proxy = NULL;
  g_autoptr(GError) error = NULL;
  Signals *signals;
  MpelProxy *found;

  found = g_hash_table_lookup (registry->proxies, &handle);
  if (found == NULL)
    {
      /* It may cross the release of its object; a handle never given
       * out is a lie. */
      if (handle == 0 || handle > registry->last_handle)
        _mpel_peer_protocol_error (child->conn, _("the signal “%s” names the object %" G_GUINT64_FORMAT ", which does not exist"),
                                   name, handle);
      return;
    }

  proxy = g_object_ref (found);
  if (((MpelProxyPrivate *) mpel_proxy_get_instance_private (proxy))->child != child)
    {
      _mpel_peer_protocol_error (child->conn, _("the signal “%s” names the object %" G_GUINT64_FORMAT ", which another worker holds"),
                                 name, handle);
      return;
    }

  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE_TUPLE))
    {
      _mpel_peer_protocol_error (child->conn, _("the signal “%s” of the object %" G_GUINT64_FORMAT " carries %s, not a tuple"),
                                 name, handle, body ? g_variant_get_type_string (body) : "nothing");
      return;
    }

  signals = get_signals (proxy, FALSE);
  if (g_str_equal (name, MPEL_LIST_CHANGED_NAME))
    {
      /* Watchers gone: a change that crossed the end of the watch */
      if (signals == NULL || !signals->watched)
        _mpel_peer_protocol_error (child->conn, _("a list change names the object %" G_GUINT64_FORMAT ", which is not a watched list"),
                                   handle);
      else if (!dispatch_items_changed (proxy, signals, body, &error))
        _mpel_peer_protocol_error (child->conn, _("the list %" G_GUINT64_FORMAT ": %s"), handle, error->message);
      return;
    }

  if (signals == NULL || !g_hash_table_contains (signals->known, name))
    {
      _mpel_peer_protocol_error (child->conn, _("the signal “%s” of the object %" G_GUINT64_FORMAT " was never subscribed to"),
                                 name, handle);
      return;
    }

  /* Unsubscribed: it crossed the unsubscription */
  if (GPOINTER_TO_UINT (g_hash_table_lookup (signals->counts, name)) == 0)
    return;

  g_signal_emit (proxy, remote_signal_id, g_quark_from_string (name), name, body);
}
