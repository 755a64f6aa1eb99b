/* mpel-invocation.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPEL_INSIDE) && !defined (MPEL_COMPILATION)
# error "Only <mpel.h> can be included directly."
#endif

#include <gio/gio.h>

#include "mpel-types.h"

G_BEGIN_DECLS

#define MPEL_TYPE_INVOCATION (mpel_invocation_get_type())

MPEL_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpelInvocation, mpel_invocation, MPEL, INVOCATION, GObject)

MPEL_AVAILABLE_IN_ALL
MpelWorker   *mpel_invocation_get_worker        (MpelInvocation *self);
MPEL_AVAILABLE_IN_ALL
const char   *mpel_invocation_get_target        (MpelInvocation *self);
MPEL_AVAILABLE_IN_ALL
GVariant     *mpel_invocation_get_args          (MpelInvocation *self);
MPEL_AVAILABLE_IN_ALL
GVariant     *mpel_invocation_get_kwargs        (MpelInvocation *self);
MPEL_AVAILABLE_IN_ALL
GVariant     *mpel_invocation_lookup_kwarg      (MpelInvocation     *self,
                                                 const char         *name,
                                                 const GVariantType *expected_type);
MPEL_AVAILABLE_IN_ALL
gboolean      mpel_invocation_get_kwarg         (MpelInvocation      *self,
                                                 const char          *name,
                                                 const GVariantType  *type,
                                                 GVariant           **value,
                                                 GError             **error);
MPEL_AVAILABLE_IN_ALL
guint64       mpel_invocation_get_id            (MpelInvocation *self);
MPEL_AVAILABLE_IN_ALL
GCancellable *mpel_invocation_get_cancellable   (MpelInvocation *self);
MPEL_AVAILABLE_IN_ALL
gboolean      mpel_invocation_get_no_reply      (MpelInvocation *self);
MPEL_AVAILABLE_IN_ALL
gboolean      mpel_invocation_is_returned       (MpelInvocation *self);
MPEL_AVAILABLE_IN_ALL
void          mpel_invocation_return_value      (MpelInvocation *self,
                                                 GVariant       *value);
MPEL_AVAILABLE_IN_ALL
void          mpel_invocation_return_error      (MpelInvocation *self,
                                                 GQuark          domain,
                                                 int             code,
                                                 const char     *format,
                                                 ...) G_GNUC_PRINTF (4, 5);
MPEL_AVAILABLE_IN_ALL
void          mpel_invocation_return_error_literal (MpelInvocation *self,
                                                    GQuark          domain,
                                                    int             code,
                                                    const char     *message);
MPEL_AVAILABLE_IN_ALL
void          mpel_invocation_return_gerror     (MpelInvocation *self,
                                                 const GError   *error);
MPEL_AVAILABLE_IN_ALL
void          mpel_invocation_return_error_details (MpelInvocation *self,
                                                    const GError   *error,
                                                    GVariant       *details);
MPEL_AVAILABLE_IN_ALL
void          mpel_invocation_take_error        (MpelInvocation *self,
                                                 GError         *error);
MPEL_AVAILABLE_IN_ALL
void          mpel_invocation_yield             (MpelInvocation *self,
                                                 GVariant       *item);

G_END_DECLS
