/* mpel-version-macros.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (MPEL_INSIDE) && !defined (MPEL_COMPILATION)
# error "Only <mpel.h> can be included directly."
#endif

#include <glib.h>

#include "mpel-version.h"

#ifndef _MPEL_EXTERN
# define _MPEL_EXTERN __attribute__((visibility("default"))) extern
#endif

#define MPEL_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#ifndef __GI_SCANNER__
#ifdef MPEL_DISABLE_DEPRECATION_WARNINGS
# define MPEL_DEPRECATED _MPEL_EXTERN
# define MPEL_DEPRECATED_FOR(f) _MPEL_EXTERN
# define MPEL_UNAVAILABLE(maj,min) _MPEL_EXTERN
#else
# define MPEL_DEPRECATED G_DEPRECATED _MPEL_EXTERN
# define MPEL_DEPRECATED_FOR(f) G_DEPRECATED_FOR (f) _MPEL_EXTERN
# define MPEL_UNAVAILABLE(maj,min) G_UNAVAILABLE (maj, min) _MPEL_EXTERN
#endif
#endif /* __GI_SCANNER__ */

#define MPEL_AVAILABLE_IN_ALL _MPEL_EXTERN
#define MPEL_AVAILABLE_IN_1_0 _MPEL_EXTERN
