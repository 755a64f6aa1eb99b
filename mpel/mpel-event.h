/* mpel-event.h
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

#define MPEL_TYPE_EVENT (mpel_event_get_type())

MPEL_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpelEvent, mpel_event, MPEL, EVENT, GObject)

MPEL_AVAILABLE_IN_ALL
MpelEvent      *mpel_event_new          (const char      *target,
                                         GVariant        *args);
MPEL_AVAILABLE_IN_ALL
const char     *mpel_event_get_target   (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
GVariant       *mpel_event_get_args     (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
GVariant       *mpel_event_get_kwargs   (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
void            mpel_event_set_kwargs   (MpelEvent       *self,
                                         GVariant        *kwargs);
MPEL_AVAILABLE_IN_ALL
const char     *mpel_event_get_key      (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
void            mpel_event_set_key      (MpelEvent       *self,
                                         const char      *key);
MPEL_AVAILABLE_IN_ALL
MpelEventFlags  mpel_event_get_flags    (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
void            mpel_event_set_flags    (MpelEvent       *self,
                                         MpelEventFlags   flags);
MPEL_AVAILABLE_IN_ALL
int             mpel_event_get_priority (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
void            mpel_event_set_priority (MpelEvent       *self,
                                         int              priority);
MPEL_AVAILABLE_IN_ALL
guint           mpel_event_get_timeout  (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
void            mpel_event_set_timeout  (MpelEvent       *self,
                                         guint            timeout_msec);
MPEL_AVAILABLE_IN_ALL
guint64         mpel_event_get_id       (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
MpelEventState  mpel_event_get_state    (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
gboolean        mpel_event_is_finished  (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
GVariant       *mpel_event_get_result   (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
const GError   *mpel_event_get_error    (MpelEvent       *self);
MPEL_AVAILABLE_IN_ALL
GVariant       *mpel_event_get_error_details (MpelEvent      *self);
MPEL_AVAILABLE_IN_ALL
gboolean        mpel_event_propagate    (MpelEvent       *self,
                                         GVariant       **result,
                                         GError         **error);
MPEL_AVAILABLE_IN_ALL
void            mpel_event_cancel       (MpelEvent       *self);

G_END_DECLS
