"""The canvas with its tools: undo, clear, the brush, "It was:" buttons to keep the
drawing with its true digit, and images dropped or pasted onto it.

One panel exists; the main window hands it to every tab that shows the canvas (Draw and
Network), and each tab puts it in its own layout while it is shown. Image files are
decoded in a worker thread (core.images caps what any file may cost).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.images import MAX_SIDE, read_image
from mnist_desk.core.preprocess import ink_map, to_grayscale
from mnist_desk.gui.background import BackgroundJob, FunctionWorker
from mnist_desk.gui.canvas import DEFAULT_BRUSH, RENDER_SIZE, DrawingCanvas
from mnist_desk.gui.images import gray_image, qimage_to_array


def square_ink(image: np.ndarray | Image.Image) -> np.ndarray:
    """Any image -> light ink on dark, centred in a square (the canvas's form)."""
    ink = ink_map(to_grayscale(image))
    h, w = ink.shape
    side = max(h, w)
    out = np.zeros((side, side), np.float32)
    out[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = ink
    return out


def read_square_ink(path: str) -> np.ndarray:
    """An image file, read and made canvas-ready (runs in a worker thread)."""
    return square_ink(read_image(path))


class CanvasPanel(QWidget):
    sample_kept = Signal(object, int)  # the drawing (uint8 array), its true digit
    image_loaded = Signal(bool)  # an image file was read onto the canvas (True) or refused

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvasPanel")
        self.setAcceptDrops(True)
        self._job: BackgroundJob[FunctionWorker] = BackgroundJob(self, lambda: None)
        self.canvas = DrawingCanvas(self)
        self.canvas.digit_pressed.connect(self.keep_as)
        self.canvas.changed.connect(self._on_canvas_changed)
        self._kept: tuple[bytes, int] | None = None  # the drawing last kept, and as what
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(self._build_tools())
        layout.addLayout(self._build_keep_row())
        self.kept_label = QLabel()
        self.kept_label.setObjectName("keptLabel")
        layout.addWidget(self.kept_label)
        hint = QLabel("Left button draws, right button erases. Drop or paste an image to read it.")
        hint.setObjectName("drawHint")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        layout.addWidget(hint)

    def _build_tools(self) -> QHBoxLayout:
        self.undo_button = QPushButton(QIcon(":/icons/undo.svg"), "Undo")
        self.undo_button.setObjectName("undoButton")
        self.undo_button.setToolTip("Undo the last stroke (Ctrl+Z)")
        self.undo_button.setAccessibleName("Undo stroke")
        self.undo_button.clicked.connect(self.canvas.undo)
        self.clear_button = QPushButton(QIcon(":/icons/clear.svg"), "Clear")
        self.clear_button.setObjectName("clearButton")
        self.clear_button.setToolTip("Clear the canvas (Delete or Escape)")
        self.clear_button.setAccessibleName("Clear canvas")
        self.clear_button.clicked.connect(self.canvas.clear)
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setObjectName("brushSlider")
        self.brush_slider.setAccessibleName("Brush width")
        self.brush_slider.setRange(6, 48)
        self.brush_slider.setValue(round(DEFAULT_BRUSH * RENDER_SIZE))
        self.brush_slider.setToolTip(
            "How wide you draw, in pixels on screen. The network reads every drawing with "
            "MNIST's pen width for its size, whatever the brush"
        )
        self.brush_label = QLabel()
        self.brush_label.setObjectName("brushWidth")
        self.brush_label.setMinimumWidth(self.brush_label.fontMetrics().horizontalAdvance("000 px"))
        self.brush_slider.valueChanged.connect(self._on_brush_slider_value_changed)
        self._on_brush_slider_value_changed(self.brush_slider.value())
        tools = QHBoxLayout()
        tools.addWidget(self.undo_button)
        tools.addWidget(self.clear_button)
        tools.addSpacing(16)
        tools.addWidget(QLabel("Brush"))
        tools.addWidget(self.brush_slider, 1)
        tools.addWidget(self.brush_label)
        return tools

    def _build_keep_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        label = QLabel("It was:")
        label.setToolTip(
            "Keep this drawing with the digit it really shows (or press the digit's key on "
            "the canvas): your samples can teach the model your handwriting."
        )
        row.addWidget(label)
        self.keep_buttons = []
        for digit in range(10):
            button = QPushButton(str(digit))
            button.setObjectName(f"keepAs{digit}")
            button.setAccessibleName(f"Keep this drawing as a {digit}")
            button.setToolTip(f"Keep this drawing as a {digit} ({digit} on the keyboard)")
            button.setFixedWidth(26)
            button.clicked.connect(lambda _=False, d=digit: self.keep_as(d))
            row.addWidget(button)
            self.keep_buttons.append(button)
        row.addStretch(1)
        return row

    def _on_brush_slider_value_changed(self, value: int) -> None:
        self.canvas.brush_width = value / RENDER_SIZE
        self._show_brush_width()

    def _show_brush_width(self) -> None:
        """The brush in the pixels the user sees: its share of the canvas, on screen."""
        on_screen = self.canvas.brush_width * self.canvas.drawing_rect().width()
        self.brush_label.setText(f"{on_screen:.0f} px")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_brush_width()

    # ---- editing -------------------------------------------------------------------------
    def undo(self) -> None:
        self.canvas.undo()

    def clear(self) -> None:
        self.canvas.clear()

    # ---- keeping the user's own digits -------------------------------------------------
    def keep_as(self, digit: int) -> None:
        """Keep the drawing on the canvas with its true digit (see sample_kept); the same
        drawing is kept once."""
        if self.canvas.is_empty():
            self.kept_label.setText("Draw something first.")
            return
        drawing = self.canvas.render_array(mnist_width=True)  # as the reading sees it
        if self._kept is not None and self._kept[0] == drawing.tobytes():
            self.kept_label.setText(f"This drawing is already kept as a {self._kept[1]}.")
            return
        self._kept = (drawing.tobytes(), digit)
        self.sample_kept.emit(drawing, digit)

    def show_message(self, text: str) -> None:
        self.kept_label.setText(text)

    def _on_canvas_changed(self) -> None:
        self.kept_label.clear()  # a message about the last drawing says nothing of this one
        if self.canvas.is_empty():
            self._kept = None  # what is drawn next is a new drawing, even if it looks the same

    # ---- images: shown, dropped and pasted -----------------------------------------------
    def show_image(self, image28: np.ndarray) -> None:
        """Put an MNIST-form image (e.g. from the test-set explorer) on the canvas; it is
        read as it is (no second preprocessing) until something is drawn over it."""
        exact = image28.astype(np.float32) / (255.0 if image28.dtype == np.uint8 else 1.0)
        self.canvas.set_background(gray_image(image28), exact=exact)

    def load_image_file(self, path: str | Path) -> bool:
        """Read an image file onto the canvas, decoding it in a worker thread (a large
        scan takes a second); `image_loaded` says when it is there. False: busy."""
        if self._job.is_running():
            return False
        worker = FunctionWorker(read_square_ink, str(path))
        worker.finished.connect(self._on_image_read)
        worker.failed.connect(self._on_image_failed)
        self._job.start(worker, name="imageReader")
        return True

    def is_loading(self) -> bool:
        return self._job.is_running()

    def _on_image_read(self, ink: np.ndarray) -> None:
        self.canvas.set_background(gray_image(ink))
        self.image_loaded.emit(True)

    def _on_image_failed(self, message: str) -> None:
        self.image_loaded.emit(False)
        QMessageBox.warning(self, "Not an image", message)

    def load_qimage(self, image: QImage) -> bool:
        if image.isNull():
            QMessageBox.warning(self, "Not an image", "The clipboard holds no readable image.")
            return False
        if max(image.width(), image.height()) > MAX_SIDE:
            image = image.scaled(
                MAX_SIDE, MAX_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )  # fmt: skip
        self.canvas.set_background(gray_image(square_ink(qimage_to_array(image))))
        return True

    def shutdown(self, timeout_ms: int) -> bool:
        return self._job.wait(timeout_ms)

    def load_mime(self, mime: QMimeData) -> bool:
        if mime.hasImage():
            return self.load_qimage(QImage(mime.imageData()))
        local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if local:
            return self.load_image_file(local[0])
        QMessageBox.warning(self, "Not an image", "Drop or paste an image file (PNG, JPEG, …).")
        return False

    def paste(self) -> bool:
        return self.load_mime(QGuiApplication.clipboard().mimeData())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        event.acceptProposedAction()
        self.load_mime(event.mimeData())
