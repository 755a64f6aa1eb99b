/* mpel-list-model-private.h: what the tests read of MpelListModel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-list-model.h"

G_BEGIN_DECLS

/* How many fetches the model sent: the round trips it cost */
guint _mpel_list_model_get_n_fetches (MpelListModel *self);

G_END_DECLS
