"""Finding what a test needs in the window, failing clearly when it is not there."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QWidget

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
