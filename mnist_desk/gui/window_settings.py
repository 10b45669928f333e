"""What the window remembers between sessions (QSettings, as PySide6's documentviewer
reads them at start and writes them on close: size, tab, panes, the Train form; the
appearance is remembered as it is chosen), read back with care: a damaged or foreign
value is skipped, the default used, and named in `problems` so the window can say so."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget

DEFAULT_SIZE = (1100, 720)


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
        window.resize(*DEFAULT_SIZE)
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
            data = json.loads(str(form))
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
