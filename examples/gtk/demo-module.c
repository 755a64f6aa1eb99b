/* demo-module.c: the worker side of mpel-demo, loaded with
 * `mpel-worker --module`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <mpel.h>

G_MODULE_EXPORT void mpel_module_init (MpelWorker *worker);

/* Trial division on purpose: the demo wants honest CPU work, one chunk at a
 * time. 64-bit arithmetic so that d * d cannot wrap for any guint32 n. */
static gboolean
is_prime (guint64 n)
{
  if (n < 2)
    return FALSE;
  if (n % 2 == 0)
    return n == 2;
  for (guint64 d = 3; d * d <= n; d += 2)
    if (n % d == 0)
      return FALSE;
  return TRUE;
}

/* count_primes (from, to) -> the number of primes p with from <= p < to.
 *
 * The handler answers before it returns, so the worker runs one chunk at a
 * time; the app keeps chunks short, so cancelling the ones not yet sent stops
 * the work quickly. */
static void
count_primes (MpelInvocation *invocation,
              gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);
  guint32 from, to, count = 0;

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(uu)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    "count_primes takes (uu), not %s",
                                    g_variant_get_type_string (args));
      return;
    }

  g_variant_get (args, "(uu)", &from, &to);
  for (guint64 n = from; n < to; n++)
    count += is_prime (n);

  mpel_invocation_return_value (invocation, g_variant_new_uint32 (count));
}

void
mpel_module_init (MpelWorker *worker)
{
  mpel_worker_add_handler (worker, "count_primes", count_primes, NULL, NULL);
}
