/* mpel-proxy-registry-private.h: the per-loop table of proxies
 * (mpel-proxy-registry.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-loop-private.h"

G_BEGIN_DECLS

/* One per loop, as its qdata: the proxies by handle, the NOTIFY handler,
 * the death hook and the releases waiting to be sent. */
typedef struct
{
  MpelLoop   *loop;          /* weak: the registry is the loop's */
  GHashTable *proxies;       /* &handle → MpelProxy (weak) */
  GHashTable *releases;      /* MpelChild (ref) → GArray of Release */
  GSource    *release_source;
  guint64     last_handle;
  guint       died_hook;
} Registry;

Registry *_mpel_proxy_registry_get     (MpelLoop  *loop);
void      _mpel_proxy_registry_release (Registry  *registry,
                                        MpelChild *child,
                                        guint64    handle);
void      _mpel_proxy_registry_flush   (MpelLoop  *loop);

G_END_DECLS
