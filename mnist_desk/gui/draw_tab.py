"""The Draw tab: the canvas panel, and the network's reading of it, live while drawing.

The canvas panel and the live reading are shared with the Network tab; the main window
hands both to each. `canvas`, `brush_slider`, `predict_now()` and `prediction` are the
tab's public face for scripts that draw on it (benchmarks/drawn_digits.py).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.inspect import saliency
from mnist_desk.core.predictor import Prediction
from mnist_desk.gui.canvas_panel import CanvasPanel
from mnist_desk.gui.colour_scale import SALIENCY, ColourScale
from mnist_desk.gui.images import heat_image
from mnist_desk.gui.input_preview import InputPreview
from mnist_desk.gui.live_reading import LiveReading
from mnist_desk.gui.model_session import ModelSession
from mnist_desk.gui.probability_chart import ProbabilityChart


class DrawTab(QWidget):
    prediction_updated = Signal()  # after the chart and labels show a new reading

    def __init__(
        self,
        session: ModelSession,
        panel: CanvasPanel,
        reading: LiveReading,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("drawTab")
        self.session, self.panel, self.reading = session, panel, reading
        self.canvas = panel.canvas
        self.brush_slider = panel.brush_slider
        self.setAcceptDrops(True)
        self._layout = QHBoxLayout(self)
        self._layout.addWidget(panel, 3)
        self._layout.addWidget(self._build_reading(), 2)
        reading.updated.connect(self._on_reading_updated)
        session.predictor_changed.connect(self._on_session_predictor_changed)
        session.threshold_changed.connect(lambda _threshold: self._on_reading_updated())

    @property
    def prediction(self) -> Prediction | None:
        return self.reading.prediction

    def predict_now(self) -> None:
        self.reading.predict_now()

    # ---- layout ------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        if self.panel.parent() is not self:  # back from the Network tab
            self._layout.insertWidget(0, self.panel, 3)

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
        # fixed heights: a reading turning "unsure" changes colours and words, not the layout
        self.digit_label.setFixedHeight(max(110, QFontMetrics(font).height() + 8))
        self.confidence_label = QLabel("Draw a digit")
        self.confidence_label.setObjectName("confidence")
        self.confidence_label.setAccessibleName("Confidence")
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.confidence_label.setWordWrap(True)
        self.confidence_label.setFixedHeight(2 * self.confidence_label.fontMetrics().height() + 4)
        self.chart = ProbabilityChart()
        self.preview = InputPreview()
        self.saliency_toggle = QCheckBox("Saliency on the input")
        self.saliency_toggle.setObjectName("saliencyToggle")
        self.saliency_toggle.setAccessibleName("Show which pixels pushed the prediction")
        self.saliency_toggle.setToolTip(
            "Overlay on the 28×28 input how strongly each pixel moves the predicted digit's "
            "probability (input gradients)"
        )
        self.canvas_saliency_toggle = QCheckBox("… and on the canvas")
        self.canvas_saliency_toggle.setObjectName("canvasSaliencyToggle")
        self.canvas_saliency_toggle.setToolTip(
            "Draw the same saliency over your drawing on the canvas, where the 28×28 input "
            "was taken from"
        )
        for toggle in (self.saliency_toggle, self.canvas_saliency_toggle):
            toggle.toggled.connect(lambda _checked: self._update_saliency())
        self.saliency_scale = ColourScale(*SALIENCY)
        self.saliency_scale.setObjectName("saliencyScale")
        self.training_banner = QLabel()
        self.training_banner.setObjectName("trainingBanner")
        self.training_banner.setWordWrap(True)
        self.training_banner.setAutoFillBackground(True)
        self.training_banner.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.training_banner.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.training_banner.setMargin(6)
        self.training_banner.setVisible(False)
        self._training = False
        self.model_label = QLabel()
        self.model_label.setObjectName("readingModel")
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)
        self.model_label.setWordWrap(True)
        self.model_label.setStyleSheet("color: palette(mid);")

        sees = QVBoxLayout()
        caption = QLabel("What it sees (28×28)")
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sees.addWidget(caption)
        sees.addWidget(self.preview, 1)
        sees.addWidget(self.saliency_toggle)
        sees.addWidget(self.canvas_saliency_toggle)
        sees.addWidget(self.saliency_scale)
        top = QHBoxLayout()
        digit = QVBoxLayout()
        digit.addStretch(1)
        digit.addWidget(self.digit_label)
        digit.addWidget(self.confidence_label)
        digit.addStretch(1)
        top.addLayout(digit, 1)
        top.addLayout(sees, 1)

        layout = QVBoxLayout(box)
        layout.addWidget(self.training_banner)
        layout.addLayout(top)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.model_label)
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        box.setMinimumWidth(300)
        return box

    # ---- the reading -------------------------------------------------------------------
    def _on_reading_updated(self) -> None:
        self.show_prediction(self.reading.prediction)

    def show_prediction(self, prediction: Prediction | None) -> None:
        if prediction is None:
            self.digit_label.setText("")
            self.confidence_label.setText("Draw a digit" if self.canvas.is_empty() else "no ink")
            self.chart.set_probabilities(None)
            self.preview.set_array(None)
        else:
            unsure = prediction.confidence < self.session.unsure_below
            self.digit_label.setText(str(prediction.digit))
            role = QPalette.ColorRole.PlaceholderText if unsure else QPalette.ColorRole.WindowText
            self.digit_label.setForegroundRole(role)  # a role: it follows light and dark
            pct = 100 * prediction.confidence
            self.confidence_label.setText(
                f"unsure: {pct:.0f}% — maybe not a digit?" if unsure else f"{pct:.1f}% sure"
            )
            self.chart.set_probabilities(prediction.probabilities, unsure=unsure)
            self.preview.set_array(prediction.image)
        self._update_saliency()
        self.prediction_updated.emit()

    def _update_saliency(self) -> None:
        model, p = self.session.predictor.model, self.reading.prediction
        on_input = self.saliency_toggle.isChecked()
        self.canvas_saliency_toggle.setEnabled(on_input)
        on_canvas = on_input and self.canvas_saliency_toggle.isChecked()
        self.saliency_scale.setVisible(on_input)
        if not on_input or p is None or model is None:
            self.preview.set_overlay(None)
            self.canvas.set_overlay(None)
            return
        values = saliency(model, p.image, p.digit)
        self.preview.set_overlay(values)
        if on_canvas and p.field is not None:
            field = QRectF(p.field.x, p.field.y, p.field.side, p.field.side)
            self.canvas.set_overlay(heat_image(values), field)
        else:
            self.canvas.set_overlay(None)

    def _on_session_predictor_changed(self, label: str) -> None:
        self.model_label.setText(f"Reading with: {label}")
        self._show_training_banner()

    def show_training(self, running: bool) -> None:
        """Say on this tab that a model trains, and which weights the reading uses."""
        self._training = running
        self._show_training_banner()

    def _show_training_banner(self) -> None:
        self.training_banner.setVisible(self._training)
        if self._training:
            label = self.session.predictor_label
            reading = (
                f"the reading uses {label}" if "training" in label
                else "the reading uses the current model until the first epoch ends"
            )  # fmt: skip
            self.training_banner.setText(f"A model is training: {reading}.")

    # ---- images ------------------------------------------------------------------------
    def show_image(self, image28: np.ndarray) -> None:
        """Put an MNIST-form image (e.g. from the test-set explorer) on the canvas."""
        self.panel.show_image(image28)
        self.reading.predict_now()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.panel.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.panel.dropEvent(event)
