/* mpel-proxy-private.h: what the parts of MpelProxy share — its private
 * struct, and the seams between mpel-proxy.c, mpel-proxy-registry.c and
 * mpel-proxy-mirror.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-loop-private.h"
#include "mpel-proxy.h"
#include "mpel-proxy-registry-private.h"

G_BEGIN_DECLS

typedef struct
{
  MpelLoop       *loop;
  char           *remote_type;
  char           *remote_name;
  char          **properties;
  char          **getters;
  GVariant       *construct_values;
  MpelProxyState  state;
  GError         *error;

  Registry       *registry;
  MpelChild      *child;
  guint64         handle;
  GHashTable     *values;        /* name → GVariant */
  GHashTable     *pending_sets;  /* name → count of sets in flight */
  GHashTable     *confirmed;     /* name → GVariant: the worker's last word */
  gboolean        released;
  guint64         adopted;       /* the worker's handle, for new_for_handle */
  gboolean        waiting;       /* for a worker to run: see proxy_start() */
  GQueue          deferred;      /* MpelEvent (ref): pushed once a worker runs */
} MpelProxyPrivate;

/* Set by mpel_proxy_get_type() */
extern gint _mpel_proxy_private_offset;

static inline MpelProxyPrivate *
mpel_proxy_get_instance_private (MpelProxy *self)
{
  return G_STRUCT_MEMBER_P (self, _mpel_proxy_private_offset);
}

/* mpel-proxy.c */
void _mpel_proxy_fail         (MpelProxy  *self,
                               GError     *error);
void _mpel_proxy_flush_deferred (MpelProxy *self);
void _mpel_proxy_push           (MpelProxy *self,
                                 MpelEvent *event);
void _mpel_proxy_emit_changed (MpelProxy  *self,
                               const char *name,
                               GVariant   *value);

G_END_DECLS
