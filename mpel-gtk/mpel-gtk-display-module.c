/* mpel-gtk-display-module.c: the worker module that initialises GTK on the
 * app's display (see mpel_gtk_get_display_module()).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>

#include <mpel-gtk.h>

G_MODULE_EXPORT void mpel_module_init (MpelWorker *worker);

void
mpel_module_init (MpelWorker *worker)
{
  g_autoptr(GError) error = NULL;

  /* A module cannot fail its init: a worker that was asked for widgets and
   * has no display says why and exits before it connects, and what the app
   * sent it fails with MPEL_ERROR_SPAWN_FAILED. */
  if (!mpel_gtk_worker_init_display (worker, &error))
    {
      g_printerr ("mpel-worker: %s\n", error->message);
      exit (EXIT_FAILURE);
    }
}
