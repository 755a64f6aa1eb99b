/* mpel-id-table-private.h: events and invocations by id
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A table of 64-bit ids to pointers (never NULL), for what is in flight:
 * open addressing with linear probing and deletion by backward shift, no
 * allocation per entry. Every event is inserted, looked up and removed
 * once on each side, so this replaces a GHashTable of boxed ids, whose
 * hashing through g_int64_hash() and bookkeeping cost more than the rest
 * of the event's bookkeeping. */
typedef struct
{
  guint64  id;
  gpointer value;   /* NULL: the slot is free */
} MpelIdSlot;

typedef struct
{
  MpelIdSlot *slots;
  guint       bits;     /* capacity is 1 << bits, or 0 before the first insert */
  guint       size;
} MpelIdTable;

void     _mpel_id_table_init    (MpelIdTable *table);
void     _mpel_id_table_clear   (MpelIdTable *table);
/* @id must not be in the table */
void     _mpel_id_table_insert  (MpelIdTable *table,
                                 guint64      id,
                                 gpointer     value);
gpointer _mpel_id_table_lookup  (MpelIdTable *table,
                                 guint64      id);
/* Returns the value removed, or NULL */
gpointer _mpel_id_table_remove  (MpelIdTable *table,
                                 guint64      id);
/* Calls @func on each value (in no order); @func must not change the table */
void     _mpel_id_table_foreach (MpelIdTable *table,
                                 GFunc        func,
                                 gpointer     user_data);
/* Removes every entry, calling @func on each value (in no order) */
void     _mpel_id_table_steal_all (MpelIdTable *table,
                                   GFunc        func,
                                   gpointer     user_data);

static inline guint
_mpel_id_table_size (const MpelIdTable *table)
{
  return table->size;
}

G_END_DECLS
