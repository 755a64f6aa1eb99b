/* mpel-wire-private.h: protocol v1 as a whole, for the files that use all
 * of it: the frames (mpel-frame), the shared buffers of large messages
 * (mpel-bulk) and the connection that carries them (mpel-connection).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "mpel-frame-private.h"
#include "mpel-bulk-private.h"
#include "mpel-connection-private.h"
