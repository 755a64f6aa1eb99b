/* mpel-event-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-event.h"

G_BEGIN_DECLS

typedef struct _MpelChild MpelChild;

struct _MpelEvent
{
  GObject         parent_instance;

  /* Link in a queue (the loop's, or its pinned child's) while QUEUED;
   * data is the event. */
  GList           link;

  MpelLoop       *loop;      /* weak; set while the loop holds the event */
  MpelChild      *child;     /* the process that runs it, while in flight */
  MpelChild      *pinned;    /* owned: the only process that may run it */
  GVariant       *args;
  GVariant       *kwargs;
  char           *key;
  GVariant       *result;
  GError         *error;
  GError         *invalid;   /* why the kwargs set were refused */
  GVariant       *error_details;  /* a{sv}: the ERROR frame's meta */
  GTask          *task;
  GSource        *timeout_source;  /* the event's own timeout */
  GSource        *kill_source;     /* cancelled, in flight: the stuck-worker kill */
  GSource        *cancel_source;
  guint64         id;
  GQuark          target;
  int             priority;
  guint           timeout;
  guint           flags : 8;
  guint           state : 8;
  guint           pushed : 1;
  guint           deferred : 1;
};

void     _mpel_event_attach      (MpelEvent      *self,
                                  MpelLoop       *loop,
                                  guint64         id);
void     _mpel_event_set_running (MpelEvent      *self);
void     _mpel_event_set_error_details (MpelEvent *self,
                                        GVariant  *details);
gboolean _mpel_event_finish      (MpelEvent      *self,
                                  MpelEventState  state,
                                  GVariant       *result,
                                  GError         *error);
void     _mpel_event_emit_item   (MpelEvent      *self,
                                  GVariant       *item);
GError  *_mpel_event_check       (MpelEvent      *self);
void     _mpel_event_compact     (MpelEvent      *self);

/* Implemented in mpel-loop.c */
void     _mpel_loop_cancel_event (MpelLoop       *loop,
                                  MpelEvent      *event,
                                  GError         *error);

G_END_DECLS
