/* mpel-list-model.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPEL_INSIDE) && !defined (MPEL_COMPILATION)
# error "Only <mpel.h> can be included directly."
#endif

#include <gio/gio.h>

#include "mpel-proxy.h"
#include "mpel-version-macros.h"

G_BEGIN_DECLS

#define MPEL_TYPE_LIST_MODEL (mpel_list_model_get_type())

MPEL_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpelListModel, mpel_list_model, MPEL, LIST_MODEL, GObject)

MPEL_AVAILABLE_IN_ALL
MpelListModel *mpel_list_model_new             (MpelProxy     *remote_list,
                                                GType          item_type);
MPEL_AVAILABLE_IN_ALL
MpelProxy     *mpel_list_model_get_remote_list (MpelListModel *self);
MPEL_AVAILABLE_IN_ALL
guint          mpel_list_model_get_page_size   (MpelListModel *self);
MPEL_AVAILABLE_IN_ALL
void           mpel_list_model_set_page_size   (MpelListModel *self,
                                                guint          page_size);
MPEL_AVAILABLE_IN_ALL
guint          mpel_list_model_get_cache_size  (MpelListModel *self);
MPEL_AVAILABLE_IN_ALL
void           mpel_list_model_set_cache_size  (MpelListModel *self,
                                                guint          cache_size);
MPEL_AVAILABLE_IN_ALL
const GError  *mpel_list_model_get_error       (MpelListModel *self);

G_END_DECLS
