"""Before Qt starts on Linux: are the system libraries it needs there?

PySide6's wheels bring Qt but not the X11/xcb and graphics libraries of the system. When
one is missing, Qt aborts with a message that names only the first it could not load, so
a user installs one package at a time. This module imports no Qt: it tries to load each
library Qt's GUI and its xcb platform plugin need, and names every missing one with its
Debian/Ubuntu and Fedora packages. The same table is in the README.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# soname: (Debian/Ubuntu package, Fedora package)
QT_GUI = {
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libX11.so.6": ("libx11-6", "libX11"),
}
XCB_PLUGIN = {
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
}


def uses_xcb(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt is going to use its xcb (X11) platform plugin."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip().lower()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")  # a Wayland session: Qt tries Wayland first


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(
    environ: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
    loads: Callable[[str], bool] = _loads,
) -> dict[str, tuple[str, str]]:
    """The libraries Qt will need here and cannot load, with their packages."""
    if not platform.startswith("linux"):
        return {}
    needed = {**QT_GUI, **(XCB_PLUGIN if uses_xcb(environ, platform) else {})}
    return {soname: packages for soname, packages in needed.items() if not loads(soname)}


def install_message(missing: Mapping[str, tuple[str, str]]) -> str:
    """One message naming every missing library and the packages that bring them."""
    debian = sorted({d for d, _ in missing.values()})
    fedora = sorted({f for _, f in missing.values()})
    return (
        f"the app cannot start: Qt needs {len(missing)} system "
        f"librar{'y' if len(missing) == 1 else 'ies'} that {'is' if len(missing) == 1 else 'are'} "
        f"not installed ({', '.join(missing)}). Install them with\n"
        f"  Debian/Ubuntu: sudo apt install {' '.join(debian)}\n"
        f"  Fedora:        sudo dnf install {' '.join(fedora)}"
    )
