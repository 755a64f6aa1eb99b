/* mpel-proxy-registry.c: the per-loop table of proxies
 *
 * A loop's proxies by handle, as its qdata: NOTIFY frames routed to their
 * proxy and checked, the death hook that fails a dead worker's proxies,
 * and the releases sent in batches from an idle.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-event-private.h"
#include "mpel-peer-private.h"
#include "mpel-proxy-mirror-private.h"
#include "mpel-proxy-private.h"
#include "mpel-proxy-registry-private.h"
#include "mpel-proxy-signals-private.h"

typedef struct
{
  guint64 handle;
  guint32 n_seen;
} Release;

static GQuark registry_quark;

static void
registry_free (gpointer data)
{
  Registry *registry = data;

  /* Proxies keep their loop: none is left */
  g_hash_table_unref (registry->proxies);
  g_hash_table_unref (registry->releases);
  if (registry->release_source != NULL)
    {
      g_source_destroy (registry->release_source);
      g_source_unref (registry->release_source);
    }
  g_free (registry);
}

static void
registry_child_died (MpelLoop     *loop,
                     MpelChild    *child,
                     const GError *reason,
                     gpointer      data)
{
  Registry *registry = data;
  g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_remove (registry->releases, child);

  g_hash_table_iter_init (&iter, registry->proxies);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      MpelProxyPrivate *priv = mpel_proxy_get_instance_private (value);

      if (priv->child == child)
        g_ptr_array_add (dead, g_object_ref (value));
    }

  for (guint i = 0; i < dead->len; i++)
    {
      MpelProxy *proxy = dead->pdata[i];
      MpelProxyPrivate *priv = mpel_proxy_get_instance_private (proxy);

      g_hash_table_remove (registry->proxies, &priv->handle);
      if (reason != NULL)
        _mpel_proxy_fail (proxy, g_error_copy (reason));
      else
        _mpel_proxy_fail (proxy, g_error_new (MPEL_ERROR, MPEL_ERROR_CLOSED,
                                              _("The worker that held the remote %s exited"),
                                              priv->remote_type ? priv->remote_type : priv->remote_name));
    }
}

static void
registry_notify (MpelLoop   *loop,
                 MpelChild  *child,
                 guint64     handle,
                 const char *name,
                 GVariant   *body,
                 gpointer    data)
{
  Registry *registry = data;
  g_autoptr(GError) error = NULL;
  MpelProxy *proxy;

  /* Named: a remote signal or a list's change */
  if (name != NULL && name[0] != '\0')
    {
      _mpel_proxy_signals_dispatch (registry, child, handle, name, body);
      return;
    }

  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE_VARDICT))
    {
      _mpel_peer_protocol_error (child->conn, _("a NOTIFY for the object %" G_GUINT64_FORMAT " carries %s, not a{sv}"),
                                 handle, body ? g_variant_get_type_string (body) : "nothing");
      return;
    }

  proxy = g_hash_table_lookup (registry->proxies, &handle);
  if (proxy == NULL)
    {
      /* A NOTIFY may cross the release of its object; one for a handle
       * never given out is a lie. */
      if (handle == 0 || handle > registry->last_handle)
        _mpel_peer_protocol_error (child->conn, _("a NOTIFY names the object %" G_GUINT64_FORMAT ", which does not exist"),
                                   handle);
      return;
    }

  if (((MpelProxyPrivate *) mpel_proxy_get_instance_private (proxy))->child != child)
    {
      _mpel_peer_protocol_error (child->conn, _("a NOTIFY names the object %" G_GUINT64_FORMAT ", which another worker holds"),
                                 handle);
      return;
    }

  if (!_mpel_proxy_apply_notify (proxy, body, &error))
    _mpel_peer_protocol_error (child->conn, _("a NOTIFY for the object %" G_GUINT64_FORMAT ": %s"),
                               handle, error->message);
}

Registry *
_mpel_proxy_registry_get (MpelLoop *loop)
{
  Registry *registry;

  if G_UNLIKELY (registry_quark == 0)
    registry_quark = g_quark_from_static_string ("mpel-proxy-registry");

  registry = g_object_get_qdata (G_OBJECT (loop), registry_quark);
  if (registry != NULL)
    return registry;

  registry = g_new0 (Registry, 1);
  registry->loop = loop;
  registry->proxies = g_hash_table_new (g_int64_hash, g_int64_equal);
  registry->releases = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) _mpel_child_unref,
                                              (GDestroyNotify) g_array_unref);
  registry->died_hook = _mpel_loop_add_child_died_hook (loop, registry_child_died, registry);
  _mpel_loop_set_notify_handler (loop, registry_notify, registry, NULL);
  g_object_set_qdata_full (G_OBJECT (loop), registry_quark, registry, registry_free);

  return registry;
}

static gboolean
registry_send_releases (gpointer data)
{
  Registry *registry = data;
  GHashTableIter iter;
  gpointer key, value;

  g_clear_pointer (&registry->release_source, g_source_unref);

  g_hash_table_iter_init (&iter, registry->releases);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      MpelChild *child = key;
      GArray *list = value;
      g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(tu)"));
      g_autoptr(MpelEvent) event = NULL;

      if (!_mpel_child_is_alive (child))
        continue;

      for (guint i = 0; i < list->len; i++)
        {
          Release *release = &g_array_index (list, Release, i);

          g_variant_builder_add (&builder, "(tu)", release->handle, release->n_seen);
        }

      /* Batched, and nobody waits for the answer */
      event = mpel_event_new ("mpel.object.release", g_variant_new ("(@a(tu))", g_variant_builder_end (&builder)));
      mpel_event_set_flags (event, MPEL_EVENT_FLAGS_NO_REPLY);
      _mpel_loop_push_pinned (registry->loop, event, child);
    }
  g_hash_table_remove_all (registry->releases);

  return G_SOURCE_REMOVE;
}

/* Sends the releases waiting for the idle now, so that
 * mpel_loop_wait() covers them. */
void
_mpel_proxy_registry_flush (MpelLoop *loop)
{
  Registry *registry;

  if (registry_quark == 0)
    return;

  registry = g_object_get_qdata (G_OBJECT (loop), registry_quark);
  if (registry == NULL || registry->release_source == NULL)
    return;

  g_source_destroy (registry->release_source);
  registry_send_releases (registry);
}

void
_mpel_proxy_registry_release (Registry  *registry,
                              MpelChild *child,
                              guint64    handle)
{
  Release release = { handle, 1 };
  GArray *list;

  g_hash_table_remove (registry->proxies, &handle);
  if (child == NULL || !_mpel_child_is_alive (child))
    return;

  list = g_hash_table_lookup (registry->releases, child);
  if (list == NULL)
    {
      list = g_array_new (FALSE, FALSE, sizeof (Release));
      g_hash_table_insert (registry->releases, _mpel_child_ref (child), list);
    }
  g_array_append_val (list, release);

  if (registry->release_source == NULL)
    {
      registry->release_source = g_idle_source_new ();
      g_source_set_static_name (registry->release_source, "[mpel] proxy releases");
      g_source_set_callback (registry->release_source, registry_send_releases, registry, NULL);
      g_source_attach (registry->release_source, registry->loop->context);
    }
}
