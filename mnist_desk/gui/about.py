"""Help > About: the app's version, the libraries it runs on, the training device."""

from __future__ import annotations

import platform

from PySide6.QtWidgets import QMessageBox, QWidget

from mnist_desk import APP_NAME, __version__
from mnist_desk.gui.threads import work_threads


def show_about(parent: QWidget) -> None:
    import torch
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from mnist_desk.core.device import describe_device, resolve_device

    device = describe_device(resolve_device("auto"), work_threads())
    rows = [
        ("PyTorch", str(torch.__version__)),
        ("Qt", f"{qVersion()} (PySide6 {pyside_version})"),
        ("Python", platform.python_version()),
        ("Training device", device),
    ]
    table = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{value}</td></tr>" for name, value in rows)
    QMessageBox.about(
        parent,
        f"About {APP_NAME}",
        f"<h3>{APP_NAME} {__version__}</h3>"
        "<p>Draw a digit and watch a small CNN read it; train it yourself on MNIST "
        "and look inside.</p>"
        f"<table>{table}</table>",
    )
