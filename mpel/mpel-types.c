/* mpel-types.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "mpel-types.h"

/**
 * mpel_error_quark:
 *
 * The error domain of mpel, %MPEL_ERROR.
 *
 * Returns: the quark of the error domain
 */
G_DEFINE_QUARK (mpel-error-quark, mpel_error)

#include <glib/gi18n-lib.h>

#include "mpel-util-private.h"

void
_mpel_ensure_i18n (void)
{
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&initialized, 1);
    }
}
