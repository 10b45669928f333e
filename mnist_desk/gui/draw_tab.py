"""The Draw tab: the canvas, and the network's reading of it, live while drawing."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont, QGuiApplication, QIcon, QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.errors import ImageError
from mnist_desk.core.inspect import saliency
from mnist_desk.core.predictor import Prediction
from mnist_desk.core.preprocess import ink_map, read_image, to_grayscale
from mnist_desk.gui.canvas import DEFAULT_BRUSH, RENDER_SIZE, DrawingCanvas
from mnist_desk.gui.input_preview import InputPreview, gray_image
from mnist_desk.gui.model_session import ModelSession
from mnist_desk.gui.probability_chart import ProbabilityChart

# Below this confidence a reading is shown as a guess. With the best preset's label
# smoothing, drawn digits are read at 0.93 or more nine times in ten; 0.8 flags 75% of
# drawings that are no digit (letters, symbols, scribbles) and 2% of digits
# (benchmarks/drawn_digits.py, chosen on its seed 7, reported on seed 0).
UNSURE_BELOW = 0.8


def square_ink(image: object) -> np.ndarray:
    """Any image -> light ink on dark, centred in a square (the canvas's form)."""
    ink = ink_map(to_grayscale(image))  # type: ignore[arg-type]
    h, w = ink.shape
    side = max(h, w)
    out = np.zeros((side, side), np.float32)
    out[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = ink
    return out


def qimage_to_array(image: QImage) -> np.ndarray:
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    buffer = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return buffer[:, : 4 * rgba.width()].reshape(rgba.height(), rgba.width(), 4).copy()


class DrawTab(QWidget):
    prediction_updated = Signal()  # after the chart and labels show a new reading
    samples_kept = Signal(object, int)  # the drawing (uint8 array), its true digit

    def __init__(self, session: ModelSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawTab")
        self.session = session
        self.setAcceptDrops(True)
        self.prediction: Prediction | None = None
        # read drawings with MNIST's stroke width for their size (benchmarks/drawn_digits.py)
        self.normalize_width = True
        self._last_prediction = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.predict_now)
        self._build()
        self.canvas.changed.connect(self.schedule_prediction)
        self.canvas.digit_pressed.connect(self.keep_as)
        session.predictor_changed.connect(self._on_session_predictor_changed)

    # ---- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.canvas = DrawingCanvas(self)
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
        self.brush_slider.setToolTip("Stroke width; the default draws like MNIST's pens")
        self.brush_label = QLabel()
        self.brush_slider.valueChanged.connect(self._on_brush_slider_value_changed)
        self._on_brush_slider_value_changed(self.brush_slider.value())

        tools = QHBoxLayout()
        tools.addWidget(self.undo_button)
        tools.addWidget(self.clear_button)
        tools.addSpacing(16)
        tools.addWidget(QLabel("Brush"))
        tools.addWidget(self.brush_slider, 1)
        tools.addWidget(self.brush_label)
        hint = QLabel("Left button draws, right button erases. Drop or paste an image to read it.")
        hint.setObjectName("drawHint")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        # the canvas and its tools move to the Network tab while that one is shown
        self.canvas_panel = QWidget()
        self.canvas_panel.setObjectName("canvasPanel")
        left = QVBoxLayout(self.canvas_panel)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.canvas, 1)
        left.addLayout(tools)
        left.addLayout(self._build_keep_row())
        self.kept_label = QLabel()
        self.kept_label.setObjectName("keptLabel")
        left.addWidget(self.kept_label)
        left.addWidget(hint)

        self._layout = QHBoxLayout(self)
        self._layout.addWidget(self.canvas_panel, 3)
        self._layout.addWidget(self._build_reading(), 2)

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

    def showEvent(self, event: object) -> None:
        if self.canvas_panel.parent() is not self:
            self._layout.insertWidget(0, self.canvas_panel, 3)

    def _build_reading(self) -> QWidget:
        box = QGroupBox("The network reads")
        self.digit_label = QLabel("")
        self.digit_label.setObjectName("predictedDigit")
        self.digit_label.setAccessibleName("Predicted digit")
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFont()
        font.setPointSize(64)
        font.setBold(True)
        self.digit_label.setFont(font)
        self.digit_label.setMinimumHeight(110)
        self.confidence_label = QLabel("Draw a digit")
        self.confidence_label.setObjectName("confidence")
        self.confidence_label.setAccessibleName("Confidence")
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chart = ProbabilityChart()
        self.preview = InputPreview()
        self.saliency_toggle = QCheckBox("Show saliency")
        self.saliency_toggle.setObjectName("saliencyToggle")
        self.saliency_toggle.setAccessibleName("Show which pixels pushed the prediction")
        self.saliency_toggle.setToolTip(
            "Overlay on the 28×28 input how strongly each pixel moves the predicted digit's "
            "probability (input gradients)"
        )
        self.saliency_toggle.toggled.connect(lambda _checked: self._update_saliency())
        self.model_label = QLabel()
        self.model_label.setObjectName("readingModel")
        self.model_label.setWordWrap(True)
        self.model_label.setStyleSheet("color: palette(mid);")

        sees = QVBoxLayout()
        caption = QLabel("What it sees (28×28)")
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sees.addWidget(caption)
        sees.addWidget(self.preview, 1)
        sees.addWidget(self.saliency_toggle, 0, Qt.AlignmentFlag.AlignHCenter)
        top = QHBoxLayout()
        digit = QVBoxLayout()
        digit.addStretch(1)
        digit.addWidget(self.digit_label)
        digit.addWidget(self.confidence_label)
        digit.addStretch(1)
        top.addLayout(digit, 1)
        top.addLayout(sees, 1)

        layout = QVBoxLayout(box)
        layout.addLayout(top)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.model_label)
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        box.setMinimumWidth(300)
        return box

    def _on_brush_slider_value_changed(self, value: int) -> None:
        self.canvas.brush_width = value / RENDER_SIZE
        self.brush_label.setText(f"{value} px")

    # ---- prediction --------------------------------------------------------------------
    def _frame_interval_ms(self) -> float:
        screen = self.screen() or QGuiApplication.primaryScreen()
        rate = screen.refreshRate() if screen is not None else 60.0
        return 1000.0 / (rate if rate and rate > 1 else 60.0)

    def schedule_prediction(self) -> None:
        """At most one prediction per screen refresh, and never one queued behind another."""
        if self._timer.isActive():
            return
        since = (time.perf_counter() - self._last_prediction) * 1000.0
        self._timer.start(int(max(0.0, self._frame_interval_ms() - since)))

    def predict_now(self) -> None:
        self._timer.stop()
        self._last_prediction = time.perf_counter()
        prediction = None
        if not self.canvas.is_empty() and self.session.predictor.model is not None:
            image = self.canvas.render_array(mnist_width=self.normalize_width)
            prediction = self.session.predictor.predict(image, "light")
        self.show_prediction(prediction)

    def show_prediction(self, prediction: Prediction | None) -> None:
        self.prediction = prediction
        if prediction is None:
            self.digit_label.setText("")
            self.confidence_label.setText("Draw a digit" if self.canvas.is_empty() else "no ink")
            self.chart.set_probabilities(None)
            self.preview.set_array(None)
        else:
            unsure = prediction.confidence < UNSURE_BELOW
            self.digit_label.setText(str(prediction.digit))
            self.digit_label.setStyleSheet("color: palette(mid);" if unsure else "")
            pct = 100 * prediction.confidence
            self.confidence_label.setText(
                f"unsure: {pct:.0f}% — maybe not a digit?" if unsure else f"{pct:.1f}% sure"
            )
            self.chart.set_probabilities(prediction.probabilities, unsure=unsure)
            self.preview.set_array(prediction.image)
        self._update_saliency()
        self.prediction_updated.emit()

    def _update_saliency(self) -> None:
        model = self.session.predictor.model
        if not self.saliency_toggle.isChecked() or self.prediction is None or model is None:
            self.preview.set_overlay(None)
            return
        p = self.prediction
        self.preview.set_overlay(saliency(model, p.image, p.digit))

    # ---- keeping the user's own digits -------------------------------------------------
    def keep_as(self, digit: int) -> None:
        """Keep the drawing on the canvas with its true digit (see samples_kept)."""
        if self.canvas.is_empty():
            self.kept_label.setText("Draw something first.")
            return
        self.samples_kept.emit(self.canvas.render_array(), digit)

    def show_image(self, image28: np.ndarray) -> None:
        """Put an MNIST-form image (e.g. from the test-set explorer) on the canvas."""
        self.canvas.set_background(gray_image(image28))
        self.predict_now()

    def _on_session_predictor_changed(self, label: str) -> None:
        self.model_label.setText(f"Reading with: {label}")
        self.schedule_prediction()

    # ---- images: drop and paste --------------------------------------------------------
    def load_image_file(self, path: str | Path) -> bool:
        try:
            image = read_image(path)
        except ImageError as exc:
            QMessageBox.warning(self, "Not an image", str(exc))
            return False
        self.canvas.set_background(gray_image(square_ink(image)))
        return True

    def load_qimage(self, image: QImage) -> bool:
        if image.isNull():
            QMessageBox.warning(self, "Not an image", "The clipboard holds no readable image.")
            return False
        self.canvas.set_background(gray_image(square_ink(qimage_to_array(image))))
        return True

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
