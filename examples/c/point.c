/* point.c: mp_event_loop's Point example, with mpel.
 *
 *   with mp_event_loop.Pool() as loop:
 *       p = Point()                  # a proxy; the Point lives in the worker
 *       p.set_z(3)
 *       p.move(1, 2, 7)
 *       loop.wait()
 *       assert (p.x, p.y, p.get_z()) == (1, 2, 7)
 *
 * MyPoint runs in a worker process: point-module.c, loaded by the default
 * host. Run uninstalled with MPEL_WORKER pointing at mpel-worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include <mpel.h>

/* The app side: x and y mirrored as real properties, get_z as a getter */
#define MY_TYPE_POINT_PROXY (my_point_proxy_get_type ())
G_DECLARE_FINAL_TYPE (MyPointProxy, my_point_proxy, MY, POINT_PROXY, MpelProxy)

struct _MyPointProxy
{
  MpelProxy parent_instance;
};

G_DEFINE_FINAL_TYPE (MyPointProxy, my_point_proxy, MPEL_TYPE_PROXY)

static void
my_point_proxy_class_init (MyPointProxyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  /* No set_property or get_property: MpelProxy mirrors these */
  g_object_class_install_property (object_class, 1,
    g_param_spec_int ("x", NULL, NULL, G_MININT, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, 2,
    g_param_spec_int ("y", NULL, NULL, G_MININT, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  mpel_proxy_class_add_getter (MPEL_PROXY_CLASS (klass), "get_z");
}

static void
my_point_proxy_init (MyPointProxy *self)
{
}

/* The module sits beside this program, unless MPEL_POINT_MODULE says
 * otherwise. */
static char *
find_module (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = NULL;

  if (g_getenv ("MPEL_POINT_MODULE") != NULL)
    return g_strdup (g_getenv ("MPEL_POINT_MODULE"));

  dir = g_path_get_dirname (self ? self : ".");
  return g_build_filename (dir, "point-module.so", NULL);
}

int
main (void)
{
  g_autoptr(MpelLoop) loop = mpel_loop_new ();
  g_autoptr(MyPointProxy) p = NULL;
  g_autoptr(GVariant) z = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *module = find_module ();
  const char *modules[] = { module, NULL };
  int x, y;

  mpel_loop_set_modules (loop, modules);

  p = g_object_new (MY_TYPE_POINT_PROXY, "loop", loop, "remote-type", "MyPoint", NULL);
  mpel_proxy_call (MPEL_PROXY (p), "set_z", g_variant_new ("(i)", 3));
  mpel_proxy_call (MPEL_PROXY (p), "move", g_variant_new ("(iii)", 1, 2, 7));

  if (!mpel_loop_wait (loop, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }

  g_object_get (p, "x", &x, "y", &y, NULL);
  z = mpel_proxy_get_value (MPEL_PROXY (p), "get_z");
  g_print ("x = %d, y = %d, get_z () = %d\n", x, y, z ? g_variant_get_int32 (z) : -1);
  mpel_loop_stop (loop);

  return x == 1 && y == 2 && z != NULL && g_variant_get_int32 (z) == 7 ? EXIT_SUCCESS : EXIT_FAILURE;
}
