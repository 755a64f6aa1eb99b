/* mpel-worker-signals-private.h: a worker's remote signals and list
 * watches (mpel-worker-signals.c, mpel-worker-lists.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-worker.h"

G_BEGIN_DECLS

/* The NOTIFY name of a watched list's change, body (uuu): position,
 * removed, added. No GObject signal has a dot in its name. */
#define MPEL_LIST_CHANGED_NAME "mpel.items-changed"

/* What hangs off one entry of the worker's object table, made on first
 * use, freed with the entry. */
typedef struct
{
  GHashTable *subscriptions;  /* signal name → Subscription */
  gpointer    watch;          /* a ListWatch of mpel-worker-lists.c */
} MpelWorkerExtras;

/* mpel-worker-signals.c */
MpelWorkerExtras *_mpel_worker_signals_get_extras   (MpelWorker  *self,
                                                     guint64      handle,
                                                     GObject    **object,
                                                     GError     **error);
void              _mpel_worker_signals_free_extras  (gpointer     extras,
                                                     GObject     *object);
/* mpel.object.subscribe and mpel.object.unsubscribe */
void              _mpel_worker_signals_add_builtins (MpelWorker  *self);

/* mpel-worker-lists.c */
void              _mpel_worker_lists_free_watch     (gpointer     watch,
                                                     GObject     *object);
/* Sends the lists' pending changes now. */
void              _mpel_worker_lists_flush          (MpelWorker  *self);
/* mpel.list.watch, mpel.list.unwatch and mpel.list.fetch */
void              _mpel_worker_lists_add_builtins   (MpelWorker  *self);

G_END_DECLS
