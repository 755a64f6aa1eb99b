/* mpel-proxy.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPEL_INSIDE) && !defined (MPEL_COMPILATION)
# error "Only <mpel.h> can be included directly."
#endif

#include <gio/gio.h>

#include "mpel-event.h"
#include "mpel-loop.h"
#include "mpel-types.h"

G_BEGIN_DECLS

#define MPEL_TYPE_PROXY (mpel_proxy_get_type())

MPEL_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (MpelProxy, mpel_proxy, MPEL, PROXY, GObject)

/**
 * MpelProxyClass:
 * @parent_class: the parent class
 * @changed: class closure of [signal@Mpel.Proxy::changed]
 * @remote_signal: class closure of [signal@Mpel.Proxy::remote-signal]
 *
 * The class of [class@Mpel.Proxy]. A subclass declares properties of its
 * own to have them mirrored, and getters with
 * [method@Mpel.ProxyClass.add_getter].
 */
struct _MpelProxyClass
{
  GObjectClass parent_class;

  void (*changed)       (MpelProxy  *self,
                         const char *name,
                         GVariant   *value);
  void (*remote_signal) (MpelProxy  *self,
                         const char *signal_name,
                         GVariant   *args);

  /*< private >*/
  gpointer _reserved[7];
};

MPEL_AVAILABLE_IN_ALL
MpelProxy          *mpel_proxy_new              (MpelLoop            *loop,
                                                 const char          *remote_type,
                                                 GVariant            *construct_values,
                                                 const char * const  *properties,
                                                 const char * const  *getters);
MPEL_AVAILABLE_IN_ALL
MpelProxy          *mpel_proxy_new_for_name     (MpelLoop            *loop,
                                                 const char          *name,
                                                 const char * const  *properties,
                                                 const char * const  *getters);
MPEL_AVAILABLE_IN_ALL
MpelProxy          *mpel_proxy_new_for_handle   (MpelProxy           *origin,
                                                 guint64              handle,
                                                 const char * const  *properties,
                                                 const char * const  *getters);
MPEL_AVAILABLE_IN_ALL
void                mpel_proxy_class_add_getter (MpelProxyClass      *klass,
                                                 const char          *getter);
MPEL_AVAILABLE_IN_ALL
MpelLoop           *mpel_proxy_get_loop         (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
const char         *mpel_proxy_get_remote_type  (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
const char         *mpel_proxy_get_remote_name  (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
const char * const *mpel_proxy_get_properties   (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
const char * const *mpel_proxy_get_getters      (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
GVariant           *mpel_proxy_get_construct_values (MpelProxy       *self);
MPEL_AVAILABLE_IN_ALL
guint64             mpel_proxy_get_handle       (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
MpelProxyState      mpel_proxy_get_state        (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
const GError       *mpel_proxy_get_error        (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
GVariant           *mpel_proxy_get_value        (MpelProxy           *self,
                                                 const char          *name);
MPEL_AVAILABLE_IN_ALL
void                mpel_proxy_set_value        (MpelProxy           *self,
                                                 const char          *name,
                                                 GVariant            *value);
MPEL_AVAILABLE_IN_ALL
MpelEvent          *mpel_proxy_call             (MpelProxy           *self,
                                                 const char          *method,
                                                 GVariant            *args);
MPEL_AVAILABLE_IN_ALL
MpelEvent          *mpel_proxy_call_full        (MpelProxy           *self,
                                                 const char          *method,
                                                 GVariant            *args,
                                                 GVariant            *kwargs);
MPEL_AVAILABLE_IN_ALL
void                mpel_proxy_call_async       (MpelProxy           *self,
                                                 const char          *method,
                                                 GVariant            *args,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
MPEL_AVAILABLE_IN_ALL
GVariant           *mpel_proxy_call_finish      (MpelProxy           *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
MPEL_AVAILABLE_IN_ALL
void                mpel_proxy_release          (MpelProxy           *self);
MPEL_AVAILABLE_IN_ALL
MpelEvent          *mpel_proxy_subscribe_signal (MpelProxy           *self,
                                                 const char          *signal_name);
MPEL_AVAILABLE_IN_ALL
void                mpel_proxy_unsubscribe_signal (MpelProxy         *self,
                                                   const char        *signal_name);

G_END_DECLS
