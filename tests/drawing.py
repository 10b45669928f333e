"""Replaying strokes as real mouse events on a widget (press, moves, release)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget


def send_mouse(
    widget: QWidget,
    kind: QEvent.Type,
    pos: QPointF,
    button: Qt.MouseButton,
    buttons: Qt.MouseButton,
) -> None:
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def unit_to_widget(widget: QWidget, x: float, y: float) -> QPointF:
    """A point given in 0..1 of the canvas's drawing square, in widget coordinates."""
    rect = widget.drawing_rect()  # type: ignore[attr-defined]
    return QPointF(rect.x() + x * rect.width(), rect.y() + y * rect.height())


def press(
    widget: QWidget, x: float, y: float, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> None:
    send_mouse(widget, QEvent.Type.MouseButtonPress, unit_to_widget(widget, x, y), button, button)


def move(
    widget: QWidget, x: float, y: float, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> None:
    send_mouse(
        widget, QEvent.Type.MouseMove, unit_to_widget(widget, x, y), Qt.MouseButton.NoButton, button
    )


def release(
    widget: QWidget, x: float, y: float, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> None:
    send_mouse(
        widget,
        QEvent.Type.MouseButtonRelease,
        unit_to_widget(widget, x, y),
        button,
        Qt.MouseButton.NoButton,
    )


def stroke(
    widget: QWidget,
    points: Sequence[tuple[float, float]],
    *,
    steps: int = 8,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    finish: bool = True,
) -> None:
    """Press at the first point, move through the others in small steps, release."""
    press(widget, *points[0], button=button)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        for i in range(1, steps + 1):
            t = i / steps
            move(widget, x0 + t * (x1 - x0), y0 + t * (y1 - y0), button=button)
    if finish:
        release(widget, *points[-1], button=button)
