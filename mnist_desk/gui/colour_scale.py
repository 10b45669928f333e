"""A small colour legend: the gradient a view paints with, and what its ends mean."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from mnist_desk.gui.images import rgb_image


def gradient(colours: list[tuple[int, int, int]], steps: int = 64) -> QImage:
    """A 1-pixel-high image running through the colours, evenly spaced."""
    stops = np.asarray(colours, np.float64)
    t = np.linspace(0, len(stops) - 1, steps)
    low = np.floor(t).astype(int).clip(0, len(stops) - 2)
    frac = (t - low)[:, None]
    rgb = stops[low] * (1 - frac) + stops[low + 1] * frac
    return rgb_image((rgb[None, :, :] + 0.5).astype(np.uint8))


class ColourScale(QWidget):
    """[low text] ▕gradient▏ [high text]"""

    def __init__(
        self,
        colours: list[tuple[int, int, int]],
        low: str,
        high: str,
        parent: QWidget | None = None,
        *,
        middle: str = "",
    ) -> None:
        super().__init__(parent)
        self._image = gradient(colours)
        self._low, self._high, self._middle = low, high, middle
        self.setAccessibleName(f"Colour scale: {low} to {high}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(240, metrics.height() + 14)

    def minimumSizeHint(self) -> QSize:
        return QSize(80, self.fontMetrics().height() + 14)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = self.fontMetrics()
        bar = QRectF(0, 0, self.width(), 8)
        painter.drawImage(bar, self._image)
        painter.setPen(self.palette().windowText().color())
        text_top = 10
        height = metrics.height()
        painter.drawText(QRectF(0, text_top, self.width(), height),
                         Qt.AlignmentFlag.AlignLeft, self._low)  # fmt: skip
        painter.drawText(QRectF(0, text_top, self.width(), height),
                         Qt.AlignmentFlag.AlignRight, self._high)  # fmt: skip
        if self._middle:
            painter.drawText(QRectF(0, text_top, self.width(), height),
                             Qt.AlignmentFlag.AlignHCenter, self._middle)  # fmt: skip
        painter.end()


SALIENCY = ([(0, 0, 0), (255, 0, 0), (255, 220, 0)], "no pull", "strongest pull")
GREY_MAPS = ([(0, 0, 0), (255, 255, 255)], "0", "max")
SIGNED_MAPS = ([(0, 115, 255), (0, 0, 0), (255, 140, 0)], "−max", "+max")
