/* mpel-proxy-mirror.c: a proxy's mirrored values
 *
 * The cache of the remote object's values, what a subclass declares (its
 * properties, mirrored as real ones through their pspecs, and its
 * getters), and the local sets in flight, whose answers win over the
 * values the worker sent meanwhile.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpel-event-private.h"
#include "mpel-proxy-mirror-private.h"
#include "mpel-proxy-private.h"
#include "mpel-value.h"

static GQuark getters_quark;

/* Where mpel_proxy_class_add_getter() keeps a class's getters */
GQuark
_mpel_proxy_getters_quark (void)
{
  if G_UNLIKELY (getters_quark == 0)
    getters_quark = g_quark_from_static_string ("mpel-proxy-getters");

  return getters_quark;
}

/* Values */

/* The pspec of a property a subclass declared, mirrored here, or NULL. */
static GParamSpec *
find_mirrored_pspec (MpelProxy  *self,
                     const char *name)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self), name);

  /* Only a subclass that left set_property to us mirrors its properties */
  if (pspec == NULL || pspec->owner_type == MPEL_TYPE_PROXY ||
      !g_type_is_a (pspec->owner_type, MPEL_TYPE_PROXY) ||
      G_OBJECT_CLASS (g_type_class_peek (pspec->owner_type))->set_property !=
        G_OBJECT_CLASS (g_type_class_peek (MPEL_TYPE_PROXY))->set_property)
    return NULL;

  return pspec;
}

static gboolean
is_mirrored_name (MpelProxy  *self,
                  const char *name)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);

  return priv->properties == NULL ||
         g_strv_contains ((const char * const *) priv->properties, name) ||
         g_strv_contains ((const char * const *) priv->getters, name);
}

/* A property a subclass declared, in C (mirrored here) or in a language
 * whose binding keeps its own set_property (mirrored by the overrides),
 * or NULL. */
static GParamSpec *
find_declared_pspec (MpelProxy  *self,
                     const char *name)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self), name);

  if (pspec == NULL || pspec->owner_type == MPEL_TYPE_PROXY ||
      !g_type_is_a (pspec->owner_type, MPEL_TYPE_PROXY))
    return NULL;

  return pspec;
}

/* Whether @value differs from @old, the value stored so far (NULL: none
 * yet). A declared property reads its default while its value is
 * unknown, so a first value equal to the default is no change; a name
 * without a property (a plain proxy's) reads NULL, so its first value is
 * one. */
static gboolean
value_changed (GParamSpec *declared,
               GVariant   *old,
               GVariant   *value)
{
  g_auto(GValue) new_value = G_VALUE_INIT;
  g_auto(GValue) old_value = G_VALUE_INIT;

  if (declared == NULL || !mpel_value_from_variant (value, declared->value_type, &new_value, NULL))
    return old == NULL || !g_variant_equal (old, value);

  if (old == NULL || !mpel_value_from_variant (old, declared->value_type, &old_value, NULL))
    {
      if (G_IS_VALUE (&old_value))
        g_value_unset (&old_value);
      g_value_init (&old_value, declared->value_type);
      g_param_value_set_default (declared, &old_value);
    }

  return g_param_values_cmp (declared, &new_value, &old_value) != 0;
}

/* Stores @value under @name and tells of it if it changed: notify (for a
 * property mirrored here) and changed, each once per change. */
static gboolean
proxy_store (MpelProxy   *self,
             const char  *name,
             GVariant    *value,
             GError     **error)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  GParamSpec *pspec = find_mirrored_pspec (self, name);
  GVariant *old = g_hash_table_lookup (priv->values, name);
  gboolean changed;

  /* What a C subclass declares must convert */
  if (pspec != NULL)
    {
      g_auto(GValue) new_value = G_VALUE_INIT;

      if (!mpel_value_from_variant (value, pspec->value_type, &new_value, error))
        return FALSE;
    }
  changed = value_changed (find_declared_pspec (self, name), old, value);

  g_hash_table_replace (priv->values, g_strdup (name), g_variant_ref_sink (value));
  if (!changed)
    return TRUE;

  if (pspec != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), pspec);
  _mpel_proxy_emit_changed (self, name, value);

  return TRUE;
}

/* Values from the worker: what a local set still in flight covers is
 * left for that set's answer, so that a binding does not jitter. */
gboolean
_mpel_proxy_apply_values (MpelProxy  *self,
                          GVariant   *values,
                          gboolean    from_notify,
                          GError    **error)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  g_autoptr(MpelProxy) hold = g_object_ref (self);
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_object_freeze_notify (G_OBJECT (self));
  g_variant_iter_init (&iter, values);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      g_autoptr(GVariant) owned = value;
      g_autoptr(GError) local_error = NULL;

      if (from_notify && !is_mirrored_name (self, name))
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                       _("“%s” is not mirrored"), name);
          g_object_thaw_notify (G_OBJECT (self));
          return FALSE;
        }

      g_hash_table_replace (priv->confirmed, g_strdup (name), g_variant_ref (value));
      if (GPOINTER_TO_UINT (g_hash_table_lookup (priv->pending_sets, name)) > 0)
        continue;

      if (!proxy_store (self, name, value, &local_error))
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_PROTOCOL,
                       _("the value of “%s”: %s"), name, local_error->message);
          g_object_thaw_notify (G_OBJECT (self));
          return FALSE;
        }
    }
  g_object_thaw_notify (G_OBJECT (self));

  return TRUE;
}

gboolean
_mpel_proxy_apply_notify (MpelProxy  *self,
                          GVariant   *values,
                          GError    **error)
{
  return _mpel_proxy_apply_values (self, values, TRUE, error);
}

/* What the class declares */

/* Adds the names of @more that *names lacks, in order; a NULL *names
 * becomes a copy of @more. */
void
_mpel_proxy_merge_names (char               ***names,
                         const char * const   *more)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (*names != NULL)
    g_strv_builder_addv (builder, (const char **) *names);
  for (guint i = 0; more[i] != NULL; i++)
    if (*names == NULL || !g_strv_contains ((const char * const *) *names, more[i]))
      g_strv_builder_add (builder, more[i]);

  g_strfreev (*names);
  *names = g_strv_builder_end (builder);
}

static char **
collect_strv (const char * const *given,
              GPtrArray          *more)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (given != NULL)
    g_strv_builder_addv (builder, (const char **) given);
  for (guint i = 0; more != NULL && i < more->len; i++)
    if (given == NULL || !g_strv_contains (given, more->pdata[i]))
      g_strv_builder_add (builder, more->pdata[i]);

  return g_strv_builder_end (builder);
}

/* What the class declares: its own properties and getters, from the
 * subclasses of MpelProxy down. */
void
_mpel_proxy_resolve_declared (MpelProxy *self)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  g_autoptr(GPtrArray) props = g_ptr_array_new ();
  g_autoptr(GPtrArray) getters = g_ptr_array_new ();
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs;
  char **strv;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (self), &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    if (find_mirrored_pspec (self, pspecs[i]->name) != NULL)
      g_ptr_array_add (props, (gpointer) pspecs[i]->name);

  for (GType t = G_OBJECT_TYPE (self); t != MPEL_TYPE_PROXY; t = g_type_parent (t))
    {
      GPtrArray *declared = g_type_get_qdata (t, _mpel_proxy_getters_quark ());

      for (guint i = 0; declared != NULL && i < declared->len; i++)
        g_ptr_array_add (getters, declared->pdata[i]);
    }

  if (props->len > 0)
    {
      strv = collect_strv ((const char * const *) priv->properties, props);
      g_strfreev (priv->properties);
      priv->properties = strv;
    }

  strv = collect_strv ((const char * const *) priv->getters, getters);
  g_strfreev (priv->getters);
  priv->getters = strv;
}

/* Local sets */

static void
on_set_finished (MpelEvent *event,
                 gpointer   data)
{
  MpelProxy *self = data;
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  const char *name = g_object_get_data (G_OBJECT (event), "mpel-proxy-name");
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (priv->pending_sets, name));
  GVariant *result = mpel_event_get_result (event);

  g_assert (n > 0);
  if (n > 1)
    {
      g_hash_table_insert (priv->pending_sets, g_strdup (name), GUINT_TO_POINTER (n - 1));
      return;
    }
  g_hash_table_remove (priv->pending_sets, name);

  /* The last set's answer: the worker's value wins, also over a value
   * it refused (the error goes to the loop's output) */
  if (mpel_event_get_state (event) == MPEL_EVENT_STATE_DONE &&
      result != NULL && g_variant_is_of_type (result, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) value = g_variant_get_variant (result);

      g_hash_table_replace (priv->confirmed, g_strdup (name), g_variant_ref (value));
    }

  if (g_hash_table_lookup (priv->confirmed, name) != NULL)
    {
      g_autoptr(GVariant) value = g_variant_ref (g_hash_table_lookup (priv->confirmed, name));
      g_autoptr(GError) error = NULL;

      if (!proxy_store (self, name, value, &error))
        g_warning ("The worker's value of “%s”: %s", name, error->message);
    }
}


/* Mirrors @value at once and makes the set's event, counted in flight
 * until it finishes. */
MpelEvent *
_mpel_proxy_begin_set (MpelProxy  *self,
                       const char *name,
                       GVariant   *value)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  MpelEvent *event;
  guint n;

  n = GPOINTER_TO_UINT (g_hash_table_lookup (priv->pending_sets, name));
  g_hash_table_insert (priv->pending_sets, g_strdup (name), GUINT_TO_POINTER (n + 1));
  if (!proxy_store (self, name, value, NULL))
    g_warning ("The value of “%s” does not fit %s", name, G_OBJECT_TYPE_NAME (self));

  event = mpel_event_new ("mpel.object.set", g_variant_new ("(tsv)", priv->handle, name, value));
  g_object_set_data_full (G_OBJECT (event), "mpel-proxy-name", g_strdup (name), g_free);
  g_signal_connect_object (event, "finished", G_CALLBACK (on_set_finished), self, 0);

  return event;
}

/* A subclass's mirrored property, read */
void
_mpel_proxy_mirror_get (MpelProxy  *self,
                        GParamSpec *pspec,
                        GValue     *value)
{
  MpelProxyPrivate *priv = mpel_proxy_get_instance_private (self);
  GVariant *stored = g_hash_table_lookup (priv->values, pspec->name);
  g_auto(GValue) converted = G_VALUE_INIT;

  if (stored != NULL && mpel_value_from_variant (stored, pspec->value_type, &converted, NULL))
    g_value_copy (&converted, value);
  else
    g_param_value_set_default (pspec, value);
}

/* A subclass's mirrored property, set: forwarded to the worker */
void
_mpel_proxy_mirror_set (MpelProxy    *self,
                        GParamSpec   *pspec,
                        const GValue *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) variant = mpel_value_to_variant (value, &error);

  if (variant == NULL)
    g_warning ("The property “%s” of %s does not cross to a worker: %s",
               pspec->name, G_OBJECT_TYPE_NAME (self), error->message);
  else
    mpel_proxy_set_value (self, pspec->name, variant);
}
