/* mpel-worker-main.c: the default worker host
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "mpel.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(MpelWorker) worker = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) modules = NULL;
  gboolean stdio = FALSE;
  GOptionEntry entries[] = {
    { "module", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &modules,
      N_("Load the handlers of plugin PATH"), N_("PATH") },
    { "stdio", 0, 0, G_OPTION_ARG_NONE, &stdio,
      N_("Talk to the app over stdin and stdout (ssh, flatpak-spawn); what the worker prints goes to stderr"), NULL },
    G_OPTION_ENTRY_NULL
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  g_set_prgname ("mpel-worker");

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Runs the events of an mpel app. Started by the app, not by hand."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mpel-worker: %s\n", error->message);
      return 2;
    }

  /* mpel_worker_run() takes it from there, and only when no socket was
   * given: a loop's MPEL_FD wins. */
  if (stdio)
    g_setenv ("MPEL_STDIO", "1", TRUE);

  worker = mpel_worker_new ();
  g_object_set (worker, "modules", modules, NULL);

  if (!mpel_worker_run (worker, &error))
    {
      g_printerr ("mpel-worker[%d]: %s\n", (int) getpid (), error->message);
      return 1;
    }

  return 0;
}
