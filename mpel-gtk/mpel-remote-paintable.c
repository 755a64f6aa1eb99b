/* mpel-remote-paintable.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include <glib/gi18n-lib.h>

#include "mpel-gtk-frame-private.h"
#include "mpel-gtk-worker.h"
#include "mpel-remote-paintable.h"

/**
 * MpelRemotePaintable:
 *
 * A [iface@Gdk.Paintable] that shows what a worker renders.
 *
 * The paintable asks a target of an [class@Mpel.Loop] for frames — a chart, a
 * thumbnail, a map tile drawn in a worker process — and shows the latest
 * one. Put it in a [class@Gtk.Picture] or draw it yourself; it emits
 * [signal@Gdk.Paintable::invalidate-contents] when a new frame arrives and
 * [signal@Gdk.Paintable::invalidate-size] when the frame's size changes.
 *
 * At most one frame is in flight, and the latest request wins: asking again
 * while a frame renders — with [method@MpelGtk.RemotePaintable.invalidate],
 * or by setting [property@MpelGtk.RemotePaintable:args] or the size — only
 * marks the paintable dirty, and exactly one more frame is asked for when
 * the one in flight ends, with the values of that moment. A slow renderer
 * thus never builds a queue, whatever the app asks.
 *
 * A frame that fails (the worker crashed, the renderer reported an error,
 * the worker sent a frame that does not check out) keeps the last good frame
 * on screen and sets [property@MpelGtk.RemotePaintable:error]; the next good
 * frame clears it.
 *
 * Pixels travel in the frame's reply, through the loop's shared buffers for
 * frames of 512 KiB and more, and the [class@Gdk.Texture] is made over that
 * memory without a copy. The worker side is
 * [func@MpelGtk.worker_add_cairo_renderer] or
 * [func@MpelGtk.worker_add_paintable], or any handler that speaks the frame
 * protocol of the “Lists, paintables and widgets” guide.
 */

/* At most one frame in flight; DIRTY: asked for again meanwhile. */
typedef enum
{
  FRAME_STATE_IDLE,
  FRAME_STATE_RUNNING,
  FRAME_STATE_RUNNING_DIRTY,
} FrameState;

struct _MpelRemotePaintable
{
  GObject       parent_instance;

  MpelLoop     *loop;
  char         *target;
  GVariant     *args;
  int           width;
  int           height;
  double        scale_factor;
  gboolean      watch;

  GdkTexture   *texture;
  double        texture_scale;
  GError       *error;
  guint         n_frames;

  FrameState    frame_state;
  GCancellable *cancellable;

  /* How the paintable hears of the worker's changes: the proxy of the
   * object `<target>.changes`, subscribed to its "changed"; for a worker
   * that exports none, the `<target>.watch` stream while it runs, refused
   * once the worker said it has no such target either. */
  MpelProxy    *changes;
  gboolean      changes_refused;
  MpelEvent    *watch_event;
  gboolean      watch_refused;

  gboolean      constructed;
};

typedef struct
{
  GWeakRef self;
  double   scale;
} FrameRequest;

static void mpel_remote_paintable_paintable_init (GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MpelRemotePaintable, mpel_remote_paintable, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE,
                                                      mpel_remote_paintable_paintable_init))

enum {
  PROP_0,
  PROP_LOOP,
  PROP_TARGET,
  PROP_ARGS,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_SCALE_FACTOR,
  PROP_WATCH,
  PROP_ERROR,
  PROP_N_FRAMES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void request_frame (MpelRemotePaintable *self);
static void watch_start   (MpelRemotePaintable *self);

static int
mpel_remote_paintable_get_intrinsic_width (GdkPaintable *paintable)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (paintable);

  if (self->texture == NULL)
    return 0;

  return (int) ceil (gdk_texture_get_width (self->texture) / self->texture_scale);
}

static int
mpel_remote_paintable_get_intrinsic_height (GdkPaintable *paintable)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (paintable);

  if (self->texture == NULL)
    return 0;

  return (int) ceil (gdk_texture_get_height (self->texture) / self->texture_scale);
}

static void
mpel_remote_paintable_snapshot (GdkPaintable *paintable,
                                GdkSnapshot  *snapshot,
                                double        width,
                                double        height)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (paintable);

  if (self->texture != NULL)
    gdk_paintable_snapshot (GDK_PAINTABLE (self->texture), snapshot, width, height);
}

static GdkPaintable *
mpel_remote_paintable_get_current_image (GdkPaintable *paintable)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (paintable);

  /* A texture never changes: it is its own current image. */
  if (self->texture != NULL)
    return g_object_ref (GDK_PAINTABLE (self->texture));

  return gdk_paintable_new_empty (0, 0);
}

static void
mpel_remote_paintable_paintable_init (GdkPaintableInterface *iface)
{
  iface->snapshot = mpel_remote_paintable_snapshot;
  iface->get_current_image = mpel_remote_paintable_get_current_image;
  iface->get_intrinsic_width = mpel_remote_paintable_get_intrinsic_width;
  iface->get_intrinsic_height = mpel_remote_paintable_get_intrinsic_height;
}

static void
frame_request_free (FrameRequest *request)
{
  g_weak_ref_clear (&request->self);
  g_free (request);
}

static void
set_error (MpelRemotePaintable *self,
           GError              *error)
{
  g_autoptr(GError) owned = error;

  if (self->error == NULL && error == NULL)
    return;

  g_clear_error (&self->error);
  self->error = g_steal_pointer (&owned);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
set_frame (MpelRemotePaintable *self,
           GdkTexture          *texture,
           double               scale)
{
  GdkPaintable *paintable = GDK_PAINTABLE (self);
  int old_width = gdk_paintable_get_intrinsic_width (paintable);
  int old_height = gdk_paintable_get_intrinsic_height (paintable);

  g_set_object (&self->texture, texture);
  self->texture_scale = scale;
  self->n_frames++;

  g_object_freeze_notify (G_OBJECT (self));
  set_error (self, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FRAMES]);
  g_object_thaw_notify (G_OBJECT (self));

  if (old_width != gdk_paintable_get_intrinsic_width (paintable)
      || old_height != gdk_paintable_get_intrinsic_height (paintable))
    gdk_paintable_invalidate_size (paintable);
  gdk_paintable_invalidate_contents (paintable);

  /* A worker that was replaced after a crash lost the subscription or the
   * stream: ask again now that a worker answers. */
  if (self->watch)
    watch_start (self);
}

static void
frame_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  FrameRequest *request = user_data;
  g_autoptr(MpelRemotePaintable) self = g_weak_ref_get (&request->self);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  double scale = request->scale;
  gboolean dirty;

  frame_request_free (request);
  reply = mpel_loop_call_finish (MPEL_LOOP (source), result, &error);

  /* Gone: dispose cancelled the frame. */
  if (self == NULL)
    return;

  g_clear_object (&self->cancellable);
  dirty = self->frame_state == FRAME_STATE_RUNNING_DIRTY;
  self->frame_state = FRAME_STATE_IDLE;

  if (reply != NULL)
    texture = _mpel_gtk_frame_reply_to_texture (reply, &error);

  /* Handlers of the signals below may ask for a frame themselves: that one
   * then stands for the dirty one. */
  if (texture != NULL)
    set_frame (self, texture, scale);
  else
    {
      g_prefix_error (&error, _("Frame of “%s”: "), self->target);
      set_error (self, g_steal_pointer (&error));
    }

  if (dirty && self->frame_state == FRAME_STATE_IDLE)
    request_frame (self);
}

static void
request_frame (MpelRemotePaintable *self)
{
  FrameRequest *request;

  if (!self->constructed || self->loop == NULL || self->target == NULL)
    return;

  switch (self->frame_state)
    {
    case FRAME_STATE_RUNNING:
      self->frame_state = FRAME_STATE_RUNNING_DIRTY;
      return;

    case FRAME_STATE_RUNNING_DIRTY:
      return;

    case FRAME_STATE_IDLE:
    default:
      break;
    }

  request = g_new0 (FrameRequest, 1);
  g_weak_ref_init (&request->self, self);
  request->scale = self->scale_factor;

  self->frame_state = FRAME_STATE_RUNNING;
  self->cancellable = g_cancellable_new ();
  mpel_loop_call_async (self->loop,
                        self->target,
                        _mpel_gtk_frame_request_new (self->width, self->height,
                                                     self->scale_factor, self->args),
                        self->cancellable,
                        frame_done,
                        request);
}

static void
watch_on_item (MpelEvent           *event,
               GVariant            *item,
               MpelRemotePaintable *self)
{
  request_frame (self);
}

static void
changes_stop (MpelRemotePaintable *self)
{
  g_autoptr(MpelProxy) changes = g_steal_pointer (&self->changes);

  if (changes == NULL)
    return;

  /* Releasing the proxy ends its subscription. */
  g_signal_handlers_disconnect_by_data (changes, self);
  mpel_proxy_release (changes);
}

static void
watch_stop (MpelRemotePaintable *self)
{
  g_autoptr(MpelEvent) event = g_steal_pointer (&self->watch_event);

  changes_stop (self);

  if (event == NULL)
    return;

  g_signal_handlers_disconnect_by_data (event, self);
  mpel_event_cancel (event);
}

static void
watch_on_finished (MpelEvent           *event,
                   MpelRemotePaintable *self)
{
  const GError *error = mpel_event_get_error (event);

  g_assert (event == self->watch_event);

  g_signal_handlers_disconnect_by_data (event, self);
  g_clear_object (&self->watch_event);

  /* Asking again would be refused again; any other end (a crash, the worker
   * stopping) is retried after the next good frame. */
  if (g_error_matches (error, MPEL_ERROR, MPEL_ERROR_UNKNOWN_TARGET))
    {
      self->watch_refused = TRUE;
      set_error (self, g_error_copy (error));
    }
}

static void stream_start (MpelRemotePaintable *self);

static void
changes_on_signal (MpelProxy           *changes,
                   const char          *signal_name,
                   GVariant            *args,
                   MpelRemotePaintable *self)
{
  request_frame (self);
}

static void
changes_on_state (MpelProxy           *changes,
                  GParamSpec          *pspec,
                  MpelRemotePaintable *self)
{
  const GError *error = mpel_proxy_get_error (changes);

  if (mpel_proxy_get_state (changes) != MPEL_PROXY_STATE_FAILED)
    return;

  /* A worker that exports no `<target>.changes` may still stream them;
   * any other end (a crash) is retried after the next good frame. */
  if (g_error_matches (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT))
    self->changes_refused = TRUE;
  changes_stop (self);
  if (self->changes_refused)
    stream_start (self);
}

static void
watch_start (MpelRemotePaintable *self)
{
  g_autofree char *name = NULL;
  const char *none[] = { NULL };

  if (!self->constructed || self->loop == NULL || self->target == NULL)
    return;
  if (self->changes_refused)
    {
      stream_start (self);
      return;
    }
  if (self->changes != NULL)
    return;

  /* No event stays in flight: mpel_loop_stop() does not wait for it. */
  name = g_strconcat (self->target, MPEL_GTK_CHANGES_SUFFIX, NULL);
  self->changes = mpel_proxy_new_for_name (self->loop, name, none, NULL);
  g_signal_connect (self->changes, "remote-signal::" MPEL_GTK_CHANGED_SIGNAL,
                    G_CALLBACK (changes_on_signal), self);
  g_signal_connect (self->changes, "notify::state", G_CALLBACK (changes_on_state), self);
  mpel_proxy_subscribe_signal (self->changes, MPEL_GTK_CHANGED_SIGNAL);
}

static void
stream_start (MpelRemotePaintable *self)
{
  g_autofree char *target = NULL;
  g_autoptr(GVariant) dict = NULL;

  if (self->watch_event != NULL || self->watch_refused)
    return;

  target = g_strconcat (self->target, MPEL_GTK_WATCH_SUFFIX, NULL);
  dict = _mpel_gtk_frame_args_to_dict (self->args);
  self->watch_event = mpel_event_new (target, g_variant_new_tuple (&dict, 1));
  g_signal_connect (self->watch_event, "item", G_CALLBACK (watch_on_item), self);
  g_signal_connect (self->watch_event, "finished", G_CALLBACK (watch_on_finished), self);
  mpel_loop_push (self->loop, self->watch_event);
}

static void
mpel_remote_paintable_constructed (GObject *object)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (object);

  G_OBJECT_CLASS (mpel_remote_paintable_parent_class)->constructed (object);

  self->constructed = TRUE;
  request_frame (self);
  if (self->watch)
    watch_start (self);
}

static void
mpel_remote_paintable_dispose (GObject *object)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (object);

  watch_stop (self);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->texture);
  g_clear_object (&self->loop);

  G_OBJECT_CLASS (mpel_remote_paintable_parent_class)->dispose (object);
}

static void
mpel_remote_paintable_finalize (GObject *object)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (object);

  g_clear_pointer (&self->target, g_free);
  g_clear_pointer (&self->args, g_variant_unref);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (mpel_remote_paintable_parent_class)->finalize (object);
}

static void
mpel_remote_paintable_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (object);

  switch (prop_id)
    {
    case PROP_LOOP:
      g_value_set_object (value, self->loop);
      break;

    case PROP_TARGET:
      g_value_set_string (value, self->target);
      break;

    case PROP_ARGS:
      g_value_set_variant (value, self->args);
      break;

    case PROP_WIDTH:
      g_value_set_int (value, self->width);
      break;

    case PROP_HEIGHT:
      g_value_set_int (value, self->height);
      break;

    case PROP_SCALE_FACTOR:
      g_value_set_double (value, self->scale_factor);
      break;

    case PROP_WATCH:
      g_value_set_boolean (value, self->watch);
      break;

    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;

    case PROP_N_FRAMES:
      g_value_set_uint (value, self->n_frames);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_remote_paintable_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  MpelRemotePaintable *self = MPEL_REMOTE_PAINTABLE (object);

  switch (prop_id)
    {
    case PROP_LOOP:
      self->loop = g_value_dup_object (value);
      break;

    case PROP_TARGET:
      self->target = g_value_dup_string (value);
      break;

    case PROP_ARGS:
      mpel_remote_paintable_set_args (self, g_value_get_variant (value));
      break;

    case PROP_WIDTH:
      mpel_remote_paintable_set_width (self, g_value_get_int (value));
      break;

    case PROP_HEIGHT:
      mpel_remote_paintable_set_height (self, g_value_get_int (value));
      break;

    case PROP_SCALE_FACTOR:
      mpel_remote_paintable_set_scale_factor (self, g_value_get_double (value));
      break;

    case PROP_WATCH:
      mpel_remote_paintable_set_watch (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpel_remote_paintable_class_init (MpelRemotePaintableClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  _mpel_gtk_ensure_types ();

  object_class->constructed = mpel_remote_paintable_constructed;
  object_class->dispose = mpel_remote_paintable_dispose;
  object_class->finalize = mpel_remote_paintable_finalize;
  object_class->get_property = mpel_remote_paintable_get_property;
  object_class->set_property = mpel_remote_paintable_set_property;

  /**
   * MpelRemotePaintable:loop:
   *
   * The loop whose workers render the frames.
   */
  properties[PROP_LOOP] =
    g_param_spec_object ("loop", NULL, NULL,
                         MPEL_TYPE_LOOP,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelRemotePaintable:target:
   *
   * The worker's target that renders a frame; `<target>.watch`, when
   * [property@MpelGtk.RemotePaintable:watch] is set, streams its changes.
   */
  properties[PROP_TARGET] =
    g_param_spec_string ("target", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelRemotePaintable:args:
   *
   * What to render: an `a{sv}` is sent as it is, any other value as the
   * `value` entry of one, %NULL as an empty one. A new value asks for a new
   * frame.
   */
  properties[PROP_ARGS] =
    g_param_spec_variant ("args", NULL, NULL,
                          G_VARIANT_TYPE_ANY,
                          NULL,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelRemotePaintable:width:
   *
   * The width to ask the renderer for, in logical pixels; 0 lets the
   * renderer choose. A new value asks for a new frame.
   */
  properties[PROP_WIDTH] =
    g_param_spec_int ("width", NULL, NULL,
                      0, MPEL_GTK_MAX_SIZE, 0,
                      (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelRemotePaintable:height:
   *
   * The height to ask the renderer for, in logical pixels; 0 lets the
   * renderer choose. A new value asks for a new frame.
   */
  properties[PROP_HEIGHT] =
    g_param_spec_int ("height", NULL, NULL,
                      0, MPEL_GTK_MAX_SIZE, 0,
                      (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelRemotePaintable:scale-factor:
   *
   * Device pixels per logical pixel of the frames to ask for, for example
   * [method@Gtk.Widget.get_scale_factor] of the widget that shows the
   * paintable. The intrinsic size stays in logical pixels. A new value asks
   * for a new frame.
   */
  properties[PROP_SCALE_FACTOR] =
    g_param_spec_double ("scale-factor", NULL, NULL,
                         0.25, MPEL_GTK_MAX_SCALE, 1.0,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelRemotePaintable:watch:
   *
   * Whether to follow changes the worker makes by itself: the paintable
   * then subscribes to the signal `changed` of the object the worker
   * exports as `<target>.changes` and asks for a new frame each time it is
   * emitted. No event stays in flight for it, so [method@Mpel.Loop.stop]
   * does not wait.
   *
   * A worker that exports no such object (one that serves the frame
   * protocol by hand) is watched through the streaming target
   * `<target>.watch` instead, a new frame for each item it yields; that
   * stream is an event in flight, which [method@Mpel.Loop.stop] waits for
   * (unset this property first, or use [method@Mpel.Loop.close]). A worker
   * that has neither sets [property@MpelGtk.RemotePaintable:error] once.
   */
  properties[PROP_WATCH] =
    g_param_spec_boolean ("watch", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelRemotePaintable:error:
   *
   * Why the latest frame failed, or %NULL after a good one. The paintable
   * keeps showing the last good frame meanwhile.
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * MpelRemotePaintable:n-frames:
   *
   * How many frames have arrived: a paintable that shows the latest of many
   * requests counts only the frames it was sent.
   */
  properties[PROP_N_FRAMES] =
    g_param_spec_uint ("n-frames", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mpel_remote_paintable_init (MpelRemotePaintable *self)
{
  self->scale_factor = 1.0;
  self->texture_scale = 1.0;
  self->frame_state = FRAME_STATE_IDLE;
}

/**
 * mpel_remote_paintable_new:
 * @loop: the loop whose workers render
 * @target: the target that renders a frame
 * @args: (nullable): what to render; a floating reference is sunk
 *
 * Makes a paintable that asks @target for its first frame at once; the
 * loop starts itself if it has to.
 *
 * Returns: (transfer full): a new paintable
 */
MpelRemotePaintable *
mpel_remote_paintable_new (MpelLoop   *loop,
                           const char *target,
                           GVariant   *args)
{
  g_autoptr(GVariant) owned = NULL;

  g_return_val_if_fail (MPEL_IS_LOOP (loop), NULL);
  g_return_val_if_fail (target != NULL, NULL);

  if (args != NULL)
    owned = g_variant_ref_sink (args);

  return g_object_new (MPEL_TYPE_REMOTE_PAINTABLE,
                       "loop", loop,
                       "target", target,
                       "args", owned,
                       NULL);
}

/**
 * mpel_remote_paintable_get_loop:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:loop].
 *
 * Returns: (transfer none) (nullable): the loop whose workers render
 */
MpelLoop *
mpel_remote_paintable_get_loop (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), NULL);

  return self->loop;
}

/**
 * mpel_remote_paintable_get_target:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:target].
 *
 * Returns: (nullable): the target that renders the frames
 */
const char *
mpel_remote_paintable_get_target (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), NULL);

  return self->target;
}

/**
 * mpel_remote_paintable_get_args:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:args], as it was set: the frame
 * request carries it as an `a{sv}`.
 *
 * Returns: (transfer none) (nullable): what is rendered
 */
GVariant *
mpel_remote_paintable_get_args (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), NULL);

  return self->args;
}

/**
 * mpel_remote_paintable_set_args:
 * @self: a #MpelRemotePaintable
 * @args: (nullable): what to render; a floating reference is sunk
 *
 * Sets [property@MpelGtk.RemotePaintable:args]; a value that differs asks
 * for a new frame.
 */
void
mpel_remote_paintable_set_args (MpelRemotePaintable *self,
                                GVariant            *args)
{
  g_autoptr(GVariant) owned = NULL;

  g_return_if_fail (MPEL_IS_REMOTE_PAINTABLE (self));

  if (args != NULL)
    owned = g_variant_ref_sink (args);

  if (self->args == owned
      || (self->args != NULL && owned != NULL && g_variant_equal (self->args, owned)))
    return;

  g_clear_pointer (&self->args, g_variant_unref);
  self->args = g_steal_pointer (&owned);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ARGS]);

  request_frame (self);

  /* The stream watches what the old arguments showed. */
  if (self->watch_event != NULL)
    {
      watch_stop (self);
      watch_start (self);
    }
}

/**
 * mpel_remote_paintable_get_width:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:width].
 *
 * Returns: the width asked for, in logical pixels; 0 for the renderer's own
 */
int
mpel_remote_paintable_get_width (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), 0);

  return self->width;
}

/**
 * mpel_remote_paintable_set_width:
 * @self: a #MpelRemotePaintable
 * @width: the width to ask for, in logical pixels; 0 for the renderer's own
 *
 * Sets [property@MpelGtk.RemotePaintable:width]; a change asks for a new
 * frame.
 */
void
mpel_remote_paintable_set_width (MpelRemotePaintable *self,
                                 int                  width)
{
  g_return_if_fail (MPEL_IS_REMOTE_PAINTABLE (self));
  g_return_if_fail (width >= 0 && width <= MPEL_GTK_MAX_SIZE);

  if (self->width == width)
    return;

  self->width = width;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIDTH]);
  request_frame (self);
}

/**
 * mpel_remote_paintable_get_height:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:height].
 *
 * Returns: the height asked for, in logical pixels; 0 for the renderer's own
 */
int
mpel_remote_paintable_get_height (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), 0);

  return self->height;
}

/**
 * mpel_remote_paintable_set_height:
 * @self: a #MpelRemotePaintable
 * @height: the height to ask for, in logical pixels; 0 for the renderer's own
 *
 * Sets [property@MpelGtk.RemotePaintable:height]; a change asks for a new
 * frame.
 */
void
mpel_remote_paintable_set_height (MpelRemotePaintable *self,
                                  int                  height)
{
  g_return_if_fail (MPEL_IS_REMOTE_PAINTABLE (self));
  g_return_if_fail (height >= 0 && height <= MPEL_GTK_MAX_SIZE);

  if (self->height == height)
    return;

  self->height = height;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEIGHT]);
  request_frame (self);
}

/**
 * mpel_remote_paintable_get_scale_factor:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:scale-factor].
 *
 * Returns: the scale factor of the frames asked for
 */
double
mpel_remote_paintable_get_scale_factor (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), 1.0);

  return self->scale_factor;
}

/**
 * mpel_remote_paintable_set_scale_factor:
 * @self: a #MpelRemotePaintable
 * @scale_factor: device pixels per logical pixel, from 0.25 to 16
 *
 * Sets [property@MpelGtk.RemotePaintable:scale-factor]; a change asks for a
 * new frame.
 */
void
mpel_remote_paintable_set_scale_factor (MpelRemotePaintable *self,
                                        double               scale_factor)
{
  g_return_if_fail (MPEL_IS_REMOTE_PAINTABLE (self));
  g_return_if_fail (scale_factor >= 0.25 && scale_factor <= MPEL_GTK_MAX_SCALE);

  if (self->scale_factor == scale_factor)
    return;

  self->scale_factor = scale_factor;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE_FACTOR]);
  request_frame (self);
}

/**
 * mpel_remote_paintable_get_watch:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:watch].
 *
 * Returns: whether the paintable follows the worker's changes
 */
gboolean
mpel_remote_paintable_get_watch (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), FALSE);

  return self->watch;
}

/**
 * mpel_remote_paintable_set_watch:
 * @self: a #MpelRemotePaintable
 * @watch: whether to follow the worker's changes
 *
 * Sets [property@MpelGtk.RemotePaintable:watch].
 */
void
mpel_remote_paintable_set_watch (MpelRemotePaintable *self,
                                 gboolean             watch)
{
  g_return_if_fail (MPEL_IS_REMOTE_PAINTABLE (self));

  watch = !!watch;
  if (self->watch == watch)
    return;

  self->watch = watch;
  self->changes_refused = FALSE;
  self->watch_refused = FALSE;
  if (watch)
    watch_start (self);
  else
    watch_stop (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WATCH]);
}

/**
 * mpel_remote_paintable_get_error:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:error].
 *
 * Returns: (nullable): why the latest frame failed, or %NULL
 */
const GError *
mpel_remote_paintable_get_error (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), NULL);

  return self->error;
}

/**
 * mpel_remote_paintable_get_n_frames:
 * @self: a #MpelRemotePaintable
 *
 * Gets [property@MpelGtk.RemotePaintable:n-frames].
 *
 * Returns: how many frames have arrived
 */
guint
mpel_remote_paintable_get_n_frames (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), 0);

  return self->n_frames;
}

/**
 * mpel_remote_paintable_get_texture:
 * @self: a #MpelRemotePaintable
 *
 * Gets the latest frame, in device pixels: the texture shares the memory the
 * frame arrived in. Use [method@Gdk.Texture.download] to read its pixels.
 *
 * Returns: (transfer none) (nullable): the latest frame, or %NULL before
 *   the first one
 */
GdkTexture *
mpel_remote_paintable_get_texture (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), NULL);

  return self->texture;
}

/**
 * mpel_remote_paintable_is_busy:
 * @self: a #MpelRemotePaintable
 *
 * Tells whether a frame has been asked for and has not arrived yet.
 *
 * Returns: whether a frame is in flight
 */
gboolean
mpel_remote_paintable_is_busy (MpelRemotePaintable *self)
{
  g_return_val_if_fail (MPEL_IS_REMOTE_PAINTABLE (self), FALSE);

  return self->frame_state != FRAME_STATE_IDLE;
}

/**
 * mpel_remote_paintable_invalidate:
 * @self: a #MpelRemotePaintable
 *
 * Asks for a new frame, when what the worker draws changed. While a frame
 * is in flight this only marks the paintable dirty: one more frame is asked
 * for when that one ends, however often this is called meanwhile.
 */
void
mpel_remote_paintable_invalidate (MpelRemotePaintable *self)
{
  g_return_if_fail (MPEL_IS_REMOTE_PAINTABLE (self));

  request_frame (self);
}
