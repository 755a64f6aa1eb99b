/* test-remote-paintable.c: MpelRemotePaintable against the workers of
 * mpel-gtk-test-module. No display is needed: textures, snapshots and the
 * worker's cairo rendering all work without one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <mpel-gtk.h>

#define DEADLINE_S 20

typedef gboolean (*Condition) (gpointer data);

/* Iterates the main context until @condition holds; fails the test when
 * DEADLINE_S pass first. */
static void
wait_until (Condition  condition,
            gpointer   data,
            const char *what)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }
}

static MpelLoop *
make_loop (void)
{
  const char *modules[] = { g_getenv ("MPEL_GTK_TEST_MODULE"), NULL };
  MpelLoop *loop = mpel_loop_new ();

  g_assert_nonnull (modules[0]);
  mpel_loop_set_modules (loop, modules);
  /* One worker: the slow renderer's count is then the whole count. */
  mpel_loop_set_n_workers (loop, 1);
  mpel_loop_set_restart_policy (loop, MPEL_RESTART_POLICY_ON_CRASH);

  return loop;
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
is_set (gpointer data)
{
  return *(gpointer *) data != NULL;
}

/* Calls @target and waits for its result, which must not be an error. */
static GVariant *
call (MpelLoop   *loop,
      const char *target,
      GVariant   *args)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  mpel_loop_call_async (loop, target, args, NULL, store_result, &result);
  wait_until (is_set, &result, target);
  reply = mpel_loop_call_finish (loop, result, &error);
  g_assert_no_error (error);

  return reply;
}

static void
close_loop (MpelLoop *loop)
{
  mpel_loop_close (loop);
  g_assert_finalize_object (loop);
}

typedef struct
{
  MpelRemotePaintable *paintable;
  guint                n_frames;
} FrameWait;

static gboolean
has_n_frames (gpointer data)
{
  FrameWait *wait = data;

  return mpel_remote_paintable_get_n_frames (wait->paintable) >= wait->n_frames;
}

static void
wait_for_frames (MpelRemotePaintable *paintable,
                 guint                n_frames)
{
  FrameWait wait = { paintable, n_frames };

  wait_until (has_n_frames, &wait, "frames");
}

static gboolean
has_error (gpointer data)
{
  return mpel_remote_paintable_get_error (data) != NULL;
}

static gboolean
is_idle (gpointer data)
{
  return !mpel_remote_paintable_is_busy (data);
}

/* The pixel at (x, y) as a native-endian premultiplied ARGB word. */
static guint32
texture_pixel (GdkTexture *texture,
               int         x,
               int         y)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guint32 *data = g_new (guint32, (gsize) width * height);

  g_assert_cmpint (x, <, width);
  g_assert_cmpint (y, <, height);
  gdk_texture_download (texture, (guchar *) data, width * 4);

  return data[y * width + x];
}

static GVariant *
color_args (guint32 rgb)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "color", "u", rgb);
  return g_variant_dict_end (&dict);
}

static void
count_signal (gpointer  instance,
              guint    *counter)
{
  (*counter)++;
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              guint      *counter)
{
  (*counter)++;
}

static void
test_pixels (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  MpelRemotePaintable *paintable;
  g_autoptr(GdkPaintable) image = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  GdkTexture *texture;

  paintable = mpel_remote_paintable_new (loop, "gradient", color_args (0x00ff00));
  g_assert_null (mpel_remote_paintable_get_texture (paintable));
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (GDK_PAINTABLE (paintable)), ==, 0);

  /* Asked for while the first frame is in flight: one more frame, at
   * 64×32. */
  mpel_remote_paintable_set_width (paintable, 64);
  mpel_remote_paintable_set_height (paintable, 32);
  wait_until (is_idle, paintable, "the first frames");
  g_assert_null (mpel_remote_paintable_get_error (paintable));

  texture = mpel_remote_paintable_get_texture (paintable);
  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 64);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, 32);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (GDK_PAINTABLE (paintable)), ==, 64);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (GDK_PAINTABLE (paintable)), ==, 32);
  g_assert_cmphex (texture_pixel (texture, 0, 0), ==, 0xffff0000);
  g_assert_cmphex (texture_pixel (texture, 31, 31), ==, 0xffff0000);
  g_assert_cmphex (texture_pixel (texture, 32, 0), ==, 0xff00ff00);
  g_assert_cmphex (texture_pixel (texture, 63, 31), ==, 0xff00ff00);

  /* What a widget gets: the frame itself, drawn at the size asked. */
  image = gdk_paintable_get_current_image (GDK_PAINTABLE (paintable));
  g_assert_true (image == GDK_PAINTABLE (texture));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (GDK_PAINTABLE (paintable), GDK_SNAPSHOT (snapshot), 128, 64);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  g_assert_cmpint (gsk_render_node_get_node_type (node), ==, GSK_TEXTURE_NODE);
  g_assert_true (gsk_texture_node_get_texture (node) == texture);

  /* New args: a new frame in the new colour. */
  mpel_remote_paintable_set_args (paintable, color_args (0x0000ff));
  wait_until (is_idle, paintable, "the blue frame");
  texture = mpel_remote_paintable_get_texture (paintable);
  g_assert_cmphex (texture_pixel (texture, 63, 0), ==, 0xff0000ff);
  g_assert_cmphex (texture_pixel (texture, 0, 0), ==, 0xffff0000);

  /* Scale 2: twice the pixels, the same logical size. */
  mpel_remote_paintable_set_scale_factor (paintable, 2.0);
  wait_until (is_idle, paintable, "the scaled frame");
  texture = mpel_remote_paintable_get_texture (paintable);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 128);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, 64);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (GDK_PAINTABLE (paintable)), ==, 64);
  g_assert_cmphex (texture_pixel (texture, 63, 0), ==, 0xffff0000);
  g_assert_cmphex (texture_pixel (texture, 64, 0), ==, 0xff0000ff);

  g_assert_finalize_object (paintable);
  close_loop (g_steal_pointer (&loop));
}

static gboolean
slow_has_renders (gpointer data)
{
  return mpel_remote_paintable_get_n_frames (data) >= 2 && !mpel_remote_paintable_is_busy (data);
}

static void
test_latest_wins (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GError) error = NULL;
  MpelRemotePaintable *paintable;
  GVariantDict dict;
  guint n_contents = 0;
  guint32 n_renders, last_value;

  mpel_loop_start (loop, &error);
  g_assert_no_error (error);

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "value", "u", 0);
  paintable = mpel_remote_paintable_new (loop, "slow", g_variant_dict_end (&dict));
  g_signal_connect (paintable, "invalidate-contents", G_CALLBACK (count_signal), &n_contents);
  g_assert_true (mpel_remote_paintable_is_busy (paintable));

  /* Five requests while the first frame renders (150 ms). */
  for (guint32 value = 0x010101; value <= 0x050505; value += 0x010101)
    {
      g_variant_dict_init (&dict, NULL);
      g_variant_dict_insert (&dict, "value", "u", value);
      mpel_remote_paintable_set_args (paintable, g_variant_dict_end (&dict));
    }
  g_assert_cmpuint (mpel_remote_paintable_get_n_frames (paintable), ==, 0);

  wait_until (slow_has_renders, paintable, "two slow frames");
  g_assert_cmpuint (mpel_remote_paintable_get_n_frames (paintable), ==, 2);
  g_assert_cmpuint (n_contents, ==, 2);
  g_assert_cmphex (texture_pixel (mpel_remote_paintable_get_texture (paintable), 0, 0), ==, 0xff050505);

  /* The worker's own count: the three requests in between were never
   * sent, and the frame that was sent had the latest args. */
  stats = call (loop, "slow-stats", NULL);
  g_variant_get (stats, "(uu)", &n_renders, &last_value);
  g_assert_cmpuint (n_renders, ==, 2);
  g_assert_cmphex (last_value, ==, 0x050505);

  g_assert_finalize_object (paintable);
  close_loop (g_steal_pointer (&loop));
}

static void
test_size (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  MpelRemotePaintable *paintable;
  guint n_size = 0, n_contents = 0;

  paintable = g_object_new (MPEL_TYPE_REMOTE_PAINTABLE,
                            "loop", loop,
                            "target", "gradient",
                            "width", 10,
                            "height", 10,
                            NULL);
  g_signal_connect (paintable, "invalidate-size", G_CALLBACK (count_signal), &n_size);
  g_signal_connect (paintable, "invalidate-contents", G_CALLBACK (count_signal), &n_contents);
  wait_for_frames (paintable, 1);
  /* From nothing to 10×10. */
  g_assert_cmpuint (n_size, ==, 1);
  g_assert_cmpuint (n_contents, ==, 1);

  mpel_remote_paintable_set_width (paintable, 20);
  wait_for_frames (paintable, 2);
  g_assert_cmpuint (n_size, ==, 2);
  g_assert_cmpuint (n_contents, ==, 2);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (GDK_PAINTABLE (paintable)), ==, 20);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (GDK_PAINTABLE (paintable)), ==, 10);

  /* The same size: contents only. */
  mpel_remote_paintable_set_args (paintable, color_args (0xffffff));
  wait_for_frames (paintable, 3);
  g_assert_cmpuint (n_size, ==, 2);
  g_assert_cmpuint (n_contents, ==, 3);

  /* 0: the renderer's own size. The width goes out at once (256×10), the
   * height while that frame is in flight: one more frame (256×256). */
  mpel_remote_paintable_set_width (paintable, 0);
  mpel_remote_paintable_set_height (paintable, 0);
  wait_until (is_idle, paintable, "the default size");
  g_assert_cmpuint (mpel_remote_paintable_get_n_frames (paintable), ==, 5);
  g_assert_cmpuint (n_size, ==, 4);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (GDK_PAINTABLE (paintable)), ==, MPEL_GTK_DEFAULT_SIZE);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (GDK_PAINTABLE (paintable)), ==, MPEL_GTK_DEFAULT_SIZE);

  g_assert_finalize_object (paintable);
  close_loop (g_steal_pointer (&loop));
}

static GVariant *
flag_args (const char *name)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  if (name != NULL)
    g_variant_dict_insert (&dict, name, "b", TRUE);
  return g_variant_dict_end (&dict);
}

static void
test_crash (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  MpelRemotePaintable *paintable;
  GdkTexture *texture;
  const GError *error;
  guint n_error_notify = 0;

  paintable = mpel_remote_paintable_new (loop, "crash", flag_args (NULL));
  g_signal_connect (paintable, "notify::error", G_CALLBACK (count_notify), &n_error_notify);
  wait_for_frames (paintable, 1);
  texture = mpel_remote_paintable_get_texture (paintable);
  g_assert_nonnull (texture);

  /* The worker dies while it renders: the last frame stays. */
  mpel_remote_paintable_set_args (paintable, flag_args ("crash"));
  wait_until (has_error, paintable, "the crash");
  error = mpel_remote_paintable_get_error (paintable);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_true (g_str_has_prefix (error->message, "Frame of “crash”: "));
  g_assert_cmpuint (n_error_notify, ==, 1);
  g_assert_true (mpel_remote_paintable_get_texture (paintable) == texture);
  g_assert_cmpuint (mpel_remote_paintable_get_n_frames (paintable), ==, 1);
  g_assert_cmphex (texture_pixel (texture, 0, 0), ==, 0xffffffff);

  /* A renderer's own error. */
  mpel_remote_paintable_set_args (paintable, flag_args ("fail"));
  wait_until (is_idle, paintable, "the failure");
  g_assert_error (mpel_remote_paintable_get_error (paintable), G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpuint (n_error_notify, ==, 2);

  /* The loop restarted the worker: the next frame is good again. */
  mpel_remote_paintable_set_args (paintable, flag_args (NULL));
  wait_for_frames (paintable, 2);
  g_assert_no_error (mpel_remote_paintable_get_error (paintable));
  g_assert_cmpuint (n_error_notify, ==, 3);

  g_assert_finalize_object (paintable);
  close_loop (g_steal_pointer (&loop));
}

static void
test_hostile (void)
{
  static const struct {
    const char *mode;
    int         code;
    const char *words;
  } cases[] = {
    { "type", MPEL_ERROR_PROTOCOL, "not a s" },
    { "stride", MPEL_ERROR_INVALID_ARGS, "stride of at least 8 bytes, not 4" },
    { "short", MPEL_ERROR_INVALID_ARGS, "only 7 bytes" },
    { "huge", MPEL_ERROR_INVALID_ARGS, "out of bounds" },
    { "negative", MPEL_ERROR_INVALID_ARGS, "out of bounds" },
    { "format", MPEL_ERROR_INVALID_ARGS, "unknown memory format 999" },
    { "overflow", MPEL_ERROR_INVALID_ARGS, "only 8 bytes" },
  };
  g_autoptr(MpelLoop) loop = make_loop ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MpelRemotePaintable *paintable;
      const GError *error;
      GVariantDict dict;

      g_test_message ("mode %s", cases[i].mode);
      g_variant_dict_init (&dict, NULL);
      g_variant_dict_insert (&dict, "mode", "s", cases[i].mode);
      paintable = mpel_remote_paintable_new (loop, "hostile", g_variant_dict_end (&dict));
      wait_until (is_idle, paintable, cases[i].mode);

      error = mpel_remote_paintable_get_error (paintable);
      g_assert_error (error, MPEL_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].words) == NULL)
        g_error ("“%s” does not say “%s”", error->message, cases[i].words);
      g_assert_null (mpel_remote_paintable_get_texture (paintable));
      g_assert_cmpuint (mpel_remote_paintable_get_n_frames (paintable), ==, 0);
      g_assert_finalize_object (paintable);
    }

  close_loop (g_steal_pointer (&loop));
}

static gboolean
has_error_and_frame (gpointer data)
{
  return has_error (data) && mpel_remote_paintable_get_n_frames (data) >= 1;
}

static void
test_watch (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  g_autoptr(GVariant) reply = NULL;
  MpelRemotePaintable *paintable;

  paintable = g_object_new (MPEL_TYPE_REMOTE_PAINTABLE,
                            "loop", loop,
                            "target", "changing",
                            "width", 4,
                            "height", 4,
                            "watch", TRUE,
                            NULL);
  wait_for_frames (paintable, 1);
  g_assert_cmphex (texture_pixel (mpel_remote_paintable_get_texture (paintable), 0, 0), ==, 0xff0000ff);

  /* Watching keeps no event in flight (a subscription to the worker's
   * "changing.changes"): mpel_loop_stop() would not wait for it. */
  g_assert_true (mpel_loop_wait (loop, NULL, NULL));
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 0);

  /* The worker changes by itself: the watch brings a new frame. */
  reply = call (loop, "changing.set", g_variant_new ("(u)", 0xffff00));
  wait_for_frames (paintable, 2);
  g_assert_cmphex (texture_pixel (mpel_remote_paintable_get_texture (paintable), 0, 0), ==, 0xffffff00);
  g_assert_no_error (mpel_remote_paintable_get_error (paintable));

  /* Unwatched, a change brings nothing (checked after a later frame, which
   * would have come after the change's). */
  mpel_remote_paintable_set_watch (paintable, FALSE);
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (loop, "changing.set", g_variant_new ("(u)", 0x00ffff));
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (loop, "mpel.ping", NULL);
  while (g_main_context_iteration (NULL, FALSE));
  g_assert_false (mpel_remote_paintable_is_busy (paintable));
  g_assert_cmpuint (mpel_remote_paintable_get_n_frames (paintable), ==, 2);
  g_assert_finalize_object (paintable);

  /* A target without a watch says so once. */
  paintable = g_object_new (MPEL_TYPE_REMOTE_PAINTABLE,
                            "loop", loop,
                            "target", "hostile",
                            "watch", TRUE,
                            NULL);
  wait_until (has_error_and_frame, paintable, "the refused watch");
  g_assert_error (mpel_remote_paintable_get_error (paintable), MPEL_ERROR, MPEL_ERROR_UNKNOWN_TARGET);
  g_assert_finalize_object (paintable);

  close_loop (g_steal_pointer (&loop));
}

/* A worker that exports no `<target>.changes` is watched through the
 * `<target>.watch` stream, an event in flight while it watches. */
static void
test_watch_stream (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  g_autoptr(GVariant) reply = NULL;
  MpelRemotePaintable *paintable;

  paintable = g_object_new (MPEL_TYPE_REMOTE_PAINTABLE,
                            "loop", loop,
                            "target", "streamed",
                            "width", 4,
                            "height", 4,
                            "watch", TRUE,
                            NULL);
  wait_for_frames (paintable, 1);
  reply = call (loop, "notify", g_variant_new ("(s)", "streamed"));
  wait_for_frames (paintable, 2);
  g_assert_no_error (mpel_remote_paintable_get_error (paintable));
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 1);

  mpel_remote_paintable_set_watch (paintable, FALSE);
  g_assert_true (mpel_loop_wait (loop, NULL, NULL));
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 0);

  g_assert_finalize_object (paintable);
  close_loop (g_steal_pointer (&loop));
}

/* A watch lost with its worker comes back after the next good frame. */
static void
test_watch_after_crash (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  g_autoptr(GVariant) reply = NULL;
  MpelRemotePaintable *paintable;

  paintable = g_object_new (MPEL_TYPE_REMOTE_PAINTABLE,
                            "loop", loop,
                            "target", "crash",
                            "args", flag_args (NULL),
                            "watch", TRUE,
                            NULL);
  wait_for_frames (paintable, 1);
  reply = call (loop, "notify", g_variant_new ("(s)", "crash"));
  wait_for_frames (paintable, 2);

  mpel_remote_paintable_set_args (paintable, flag_args ("crash"));
  wait_until (has_error, paintable, "the crash");
  g_assert_error (mpel_remote_paintable_get_error (paintable), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);

  /* The new worker draws, and the paintable watches it again. */
  mpel_remote_paintable_set_args (paintable, flag_args (NULL));
  wait_for_frames (paintable, 3);
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (loop, "notify", g_variant_new ("(s)", "crash"));
  wait_for_frames (paintable, 4);
  g_assert_no_error (mpel_remote_paintable_get_error (paintable));

  g_assert_finalize_object (paintable);
  close_loop (g_steal_pointer (&loop));
}

static void
test_worker_paintable (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  MpelRemotePaintable *paintable;
  GdkTexture *texture;

  /* Drawn in the worker by a GtkSnapshot and gsk_render_node_draw(), at
   * the paintable's intrinsic size of 3×2. */
  paintable = mpel_remote_paintable_new (loop, "texture", NULL);
  wait_until (is_idle, paintable, "the texture");
  g_assert_no_error (mpel_remote_paintable_get_error (paintable));
  texture = mpel_remote_paintable_get_texture (paintable);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 3);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, 2);
  g_assert_cmphex (texture_pixel (texture, 0, 0), ==, 0xffff0000);
  g_assert_cmphex (texture_pixel (texture, 1, 0), ==, 0xff00ff00);
  g_assert_cmphex (texture_pixel (texture, 2, 0), ==, 0xff0000ff);
  g_assert_cmphex (texture_pixel (texture, 0, 1), ==, 0xffffffff);
  g_assert_cmphex (texture_pixel (texture, 1, 1), ==, 0xff000000);
  g_assert_cmphex (texture_pixel (texture, 2, 1), ==, 0x00000000);

  g_assert_finalize_object (paintable);
  close_loop (g_steal_pointer (&loop));
}

static void
test_dispose_in_flight (void)
{
  g_autoptr(MpelLoop) loop = make_loop ();
  g_autoptr(GVariant) stats = NULL;
  MpelRemotePaintable *paintable;
  guint32 n_renders_before, n_renders, last_value;

  stats = call (loop, "slow-stats", NULL);
  g_variant_get (stats, "(uu)", &n_renders_before, &last_value);

  /* Gone while its frame renders: nothing may touch it afterwards. */
  paintable = mpel_remote_paintable_new (loop, "slow", NULL);
  g_assert_true (mpel_remote_paintable_is_busy (paintable));
  g_assert_finalize_object (paintable);

  g_clear_pointer (&stats, g_variant_unref);
  stats = call (loop, "slow-stats", NULL);
  g_variant_get (stats, "(uu)", &n_renders, &last_value);
  g_assert_cmpuint (n_renders, <=, n_renders_before + 1);

  close_loop (g_steal_pointer (&loop));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/MpelGtk/RemotePaintable/pixels", test_pixels);
  g_test_add_func ("/MpelGtk/RemotePaintable/latest-wins", test_latest_wins);
  g_test_add_func ("/MpelGtk/RemotePaintable/size", test_size);
  g_test_add_func ("/MpelGtk/RemotePaintable/crash", test_crash);
  g_test_add_func ("/MpelGtk/RemotePaintable/hostile", test_hostile);
  g_test_add_func ("/MpelGtk/RemotePaintable/watch", test_watch);
  g_test_add_func ("/MpelGtk/RemotePaintable/watch-stream", test_watch_stream);
  g_test_add_func ("/MpelGtk/RemotePaintable/watch-after-crash", test_watch_after_crash);
  g_test_add_func ("/MpelGtk/RemotePaintable/worker-paintable", test_worker_paintable);
  g_test_add_func ("/MpelGtk/RemotePaintable/dispose-in-flight", test_dispose_in_flight);

  return g_test_run ();
}
