/* test-loop.c: MpelLoop and MpelEvent, with the seed's examples
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>

#include "mpel-test-util.h"

/* The seed's quick start:
 *   add_event(add_vals, 2); add_event(add_vals, 3, 4);
 *   add_event(add_vals, 5, value2=6); add_event(add_vals, args=(7,), kwargs={'value2': 8})
 *   → results == [3, 7, 11, 15], sum 36 */

static gboolean
save_result (MpelLoop  *loop,
             MpelEvent *event,
             GArray    *results)
{
  gint32 value;

  g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_DONE);
  g_assert_true (g_variant_is_of_type (mpel_event_get_result (event), G_VARIANT_TYPE_INT32));
  value = g_variant_get_int32 (mpel_event_get_result (event));
  g_array_append_val (results, value);

  return FALSE;
}

static void
test_quick_start (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GArray) results = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(MpelEvent) e3 = NULL;
  g_autoptr(MpelEvent) e4 = NULL;
  g_autoptr(GError) error = NULL;
  GVariantDict kwargs;
  gint32 sum = 0;

  g_signal_connect (loop, "output", G_CALLBACK (save_result), results);

  g_assert_true (mpel_loop_start (loop, &error));
  g_assert_no_error (error);
  g_assert_true (mpel_loop_is_running (loop));

  mpel_loop_add_event (loop, "add_vals", g_variant_new ("(i)", 2));
  mpel_loop_add_event (loop, "add_vals", g_variant_new ("(ii)", 3, 4));

  e3 = mpel_event_new ("add_vals", g_variant_new ("(i)", 5));
  g_variant_dict_init (&kwargs, NULL);
  g_variant_dict_insert (&kwargs, "value2", "i", 6);
  mpel_event_set_kwargs (e3, g_variant_dict_end (&kwargs));
  mpel_loop_push (loop, e3);

  e4 = mpel_event_new ("add_vals", g_variant_new_int32 (7));
  g_variant_dict_init (&kwargs, NULL);
  g_variant_dict_insert (&kwargs, "value2", "i", 8);
  mpel_event_set_kwargs (e4, g_variant_dict_end (&kwargs));
  mpel_loop_push (loop, e4);

  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 4);
  test_wait (loop);
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 0);

  g_assert_cmpuint (results->len, ==, 4);
  g_assert_cmpint (g_array_index (results, gint32, 0), ==, 3);
  g_assert_cmpint (g_array_index (results, gint32, 1), ==, 7);
  g_assert_cmpint (g_array_index (results, gint32, 2), ==, 11);
  g_assert_cmpint (g_array_index (results, gint32, 3), ==, 15);
  for (guint i = 0; i < results->len; i++)
    sum += g_array_index (results, gint32, i);
  g_assert_cmpint (sum, ==, 36);

  g_assert_cmpuint (mpel_event_get_id (e3), <, mpel_event_get_id (e4));
  g_assert_cmpint (mpel_event_get_state (e4), ==, MPEL_EVENT_STATE_DONE);

  mpel_loop_stop (loop);
  test_iterate_until (!mpel_loop_is_running (loop));

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* The seed's alternative approach: the loop starts by itself, and can be
 * used again after a wait. add_one(1..4) → sum 14. */
static void
test_auto_start (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GArray) results = g_array_new (FALSE, FALSE, sizeof (gint32));
  gint32 sum = 0;

  g_signal_connect (loop, "output", G_CALLBACK (save_result), results);
  g_assert_false (mpel_loop_is_running (loop));

  for (int i = 1; i <= 3; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  g_assert_true (mpel_loop_is_running (loop));
  test_wait (loop);

  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 4));
  test_wait (loop);

  for (guint i = 0; i < results->len; i++)
    sum += g_array_index (results, gint32, i);
  g_assert_cmpuint (results->len, ==, 4);
  g_assert_cmpint (sum, ==, 14);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* The seed's module-level loop: one per process, usable like any other. */
static void
test_default_loop (void)
{
  MpelLoop *loop = mpel_loop_get_default ();
  const char *modules[] = { g_getenv ("MPEL_TEST_MODULE"), NULL };
  g_autoptr(GArray) results = g_array_new (FALSE, FALSE, sizeof (gint32));
  gulong id;

  g_assert_true (MPEL_IS_LOOP (loop));
  g_assert_true (mpel_loop_get_default () == loop);

  mpel_loop_set_modules (loop, modules);
  id = g_signal_connect (loop, "output", G_CALLBACK (save_result), results);
  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 13));
  test_wait (loop);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpint (g_array_index (results, gint32, 0), ==, 14);

  g_signal_handler_disconnect (loop, id);
  mpel_loop_close (loop);
}

/* A handler that runs a main loop of its own (a modal dialog, say): the
 * frames that arrive meanwhile wait, nothing is decoded under the handler,
 * and every item still arrives once, in order. Here the nested loop waits
 * for a call on a second loop, whose worker must first be spawned, while the
 * first worker keeps streaming items into the socket. */
typedef struct
{
  MpelLoop *other;
  GPtrArray *items;
  gboolean in_handler;
  gboolean nested_done;
} NestedState;

static void
nested_call_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  NestedState *state = user_data;
  g_autoptr(GVariant) value = mpel_loop_call_finish (MPEL_LOOP (object), result, NULL);

  g_assert_nonnull (value);
  state->nested_done = TRUE;
}

static void
nested_item (MpelLoop    *loop,
             MpelEvent   *event,
             GVariant    *item,
             NestedState *state)
{
  /* Never called under itself. */
  g_assert_false (state->in_handler);
  g_ptr_array_add (state->items, g_variant_dup_string (item, NULL));

  if (state->items->len != 5)
    return;

  state->in_handler = TRUE;
  mpel_loop_call_async (state->other, "mpel.ping", NULL, NULL, nested_call_done, state);
  while (!state->nested_done)
    g_main_context_iteration (NULL, TRUE);
  state->in_handler = FALSE;
}

static void
test_nested_main_loop (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelLoop) other = test_loop_new ();
  NestedState state = { other, g_ptr_array_new_with_free_func (g_free), FALSE, FALSE };

  g_signal_connect (loop, "item", G_CALLBACK (nested_item), &state);
  mpel_loop_add_event (loop, "yield_range", g_variant_new ("(us)", 2000, "n"));
  test_wait (loop);

  g_assert_true (state.nested_done);
  g_assert_cmpuint (state.items->len, ==, 2000);
  for (guint i = 0; i < state.items->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("n %u", i);

      g_assert_cmpstr (g_ptr_array_index (state.items, i), ==, expected);
    }

  g_ptr_array_unref (state.items);
  g_assert_finalize_object (g_steal_pointer (&other));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* The seed's "Output Handlers" example: print_my_event returns True for
 * MyEvent, so print_event never sees those. */
static gboolean
print_my_event (MpelLoop  *loop,
                MpelEvent *event,
                GString   *log)
{
  if (g_str_equal (mpel_event_get_target (event), "my_event"))
    {
      g_autofree char *text = g_variant_print (mpel_event_get_result (event), FALSE);

      g_string_append_printf (log, "My Event %s\n", text);
      return TRUE;
    }

  g_string_append (log, "Not My Event\n");
  return FALSE;
}

static gboolean
print_event (MpelLoop  *loop,
             MpelEvent *event,
             GString   *log)
{
  g_string_append_printf (log, "Normal Event %d\n",
                          g_variant_get_int32 (mpel_event_get_result (event)));
  return FALSE;
}

static void
test_output_stop_propagation (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GString) log = g_string_new (NULL);

  g_signal_connect (loop, "output", G_CALLBACK (print_my_event), log);
  g_signal_connect (loop, "output", G_CALLBACK (print_event), log);

  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1));
  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 2));
  mpel_loop_add_event (loop, "my_event", g_variant_new ("(i)", 3));
  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 4));
  mpel_loop_add_event (loop, "my_event", g_variant_new ("(i)", 5));
  test_wait (loop);

  g_assert_cmpstr (log->str, ==,
                   "Not My Event\n"
                   "Normal Event 2\n"
                   "Not My Event\n"
                   "Normal Event 3\n"
                   "My Event [0, 1, 2]\n"
                   "Not My Event\n"
                   "Normal Event 5\n"
                   "My Event [0, 1, 2, 3, 4]\n");

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_output_detail (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  guint n_all = 0, n_my_event = 0;

  g_signal_connect (loop, "output", G_CALLBACK (test_count_output), &n_all);
  g_signal_connect (loop, "output::my_event", G_CALLBACK (test_count_output), &n_my_event);

  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1));
  mpel_loop_add_event (loop, "my_event", g_variant_new ("(i)", 3));
  mpel_loop_add_event (loop, "my_event", g_variant_new ("(i)", 1));
  test_wait (loop);

  g_assert_cmpuint (n_all, ==, 3);
  g_assert_cmpuint (n_my_event, ==, 2);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* The seed's async example: yield_range(5, 'first') and (5, 'second') run
 * at once and their items interleave. */
typedef struct
{
  GPtrArray *items;
  GPtrArray *event_items;
  GPtrArray *results;
} StreamState;

static void
on_loop_item (MpelLoop    *loop,
              MpelEvent   *event,
              GVariant    *item,
              StreamState *state)
{
  g_assert_cmpstr (mpel_event_get_target (event), ==, "yield_range");
  g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_RUNNING);
  g_ptr_array_add (state->items, g_variant_dup_string (item, NULL));
}

static void
on_event_item (MpelEvent   *event,
               GVariant    *item,
               StreamState *state)
{
  g_ptr_array_add (state->event_items, g_variant_dup_string (item, NULL));
}

static void
test_streamed_items (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  StreamState state = {
    g_ptr_array_new_with_free_func (g_free),
    g_ptr_array_new_with_free_func (g_free),
    NULL,
  };
  MpelEvent *first, *second;
  guint last_first = 0, first_second = G_MAXUINT;
  guint n_first = 0, n_second = 0;

  g_signal_connect (loop, "item::yield_range", G_CALLBACK (on_loop_item), &state);

  first = mpel_loop_add_event (loop, "yield_range", g_variant_new ("(us)", 5, "first"));
  second = mpel_loop_add_event (loop, "yield_range", g_variant_new ("(us)", 5, "second"));
  g_object_ref (first);
  g_object_ref (second);
  g_signal_connect (first, "item", G_CALLBACK (on_event_item), &state);
  g_signal_connect (second, "item", G_CALLBACK (on_event_item), &state);
  test_wait (loop);

  g_assert_cmpuint (state.items->len, ==, 10);
  g_assert_cmpuint (state.event_items->len, ==, 10);
  for (guint i = 0; i < state.items->len; i++)
    {
      const char *item = g_ptr_array_index (state.items, i);

      g_assert_cmpstr (item, ==, g_ptr_array_index (state.event_items, i));
      if (g_str_has_prefix (item, "first "))
        {
          g_assert_cmpint (atoi (item + 6), ==, n_first++);
          last_first = i;
        }
      else
        {
          g_assert_true (g_str_has_prefix (item, "second "));
          g_assert_cmpint (atoi (item + 7), ==, n_second++);
          first_second = MIN (first_second, i);
        }
    }
  g_assert_cmpuint (n_first, ==, 5);
  g_assert_cmpuint (n_second, ==, 5);
  /* Interleaved: the second began before the first was done. */
  g_assert_cmpuint (first_second, <, last_first);

  g_assert_cmpuint (g_variant_get_uint32 (mpel_event_get_result (first)), ==, 5);
  g_assert_cmpuint (g_variant_get_uint32 (mpel_event_get_result (second)), ==, 5);

  g_ptr_array_unref (state.items);
  g_ptr_array_unref (state.event_items);
  g_assert_finalize_object (first);
  g_assert_finalize_object (second);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static gboolean
store_failed_event (MpelLoop   *loop,
                    MpelEvent  *event,
                    MpelEvent **out)
{
  g_set_object (out, event);
  return FALSE;
}

typedef struct
{
  GArray *items;   /* guint32, per event */
  guint32 result;
} ThreadRange;

static void
on_thread_range_item (MpelEvent   *event,
                      GVariant    *item,
                      ThreadRange *range)
{
  guint32 value = g_variant_get_uint32 (item);

  g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_RUNNING);
  g_array_append_val (range->items, value);
}

/* A handler that answers, and streams, from a thread of its own (a GTask
 * run in a thread): every item and every answer arrives, in order, for 64
 * such events at once (see the worker's answer () in mpel-invocation.c). */
static void
test_answer_from_thread (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_object_unref);
  ThreadRange ranges[64];

  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      MpelEvent *event = mpel_loop_add_event (loop, "range_in_thread", g_variant_new ("(u)", i * 7));

      ranges[i].items = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_signal_connect (event, "item", G_CALLBACK (on_thread_range_item), &ranges[i]);
      g_ptr_array_add (events, g_object_ref (event));
    }
  test_wait (loop);

  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      MpelEvent *event = g_ptr_array_index (events, i);

      g_assert_no_error ((GError *) mpel_event_get_error (event));
      g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_DONE);
      g_assert_cmpuint (g_variant_get_uint32 (mpel_event_get_result (event)), ==, i * 7);
      g_assert_cmpuint (ranges[i].items->len, ==, i * 7);
      for (guint j = 0; j < ranges[i].items->len; j++)
        g_assert_cmpuint (g_array_index (ranges[i].items, guint32, j), ==, j);
      g_array_unref (ranges[i].items);
    }

  g_ptr_array_set_size (events, 0);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A handler's error keeps its domain and code on the app side. */
static void
test_error_domain (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(MpelEvent) failed = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  g_signal_connect (loop, "output", G_CALLBACK (store_failed_event), &failed);

  mpel_loop_call_async (loop, "fail_not_found", g_variant_new ("(s)", "/nowhere"),
                        NULL, test_store_result, &result);
  test_iterate_until (result != NULL);

  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_null (value);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "No such file: /nowhere");

  g_assert_nonnull (failed);
  g_assert_cmpint (mpel_event_get_state (failed), ==, MPEL_EVENT_STATE_FAILED);
  g_assert_error ((GError *) mpel_event_get_error (failed), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (mpel_event_get_result (failed));

  /* The worker lives on after a handler's error. */
  g_clear_error (&error);
  g_clear_object (&result);
  mpel_loop_call_async (loop, "add_vals", g_variant_new ("(ii)", 20, 22), NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  g_clear_pointer (&value, g_variant_unref);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 42);

  g_clear_object (&failed);
  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_unknown_target (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  mpel_loop_call_async (loop, "no_such_target", NULL, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_UNKNOWN_TARGET);
  g_assert_nonnull (strstr (error->message, "no_such_target"));

  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_invalid_args (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  mpel_loop_call_async (loop, "add_vals", g_variant_new ("(s)", "two"), NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);

  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A handler that neither answers nor keeps its invocation ends its event
 * with an error instead of leaving the app waiting. */
static void
test_forgotten_invocation (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  mpel_loop_call_async (loop, "forget", NULL, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "forget"));

  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_builtins (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  mpel_loop_call_async (loop, "mpel.ping", NULL, NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, mpel_loop_get_worker_pid (loop, 0));
  g_assert_cmpint (g_variant_get_int32 (value), !=, getpid ());

  g_clear_object (&result);
  g_clear_pointer (&value, g_variant_unref);
  mpel_loop_call_async (loop, "mpel.echo", g_variant_new ("(sau)", "x", NULL), NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, "(sau)");

  g_clear_object (&result);
  g_clear_pointer (&value, g_variant_unref);
  mpel_loop_call_async (loop, "mpel.sleep", g_variant_new ("(u)", 1), NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_no_error (error);
  g_assert_null (value);

  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
error_free0 (gpointer error)
{
  if (error != NULL)
    g_error_free (error);
}

static void
on_worker_exited (MpelLoop     *loop,
                  guint         index,
                  const GError *reason,
                  GPtrArray    *reasons)
{
  g_ptr_array_add (reasons, reason ? g_error_copy (reason) : NULL);
}

/* stop() is graceful: what was added still runs, then the workers exit
 * cleanly and the loop stops. */
static void
test_stop_graceful (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GArray) results = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func (error_free0);
  g_autoptr(MpelEvent) late = NULL;
  g_autoptr(MpelEvent) cancelled = NULL;

  mpel_loop_set_max_in_flight (loop, 2);
  g_signal_connect (loop, "output::add_one", G_CALLBACK (save_result), results);
  g_signal_connect (loop, "worker-exited", G_CALLBACK (on_worker_exited), reasons);

  for (int i = 0; i < 10; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  mpel_loop_stop (loop);
  g_assert_true (mpel_loop_is_running (loop));

  /* Added while stopping: it fails, it is not lost. */
  late = g_object_ref (mpel_loop_add_event (loop, "add_vals", g_variant_new ("(i)", 100)));
  g_assert_null (mpel_event_get_error (late));

  /* One cancelled before its failure is delivered ends cancelled, once. */
  cancelled = g_object_ref (mpel_loop_add_event (loop, "add_vals", g_variant_new ("(i)", 101)));
  mpel_event_cancel (cancelled);
  g_assert_cmpint (mpel_event_get_state (cancelled), ==, MPEL_EVENT_STATE_CANCELLED);
  g_assert_error ((GError *) mpel_event_get_error (cancelled), G_IO_ERROR, G_IO_ERROR_CANCELLED);

  test_wait (loop);
  test_iterate_until (!mpel_loop_is_running (loop));

  g_assert_cmpuint (results->len, ==, 10);
  for (guint i = 0; i < results->len; i++)
    g_assert_cmpint (g_array_index (results, gint32, i), ==, (gint32) i + 1);
  g_assert_cmpint (mpel_event_get_state (late), ==, MPEL_EVENT_STATE_FAILED);
  g_assert_error ((GError *) mpel_event_get_error (late), MPEL_ERROR, MPEL_ERROR_CLOSED);
  g_assert_cmpint (mpel_event_get_state (cancelled), ==, MPEL_EVENT_STATE_CANCELLED);
  g_assert_error ((GError *) mpel_event_get_error (cancelled), G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_assert_cmpuint (reasons->len, ==, 1);
  g_assert_null (g_ptr_array_index (reasons, 0));

  g_assert_finalize_object (g_steal_pointer (&late));
  g_assert_finalize_object (g_steal_pointer (&cancelled));
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static gboolean
record_error (MpelLoop  *loop,
              MpelEvent *event,
              GPtrArray *errors)
{
  g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_FAILED);
  g_ptr_array_add (errors, g_error_copy (mpel_event_get_error (event)));
  return FALSE;
}

/* close() fails what is pending with MPEL_ERROR_CLOSED, in-flight first. */
static void
test_close (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;

  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);

  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 60000));
  for (int i = 0; i < 5; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  mpel_loop_call_async (loop, "add_one", g_variant_new ("(i)", 1), NULL, test_store_result, &result);
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 7);

  mpel_loop_close (loop);
  g_assert_false (mpel_loop_is_running (loop));
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 0);
  g_assert_cmpuint (errors->len, ==, 7);
  for (guint i = 0; i < errors->len; i++)
    g_assert_error ((GError *) g_ptr_array_index (errors, i), MPEL_ERROR, MPEL_ERROR_CLOSED);

  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_CLOSED);
  g_clear_object (&result);

  /* The loop can be started again. */
  g_signal_handlers_disconnect_by_func (loop, record_error, errors);
  g_clear_error (&error);
  mpel_loop_call_async (loop, "add_one", g_variant_new ("(i)", 41), NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 42);

  g_clear_object (&result);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
on_finished (MpelEvent *event,
             guint     *count)
{
  (*count)++;
}

/* A loop dropped with events pending neither crashes nor leaks; the events
 * end CLOSED and tell their owners. */
static void
test_finalize_pending (void)
{
  MpelLoop *loop = test_loop_new ();
  g_autoptr(MpelEvent) running = NULL;
  g_autoptr(MpelEvent) queued = NULL;
  guint n_finished = 0;

  mpel_loop_set_max_in_flight (loop, 1);
  running = g_object_ref (mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 60000)));
  queued = g_object_ref (mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1)));
  for (int i = 0; i < 100; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  g_signal_connect (running, "finished", G_CALLBACK (on_finished), &n_finished);
  g_signal_connect (queued, "finished", G_CALLBACK (on_finished), &n_finished);

  g_assert_finalize_object (loop);

  g_assert_cmpuint (n_finished, ==, 2);
  g_assert_cmpint (mpel_event_get_state (running), ==, MPEL_EVENT_STATE_FAILED);
  g_assert_error ((GError *) mpel_event_get_error (running), MPEL_ERROR, MPEL_ERROR_CLOSED);
  g_assert_cmpint (mpel_event_get_state (queued), ==, MPEL_EVENT_STATE_FAILED);

  g_assert_finalize_object (g_steal_pointer (&running));
  g_assert_finalize_object (g_steal_pointer (&queued));
}

/* NO_REPLY: no result and no output on success; a failure still reaches
 * output. */
static void
test_no_reply (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(MpelEvent) ok = mpel_event_new ("add_one", g_variant_new ("(i)", 1));
  g_autoptr(MpelEvent) bad = mpel_event_new ("fail_not_found", g_variant_new ("(s)", "x"));
  guint n_finished = 0;

  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);
  mpel_event_set_flags (ok, MPEL_EVENT_FLAGS_NO_REPLY);
  mpel_event_set_flags (bad, MPEL_EVENT_FLAGS_NO_REPLY);
  g_signal_connect (ok, "finished", G_CALLBACK (on_finished), &n_finished);
  mpel_loop_push (loop, ok);
  mpel_loop_push (loop, bad);
  test_wait (loop);

  g_assert_cmpuint (n_finished, ==, 1);
  g_assert_cmpint (mpel_event_get_state (ok), ==, MPEL_EVENT_STATE_DONE);
  g_assert_null (mpel_event_get_result (ok));
  g_assert_cmpuint (errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (errors, 0), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* Cancelling: a queued event is removed, a running one is cancelled in the
 * worker (mpel.sleep stops) and ends at once. */
static void
test_cancel (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  MpelEvent *queued;
  guint n_output = 0;

  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "output", G_CALLBACK (test_count_output), &n_output);

  mpel_loop_call_async (loop, "mpel.sleep", g_variant_new ("(u)", 60000), cancellable, test_store_result, &result);
  queued = g_object_ref (mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1)));
  g_assert_cmpint (mpel_event_get_state (queued), ==, MPEL_EVENT_STATE_QUEUED);

  mpel_event_cancel (queued);
  g_assert_cmpint (mpel_event_get_state (queued), ==, MPEL_EVENT_STATE_CANCELLED);
  g_assert_error ((GError *) mpel_event_get_error (queued), G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_cancellable_cancel (cancellable);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (n_output, ==, 0);

  /* The worker answered the cancelled sleep and serves the next event. */
  g_clear_object (&result);
  g_clear_error (&error);
  mpel_loop_call_async (loop, "add_one", g_variant_new ("(i)", 2), NULL, test_store_result, &result);
  test_iterate_until (result != NULL);
  value = mpel_loop_call_finish (loop, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 3);

  g_clear_object (&result);
  g_assert_finalize_object (queued);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_timeout (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(MpelEvent) event = mpel_event_new ("mpel.sleep", g_variant_new ("(u)", 60000));
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);

  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);
  mpel_event_set_timeout (event, 50);
  mpel_loop_push (loop, event);
  test_wait (loop);

  g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_FAILED);
  g_assert_error ((GError *) mpel_event_get_error (event), MPEL_ERROR, MPEL_ERROR_TIMED_OUT);
  g_assert_cmpuint (errors->len, ==, 1);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_priority (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GArray) results = g_array_new (FALSE, FALSE, sizeof (gint32));
  const int priorities[] = { 0, 10, -10, 0, 10, -10 };

  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "output::add_one", G_CALLBACK (save_result), results);

  /* Holds the only slot so the rest queue up by priority. */
  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 20));
  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      g_autoptr(MpelEvent) event = mpel_event_new ("add_one", g_variant_new ("(i)", (int) i));

      mpel_event_set_priority (event, priorities[i]);
      mpel_loop_push (loop, event);
    }
  test_wait (loop);

  /* -10: 2, 5; 0: 0, 3; 10: 1, 4 (each +1) */
  g_assert_cmpuint (results->len, ==, 6);
  g_assert_cmpint (g_array_index (results, gint32, 0), ==, 3);
  g_assert_cmpint (g_array_index (results, gint32, 1), ==, 6);
  g_assert_cmpint (g_array_index (results, gint32, 2), ==, 1);
  g_assert_cmpint (g_array_index (results, gint32, 3), ==, 4);
  g_assert_cmpint (g_array_index (results, gint32, 4), ==, 2);
  g_assert_cmpint (g_array_index (results, gint32, 5), ==, 5);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static gboolean
save_echo (MpelLoop  *loop,
           MpelEvent *event,
           GPtrArray *results)
{
  g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_DONE);
  g_ptr_array_add (results, g_variant_ref (mpel_event_get_result (event)));
  return FALSE;
}

/* Events queued deep (behind a full window and as many again) keep their
 * arguments serialised (see _mpel_event_compact()): what the caller kept of
 * them, what the getter gives and what the worker gets do not change, small
 * or large. */
static void
test_queued_args (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GVariant) kept = g_variant_ref_sink (g_variant_new_string ("kept by the caller"));
  g_autofree char *large = g_strnfill (64 * 1024, 'x');

  mpel_loop_set_max_in_flight (loop, 1);
  g_signal_connect (loop, "output::mpel.echo", G_CALLBACK (save_echo), results);

  /* Holds the only slot so that the rest queue up. */
  mpel_loop_add_event (loop, "mpel.sleep", g_variant_new ("(u)", 20));
  for (int i = 0; i < 8; i++)
    {
      g_autoptr(MpelEvent) event = NULL;
      GVariant *children[3];

      /* A tree of values, one of which the caller keeps a reference to */
      children[0] = g_variant_new_int32 (i);
      children[1] = kept;
      children[2] = g_variant_new_string (i == 5 ? large : "small");
      event = mpel_event_new ("mpel.echo", g_variant_new_tuple (children, 3));
      g_ptr_array_add (expected, g_variant_ref_sink (g_variant_new ("(iss)", i, "kept by the caller",
                                                                      i == 5 ? large : "small")));
      mpel_loop_push (loop, event);
      g_ptr_array_add (events, g_steal_pointer (&event));
    }

  for (guint i = 0; i < events->len; i++)
    {
      MpelEvent *event = g_ptr_array_index (events, i);

      g_assert_cmpint (mpel_event_get_state (event), ==, MPEL_EVENT_STATE_QUEUED);
      g_assert_true (g_variant_equal (mpel_event_get_args (event), g_ptr_array_index (expected, i)));
    }
  g_assert_cmpstr (g_variant_get_string (kept, NULL), ==, "kept by the caller");

  test_wait (loop);

  g_assert_cmpuint (results->len, ==, 8);
  for (guint i = 0; i < results->len; i++)
    {
      g_assert_true (g_variant_equal (g_ptr_array_index (results, i), g_ptr_array_index (expected, i)));
      g_assert_true (g_variant_equal (mpel_event_get_args (g_ptr_array_index (events, i)),
                                      g_ptr_array_index (expected, i)));
    }
  g_assert_cmpstr (g_variant_get_string (kept, NULL), ==, "kept by the caller");

  g_ptr_array_set_size (events, 0);
  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* An event made with g_object_new () and its properties, as Python and GJS
 * make them; the target and the arguments, like the options, are fixed
 * once the event is pushed. */
static void
test_event_properties (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GArray) results = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(MpelEvent) event = NULL;
  g_autoptr(MpelEvent) bare = NULL;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GVariant) expected = NULL;
  g_autofree char *target = NULL;

  g_signal_connect (loop, "output::add_one", G_CALLBACK (save_result), results);

  event = g_object_new (MPEL_TYPE_EVENT,
                        "target", "add_one",
                        "args", g_variant_new ("(i)", 41),
                        NULL);
  g_assert_cmpstr (mpel_event_get_target (event), ==, "add_one");

  /* Changed before the push: the last one counts */
  g_object_set (event, "args", g_variant_new ("(i)", 1), NULL);
  mpel_loop_push (loop, event);

  g_test_expect_message ("Mpel", G_LOG_LEVEL_CRITICAL, "*!self->pushed*");
  g_object_set (event, "target", "other", NULL);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Mpel", G_LOG_LEVEL_CRITICAL, "*!self->pushed*");
  g_object_set (event, "args", g_variant_new ("(i)", 7), NULL);
  g_test_assert_expected_messages ();

  test_wait (loop);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpint (g_array_index (results, gint32, 0), ==, 2);
  g_object_get (event, "target", &target, "args", &args, NULL);
  g_assert_cmpstr (target, ==, "add_one");
  expected = g_variant_ref_sink (g_variant_new ("(i)", 1));
  g_assert_true (g_variant_equal (args, expected));

  /* With neither: () for arguments, and refused when pushed */
  bare = g_object_new (MPEL_TYPE_EVENT, NULL);
  g_assert_null (mpel_event_get_target (bare));
  g_clear_pointer (&expected, g_variant_unref);
  expected = g_variant_ref_sink (g_variant_new ("()"));
  g_assert_true (g_variant_equal (mpel_event_get_args (bare), expected));
  mpel_loop_push (loop, bare);
  test_wait (loop);
  g_assert_cmpint (mpel_event_get_state (bare), ==, MPEL_EVENT_STATE_FAILED);
  g_assert_error (mpel_event_get_error (bare), MPEL_ERROR, MPEL_ERROR_INVALID_ARGS);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
store_bool (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  int *out = user_data;
  g_autoptr(GError) error = NULL;

  *out = mpel_loop_wait_finish (MPEL_LOOP (object), result, &error) ? 1 : 2;
  g_assert_no_error (error);
}

static void
test_wait_async (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  int done = 0;

  for (int i = 0; i < 100; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  mpel_loop_wait_async (loop, NULL, store_bool, &done);
  test_iterate_until (done != 0);
  g_assert_cmpint (done, ==, 1);
  g_assert_cmpuint (mpel_loop_get_n_pending (loop), ==, 0);

  /* Nothing pending: completes at once (from the main context). */
  done = 0;
  mpel_loop_wait_async (loop, NULL, store_bool, &done);
  test_iterate_until (done != 0);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_spawn_failure (void)
{
  const char *argv[] = { "/nonexistent/mpel-worker", NULL };
  g_autoptr(MpelLoop) loop = mpel_loop_new_for_argv (argv);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);

  g_assert_false (mpel_loop_start (loop, &error));
  g_assert_error (error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
  g_assert_false (mpel_loop_is_running (loop));

  /* Through an event: it fails, asynchronously, never hangs. */
  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);
  mpel_loop_add_event (loop, "anything", NULL);
  g_assert_cmpuint (errors->len, ==, 0);
  test_wait (loop);
  g_assert_cmpuint (errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (errors, 0), MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);

  g_assert_finalize_object (g_steal_pointer (&loop));
}

static void
test_bad_module (void)
{
  g_autoptr(MpelLoop) loop = mpel_loop_new ();
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  const char *modules[] = { "/nonexistent/module.so", NULL };

  mpel_loop_set_modules (loop, modules);
  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);
  for (int i = 0; i < 3; i++)
    mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", i));
  test_wait (loop);

  g_assert_cmpuint (errors->len, ==, 3);
  for (guint i = 0; i < errors->len; i++)
    {
      const GError *error = g_ptr_array_index (errors, i);

      g_assert_error ((GError *) error, MPEL_ERROR, MPEL_ERROR_SPAWN_FAILED);
      g_assert_nonnull (strstr (error->message, "/nonexistent/module.so"));
    }
  test_iterate_until (!mpel_loop_is_running (loop));

  g_assert_finalize_object (g_steal_pointer (&loop));
}

/* A worker that dies fails its in-flight events, naming the target and the
 * signal; wait() does not hang. */
static void
test_worker_crash (void)
{
  g_autoptr(MpelLoop) loop = test_loop_new ();
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func (error_free0);

  g_signal_connect (loop, "output", G_CALLBACK (record_error), errors);
  g_signal_connect (loop, "worker-exited", G_CALLBACK (on_worker_exited), reasons);

  mpel_loop_add_event (loop, "die", g_variant_new ("(i)", SIGKILL));
  mpel_loop_add_event (loop, "add_one", g_variant_new ("(i)", 1));
  test_wait (loop);

  g_assert_cmpuint (errors->len, ==, 2);
  g_assert_error ((GError *) g_ptr_array_index (errors, 0), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (((GError *) g_ptr_array_index (errors, 0))->message, "“die”"));
  g_assert_nonnull (strstr (((GError *) g_ptr_array_index (errors, 0))->message, "signal 9"));
  g_assert_error ((GError *) g_ptr_array_index (errors, 1), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_cmpuint (reasons->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (reasons, 0), MPEL_ERROR, MPEL_ERROR_WORKER_CRASHED);
  g_assert_false (mpel_loop_is_running (loop));

  g_assert_finalize_object (g_steal_pointer (&loop));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Loop/quick-start", test_quick_start);
  g_test_add_func ("/Mpel/Loop/auto-start", test_auto_start);
  g_test_add_func ("/Mpel/Loop/default", test_default_loop);
  g_test_add_func ("/Mpel/Loop/output/nested-main-loop", test_nested_main_loop);
  g_test_add_func ("/Mpel/Loop/output/stop-propagation", test_output_stop_propagation);
  g_test_add_func ("/Mpel/Loop/output/detail", test_output_detail);
  g_test_add_func ("/Mpel/Loop/item/interleaved", test_streamed_items);
  g_test_add_func ("/Mpel/Loop/item/answer-from-thread", test_answer_from_thread);
  g_test_add_func ("/Mpel/Loop/error/domain", test_error_domain);
  g_test_add_func ("/Mpel/Loop/error/unknown-target", test_unknown_target);
  g_test_add_func ("/Mpel/Loop/error/invalid-args", test_invalid_args);
  g_test_add_func ("/Mpel/Loop/error/forgotten-invocation", test_forgotten_invocation);
  g_test_add_func ("/Mpel/Loop/builtins", test_builtins);
  g_test_add_func ("/Mpel/Loop/stop/graceful", test_stop_graceful);
  g_test_add_func ("/Mpel/Loop/close", test_close);
  g_test_add_func ("/Mpel/Loop/finalize-pending", test_finalize_pending);
  g_test_add_func ("/Mpel/Loop/no-reply", test_no_reply);
  g_test_add_func ("/Mpel/Loop/cancel", test_cancel);
  g_test_add_func ("/Mpel/Loop/timeout", test_timeout);
  g_test_add_func ("/Mpel/Loop/priority", test_priority);
  g_test_add_func ("/Mpel/Loop/queued-args", test_queued_args);
  g_test_add_func ("/Mpel/Loop/event-properties", test_event_properties);
  g_test_add_func ("/Mpel/Loop/wait-async", test_wait_async);
  g_test_add_func ("/Mpel/Loop/spawn-failure", test_spawn_failure);
  g_test_add_func ("/Mpel/Loop/bad-module", test_bad_module);
  g_test_add_func ("/Mpel/Loop/worker-crash", test_worker_crash);

  return g_test_run ();
}
