/* mpel-gtk-display.c: GTK on the app's display in a worker, so that the
 * worker can own real widgets and windows driven through proxies.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-gtk-display.h"

#define DISPLAY_QUARK_NAME "mpel-gtk-display"

/**
 * mpel_gtk_worker_init_display:
 * @worker: a worker
 * @error: the place for an error
 *
 * Initialises GTK in the worker's process on the display named by its
 * environment (`WAYLAND_DISPLAY`, `DISPLAY`), which a worker inherits from
 * its app: the app's display. From then on the app can create widgets and
 * windows in this worker through proxies (`Gtk.Window`, `Gtk.Label`,
 * `Gtk.Scale`…) and drive them; they are drawn by the worker's main loop,
 * which is GTK's main loop too.
 *
 * A worker initialises GTK only when asked: a module calls this from its
 * `mpel_module_init()`, or the app adds the module named by
 * [func@MpelGtk.get_display_module] to [property@Mpel.Loop:modules]. The
 * renderers of [func@MpelGtk.worker_add_cairo_renderer] need no display and
 * do not call it. Calling it again is harmless.
 *
 * The worker's windows are its own toplevels: they cannot be embedded in
 * the app's windows, and they disappear with the worker's process.
 *
 * Returns: %TRUE if GTK is initialised; %FALSE with @error set
 *   (%MPEL_ERROR_FAILED) when no display could be opened
 */
gboolean
mpel_gtk_worker_init_display (MpelWorker  *worker,
                              GError     **error)
{
  GdkDisplay *display;

  g_return_val_if_fail (MPEL_IS_WORKER (worker), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!gtk_init_check ())
    {
      const char *name = g_getenv ("WAYLAND_DISPLAY");

      if (name == NULL || *name == '\0')
        name = g_getenv ("DISPLAY");
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_FAILED,
                   _("The worker cannot open the display “%s” for GTK"),
                   name != NULL && *name != '\0' ? name : _("(none)"));
      return FALSE;
    }

  display = gdk_display_get_default ();
  g_object_set_data_full (G_OBJECT (worker), DISPLAY_QUARK_NAME,
                          g_object_ref (display), g_object_unref);

  return TRUE;
}

/**
 * mpel_gtk_worker_has_display:
 * @worker: a worker
 *
 * Tells whether [func@MpelGtk.worker_init_display] succeeded for @worker.
 *
 * Returns: %TRUE if @worker can own widgets and windows
 */
gboolean
mpel_gtk_worker_has_display (MpelWorker *worker)
{
  g_return_val_if_fail (MPEL_IS_WORKER (worker), FALSE);

  return g_object_get_data (G_OBJECT (worker), DISPLAY_QUARK_NAME) != NULL;
}

/**
 * mpel_gtk_get_display_module:
 *
 * The path of the worker module, installed with libmpel-gtk, whose
 * `mpel_module_init()` calls [func@MpelGtk.worker_init_display]; when there
 * is no display it prints why and exits, so that the worker fails to start
 * (%MPEL_ERROR_SPAWN_FAILED). Add it to
 * [property@Mpel.Loop:modules] of a loop whose workers own widgets: the
 * default `mpel-worker` host then initialises GTK, and `Gtk.Window`,
 * `Gtk.Label` and every other widget can be made by their GI names.
 *
 * The environment variable `MPEL_GTK_DISPLAY_MODULE`, when set, overrides
 * the installed path (to run from a build tree).
 *
 * Returns: (type filename): the module's path
 */
const char *
mpel_gtk_get_display_module (void)
{
  const char *path = g_getenv ("MPEL_GTK_DISPLAY_MODULE");

  if (path != NULL && *path != '\0')
    return path;

  return MPEL_GTK_MODULEDIR G_DIR_SEPARATOR_S "mpel-gtk-display.so";
}
