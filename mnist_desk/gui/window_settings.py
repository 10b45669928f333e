"""What the window remembers between sessions (QSettings, as PySide6's documentviewer
reads them at start and writes them on close: size, tab, panes, the Train form; the
appearance is remembered as it is chosen), read back with care: a damaged or foreign
value is skipped, the default used, and named in `problems` so the window can say so."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QRect, QSettings, QSize
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget

from mnist_desk.core.files import parse_json

DEFAULT_SIZE = (1100, 720)
# room left on a small screen for the window's frame and title bar, which the size of a
# window does not include
FRAME_ROOM = (40, 60)


def first_size(available: QRect, minimum: QSize) -> QSize:
    """The window's size at its first start on a screen of this available area: the
    default, made smaller where the screen is (an 800x600 screen, or a small laptop
    screen scaled up), never below the window's minimum."""
    width = min(DEFAULT_SIZE[0], available.width() - FRAME_ROOM[0])
    height = min(DEFAULT_SIZE[1], available.height() - FRAME_ROOM[1])
    return QSize(max(width, minimum.width()), max(height, minimum.height()))


def read_window_settings(
    settings: QSettings,
    window: QMainWindow,
    tabs: QTabWidget,
    restore_form: Callable[[dict[str, Any]], bool],
) -> list[str]:
    """Restore size, tab and the Train form; return what could not be read, in words."""
    problems = []
    geometry = settings.value("geometry")
    if not (isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)):
        screen = window.screen()
        window.resize(first_size(screen.availableGeometry(), window.minimumSizeHint()))
        if geometry is not None:
            problems.append("the window's size")
    tab = str(settings.value("currentTab", 0))
    if tab.isdigit() and int(tab) < tabs.count():
        tabs.setCurrentIndex(int(tab))
    else:
        problems.append("the last tab")
    for splitter in window.findChildren(QSplitter):
        state = settings.value(f"splitters/{splitter.objectName()}")
        if state is None or not splitter.objectName():
            continue
        if not (isinstance(state, QByteArray) and splitter.restoreState(state)):
            problems.append("the panes' sizes")
    form = settings.value("trainForm")
    if form is not None:
        try:
            data = parse_json(str(form))
            if not isinstance(data, dict) or not restore_form(data):
                raise ValueError(form)
        except ValueError:
            restore_form({})
            problems.append("the Train tab's settings")
    else:
        restore_form({})
    return problems


def write_window_settings(
    settings: QSettings, window: QMainWindow, tabs: QTabWidget, form: dict[str, Any]
) -> None:
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("currentTab", tabs.currentIndex())
    for splitter in window.findChildren(QSplitter):
        if splitter.objectName():
            settings.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
    settings.setValue("trainForm", json.dumps(form))
    settings.sync()
