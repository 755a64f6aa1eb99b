/* mpel-gi.c: remote objects found, made and read through
 * GObject-Introspection: namespaces pinned to versions, types found by
 * name, objects made with construct values, properties set and read, and
 * getters called
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mpel-gi.c and mpel-gi-call.c are the only files that include
 * <girepository.h> (libgirepository-1.0): a port to girepository-2.0 stays
 * in these two. The rest of mpel goes through mpel-gi-private.h.
 */

#include "config.h"

#include <string.h>

#include <girepository.h>
#include <glib/gi18n-lib.h>

#include "mpel-gi-private.h"

/* libgirepository-1.0 has no autoptr for its infos; every info type is a
 * GIBaseInfo. */
typedef GIBaseInfo MpelGiInfo;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpelGiInfo, g_base_info_unref)

/* namespace → version, for the whole process (typelibs are, too) */
static GHashTable *pins;
G_LOCK_DEFINE_STATIC (pins);

gboolean
_mpel_gi_require (const char  *namespace_,
                  const char  *version,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *pinned;

  g_return_val_if_fail (namespace_ != NULL, FALSE);
  g_return_val_if_fail (version != NULL, FALSE);

  G_LOCK (pins);
  if (pins == NULL)
    pins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  pinned = g_hash_table_lookup (pins, namespace_);
  if (pinned != NULL && !g_str_equal (pinned, version))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("The namespace “%s” is pinned to version %s, not %s"),
                   namespace_, pinned, version);
      G_UNLOCK (pins);
      return FALSE;
    }
  G_UNLOCK (pins);

  if (g_irepository_require (NULL, namespace_, version, 0, &local_error) == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("The namespace “%s” version %s cannot be loaded: %s"),
                   namespace_, version, local_error->message);
      return FALSE;
    }

  G_LOCK (pins);
  g_hash_table_replace (pins, g_strdup (namespace_), g_strdup (version));
  G_UNLOCK (pins);

  return TRUE;
}

static char *
dup_pin (const char *namespace_)
{
  char *version = NULL;

  G_LOCK (pins);
  if (pins != NULL)
    version = g_strdup (g_hash_table_lookup (pins, namespace_));
  G_UNLOCK (pins);

  return version;
}

static GType
find_gi_type (const char  *full_name,
              GError     **error)
{
  const char *dot = strrchr (full_name, '.');
  g_autofree char *prefix = g_strndup (full_name, dot - full_name);
  const char *name = dot + 1;
  g_autofree char *version = NULL;
  g_autoptr(MpelGiInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;
  char *dash = strchr (prefix, '-');
  GType type;

  if (dash != NULL)
    {
      *dash = '\0';
      version = g_strdup (dash + 1);
    }
  else
    version = dup_pin (prefix);

  if (prefix[0] == '\0' || name[0] == '\0' || (version != NULL && version[0] == '\0'))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("“%s” is not a type name: write Namespace.Name or Namespace-Version.Name"),
                   full_name);
      return G_TYPE_INVALID;
    }

  /* With no version, the one already loaded, else the latest installed */
  if (g_irepository_require (NULL, prefix, version, 0, &local_error) == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("No type “%s”: %s"), full_name, local_error->message);
      return G_TYPE_INVALID;
    }

  info = g_irepository_find_by_name (NULL, prefix, name);
  if (info == NULL || !GI_IS_REGISTERED_TYPE_INFO (info))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("No type “%s”: the namespace %s has no type %s"),
                   full_name, prefix, name);
      return G_TYPE_INVALID;
    }

  type = g_registered_type_info_get_g_type ((GIRegisteredTypeInfo *) info);
  if (type == G_TYPE_NONE || type == G_TYPE_INVALID)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("No type “%s”: it is not registered with GObject"), full_name);
      return G_TYPE_INVALID;
    }

  return type;
}

GType
_mpel_gi_find_type (const char  *name,
                    GError     **error)
{
  GType type;

  g_return_val_if_fail (name != NULL, G_TYPE_INVALID);

  /* GType names have no dots; GI names always do */
  if (strchr (name, '.') != NULL)
    return find_gi_type (name, error);

  type = g_type_from_name (name);
  if (type == G_TYPE_INVALID)
    g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                 _("No type is named “%s” in the worker (a type with a typelib is named Namespace.Name)"),
                 name);

  return type;
}

/* Properties */

static GParamSpec *
find_writable_property (GObjectClass  *klass,
                        const char    *name,
                        GError       **error)
{
  GParamSpec *pspec = g_object_class_find_property (klass, name);

  if (pspec == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("“%s” has no property “%s”"), G_OBJECT_CLASS_NAME (klass), name);
      return NULL;
    }
  if ((pspec->flags & G_PARAM_WRITABLE) == 0)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The property “%s” of “%s” is not writable"), name, G_OBJECT_CLASS_NAME (klass));
      return NULL;
    }

  return pspec;
}

/* Converts @variant for @pspec; a value the param spec would change
 * (out of its range) is refused rather than set with a warning. */
static gboolean
property_value (GObjectClass                 *klass,
                GParamSpec                   *pspec,
                GVariant                     *variant,
                const MpelValueObjectMapper  *mapper,
                GValue                       *value,
                GError                      **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!_mpel_value_from_variant_full (variant, pspec->value_type, value, mapper, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code,
                   _("The property “%s” of “%s”: %s"),
                   pspec->name, G_OBJECT_CLASS_NAME (klass), local_error->message);
      return FALSE;
    }

  if (g_param_value_validate (pspec, value))
    {
      g_autofree char *text = g_variant_print (variant, FALSE);

      g_value_unset (value);
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The property “%s” of “%s” does not take the value %s"),
                   pspec->name, G_OBJECT_CLASS_NAME (klass), text);
      return FALSE;
    }

  return TRUE;
}

gboolean
_mpel_gi_set_property (GObject                      *object,
                       const char                   *name,
                       GVariant                     *variant,
                       const MpelValueObjectMapper  *mapper,
                       GError                      **error)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (object);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) owned = NULL;
  GParamSpec *pspec;

  g_return_val_if_fail (G_IS_OBJECT (object), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (variant != NULL, FALSE);

  owned = g_variant_ref_sink (variant);

  if (!(pspec = find_writable_property (klass, name, error)))
    return FALSE;
  if ((pspec->flags & G_PARAM_CONSTRUCT_ONLY) != 0)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The property “%s” of “%s” can be set only at construction"),
                   name, G_OBJECT_CLASS_NAME (klass));
      return FALSE;
    }
  if (!property_value (klass, pspec, variant, mapper, &value, error))
    return FALSE;

  g_object_set_property (object, pspec->name, &value);
  return TRUE;
}

GObject *
_mpel_gi_new_object (GType                         type,
                     GVariant                     *construct_values,
                     const MpelValueObjectMapper  *mapper,
                     GError                      **error)
{
  g_autoptr(GTypeClass) type_class = NULL;
  g_autoptr(GArray) construct = NULL;   /* of GValue */
  g_autoptr(GPtrArray) construct_names = NULL;
  g_autoptr(GArray) later = NULL;       /* of GValue */
  g_autoptr(GPtrArray) later_names = NULL;
  g_autoptr(GObject) object = NULL;
  g_autoptr(GVariant) owned_values = construct_values ? g_variant_ref_sink (construct_values) : NULL;
  GObjectClass *klass;
  GVariantIter iter;
  const char *name;
  GVariant *variant;

  if (!G_TYPE_IS_OBJECT (type) || G_TYPE_IS_ABSTRACT (type))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("“%s” is not a class of objects that can be made"), g_type_name (type));
      return NULL;
    }
  if (construct_values != NULL && !g_variant_is_of_type (construct_values, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The construct values of “%s” are a “%s”, not an “a{sv}”"),
                   g_type_name (type), g_variant_get_type_string (construct_values));
      return NULL;
    }

  type_class = g_type_class_ref (type);
  klass = (GObjectClass *) type_class;
  construct = g_array_new (FALSE, TRUE, sizeof (GValue));
  g_array_set_clear_func (construct, (GDestroyNotify) g_value_unset);
  later = g_array_new (FALSE, TRUE, sizeof (GValue));
  g_array_set_clear_func (later, (GDestroyNotify) g_value_unset);
  construct_names = g_ptr_array_new ();
  later_names = g_ptr_array_new ();

  if (construct_values != NULL)
    {
      g_variant_iter_init (&iter, construct_values);
      while (g_variant_iter_loop (&iter, "{&sv}", &name, &variant))
        {
          GValue value = G_VALUE_INIT;
          GParamSpec *pspec;

          if (!(pspec = find_writable_property (klass, name, error)) ||
              !property_value (klass, pspec, variant, mapper, &value, error))
            {
              g_variant_unref (variant);
              return NULL;
            }

          /* Construct properties go in at construction (a class may
           * depend on it: GSimpleAction's state); the others are set in the
           * order given, as an app would set them. */
          if ((pspec->flags & (G_PARAM_CONSTRUCT | G_PARAM_CONSTRUCT_ONLY)) != 0)
            {
              g_array_append_val (construct, value);
              g_ptr_array_add (construct_names, (gpointer) pspec->name);
            }
          else
            {
              g_array_append_val (later, value);
              g_ptr_array_add (later_names, (gpointer) pspec->name);
            }
        }
    }

  object = g_object_new_with_properties (type, construct->len,
                                         (const char **) construct_names->pdata,
                                         (const GValue *) construct->data);
  /* A GInitiallyUnowned that is no longer floating was sunk during its
   * construction by whoever keeps it (GTK's list of toplevels keeps every
   * GtkWindow): that reference is theirs, and gtk_window_destroy() drops
   * it, so take one of our own. */
  if (g_object_is_floating (object))
    g_object_ref_sink (object);
  else if (G_IS_INITIALLY_UNOWNED (object))
    g_object_ref (object);

  for (guint i = 0; i < later->len; i++)
    g_object_set_property (object, later_names->pdata[i], &g_array_index (later, GValue, i));

  return g_steal_pointer (&object);
}

gboolean
_mpel_gi_get_properties (GObject                      *object,
                         const char * const           *names,
                         const MpelValueObjectMapper  *mapper,
                         GVariant                    **out,
                         GError                      **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autofree GParamSpec **all = NULL;
  guint n_all = 0;

  g_return_val_if_fail (G_IS_OBJECT (object), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (names == NULL)
    {
      all = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n_all);
      for (guint i = 0; i < n_all; i++)
        {
          g_auto(GValue) value = G_VALUE_INIT;
          g_autoptr(GVariant) variant = NULL;

          if ((all[i]->flags & G_PARAM_READABLE) == 0)
            continue;
          g_value_init (&value, all[i]->value_type);
          g_object_get_property (object, all[i]->name, &value);
          /* What does not convert is left out, by definition */
          variant = _mpel_value_to_variant_full (&value, mapper, NULL);
          if (variant != NULL)
            g_variant_builder_add (&builder, "{sv}", all[i]->name, variant);
        }
    }
  else
    {
      for (guint i = 0; names[i] != NULL; i++)
        {
          GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (object), names[i]);
          g_auto(GValue) value = G_VALUE_INIT;
          g_autoptr(GVariant) variant = NULL;
          g_autoptr(GError) local_error = NULL;

          if (pspec == NULL || (pspec->flags & G_PARAM_READABLE) == 0)
            {
              g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                           _("“%s” has no readable property “%s”"), G_OBJECT_TYPE_NAME (object), names[i]);
              return FALSE;
            }
          g_value_init (&value, pspec->value_type);
          g_object_get_property (object, pspec->name, &value);
          variant = _mpel_value_to_variant_full (&value, mapper, &local_error);
          if (variant == NULL)
            {
              g_set_error (error, local_error->domain, local_error->code,
                           _("The property “%s” of “%s”: %s"),
                           names[i], G_OBJECT_TYPE_NAME (object), local_error->message);
              return FALSE;
            }
          g_variant_builder_add (&builder, "{sv}", names[i], variant);
        }
    }

  *out = g_variant_ref_sink (g_variant_builder_end (&builder));
  return TRUE;
}

gboolean
_mpel_gi_get_getters (GObject                      *object,
                      const char * const           *names,
                      GCancellable                 *cancellable,
                      const MpelValueObjectMapper  *mapper,
                      GVariant                    **out,
                      GError                      **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_return_val_if_fail (G_IS_OBJECT (object), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr(GVariant) result = NULL;

      if (!_mpel_gi_call_method (object, names[i], NULL, cancellable, mapper, &result, error))
        return FALSE;
      if (result == NULL)
        {
          g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                       _("“%s.%s” returns nothing: it is not a getter"),
                       G_OBJECT_TYPE_NAME (object), names[i]);
          return FALSE;
        }
      g_variant_builder_add (&builder, "{sv}", names[i], result);
    }

  *out = g_variant_ref_sink (g_variant_builder_end (&builder));
  return TRUE;
}
