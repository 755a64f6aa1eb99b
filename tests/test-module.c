/* test-module.c: handlers used by the test suites, the examples' tests and
 * the benchmarks, loaded with `mpel-worker --module`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <mpel.h>

G_MODULE_EXPORT void mpel_module_init (MpelWorker *worker);

/* add_vals (value, value2=1): the seed's quick start. value2 may come as a
 * second argument or as the keyword argument "value2". */
static void
add_vals (MpelInvocation *invocation,
          gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);
  g_autoptr(GVariant) kw = NULL;
  g_autoptr(GError) error = NULL;
  gint32 value, value2 = 1;

  if (g_variant_is_of_type (args, G_VARIANT_TYPE ("(i)")))
    g_variant_get (args, "(i)", &value);
  else if (g_variant_is_of_type (args, G_VARIANT_TYPE ("(ii)")))
    g_variant_get (args, "(ii)", &value, &value2);
  else
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    "add_vals takes (i) or (ii), not %s",
                                    g_variant_get_type_string (args));
      return;
    }

  /* Any integer that fits: a Python int arrives as an x. */
  if (!mpel_invocation_get_kwarg (invocation, "value2", G_VARIANT_TYPE_INT32, &kw, &error))
    {
      mpel_invocation_take_error (invocation, g_steal_pointer (&error));
      return;
    }
  if (kw != NULL)
    value2 = g_variant_get_int32 (kw);

  mpel_invocation_return_value (invocation, g_variant_new_int32 (value + value2));
}

/* add (a, b) -> a + b: the benchmarks' add(i, 1). Reads its arguments
 * child by child: g_variant_get() parses its format string on every call,
 * which costs more than the rest of the handler. */
static void
add (MpelInvocation *invocation,
     gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);
  g_autoptr(GVariant) a = NULL;
  g_autoptr(GVariant) b = NULL;

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(ii)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                            "add takes (ii)");
      return;
    }
  a = g_variant_get_child_value (args, 0);
  b = g_variant_get_child_value (args, 1);
  mpel_invocation_return_value (invocation,
                                g_variant_new_int32 (g_variant_get_int32 (a) + g_variant_get_int32 (b)));
}

/* my_event (n) -> [0, …, n-1]: the seed's MyEvent. */
static void
my_event (MpelInvocation *invocation,
          gpointer        user_data)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("ai"));
  gint32 n;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(i)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                            "my_event takes (i)");
      return;
    }
  g_variant_get (mpel_invocation_get_args (invocation), "(i)", &n);
  for (gint32 i = 0; i < n; i++)
    g_variant_builder_add (&builder, "i", i);
  mpel_invocation_return_value (invocation, g_variant_builder_end (&builder));
}

typedef struct
{
  MpelInvocation *invocation;
  char *name;
  guint n;
  guint i;
} YieldRange;

static void
yield_range_free (gpointer data)
{
  YieldRange *state = data;

  g_clear_object (&state->invocation);
  g_free (state->name);
  g_free (state);
}

static gboolean
yield_range_step (gpointer data)
{
  YieldRange *state = data;

  if (g_cancellable_is_cancelled (mpel_invocation_get_cancellable (state->invocation)))
    {
      mpel_invocation_return_error_literal (state->invocation, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            "yield_range was cancelled");
      return G_SOURCE_REMOVE;
    }

  if (state->i < state->n)
    {
      g_autofree char *item = g_strdup_printf ("%s %u", state->name, state->i++);

      mpel_invocation_yield (state->invocation, g_variant_new_string (item));
      return G_SOURCE_CONTINUE;
    }

  mpel_invocation_return_value (state->invocation, g_variant_new_uint32 (state->n));
  return G_SOURCE_REMOVE;
}

/* range_in_thread (n): yields 0 … n - 1 and returns n, all from a thread
 * of a GTask, as a handler that hands its work to a thread would. */
static void
range_in_thread_run (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  MpelInvocation *invocation = task_data;
  guint32 n = 0;

  g_variant_get (mpel_invocation_get_args (invocation), "(u)", &n);
  for (guint32 i = 0; i < n; i++)
    mpel_invocation_yield (invocation, g_variant_new_uint32 (i));
  mpel_invocation_return_value (invocation, g_variant_new_uint32 (n));
  g_task_return_boolean (task, TRUE);
}

static void
range_in_thread (MpelInvocation *invocation,
                 gpointer        user_data)
{
  g_autoptr(GTask) task = NULL;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(u)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                            "range_in_thread takes (u)");
      return;
    }
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, g_object_ref (invocation), g_object_unref);
  g_task_run_in_thread (task, range_in_thread_run);
}

/* yield_range (n, name): the seed's async generator. One item per main loop
 * iteration, so that two invocations running at once interleave. Returns n. */
static void
yield_range (MpelInvocation *invocation,
             gpointer        user_data)
{
  YieldRange *state;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(us)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                            "yield_range takes (us)");
      return;
    }

  state = g_new0 (YieldRange, 1);
  state->invocation = g_object_ref (invocation);
  g_variant_get (mpel_invocation_get_args (invocation), "(us)", &state->n, &state->name);
  g_idle_add_full (G_PRIORITY_DEFAULT, yield_range_step, state, yield_range_free);
}

/* fail_not_found (path): fails with G_IO_ERROR_NOT_FOUND. */
static void
fail_not_found (MpelInvocation *invocation,
                gpointer        user_data)
{
  const char *path = "(none)";

  if (g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(s)")))
    g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &path);
  mpel_invocation_return_error (invocation, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                "No such file: %s", path);
}

/* die (signal): kills the worker with that signal (0: exit (3)). Nothing is
 * answered: the app must notice the death. */
static void
die (MpelInvocation *invocation,
     gpointer        user_data)
{
  gint32 sig = 0;

  if (g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(i)")))
    g_variant_get (mpel_invocation_get_args (invocation), "(i)", &sig);
  if (sig == 0)
    _exit (3);
  /* The default action, not a sanitizer's handler, which would turn the
   * signal into an abort or an exit status. */
  {
    struct sigaction action = { .sa_handler = SIG_DFL };

    sigaction (sig, &action, NULL);
  }
  kill (getpid (), sig);
  for (;;)
    pause ();
}

/* block (s fifo): writes a byte to the FIFO at that path, then never
 * returns, keeping the worker's main loop busy for good: a handler stuck in
 * a call that cannot be cancelled, at a point the test knows. */
static void
block (MpelInvocation *invocation,
       gpointer        user_data)
{
  const char *path = NULL;
  int fd;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(s)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                            "block takes (s)");
      return;
    }
  g_variant_get (mpel_invocation_get_args (invocation), "(&s)", &path);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (write (fd, "b", 1) != 1)
        _exit (4);
      close (fd);
    }
  for (;;)
    pause ();
}

static gboolean
is_prime (guint32 n)
{
  if (n < 2)
    return FALSE;
  for (guint32 d = 2; d * d <= n; d++)
    if (n % d == 0)
      return FALSE;
  return TRUE;
}

/* count_primes (from, to): a CPU-bound handler for the pool benchmark and
 * for workers stuck in a handler that cannot be cancelled. */
static void
count_primes (MpelInvocation *invocation,
              gpointer        user_data)
{
  guint32 from, to, count = 0;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(uu)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                            "count_primes takes (uu)");
      return;
    }
  g_variant_get (mpel_invocation_get_args (invocation), "(uu)", &from, &to);
  for (guint32 n = from; n < to; n++)
    count += is_prime (n);
  mpel_invocation_return_value (invocation, g_variant_new_uint32 (count));
}

static gboolean
exit_now (gpointer data)
{
  _exit (3);
  return G_SOURCE_REMOVE;
}

/* answer_and_die (i value, u n_items): streams n_items items, answers
 * value, then the worker exits as soon as all of it has been written. */
static void
answer_and_die (MpelInvocation *invocation,
                gpointer        user_data)
{
  gint32 value;
  guint32 n_items;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(iu)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                            "answer_and_die takes (iu)");
      return;
    }
  g_variant_get (mpel_invocation_get_args (invocation), "(iu)", &value, &n_items);
  for (guint32 i = 0; i < n_items; i++)
    mpel_invocation_yield (invocation, g_variant_new_uint32 (i));
  mpel_invocation_return_value (invocation, g_variant_new_int32 (value));
  g_idle_add_full (G_PRIORITY_LOW, exit_now, NULL, NULL);
}

/* forget: returns without answering and without keeping the invocation. */
static void
forget (MpelInvocation *invocation,
        gpointer        user_data)
{
}

/* MyPoint: the seed's Point example, a type without a typelib whose
 * methods are registered with mpel_worker_add_method(). x and y are
 * properties, z is private: get_z reads it. */
#define MY_TYPE_POINT (my_point_get_type ())
G_DECLARE_FINAL_TYPE (MyPoint, my_point, MY, POINT, GObject)

struct _MyPoint
{
  GObject parent_instance;
  int     x, y, z;
};

G_DEFINE_FINAL_TYPE (MyPoint, my_point, G_TYPE_OBJECT)

enum { POINT_PROP_0, POINT_PROP_X, POINT_PROP_Y, POINT_N_PROPS };
static GParamSpec *point_props[POINT_N_PROPS];

static void
my_point_set_xy (MyPoint *self,
                 guint    prop,
                 int      value)
{
  int *field = prop == POINT_PROP_X ? &self->x : &self->y;

  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), point_props[prop]);
}

static void
my_point_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  MyPoint *self = MY_POINT (object);

  g_value_set_int (value, prop_id == POINT_PROP_X ? self->x : self->y);
}

static void
my_point_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  my_point_set_xy (MY_POINT (object), prop_id, g_value_get_int (value));
}

static void
my_point_class_init (MyPointClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = my_point_get_property;
  object_class->set_property = my_point_set_property;
  /* x is bounded: a set outside [-1000, 1000] comes back clamped */
  point_props[POINT_PROP_X] = g_param_spec_int ("x", NULL, NULL, -1000, 1000, 0,
                                                G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  point_props[POINT_PROP_Y] = g_param_spec_int ("y", NULL, NULL, G_MININT, G_MAXINT, 0,
                                                G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, POINT_N_PROPS, point_props);
}

static void
my_point_init (MyPoint *self)
{
}

static void
point_set_z (MpelInvocation *invocation,
             GObject        *object,
             gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(i)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    "set_z takes (i), not %s", g_variant_get_type_string (args));
      return;
    }
  g_variant_get (args, "(i)", &MY_POINT (object)->z);
  mpel_invocation_return_value (invocation, NULL);
}

static void
point_move (MpelInvocation *invocation,
            GObject        *object,
            gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);
  MyPoint *self = MY_POINT (object);
  int x, y;

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(iii)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    "move takes (iii), not %s", g_variant_get_type_string (args));
      return;
    }
  g_variant_get (args, "(iii)", &x, &y, &self->z);
  g_object_freeze_notify (object);
  my_point_set_xy (self, POINT_PROP_X, x);
  my_point_set_xy (self, POINT_PROP_Y, y);
  g_object_thaw_notify (object);
  mpel_invocation_return_value (invocation, NULL);
}

static void
point_get_z (MpelInvocation *invocation,
             GObject        *object,
             gpointer        user_data)
{
  mpel_invocation_return_value (invocation, g_variant_new_int32 (MY_POINT (object)->z));
}

/* fail (): an error with its own domain and code */
static void
point_fail (MpelInvocation *invocation,
            GObject        *object,
            gpointer        user_data)
{
  mpel_invocation_return_error (invocation, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such point");
}

/* move_later (x): answers from an idle, after it moved x there */
typedef struct
{
  MpelInvocation *invocation;
  MyPoint        *point;
  int             x;
} MoveLater;

static gboolean
point_move_later_cb (gpointer data)
{
  MoveLater *later = data;

  my_point_set_xy (later->point, POINT_PROP_X, later->x);
  mpel_invocation_return_value (later->invocation, g_variant_new_int32 (later->x));
  g_object_unref (later->invocation);
  g_object_unref (later->point);
  g_free (later);
  return G_SOURCE_REMOVE;
}

static void
point_move_later (MpelInvocation *invocation,
                  GObject        *object,
                  gpointer        user_data)
{
  MoveLater *later = g_new0 (MoveLater, 1);

  g_variant_get (mpel_invocation_get_args (invocation), "(i)", &later->x);
  later->invocation = g_object_ref (invocation);
  later->point = g_object_ref (MY_POINT (object));
  /* At high priority, ahead of the worker's idle that sends changes: the
   * answer must still come after the change. */
  g_idle_add_full (G_PRIORITY_HIGH, point_move_later_cb, later, NULL);
}

/* wait_cancelled (): answers only when the app cancels the call, with
 * G_IO_ERROR_CANCELLED (which the app no longer waits for). The handler
 * of its cancellable holds the invocation until then: a call never
 * cancelled would keep both. */
static void
point_wait_cancelled_cb (GCancellable   *cancellable,
                         MpelInvocation *invocation)
{
  mpel_invocation_return_error_literal (invocation, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
  g_object_unref (invocation);
}

static void
point_wait_cancelled (MpelInvocation *invocation,
                      GObject        *object,
                      gpointer        user_data)
{
  g_cancellable_connect (mpel_invocation_get_cancellable (invocation),
                         G_CALLBACK (point_wait_cancelled_cb), g_object_ref (invocation), NULL);
}

/* count_in_thread (n): in a thread of a GTask, sets x to 1, 2, … n, then
 * answers n from that thread: a worker object changed from a thread. */
static void
point_count_in_thread_run (GTask        *task,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  MpelInvocation *invocation = task_data;
  MyPoint *self = MY_POINT (source_object);
  gint32 n = 0;

  g_variant_get (mpel_invocation_get_args (invocation), "(i)", &n);
  for (gint32 i = 1; i <= n; i++)
    my_point_set_xy (self, POINT_PROP_X, i);
  mpel_invocation_return_value (invocation, g_variant_new_int32 (n));
  g_task_return_boolean (task, TRUE);
}

static void
point_count_in_thread (MpelInvocation *invocation,
                       GObject        *object,
                       gpointer        user_data)
{
  g_autoptr(GTask) task = NULL;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(i)")))
    {
      mpel_invocation_return_error_literal (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                            "count_in_thread takes (i)");
      return;
    }
  task = g_task_new (object, NULL, NULL, NULL);
  g_task_set_task_data (task, g_object_ref (invocation), g_object_unref);
  g_task_run_in_thread (task, point_count_in_thread_run);
}

/* pid (): the worker's pid, to see which process holds the point */
static void
point_pid (MpelInvocation *invocation,
           GObject        *object,
           gpointer        user_data)
{
  mpel_invocation_return_value (invocation, g_variant_new_int32 (getpid ()));
}

/* drift (x): later, from a timeout, x becomes the value twice in a row
 * (one change), y is notified without a change, and the point is left. */
static gboolean
point_drift_cb (gpointer data)
{
  MyPoint *self = data;

  my_point_set_xy (self, POINT_PROP_X, self->z);
  g_object_notify_by_pspec (G_OBJECT (self), point_props[POINT_PROP_X]);
  g_object_notify_by_pspec (G_OBJECT (self), point_props[POINT_PROP_Y]);
  return G_SOURCE_REMOVE;
}

static void
point_drift (MpelInvocation *invocation,
             GObject        *object,
             gpointer        user_data)
{
  GVariant *args = mpel_invocation_get_args (invocation);

  if (!g_variant_is_of_type (args, G_VARIANT_TYPE ("(i)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    "drift takes (i), not %s", g_variant_get_type_string (args));
      return;
    }
  g_variant_get (args, "(i)", &MY_POINT (object)->z);
  g_timeout_add_full (G_PRIORITY_DEFAULT, 20, point_drift_cb, g_object_ref (object), g_object_unref);
  mpel_invocation_return_value (invocation, NULL);
}

/* shift (i dx) with the keyword scale (i, 1 by default): x += dx * scale;
 * answers the keyword arguments it was given, which must not show the
 * object's handle. */
static void
point_shift (MpelInvocation *invocation,
             GObject        *object,
             gpointer        user_data)
{
  MyPoint *self = MY_POINT (object);
  g_autoptr(GVariant) scale = NULL;
  g_autoptr(GError) error = NULL;
  int dx;

  if (!g_variant_is_of_type (mpel_invocation_get_args (invocation), G_VARIANT_TYPE ("(i)")))
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS, "shift takes (i)");
      return;
    }
  if (!mpel_invocation_get_kwarg (invocation, "scale", G_VARIANT_TYPE_INT32, &scale, &error))
    {
      mpel_invocation_take_error (invocation, g_steal_pointer (&error));
      return;
    }
  g_variant_get (mpel_invocation_get_args (invocation), "(i)", &dx);
  my_point_set_xy (self, POINT_PROP_X, self->x + dx * (scale ? g_variant_get_int32 (scale) : 1));
  mpel_invocation_return_value (invocation, mpel_invocation_get_kwargs (invocation));
}

void
mpel_module_init (MpelWorker *worker)
{
  /* For the test of a module whose init crashes. */
  if (g_getenv ("MPEL_TEST_MODULE_INIT_CRASH") != NULL)
    raise (SIGSEGV);

  mpel_worker_add_handler (worker, "add_vals", add_vals, NULL, NULL);
  mpel_worker_add_handler (worker, "add_one", add_vals, NULL, NULL);
  mpel_worker_add_handler (worker, "add", add, NULL, NULL);
  mpel_worker_add_handler (worker, "my_event", my_event, NULL, NULL);
  mpel_worker_add_handler (worker, "yield_range", yield_range, NULL, NULL);
  mpel_worker_add_handler (worker, "range_in_thread", range_in_thread, NULL, NULL);
  mpel_worker_add_handler (worker, "fail_not_found", fail_not_found, NULL, NULL);
  mpel_worker_add_handler (worker, "die", die, NULL, NULL);
  mpel_worker_add_handler (worker, "block", block, NULL, NULL);
  mpel_worker_add_handler (worker, "count_primes", count_primes, NULL, NULL);
  mpel_worker_add_handler (worker, "forget", forget, NULL, NULL);
  mpel_worker_add_handler (worker, "answer_and_die", answer_and_die, NULL, NULL);

  g_type_ensure (MY_TYPE_POINT);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "set_z", point_set_z, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "move", point_move, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "get_z", point_get_z, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "fail", point_fail, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "drift", point_drift, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "pid", point_pid, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "move_later", point_move_later, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "shift", point_shift, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "wait_cancelled", point_wait_cancelled, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "count_in_thread", point_count_in_thread, NULL, NULL);
  {
    /* For mpel_proxy_new_for_name(): a point the worker made itself */
    g_autoptr(GObject) exported = g_object_new (MY_TYPE_POINT, "x", 11, NULL);

    mpel_worker_export_object (worker, "the-point", exported);
  }
}
