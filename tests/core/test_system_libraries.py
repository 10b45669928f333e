"""Which system libraries Qt needs on Linux, and the message when some are missing."""

from __future__ import annotations

from mnist_desk.gui.system_libraries import (
    QT_GUI,
    XCB_PLUGIN,
    install_message,
    missing_libraries,
    uses_xcb,
)


def test_xcb_is_used_on_linux_unless_another_platform_is_chosen() -> None:
    assert uses_xcb({}, "linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not uses_xcb({}, "darwin") and not uses_xcb({}, "win32")


def test_every_missing_library_is_named_with_its_packages() -> None:
    absent = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libEGL.so.1"}
    missing = missing_libraries({}, "linux", loads=lambda name: name not in absent)
    assert set(missing) == absent
    text = install_message(missing)
    assert "3 system libraries" in text
    assert "sudo apt install libegl1 libxcb-cursor0 libxcb-icccm4" in text
    assert "sudo dnf install libglvnd-egl xcb-util-cursor xcb-util-wm" in text


def test_only_what_the_platform_needs_is_checked() -> None:
    asked: list[str] = []

    def loads(name: str) -> bool:
        asked.append(name)
        return True

    missing_libraries({"QT_QPA_PLATFORM": "offscreen"}, "linux", loads=loads)
    assert set(asked) == set(QT_GUI)
    asked.clear()
    missing_libraries({}, "linux", loads=loads)
    assert set(asked) == set(QT_GUI) | set(XCB_PLUGIN)
    assert missing_libraries({}, "win32", loads=lambda n: False) == {}


def test_this_machine_has_them_all() -> None:
    assert missing_libraries({"QT_QPA_PLATFORM": "offscreen"}) == {}
