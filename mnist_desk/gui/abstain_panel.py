"""Answer or abstain, in the Explore tab: as the confidence threshold moves, how many test
images get an answer and how many of those answers are right; the threshold the Draw
tab uses is marked on the curve, and can be dragged there or set in the box."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.evaluation import AbstainCurve, answer_or_abstain
from mnist_desk.core.predictor import UNSURE_BELOW
from mnist_desk.gui.curves import chart_with_legend_row
from mnist_desk.gui.model_session import ModelSession

ANSWERED = (49, 130, 206)
RIGHT = (56, 161, 105)


class AbstainPanel(QWidget):
    def __init__(self, session: ModelSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("abstainPanel")
        self.session = session
        self.curve: AbstainCurve | None = None
        self._count = 0
        self._build()
        session.threshold_changed.connect(self._on_threshold_changed)

    def _build(self) -> None:
        self.threshold = QDoubleSpinBox()
        self.threshold.setObjectName("unsureThreshold")
        self.threshold.setAccessibleName("The Draw tab says unsure below this confidence")
        self.threshold.setRange(0.10, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(self.session.unsure_below)
        self.threshold.setToolTip(
            "A reading less sure than this is shown as unsure on the Draw tab (maybe not a digit)"
        )
        self.threshold.valueChanged.connect(self.session.set_unsure_below)
        reset = QPushButton(f"Default ({UNSURE_BELOW:.2f})")
        reset.setToolTip(
            "The threshold chosen so that most drawings that are no digit are shown as "
            "unsure and few digits are (docs/unsure-threshold.png)"
        )
        reset.clicked.connect(lambda: self.session.set_unsure_below(UNSURE_BELOW))
        row = QHBoxLayout()
        row.addWidget(QLabel("The Draw tab says unsure below:"))
        row.addWidget(self.threshold)
        row.addWidget(reset)
        row.addStretch(1)

        self.summary = QLabel("Evaluate the model on the Test set page first.")
        self.summary.setObjectName("abstainSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)

        self.chart, self.legend, self.plot = chart_with_legend_row(
            "abstainChart", "Answered and right, against the confidence threshold", columns=3
        )
        self.plot.setLabel("bottom", "confidence threshold: below it the network says it is unsure")
        self.plot.setLabel("left", "% of the test images")
        self.answered = self.plot.plot(pen=pg.mkPen(ANSWERED, width=2), name="answered")
        self.right = self.plot.plot(pen=pg.mkPen(RIGHT, width=2), name="right, of those answered")
        self.line = pg.InfiniteLine(
            self.session.unsure_below,
            movable=True,
            pen=pg.mkPen((120, 120, 120), width=2, style=Qt.PenStyle.DashLine),
            label="Draw tab: {value:.2f}",
            labelOpts={"position": 0.12, "color": (90, 90, 90)},
        )
        self.line.setBounds((0.10, 0.99))
        self.line.setToolTip("Drag to change the threshold the Draw tab uses")
        self.line.sigPositionChangeFinished.connect(
            lambda line: self.session.set_unsure_below(round(float(line.value()), 2))
        )
        self.plot.addItem(self.line)
        self.plot.setXRange(0.1, 1.0, padding=0.01)
        # the right ones sit near 100% at every threshold: the mistakes, magnified below
        self.mistakes_plot = self.chart.addPlot(row=2, col=0)
        self.mistakes_plot.setXLink(self.plot)
        self.mistakes_plot.setLabel("left", "wrong per 1,000 answered")
        self.mistakes_plot.showGrid(x=True, y=True, alpha=0.2)
        self.mistakes = self.mistakes_plot.plot(pen=pg.mkPen((197, 48, 48), width=2))
        self.mistakes_line = pg.InfiniteLine(
            self.session.unsure_below, pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine)
        )
        self.mistakes_plot.addItem(self.mistakes_line)
        self.chart.ci.layout.setRowStretchFactor(1, 3)
        self.chart.ci.layout.setRowStretchFactor(2, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.chart, 1)

    def set_result(self, probabilities: np.ndarray, labels: np.ndarray) -> None:
        """The test set's probabilities as the model gave them (the Test set page's)."""
        self.curve = answer_or_abstain(probabilities, labels)
        self._count = len(labels)
        self.answered.setData(self.curve.thresholds, self.curve.answered)
        self.right.setData(self.curve.thresholds, self.curve.right_when_answered)
        self.mistakes.setData(self.curve.thresholds, 10 * (100 - self.curve.right_when_answered))
        low = float(np.nanmin(np.r_[self.curve.answered, self.curve.right_when_answered]))
        self.plot.setYRange(max(0.0, low - 1), 100, padding=0.02)
        self._describe()

    def _on_threshold_changed(self, threshold: float) -> None:
        self.threshold.blockSignals(True)
        self.threshold.setValue(threshold)
        self.threshold.blockSignals(False)
        self.line.setValue(threshold)
        self.mistakes_line.setValue(threshold)
        self._describe()

    def _describe(self) -> None:
        if self.curve is None:
            return
        t = self.session.unsure_below
        answered, right = self.curve.at(t)
        all_right = self.curve.at(self.curve.thresholds[0])[1]
        self.summary.setText(
            f"At {t:.2f} the network answers {answered:.1f}% of the {self._count:,} test images "
            "and "
            f"is right on {right:.2f}% of those it answers (on {all_right:.2f}% of all of "
            "them when it must always answer). Raise the threshold and it answers less "
            "often but is right more often."
        )
