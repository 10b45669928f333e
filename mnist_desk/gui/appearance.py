"""View > Appearance: System, Light or Dark, charts included.

System follows the platform's colour scheme (Qt 6 reports it, and says when it changes);
Light and Dark set Fusion's palettes explicitly, so they look the same on every platform.
pyqtgraph's charts do not follow Qt's palette by themselves: `restyle_charts` gives them
the palette's base and text colours.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

MODES = ("system", "light", "dark")
_DARK = {
    QPalette.ColorRole.Window: (45, 45, 48),
    QPalette.ColorRole.WindowText: (225, 225, 228),
    QPalette.ColorRole.Base: (30, 30, 32),
    QPalette.ColorRole.AlternateBase: (52, 52, 56),
    QPalette.ColorRole.ToolTipBase: (60, 60, 40),
    QPalette.ColorRole.ToolTipText: (240, 240, 220),
    QPalette.ColorRole.PlaceholderText: (140, 140, 145),
    QPalette.ColorRole.Text: (225, 225, 228),
    QPalette.ColorRole.Button: (55, 55, 60),
    QPalette.ColorRole.ButtonText: (225, 225, 228),
    QPalette.ColorRole.BrightText: (255, 90, 90),
    QPalette.ColorRole.Light: (80, 80, 86),
    QPalette.ColorRole.Midlight: (66, 66, 70),
    QPalette.ColorRole.Mid: (110, 110, 118),
    QPalette.ColorRole.Dark: (25, 25, 27),
    QPalette.ColorRole.Shadow: (10, 10, 10),
    QPalette.ColorRole.Highlight: (56, 117, 215),
    QPalette.ColorRole.HighlightedText: (255, 255, 255),
    QPalette.ColorRole.Link: (110, 160, 255),
}


_LIGHT = {
    QPalette.ColorRole.Window: (239, 239, 239),
    QPalette.ColorRole.WindowText: (0, 0, 0),
    QPalette.ColorRole.Base: (255, 255, 255),
    QPalette.ColorRole.AlternateBase: (247, 247, 247),
    QPalette.ColorRole.ToolTipBase: (255, 250, 215),
    QPalette.ColorRole.ToolTipText: (0, 0, 0),
    QPalette.ColorRole.PlaceholderText: (125, 125, 125),
    QPalette.ColorRole.Text: (0, 0, 0),
    QPalette.ColorRole.Button: (239, 239, 239),
    QPalette.ColorRole.ButtonText: (0, 0, 0),
    QPalette.ColorRole.BrightText: (255, 255, 255),
    QPalette.ColorRole.Light: (255, 255, 255),
    QPalette.ColorRole.Midlight: (202, 202, 202),
    QPalette.ColorRole.Mid: (160, 160, 160),
    QPalette.ColorRole.Dark: (120, 120, 120),
    QPalette.ColorRole.Shadow: (70, 70, 70),
    QPalette.ColorRole.Highlight: (48, 140, 198),
    QPalette.ColorRole.HighlightedText: (255, 255, 255),
    QPalette.ColorRole.Link: (0, 0, 255),
}


def _palette(colours: dict[QPalette.ColorRole, tuple[int, int, int]], disabled: int) -> QPalette:
    palette = QPalette()
    for role, rgb in colours.items():
        palette.setColor(role, QColor(*rgb))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                 QPalette.ColorRole.ButtonText):  # fmt: skip
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled, disabled, disabled))
    return palette


def dark_palette() -> QPalette:
    return _palette(_DARK, 120)


def light_palette() -> QPalette:
    return _palette(_LIGHT, 150)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_appearance(app: QApplication, mode: str) -> None:
    """Set the application's palette for `mode`: system, light or dark. The platform's
    own palette is used for System where it has the colour scheme asked for."""
    dark = mode == "dark" or (mode == "system" and system_is_dark())
    platform = app.style().standardPalette()
    if mode == "system" and is_dark(platform) == dark:
        app.setPalette(platform)
    else:
        app.setPalette(dark_palette() if dark else light_palette())


def restyle_charts(root: QWidget) -> None:
    """Give every pyqtgraph chart under `root` the application palette's colours (the
    widgets' own palettes follow only once the change events are processed)."""
    palette = QApplication.palette()
    background = palette.color(QPalette.ColorRole.Base)
    foreground = palette.color(QPalette.ColorRole.Text)
    pg.setConfigOptions(background=background, foreground=foreground)
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(background)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(foreground)
                item.setTextPen(foreground)
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextColor(foreground)
            elif isinstance(item, pg.LabelItem):
                item.setAttr("color", foreground)
                item.setText(item.text)
            elif isinstance(item, pg.TextItem):
                item.setColor(foreground)
