#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a program in a private X server and D-Bus session (for the ui suite).
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$@"
