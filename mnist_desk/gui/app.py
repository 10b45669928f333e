"""Application start: QApplication, resources, the main window.

Kept short, like PySide6's documentviewer example: settings are read by the window itself.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleHintReturn,
    QStyleOption,
    QWidget,
)

from mnist_desk import APP_NAME, __version__
from mnist_desk.gui.garbage import GuiThreadCollector
from mnist_desk.gui.main_window import MainWindow
from mnist_desk.gui.threads import reserve_gui_thread
from mnist_desk.gui.unexpected import UnexpectedErrors

ORGANIZATION = "mnist-desk"
_configured: set[int] = set()


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created once, or the one that exists), configured for the app."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    configure_application(app)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def configure_application(app: QApplication) -> None:
    """Names, icon, resources and plotting colours; once per application object."""
    if id(app) in _configured:
        return
    import pyqtgraph as pg

    import mnist_desk.gui.resources_rc  # noqa: F401  (registers :/icons and :/models)

    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("mnist-desk")
    app.setWindowIcon(QIcon(":/icons/app.svg"))
    base = QStyleFactory.create(app.style().name())
    if base is not None:
        app.setStyle(PlainButtonsStyle(base))
    reserve_gui_thread()
    app.setProperty("garbageCollector", GuiThreadCollector(app))  # gc in this thread only
    palette = app.palette()
    pg.setConfigOptions(
        antialias=True, background=palette.base().color(), foreground=palette.text().color()
    )
    _configured.add(id(app))


class PlainButtonsStyle(QProxyStyle):
    """The platform's style, without the dated icons some put on dialog buttons (a green
    arrow on OK)."""

    def styleHint(
        self,
        hint: QStyle.StyleHint,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
        returnData: QStyleHintReturn | None = None,
    ) -> int:
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 0
        return super().styleHint(hint, option, widget, returnData)


def create_window(argv: Sequence[str] | None = None) -> MainWindow:
    """The main window with the bundled model loaded; not shown, no event loop started."""
    create_application(argv)
    return MainWindow()


def freeze_startup_objects() -> None:
    """Exempt everything that exists now (modules, Qt wrappers, the window) from Python's
    full garbage collections. Each of those scanned the whole heap and, holding the GIL,
    stopped the GUI for 100-190 ms a few times per training run (benchmarks/gui_memory.py);
    afterwards they scan only what was allocated since. As `gc.freeze` advises, for
    objects that live as long as the process."""
    gc.freeze()


def run(checkpoint: str | None = None, argv: Sequence[str] | None = None) -> int:
    app = create_application(argv)
    window = create_window()
    errors = UnexpectedErrors(window)
    errors.install()
    freeze_startup_objects()
    if checkpoint:
        window.open_checkpoint(checkpoint)
    window.show()
    try:
        return app.exec()
    finally:
        errors.uninstall()
