"""Errors nobody foresaw, told to the user instead of only to a terminal they may not see.

Every error the app expects is a one-line message where it happens (core.errors). An
exception that escapes into Qt's event loop anyway (a bug, or a damaged file no check
foresaw) used to be printed to stderr while the click that caused it seemed to do nothing.
While the app runs, `UnexpectedErrors` keeps the printing and also says so in a message
box, with the traceback under "Show Details…". One box at a time: an error repeated in
every repaint must not bury the window under boxes; the repeats are printed only.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from mnist_desk.core.text import shown


class UnexpectedErrors(QObject):
    """sys.excepthook while installed: the previous hook, then a message box."""

    raised = Signal(str, str)  # the error in one line, its traceback

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.box: QMessageBox | None = None
        self._previous = sys.excepthook
        # emitted from any thread; the box is made in the GUI thread (queued there)
        self.raised.connect(self._show)

    def install(self) -> None:
        sys.excepthook = self._hook

    def uninstall(self) -> None:
        if sys.excepthook == self._hook:
            sys.excepthook = self._previous

    def _hook(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        self._previous(kind, error, tb)  # printed as before
        if issubclass(kind, KeyboardInterrupt):
            return
        line = f"{kind.__name__}: {error}" if str(error) else kind.__name__
        details = "".join(traceback.format_exception(kind, error, tb))
        self.raised.emit(shown(line.splitlines()[0], 300), details)

    @Slot(str, str)
    def _show(self, line: str, details: str) -> None:
        if self.box is not None:  # one is open: this one was printed, and that will do
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Something went wrong",
            "Something went wrong that the app did not expect, so what you just did may "
            f"not have finished.\n\n{line}\n\nThe app goes on. Files are written whole or "
            "not at all, so nothing saved is damaged.",
            QMessageBox.StandardButton.Close,
            self.window,
        )
        box.setObjectName("unexpectedError")
        box.setDetailedText(details)
        box.finished.connect(self._closed)
        self.box = box
        box.open()  # not modal to the event loop: training and drawing go on behind it

    @Slot()
    def _closed(self) -> None:
        if self.box is not None:
            self.box.deleteLater()
        self.box = None
