#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a program in a private X server and D-Bus session (for the ui suite). Only the program's
# own output reaches stdout (the TAP stream): services the session bus starts, such as the
# accessibility registry announcing itself, write to stderr.
exec 3>&1
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- sh -c 'exec "$@" >&3 3>&-' sh "$@" >&2
