/* test-peer.c: what both ends share: HELLO, and dispatch by kind
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "mpel-peer-private.h"
#include "mpel-test-peer.h"

/* Who may send what, written once for both ends. */
static void
test_directions (void)
{
  static const struct { guint8 kind; gboolean app, worker; } cases[] = {
    { MPEL_FRAME_HELLO, TRUE, TRUE },
    { MPEL_FRAME_CALL, TRUE, FALSE },
    { MPEL_FRAME_RETURN, FALSE, TRUE },
    { MPEL_FRAME_ERROR, FALSE, TRUE },
    { MPEL_FRAME_ITEM, FALSE, TRUE },
    { MPEL_FRAME_CANCEL, TRUE, FALSE },
    { MPEL_FRAME_NOTIFY, FALSE, TRUE },
    { MPEL_FRAME_STOP, TRUE, FALSE },
    { 0, FALSE, FALSE },
    { 99, FALSE, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_cmpint (_mpel_peer_may_send (MPEL_PEER_APP, cases[i].kind), ==, cases[i].app);
      g_assert_cmpint (_mpel_peer_may_send (MPEL_PEER_WORKER, cases[i].kind), ==, cases[i].worker);
    }
}

typedef struct
{
  guint n_notify;
  guint n_return;
  guint64 last_id;
} Seen;

static gboolean
on_notify (gpointer   owner,
           MpelFrame *frame)
{
  Seen *seen = owner;

  seen->n_notify++;
  seen->last_id = frame->id;
  return TRUE;
}

static gboolean
on_return (gpointer   owner,
           MpelFrame *frame)
{
  Seen *seen = owner;

  seen->n_return++;
  return TRUE;
}

static MpelConnection *
lone_connection (Peer *peer)
{
  int sv[2];
  MpelConnection *conn;

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  close (sv[1]);
  conn = _mpel_connection_new (sv[0], NULL, peer_frame, peer_closed, peer);

  return conn;
}

/* A kind is one table entry: frames go to its handler; a kind without
 * one, or one this end sends, fails the connection with a protocol error
 * that names it. */
static void
test_dispatch (void)
{
  /* A table on the app side that takes NOTIFY and RETURN, and (wrongly)
   * lists CALL, which only the app sends. */
  static const MpelPeerTable table = {
    .side = MPEL_PEER_APP,
    .handlers = {
      [MPEL_FRAME_NOTIFY] = on_notify,
      [MPEL_FRAME_RETURN] = on_return,
      [MPEL_FRAME_CALL] = on_return,
    },
  };
  static const guint8 refused[] = { MPEL_FRAME_CALL, MPEL_FRAME_ITEM, MPEL_FRAME_STOP, 0, 200 };
  Seen seen = { 0 };
  Peer peer;
  MpelFrame frame = { 0 };
  MpelConnection *conn;

  peer_init (&peer);
  conn = lone_connection (&peer);

  frame.kind = MPEL_FRAME_NOTIFY;
  frame.id = 17;
  g_assert_true (_mpel_peer_dispatch (&table, conn, &frame, &seen));
  frame.kind = MPEL_FRAME_RETURN;
  g_assert_true (_mpel_peer_dispatch (&table, conn, &frame, &seen));
  g_assert_cmpuint (seen.n_notify, ==, 1);
  g_assert_cmpuint (seen.last_id, ==, 17);
  g_assert_cmpuint (seen.n_return, ==, 1);
  g_assert_false (_mpel_connection_is_closed (conn));
  _mpel_connection_unref (conn);
  peer_clear (&peer);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      peer_init (&peer);
      conn = lone_connection (&peer);
      frame.kind = refused[i];
      g_assert_false (_mpel_peer_dispatch (&table, conn, &frame, &seen));
      test_iterate_until (peer.closed);
      g_assert_error (peer.closed_error, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (peer.closed_error->message, "the worker sent a"));
      g_assert_nonnull (strstr (peer.closed_error->message, _mpel_frame_kind_to_string (refused[i])));
      _mpel_connection_unref (conn);
      peer_clear (&peer);
    }

  g_assert_cmpuint (seen.n_return, ==, 1);
}

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
#define OURS "little-endian"
#define OTHER "big-endian"
#else
#define OURS "big-endian"
#define OTHER "little-endian"
#endif

static GVariant *
hello_body (guint32     version,
            const char *byte_order)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "version", "u", version);
  if (byte_order != NULL)
    g_variant_dict_insert (&dict, "byte-order", "s", byte_order);
  g_variant_dict_insert (&dict, "pid", "i", 1234);
  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

/* HELLO is checked once for both ends, each naming the other. */
static void
test_hello (void)
{
  static const struct {
    MpelPeerSide side; guint8 kind; guint32 version; const char *byte_order; const char *error;
  } cases[] = {
    { MPEL_PEER_APP, MPEL_FRAME_HELLO, MPEL_PROTOCOL_VERSION, NULL, NULL },
    { MPEL_PEER_WORKER, MPEL_FRAME_HELLO, MPEL_PROTOCOL_VERSION, NULL, NULL },
    { MPEL_PEER_APP, MPEL_FRAME_HELLO, MPEL_PROTOCOL_VERSION, OURS, NULL },
    { MPEL_PEER_APP, MPEL_FRAME_HELLO, 99, NULL, "the worker speaks protocol 99" },
    { MPEL_PEER_WORKER, MPEL_FRAME_HELLO, 99, NULL, "the app speaks protocol 99" },
    { MPEL_PEER_APP, MPEL_FRAME_RETURN, MPEL_PROTOCOL_VERSION, NULL, "the worker did not start with HELLO" },
    { MPEL_PEER_WORKER, MPEL_FRAME_CALL, MPEL_PROTOCOL_VERSION, NULL, "the app did not start with HELLO" },
    /* A peer of the other byte order sends its version swapped: the byte
     * order is what the error names. */
    { MPEL_PEER_APP, MPEL_FRAME_HELLO, ((guint32) MPEL_PROTOCOL_VERSION << 24), OTHER,
      "the worker is " OTHER " and this app " OURS },
    { MPEL_PEER_WORKER, MPEL_FRAME_HELLO, ((guint32) MPEL_PROTOCOL_VERSION << 24), OTHER,
      "the app is " OTHER " and this worker " OURS },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) body = hello_body (cases[i].version, cases[i].byte_order);
      MpelFrame frame = { .kind = cases[i].kind, .body = body };
      MpelConnection *conn;
      gint32 pid = -1;
      Peer peer;

      peer_init (&peer);
      conn = lone_connection (&peer);
      if (cases[i].error == NULL)
        {
          g_assert_true (_mpel_peer_check_hello (conn, cases[i].side, &frame, &pid));
          g_assert_cmpint (pid, ==, 1234);
          g_assert_false (_mpel_connection_is_closed (conn));
        }
      else
        {
          g_assert_false (_mpel_peer_check_hello (conn, cases[i].side, &frame, &pid));
          test_iterate_until (peer.closed);
          g_assert_error (peer.closed_error, MPEL_ERROR, MPEL_ERROR_PROTOCOL);
          g_assert_nonnull (strstr (peer.closed_error->message, cases[i].error));
        }
      _mpel_connection_unref (conn);
      peer_clear (&peer);
    }
}

/* What _mpel_peer_send_hello() sends passes _mpel_peer_check_hello(). */
static void
test_hello_round_trip (void)
{
  MpelConnection *a, *b;
  Peer pa, pb;
  g_autoptr(GVariant) body = NULL;
  guint8 kind;
  guint64 id;
  const char *name;
  MpelFrame frame = { 0 };
  gint32 pid = 0;

  peer_init (&pa);
  peer_init (&pb);
  make_pair (&a, &pa, &b, &pb);
  _mpel_peer_send_hello (a);
  test_iterate_until (pb.frames->len == 1);

  g_variant_get (g_ptr_array_index (pb.frames, 0), "(yt&s@*)", &kind, &id, &name, &body);
  frame.kind = kind;
  frame.body = g_variant_ref (body);
  g_assert_true (_mpel_peer_check_hello (b, MPEL_PEER_WORKER, &frame, &pid));
  g_assert_cmpint (pid, ==, getpid ());
  g_variant_unref (frame.body);

  _mpel_connection_unref (a);
  _mpel_connection_unref (b);
  peer_clear (&pa);
  peer_clear (&pb);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Mpel/Peer/directions", test_directions);
  g_test_add_func ("/Mpel/Peer/dispatch", test_dispatch);
  g_test_add_func ("/Mpel/Peer/hello", test_hello);
  g_test_add_func ("/Mpel/Peer/hello-round-trip", test_hello_round_trip);

  return g_test_run ();
}
