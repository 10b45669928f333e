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


def _catmull_rom_1d(a: float, b: float, c: float, d: float, t: float) -> float:
    """The uniform Catmull-Rom segment from b to c at t in [0, 1)."""
    return 0.5 * (
        2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t**2 + (3 * b - a - 3 * c + d) * t**3
    )


def catmull_rom(
    points: Sequence[tuple[float, float]], per_segment: int
) -> list[tuple[float, float]]:
    """A Catmull-Rom curve through the points, per_segment points between each pair: the
    smooth path a hand moving a mouse traces through them."""
    p = [points[0], *points, points[-1]]
    out: list[tuple[float, float]] = []
    for i in range(1, len(p) - 2):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = p[i - 1], p[i], p[i + 1], p[i + 2]
        for k in range(per_segment):
            t = k / per_segment
            out.append((_catmull_rom_1d(x0, x1, x2, x3, t), _catmull_rom_1d(y0, y1, y2, y3, t)))
    out.append(points[-1])
    return out
