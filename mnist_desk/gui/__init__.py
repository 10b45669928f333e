"""The desktop app (PySide6 + pyqtgraph), built on mnist_desk.core."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mnist_desk.gui.main_window import MainWindow


def create_window(argv: Sequence[str] | None = None) -> MainWindow:
    """The main window, ready but not shown, with no event loop started (for tests/tools)."""
    from mnist_desk.gui.app import create_window as _create

    return _create(argv)


__all__ = ["create_window"]
