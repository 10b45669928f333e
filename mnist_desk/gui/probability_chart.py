"""A bar chart of the ten probabilities, the most likely digit highlighted."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QWidget

BAR = QColor(96, 125, 200)
TOP = QColor(237, 137, 54)
UNSURE = QColor(160, 160, 160)


class ProbabilityChart(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityChart")
        self.setAccessibleName("Probabilities of the ten digits")
        self.setMinimumHeight(130)
        plot = self.getPlotItem()
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setXRange(-0.6, 9.6, padding=0)
        plot.setYRange(0, 1.18, padding=0)
        plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)], []])
        plot.getAxis("left").setTicks([[(0, "0"), (0.5, "50%"), (1.0, "100%")], []])
        plot.showGrid(y=True, alpha=0.15)
        self._probs = np.zeros(10, dtype=np.float32)
        self._bars = pg.BarGraphItem(
            x=np.arange(10), height=self._probs, width=0.72, brushes=[BAR] * 10, pen=None
        )
        plot.addItem(self._bars)
        font = QFont()
        font.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
        self._labels = []
        for i in range(10):
            label = pg.TextItem(anchor=(0.5, 1.0), color=(60, 60, 60))
            label.setFont(font)
            label.setPos(i, 0)
            plot.addItem(label)
            self._labels.append(label)

    def probabilities(self) -> np.ndarray:
        return self._probs.copy()

    def set_probabilities(self, probs: np.ndarray | None, *, unsure: bool = False) -> None:
        """Show ten probabilities (None clears the chart); `unsure` greys the top bar."""
        self._probs = np.zeros(10, np.float32) if probs is None else np.asarray(probs, np.float32)
        brushes = [BAR] * 10
        if probs is not None:
            brushes[int(self._probs.argmax())] = UNSURE if unsure else TOP
        self._bars.setOpts(height=self._probs, brushes=brushes)
        for i, (label, p) in enumerate(zip(self._labels, self._probs, strict=True)):
            label.setText(f"{100 * p:.0f}%" if probs is not None and p >= 0.005 else "")
            label.setPos(i, float(p) + 0.015)
