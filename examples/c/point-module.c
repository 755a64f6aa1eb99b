/* point-module.c: the worker side of the seed's Point example, a module
 * for the default host, `mpel-worker --module point-module.so`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <mpel.h>

G_MODULE_EXPORT void mpel_module_init (MpelWorker *worker);

#define MY_TYPE_POINT (my_point_get_type ())
G_DECLARE_FINAL_TYPE (MyPoint, my_point, MY, POINT, GObject)

struct _MyPoint
{
  GObject parent_instance;
  int     x, y;
  int     z;   /* private: only get_z reads it */
};

G_DEFINE_FINAL_TYPE (MyPoint, my_point, G_TYPE_OBJECT)

enum { PROP_0, PROP_X, PROP_Y, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
my_point_set (MyPoint *self,
              guint    prop,
              int      value)
{
  int *field = prop == PROP_X ? &self->x : &self->y;

  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
my_point_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  MyPoint *self = MY_POINT (object);

  g_value_set_int (value, prop_id == PROP_X ? self->x : self->y);
}

static void
my_point_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  my_point_set (MY_POINT (object), prop_id, g_value_get_int (value));
}

static void
my_point_class_init (MyPointClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = my_point_get_property;
  object_class->set_property = my_point_set_property;
  properties[PROP_X] = g_param_spec_int ("x", NULL, NULL, G_MININT, G_MAXINT, 0,
                                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_Y] = g_param_spec_int ("y", NULL, NULL, G_MININT, G_MAXINT, 0,
                                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
my_point_init (MyPoint *self)
{
}

/* The methods, as proxies call them: arguments in a tuple */

static void
set_z (MpelInvocation *invocation,
       GObject        *object,
       gpointer        user_data)
{
  g_variant_get (mpel_invocation_get_args (invocation), "(i)", &MY_POINT (object)->z);
  mpel_invocation_return_value (invocation, NULL);
}

static void
move (MpelInvocation *invocation,
      GObject        *object,
      gpointer        user_data)
{
  MyPoint *self = MY_POINT (object);
  int x, y;

  g_variant_get (mpel_invocation_get_args (invocation), "(iii)", &x, &y, &self->z);
  my_point_set (self, PROP_X, x);
  my_point_set (self, PROP_Y, y);
  mpel_invocation_return_value (invocation, NULL);
}

static void
get_z (MpelInvocation *invocation,
       GObject        *object,
       gpointer        user_data)
{
  mpel_invocation_return_value (invocation, g_variant_new_int32 (MY_POINT (object)->z));
}

void
mpel_module_init (MpelWorker *worker)
{
  mpel_worker_add_method (worker, MY_TYPE_POINT, "set_z", set_z, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "move", move, NULL, NULL);
  mpel_worker_add_method (worker, MY_TYPE_POINT, "get_z", get_z, NULL, NULL);
}
