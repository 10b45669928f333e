"""Guards against a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 releases a reference to None on every call of a void method such as
QPainter.setPen. On Python 3.12+ None is immortal and nothing happens; on 3.11 the
app crashes after a few thousand paints. pyproject.toml keeps that release out.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen


def test_painting_keeps_none_alive() -> None:
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    path = QPainterPath(QPointF(1, 1))
    path.lineTo(QPointF(50, 50))
    pen = QPen(QColor(255, 255, 255), 3)
    try:
        before = sys.getrefcount(None)
        for _ in range(200):
            painter.setPen(pen)
            painter.fillRect(QRectF(0, 0, 10, 10), QColor(0, 0, 0))
            painter.drawPath(path)
        after = sys.getrefcount(None)
    finally:
        painter.end()
    assert after >= before - 50, f"None lost {before - after} references in 600 paint calls"
