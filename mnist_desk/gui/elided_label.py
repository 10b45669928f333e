"""A one-line label that gives way when a bar is short of room: its text ends in "…"
instead of being cut off or pushing its neighbours out, and is whole in its tooltip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel


class ElidedLabel(QLabel):
    """Plain text, shortened with "…" to the width it is given, never narrower than
    `shortest`; the tooltip is the whole text above `tip`."""

    def __init__(self, tip: str = "", shortest: str = "…") -> None:
        super().__init__()
        self.tip, self.shortest = tip, shortest
        self.setTextFormat(Qt.TextFormat.PlainText)  # names and messages are never markup
        self.setToolTip(tip)

    def minimumSizeHint(self) -> QSize:
        width = self.fontMetrics().horizontalAdvance(self.shortest)
        return QSize(width, super().minimumSizeHint().height())

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(f"{text}\n{self.tip}" if self.tip else text)

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter = QPainter(self)
        self.style().drawItemText(
            painter, rect, int(self.alignment()), self.palette(), self.isEnabled(), shown,
            self.foregroundRole(),
        )  # fmt: skip
        painter.end()
