"""Finding what a test needs in the window, failing clearly when it is not there; and
letting a window go safely."""

from __future__ import annotations

import gc
from typing import TypeVar

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QWidget

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.gui.main_window import MainWindow

W = TypeVar("W", bound=QWidget)


def child(window: QWidget, kind: type[W], name: str) -> W:
    """The widget of this type and object name; the test fails if there is none."""
    found = window.findChild(kind, name)
    assert found is not None, f"no {kind.__name__} named {name!r}"
    return found


def current(window: MainWindow) -> Checkpoint:
    """The current model's checkpoint; the test fails if there is none."""
    checkpoint = window.session.checkpoint
    assert checkpoint is not None, "no current model"
    return checkpoint


def dispose(win: QWidget) -> None:
    """Delete a window here, in the GUI thread, now. Left to Python's garbage collector,
    its wrapper could be collected later in whatever thread allocates (a training worker),
    and Qt would destroy widgets outside the GUI thread: a deadlock."""
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
