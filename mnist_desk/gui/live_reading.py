"""The network's live reading of the canvas, shared by every tab that shows it.

A reading is made on the canvas's changes and whenever the weights change (a checkpoint
opened, an epoch finished): at once (leading edge), inside the change's own event so
that one repaint shows the stroke and its reading, unless the last reading ended moments
ago; then throttled so that reading takes at most half of the GUI thread's time (the gap
after a reading is what the reading cost, and never more than a screen refresh), and
never queued behind another. A reading costs about 3 ms here, so every move of a 125 Hz
mouse is read. One reading per refresh, the rule before, made the median move wait 10 ms
for its reading; now 3.5 ms, p95 under 8 ms idle and while training
(benchmarks/gui_responsiveness.py). `updated` fires after each, and `prediction` holds
the latest (None when the canvas has no ink).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from mnist_desk.core.predictor import Prediction
from mnist_desk.core.preprocess import Field
from mnist_desk.gui.canvas import RENDER_SIZE, DrawingCanvas
from mnist_desk.gui.model_session import ModelSession
from mnist_desk.gui.threads import note_user_input


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
        self._last = 0.0  # when the last reading ended
        self._cost_ms = 2.5  # what a reading costs, averaged
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # waits of a few ms, kept
        self._timer.timeout.connect(self.predict_now)
        canvas.changed.connect(self._on_canvas_changed)
        session.predictor_changed.connect(self._on_session_predictor_changed)

    def _frame_interval_ms(self) -> float:
        screen = self.canvas.screen() or QGuiApplication.primaryScreen()
        rate = screen.refreshRate() if screen is not None else 60.0
        return 1000.0 / (rate if rate and rate > 1 else 60.0)

    def schedule(self) -> None:
        """A reading at once, or as soon as the gap after the last one has passed; never
        one queued behind another."""
        if self._timer.isActive():
            return
        since = (time.perf_counter() - self._last) * 1000.0
        wait = min(self._frame_interval_ms(), self._cost_ms) - since
        if wait <= 0:  # read now, before the repaint this change asked for: one paint shows both
            self.predict_now()
        else:
            self._timer.start(max(1, round(wait)))

    def predict_now(self) -> None:
        self._timer.stop()
        start = time.perf_counter()
        self._predict()
        self._last = time.perf_counter()
        cost = (self._last - start) * 1000.0
        self._cost_ms += 0.2 * (min(cost, 50.0) - self._cost_ms)

    def _predict(self) -> None:
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

    def _on_canvas_changed(self) -> None:
        note_user_input()  # training leaves the GUI thread a core meanwhile
        self.schedule()

    def _on_session_predictor_changed(self, label: str) -> None:
        self.schedule()
