/* mpel-util-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* g_set_str() is GLib 2.76; we require 2.74. */
static inline gboolean
_mpel_set_str (char       **str_pointer,
               const char  *new_str)
{
  char *copy;

  if (*str_pointer == new_str || g_strcmp0 (*str_pointer, new_str) == 0)
    return FALSE;

  copy = g_strdup (new_str);
  g_free (*str_pointer);
  *str_pointer = copy;

  return TRUE;
}

static inline gboolean
_mpel_set_strv (char               ***strv_pointer,
                const char * const   *new_strv)
{
  char **copy;

  if ((const char * const *) *strv_pointer == new_strv)
    return FALSE;
  if (*strv_pointer != NULL && new_strv != NULL &&
      g_strv_equal ((const char * const *) *strv_pointer, new_strv))
    return FALSE;
  if (*strv_pointer == NULL && new_strv == NULL)
    return FALSE;

  copy = g_strdupv ((char **) new_strv);
  g_strfreev (*strv_pointer);
  *strv_pointer = copy;

  return TRUE;
}

/* Destroys and drops a source the caller holds a reference to: destroying
 * alone leaves the source, and its place in the context, alive. */
static inline void
_mpel_clear_source (GSource **source_pointer)
{
  GSource *source = g_steal_pointer (source_pointer);

  if (source == NULL)
    return;

  g_source_destroy (source);
  g_source_unref (source);
}

G_END_DECLS

G_BEGIN_DECLS

void _mpel_ensure_i18n (void);

G_END_DECLS
