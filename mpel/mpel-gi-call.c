/* mpel-gi-call.c: methods of remote objects found and called through
 * GObject-Introspection: GIArguments marshalled in and out, ownership
 * transfer, out and inout arguments, byte arrays with their lengths, errors
 * thrown and the cancellable parameter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mpel-gi.c and mpel-gi-call.c are the only files that include
 * <girepository.h> (libgirepository-1.0): a port to girepository-2.0 stays
 * in these two. The rest of mpel goes through mpel-gi-private.h.
 */

#include "config.h"

#include <girepository.h>
#include <glib/gi18n-lib.h>

#include "mpel-gi-private.h"

/* libgirepository-1.0 has no autoptr for its infos; every info type is a
 * GIBaseInfo. */
typedef GIBaseInfo MpelGiInfo;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpelGiInfo, g_base_info_unref)

/* Methods */

/* Typelibs are searched by GType only once loaded. GLib, GObject and Gio
 * (which pulls in the other two) are always there to be loaded, and the
 * objects a worker exports are often theirs; other namespaces are loaded by
 * naming a type in them, or pinning them. */
static void
ensure_gio (void)
{
  static gsize loaded;

  if (g_once_init_enter (&loaded))
    {
      g_autoptr(GError) error = NULL;

      if (g_irepository_require (NULL, "Gio", "2.0", 0, &error) == NULL)
        g_debug ("Gio-2.0 typelib not loaded: %s", error->message);
      g_once_init_leave (&loaded, 1);
    }
}

static GIFunctionInfo *
find_method (GType       type,
             const char *name)
{
  g_autofree GType *interfaces = NULL;
  guint n_interfaces = 0;

  ensure_gio ();

  /* The class itself first, then its parents: a class without a typelib
   * (a module's subclass) gets the methods of its nearest parent with one. */
  for (GType t = type; t != G_TYPE_INVALID; t = g_type_parent (t))
    {
      g_autoptr(MpelGiInfo) info = g_irepository_find_by_gtype (NULL, t);
      GIFunctionInfo *method;

      if (info == NULL || !GI_IS_OBJECT_INFO (info))
        continue;
      method = g_object_info_find_method_using_interfaces ((GIObjectInfo *) info, name, NULL);
      if (method != NULL && (g_function_info_get_flags (method) & GI_FUNCTION_IS_METHOD) != 0)
        return method;
      g_clear_pointer (&method, g_base_info_unref);
    }

  /* Interfaces a class without a typelib added */
  interfaces = g_type_interfaces (type, &n_interfaces);
  for (guint i = 0; i < n_interfaces; i++)
    {
      g_autoptr(MpelGiInfo) info = g_irepository_find_by_gtype (NULL, interfaces[i]);
      GIFunctionInfo *method;

      if (info == NULL || !GI_IS_INTERFACE_INFO (info))
        continue;
      method = g_interface_info_find_method ((GIInterfaceInfo *) info, name);
      if (method != NULL && (g_function_info_get_flags (method) & GI_FUNCTION_IS_METHOD) != 0)
        return method;
      g_clear_pointer (&method, g_base_info_unref);
    }

  return NULL;
}

gboolean
_mpel_gi_has_method (GObject    *object,
                     const char *method)
{
  g_autoptr(MpelGiInfo) info = NULL;

  g_return_val_if_fail (G_IS_OBJECT (object), FALSE);
  g_return_val_if_fail (method != NULL, FALSE);

  info = find_method (G_OBJECT_TYPE (object), method);
  return info != NULL;
}

typedef enum
{
  PARAM_VALUE,        /* takes an argument and/or gives a result */
  PARAM_CANCELLABLE,  /* gets the invocation's cancellable */
  PARAM_LENGTH,       /* the length of a C array parameter */
  PARAM_HIDDEN,       /* (skip): zero in, dropped out */
} ParamKind;

/* How a GI type travels: as a GValue of this GType, and how it sits in a
 * GIArgument. */
typedef enum
{
  SHAPE_SCALAR,       /* a number, boolean, enum, flags, GType */
  SHAPE_POINTER,      /* string, object, GVariant, GBytes, strv */
  SHAPE_BYTE_ARRAY,   /* a C array of bytes with a length parameter */
} Shape;

typedef struct
{
  GIArgInfo   arg_info;
  GITypeInfo  type_info;
  GIDirection direction;
  GITransfer  transfer;
  ParamKind   kind;
  GITypeTag   tag;          /* of the value, or of an enum's storage */
  GType       gtype;        /* what the value converts as */
  Shape       shape;
  int         length_param; /* for a byte array, or -1 */
  int         in_pos;       /* in in_args, or -1 */
  int         out_pos;      /* in out_args, or -1 */
  GValue      value;        /* an in value, owned while the call runs */
} Param;

typedef struct
{
  GObject                      *object;   /* NULL for a function */
  const char                   *owner;    /* its type, or namespace */
  GIFunctionInfo               *info;
  const char                   *method;
  const MpelValueObjectMapper  *mapper;
  Param                        *params;
  int                           n_params;
  GIArgument                   *in_args;
  int                           n_in;
  GIArgument                   *out_args;
  GIArgument                   *out_storage;
  int                           n_out;
  guint                         n_expected;
} Call;

static void
call_clear (Call *call)
{
  for (int i = 0; i < call->n_params; i++)
    if (G_IS_VALUE (&call->params[i].value))
      g_value_unset (&call->params[i].value);
  g_clear_pointer (&call->params, g_free);
  g_clear_pointer (&call->in_args, g_free);
  g_clear_pointer (&call->out_args, g_free);
  g_clear_pointer (&call->out_storage, g_free);
  g_clear_pointer (&call->info, g_base_info_unref);
}

static void
set_param_error (GError     **error,
                 const Call  *call,
                 const Param *param,
                 int          code,
                 const char  *reason)
{
  g_set_error (error, MPEL_ERROR, code,
               _("The parameter “%s” of “%s.%s”: %s"),
               g_base_info_get_name ((GIBaseInfo *) &param->arg_info),
               call->owner, call->method, reason);
}

static gboolean
is_integer_tag (GITypeTag tag)
{
  switch (tag)
    {
    case GI_TYPE_TAG_INT8:
    case GI_TYPE_TAG_UINT8:
    case GI_TYPE_TAG_INT16:
    case GI_TYPE_TAG_UINT16:
    case GI_TYPE_TAG_INT32:
    case GI_TYPE_TAG_UINT32:
    case GI_TYPE_TAG_INT64:
    case GI_TYPE_TAG_UINT64:
      return TRUE;
    case GI_TYPE_TAG_VOID:
    case GI_TYPE_TAG_BOOLEAN:
    case GI_TYPE_TAG_FLOAT:
    case GI_TYPE_TAG_DOUBLE:
    case GI_TYPE_TAG_GTYPE:
    case GI_TYPE_TAG_UTF8:
    case GI_TYPE_TAG_FILENAME:
    case GI_TYPE_TAG_ARRAY:
    case GI_TYPE_TAG_INTERFACE:
    case GI_TYPE_TAG_GLIST:
    case GI_TYPE_TAG_GSLIST:
    case GI_TYPE_TAG_GHASH:
    case GI_TYPE_TAG_ERROR:
    case GI_TYPE_TAG_UNICHAR:
    default:
      return FALSE;
    }
}

/* The GType a scalar tag converts as: the narrowest GValue type that holds
 * it (gint16 and guint16 have none: range-checked in scalar_to_arg()). */
static GType
gtype_of_tag (GITypeTag tag)
{
  switch (tag)
    {
    case GI_TYPE_TAG_BOOLEAN:  return G_TYPE_BOOLEAN;
    case GI_TYPE_TAG_INT8:     return G_TYPE_CHAR;
    case GI_TYPE_TAG_UINT8:    return G_TYPE_UCHAR;
    case GI_TYPE_TAG_INT16:    return G_TYPE_INT;
    case GI_TYPE_TAG_UINT16:   return G_TYPE_UINT;
    case GI_TYPE_TAG_INT32:    return G_TYPE_INT;
    case GI_TYPE_TAG_UINT32:   return G_TYPE_UINT;
    case GI_TYPE_TAG_INT64:    return G_TYPE_INT64;
    case GI_TYPE_TAG_UINT64:   return G_TYPE_UINT64;
    case GI_TYPE_TAG_FLOAT:    return G_TYPE_FLOAT;
    case GI_TYPE_TAG_DOUBLE:   return G_TYPE_DOUBLE;
    case GI_TYPE_TAG_GTYPE:    return G_TYPE_GTYPE;
    case GI_TYPE_TAG_UNICHAR:  return G_TYPE_UINT;
    case GI_TYPE_TAG_UTF8:
    case GI_TYPE_TAG_FILENAME: return G_TYPE_STRING;
    case GI_TYPE_TAG_VOID:
    case GI_TYPE_TAG_ARRAY:
    case GI_TYPE_TAG_INTERFACE:
    case GI_TYPE_TAG_GLIST:
    case GI_TYPE_TAG_GSLIST:
    case GI_TYPE_TAG_GHASH:
    case GI_TYPE_TAG_ERROR:
    default:
      return G_TYPE_INVALID;
    }
}

/* Works out how a GI_TYPE_TAG_INTERFACE @type_info travels (an enum or
 * flags, an object or interface, a GVariant or GBytes): FALSE if it does
 * not. */
static gboolean
classify_interface (GITypeInfo *type_info,
                    GType      *gtype,
                    GITypeTag  *tag,
                    Shape      *shape)
{
  g_autoptr(MpelGiInfo) iface = g_type_info_get_interface (type_info);
  GType registered = GI_IS_REGISTERED_TYPE_INFO (iface)
                       ? g_registered_type_info_get_g_type ((GIRegisteredTypeInfo *) iface)
                       : G_TYPE_NONE;

  switch (g_base_info_get_type (iface))
    {
    case GI_INFO_TYPE_ENUM:
    case GI_INFO_TYPE_FLAGS:
      *tag = g_enum_info_get_storage_type ((GIEnumInfo *) iface);
      if (registered != G_TYPE_NONE && G_TYPE_IS_ENUM (registered))
        *gtype = registered;
      else if (registered != G_TYPE_NONE && G_TYPE_IS_FLAGS (registered))
        *gtype = registered;
      else
        /* An enum without a GType travels as its number */
        *gtype = gtype_of_tag (*tag);
      return *gtype != G_TYPE_INVALID;

    case GI_INFO_TYPE_OBJECT:
    case GI_INFO_TYPE_INTERFACE:
      /* An interface without GObject as a prerequisite travels as a
       * GObject, checked against the interface once it is there */
      if (registered != G_TYPE_NONE && G_TYPE_IS_INTERFACE (registered) &&
          !g_type_is_a (registered, G_TYPE_OBJECT))
        *gtype = G_TYPE_OBJECT;
      else if (registered != G_TYPE_NONE && g_type_is_a (registered, G_TYPE_OBJECT))
        *gtype = registered;
      else
        return FALSE;
      *shape = SHAPE_POINTER;
      return TRUE;

    case GI_INFO_TYPE_STRUCT:
    case GI_INFO_TYPE_BOXED:
      if (g_type_info_is_pointer (type_info) &&
          (registered == G_TYPE_VARIANT || registered == G_TYPE_BYTES))
        {
          *gtype = registered;
          *shape = SHAPE_POINTER;
          return TRUE;
        }
      return FALSE;

    case GI_INFO_TYPE_INVALID:
    case GI_INFO_TYPE_FUNCTION:
    case GI_INFO_TYPE_CALLBACK:
    case GI_INFO_TYPE_CONSTANT:
    case GI_INFO_TYPE_INVALID_0:
    case GI_INFO_TYPE_UNION:
    case GI_INFO_TYPE_VALUE:
    case GI_INFO_TYPE_SIGNAL:
    case GI_INFO_TYPE_VFUNC:
    case GI_INFO_TYPE_PROPERTY:
    case GI_INFO_TYPE_FIELD:
    case GI_INFO_TYPE_ARG:
    case GI_INFO_TYPE_TYPE:
    case GI_INFO_TYPE_UNRESOLVED:
    default:
      return FALSE;
    }
}

/* The interface an object travelling as a plain GObject must implement
 * (see classify_interface()), or G_TYPE_INVALID. */
static GType
loose_interface (GITypeInfo *type_info)
{
  g_autoptr(MpelGiInfo) iface = NULL;
  GType registered;

  if (g_type_info_get_tag (type_info) != GI_TYPE_TAG_INTERFACE)
    return G_TYPE_INVALID;
  iface = g_type_info_get_interface (type_info);
  if (!GI_IS_INTERFACE_INFO (iface))
    return G_TYPE_INVALID;
  registered = g_registered_type_info_get_g_type ((GIRegisteredTypeInfo *) iface);
  return G_TYPE_IS_INTERFACE (registered) && !g_type_is_a (registered, G_TYPE_OBJECT)
           ? registered : G_TYPE_INVALID;
}

/* What @type_info is, for a refusal: its tag, or the interface's name and
 * kind ("GValue, a struct"). */
static char *
describe_type (GITypeInfo *type_info)
{
  GITypeTag tag = g_type_info_get_tag (type_info);
  g_autoptr(MpelGiInfo) iface = NULL;

  if (tag != GI_TYPE_TAG_INTERFACE)
    return g_strdup (g_type_tag_to_string (tag));

  iface = g_type_info_get_interface (type_info);
  return g_strdup_printf ("%s%s%s, a %s",
                          g_base_info_get_namespace (iface), ".", g_base_info_get_name (iface),
                          g_info_type_to_string (g_base_info_get_type (iface)));
}

/* Works out how @type_info travels: FALSE if it does not. */
static gboolean
classify_type (GITypeInfo *type_info,
               GType      *gtype,
               GITypeTag  *tag,
               Shape      *shape,
               int        *length_param)
{
  GITypeTag t = g_type_info_get_tag (type_info);

  *length_param = -1;
  *tag = t;
  *shape = SHAPE_SCALAR;

  if (t == GI_TYPE_TAG_UTF8 || t == GI_TYPE_TAG_FILENAME)
    {
      *gtype = G_TYPE_STRING;
      *shape = SHAPE_POINTER;
      return TRUE;
    }

  if (t == GI_TYPE_TAG_INTERFACE)
    return classify_interface (type_info, gtype, tag, shape);

  if (t == GI_TYPE_TAG_ARRAY && g_type_info_get_array_type (type_info) == GI_ARRAY_TYPE_C)
    {
      g_autoptr(MpelGiInfo) element = g_type_info_get_param_type (type_info, 0);
      GITypeTag element_tag = g_type_info_get_tag (element);

      if ((element_tag == GI_TYPE_TAG_UTF8 || element_tag == GI_TYPE_TAG_FILENAME) &&
          g_type_info_is_zero_terminated (type_info))
        {
          *gtype = G_TYPE_STRV;
          *shape = SHAPE_POINTER;
          return TRUE;
        }
      if ((element_tag == GI_TYPE_TAG_UINT8 || element_tag == GI_TYPE_TAG_INT8) &&
          g_type_info_get_array_length (type_info) >= 0)
        {
          *gtype = G_TYPE_BYTES;
          *shape = SHAPE_BYTE_ARRAY;
          *length_param = g_type_info_get_array_length (type_info);
          return TRUE;
        }
      return FALSE;
    }

  /* A number behind a pointer (gint8 ** for an out argument) is no
   * number: refused rather than read from the pointer's bytes */
  if (g_type_info_is_pointer (type_info))
    return FALSE;

  *gtype = gtype_of_tag (t);
  return *gtype != G_TYPE_INVALID && t != GI_TYPE_TAG_VOID;
}

static gint64
arg_get_integer (const GIArgument *arg,
                 GITypeTag         tag)
{
  switch (tag)
    {
    case GI_TYPE_TAG_INT8:   return arg->v_int8;
    case GI_TYPE_TAG_UINT8:  return arg->v_uint8;
    case GI_TYPE_TAG_INT16:  return arg->v_int16;
    case GI_TYPE_TAG_UINT16: return arg->v_uint16;
    case GI_TYPE_TAG_INT32:  return arg->v_int32;
    case GI_TYPE_TAG_UINT32: return arg->v_uint32;
    case GI_TYPE_TAG_INT64:  return arg->v_int64;
    case GI_TYPE_TAG_UINT64: return (gint64) arg->v_uint64;
    case GI_TYPE_TAG_VOID:
    case GI_TYPE_TAG_BOOLEAN:
    case GI_TYPE_TAG_FLOAT:
    case GI_TYPE_TAG_DOUBLE:
    case GI_TYPE_TAG_GTYPE:
    case GI_TYPE_TAG_UTF8:
    case GI_TYPE_TAG_FILENAME:
    case GI_TYPE_TAG_ARRAY:
    case GI_TYPE_TAG_INTERFACE:
    case GI_TYPE_TAG_GLIST:
    case GI_TYPE_TAG_GSLIST:
    case GI_TYPE_TAG_GHASH:
    case GI_TYPE_TAG_ERROR:
    case GI_TYPE_TAG_UNICHAR:
    default:
      g_assert_not_reached ();
    }
}

static void
arg_set_integer (GIArgument *arg,
                 GITypeTag   tag,
                 gint64      value)
{
  switch (tag)
    {
    case GI_TYPE_TAG_INT8:   arg->v_int8 = (gint8) value; break;
    case GI_TYPE_TAG_UINT8:  arg->v_uint8 = (guint8) value; break;
    case GI_TYPE_TAG_INT16:  arg->v_int16 = (gint16) value; break;
    case GI_TYPE_TAG_UINT16: arg->v_uint16 = (guint16) value; break;
    case GI_TYPE_TAG_INT32:  arg->v_int32 = (gint32) value; break;
    case GI_TYPE_TAG_UINT32: arg->v_uint32 = (guint32) value; break;
    case GI_TYPE_TAG_INT64:  arg->v_int64 = value; break;
    case GI_TYPE_TAG_UINT64: arg->v_uint64 = (guint64) value; break;
    case GI_TYPE_TAG_VOID:
    case GI_TYPE_TAG_BOOLEAN:
    case GI_TYPE_TAG_FLOAT:
    case GI_TYPE_TAG_DOUBLE:
    case GI_TYPE_TAG_GTYPE:
    case GI_TYPE_TAG_UTF8:
    case GI_TYPE_TAG_FILENAME:
    case GI_TYPE_TAG_ARRAY:
    case GI_TYPE_TAG_INTERFACE:
    case GI_TYPE_TAG_GLIST:
    case GI_TYPE_TAG_GSLIST:
    case GI_TYPE_TAG_GHASH:
    case GI_TYPE_TAG_ERROR:
    case GI_TYPE_TAG_UNICHAR:
    default:
      g_assert_not_reached ();
    }
}

/* The integer in a GValue of a scalar type, widened */
static gint64
value_get_integer (const GValue *value)
{
  switch (G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (value)))
    {
    case G_TYPE_CHAR:   return g_value_get_schar (value);
    case G_TYPE_UCHAR:  return g_value_get_uchar (value);
    case G_TYPE_INT:    return g_value_get_int (value);
    case G_TYPE_UINT:   return g_value_get_uint (value);
    case G_TYPE_INT64:  return g_value_get_int64 (value);
    case G_TYPE_UINT64: return (gint64) g_value_get_uint64 (value);
    case G_TYPE_ENUM:   return g_value_get_enum (value);
    case G_TYPE_FLAGS:  return g_value_get_flags (value);
    default:
      g_assert_not_reached ();
    }
}

/* A GValue (owned by the param) into a GIArgument: given away when the
 * callee takes ownership, lent otherwise. */
static gboolean
value_to_arg (const Call  *call,
              Param       *param,
              GIArgument  *arg,
              GError     **error)
{
  const GValue *value = &param->value;
  gboolean full = param->transfer == GI_TRANSFER_EVERYTHING;
  GType type = G_VALUE_TYPE (value);

  if (param->shape == SHAPE_SCALAR)
    {
      gint64 n;

      if (type == G_TYPE_BOOLEAN)
        arg->v_boolean = g_value_get_boolean (value);
      else if (type == G_TYPE_FLOAT)
        arg->v_float = g_value_get_float (value);
      else if (type == G_TYPE_DOUBLE)
        arg->v_double = g_value_get_double (value);
      else if (type == G_TYPE_GTYPE)
        arg->v_size = g_value_get_gtype (value);
      else if (param->tag == GI_TYPE_TAG_UNICHAR)
        {
          if (!g_unichar_validate (g_value_get_uint (value)))
            {
              set_param_error (error, call, param, MPEL_ERROR_INVALID_ARGS, _("not a Unicode character"));
              return FALSE;
            }
          arg->v_uint32 = g_value_get_uint (value);
        }
      else
        {
          n = value_get_integer (value);
          if ((param->tag == GI_TYPE_TAG_INT16 && (n < G_MININT16 || n > G_MAXINT16)) ||
              (param->tag == GI_TYPE_TAG_UINT16 && (n < 0 || n > G_MAXUINT16)))
            {
              g_autofree char *reason = g_strdup_printf (_("The value %" G_GINT64_FORMAT " is out of range"), n);

              set_param_error (error, call, param, MPEL_ERROR_INVALID_ARGS, reason);
              return FALSE;
            }
          arg_set_integer (arg, param->tag, n);
        }
      return TRUE;
    }

  if (param->shape == SHAPE_BYTE_ARRAY)
    {
      GBytes *bytes = g_value_get_boxed (value);
      gsize size = 0;
      gconstpointer data = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

      if (bytes == NULL && !g_arg_info_may_be_null (&param->arg_info))
        {
          set_param_error (error, call, param, MPEL_ERROR_INVALID_ARGS, _("it may not be empty"));
          return FALSE;
        }
      arg->v_pointer = full ? g_memdup2 (data, size) : (gpointer) data;
      return TRUE;
    }

  if (type == G_TYPE_STRING)
    arg->v_string = full ? g_value_dup_string (value) : (char *) g_value_get_string (value);
  else if (type == G_TYPE_VARIANT)
    arg->v_pointer = full ? g_value_dup_variant (value) : g_value_get_variant (value);
  else if (type == G_TYPE_STRV && param->transfer == GI_TRANSFER_CONTAINER)
    {
      /* The callee frees the array, we the strings */
      char **strv = g_value_get_boxed (value);

      arg->v_pointer = strv != NULL ? g_memdup2 (strv, sizeof (char *) * (g_strv_length (strv) + 1)) : NULL;
    }
  else if (G_TYPE_FUNDAMENTAL (type) == G_TYPE_BOXED)
    arg->v_pointer = full ? g_value_dup_boxed (value) : g_value_get_boxed (value);
  else
    arg->v_pointer = full ? g_value_dup_object (value) : g_value_get_object (value);

  if (arg->v_pointer == NULL && !g_arg_info_may_be_null (&param->arg_info))
    {
      set_param_error (error, call, param, MPEL_ERROR_INVALID_ARGS, _("it may not be empty"));
      return FALSE;
    }

  return TRUE;
}

/* A GIArgument the callee filled in into a GValue of @gtype, taking what
 * the caller owns. */
static void
arg_to_value (const GIArgument *arg,
              GType             gtype,
              GITypeTag         tag,
              Shape             shape,
              GITransfer        transfer,
              gsize             length,
              GValue           *value)
{
  gboolean full = transfer == GI_TRANSFER_EVERYTHING;

  g_value_init (value, gtype);

  if (shape == SHAPE_BYTE_ARRAY)
    {
      g_value_take_boxed (value, transfer != GI_TRANSFER_NOTHING
                                   ? g_bytes_new_take (arg->v_pointer, length)
                                   : g_bytes_new (arg->v_pointer, length));
      return;
    }

  if (shape == SHAPE_SCALAR)
    {
      if (gtype == G_TYPE_BOOLEAN)
        g_value_set_boolean (value, arg->v_boolean);
      else if (gtype == G_TYPE_FLOAT)
        g_value_set_float (value, arg->v_float);
      else if (gtype == G_TYPE_DOUBLE)
        g_value_set_double (value, arg->v_double);
      else if (gtype == G_TYPE_GTYPE)
        g_value_set_gtype (value, arg->v_size);
      else if (tag == GI_TYPE_TAG_UNICHAR)
        g_value_set_uint (value, arg->v_uint32);
      else
        {
          gint64 n = arg_get_integer (arg, tag);

          switch (G_TYPE_FUNDAMENTAL (gtype))
            {
            case G_TYPE_CHAR:   g_value_set_schar (value, (gint8) n); break;
            case G_TYPE_UCHAR:  g_value_set_uchar (value, (guchar) n); break;
            case G_TYPE_INT:    g_value_set_int (value, (int) n); break;
            case G_TYPE_UINT:   g_value_set_uint (value, (guint) n); break;
            case G_TYPE_INT64:  g_value_set_int64 (value, n); break;
            case G_TYPE_UINT64: g_value_set_uint64 (value, (guint64) n); break;
            case G_TYPE_ENUM:   g_value_set_enum (value, (int) n); break;
            case G_TYPE_FLAGS:  g_value_set_flags (value, (guint) n); break;
            default:
              g_assert_not_reached ();
            }
        }
      return;
    }

  if (gtype == G_TYPE_STRING)
    {
      if (full)
        g_value_take_string (value, arg->v_string);
      else
        g_value_set_string (value, arg->v_string);
    }
  else if (gtype == G_TYPE_VARIANT)
    {
      if (full)
        g_value_take_variant (value, arg->v_pointer);
      else
        g_value_set_variant (value, arg->v_pointer);
    }
  else if (gtype == G_TYPE_STRV && transfer == GI_TRANSFER_CONTAINER)
    {
      g_value_set_boxed (value, arg->v_pointer);
      g_free (arg->v_pointer);
    }
  else if (G_TYPE_FUNDAMENTAL (gtype) == G_TYPE_BOXED)
    {
      if (full)
        g_value_take_boxed (value, arg->v_pointer);
      else
        g_value_set_boxed (value, arg->v_pointer);
    }
  else
    {
      if (full)
        g_value_take_object (value, arg->v_pointer);
      else
        g_value_set_object (value, arg->v_pointer);
    }
}

/* A return value that cannot cross is refused before the call, not found
 * after it has had its effects. */
static gboolean
check_return_type (Call    *call,
                   GError **error)
{
  GITypeInfo return_type;
  GType gtype;
  GITypeTag tag;
  Shape shape;
  int length_param;

  g_callable_info_load_return_type ((GICallableInfo *) call->info, &return_type);
  tag = g_type_info_get_tag (&return_type);
  if ((tag == GI_TYPE_TAG_VOID && !g_type_info_is_pointer (&return_type)) ||
      g_callable_info_skip_return ((GICallableInfo *) call->info))
    return TRUE;

  if (!classify_type (&return_type, &gtype, &tag, &shape, &length_param) ||
      (shape == SHAPE_BYTE_ARRAY && (length_param >= call->n_params ||
                                     call->params[length_param].direction == GI_DIRECTION_IN)))
    {
      g_autofree char *type = describe_type (&return_type);

      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The return value of “%s.%s” has a type (%s) that does not cross"),
                   call->owner, call->method, type);
      return FALSE;
    }

  if (shape == SHAPE_BYTE_ARRAY)
    call->params[length_param].kind = PARAM_LENGTH;

  return TRUE;
}

/* Loads the parameters, finds their kinds and places in the argument
 * arrays, and refuses what cannot travel. */
static gboolean
call_prepare (Call    *call,
              GError **error)
{
  call->n_params = g_callable_info_get_n_args ((GICallableInfo *) call->info);
  call->params = g_new0 (Param, call->n_params);
  call->n_in = call->object != NULL ? 1 : 0;   /* the instance */
  call->n_out = 0;

  for (int i = 0; i < call->n_params; i++)
    {
      Param *param = &call->params[i];

      g_callable_info_load_arg ((GICallableInfo *) call->info, i, &param->arg_info);
      g_arg_info_load_type (&param->arg_info, &param->type_info);
      param->direction = g_arg_info_get_direction (&param->arg_info);
      param->transfer = g_arg_info_get_ownership_transfer (&param->arg_info);
      param->in_pos = param->out_pos = -1;
    }

  for (int i = 0; i < call->n_params; i++)
    {
      Param *param = &call->params[i];

      if (param->kind == PARAM_LENGTH)
        ;
      else if (g_arg_info_is_skip (&param->arg_info))
        param->kind = PARAM_HIDDEN;
      else if (param->direction == GI_DIRECTION_OUT && g_arg_info_is_caller_allocates (&param->arg_info))
        {
          set_param_error (error, call, param, MPEL_ERROR_INVALID_ARGS,
                           _("out parameters the caller allocates do not cross"));
          return FALSE;
        }
      else if (!classify_type (&param->type_info, &param->gtype, &param->tag, &param->shape,
                               &param->length_param))
        {
          g_autofree char *type = describe_type (&param->type_info);
          g_autofree char *reason = g_strdup_printf (_("its type (%s) does not cross"), type);

          set_param_error (error, call, param, MPEL_ERROR_INVALID_ARGS, reason);
          return FALSE;
        }
      else if (param->direction == GI_DIRECTION_IN && g_type_is_a (param->gtype, G_TYPE_CANCELLABLE))
        param->kind = PARAM_CANCELLABLE;

      if (param->shape == SHAPE_BYTE_ARRAY)
        {
          if (param->length_param >= call->n_params || param->length_param == i)
            {
              set_param_error (error, call, param, MPEL_ERROR_INVALID_ARGS, _("its length parameter is missing"));
              return FALSE;
            }
          call->params[param->length_param].kind = PARAM_LENGTH;
        }
    }

  for (int i = 0; i < call->n_params; i++)
    {
      Param *param = &call->params[i];

      if (param->direction != GI_DIRECTION_OUT)
        param->in_pos = call->n_in++;
      if (param->direction != GI_DIRECTION_IN)
        param->out_pos = call->n_out++;
      if (param->direction != GI_DIRECTION_OUT && param->kind == PARAM_VALUE)
        call->n_expected++;
    }

  if (!check_return_type (call, error))
    return FALSE;

  call->in_args = g_new0 (GIArgument, call->n_in);
  call->out_args = g_new0 (GIArgument, MAX (call->n_out, 1));
  call->out_storage = g_new0 (GIArgument, MAX (call->n_out, 1));
  for (int j = 0; j < call->n_out; j++)
    call->out_args[j].v_pointer = &call->out_storage[j];

  return TRUE;
}

/* Fills in the in arguments from @args. */
static gboolean
call_marshal_in (Call          *call,
                 GVariant      *args,
                 GCancellable  *cancellable,
                 GError       **error)
{
  guint next = 0;

  if (call->object != NULL)
    call->in_args[0].v_pointer = call->object;

  for (int i = 0; i < call->n_params; i++)
    {
      Param *param = &call->params[i];
      GIArgument *arg;

      if (param->in_pos < 0)
        continue;

      /* An inout argument goes in through the storage the callee updates */
      if (param->out_pos >= 0)
        {
          call->in_args[param->in_pos].v_pointer = &call->out_storage[param->out_pos];
          arg = &call->out_storage[param->out_pos];
        }
      else
        arg = &call->in_args[param->in_pos];

      if (param->kind == PARAM_CANCELLABLE)
        arg->v_pointer = cancellable;
      else if (param->kind == PARAM_VALUE)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (args, next++);
          g_autoptr(GError) local_error = NULL;

          GType loose = G_TYPE_INVALID;
          GObject *given;

          if (!_mpel_value_from_variant_full (child, param->gtype, &param->value, call->mapper, &local_error))
            {
              set_param_error (error, call, param, local_error->domain == MPEL_ERROR
                                                     ? local_error->code : MPEL_ERROR_INVALID_ARGS,
                               local_error->message);
              return FALSE;
            }
          if (param->gtype == G_TYPE_OBJECT &&
              (loose = loose_interface (&param->type_info)) != G_TYPE_INVALID &&
              (given = g_value_get_object (&param->value)) != NULL &&
              !g_type_is_a (G_OBJECT_TYPE (given), loose))
            {
              g_autofree char *reason = g_strdup_printf (_("a %s is not a %s"), G_OBJECT_TYPE_NAME (given),
                                                         g_type_name (loose));

              set_param_error (error, call, param, MPEL_ERROR_INVALID_ARGS, reason);
              return FALSE;
            }
          if (!value_to_arg (call, param, arg, error))
            return FALSE;
        }
    }

  /* Lengths, once their arrays are in */
  for (int i = 0; i < call->n_params; i++)
    {
      Param *param = &call->params[i];
      Param *length;
      GBytes *bytes;

      if (param->shape != SHAPE_BYTE_ARRAY || param->in_pos < 0)
        continue;
      length = &call->params[param->length_param];
      bytes = g_value_get_boxed (&param->value);
      if (length->in_pos >= 0 && is_integer_tag (g_type_info_get_tag (&length->type_info)))
        arg_set_integer (length->out_pos >= 0 ? &call->out_storage[length->out_pos]
                                              : &call->in_args[length->in_pos],
                         g_type_info_get_tag (&length->type_info),
                         bytes != NULL ? (gint64) g_bytes_get_size (bytes) : 0);
    }

  return TRUE;
}

/* What the callee gave, as a GVariant; frees what the caller owns even
 * when it does not convert. */
static GVariant *
output_to_variant (const Call       *call,
                   const GIArgument *arg,
                   GITypeInfo       *type_info,
                   GITransfer        transfer,
                   const char       *what,
                   GError          **error)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) local_error = NULL;
  GVariant *variant;
  GType gtype;
  GITypeTag tag;
  Shape shape;
  int length_param;
  gsize length = 0;

  if (!classify_type (type_info, &gtype, &tag, &shape, &length_param))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The %s of “%s.%s” has a type (%s) that does not cross"),
                   what, call->owner, call->method,
                   g_type_tag_to_string (g_type_info_get_tag (type_info)));
      return NULL;
    }

  if (shape == SHAPE_BYTE_ARRAY)
    {
      const Param *length_p = &call->params[length_param];
      const GIArgument *length_arg = length_p->out_pos >= 0 ? &call->out_storage[length_p->out_pos]
                                                            : &call->in_args[length_p->in_pos];

      length = (gsize) arg_get_integer (length_arg, g_type_info_get_tag ((GITypeInfo *) &length_p->type_info));
    }

  /* What travels as a plain GObject must be one */
  if (gtype == G_TYPE_OBJECT && arg->v_pointer != NULL && !G_IS_OBJECT (arg->v_pointer))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The %s of “%s.%s” is a %s, not a GObject"),
                   what, call->owner, call->method, G_OBJECT_TYPE_NAME (arg->v_pointer));
      return NULL;
    }

  arg_to_value (arg, gtype, tag, shape, transfer, length, &value);
  variant = _mpel_value_to_variant_full (&value, call->mapper, &local_error);
  if (variant == NULL)
    g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                 _("The %s of “%s.%s”: %s"),
                 what, call->owner, call->method, local_error->message);

  return variant;
}

static gboolean
call_collect (Call        *call,
              GIArgument  *retval,
              GVariant   **out_result,
              GError     **error)
{
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GError) first_error = NULL;
  GITypeInfo return_type;
  gboolean has_outs = FALSE;
  gboolean keep_return;

  g_callable_info_load_return_type ((GICallableInfo *) call->info, &return_type);
  keep_return = g_type_info_get_tag (&return_type) != GI_TYPE_TAG_VOID &&
                !g_callable_info_skip_return ((GICallableInfo *) call->info) &&
                /* FALSE would have come as the error */
                !(g_callable_info_can_throw_gerror ((GICallableInfo *) call->info) &&
                  g_type_info_get_tag (&return_type) == GI_TYPE_TAG_BOOLEAN);

  if (keep_return)
    {
      GVariant *variant = output_to_variant (call, retval, &return_type,
                                             g_callable_info_get_caller_owns ((GICallableInfo *) call->info),
                                             _("return value"), &first_error);
      if (variant != NULL)
        g_ptr_array_add (results, variant);
    }

  /* Every out value is taken (and freed), even after a failure */
  for (int i = 0; i < call->n_params; i++)
    {
      Param *param = &call->params[i];
      GVariant *variant;

      if (param->out_pos < 0 || param->kind == PARAM_LENGTH || param->kind == PARAM_HIDDEN)
        continue;

      has_outs = TRUE;
      variant = output_to_variant (call, &call->out_storage[param->out_pos], &param->type_info,
                                   param->transfer, g_base_info_get_name ((GIBaseInfo *) &param->arg_info),
                                   first_error == NULL ? &first_error : NULL);
      if (variant != NULL)
        g_ptr_array_add (results, variant);
    }

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }

  if (has_outs)
    *out_result = g_variant_ref_sink (g_variant_new_tuple ((GVariant **) results->pdata, results->len));
  else if (results->len == 1)
    *out_result = g_variant_ref (results->pdata[0]);
  else
    *out_result = NULL;

  return TRUE;
}

/* Marshals @args in, invokes, and collects the results: what methods and
 * functions share once their info is found. Clears @call. */
static gboolean
call_invoke (Call          *call,
             GVariant      *args,
             GCancellable  *cancellable,
             GVariant     **out_result,
             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  GIArgument retval = { 0 };
  GObject *instance_given = NULL;
  gboolean ret = FALSE;

  if (!call_prepare (call, error))
    goto out;

  if (g_variant_n_children (args) != call->n_expected)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   ngettext ("“%s.%s” takes %u argument, not %u",
                             "“%s.%s” takes %u arguments, not %u", call->n_expected),
                   call->owner, call->method, call->n_expected,
                   (guint) g_variant_n_children (args));
      goto out;
    }

  if (!call_marshal_in (call, args, cancellable, error))
    goto out;

  /* A method that takes its instance (transfer full) gets a reference */
  if (call->object != NULL &&
      g_callable_info_get_instance_ownership_transfer ((GICallableInfo *) call->info) == GI_TRANSFER_EVERYTHING)
    instance_given = g_object_ref (call->object);

  /* The callee's own error crosses as it is, domain and code */
  if (!g_function_info_invoke (call->info, call->in_args, call->n_in, call->out_args, call->n_out,
                               &retval, &local_error))
    {
      /* Not called at all (its symbol is missing): the reference is ours */
      if (instance_given != NULL && local_error->domain == G_INVOKE_ERROR)
        g_object_unref (instance_given);
      g_propagate_error (error, g_steal_pointer (&local_error));
      goto out;
    }

  ret = call_collect (call, &retval, out_result, error);

out:
  call_clear (call);
  return ret;
}

/* Sinks @args (NULL: none) into *owned; FALSE if it is not a tuple. */
static gboolean
check_args (GVariant    *args,
            const char  *owner,
            const char  *method,
            GVariant   **owned,
            GError     **error)
{
  /* Sunk, as g_dbus_proxy_call() does */
  *owned = g_variant_ref_sink (args != NULL ? args : g_variant_new_tuple (NULL, 0));
  if (!g_variant_is_container (*owned) || !g_variant_type_is_tuple (g_variant_get_type (*owned)))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_INVALID_ARGS,
                   _("The arguments of “%s.%s” are a “%s”, not a tuple"),
                   owner, method, g_variant_get_type_string (*owned));
      return FALSE;
    }
  return TRUE;
}

gboolean
_mpel_gi_call_method (GObject                      *object,
                      const char                   *method,
                      GVariant                     *args,
                      GCancellable                 *cancellable,
                      const MpelValueObjectMapper  *mapper,
                      GVariant                    **out_result,
                      GError                      **error)
{
  Call call = { object, NULL, NULL, method, mapper, };
  g_autoptr(GVariant) owned_args = NULL;

  g_return_val_if_fail (G_IS_OBJECT (object), FALSE);
  g_return_val_if_fail (method != NULL, FALSE);
  g_return_val_if_fail (out_result != NULL, FALSE);

  *out_result = NULL;
  call.owner = G_OBJECT_TYPE_NAME (object);

  if (!check_args (args, call.owner, method, &owned_args, error))
    return FALSE;

  call.info = find_method (G_OBJECT_TYPE (object), method);
  if (call.info == NULL)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_METHOD,
                   _("“%s” has no method “%s”"), G_OBJECT_TYPE_NAME (object), method);
      return FALSE;
    }

  return call_invoke (&call, owned_args, cancellable, out_result, error);
}

gboolean
_mpel_gi_call_function (const char                   *namespace_,
                        const char                   *function,
                        GVariant                     *args,
                        GCancellable                 *cancellable,
                        const MpelValueObjectMapper  *mapper,
                        GVariant                    **out_result,
                        GError                      **error)
{
  Call call = { NULL, namespace_, NULL, function, mapper, };
  g_autoptr(GVariant) owned_args = NULL;
  g_autoptr(MpelGiInfo) info = NULL;

  g_return_val_if_fail (namespace_ != NULL, FALSE);
  g_return_val_if_fail (function != NULL, FALSE);
  g_return_val_if_fail (out_result != NULL, FALSE);

  *out_result = NULL;

  if (!check_args (args, namespace_, function, &owned_args, error))
    return FALSE;

  if (!g_irepository_is_registered (NULL, namespace_, NULL))
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_OBJECT,
                   _("The namespace “%s” is not loaded"), namespace_);
      return FALSE;
    }

  info = g_irepository_find_by_name (NULL, namespace_, function);
  if (info == NULL || !GI_IS_FUNCTION_INFO (info) ||
      (g_function_info_get_flags ((GIFunctionInfo *) info) & GI_FUNCTION_IS_METHOD) != 0)
    {
      g_set_error (error, MPEL_ERROR, MPEL_ERROR_NO_SUCH_METHOD,
                   _("“%s” has no function “%s”"), namespace_, function);
      return FALSE;
    }
  call.info = g_steal_pointer (&info);

  return call_invoke (&call, owned_args, cancellable, out_result, error);
}
