#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""AT-SPI test: starts the real studio, switches through every panel by clicking the view
switcher buttons found by their accessible names, and checks each page's main controls are
there. Run with Debian's /usr/bin/python3 (python3-pyatspi) inside a D-Bus session and X server
(tests/ui/with-display.sh). Usage: test-atspi.py AIGC_STUDIO"""
import os
import subprocess
import sys
import time

pyatspi = None  # imported once the application runs (see main)

PANELS = ["Write", "Paint", "Speak", "Scene", "Gallery"]


def find_app(name, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            app = desktop.getChildAtIndex(i)
            if app is not None and app.name == name:
                return app
        time.sleep(0.2)
    desktop = pyatspi.Registry.getDesktop(0)
    seen = [desktop.getChildAtIndex(i).name for i in range(desktop.childCount)
            if desktop.getChildAtIndex(i) is not None]
    raise SystemExit(f"not ok - the application {name!r} never appeared on the accessibility bus "
                     f"(seen: {seen})")


def find_all(root, role, name=None):
    return pyatspi.findAllDescendants(
        root, lambda a: a.getRoleName() == role and (name is None or a.name == name))


def visible(acc):
    # GTK 4.8 does not report "showing"; the wide view switcher is the horizontal one.
    st = acc.getState()
    return st.contains(pyatspi.STATE_VISIBLE) and st.contains(pyatspi.STATE_HORIZONTAL)


def wait_for(pred, what, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        result = pred()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(what)


def a11y_bus_running():
    out = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus",
                          "--object-path", "/org/freedesktop/DBus",
                          "--method", "org.freedesktop.DBus.NameHasOwner", "org.a11y.Bus"],
                         capture_output=True, text=True)
    return "true" in out.stdout


def main():
    env = dict(os.environ)
    env.pop("NO_AT_BRIDGE", None)
    env.pop("GTK_A11Y", None)
    app_proc = subprocess.Popen([sys.argv[1]], env=env)
    # Connect to the accessibility bus only after the application has started it: a client
    # that connects first, while the session's a11y bus is still being activated, can be left
    # with an empty desktop for good.
    wait_for(a11y_bus_running, "the accessibility bus never started", timeout=30)
    global pyatspi
    import pyatspi as _pyatspi
    pyatspi = _pyatspi
    failures = 0
    checks = 0

    def check(cond, what):
        nonlocal failures, checks
        checks += 1
        print(("ok" if cond else "not ok") + f" {checks} - {what}", flush=True)
        failures += 0 if cond else 1

    try:
        app = find_app("aigc-studio")
        frame = wait_for(lambda: find_all(app, "frame"), "the window has no frame")[0]
        check(frame.name in ("AIGC Studio", "Write"), f"window title {frame.name!r}")
        menu = find_all(frame, "toggle button", "Main Menu") + find_all(frame, "push button", "Main Menu")
        check(bool(menu), "the main menu button is there")
        for panel in PANELS:
            # The view switcher's buttons are page tabs named after the panels.
            tabs = wait_for(lambda: [b for b in find_all(frame, "page tab", panel) if visible(b)],
                            f"no switcher tab {panel!r}")
            tabs[0].queryAction().doAction(0)
            state = lambda: tabs[0].getState()
            selected = wait_for(lambda: state().contains(pyatspi.STATE_SELECTED) or None,
                                f"{panel} never became the selected tab")
            check(bool(selected), f"{panel} is selected after a click")
            others = [b for b in find_all(frame, "page tab") if visible(b) and b.name != panel
                      and b.getState().contains(pyatspi.STATE_SELECTED)]
            check(not others, f"only {panel} is selected")
            page_name = "AigcGalleryView" if panel == "Gallery" else f"Aigc{panel}Panel"
            page = find_all(frame, "filler", page_name)
            check(bool(page), f"the {panel} page is in the window")
            if not page:
                continue
            if panel == "Gallery":
                check(bool(find_all(page[0], "combo box", "Kind")), "the gallery has its kind filter")
                for name in ("Use These Settings", "Open", "Export", "Delete"):
                    check(bool(find_all(page[0], "push button", name)), f"the gallery has {name}")
            elif panel == "Speak":
                for name in ("Voice", "Vocoder"):
                    check(bool(find_all(page[0], "combo box", name)), f"Speak has its {name} picker")
            else:
                check(bool(find_all(page[0], "combo box", "Model")), f"{panel} has its model picker")
    except AssertionError as e:
        check(False, str(e))
    finally:
        app_proc.terminate()
        app_proc.wait(timeout=10)
    print(f"1..{checks}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
