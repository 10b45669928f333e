"""The network's live reading of the canvas, shared by every tab that shows it.

A reading is made on the canvas's changes and whenever the weights change (a checkpoint
opened, an epoch finished), at most once per screen refresh and never queued behind
another; `updated` fires after each, and `prediction` holds the latest (None when the
canvas has no ink).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from mnist_desk.core.predictor import Prediction
from mnist_desk.core.preprocess import Field
from mnist_desk.gui.canvas import RENDER_SIZE, DrawingCanvas
from mnist_desk.gui.model_session import ModelSession


class LiveReading(QObject):
    updated = Signal()

    def __init__(
        self, session: ModelSession, canvas: DrawingCanvas, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.session, self.canvas = session, canvas
        self.prediction: Prediction | None = None
        # read drawings with MNIST's stroke width for their size (benchmarks/drawn_digits.py)
        self.normalize_width = True
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.predict_now)
        canvas.changed.connect(self.schedule)
        session.predictor_changed.connect(self._on_session_predictor_changed)

    def _frame_interval_ms(self) -> float:
        screen = self.canvas.screen() or QGuiApplication.primaryScreen()
        rate = screen.refreshRate() if screen is not None else 60.0
        return 1000.0 / (rate if rate and rate > 1 else 60.0)

    def schedule(self) -> None:
        """At most one prediction per screen refresh, and never one queued behind another."""
        if self._timer.isActive():
            return
        since = (time.perf_counter() - self._last) * 1000.0
        self._timer.start(int(max(0.0, self._frame_interval_ms() - since)))

    def predict_now(self) -> None:
        self._timer.stop()
        self._last = time.perf_counter()
        prediction = None
        predictor = self.session.predictor
        exact = self.canvas.exact_image()
        if predictor.model is None or self.canvas.is_empty():
            pass
        elif exact is not None:  # a test image as MNIST has it: read as the explorer reads it
            prediction = predictor.predict_array(exact, Field(0.0, 0.0, float(RENDER_SIZE)))
        else:
            image = self.canvas.render_array(mnist_width=self.normalize_width)
            prediction = predictor.predict(image, "light")
        self.prediction = prediction
        self.updated.emit()

    def _on_session_predictor_changed(self, label: str) -> None:
        self.schedule()
