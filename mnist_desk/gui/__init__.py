"""The desktop app (PySide6 + pyqtgraph), built on mnist_desk.core."""

from __future__ import annotations

from typing import TYPE_CHECKING

# PyTorch before Qt. Once PySide6 is imported, its import hook (shibokensupport's
# `__feature__` support) reads the source of every module imported after it, to see
# whether that module uses PySide6: for PyTorch's ~1,100 modules that is 0.2 s of a launch
# (benchmarks/gui_responsiveness.py measured it when it imported Qt first). `mnist-desk`
# loads PyTorch as it builds its parser; loading it here keeps that order for every way in.
import torch  # noqa: F401  (for the side effect: loaded before PySide6)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mnist_desk.gui.main_window import MainWindow


def create_window(argv: Sequence[str] | None = None) -> MainWindow:
    """The main window, ready but not shown, with no event loop started (for tests/tools)."""
    from mnist_desk.gui.app import create_window as _create

    return _create(argv)


__all__ = ["create_window"]
