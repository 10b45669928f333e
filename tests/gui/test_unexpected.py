"""An exception nobody foresaw reaches the user as a message box, not only the terminal."""

from __future__ import annotations

import sys
import threading
from types import TracebackType

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from mnist_desk.gui.unexpected import UnexpectedErrors


@pytest.mark.qt_no_exception_capture  # the hook under test takes what pytest-qt would
def test_an_unexpected_error_is_printed_and_shown_once(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed: list[type[BaseException]] = []

    def previous(kind: type[BaseException], e: BaseException, tb: TracebackType | None) -> None:
        printed.append(kind)

    monkeypatch.setattr(sys, "excepthook", previous)
    window = QWidget()
    qtbot.addWidget(window)
    errors = UnexpectedErrors(window)
    errors.install()
    try:

        def clicked() -> None:  # a slot with a bug in it
            raise ZeroDivisionError("division by zero in clicked")

        QTimer.singleShot(0, clicked)
        qtbot.waitUntil(lambda: errors.box is not None and errors.box.isVisible())
        assert errors.box is not None
        assert "ZeroDivisionError: division by zero in clicked" in errors.box.text()
        assert "in clicked" in errors.box.detailedText()  # the traceback, under Details
        assert printed == [ZeroDivisionError]  # printed as before

        # a repeat, this time from a worker thread: printed, and no second box
        def worker() -> None:
            try:
                raise KeyError("again")
            except KeyError as exc:
                errors._hook(KeyError, exc, exc.__traceback__)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        qtbot.wait(50)
        assert printed == [ZeroDivisionError, KeyError]
        assert len(window.findChildren(QMessageBox)) == 1

        errors.box.done(0)
        qtbot.waitUntil(lambda: errors.box is None)
        QTimer.singleShot(0, clicked)  # the next one is shown again
        qtbot.waitUntil(lambda: errors.box is not None and errors.box.isVisible())
    finally:
        errors.uninstall()
    assert sys.excepthook is previous
