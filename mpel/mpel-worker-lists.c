/* mpel-worker-lists.c: a worker's GListModels, watched by MpelListModel
 *
 * A watched list's items-changed are collected and sent from an idle, once
 * per iteration of the worker's main loop (and before any answer), as
 * NOTIFY frames named MPEL_LIST_CHANGED_NAME: splices that join exactly
 * are merged, so that appending items one by one costs one frame. Every
 * frame sent counts as one generation of the list; mpel.list.fetch names
 * the generation the app had seen, and the positions it asks for are moved
 * over the changes sent since, so that an item fetched while the list
 * changed is the one the app meant.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-worker-objects-private.h"
#include "mpel-worker-private.h"
#include "mpel-worker-signals-private.h"

/* Changes sent and kept to move the positions of fetches over */
#define LOG_MAX 4096
/* Changes waiting in one iteration before they are merged into one */
#define PENDING_MAX 64

typedef struct
{
  guint32 position;
  guint32 removed;
  guint32 added;
} Splice;

typedef struct
{
  MpelWorker *worker;      /* weak: the entry dies with the worker's table */
  guint64     handle;
  gulong      changed_id;
  guint       n_watchers;
  guint32     generation;  /* frames sent */
  GArray     *pending;     /* Splice, not sent yet */
  GArray     *log;         /* Splice: log[i] made generation log_base + i + 1 */
  guint32     log_base;
  gboolean    queued;
} ListWatch;

typedef struct
{
  GPtrArray *queued;       /* ListWatch with pending changes */
  GSource   *idle;
} Lists;

static GQuark lists_quark;

static void
lists_free (gpointer data)
{
  Lists *lists = data;

  g_ptr_array_unref (lists->queued);
  if (lists->idle != NULL)
    {
      g_source_destroy (lists->idle);
      g_source_unref (lists->idle);
    }
  g_free (lists);
}

static Lists *
get_lists (MpelWorker *self)
{
  Lists *lists;

  if G_UNLIKELY (lists_quark == 0)
    lists_quark = g_quark_from_static_string ("mpel-worker-lists");

  lists = g_object_get_qdata (G_OBJECT (self), lists_quark);
  if (lists == NULL)
    {
      lists = g_new0 (Lists, 1);
      lists->queued = g_ptr_array_new ();
      g_object_set_qdata_full (G_OBJECT (self), lists_quark, lists, lists_free);
    }

  return lists;
}

void
_mpel_worker_lists_free_watch (gpointer  data,
                               GObject  *object)
{
  ListWatch *watch = data;

  /* Not get_lists(): the worker may be finalizing, its qdata going */
  if (watch->queued)
    {
      Lists *lists = g_object_get_qdata (G_OBJECT (watch->worker), lists_quark);

      if (lists != NULL)
        g_ptr_array_remove_fast (lists->queued, watch);
    }
  g_clear_signal_handler (&watch->changed_id, object);
  g_array_unref (watch->pending);
  g_array_unref (watch->log);
  g_free (watch);
}

/* Merges @next into @last when the two make exactly one splice. */
static gboolean
splice_join (Splice       *last,
             const Splice *next)
{
  if (next->position == last->position + last->added)
    {
      /* Right after what @last added */
      last->removed += next->removed;
      last->added += next->added;
      return TRUE;
    }
  if (next->position + next->removed == last->position)
    {
      /* Right before it */
      last->position = next->position;
      last->removed += next->removed;
      last->added += next->added;
      return TRUE;
    }
  if (next->position >= last->position &&
      next->position + next->removed <= last->position + last->added)
    {
      /* Within what @last added */
      last->added = last->added - next->removed + next->added;
      return TRUE;
    }

  return FALSE;
}

/* Folds every pending change into one splice that covers them all. */
static void
splices_bound (GArray *pending)
{
  Splice all = g_array_index (pending, Splice, 0);

  for (guint i = 1; i < pending->len; i++)
    {
      const Splice *next = &g_array_index (pending, Splice, i);
      guint32 start = MIN (all.position, next->position);
      guint32 end_mid = MAX (all.position + all.added, next->position + next->removed);

      all.removed = end_mid - all.added + all.removed - start;
      all.added = end_mid - next->removed + next->added - start;
      all.position = start;
    }

  g_array_set_size (pending, 1);
  g_array_index (pending, Splice, 0) = all;
}

static void
watch_send (ListWatch *watch)
{
  g_autoptr(GArray) pending = watch->pending;

  watch->queued = FALSE;
  watch->pending = g_array_new (FALSE, FALSE, sizeof (Splice));
  for (guint i = 0; i < pending->len; i++)
    {
      Splice *splice = &g_array_index (pending, Splice, i);

      if (splice->removed == 0 && splice->added == 0)
        continue;
      g_array_append_val (watch->log, *splice);
      if (watch->log->len > LOG_MAX)
        {
          g_array_remove_range (watch->log, 0, watch->log->len - LOG_MAX);
          watch->log_base = watch->generation + 1 - LOG_MAX;
        }
      watch->generation++;
      _mpel_worker_send_notify_named (watch->worker, watch->handle, MPEL_LIST_CHANGED_NAME,
                                      g_variant_new ("(uuu)", splice->position, splice->removed, splice->added));
    }
}

void
_mpel_worker_lists_flush (MpelWorker *self)
{
  Lists *lists = lists_quark ? g_object_get_qdata (G_OBJECT (self), lists_quark) : NULL;
  g_autoptr(GPtrArray) queued = NULL;

  if (lists == NULL || lists->queued->len == 0)
    return;

  queued = g_steal_pointer (&lists->queued);
  lists->queued = g_ptr_array_new ();
  for (guint i = 0; i < queued->len; i++)
    watch_send (queued->pdata[i]);
}

static gboolean
flush_cb (gpointer data)
{
  MpelWorker *self = data;
  Lists *lists = get_lists (self);

  g_clear_pointer (&lists->idle, g_source_unref);
  /* Values too: an item's change then arrives with the list's */
  _mpel_worker_objects_flush (self);

  return G_SOURCE_REMOVE;
}

static void
on_items_changed (GListModel *list,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    data)
{
  ListWatch *watch = data;
  Lists *lists = get_lists (watch->worker);
  Splice splice = { position, removed, added };

  if (watch->pending->len == 0 ||
      !splice_join (&g_array_index (watch->pending, Splice, watch->pending->len - 1), &splice))
    g_array_append_val (watch->pending, splice);
  if (watch->pending->len > PENDING_MAX)
    splices_bound (watch->pending);

  if (watch->queued)
    return;
  watch->queued = TRUE;
  g_ptr_array_add (lists->queued, watch);
  if (lists->idle == NULL)
    {
      lists->idle = g_idle_source_new ();
      g_source_set_static_name (lists->idle, "[mpel] list changes");
      /* The worker owns its qdata: no reference back */
      g_source_set_callback (lists->idle, flush_cb, watch->worker, NULL);
      g_source_attach (lists->idle, g_main_context_get_thread_default ());
    }
}

/* The watch of the list @handle, or NULL and an error. */
static ListWatch *
lookup_watch (MpelWorker  *self,
              guint64      handle,
              gboolean     create,
              GObject    **list,
              GError     **error)
{
  MpelWorkerExtras *extras = _mpel_worker_signals_get_extras (self, handle, list, error);
  ListWatch *watch;

  if (extras == NULL)
    return NULL;

  if (!G_IS_LIST_MODEL (*list))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The object %" G_GUINT64_FORMAT " (%s) is not a GListModel"),
                   handle, G_OBJECT_TYPE_NAME (*list));
      return NULL;
    }

  if (extras->watch != NULL || !create)
    {
      if (extras->watch == NULL)
        g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                     _("The list %" G_GUINT64_FORMAT " is not watched"), handle);
      return extras->watch;
    }

  watch = g_new0 (ListWatch, 1);
  watch->worker = self;
  watch->handle = handle;
  watch->pending = g_array_new (FALSE, FALSE, sizeof (Splice));
  watch->log = g_array_new (FALSE, FALSE, sizeof (Splice));
  watch->changed_id = g_signal_connect (*list, "items-changed", G_CALLBACK (on_items_changed), watch);
  extras->watch = watch;

  return watch;
}

/* (t) → (uu): the list's handle → its length and generation */
static void
builtin_watch (MpelInvocation *invocation,
               gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);
  GError *error = NULL;
  GObject *list;
  ListWatch *watch;
  guint64 handle;

  if (!_mpel_worker_objects_check_args (invocation, "(t)"))
    return;

  g_variant_get (mpel_invocation_get_args (invocation), "(t)", &handle);
  /* What changed before is sent first: the length answered is after it */
  _mpel_worker_objects_flush (self);
  if (!(watch = lookup_watch (self, handle, TRUE, &list, &error)))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }

  watch->n_watchers++;
  mpel_invocation_return_value (invocation,
                                g_variant_new ("(uu)", g_list_model_get_n_items (G_LIST_MODEL (list)),
                                               watch->generation));
}

/* (t) → (): one watch less; the last one disconnects */
static void
builtin_unwatch (MpelInvocation *invocation,
                 gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);
  MpelWorkerExtras *extras;
  GError *error = NULL;
  GObject *list;
  guint64 handle;

  if (!_mpel_worker_objects_check_args (invocation, "(t)"))
    return;

  g_variant_get (mpel_invocation_get_args (invocation), "(t)", &handle);
  if (!lookup_watch (self, handle, FALSE, &list, &error))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }

  extras = _mpel_worker_signals_get_extras (self, handle, &list, NULL);
  if (--((ListWatch *) extras->watch)->n_watchers == 0)
    {
      _mpel_worker_lists_free_watch (extras->watch, list);
      extras->watch = NULL;
    }
  mpel_invocation_return_value (invocation, NULL);
}

/* Moves @position, as it was at @generation, over the changes sent since;
 * FALSE if it was removed. */
static gboolean
move_position (ListWatch *watch,
               guint32    generation,
               guint32   *position)
{
  for (guint32 g = generation; g != watch->generation; g++)
    {
      const Splice *splice = &g_array_index (watch->log, Splice, g - watch->log_base);

      if (*position < splice->position)
        continue;
      if (*position < splice->position + splice->removed)
        return FALSE;
      *position = *position - splice->removed + splice->added;
    }

  return TRUE;
}

/* (t u a(ut) mas as) → a(tsa{sv}): the list, the generation the app had
 * seen, positions (then) and the handles the app picked for their items,
 * the properties and getters to mirror → for each item still there, its
 * handle, type and first values */
static void
builtin_fetch (MpelInvocation *invocation,
               gpointer        user_data)
{
  MpelWorker *self = mpel_invocation_get_worker (invocation);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(tsa{sv})"));
  g_autoptr(GVariant) wanted = NULL;
  g_autoptr(GVariant) properties = NULL;
  g_autoptr(GVariant) getters = NULL;
  g_autoptr(GArray) made = g_array_new (FALSE, FALSE, sizeof (guint64));
  GError *error = NULL;
  GVariantIter iter;
  ListWatch *watch;
  GObject *list;
  guint64 handle, item_handle;
  guint32 generation, position;

  if (!_mpel_worker_objects_check_args (invocation, "(tua(ut)masas)"))
    return;

  g_variant_get (mpel_invocation_get_args (invocation), "(tu@a(ut)@mas@as)",
                 &handle, &generation, &wanted, &properties, &getters);
  _mpel_worker_objects_flush (self);
  if (!(watch = lookup_watch (self, handle, FALSE, &list, &error)))
    {
      mpel_invocation_take_error (invocation, error);
      return;
    }

  if (generation - watch->log_base > watch->generation - watch->log_base)
    {
      mpel_invocation_return_error (invocation, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                                    _("The list %" G_GUINT64_FORMAT " has no generation %u any more (it is at %u)"),
                                    handle, generation, watch->generation);
      return;
    }

  g_variant_iter_init (&iter, wanted);
  while (g_variant_iter_next (&iter, "(ut)", &position, &item_handle))
    {
      g_autoptr(GObject) item = NULL;
      GVariant *values;

      if (!move_position (watch, generation, &position) ||
          !(item = g_list_model_get_item (G_LIST_MODEL (list), position)))
        continue;

      if (!(values = _mpel_worker_objects_start_mirror (self, item_handle, item, properties, getters, &error)))
        {
          /* All or nothing: the app fails every item it asked for */
          for (guint i = 0; i < made->len; i++)
            _mpel_worker_objects_release (self, g_array_index (made, guint64, i), 1);
          mpel_invocation_take_error (invocation, error);
          return;
        }
      g_array_append_val (made, item_handle);
      g_variant_builder_add (&builder, "(ts@a{sv})", item_handle, G_OBJECT_TYPE_NAME (item), values);
    }

  mpel_invocation_return_value (invocation, g_variant_builder_end (&builder));
}

void
_mpel_worker_lists_add_builtins (MpelWorker *self)
{
  mpel_worker_add_handler (self, "mpel.list.watch", builtin_watch, NULL, NULL);
  mpel_worker_add_handler (self, "mpel.list.unwatch", builtin_unwatch, NULL, NULL);
  mpel_worker_add_handler (self, "mpel.list.fetch", builtin_fetch, NULL, NULL);
}
