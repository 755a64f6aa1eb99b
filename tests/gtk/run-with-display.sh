#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs a GTK test program, or reports a skip (77) when there is no display:
# run the gtk suite under `xvfb-run -a meson test …` where there is none.
#
#   run-with-display.sh DEMO_MODULE PROGRAM [ARG…]

if [ -z "${DISPLAY}" ] && [ -z "${WAYLAND_DISPLAY}" ]; then
  echo "SKIP: neither DISPLAY nor WAYLAND_DISPLAY is set (run under xvfb-run -a)"
  exit 77
fi

MPEL_DEMO_MODULE=$1
export MPEL_DEMO_MODULE
shift

# Accessibility is not under test, and GTK warns (fatal with the test
# environment's G_DEBUG) when it finds no session bus for it, as under a bare
# Xvfb.
GTK_A11Y=none
export GTK_A11Y

exec "$@"
