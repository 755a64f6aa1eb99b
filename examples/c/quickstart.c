/* quickstart.c: mp_event_loop's quick start, with mpel.
 *
 *   with mp_event_loop.get_event_loop(save_results):
 *       mp_event_loop.add_event(add_vals, 2)
 *       mp_event_loop.add_event(add_vals, 3, 4)
 *       mp_event_loop.add_event(add_vals, 5, value2=6)
 *       mp_event_loop.add_event(add_vals, args=(7,), kwargs={'value2': 8})
 *   assert results == [3, 7, 11, 15]
 *
 * add_vals runs in a worker process: quickstart-module.c, loaded by the
 * default host. Run uninstalled with MPEL_WORKER pointing at mpel-worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include <mpel.h>

static gboolean
save_results (MpelLoop  *loop,
              MpelEvent *event,
              GArray    *results)
{
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  gint32 value;

  if (!mpel_event_propagate (event, &result, &error))
    {
      g_printerr ("%s failed: %s\n", mpel_event_get_target (event), error->message);
      return FALSE;
    }

  value = g_variant_get_int32 (result);
  g_array_append_val (results, value);
  return FALSE;
}

/* The module sits beside this program, unless MPEL_QUICKSTART_MODULE says
 * otherwise. */
static char *
find_module (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = NULL;

  if (g_getenv ("MPEL_QUICKSTART_MODULE") != NULL)
    return g_strdup (g_getenv ("MPEL_QUICKSTART_MODULE"));

  dir = g_path_get_dirname (self ? self : ".");
  return g_build_filename (dir, "quickstart-module.so", NULL);
}

static GVariant *
value2 (gint32 value)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "value2", "i", value);
  return g_variant_dict_end (&dict);
}

int
main (void)
{
  g_autoptr(MpelLoop) loop = mpel_loop_new ();
  g_autoptr(GArray) results = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(MpelEvent) e3 = mpel_event_new ("add_vals", g_variant_new ("(i)", 5));
  g_autoptr(MpelEvent) e4 = mpel_event_new ("add_vals", g_variant_new ("(i)", 7));
  g_autoptr(GError) error = NULL;
  g_autofree char *module = find_module ();
  const char *modules[] = { module, NULL };
  gint32 sum = 0;

  mpel_loop_set_modules (loop, modules);
  g_signal_connect (loop, "output", G_CALLBACK (save_results), results);

  mpel_loop_add_event (loop, "add_vals", g_variant_new ("(i)", 2));
  mpel_loop_add_event (loop, "add_vals", g_variant_new ("(ii)", 3, 4));
  mpel_event_set_kwargs (e3, value2 (6));
  mpel_loop_push (loop, e3);
  mpel_event_set_kwargs (e4, value2 (8));
  mpel_loop_push (loop, e4);

  /* Like leaving the seed's `with` block: wait for every result. */
  if (!mpel_loop_wait (loop, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  mpel_loop_stop (loop);

  g_print ("Results:");
  for (guint i = 0; i < results->len; i++)
    {
      g_print (" %d", g_array_index (results, gint32, i));
      sum += g_array_index (results, gint32, i);
    }
  g_print ("\nResults summed: %d\n", sum);

  return results->len == 4 && sum == 36 ? EXIT_SUCCESS : EXIT_FAILURE;
}
