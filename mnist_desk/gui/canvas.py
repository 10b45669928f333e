"""The drawing canvas: smooth round-capped white strokes on black, like MNIST.

Strokes are kept as point lists in coordinates relative to the square drawing area
(0..1), so the picture is redrawn crisply at any window size and any device pixel ratio,
and the image handed to the network (`render_array`) never depends on either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

RENDER_SIZE = 280  # side of the image handed to preprocessing: 10x MNIST
DEFAULT_BRUSH = 0.075  # stroke width as a share of the canvas side (about 21 px of 280)
ERASER_SCALE = 2.0
MNIST_PEN = 0.15  # MNIST's pen width relative to the extent of a digit's centre lines
MIN_PEN = 0.02  # a dot or a tiny scribble still gets a visible pen
MAX_UNDO = 200


@dataclass
class Stroke:
    width: float  # share of the canvas side
    erase: bool = False
    points: list[QPointF] = field(default_factory=list)  # each in 0..1


@dataclass(frozen=True)
class _Snapshot:
    strokes: tuple[Stroke, ...]
    background: QImage | None
    exact: np.ndarray | None


def stroke_path(points: list[QPointF], scale: float) -> QPainterPath:
    """The path through the points as the input device recorded them: straight lines
    from point to point. A slow hand's points lie a pixel apart and make a smooth curve;
    a fast hand's (or a tablet's) lie far apart, and rounding their corners off would
    turn the sharp corner of a 7 or of a 1's flag into a 2's curve."""
    pts = [QPointF(p.x() * scale, p.y() * scale) for p in points]
    path = QPainterPath(pts[0])
    for point in pts[1:] or pts:  # a dot: a zero-length line drawn with a round cap
        path.lineTo(point)
    return path


def _pen(stroke: Stroke, scale: float, width_scale: float = 1.0) -> QPen:
    colour = QColor(0, 0, 0) if stroke.erase else QColor(255, 255, 255)
    width = stroke.width * scale * width_scale * (ERASER_SCALE if stroke.erase else 1.0)
    return QPen(
        colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin
    )


class DrawingCanvas(QWidget):
    """Left button draws, right button erases; Ctrl+Z (via the window) undoes a stroke,
    Delete, Backspace or Escape clear. `changed` fires on every change, mid-stroke too."""

    changed = Signal()
    stroke_finished = Signal()
    digit_pressed = Signal(int)  # a digit key: "this drawing is a ..."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setAccessibleName("Drawing canvas")
        self.setAccessibleDescription(
            "Draw a digit with the left mouse button; the right button erases."
        )
        self.setMinimumSize(280, 280)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAcceptDrops(False)  # drops are handled by the Draw tab
        self.brush_width = DEFAULT_BRUSH
        self._strokes: list[Stroke] = []
        self._background: QImage | None = None  # Grayscale8, square, light ink on dark
        # an image already in MNIST's form (from the test set), read as it is until drawn on
        self._exact: np.ndarray | None = None
        self._overlay: tuple[QImage, QRectF] | None = None  # a heat map, where it lies
        self._undo: list[_Snapshot] = []
        self._current: Stroke | None = None
        self._layer = QImage()
        self._hover: QPointF | None = None

    # ---- state -------------------------------------------------------------------------
    @property
    def strokes(self) -> list[Stroke]:
        return list(self._strokes)

    def is_empty(self) -> bool:
        return not self._strokes and self._background is None

    def can_undo(self) -> bool:
        return bool(self._undo)

    def _push_undo(self) -> None:
        self._undo.append(_Snapshot(tuple(self._strokes), self._background, self._exact))
        del self._undo[:-MAX_UNDO]

    def undo(self) -> None:
        if not self._undo:
            return
        snap = self._undo.pop()
        self._strokes, self._background = list(snap.strokes), snap.background
        self._exact, self._current = snap.exact, None
        self._changed(full=True)

    def clear(self) -> None:
        if self.is_empty():
            return
        self._push_undo()
        self._strokes, self._background, self._current, self._exact = [], None, None, None
        self._changed(full=True)

    def set_background(self, image: QImage, exact: np.ndarray | None = None) -> None:
        """Show an image (light ink on dark, any size) in place of the drawing; `exact`:
        the image is already in MNIST's 28x28 form and is read as it is."""
        self._push_undo()
        self._strokes, self._current, self._exact = [], None, exact
        self._background = image.convertToFormat(QImage.Format.Format_Grayscale8)
        self._changed(full=True)

    def exact_image(self) -> np.ndarray | None:
        """The MNIST-form image shown, while nothing has been drawn over it."""
        return self._exact if not self._strokes else None

    def set_overlay(self, image: QImage | None, field: QRectF | None = None) -> None:
        """A translucent map over the picture; `field` is where it lies, in the
        coordinates of `render_array` (0..RENDER_SIZE)."""
        self._overlay = None if image is None or field is None else (image, field)
        self.update()

    def _changed(self, full: bool) -> None:
        if full:
            self._rebuild_layer()
        self.update()
        self.changed.emit()

    # ---- geometry ----------------------------------------------------------------------
    def drawing_rect(self) -> QRectF:
        """The square drawing area, centred in the widget (logical pixels)."""
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_unit(self, pos: QPointF) -> QPointF:
        r = self.drawing_rect()
        return QPointF((pos.x() - r.x()) / r.width(), (pos.y() - r.y()) / r.height())

    # ---- rendering ---------------------------------------------------------------------
    def _paint_picture(self, painter: QPainter, side: float, width_scale: float = 1.0) -> None:
        painter.fillRect(QRectF(0, 0, side, side), QColor(0, 0, 0))
        if self._background is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(QRectF(0, 0, side, side), self._background)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for stroke in self._strokes:
            if stroke.points:
                painter.setPen(_pen(stroke, side, width_scale))
                painter.drawPath(stroke_path(stroke.points, side))

    def mnist_width_scale(self) -> float:
        """The factor that gives the ink MNIST's stroke width relative to the digit's size.

        MNIST's pen strokes are about 2.6 pixels wide in a digit whose long side, strokes
        included, is 20 pixels: a pen width of 0.15 times the extent of the stroke
        centre lines. Drawn at any size with any brush, a digit is read with that width;
        eraser strokes scale alike, so what was erased stays erased.
        """
        ink = [s for s in self._strokes if not s.erase and s.points]
        if not ink:
            return 1.0
        xs = [p.x() for s in ink for p in s.points]
        ys = [p.y() for s in ink for p in s.points]
        extent = max(max(xs) - min(xs), max(ys) - min(ys))
        brush = float(np.median([s.width for s in ink]))
        return max(MNIST_PEN * extent, MIN_PEN) / brush

    def _rebuild_layer(self) -> None:
        dpr = self.devicePixelRatioF()
        side_px = max(1, round(self.drawing_rect().width() * dpr))
        self._layer = QImage(side_px, side_px, QImage.Format.Format_RGB32)
        self._layer.setDevicePixelRatio(dpr)
        painter = QPainter(self._layer)
        self._paint_picture(painter, side_px / dpr)
        painter.end()

    def _paint_segment(self, stroke: Stroke) -> None:
        """Add the newest piece of the stroke being drawn to the layer (no full redraw)."""
        if self._layer.isNull():
            self._rebuild_layer()
            return
        side = self.drawing_rect().width()
        painter = QPainter(self._layer)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(_pen(stroke, side))
        painter.drawPath(stroke_path(stroke.points[-2:], side))
        painter.end()

    def render_array(self, size: int = RENDER_SIZE, *, mnist_width: bool = False) -> np.ndarray:
        """The picture as uint8 (size, size), white ink on black, independent of the screen;
        with `mnist_width`, strokes are drawn with MNIST's width for the digit's size."""
        image = QImage(size, size, QImage.Format.Format_Grayscale8)
        painter = QPainter(image)
        scale = self.mnist_width_scale() if mnist_width else 1.0
        self._paint_picture(painter, float(size), scale)
        painter.end()
        buffer = np.frombuffer(image.constBits(), dtype=np.uint8)
        return buffer.reshape(size, image.bytesPerLine())[:, :size].copy()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        rect = self.drawing_rect()
        if (
            self._layer.isNull()
            or round(rect.width() * self.devicePixelRatioF()) != self._layer.width()
        ):
            self._rebuild_layer()
        painter.drawImage(rect.topLeft(), self._layer)
        if self._overlay is not None:
            image, field = self._overlay
            k = rect.width() / RENDER_SIZE
            target = QRectF(rect.x() + field.x() * k, rect.y() + field.y() * k,
                            field.width() * k, field.height() * k)  # fmt: skip
            painter.save()
            painter.setClipRect(rect)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(target, image)
            painter.restore()
        painter.setPen(QPen(QColor(90, 100, 120), 1))
        painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self.is_empty() and self._current is None:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
        if self._hover is not None and rect.contains(self._hover):
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(120, 170, 255, 200), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            radius = self.brush_width * rect.width() / 2
            painter.drawEllipse(self._hover, radius, radius)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layer = QImage()  # rebuilt at the new size on the next paint
        super().resizeEvent(event)

    # ---- input -------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return super().mousePressEvent(event)
        self._push_undo()
        self._current = Stroke(self.brush_width, erase=button == Qt.MouseButton.RightButton)
        self._current.points.append(self._to_unit(event.position()))
        self._strokes.append(self._current)
        self._paint_segment(self._current)
        self.update()
        self.changed.emit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._hover = event.position()
        if self._current is None:
            self.update()
            return
        point = self._to_unit(event.position())
        last = self._current.points[-1]
        min_step = 0.5 / max(self.drawing_rect().width(), 1.0)  # half a pixel
        if abs(point.x() - last.x()) + abs(point.y() - last.y()) < min_step:
            return
        self._current.points.append(point)
        self._paint_segment(self._current)
        self.update()
        self.changed.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._current is None:
            return super().mouseReleaseEvent(event)
        self._current = None
        self.stroke_finished.emit()

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = None
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace, Qt.Key.Key_Escape):
            self.clear()
            return
        if Qt.Key.Key_0 <= event.key() <= Qt.Key.Key_9 and not event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        ):
            self.digit_pressed.emit(event.key() - Qt.Key.Key_0)
            return
        super().keyPressEvent(event)
