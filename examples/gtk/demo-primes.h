/* demo-primes.h: a GtkListView over the list of primes that a worker keeps
 * filling, through an MpelListModel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <mpel.h>

G_BEGIN_DECLS

typedef struct _DemoPrimes DemoPrimes;

DemoPrimes *demo_primes_new        (void);
GtkWidget  *demo_primes_get_widget (DemoPrimes  *self);
void        demo_primes_attach     (DemoPrimes  *self,
                                    MpelLoop    *loop,
                                    const char  *name);
void        demo_primes_detach     (DemoPrimes  *self);
gboolean    demo_primes_is_ready   (DemoPrimes  *self);
gboolean    demo_primes_check      (DemoPrimes  *self,
                                    char       **message);
void        demo_primes_free       (DemoPrimes  *self);

G_END_DECLS
