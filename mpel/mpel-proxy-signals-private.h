/* mpel-proxy-signals-private.h: remote signals and list changes on the
 * app's side (mpel-proxy-signals.c), and the seams of MpelListModel
 * (mpel-list-model.c) in MpelProxy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-proxy.h"
#include "mpel-proxy-registry-private.h"

G_BEGIN_DECLS

/* A watched list's change, in the order the worker sent it. FALSE and an
 * error (a protocol error of the worker) if it does not fit the list. */
typedef gboolean (*MpelProxyItemsFunc) (MpelProxy  *proxy,
                                        guint       position,
                                        guint       removed,
                                        guint       added,
                                        gpointer    user_data,
                                        GError    **error);

/* mpel-proxy-signals.c */
void     _mpel_proxy_signals_class_init    (MpelProxyClass     *klass);
/* A NOTIFY with a name: a remote signal or a list's change */
void     _mpel_proxy_signals_dispatch      (Registry           *registry,
                                            MpelChild          *child,
                                            guint64             handle,
                                            const char         *name,
                                            GVariant           *body);
void     _mpel_proxy_add_items_watcher     (MpelProxy          *self,
                                            MpelProxyItemsFunc  func,
                                            gpointer            user_data);
void     _mpel_proxy_remove_items_watcher  (MpelProxy          *self,
                                            MpelProxyItemsFunc  func,
                                            gpointer            user_data);

/* mpel-list-model.c: called by MpelProxy's constructed(); TRUE if @self is
 * an item the list model is making (a placeholder: its handle picked, its
 * object attached by mpel.list.fetch) */
gboolean _mpel_list_model_take_placeholder (MpelProxy          *self);

G_END_DECLS
