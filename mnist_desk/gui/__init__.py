"""The desktop app (PySide6 + pyqtgraph), built on mnist_desk.core."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# Qt's raster engine hands every large fill to a pool of helper threads ("Thread (pooled)")
# and waits for them. While the live curves repaint during training that was ~800 thread
# wake-ups a second, each taking a core from the training for a moment, to save nothing:
# the app's fills are small, and the painting's CPU time was the same without the pool.
# Read by Qt when it first paints; a user's own setting is left as it is.
os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")

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
