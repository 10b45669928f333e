"""File > Open Recent: the last checkpoints opened or saved, kept in QSettings, as the
PySide6 documentviewer example keeps them in a class of their own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMenu, QWidget

MAX_RECENT = 8
KEY = "recentFiles"


class RecentFiles(QObject):
    chosen = Signal(str)  # a path picked from the menu

    def __init__(self, settings: QSettings, parent: QWidget) -> None:
        super().__init__(parent)
        self.settings = settings
        self.menu = QMenu("Open &Recent", parent)
        self.menu.setObjectName("recentMenu")
        self.menu.aboutToShow.connect(self.fill_menu)

    def files(self) -> list[str]:
        value = self.settings.value(KEY, [])
        if isinstance(value, str):  # QSettings returns a lone entry as a string
            value = [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def add(self, path: Path) -> None:
        path_s = str(path.resolve())
        files = [path_s] + [f for f in self.files() if f != path_s]
        self.settings.setValue(KEY, files[:MAX_RECENT])

    def clear(self) -> None:
        self.settings.setValue(KEY, [])

    def fill_menu(self) -> None:
        self.menu.clear()
        files = self.files()
        for i, f in enumerate(files, 1):
            action = self.menu.addAction(f"&{i} {Path(f).name}")
            action.setToolTip(f)
            action.setStatusTip(f)
            action.triggered.connect(lambda checked=False, f=f: self.chosen.emit(f))
        if not files:
            self.menu.addAction("No recent checkpoints").setEnabled(False)
        else:
            self.menu.addSeparator()
            self.menu.addAction("Clear Menu", self.clear)
