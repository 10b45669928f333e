"""What the network sees: the 28x28 input, scaled up with visible pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from mnist_desk.gui.images import gray_image, heat_image


class InputPreview(QWidget):
    """Shows a 28x28 array pixel by pixel, with an optional heat overlay."""

    def __init__(self, parent: QWidget | None = None, *, name: str = "inputPreview") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName("What the network sees: the 28 by 28 input")
        self.setMinimumSize(112, 112)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self._overlay: QImage | None = None
        self.show_grid = True
        # the grid drawn once per size and kept: 54 translucent lines cost 3.5 ms a paint,
        # and the Draw tab repaints this with every reading of a stroke
        self._grid: tuple[tuple[int, int], QPixmap] | None = None

    def sizeHint(self) -> QSize:
        return QSize(168, 168)

    def array(self) -> np.ndarray | None:
        return None if self._array is None else self._array.copy()

    def set_array(self, array: np.ndarray | None) -> None:
        self._array = None if array is None else np.asarray(array)
        self._image = None if self._array is None else gray_image(self._array)
        self.update()

    def set_overlay(self, values: np.ndarray | None) -> None:
        self._overlay = None if values is None else heat_image(values)
        self.update()

    def has_overlay(self) -> bool:
        return self._overlay is not None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        side = min(self.width(), self.height())
        # one rectangle for the picture, its grid and its border: nothing sticks out
        rect = QRectF((self.width() - side) // 2, (self.height() - side) // 2, side - 1, side - 1)
        painter.fillRect(rect, QColor(0, 0, 0))
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(rect, self._image)
            if self._overlay is not None:
                painter.drawImage(rect, self._overlay)
            if self.show_grid and side >= 4 * self._image.width():
                painter.drawPixmap(rect.topLeft(), self._grid_pixmap(side, self._image.width()))
        else:
            painter.setPen(QColor(140, 140, 140))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no ink")
        painter.setPen(QPen(QColor(90, 100, 120), 1))
        painter.drawRect(rect)
        painter.end()

    def _grid_pixmap(self, side: int, n: int) -> QPixmap:
        """The lines between the n x n pixels of a picture `side` wide, on transparency."""
        if self._grid is not None and self._grid[0] == (side, n):
            return self._grid[1]
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(round(side * ratio), round(side * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setPen(QPen(QColor(60, 60, 60, 140), 0))
        width = side - 1  # as the picture's rectangle
        for i in range(1, n):
            offset = i * width / n
            painter.drawLine(QLineF(offset, 0, offset, width))
            painter.drawLine(QLineF(0, offset, width, offset))
        painter.end()
        self._grid = ((side, n), pixmap)
        return pixmap
