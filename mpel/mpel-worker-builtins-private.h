/* mpel-worker-builtins-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-invocation.h"
#include "mpel-worker.h"

G_BEGIN_DECLS

/* Registers mpel.ping, mpel.echo and mpel.sleep. */
void _mpel_worker_add_builtins (MpelWorker *worker);

G_END_DECLS
