/* bench-gdbus.c: GDBus peer-to-peer over a socketpair with a forked child.
 * The child exports org.mpel.Bench at /org/mpel/Bench with Add (ii) → (i)
 * and Echo (ay) → (ay). The parent calls it one call at a time
 * (g_dbus_connection_call_sync) and pipelined (g_dbus_connection_call with
 * WINDOW calls outstanding).
 *
 *
 *   bench-gdbus --core N_RT N_PIPE [--payload]
 *
 * Prints one JSON object on stdout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>

#include "bench-common.h"

#define WINDOW 1000
#define OBJECT_PATH "/org/mpel/Bench"
#define INTERFACE "org.mpel.Bench"
#define CALL_TIMEOUT_MS 120000

static const char introspection_xml[] =
  "<node>"
  "  <interface name='" INTERFACE "'>"
  "    <method name='Add'>"
  "      <arg type='i' name='a' direction='in'/>"
  "      <arg type='i' name='b' direction='in'/>"
  "      <arg type='i' name='sum' direction='out'/>"
  "    </method>"
  "    <method name='Echo'>"
  "      <arg type='ay' name='data' direction='in'/>"
  "      <arg type='ay' name='data' direction='out'/>"
  "    </method>"
  "  </interface>"
  "</node>";

static GDBusConnection *
connection_for_fd (int                   fd,
                   GDBusConnectionFlags  flags,
                   const char           *guid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, &error);
  g_autoptr(GSocketConnection) stream = NULL;
  GDBusConnection *conn;

  if (socket == NULL)
    bench_die ("gdbus: %s", error->message);
  stream = g_socket_connection_factory_create_connection (socket);
  conn = g_dbus_connection_new_sync (G_IO_STREAM (stream), guid, flags, NULL, NULL, &error);
  if (conn == NULL)
    bench_die ("gdbus: %s", error->message);
  return conn;
}

/* ---- the child ------------------------------------------------------- */

static void
child_method_call (GDBusConnection       *connection,
                   const char            *sender,
                   const char            *object_path,
                   const char            *interface_name,
                   const char            *method_name,
                   GVariant              *parameters,
                   GDBusMethodInvocation *invocation,
                   gpointer               user_data)
{
  if (g_str_equal (method_name, "Add"))
    {
      gint32 a, b;

      g_variant_get (parameters, "(ii)", &a, &b);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(i)", a + b));
    }
  else if (g_str_equal (method_name, "Echo"))
    g_dbus_method_invocation_return_value (invocation, g_variant_ref (parameters));
  else
    g_dbus_method_invocation_return_dbus_error (invocation, "org.mpel.Bench.Error", "no such method");
}

static void
child_closed (GDBusConnection *connection,
              gboolean         remote_peer_vanished,
              GError          *error,
              gpointer         user_data)
{
  g_main_loop_quit (user_data);
}

static G_GNUC_NORETURN void
child_main (int         fd,
            const char *guid)
{
  static const GDBusInterfaceVTable vtable = { child_method_call, NULL, NULL, { 0 } };
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  GDBusConnection *conn;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  info = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  if (info == NULL)
    bench_die ("gdbus: %s", error->message);
  conn = connection_for_fd (fd, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER, guid);
  if (g_dbus_connection_register_object (conn, OBJECT_PATH, info->interfaces[0], &vtable,
                                         NULL, NULL, &error) == 0)
    bench_die ("gdbus: %s", error->message);
  g_signal_connect (conn, "closed", G_CALLBACK (child_closed), loop);
  g_main_loop_run (loop);
  _exit (0);
}

/* ---- the parent ------------------------------------------------------ */

static GDBusConnection *conn;

static double
roundtrip_once_ns (gint32 i)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint64 t0 = bench_now_ns ();
  gint32 sum;

  reply = g_dbus_connection_call_sync (conn, NULL, OBJECT_PATH, INTERFACE, "Add",
                                       bench_args_ii (i, 1), G_VARIANT_TYPE ("(i)"),
                                       G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);
  if (reply == NULL)
    bench_die ("gdbus: Add: %s", error->message);
  g_variant_get (reply, "(i)", &sum);
  if (sum != i + 1)
    bench_die ("gdbus: Add returned %d, not %d", sum, i + 1);
  return (double) (bench_now_ns () - t0);
}

typedef struct
{
  guint n, sent, received;
  gint64 sum;
} Pipe;

static void send_more (Pipe *pipe);

static void
add_done (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Pipe *pipe = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (conn, result, &error);
  gint32 sum;

  if (reply == NULL)
    bench_die ("gdbus: Add: %s", error->message);
  g_variant_get (reply, "(i)", &sum);
  pipe->sum += sum;
  pipe->received++;
  send_more (pipe);
}

static void
send_more (Pipe *pipe)
{
  while (pipe->sent < pipe->n && pipe->sent - pipe->received < WINDOW)
    {
      g_dbus_connection_call (conn, NULL, OBJECT_PATH, INTERFACE, "Add",
                              bench_args_ii ((gint32) pipe->sent, 1), G_VARIANT_TYPE ("(i)"),
                              G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, add_done, pipe);
      pipe->sent++;
    }
}

static double
pipelined_calls_per_s (guint n)
{
  Pipe pipe = { n, 0, 0, 0 };
  gint64 t0 = bench_now_ns ();
  gint64 expected;

  send_more (&pipe);
  while (pipe.received < n)
    g_main_context_iteration (NULL, TRUE);
  expected = (gint64) n * (n - 1) / 2 + n;
  if (pipe.sum != expected)
    bench_die ("gdbus: pipelined sums are wrong");
  return n / ((bench_now_ns () - t0) / 1e9);
}

static double
echo_once_ns (BenchPayload  *payload,
              GError       **error)
{
  gsize size = payload->size;
  g_autoptr(GVariant) args = bench_payload_args (payload);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) ay = NULL;
  gint64 t0 = bench_now_ns ();
  const guint8 *data;
  gsize n;

  reply = g_dbus_connection_call_sync (conn, NULL, OBJECT_PATH, INTERFACE, "Echo",
                                       args, G_VARIANT_TYPE ("(ay)"),
                                       G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, error);
  if (reply == NULL)
    return -1;
  ay = g_variant_get_child_value (reply, 0);
  data = g_variant_get_fixed_array (ay, &n, 1);
  if (n != size || data[n - 1] != (guint8) ((n - 1) * 31 + 7))
    bench_die ("gdbus: Echo returned %zu bytes, not %zu", n, size);
  return (double) (bench_now_ns () - t0);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *guid = g_dbus_generate_guid ();
  g_autoptr(GError) error = NULL;
  int sv[2];
  pid_t pid;
  BenchJson json;
  guint n_rt = 2000, n_pipe = 20000;
  gint64 *samples;
  int status;

  alarm (300);  /* the deadline of the whole program */
  bench_core_counts (argc, argv, &n_rt, &n_pipe);

  /* Fork before anything starts GDBus's worker thread. */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    bench_die ("socketpair: %s", g_strerror (errno));
  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    bench_die ("fork: %s", g_strerror (errno));
  if (pid == 0)
    {
      close (sv[0]);
      child_main (sv[1], guid);
    }
  close (sv[1]);
  conn = connection_for_fd (sv[0], G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL);

  bench_json_init (&json);
  bench_json_str (&json, "contender", "gdbus");

  for (guint i = 0; i < MAX (100, n_rt / 5); i++)
    roundtrip_once_ns ((gint32) i);
  samples = g_new (gint64, n_rt);
  for (guint i = 0; i < n_rt; i++)
    samples[i] = (gint64) roundtrip_once_ns ((gint32) i);
  bench_json_num (&json, "roundtrip_us", bench_percentile_ns (samples, n_rt, 0.5) / 1e3);
  bench_json_num (&json, "roundtrip_p99_us", bench_percentile_ns (samples, n_rt, 0.99) / 1e3);
  bench_json_num (&json, "roundtrip_n", n_rt);
  g_free (samples);

  pipelined_calls_per_s (MAX (10, n_pipe / 10));  /* warm-up */
  bench_json_num (&json, "pipelined_per_s", pipelined_calls_per_s (n_pipe));
  bench_json_num (&json, "pipelined_n", n_pipe);
  bench_json_num (&json, "window", WINDOW);

  if (bench_has_arg (argc, argv, "--payload"))
    for (guint p = 0; p < G_N_ELEMENTS (bench_payloads); p++)
      {
        BenchPayload payload;
        guint n = MAX (3, bench_count (bench_payloads[p].iterations));
        g_autofree gint64 *s = g_new (gint64, n);
        g_autofree char *key = g_strdup_printf ("payload_%s_ms", bench_payloads[p].name);
        g_autofree char *err_key = g_strdup_printf ("payload_%s_error", bench_payloads[p].name);
        guint i;

        /* GDBus may refuse big messages: that is a result ("n/a"), not a
         * crash of the benchmark. */
        bench_payload_init (&payload, bench_payloads[p].size);
        if (echo_once_ns (&payload, &error) < 0)
          {
            g_printerr ("gdbus: Echo of %s failed: %s\n", bench_payloads[p].name, error->message);
            bench_json_null (&json, key);
            bench_json_str (&json, err_key, error->message);
            g_clear_error (&error);
            if (g_dbus_connection_is_closed (conn))
              bench_die ("gdbus: the connection closed after a failed Echo");
            bench_payload_clear (&payload);
            continue;
          }
        for (i = 0; i < n; i++)
          {
            double t = echo_once_ns (&payload, &error);

            if (t < 0)
              break;
            s[i] = (gint64) t;
          }
        if (i < n)
          {
            bench_json_null (&json, key);
            bench_json_str (&json, err_key, error->message);
            g_clear_error (&error);
          }
        else
          bench_json_num (&json, key, bench_percentile_ns (s, n, 0.5) / 1e6);
        bench_payload_clear (&payload);
      }

  if (!g_dbus_connection_close_sync (conn, NULL, &error))
    bench_die ("gdbus: close: %s", error->message);
  g_clear_object (&conn);
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    bench_die ("gdbus: the child did not exit cleanly (status %d)", status);

  bench_json_print (&json);
  return 0;
}
