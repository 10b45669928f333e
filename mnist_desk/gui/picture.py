"""A picture that fits the room it is given, keeping its proportions (a QLabel with a
pixmap would instead demand the pixmap's full size and grow the window)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class Picture(QWidget):
    def __init__(self, parent: QWidget | None = None, *, smooth: bool = False) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._text = ""
        self._smooth = smooth
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage | None) -> None:
        self._image, self._text = image, ""
        self.updateGeometry()
        self.update()

    def set_text(self, text: str) -> None:
        """A line shown in place of a picture (while loading, or why there is none)."""
        self._image, self._text = None, text
        self.update()

    def text(self) -> str:
        return self._text

    def sizeHint(self) -> QSize:
        return self._image.size() if self._image is not None else QSize(320, 200)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, 100)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self._image is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._text
            )
            painter.end()
            return
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h, 1.0 if not self._smooth else 4.0)
        target = QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2,
                        w * scale, h * scale)  # fmt: skip
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, self._image)
        painter.end()
