"""The confusion matrix as a heat map with counts; click a cell to see its images."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from mnist_desk.core.text import plural

MARGIN = 34  # room for the axis labels


class ConfusionMatrixView(QWidget):
    cell_clicked = Signal(int, int)  # true digit, predicted digit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setAccessibleName(
            "Confusion matrix of the test set: rows true digit, columns prediction"
        )
        self.setMinimumSize(300, 300)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self._matrix = np.zeros((10, 10), dtype=np.int64)
        self._selected: tuple[int, int] | None = None
        self._hover: tuple[int, int] | None = None

    def sizeHint(self) -> QSize:
        return QSize(420, 420)

    def set_matrix(self, matrix: np.ndarray | None) -> None:
        self._matrix = np.zeros((10, 10), np.int64) if matrix is None else np.asarray(matrix)
        self._selected = None
        self.update()

    def matrix(self) -> np.ndarray:
        return self._matrix.copy()

    def select(self, cell: tuple[int, int] | None) -> None:
        self._selected = cell
        self.update()

    # ---- geometry ----------------------------------------------------------------------
    def _cell_size(self) -> float:
        return max(1.0, (min(self.width(), self.height()) - MARGIN - 4) / 10)

    def cell_rect(self, row: int, col: int) -> QRectF:
        size = self._cell_size()
        return QRectF(MARGIN + col * size, MARGIN + row * size, size, size)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        size = self._cell_size()
        col, row = int((x - MARGIN) // size), int((y - MARGIN) // size)
        return (row, col) if 0 <= row < 10 and 0 <= col < 10 else None

    # ---- painting ----------------------------------------------------------------------
    def _colour(self, row: int, col: int) -> QColor:
        count = int(self._matrix[row, col])
        total = max(int(self._matrix[row].sum()), 1)
        if row == col:
            share = count / total
            return QColor.fromRgbF(0.25, 0.55 + 0.35 * share, 0.35, 0.25 + 0.75 * share)
        if count == 0:
            return QColor(0, 0, 0, 0)
        strength = min(1.0, np.log1p(count) / np.log1p(max(total * 0.05, 2)))
        return QColor.fromRgbF(0.85, 0.25, 0.2, 0.15 + 0.85 * strength)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        size = self._cell_size()
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, min(11.0, size / 4)))
        p.setFont(font)
        text = self.palette().text().color()
        p.setPen(text)
        p.drawText(
            QRectF(MARGIN, 0, 10 * size, MARGIN / 2), Qt.AlignmentFlag.AlignCenter, "predicted"
        )
        p.save()
        p.translate(0, MARGIN + 5 * size)
        p.rotate(-90)
        p.drawText(QRectF(-50, 0, 100, MARGIN / 2), Qt.AlignmentFlag.AlignCenter, "true")
        p.restore()
        for d in range(10):
            p.drawText(
                QRectF(MARGIN + d * size, MARGIN / 2, size, MARGIN / 2),
                Qt.AlignmentFlag.AlignCenter,
                str(d),
            )
            p.drawText(
                QRectF(MARGIN / 2, MARGIN + d * size, MARGIN / 2, size),
                Qt.AlignmentFlag.AlignCenter,
                str(d),
            )
        grid = QPen(self.palette().mid().color(), 0.5)
        for row in range(10):
            for col in range(10):
                rect = self.cell_rect(row, col)
                p.fillRect(rect, self._colour(row, col))
                p.setPen(grid)
                p.drawRect(rect)
                count = int(self._matrix[row, col])
                if count:
                    p.setPen(text)
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        for cell, colour, width in (
            (self._hover, QColor(90, 130, 220), 1.5),
            (self._selected, QColor(30, 80, 200), 3.0),
        ):
            if cell is not None:
                p.setPen(QPen(colour, width))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(self.cell_rect(*cell).adjusted(1, 1, -1, -1))
        p.end()

    # ---- input -------------------------------------------------------------------------
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell != self._hover:
            self._hover = cell
            if cell is not None:
                row, col = cell
                self.setToolTip(
                    f"true {row}, predicted {col}: {plural(int(self._matrix[row, col]), 'image')}"
                )
            self.update()

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = None
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.select(cell)
            self.cell_clicked.emit(*cell)
