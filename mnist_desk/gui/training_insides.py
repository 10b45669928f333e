"""Inside the training, a view of the Train tab: how far each layer's weights have moved
from where they started, how strong its gradients are, how many ReLU units never fire,
the learning rate, the weights' distribution now against the start, and the first
layer's filters as they learn. Collected only while this view is shown, and redrawn at
most every REDRAW_MS: a redraw of its five charts costs the GUI thread about 50 ms, and at
one per look (every 100 batches, about 0.6 s) that was a tenth of a core taken from the
training (benchmarks/training_insides.py)."""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.insides import Snapshot
from mnist_desk.gui.curves import REFERENCE_COLOURS

EVERY = 100  # batches between two looks
REDRAW_MS = 2000  # the least time between two redraws while looks keep coming
TITLE_SIZE = "10pt"
ROW_MIN_HEIGHT = 110  # a row of charts: title, a plot that can be read, its axis
COLUMN_SLACK = 16  # the layout's spacing and margins, per column

COLOURS = [*REFERENCE_COLOURS, (31, 119, 180), (255, 127, 14), (44, 160, 44), (140, 86, 75)]


class TrainingInsides(QWidget):
    shown_changed = Signal(bool)  # start (True) or stop collecting

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingInsides")
        self.snapshots: list[Snapshot] = []
        self.every = EVERY
        self._curves: dict[str, list[pg.PlotDataItem]] = {}
        self._last_redraw = 0.0
        self._redraw_timer = QTimer(self, singleShot=True)
        self._redraw_timer.timeout.connect(self.redraw)
        self._build()

    def _build(self) -> None:
        self.chart = pg.GraphicsLayoutWidget()
        self.chart.setObjectName("insidesChart")
        self.legend = pg.LegendItem(colCount=4, labelTextSize="8pt", verSpacing=-4)
        self.change = self._plot("weights moved from the start")
        self.change.setLabel("left", "|w − w₀| / |w₀|")
        self.grads = self._plot("gradient strength")
        self.grads.setLabel("left", "|gradient|")
        self.dead = self._plot("ReLU units that never fire (%)")
        self.lr = self._plot("learning rate")
        self.histogram = self._plot("weights: now (colour) and at the start (grey)")
        self.filters = pg.ViewBox(lockAspect=True, invertY=True)
        self.filter_image = pg.ImageItem()
        self.filters.addItem(self.filter_image)
        self._cells = [self.change, self.grads, self.dead, self.lr, self.histogram, self.filters]
        self.columns = 0
        self._arrange(2)
        for plot in (self.change, self.grads, self.dead, self.lr, self.histogram):
            plot.showGrid(x=True, y=True, alpha=0.2)
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)  # no "(x0.001)" on the axes
        for plot in (self.dead, self.lr):  # the charts above share their epochs
            plot.setLabel("bottom", "epoch")
        self.dead.setXLink(self.change)
        self.lr.setXLink(self.change)
        self.grads.setXLink(self.change)
        self.layer = QComboBox()
        self.layer.setObjectName("insidesLayer")
        self.layer.setAccessibleName("The layer whose weights the histogram shows")
        self.layer.setMinimumContentsLength(10)
        self.layer.setPlaceholderText("when it trains")  # its layers come with the first look
        self.layer.setEnabled(False)
        self.layer.currentIndexChanged.connect(self._draw_histogram)
        self.note = QLabel(
            f"Looked at every {EVERY} batches while this view is shown; hidden, it costs "
            "the training nothing. Filters: the first layer's, as they learn."
        )
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Histogram of:"))
        row.addWidget(self.layer)
        row.addWidget(self.note, 1)
        # too narrow for two columns, the charts go under each other; too small for them
        # to be read, the area scrolls rather than squeeze them to nothing or cut them off
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("insidesScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidget(self.chart)
        self.scroll_area.viewport().installEventFilter(self)
        self.chart.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.scroll_area, 1)

    def _plot(self, title: str) -> pg.PlotItem:
        plot = pg.PlotItem()
        plot.setTitle(title, size=TITLE_SIZE)
        return plot

    def _arrange(self, columns: int) -> None:
        """The legend across the top, then the charts in `columns` columns."""
        layout = self.chart.ci
        if columns == self.columns:
            return
        for item in (self.legend, *self._cells):
            if item in layout.items:
                layout.removeItem(item)
        layout.addItem(self.legend, row=0, col=0, colspan=columns)
        for i, cell in enumerate(self._cells):
            layout.addItem(cell, row=1 + i // columns, col=i % columns)
        self.columns = columns
        self.chart.setMinimumWidth(0 if columns == 2 else self._column_width(self._cells))
        self._fit_height()

    def _fit_height(self) -> None:
        """Room for every row of charts to be read, below the legend as it now is."""
        rows = math.ceil(len(self._cells) / self.columns)
        legend = self.legend.effectiveSizeHint(Qt.SizeHint.PreferredSize).height()
        self.chart.setMinimumHeight(round(ROW_MIN_HEIGHT * rows + legend))

    def _column_width(self, cells: list[pg.GraphicsWidget]) -> int:
        widest = max(c.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() for c in cells)
        return math.ceil(widest) + COLUMN_SLACK

    def _two_columns_fit(self, width: int) -> bool:
        left, right = self._cells[0::2], self._cells[1::2]
        return self._column_width(left) + self._column_width(right) <= width

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.scroll_area.viewport() and event.type() == QEvent.Type.Resize:
            self._arrange(2 if self._two_columns_fit(self.scroll_area.viewport().width()) else 1)
        bar = self.scroll_area.verticalScrollBar()
        if watched is self.chart.viewport() and event.type() == QEvent.Type.Wheel and bar.maximum():
            QApplication.sendEvent(bar, event)  # the wheel scrolls the charts, not zoom one
            return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        self.shown_changed.emit(True)

    def hideEvent(self, event: QHideEvent) -> None:
        self.shown_changed.emit(False)

    def reset(self) -> None:
        self.snapshots.clear()
        self._redraw_timer.stop()
        for plot in (self.change, self.grads, self.dead, self.lr, self.histogram):
            plot.clear()
        self.legend.clear()
        self.layer.clear()
        self.layer.setEnabled(False)
        self.filter_image.clear()
        self._curves = {}

    def add(self, snapshot: Snapshot) -> None:
        if not self.snapshots:
            self._make_curves(snapshot)
        self.snapshots.append(snapshot)
        if self._redraw_timer.isActive():
            return  # drawn with the next redraw
        since_ms = (time.perf_counter() - self._last_redraw) * 1000
        if since_ms >= REDRAW_MS:
            self.redraw()
        else:
            self._redraw_timer.start(round(REDRAW_MS - since_ms))

    def _make_curves(self, snapshot: Snapshot) -> None:
        """The curves, made once per run (updating them costs the training less than
        drawing them again: the GUI thread shares the interpreter with it)."""
        self.reset()
        change, grads, dead = [], [], []
        for i, layer in enumerate(snapshot.layers):
            pen = pg.mkPen(COLOURS[i % len(COLOURS)], width=2)
            change.append(self.change.plot(pen=pen))
            grads.append(self.grads.plot(pen=pen))
            self.legend.addItem(change[-1], layer.name)
            self.layer.addItem(layer.name)
        for j, name in enumerate(snapshot.dead):
            pen = pg.mkPen(COLOURS[j % len(COLOURS)], width=2, style=Qt.PenStyle.DashLine)
            dead.append(self.dead.plot(pen=pen))
            self.legend.addItem(dead[-1], name)
        self._fit_height()
        self.layer.setEnabled(True)
        self._curves = {
            "change": change,
            "grads": grads,
            "dead": dead,
            "lr": [self.lr.plot(pen=pg.mkPen((90, 90, 90), width=2))],
            "histogram": [
                self.histogram.plot(stepMode="center", pen=pg.mkPen((150, 150, 150), width=2)),
                self.histogram.plot(stepMode="center", pen=pg.mkPen(COLOURS[0], width=2)),
            ],
        }

    def redraw(self) -> None:
        self._redraw_timer.stop()
        self._last_redraw = time.perf_counter()
        snaps = self.snapshots
        if not snaps or not self._curves:
            return
        x = np.array([s.epochs for s in snaps])
        for i, curve in enumerate(self._curves["change"]):
            curve.setData(x, [s.layers[i].change for s in snaps])
        for i, curve in enumerate(self._curves["grads"]):
            g = np.array([s.layers[i].grad_norm for s in snaps])
            ok = np.isfinite(g)  # no gradient yet: nothing to show
            curve.setData(x[ok], g[ok])
        for j, name in enumerate(snaps[-1].dead):
            self._curves["dead"][j].setData(x, [s.dead[name] for s in snaps])
        rates = [s.lr for s in snaps]
        self._curves["lr"][0].setData(x, rates)
        # from 0: a constant rate would otherwise sit on a range of its own rounding
        self.lr.setYRange(0, max(rates) * 1.15 or 1.0, padding=0)
        self._draw_histogram()
        self._draw_filters(snaps[-1].filters)

    def _draw_histogram(self) -> None:
        i = self.layer.currentIndex()
        if not self.snapshots or i < 0 or not self._curves:
            return
        first, last = self.snapshots[0].layers[i], self.snapshots[-1].layers[i]
        start, now = self._curves["histogram"]
        start.setData(first.edges, first.histogram)
        now.setData(last.edges, last.histogram)

    def _draw_filters(self, filters: np.ndarray) -> None:
        """The filters side by side in rows of 8, each scaled to its own range."""
        n, k = len(filters), filters.shape[-1]
        cols = min(8, n)
        rows = math.ceil(n / cols)
        grid = np.full((rows * (k + 1) - 1, cols * (k + 1) - 1), np.nan, np.float32)
        for i, f in enumerate(filters):
            lo, hi = float(f.min()), float(f.max())
            r, c = divmod(i, cols)
            grid[r * (k + 1) : r * (k + 1) + k, c * (k + 1) : c * (k + 1) + k] = (f - lo) / (
                (hi - lo) or 1
            )
        self.filter_image.setImage(np.nan_to_num(grid, nan=0.5).T, levels=(0, 1))
