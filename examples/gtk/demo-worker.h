/* demo-worker.h: the part of mpel-demo that lives in a worker with GTK on
 * the app's display: an adjustment bound to the zoom scale, the list of
 * primes the worker keeps filling, a window the worker owns, and a crash
 * the app recovers from.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct _DemoWorker DemoWorker;

/* Called once when the self-test of the worker's part ends: @message is
 * NULL when every check passed. */
typedef void (*DemoWorkerDoneFunc) (const char *message,
                                    gpointer    user_data);

DemoWorker *demo_worker_new        (const char         *module,
                                    GtkRange           *zoom_scale);
GtkWidget  *demo_worker_get_widget (DemoWorker         *self);
void        demo_worker_self_test  (DemoWorker         *self,
                                    DemoWorkerDoneFunc  done,
                                    gpointer            user_data);
void        demo_worker_free       (DemoWorker         *self);

G_END_DECLS
