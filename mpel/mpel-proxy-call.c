/* mpel-proxy-call.c: the methods of a remote object, called through its
 * proxy, with or without keyword arguments, as events or async calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-event-private.h"
#include "mpel-loop-private.h"
#include "mpel-proxy-private.h"
#include "mpel-worker-objects-private.h"

/**
 * mpel_proxy_call:
 * @self: a #MpelProxy
 * @method: the method's name
 * @args: (nullable): its arguments, a tuple; a floating reference is sunk
 *
 * Calls a method of the remote object, after the calls and sets made
 * before. Its result is the method's return value (a tuple with the out
 * arguments when it has some); when the event ends, the mirrored values
 * the call changed are current.
 *
 * Returns: (transfer none): the event, which the loop keeps until it ends
 */
MpelEvent *
mpel_proxy_call (MpelProxy  *self,
                 const char *method,
                 GVariant   *args)
{
  return mpel_proxy_call_full (self, method, args, NULL);
}

/**
 * mpel_proxy_call_full:
 * @self: a #MpelProxy
 * @method: the method's name
 * @args: (nullable): its arguments, a tuple; a floating reference is sunk
 * @kwargs: (nullable): its keyword arguments, an `a{sv}`; a floating
 *   reference is sunk
 *
 * Calls a method of the remote object with keyword arguments, as
 * [method@Mpel.Proxy.call] does. A handler registered with
 * [method@Mpel.Worker.add_method] reads them with
 * [method@Mpel.Invocation.get_kwarg] (a Python or GJS method of a type
 * added with `add_type` takes them as keyword arguments, or a last
 * options object); a method called through GObject-Introspection takes
 * none and fails with %MPEL_ERROR_INVALID_ARGS when given some. Names
 * that start with `mpel.` are mpel's own: the event fails with
 * %MPEL_ERROR_INVALID_ARGS.
 *
 * Returns: (transfer none): the event, which the loop keeps until it ends
 */
MpelEvent *
mpel_proxy_call_full (MpelProxy  *self,
                      const char *method,
                      GVariant   *args,
                      GVariant   *kwargs)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  g_autoptr(GVariant) owned_kwargs = kwargs ? g_variant_ref_sink (kwargs) : NULL;
  g_autoptr(MpelEvent) event = NULL;
  g_autoptr(GError) reserved = NULL;
  GVariantDict dict;

  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (args == NULL || g_variant_is_of_type (args, G_VARIANT_TYPE_TUPLE), NULL);
  g_return_val_if_fail (kwargs == NULL || g_variant_is_of_type (kwargs, G_VARIANT_TYPE_VARDICT), NULL);

  event = mpel_event_new (method, args);

  /* The handle travels as the keyword "mpel.object", which the worker
   * takes out before the method sees the others (doc/protocol.md) */
  g_variant_dict_init (&dict, owned_kwargs);
  if (g_variant_dict_contains (&dict, MPEL_OBJECT_KWARG))
    reserved = g_error_new (MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                            _("The keyword argument “%s” of “%s” is mpel’s own"),
                            MPEL_OBJECT_KWARG, method);
  g_variant_dict_insert (&dict, MPEL_OBJECT_KWARG, "t", priv->handle);
  mpel_event_set_kwargs (event, g_variant_dict_end (&dict));

  if (reserved != NULL)
    {
      /* Refused by the loop, like an invalid event */
      g_clear_error (&event->invalid);
      event->invalid = g_steal_pointer (&reserved);
      mpel_loop_push (priv->loop, event);
    }
  else
    _mpel_proxy_push (self, event);

  /* The loop holds it until it ends */
  return event;
}

/* One mpel_proxy_call_async () until its event ends */
typedef struct
{
  GTask   *task;
  GSource *cancel_source;  /* watches the caller's cancellable, if any */
} ProxyCall;

static void
proxy_call_free (ProxyCall *call)
{
  if (call->cancel_source != NULL)
    {
      g_source_destroy (call->cancel_source);
      g_source_unref (call->cancel_source);
    }
  g_clear_object (&call->task);
  g_free (call);
}

static void
on_call_finished (MpelEvent *event,
                  gpointer   data)
{
  ProxyCall *call = data;
  GTask *task = g_steal_pointer (&call->task);

  /* The source goes first: the task's callback may drop the last
   * reference to the cancellable or run a main loop of its own. */
  proxy_call_free (call);

  if (mpel_event_get_state (event) == MPEL_EVENT_STATE_DONE)
    {
      GVariant *result = mpel_event_get_result (event);

      g_task_return_pointer (task, result ? g_variant_ref (result) : NULL, (GDestroyNotify) g_variant_unref);
    }
  else
    g_task_return_error (task, g_error_copy (mpel_event_get_error (event)));
  g_object_unref (task);
}

/* In the loop's context: a cancellable may be cancelled from any thread,
 * and an event may be touched only from there. */
static gboolean
on_call_cancelled (GCancellable *cancellable,
                   gpointer      data)
{
  mpel_event_cancel (MPEL_EVENT (data));

  return G_SOURCE_REMOVE;
}

/**
 * mpel_proxy_call_async:
 * @self: a #MpelProxy
 * @method: the method's name
 * @args: (nullable): its arguments, a tuple; a floating reference is sunk
 * @cancellable: (nullable): cancels the call
 * @callback: (scope async): called when the call ended
 * @user_data: data for @callback
 *
 * Calls a method of the remote object, as [method@Mpel.Proxy.call] does.
 */
void
mpel_proxy_call_async (MpelProxy           *self,
                       const char          *method,
                       GVariant            *args,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  ProxyCall *call;
  MpelEvent *event;

  g_return_if_fail (MPEL_IS_PROXY (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  call = g_new0 (ProxyCall, 1);
  call->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (call->task, mpel_proxy_call_async);

  event = g_object_ref (mpel_proxy_call (self, method, args));
  if (mpel_event_is_finished (event))
    on_call_finished (event, call);
  else
    {
      g_signal_connect (event, "finished", G_CALLBACK (on_call_finished), call);
      if (g_cancellable_is_cancelled (cancellable))
        mpel_event_cancel (event);
      else if (cancellable != NULL)
        {
          /* A source, not a handler of ::cancelled, which runs in the
           * thread that cancels. It holds the event until the call ends. */
          call->cancel_source = g_cancellable_source_new (cancellable);
          g_source_set_static_name (call->cancel_source, "[mpel] proxy call cancellable");
          g_source_set_callback (call->cancel_source, G_SOURCE_FUNC (on_call_cancelled),
                                 g_object_ref (event), g_object_unref);
          g_source_attach (call->cancel_source, mpel_proxy_get_loop (self)->context);
        }
    }
  g_object_unref (event);
}

/**
 * mpel_proxy_call_finish:
 * @self: a #MpelProxy
 * @result: the result given to the callback
 * @error: return location for the method's error
 *
 * Finishes a call started with [method@Mpel.Proxy.call_async].
 *
 * Returns: (transfer full) (nullable): the method's return value, %NULL
 *   for none or on error
 */
GVariant *
mpel_proxy_call_finish (MpelProxy     *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (MPEL_IS_PROXY (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
