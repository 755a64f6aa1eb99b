/* test-id-table.c: the table of ids behind the events in flight and the
 * running invocations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "mpel-id-table-private.h"

static void
count_one (gpointer value,
           gpointer user_data)
{
  guint *n = user_data;

  g_assert_nonnull (value);
  (*n)++;
}

/* Random inserts, look-ups and removals agree with a GHashTable at every
 * step, with ids that are consecutive (as the app's are), clustered and
 * arbitrary (as a peer's may be, 0 included), across the table's growth
 * and the backward shifts of removal. */
static void
test_matches_hash_table (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261202);

  for (guint mode = 0; mode < 3; mode++)
    {
      g_autoptr(GHashTable) ref = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      MpelIdTable table;
      guint64 next = 1;

      _mpel_id_table_init (&table);
      g_assert_null (_mpel_id_table_lookup (&table, 0));
      g_assert_null (_mpel_id_table_remove (&table, 7));

      for (guint step = 0; step < 200000; step++)
        {
          guint64 id;
          gpointer value;

          switch (mode)
            {
            case 0:
              id = g_rand_int_range (rand, 0, 3) != 0 ? next++ : next - g_rand_int_range (rand, 1, 64);
              break;
            case 1:
              id = (guint64) g_rand_int_range (rand, 0, 512) << 32;
              break;
            default:
              id = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);
              if (g_rand_int_range (rand, 0, 100) == 0)
                id = 0;
              break;
            }
          value = GSIZE_TO_POINTER ((gsize) (id * 2 + 1));

          if (g_hash_table_contains (ref, &id))
            {
              g_assert_true (_mpel_id_table_lookup (&table, id) == value);
              if (g_rand_boolean (rand))
                {
                  g_assert_true (_mpel_id_table_remove (&table, id) == value);
                  g_hash_table_remove (ref, &id);
                  g_assert_null (_mpel_id_table_lookup (&table, id));
                }
            }
          else
            {
              g_assert_null (_mpel_id_table_lookup (&table, id));
              /* Grow while young, then stay around a window */
              if (g_hash_table_size (ref) < 1500 || g_rand_boolean (rand))
                {
                  _mpel_id_table_insert (&table, id, value);
                  g_hash_table_insert (ref, g_memdup2 (&id, sizeof id), value);
                }
            }
          g_assert_cmpuint (_mpel_id_table_size (&table), ==, g_hash_table_size (ref));
        }

      /* Every entry is still found, and foreach sees each once */
      {
        GHashTableIter iter;
        gpointer key, value;
        guint n = 0;

        g_hash_table_iter_init (&iter, ref);
        while (g_hash_table_iter_next (&iter, &key, &value))
          g_assert_true (_mpel_id_table_lookup (&table, *(guint64 *) key) == value);
        _mpel_id_table_foreach (&table, count_one, &n);
        g_assert_cmpuint (n, ==, g_hash_table_size (ref));
      }

      _mpel_id_table_clear (&table);
      g_assert_cmpuint (_mpel_id_table_size (&table), ==, 0);
    }
}

/* steal_all hands over every value once and leaves the table empty and
 * usable. */
static void
test_steal_all (void)
{
  MpelIdTable table;
  guint n = 0;

  _mpel_id_table_init (&table);
  for (guint64 id = 1; id <= 1000; id++)
    _mpel_id_table_insert (&table, id, GSIZE_TO_POINTER ((gsize) id));
  _mpel_id_table_steal_all (&table, count_one, &n);
  g_assert_cmpuint (n, ==, 1000);
  g_assert_cmpuint (_mpel_id_table_size (&table), ==, 0);
  g_assert_null (_mpel_id_table_lookup (&table, 5));

  _mpel_id_table_insert (&table, 5, GSIZE_TO_POINTER (5));
  g_assert_true (_mpel_id_table_lookup (&table, 5) == GSIZE_TO_POINTER (5));
  _mpel_id_table_clear (&table);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/IdTable/matches-hash-table", test_matches_hash_table);
  g_test_add_func ("/Mpel/IdTable/steal-all", test_steal_all);

  return g_test_run ();
}
