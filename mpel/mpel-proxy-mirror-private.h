/* mpel-proxy-mirror-private.h: a proxy's mirrored values
 * (mpel-proxy-mirror.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-event.h"
#include "mpel-proxy.h"

G_BEGIN_DECLS

void       _mpel_proxy_resolve_declared (MpelProxy   *self);
gboolean   _mpel_proxy_apply_values     (MpelProxy   *self,
                                         GVariant    *values,
                                         gboolean     from_notify,
                                         GError     **error);
gboolean   _mpel_proxy_apply_notify     (MpelProxy   *self,
                                         GVariant    *values,
                                         GError     **error);
MpelEvent *_mpel_proxy_begin_set        (MpelProxy   *self,
                                         const char  *name,
                                         GVariant    *value);
void       _mpel_proxy_mirror_get       (MpelProxy   *self,
                                         GParamSpec  *pspec,
                                         GValue      *value);
void       _mpel_proxy_mirror_set       (MpelProxy   *self,
                                         GParamSpec  *pspec,
                                         const GValue *value);
GQuark     _mpel_proxy_getters_quark    (void);
void       _mpel_proxy_merge_names      (char               ***names,
                                         const char * const   *more);

G_END_DECLS
