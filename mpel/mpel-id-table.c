/* mpel-id-table.c: events and invocations by id
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "mpel-id-table-private.h"

#define MIN_BITS 4

/* Fibonacci hashing: ids are mostly consecutive, and the multiplication
 * spreads them over the whole table (the high bits are the best mixed). */
static inline gsize
home (const MpelIdTable *table,
      guint64            id)
{
  return (gsize) ((id * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) >> (64 - table->bits));
}

void
_mpel_id_table_init (MpelIdTable *table)
{
  table->slots = NULL;
  table->bits = 0;
  table->size = 0;
}

void
_mpel_id_table_clear (MpelIdTable *table)
{
  g_clear_pointer (&table->slots, g_free);
  table->bits = 0;
  table->size = 0;
}

static void
place (MpelIdTable *table,
       guint64      id,
       gpointer     value)
{
  gsize mask = ((gsize) 1 << table->bits) - 1;
  gsize i = home (table, id);

  while (table->slots[i].value != NULL)
    i = (i + 1) & mask;
  table->slots[i].id = id;
  table->slots[i].value = value;
}

static void
resize (MpelIdTable *table,
        guint        bits)
{
  MpelIdSlot *old = table->slots;
  gsize old_capacity = table->bits > 0 ? (gsize) 1 << table->bits : 0;

  table->slots = g_new0 (MpelIdSlot, (gsize) 1 << bits);
  table->bits = bits;
  for (gsize i = 0; i < old_capacity; i++)
    if (old[i].value != NULL)
      place (table, old[i].id, old[i].value);
  g_free (old);
}

void
_mpel_id_table_insert (MpelIdTable *table,
                       guint64      id,
                       gpointer     value)
{
  g_assert (value != NULL);

  /* At most half full: probes stay short. */
  if (table->bits == 0)
    resize (table, MIN_BITS);
  else if ((gsize) (table->size + 1) * 2 > (gsize) 1 << table->bits)
    resize (table, table->bits + 1);

  place (table, id, value);
  table->size++;
}

static gssize
find (const MpelIdTable *table,
      guint64            id)
{
  gsize mask, i;

  if (table->size == 0)
    return -1;

  mask = ((gsize) 1 << table->bits) - 1;
  for (i = home (table, id); table->slots[i].value != NULL; i = (i + 1) & mask)
    if (table->slots[i].id == id)
      return i;

  return -1;
}

gpointer
_mpel_id_table_lookup (MpelIdTable *table,
                       guint64      id)
{
  gssize i = find (table, id);

  return i < 0 ? NULL : table->slots[i].value;
}

gpointer
_mpel_id_table_remove (MpelIdTable *table,
                       guint64      id)
{
  gssize found = find (table, id);
  gsize mask, i, j;
  gpointer value;

  if (found < 0)
    return NULL;

  value = table->slots[found].value;
  table->size--;

  /* Backward shift: every entry after the hole that could sit in it (its
   * home is not in the cyclic range (hole, its slot]) moves into it. */
  mask = ((gsize) 1 << table->bits) - 1;
  i = found;
  for (j = (i + 1) & mask; table->slots[j].value != NULL; j = (j + 1) & mask)
    {
      gsize k = home (table, table->slots[j].id);
      gboolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);

      if (!stays)
        {
          table->slots[i] = table->slots[j];
          i = j;
        }
    }
  table->slots[i].value = NULL;
  table->slots[i].id = 0;

  return value;
}

void
_mpel_id_table_steal_all (MpelIdTable *table,
                          GFunc        func,
                          gpointer     user_data)
{
  MpelIdSlot *slots = g_steal_pointer (&table->slots);
  gsize capacity = table->bits > 0 ? (gsize) 1 << table->bits : 0;

  /* Emptied first: @func may look at the table. */
  table->bits = 0;
  table->size = 0;
  for (gsize i = 0; i < capacity; i++)
    if (slots[i].value != NULL)
      func (slots[i].value, user_data);
  g_free (slots);
}

void
_mpel_id_table_foreach (MpelIdTable *table,
                        GFunc        func,
                        gpointer     user_data)
{
  gsize capacity = table->bits > 0 ? (gsize) 1 << table->bits : 0;

  for (gsize i = 0; i < capacity; i++)
    if (table->slots[i].value != NULL)
      func (table->slots[i].value, user_data);
}
