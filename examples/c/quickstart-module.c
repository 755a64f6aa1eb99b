/* quickstart-module.c: the worker side of the quick start, a plugin that
 * the default host `mpel-worker` loads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <mpel.h>

G_MODULE_EXPORT void mpel_module_init (MpelWorker *worker);

/* add_vals (value, value2=1) */
static void
add_vals (MpelInvocation *invocation,
          gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);
  g_autoptr(GVariant) kwarg = NULL;
  g_autoptr(GError) error = NULL;
  gint32 value, value2 = 1;

  if (g_variant_is_of_type (args, G_VARIANT_TYPE ("(i)")))
    g_variant_get (args, "(i)", &value);
  else if (g_variant_is_of_type (args, G_VARIANT_TYPE ("(ii)")))
    g_variant_get (args, "(ii)", &value, &value2);
  else
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    "add_vals takes (value) or (value, value2), not %s",
                                    g_variant_get_type_string (args));
      return;
    }

  /* Absent: the default. Any integer that fits is taken (a Python int
   * arrives as a 64-bit x); anything else is the caller's error. */
  if (!mpel_invocation_get_kwarg (invocation, "value2", G_VARIANT_TYPE_INT32, &kwarg, &error))
    {
      mpel_invocation_take_error (invocation, g_steal_pointer (&error));
      return;
    }
  if (kwarg != NULL)
    value2 = g_variant_get_int32 (kwarg);

  mpel_invocation_return_value (invocation, g_variant_new_int32 (value + value2));
}

void
mpel_module_init (MpelWorker *worker)
{
  mpel_worker_add_handler (worker, "add_vals", add_vals, NULL, NULL);
}
