/* mpel-gtk-worker.c: the worker side of MpelRemotePaintable.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include <glib/gi18n-lib.h>

#include "mpel-gtk-frame-private.h"
#include "mpel-gtk-worker.h"

/* What a worker exports as `<target>.changes`: its only signal, "changed",
 * tells the apps that subscribed to it (MpelRemotePaintable:watch) that
 * what the target draws has changed. */
#define MPEL_GTK_TYPE_CHANGES (mpel_gtk_changes_get_type ())
G_DECLARE_FINAL_TYPE (MpelGtkChanges, mpel_gtk_changes, MPEL_GTK, CHANGES, GObject)

struct _MpelGtkChanges
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (MpelGtkChanges, mpel_gtk_changes, G_TYPE_OBJECT)

static guint changed_signal_id;

static void
mpel_gtk_changes_class_init (MpelGtkChangesClass *klass)
{
  changed_signal_id = g_signal_new (MPEL_GTK_CHANGED_SIGNAL,
                                    G_TYPE_FROM_CLASS (klass),
                                    G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL,
                                    G_TYPE_NONE, 0);
}

static void
mpel_gtk_changes_init (MpelGtkChanges *self)
{
}

/* One renderer per target. A paintable renderer also knows the paintable,
 * for its intrinsic size and its invalidations. */
typedef struct
{
  MpelGtkCairoRenderFunc  func;
  gpointer                user_data;
  GDestroyNotify          destroy;

  MpelWorker             *worker;    /* not owned: it owns the handler */
  char                   *target;
  GdkPaintable           *paintable;
  gulong                  contents_id;
  gulong                  size_id;
  MpelGtkChanges         *changes;
} Renderer;

/* A running `<target>.watch` invocation. It holds the worker (through the
 * invocation) while the worker holds it: it must leave its list as soon as
 * it ends. */
typedef struct
{
  GPtrArray      *watchers;  /* not owned: the list it is in */
  MpelInvocation *invocation;
  GCancellable   *cancellable;
  gulong          cancelled_id;
} Watcher;

static void
renderer_free (gpointer data)
{
  Renderer *renderer = data;

  if (renderer->paintable != NULL)
    {
      g_clear_signal_handler (&renderer->contents_id, renderer->paintable);
      g_clear_signal_handler (&renderer->size_id, renderer->paintable);
      g_clear_object (&renderer->paintable);
    }

  g_clear_object (&renderer->changes);
  if (renderer->destroy != NULL)
    renderer->destroy (renderer->user_data);

  g_free (renderer->target);
  g_free (renderer);
}

static void
watcher_free (gpointer data)
{
  Watcher *watcher = data;

  g_clear_signal_handler (&watcher->cancelled_id, watcher->cancellable);
  g_clear_object (&watcher->cancellable);

  if (!mpel_invocation_is_returned (watcher->invocation))
    mpel_invocation_return_value (watcher->invocation, g_variant_new ("()"));
  g_clear_object (&watcher->invocation);
  g_free (watcher);
}

static GQuark
watchers_quark (const char *target)
{
  g_autofree char *key = g_strconcat ("mpel-gtk-watchers:", target, NULL);

  return g_quark_from_string (key);
}

static GQuark
changes_quark (const char *target)
{
  g_autofree char *key = g_strconcat ("mpel-gtk-changes:", target, NULL);

  return g_quark_from_string (key);
}

/* The app cancelled the watch (or the worker is going away): answer, and
 * leave the list, which frees the watcher and disconnects this handler
 * (allowed during the emission; the cancellable keeps itself alive). */
static void
watcher_cancelled (GCancellable *cancellable,
                   Watcher      *watcher)
{
  mpel_invocation_return_value (watcher->invocation, g_variant_new ("()"));
  g_ptr_array_remove_fast (watcher->watchers, watcher);
}

static void
watch_handle (MpelInvocation *invocation,
              gpointer        user_data)
{
  Renderer *renderer = user_data;
  MpelWorker *worker = mpel_invocation_get_worker (invocation);
  GQuark quark = watchers_quark (renderer->target);
  GPtrArray *watchers;
  Watcher *watcher;

  watchers = g_object_get_qdata (G_OBJECT (worker), quark);
  if (watchers == NULL)
    {
      watchers = g_ptr_array_new_with_free_func (watcher_free);
      g_object_set_qdata_full (G_OBJECT (worker), quark, watchers, (GDestroyNotify) g_ptr_array_unref);
    }
  /* Cancelled before it ran: nothing to watch. */
  if (g_cancellable_is_cancelled (mpel_invocation_get_cancellable (invocation)))
    {
      mpel_invocation_return_value (invocation, g_variant_new ("()"));
      return;
    }

  watcher = g_new0 (Watcher, 1);
  watcher->watchers = watchers;
  watcher->invocation = g_object_ref (invocation);
  watcher->cancellable = g_object_ref (mpel_invocation_get_cancellable (invocation));
  watcher->cancelled_id = g_signal_connect (watcher->cancellable, "cancelled",
                                            G_CALLBACK (watcher_cancelled), watcher);
  g_ptr_array_add (watchers, watcher);
}

static void
render_handle (MpelInvocation *invocation,
               gpointer        user_data)
{
  Renderer *renderer = user_data;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GError) error = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean ok;
  int width, height, pixel_width, pixel_height;
  double scale;

  if (!_mpel_gtk_frame_request_parse (mpel_invocation_get_args (invocation),
                                      &width, &height, &scale, &args, &error))
    {
      mpel_invocation_take_error (invocation, g_steal_pointer (&error));
      return;
    }

  if (width == 0)
    width = renderer->paintable != NULL ? gdk_paintable_get_intrinsic_width (renderer->paintable) : 0;
  if (height == 0)
    height = renderer->paintable != NULL ? gdk_paintable_get_intrinsic_height (renderer->paintable) : 0;
  width = CLAMP (width > 0 ? width : MPEL_GTK_DEFAULT_SIZE, 1, MPEL_GTK_MAX_SIZE / scale);
  height = CLAMP (height > 0 ? height : MPEL_GTK_DEFAULT_SIZE, 1, MPEL_GTK_MAX_SIZE / scale);
  pixel_width = MAX (1, (int) ceil (width * scale));
  pixel_height = MAX (1, (int) ceil (height * scale));

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, pixel_width, pixel_height);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_FAILED,
                                    _("Cannot make a surface of %d×%d pixels: %s"),
                                    pixel_width, pixel_height,
                                    cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return;
    }
  cairo_surface_set_device_scale (surface, scale, scale);

  cr = cairo_create (surface);
  ok = renderer->func (cr, width, height, args, renderer->user_data, &error);
  cairo_destroy (cr);

  if (ok)
    mpel_invocation_return_value (invocation, _mpel_gtk_frame_reply_new_for_surface (surface));
  else if (error != NULL)
    mpel_invocation_take_error (invocation, g_steal_pointer (&error));
  else
    mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_FAILED,
                                  _("The renderer of “%s” failed"), renderer->target);

  cairo_surface_destroy (surface);
}

static void
add_renderer (MpelWorker *worker,
              Renderer   *renderer)
{
  g_autofree char *watch_target = g_strconcat (renderer->target, MPEL_GTK_WATCH_SUFFIX, NULL);
  g_autofree char *changes_name = g_strconcat (renderer->target, MPEL_GTK_CHANGES_SUFFIX, NULL);

  /* Changes go out as a signal of an exported object, which apps
   * subscribe to; `<target>.watch` streams them too, for apps that ask
   * that way. The worker's qdata borrows the object the renderer owns. */
  renderer->changes = g_object_new (MPEL_GTK_TYPE_CHANGES, NULL);
  mpel_worker_export_object (worker, changes_name, G_OBJECT (renderer->changes));
  g_object_set_qdata (G_OBJECT (worker), changes_quark (renderer->target), renderer->changes);

  /* The watch handler borrows the renderer that the render handler owns;
   * both go together when the worker is disposed. Replacing only one of
   * them by hand is not supported. */
  mpel_worker_add_handler (worker, watch_target, watch_handle, renderer, NULL);
  mpel_worker_add_handler (worker, renderer->target, render_handle, renderer, renderer_free);
}

/**
 * mpel_gtk_worker_add_cairo_renderer:
 * @worker: a worker
 * @target: the target the app's [class@MpelGtk.RemotePaintable] names
 * @func: (scope notified) (closure user_data) (destroy destroy): draws a frame
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the worker is disposed
 *
 * Serves the frames of @target with @func, which draws with cairo on an
 * image surface: no display is needed. The frame is sent as
 * %GDK_MEMORY_DEFAULT. A size of 0 asked by the app means
 * %MPEL_GTK_DEFAULT_SIZE.
 *
 * Also exports the object `<target>.changes`, whose signal `changed` is
 * emitted, and registers `<target>.watch`, which keeps running and yields
 * an item, whenever [func@MpelGtk.worker_notify_changed] is called for
 * @target.
 */
void
mpel_gtk_worker_add_cairo_renderer (MpelWorker             *worker,
                                    const char             *target,
                                    MpelGtkCairoRenderFunc  func,
                                    gpointer                user_data,
                                    GDestroyNotify          destroy)
{
  Renderer *renderer;

  g_return_if_fail (MPEL_IS_WORKER (worker));
  g_return_if_fail (target != NULL);
  g_return_if_fail (func != NULL);

  renderer = g_new0 (Renderer, 1);
  renderer->func = func;
  renderer->user_data = user_data;
  renderer->destroy = destroy;
  renderer->worker = worker;
  renderer->target = g_strdup (target);

  add_renderer (worker, renderer);
}

static gboolean
paintable_render (cairo_t   *cr,
                  int        width,
                  int        height,
                  GVariant  *args,
                  gpointer   user_data,
                  GError   **error)
{
  Renderer *renderer = user_data;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;

  gdk_paintable_snapshot (renderer->paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);

  /* An empty paintable draws nothing: a transparent frame. */
  if (node != NULL)
    gsk_render_node_draw (node, cr);

  return TRUE;
}

static void
paintable_changed (GdkPaintable *paintable,
                   Renderer     *renderer)
{
  mpel_gtk_worker_notify_changed (renderer->worker, renderer->target);
}

/**
 * mpel_gtk_worker_add_paintable:
 * @worker: a worker
 * @target: the target the app's [class@MpelGtk.RemotePaintable] names
 * @paintable: the paintable to serve
 *
 * Serves the frames of @target by drawing @paintable, through a
 * `GtkSnapshot` and [method@Gsk.RenderNode.draw] with cairo: no
 * display is needed, though nodes that only a GPU renderer draws (shaders,
 * for one) come out blank. A size of 0 asked by the app means the
 * paintable's intrinsic size, or %MPEL_GTK_DEFAULT_SIZE.
 *
 * Also tells of the changes of @paintable, as
 * [func@MpelGtk.worker_notify_changed] does, whenever it emits
 * [signal@Gdk.Paintable::invalidate-contents] or
 * [signal@Gdk.Paintable::invalidate-size]: an app paintable with
 * [property@MpelGtk.RemotePaintable:watch] set follows it.
 */
void
mpel_gtk_worker_add_paintable (MpelWorker   *worker,
                               const char   *target,
                               GdkPaintable *paintable)
{
  Renderer *renderer;

  g_return_if_fail (MPEL_IS_WORKER (worker));
  g_return_if_fail (target != NULL);
  g_return_if_fail (GDK_IS_PAINTABLE (paintable));

  _mpel_gtk_ensure_types ();

  renderer = g_new0 (Renderer, 1);
  renderer->func = paintable_render;
  renderer->user_data = renderer;
  renderer->worker = worker;
  renderer->target = g_strdup (target);
  renderer->paintable = g_object_ref (paintable);
  renderer->contents_id = g_signal_connect (paintable, "invalidate-contents",
                                            G_CALLBACK (paintable_changed), renderer);
  renderer->size_id = g_signal_connect (paintable, "invalidate-size",
                                        G_CALLBACK (paintable_changed), renderer);

  add_renderer (worker, renderer);
}

/**
 * mpel_gtk_worker_notify_changed:
 * @worker: a worker
 * @target: a target served by [func@MpelGtk.worker_add_cairo_renderer] or
 *   [func@MpelGtk.worker_add_paintable]
 *
 * Tells the apps watching @target that what it draws has changed: the
 * exported object `<target>.changes` emits `changed`, which reaches the
 * apps that subscribed to it, each running `<target>.watch` yields an
 * item, and an app paintable with [property@MpelGtk.RemotePaintable:watch]
 * set asks for a new frame. Cheap when nobody watches.
 */
void
mpel_gtk_worker_notify_changed (MpelWorker *worker,
                                const char *target)
{
  MpelGtkChanges *changes;
  GPtrArray *watchers;

  g_return_if_fail (MPEL_IS_WORKER (worker));
  g_return_if_fail (target != NULL);

  changes = g_object_get_qdata (G_OBJECT (worker), changes_quark (target));
  if (changes != NULL)
    g_signal_emit (changes, changed_signal_id, 0);

  watchers = g_object_get_qdata (G_OBJECT (worker), watchers_quark (target));
  if (watchers == NULL)
    return;

  for (guint i = 0; i < watchers->len; i++)
    {
      Watcher *watcher = g_ptr_array_index (watchers, i);

      mpel_invocation_yield (watcher->invocation, g_variant_new ("()"));
    }
}
