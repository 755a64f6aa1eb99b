/* test-worker.c: MpelWorker and MpelInvocation, and hostile peers on both
 * sides. The test program is its own worker: run with --worker it serves
 * the handlers below; with --hostile KIND it plays a worker that breaks the
 * protocol in one way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "mpel-test-util.h"
#include "mpel-peer-private.h"
#include "mpel-wire-private.h"
#include "mpel-worker-private.h"

static const char *self_path;

/* Worker mode */

static gboolean startup_ran;

static void
on_startup (MpelWorker *worker)
{
  startup_ran = TRUE;
}

static void
on_shutdown (MpelWorker *worker)
{
  const char *path = g_getenv ("MPEL_TEST_SHUTDOWN_FILE");

  if (path != NULL)
    g_file_set_contents (path, "shutdown", -1, NULL);
}

static void
handle_startup_ran (MpelInvocation *invocation,
                    gpointer        user_data)
{
  mpel_invocation_return_value (invocation, g_variant_new_boolean (startup_ran));
}

static gboolean
answer_later_cb (gpointer data)
{
  MpelInvocation *invocation = data;
  gint32 value;

  g_variant_get (mpel_invocation_get_args (invocation), "(i)", &value);
  mpel_invocation_return_value (invocation, g_variant_new_int32 (value * 2));
  return G_SOURCE_REMOVE;
}

/* Answers after the given number of milliseconds; other events run
 * meanwhile. */
static void
handle_double_later (MpelInvocation *invocation,
                     gpointer        user_data)
{
  gint32 value;

  g_variant_get (mpel_invocation_get_args (invocation), "(i)", &value);
  g_timeout_add_full (G_PRIORITY_DEFAULT, value, answer_later_cb,
                      g_object_ref (invocation), g_object_unref);
}

static void
handle_n_running (MpelInvocation *invocation,
                  gpointer        user_data)
{
  MpelWorker *worker = mpel_invocation_get_worker (invocation);

  mpel_invocation_return_value (invocation,
                                g_variant_new_uint32 (mpel_worker_get_n_running (worker)));
}

static void
handle_kwargs (MpelInvocation *invocation,
               gpointer        user_data)
{
  mpel_invocation_return_value (invocation, mpel_invocation_get_kwargs (invocation));
}

/* has_quark (s): whether this process knows the string as a quark. */
static void
handle_has_quark (MpelInvocation *invocation,
                  gpointer        user_data)
{
  const char *name = "";

  if (g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(s)")))
    g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &name);
  mpel_invocation_return_value (invocation, g_variant_new_boolean (g_quark_try_string (name) != 0));
}

static int
run_worker (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GError) error = NULL;

  g_signal_connect (worker, "startup", G_CALLBACK (on_startup), NULL);
  g_signal_connect (worker, "shutdown", G_CALLBACK (on_shutdown), NULL);
  mpel_worker_add_handler (worker, "startup_ran", handle_startup_ran, NULL, NULL);
  mpel_worker_add_handler (worker, "double_later", handle_double_later, NULL, NULL);
  mpel_worker_add_handler (worker, "n_running", handle_n_running, NULL, NULL);
  mpel_worker_add_handler (worker, "kwargs", handle_kwargs, NULL, NULL);
  mpel_worker_add_handler (worker, "has_quark", handle_has_quark, NULL, NULL);
  g_assert_true (mpel_worker_has_handler (worker, "kwargs"));

  if (!mpel_worker_run (worker, &error))
    {
      g_printerr ("worker: %s\n", error->message);
      return 1;
    }
  return 0;
}

/* Hostile mode: blocking raw I/O, one broken frame after the first CALL */

static gboolean
read_all (int     fd,
          void   *buf,
          gsize   len)
{
  guint8 *p = buf;

  while (len > 0)
    {
      gssize n = read (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= n;
    }
  return TRUE;
}

static void
write_all (int         fd,
           const void *buf,
           gsize       len)
{
  const guint8 *p = buf;

  while (len > 0)
    {
      gssize n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        exit (0);
      p += n;
      len -= n;
    }
}

static void
write_frame (int         fd,
             guint8      kind,
             guint32     flags,
             guint64     id,
             GVariant   *body)
{
  gsize size = _mpel_envelope_size (NULL, body, NULL);
  gsize padded = (size + 7) & ~7;
  g_autofree guint8 *buf = g_malloc0 (8 + padded);
  guint32 header[2] = { GUINT32_TO_LE (size), 0 };

  memcpy (buf, header, 8);
  _mpel_envelope_write (buf + 8, size, kind, flags, id, NULL, body, NULL);
  write_all (fd, buf, 8 + padded);
}

static guint64
read_first_call (int fd)
{
  for (;;)
    {
      guint32 header[2];
      g_autofree guint8 *payload = NULL;
      g_autoptr(GBytes) bytes = NULL;
      MpelFrame frame;
      gsize len;

      if (!read_all (fd, header, 8))
        exit (0);
      len = GUINT32_FROM_LE (header[0]);
      g_assert_cmpuint (len, <=, MPEL_DEFAULT_MAX_FRAME);
      payload = g_malloc ((len + 7) & ~7);
      if (!read_all (fd, payload, (len + 7) & ~7))
        exit (0);
      bytes = g_bytes_new_take (g_steal_pointer (&payload), len);
      g_assert_true (_mpel_envelope_parse (bytes, &frame, NULL));
      if (frame.kind == MPEL_FRAME_CALL)
        {
          guint64 id = frame.id;

          _mpel_frame_clear (&frame);
          return id;
        }
      _mpel_frame_clear (&frame);
    }
}

static int
run_hostile (const char *kind)
{
  int fd = atoi (g_getenv ("MPEL_FD"));
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) hello = NULL;
  g_autoptr(GVariant) one = g_variant_ref_sink (g_variant_new_int32 (1));
  guint32 header[2];
  guint64 id;
  char scratch[64];

  g_variant_dict_insert (&dict, "version", "u", (guint32) (g_str_equal (kind, "version") ? 2 : 1));
  hello = g_variant_ref_sink (g_variant_dict_end (&dict));
  if (!g_str_equal (kind, "no-hello"))
    write_frame (fd, MPEL_FRAME_HELLO, 0, 0, hello);

  id = read_first_call (fd);

  if (g_str_equal (kind, "garbage"))
    {
      for (guint i = 0; i < sizeof scratch; i++)
        scratch[i] = 0x5A ^ (i * 7);
      write_all (fd, scratch, sizeof scratch);
    }
  else if (g_str_equal (kind, "truncated"))
    {
      gsize size = _mpel_envelope_size (NULL, one, NULL);
      g_autofree guint8 *buf = g_malloc0 (8 + size);

      header[0] = GUINT32_TO_LE (size);
      header[1] = 0;
      memcpy (buf, header, 8);
      _mpel_envelope_write (buf + 8, size, MPEL_FRAME_RETURN, 0, id, NULL, one, NULL);
      write_all (fd, buf, 8 + size / 2);
      return 0;
    }
  else if (g_str_equal (kind, "over-limit") || g_str_equal (kind, "4gib"))
    {
      header[0] = GUINT32_TO_LE (g_str_equal (kind, "4gib") ? G_MAXUINT32 : MPEL_DEFAULT_MAX_FRAME + 1);
      header[1] = 0;
      write_all (fd, header, 8);
    }
  else if (g_str_equal (kind, "wrong-type"))
    {
      g_autoptr(GVariant) wrong = g_variant_ref_sink (g_variant_new ("(ss)", "not", "an envelope"));
      gsize size = g_variant_get_size (wrong);
      g_autofree guint8 *buf = g_malloc0 (8 + ((size + 7) & ~7));

      header[0] = GUINT32_TO_LE (size);
      header[1] = 0;
      memcpy (buf, header, 8);
      g_variant_store (wrong, buf + 8);
      write_all (fd, buf, 8 + ((size + 7) & ~7));
    }
  else if (g_str_equal (kind, "unknown-kind"))
    write_frame (fd, 77, 0, id, one);
  else if (g_str_equal (kind, "unknown-id"))
    write_frame (fd, MPEL_FRAME_RETURN, 0, id + 1000, one);
  else if (g_str_equal (kind, "double-return"))
    {
      write_frame (fd, MPEL_FRAME_RETURN, 0, id, one);
      write_frame (fd, MPEL_FRAME_RETURN, 0, id, one);
    }
  else if (g_str_equal (kind, "no-hello") || g_str_equal (kind, "version"))
    write_frame (fd, MPEL_FRAME_RETURN, 0, id, one);
  else if (g_str_equal (kind, "call"))
    write_frame (fd, MPEL_FRAME_CALL, 0, id, one);
  else if (g_str_equal (kind, "bad-error"))
    write_frame (fd, MPEL_FRAME_ERROR, 0, id, one);
  else if (g_str_equal (kind, "stray-fd"))
    {
      gsize size = _mpel_envelope_size (NULL, one, NULL);
      g_autofree guint8 *buf = g_malloc0 (8 + ((size + 7) & ~7));
      int devnull = open ("/dev/null", O_RDONLY);

      /* an ITEM, so that the frame is fine and only the fd is wrong */
      header[0] = GUINT32_TO_LE (size);
      header[1] = 0;
      memcpy (buf, header, 8);
      _mpel_envelope_write (buf + 8, size, MPEL_FRAME_ITEM, 0, id, NULL, one, NULL);
      if (test_send_with_fd (fd, buf, 8 + ((size + 7) & ~7), devnull) < 0)
        return 1;
    }

  /* Stay until the app ends us or hangs up. */
  while (read (fd, scratch, sizeof scratch) > 0)
    ;
  return 0;
}

/* Tests */

static MpelLoop *
self_loop_new (const char *mode,
               const char *arg)
{
  const char *argv[] = { self_path, mode, arg, NULL };

  return mpel_loop_new_for_argv (argv);
}

static void
test_hooks (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new ("--worker", NULL);
  g_autofree char *dir = g_dir_make_tmp ("mpel-test-XXXXXX", NULL);
  g_autofree char *marker = g_build_filename (dir, "shutdown", NULL);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  g_setenv ("MPEL_TEST_SHUTDOWN_FILE", marker, TRUE);
  value = test_call_sync (loop, "startup_ran", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_get_boolean (value));

  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  mpel_loop_stop (loop);
  test_iterate_until (!mpel_loop_is_running (loop));
  g_assert_true (g_file_get_contents (marker, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "shutdown");

  g_unlink (marker);
  g_rmdir (dir);
  g_unsetenv ("MPEL_TEST_SHUTDOWN_FILE");
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static gboolean
save_value (MpelLoop  *loop,
            MpelEvent *event,
            GArray    *results)
{
  gint32 value = g_variant_get_int32 (mpel_event_get_result (event));

  g_array_append_val (results, value);
  return FALSE;
}

/* An asynchronous handler lets the next events run; results come back in
 * the order they end. */
static void
test_async_handler (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new ("--worker", NULL);
  g_autoptr(GArray) results = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  g_signal_connect (loop, "output::double_later", G_CALLBACK (save_value), results);
  mpel_loop_add_event (loop, "double_later", g_variant_new ("(i)", 300));
  mpel_loop_add_event (loop, "double_later", g_variant_new ("(i)", 1));

  /* Both are running in the worker at once. */
  value = test_call_sync (loop, "n_running", NULL, &error);
  g_assert_no_error (error);
  test_wait (loop);

  g_assert_cmpuint (results->len, ==, 2);
  g_assert_cmpint (g_array_index (results, gint32, 0), ==, 2);
  g_assert_cmpint (g_array_index (results, gint32, 1), ==, 600);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_kwargs_default (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new ("--worker", NULL);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  value = test_call_sync (loop, "kwargs", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, "a{sv}");
  g_assert_cmpuint (g_variant_n_children (value), ==, 0);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* The object handle of a method call travels as the kwarg "mpel.object";
 * the worker looks it up only where those bytes are (see
 * may_name_object()). kwargs that merely contain them (a value, a longer
 * key) are a plain call's, and reach its handler whole. */
static void
test_kwargs_like_object_key (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new ("--worker", NULL);
  const char *const kwargs[] = {
    "{'note': <'mpel.object'>}",
    "{'mpel.objectx': <uint64 5>, 'xmpel.object': <uint64 7>}",
    "{'a': <'mpel.obj'>, 'mpel.object_': <'mpel.object'>, 'z': <uint64 9>}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (kwargs); i++)
    {
      g_autoptr(MpelEvent) event = mpel_event_new ("kwargs", NULL);
      g_autoptr(GVariant) expected = g_variant_ref_sink (g_variant_new_parsed (kwargs[i]));

      mpel_event_set_kwargs (event, g_variant_new_parsed (kwargs[i]));
      mpel_loop_push (loop, event);
      test_wait (loop);
      g_assert_no_error ((GError *) mpel_event_get_error (event));
      g_assert_true (g_variant_equal (mpel_event_get_result (event), expected));
    }

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A worker binds mpel's text domain itself: a worker in Python or GJS
 * makes no MpelLoop, which used to be the only one to bind it. In a
 * process of its own, as GType classes live as long as the process. */
static void
test_binds_text_domain (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(MpelWorker) worker = mpel_worker_new ();

      g_assert_cmpstr (bindtextdomain (GETTEXT_PACKAGE, NULL), ==, LOCALEDIR);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Target names the app sends that have no handler do not become quarks in
 * the worker, where they would stay for its whole life. */
static void
test_unknown_target_not_interned (void)
{
  g_autoptr(MpelLoop) loop = self_loop_new ("--worker", NULL);
  g_autofree char *name = g_strdup_printf ("no-such-target-%08x%08x", g_random_int (), g_random_int ());
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  value = test_call_sync (loop, name, NULL, &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_UNKNOWN_TARGET);
  g_assert_nonnull (strstr (error->message, name));
  g_clear_error (&error);

  value = test_call_sync (loop, "has_quark", g_variant_new ("(s)", name), &error);
  g_assert_no_error (error);
  g_assert_false (g_variant_get_boolean (value));
  g_clear_pointer (&value, g_variant_unref);

  /* A handled target's name is one, as it should be. */
  value = test_call_sync (loop, "has_quark", g_variant_new ("(s)", "has_quark"), &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_get_boolean (value));

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* An invocation of "t" made here, with these kwargs, that answers nobody. */
static MpelInvocation *
invocation_with_kwargs (MpelWorker *worker,
                        const char *kwargs)
{
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new_tuple (NULL, 0));
  g_autoptr(GVariant) dict = g_variant_ref_sink (g_variant_new_parsed (kwargs));

  return _mpel_invocation_new (worker, 1, "t", args, dict, TRUE);
}

static GVariant *
get_kwarg_ok (MpelInvocation *invocation,
              const char     *name,
              const char     *type)
{
  GVariant *value = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (mpel_invocation_get_kwarg (invocation, name, G_VARIANT_TYPE (type), &value, &error));
  g_assert_no_error (error);
  if (value != NULL)
    {
      g_assert_false (g_variant_is_floating (value));
      g_assert_cmpstr (g_variant_get_type_string (value), ==, type);
    }
  return value;
}

static void
get_kwarg_fails (MpelInvocation *invocation,
                 const char     *name,
                 const char     *type)
{
  GVariant *value = (GVariant *) 0x1;
  g_autoptr(GError) error = NULL;

  g_assert_false (mpel_invocation_get_kwarg (invocation, name, G_VARIANT_TYPE (type), &value, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_null (value);
  g_assert_nonnull (strstr (error->message, name));
  g_assert_nonnull (strstr (error->message, "“t”"));
}

/* mpel_invocation_get_kwarg(): numbers converted where nothing is lost,
 * an error otherwise; absent is not an error. */
static void
test_get_kwarg (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(MpelInvocation) invocation = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *v;

  invocation = invocation_with_kwargs (worker,
    "{'x': <int64 5>, 'big': <int64 5000000000>, 'neg': <-3>, 'two': <2.0>, 'half': <2.5>,"
    " 's': <'str'>, 'b': <byte 200>, 'min': <int64 -9223372036854775808>,"
    " 'max': <uint64 18446744073709551615>, 'p53': <uint64 9007199254740993>, 'huge': <1e300>,"
    " 'flag': <true>}");

  /* What a Python int becomes, for a handler that wants an i */
  v = get_kwarg_ok (invocation, "x", "i");
  g_assert_cmpint (g_variant_get_int32 (v), ==, 5);
  g_variant_unref (v);
  /* The type it has, untouched; any type */
  v = get_kwarg_ok (invocation, "s", "s");
  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "str");
  g_variant_unref (v);
  g_assert_true (mpel_invocation_get_kwarg (invocation, "flag", NULL, &v, &error));
  g_assert_true (g_variant_get_boolean (v));
  g_variant_unref (v);
  /* Absent: not an error, no value; and the value is optional */
  g_assert_null (get_kwarg_ok (invocation, "nope", "i"));
  g_assert_true (mpel_invocation_get_kwarg (invocation, "x", G_VARIANT_TYPE_BYTE, NULL, &error));
  g_assert_no_error (error);

  v = get_kwarg_ok (invocation, "big", "t");
  g_assert_cmpuint (g_variant_get_uint64 (v), ==, G_GUINT64_CONSTANT (5000000000));
  g_variant_unref (v);
  v = get_kwarg_ok (invocation, "big", "d");
  g_assert_cmpfloat (g_variant_get_double (v), ==, 5e9);
  g_variant_unref (v);
  get_kwarg_fails (invocation, "big", "i");
  get_kwarg_fails (invocation, "big", "u");

  v = get_kwarg_ok (invocation, "neg", "n");
  g_assert_cmpint (g_variant_get_int16 (v), ==, -3);
  g_variant_unref (v);
  v = get_kwarg_ok (invocation, "neg", "x");
  g_assert_cmpint (g_variant_get_int64 (v), ==, -3);
  g_variant_unref (v);
  v = get_kwarg_ok (invocation, "neg", "d");
  g_assert_cmpfloat (g_variant_get_double (v), ==, -3.0);
  g_variant_unref (v);
  get_kwarg_fails (invocation, "neg", "u");
  get_kwarg_fails (invocation, "neg", "y");

  v = get_kwarg_ok (invocation, "two", "i");
  g_assert_cmpint (g_variant_get_int32 (v), ==, 2);
  g_variant_unref (v);
  get_kwarg_fails (invocation, "half", "i");
  get_kwarg_fails (invocation, "huge", "x");

  v = get_kwarg_ok (invocation, "b", "n");
  g_assert_cmpint (g_variant_get_int16 (v), ==, 200);
  g_variant_unref (v);
  get_kwarg_fails (invocation, "b", "b");

  v = get_kwarg_ok (invocation, "min", "x");
  g_assert_cmpint (g_variant_get_int64 (v), ==, G_MININT64);
  g_variant_unref (v);
  v = get_kwarg_ok (invocation, "min", "d");
  g_assert_cmpfloat (g_variant_get_double (v), ==, -9223372036854775808.0);
  g_variant_unref (v);
  get_kwarg_fails (invocation, "min", "t");
  get_kwarg_fails (invocation, "max", "x");
  get_kwarg_fails (invocation, "max", "d");
  /* 2^53 + 1 has no double */
  get_kwarg_fails (invocation, "p53", "d");

  /* Not numbers */
  get_kwarg_fails (invocation, "s", "i");
  get_kwarg_fails (invocation, "flag", "i");
  get_kwarg_fails (invocation, "x", "s");
  {
    g_autoptr(GError) e = NULL;

    g_assert_false (mpel_invocation_get_kwarg (invocation, "s", G_VARIANT_TYPE_INT32, NULL, &e));
    g_assert_nonnull (strstr (e->message, "must be i, not s"));
  }

  g_assert_finalize_object (g_steal_pointer (&invocation));
}

/* Keyword arguments whose framing does not hold (bytes from a broken or
 * hostile app): reading one fails that invocation with INVALID_ARGS, a
 * look-up finds nothing, and the blob itself is handed over as it came. */
static void
test_kwargs_malformed (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GVariant) good = g_variant_ref_sink (g_variant_new_parsed ("{'value2': <8>, 'kx': <1>}"));
  gsize size = g_variant_get_size (good);
  guint8 *data = g_memdup2 (g_variant_get_data (good), size);
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new_tuple (NULL, 0));
  g_autoptr(GVariant) dict = NULL;
  g_autoptr(MpelInvocation) invocation = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  /* The first entry's end points past the table */
  data[size - 2] = 0xf0;
  dict = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE_VARDICT, data, size, FALSE, g_free, data));
  invocation = _mpel_invocation_new (worker, 1, "t", args, dict, TRUE);

  g_assert_false (mpel_invocation_get_kwarg (invocation, "value2", G_VARIANT_TYPE_INT32, &value, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "“t”"));
  g_assert_nonnull (strstr (error->message, "malformed"));
  g_assert_null (value);
  g_clear_error (&error);
  /* Absent or not, every name says so */
  g_assert_false (mpel_invocation_get_kwarg (invocation, "nope", NULL, &value, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_null (mpel_invocation_lookup_kwarg (invocation, "value2", NULL));
  g_assert_true (mpel_invocation_get_kwargs (invocation) == dict);

  g_assert_finalize_object (g_steal_pointer (&invocation));
}

/* Looked up in place, a value is what GLib finds, of its own type. */
static void
test_kwargs_lookup (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(MpelInvocation) invocation = NULL;
  g_autoptr(GVariant) s = NULL;
  g_autoptr(GVariant) n = NULL;

  invocation = invocation_with_kwargs (worker, "{'s': <'str'>, 'n': <int64 5>, 'l': <[1, 2]>}");
  s = mpel_invocation_lookup_kwarg (invocation, "s", NULL);
  g_assert_cmpstr (g_variant_get_string (s, NULL), ==, "str");
  g_assert_null (mpel_invocation_lookup_kwarg (invocation, "s", G_VARIANT_TYPE_INT32));
  n = mpel_invocation_lookup_kwarg (invocation, "n", G_VARIANT_TYPE_INT64);
  g_assert_cmpint (g_variant_get_int64 (n), ==, 5);
  g_assert_null (mpel_invocation_lookup_kwarg (invocation, "nope", NULL));
  /* An indefinite expected type matches as in g_variant_lookup_value () */
  {
    g_autoptr(GVariant) l = mpel_invocation_lookup_kwarg (invocation, "l", G_VARIANT_TYPE_ARRAY);

    g_assert_cmpuint (g_variant_n_children (l), ==, 2);
  }

  g_assert_finalize_object (g_steal_pointer (&invocation));
}

/* End to end: a keyword argument of another integer width than the
 * handler reads (a Python int arrives as an x) is used; a string is
 * refused with an error that names it. */
static void
test_kwarg_converted (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) good = mpel_event_new ("add_vals", g_variant_new ("(i)", 7));
  g_autoptr(MpelEvent) bad = mpel_event_new ("add_vals", g_variant_new ("(i)", 7));

  mpel_event_set_kwargs (good, g_variant_new_parsed ("{'value2': <int64 8>}"));
  mpel_event_set_kwargs (bad, g_variant_new_parsed ("{'value2': <'eight'>}"));
  mpel_loop_push (loop, good);
  mpel_loop_push (loop, bad);
  test_wait (loop);

  g_assert_no_error ((GError *) mpel_event_get_error (good));
  g_assert_cmpint (g_variant_get_int32 (mpel_event_get_result (good)), ==, 15);
  g_assert_error ((GError *) mpel_event_get_error (bad), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (mpel_event_get_error (bad)->message, "value2"));

  g_assert_finalize_object (g_steal_pointer (&good));
  g_assert_finalize_object (g_steal_pointer (&bad));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
on_worker_exited (MpelLoop     *loop,
                  guint         index,
                  const GError *reason,
                  GError      **out)
{
  g_assert_null (*out);
  g_assert_nonnull (reason);
  *out = g_error_copy (reason);
}

/* A worker that breaks the protocol: the events in flight fail with
 * MPEL_ERROR_PROTOCOL, once; the worker is ended; the app runs on. */
static void
test_hostile_worker (gconstpointer data)
{
  const char *kind = data;
  g_autoptr(MpelLoop) loop = self_loop_new ("--hostile", kind);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) reason = NULL;
  g_autoptr(GVariant) value = NULL;
  guint n_output = 0;

  g_signal_connect (loop, "output", G_CALLBACK (test_count_output), &n_output);
  g_signal_connect (loop, "worker-exited", G_CALLBACK (on_worker_exited), &reason);

  value = test_call_sync (loop, "anything", NULL, &error);
  if (g_str_equal (kind, "double-return"))
    {
      /* The first answer was good; the second breaks the protocol. */
      g_assert_no_error (error);
      g_assert_cmpint (g_variant_get_int32 (value), ==, 1);
    }
  else
    {
      g_assert_null (value);
      g_assert_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
    }

  test_iterate_until (reason != NULL && !mpel_loop_is_running (loop));
  g_assert_error (reason, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
  g_assert_cmpuint (n_output, ==, 1);
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 0);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Garbage sent to a worker: it exits with a clear message, no crash. */
static void
test_garbage_to_worker (void)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  const char *host = g_getenv ("MPEL_WORKER");
  guint8 garbage[128];
  int sv[2];

  g_assert_nonnull (host);
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  g_subprocess_launcher_take_fd (launcher, sv[1], 3);
  g_subprocess_launcher_setenv (launcher, "MPEL_FD", "3", TRUE);
  subprocess = g_subprocess_launcher_spawn (launcher, &error, host, NULL);
  g_assert_no_error (error);
  g_clear_object (&launcher);

  for (guint i = 0; i < sizeof garbage; i++)
    garbage[i] = 0xC3 ^ i;
  g_assert_cmpint (write (sv[0], garbage, sizeof garbage), ==, sizeof garbage);

  g_subprocess_communicate_utf8 (subprocess, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (subprocess));
  g_assert_cmpint (g_subprocess_get_exit_status (subprocess), ==, 1);
  g_assert_nonnull (strstr (err, "Protocol error"));

  close (sv[0]);
}

/* Held objects: the app side is a bare connection in this process, the
 * worker runs here too, on the same main context. */
typedef struct
{
  MpelConnection *app;
  MpelWorker *worker;
  GObject *objects[2];     /* weak */
  guint n_made;
  guint64 handles[2];
  guint32 n_released;
  guint n_held_after_release;
  gboolean released;
} Held;

static void
hold_handler (MpelInvocation *invocation,
              gpointer        user_data)
{
  Held *held = user_data;
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  guint64 handle;

  g_assert_cmpuint (held->n_made, <, G_N_ELEMENTS (held->objects));
  held->objects[held->n_made] = object;
  g_object_add_weak_pointer (object, (gpointer *) &held->objects[held->n_made]);
  held->n_made++;

  handle = _mpel_worker_hold_object (mpel_invocation_get_worker (invocation), object);
  g_assert_true (_mpel_worker_lookup_object (mpel_invocation_get_worker (invocation), handle) == object);
  mpel_invocation_return_value (invocation, g_variant_new_uint64 (handle));
}

static gboolean
held_app_frame (MpelConnection *conn,
                MpelFrame      *frame,
                gpointer        user_data)
{
  Held *held = user_data;

  if (frame->kind == MPEL_FRAME_HELLO)
    return TRUE;

  g_assert_cmpint (frame->kind, ==, MPEL_FRAME_RETURN);
  if (frame->id <= 2)
    held->handles[frame->id - 1] = g_variant_get_uint64 (frame->body);

  if (frame->id == 2)
    {
      guint64 handles[] = { held->handles[0], 999999 };
      GVariant *args = g_variant_new ("(@at)", g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, handles,
                                                                           G_N_ELEMENTS (handles), sizeof (guint64)));

      g_assert_cmpuint (held->handles[0], !=, 0);
      g_assert_cmpuint (held->handles[0], !=, held->handles[1]);
      _mpel_connection_send (conn, MPEL_FRAME_CALL, 0, 3, "mpel.release", g_variant_ref_sink (args), NULL, NULL);
      g_variant_unref (args);
    }
  else if (frame->id == 3)
    {
      /* Released in one batch; the unknown handle is not counted. */
      held->n_released = g_variant_get_uint32 (frame->body);
      held->n_held_after_release = _mpel_worker_get_n_held (held->worker);
      held->released = held->objects[0] == NULL && held->objects[1] != NULL;
      /* The app goes away: what it still held goes with it. */
      _mpel_connection_close (conn);
      return FALSE;
    }

  return TRUE;
}

static void
held_app_closed (MpelConnection *conn,
                 const GError   *error,
                 gpointer        user_data)
{
}

static void
count_notify (guint *count)
{
  (*count)++;
}

static void
test_held_objects (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GVariant) no_args = g_variant_ref_sink (g_variant_new ("()"));
  g_autofree char *fd_string = NULL;
  Held held = { 0 };
  guint n_running_notifies = 0;
  int sv[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  fd_string = g_strdup_printf ("%d", sv[1]);
  g_setenv ("MPEL_FD", fd_string, TRUE);

  held.worker = worker;
  mpel_worker_add_handler (worker, "test.hold", hold_handler, &held, NULL);
  g_signal_connect_swapped (worker, "notify::n-running", G_CALLBACK (count_notify), &n_running_notifies);
  held.app = _mpel_connection_new (sv[0], NULL, held_app_frame, held_app_closed, &held);
  _mpel_peer_send_hello (held.app);
  _mpel_connection_send (held.app, MPEL_FRAME_CALL, 0, 1, "test.hold", no_args, NULL, NULL);
  _mpel_connection_send (held.app, MPEL_FRAME_CALL, 0, 2, "test.hold", no_args, NULL, NULL);

  /* Returns once the app closed its end. */
  mpel_worker_run (worker, NULL);

  g_assert_cmpuint (held.n_made, ==, 2);
  g_assert_cmpuint (held.n_released, ==, 1);
  g_assert_cmpuint (held.n_held_after_release, ==, 1);
  g_assert_true (held.released);
  g_assert_null (held.objects[1]);
  g_assert_cmpuint (_mpel_worker_get_n_held (worker), ==, 0);
  /* n-running went up and down once per call. */
  g_assert_cmpuint (n_running_notifies, ==, 6);

  _mpel_connection_unref (held.app);
  g_assert_finalize_object (g_steal_pointer (&worker));
}

/* A worker not started by a loop says so. */
static void
test_run_without_fd (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GError) error = NULL;

  g_unsetenv ("MPEL_FD");
  g_assert_false (mpel_worker_run (worker, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "MPEL_FD"));

  g_assert_finalize_object (g_steal_pointer (&worker));
}

static void
test_load_module (void)
{
  g_autoptr(MpelWorker) worker = mpel_worker_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (mpel_worker_has_handler (worker, "add_vals"));
  g_assert_true (mpel_worker_load_module (worker, g_getenv ("MPEL_TEST_MODULE"), &error));
  g_assert_no_error (error);
  g_assert_true (mpel_worker_has_handler (worker, "add_vals"));
  g_assert_true (mpel_worker_remove_handler (worker, "add_vals"));
  g_assert_false (mpel_worker_has_handler (worker, "add_vals"));

  g_assert_false (mpel_worker_load_module (worker, "/nonexistent.so", &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);

  g_assert_finalize_object (g_steal_pointer (&worker));
}

int
main (int   argc,
      char *argv[])
{
  static const char *hostile_kinds[] = {
    "garbage", "truncated", "over-limit", "4gib", "wrong-type", "unknown-kind",
    "unknown-id", "double-return", "call", "bad-error", "stray-fd", "no-hello", "version",
  };

  if (argc >= 2 && g_str_equal (argv[1], "--worker"))
    return run_worker ();
  if (argc >= 3 && g_str_equal (argv[1], "--hostile"))
    return run_hostile (argv[2]);

  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Worker/hooks", test_hooks);
  g_test_add_func ("/Mpel/Worker/async-handler", test_async_handler);
  g_test_add_func ("/Mpel/Worker/kwargs-default", test_kwargs_default);
  g_test_add_func ("/Mpel/Worker/kwargs-like-object-key", test_kwargs_like_object_key);
  g_test_add_func ("/Mpel/Worker/kwargs-malformed", test_kwargs_malformed);
  g_test_add_func ("/Mpel/Worker/kwargs-lookup", test_kwargs_lookup);
  g_test_add_func ("/Mpel/Worker/get-kwarg", test_get_kwarg);
  g_test_add_func ("/Mpel/Worker/binds-text-domain", test_binds_text_domain);
  g_test_add_func ("/Mpel/Worker/kwarg-converted", test_kwarg_converted);
  g_test_add_func ("/Mpel/Worker/unknown-target-not-interned", test_unknown_target_not_interned);
  g_test_add_func ("/Mpel/Worker/garbage", test_garbage_to_worker);
  g_test_add_func ("/Mpel/Worker/run-without-fd", test_run_without_fd);
  g_test_add_func ("/Mpel/Worker/load-module", test_load_module);
  g_test_add_func ("/Mpel/Worker/held-objects", test_held_objects);
  for (guint i = 0; i < G_N_ELEMENTS (hostile_kinds); i++)
    {
      g_autofree char *path = g_strdup_printf ("/Mpel/Worker/hostile/%s", hostile_kinds[i]);

      g_test_add_data_func (path, hostile_kinds[i], test_hostile_worker);
    }

  return g_test_run ();
}
