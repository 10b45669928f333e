"""Live training curves: per-batch loss and accuracy (raw and smoothed) with each epoch's
test result as markers, the x axis in epochs.

Built the way pyqtgraph's scrollingPlots example is: metrics go into growable numpy
buffers with named columns, and refresh() hands them to the plot, one setData per curve,
whenever the training worker's metrics arrive (twice a second); downsampling and
clip-to-view keep a 30-epoch run (28,000 points) as quick as the first epoch. The plots
keep pyqtgraph's right-click menu, with Export….

Painting competes with training for two CPU cores, so it is kept cheap (measured with
benchmarks/gui_responsiveness.py): the raw curves are drawn without antialiasing at one
min/max pair per two pixels, the smoothed ones antialiased but subsampled, and there is
no grid (pyqtgraph's translucent grid alone cost 10-20 ms a frame).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from mnist_desk.core.metrics import BatchCurve, BatchMetrics, EpochMetrics

SMOOTHING = 0.03  # exponential moving average weight of the newest batch
RAW = (96, 125, 200, 70)
SMOOTH = (40, 80, 190)
TEST = (237, 137, 54)
TRAIN_EPOCH = (56, 161, 105)
REFERENCE_COLOURS = [(128, 90, 213), (49, 151, 149), (214, 158, 46), (229, 62, 62), (113, 128, 150)]


def chart_with_legend_row(
    name: str, description: str, columns: int
) -> tuple[pg.GraphicsLayoutWidget, pg.LegendItem, pg.PlotItem]:
    """A chart laid out as the training curves are: the legend in a row of its own above
    the plot, where it never covers a curve and wraps in a narrow window. Curves given a
    name list themselves in it."""
    chart = pg.GraphicsLayoutWidget()
    chart.setObjectName(name)
    chart.setAccessibleName(description)
    legend = pg.LegendItem(colCount=columns, labelTextSize="8pt", verSpacing=-4)
    chart.addItem(legend, row=0, col=0)
    plot = chart.addPlot(row=1, col=0)
    plot.legend = legend
    plot.showGrid(x=True, y=True, alpha=0.2)
    return chart, legend, plot


class LossAxis(pg.AxisItem):
    """A log axis with a tick at every 1..9 of each decade, each drawn once (pyqtgraph's
    own puts the decades in both of its levels, and their labels were drawn twice), and
    labels where they fit: at 1, 2 and 5 of each decade; at the decades only when many
    decades are in view; at every tick when so few are that 1, 2 and 5 would leave the
    axis bare (early in a run, when the loss spans less than a decade)."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self._labelled: set[float] = set()

    def logTickValues(
        self, minVal: float, maxVal: float, size: float, stdTicks: list[Any]
    ) -> list[tuple[None, list[float]]]:
        decades = range(int(np.floor(minVal)), int(np.ceil(maxVal)))
        ticks = [d + np.log10(m) for d in decades for m in range(1, 10)]
        in_view = [float(t) for t in ticks if minVal <= t <= maxVal]
        labelled = [t for t in in_view if _mantissa(t) in (1, 2, 5)]
        if len(labelled) > max(2.0, size / 28):  # too many to read: decades only
            labelled = [t for t in in_view if _mantissa(t) == 1]
        if len(labelled) < 2:
            labelled = in_view
        self._labelled = {round(t, 6) for t in labelled}
        return [(None, labelled), (None, [t for t in in_view if round(t, 6) not in self._labelled])]

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{10**v:.3g}" if round(v, 6) in self._labelled else "" for v in values]


def _mantissa(log_value: float) -> int:
    return round(10 ** (log_value - np.floor(log_value + 1e-9)))


class _Buffer:
    """A growable table of float64 columns, each with a name."""

    def __init__(self, *names: str, capacity: int = 4096) -> None:
        self.names = names
        self.data = np.empty((capacity, len(names)))
        self.n = 0

    def extend(self, rows: np.ndarray) -> None:
        need = self.n + len(rows)
        if need > len(self.data):
            grown = np.empty((max(need, 2 * len(self.data)), self.data.shape[1]))
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : need] = rows
        self.n = need

    def column(self, name: str) -> np.ndarray:
        return self.data[: self.n, self.names.index(name)]

    def last(self, name: str) -> float | None:
        return float(self.data[self.n - 1, self.names.index(name)]) if self.n else None

    def clear(self) -> None:
        self.n = 0


def ema(values: np.ndarray, weight: float, start: float | None) -> np.ndarray:
    out = np.empty_like(values)
    level = values[0] if start is None else start
    for i, v in enumerate(values):
        level += weight * (v - level)
        out[i] = level
    return out


class TrainingCurves(pg.GraphicsLayoutWidget):
    """`show_live`: the live run's curves have legend entries (off where the plot only
    compares other runs)."""

    def __init__(self, parent: QWidget | None = None, *, show_live: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("trainingCurves")
        self.setAccessibleName("Training curves: loss and accuracy per batch and per epoch")
        # the legend has a row of its own above the plots: it never covers a curve, and it
        # wraps instead of being clipped in a narrow window
        self.legend = pg.LegendItem(colCount=4, labelTextSize="8pt", verSpacing=-4)
        self.legend.setObjectName("curvesLegend")
        self.addItem(self.legend, row=0, col=0)
        self.loss_plot = self.addPlot(row=1, col=0, axisItems={"left": LossAxis("left")})
        self.acc_plot = self.addPlot(row=2, col=0)
        self.loss_plot.legend = self.legend  # curves named on either plot list themselves here
        self.ci.layout.setVerticalSpacing(10)  # the loss axis's last label clear of 100%
        self.acc_plot.setXLink(self.loss_plot)
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.setLogMode(y=True)
        self.acc_plot.setLabel("left", "accuracy", units="%")
        self.acc_plot.setLimits(yMin=-1, yMax=101)  # a percentage: no view beyond 0-100
        self.acc_plot.setLabel("bottom", "epoch")
        for plot in (self.loss_plot, self.acc_plot):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
        self.raw_loss = self._curve(self.loss_plot, RAW, 1, "batch" if show_live else None)
        self.smooth_loss = self._curve(self.loss_plot, SMOOTH, 2, "smoothed" if show_live else None)
        self.raw_acc = self._curve(self.acc_plot, RAW, 1, None)
        self.smooth_acc = self._curve(self.acc_plot, SMOOTH, 2, None)
        self.epoch_loss, self.test_loss = self._epoch_markers(self.loss_plot, legend=show_live)
        self.epoch_acc, self.test_acc = self._epoch_markers(self.acc_plot, legend=False)
        for axis in (self.acc_plot.getAxis("bottom"), self.acc_plot.getAxis("left")):
            axis.enableAutoSIPrefix(False)  # "epoch", not "epoch (x0.001)"
        self.loss_plot.getAxis("bottom").setStyle(showValues=False)  # shared with the plot below
        self._show_empty_ranges(5)
        self._batches = _Buffer("x", "loss", "acc", "smooth_loss", "smooth_acc")
        self._epochs = _Buffer("epoch", "train_loss", "train_acc", "test_loss", "test_acc")
        self._dirty = False
        self._epochs_dirty = False  # the epoch markers change once an epoch, not each batch
        # while a run trains, the y ranges are set here, and only when the data outgrow
        # them: pyqtgraph's auto-range re-ranged and re-laid the axes out on every refresh,
        # a quarter of what painting the curves cost the GUI thread
        self._live = False
        self._ranges: dict[str, tuple[float, float]] = {}
        self._references: list[list[pg.PlotDataItem]] = []

    @staticmethod
    def _curve(
        plot: pg.PlotItem, colour: tuple[int, ...], width: int, name: str | None
    ) -> pg.PlotDataItem:
        smooth = width > 1
        curve = plot.plot(
            pen=pg.mkPen(colour, width=width), name=name, antialias=smooth, skipFiniteCheck=True
        )
        curve.setDownsampling(auto=True, method="subsample" if smooth else "peak")
        curve.opts["autoDownsampleFactor"] = 0.25 if smooth else 0.5  # points per pixel
        return curve

    @staticmethod
    def _epoch_markers(plot: pg.PlotItem, legend: bool) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        train = plot.plot(
            pen=None,
            symbol="o",
            symbolSize=6,
            symbolBrush=TRAIN_EPOCH,
            symbolPen=None,
            name="train (epoch)" if legend else None,
        )
        test = plot.plot(
            pen=pg.mkPen(TEST, width=1),
            symbol="s",
            symbolSize=8,
            symbolBrush=TEST,
            symbolPen=None,
            name="test (epoch)" if legend else None,
        )
        return train, test

    # ---- data in -----------------------------------------------------------------------
    def reset(self) -> None:
        # not named clear(): GraphicsLayoutWidget binds clear() to its layout on the
        # instance, and calling that would remove the plots themselves
        self._batches.clear()
        self._epochs.clear()
        self._dirty = self._epochs_dirty = True
        self.refresh()

    def append_batches(self, batches: Sequence[BatchMetrics]) -> None:
        if not batches:
            return
        rows = np.array([(b.progress, b.loss, b.batch_acc) for b in batches], dtype=np.float64)
        self._append_rows(rows)

    def _append_rows(self, rows: np.ndarray) -> None:
        """Rows of (x, loss, acc); the smoothed columns are computed here."""
        smooth_loss = ema(rows[:, 1], SMOOTHING, self._batches.last("smooth_loss"))
        smooth_acc = ema(rows[:, 2], SMOOTHING, self._batches.last("smooth_acc"))
        self._batches.extend(np.column_stack([rows, smooth_loss, smooth_acc]))
        self._dirty = True

    def _show_empty_ranges(self, epochs: int) -> None:
        """Sensible axes before any data: a run's epochs, loss 0.01-3, accuracy 0-100%."""
        self.set_epochs(epochs)
        self.loss_plot.setYRange(-2, 0.5, padding=0)  # log10 units
        self.acc_plot.setYRange(0, 100, padding=0.02)
        for plot in (self.loss_plot, self.acc_plot):
            plot.enableAutoRange(y=True)

    def set_epochs(self, epochs: int) -> None:
        """Fix the x axis to a run's length: no re-ranging while it trains, and the plot
        shows how far along the run is."""
        self.loss_plot.setXRange(0, epochs, padding=0.02)
        self.loss_plot.enableAutoRange(x=False)

    def add_epoch(self, m: EpochMetrics) -> None:
        self._epochs.extend(
            np.array([[m.epoch, m.train_loss, m.train_acc, m.test_loss, m.test_acc]])
        )
        self._dirty = self._epochs_dirty = True

    def set_history(self, history: Sequence[EpochMetrics], curve: BatchCurve | None) -> None:
        """Show a finished run (e.g. from a checkpoint): its stored curve and epochs."""
        self.reset()
        if curve:
            self._append_rows(np.column_stack([curve.x, curve.loss, curve.acc]))
        for m in history:
            self.add_epoch(m)
        self.refresh()
        self.set_epochs(max(1, len(history)))

    def set_live(self, live: bool) -> None:
        """A run trains (True): y ranges follow its data only; False: auto-range again."""
        self._live = live
        self._ranges.clear()
        for plot in (self.loss_plot, self.acc_plot):
            plot.enableAutoRange(y=not live)

    def _follow_data(self) -> None:
        b = self._batches
        if not b.n:
            return
        loss = b.column("loss")
        loss = loss[loss > 0]
        # in coarse steps (a quarter decade of loss, 10% of accuracy), so that the range
        # changes a few times a run, not with every new lowest loss
        if loss.size:  # log10 units
            low = np.floor(np.log10(loss.min()) * 4) / 4
            high = np.ceil(np.log10(loss.max()) * 4) / 4
            self._grow("loss", self.loss_plot, float(low), float(high))
        acc = b.column("acc")
        self._grow("acc", self.acc_plot, float(np.floor(acc.min() / 10) * 10), 100.0)

    def _grow(self, name: str, plot: pg.PlotItem, low: float, high: float) -> None:
        current = self._ranges.get(name)
        if current is not None and current[0] <= low and high <= current[1]:
            return  # still inside: no re-range, no new axis
        if current is not None:
            low, high = min(low, current[0]), max(high, current[1])
        self._ranges[name] = (low, high)
        plot.setYRange(low, high, padding=0)

    # ---- drawing -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Hand the buffers to the plot, if anything changed and the plot is on screen:
        while the user draws on another tab, training costs the GUI thread nothing here."""
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        b, e = self._batches, self._epochs
        x = b.column("x")
        self.raw_loss.setData(x, b.column("loss"))
        self.smooth_loss.setData(x, b.column("smooth_loss"))
        self.raw_acc.setData(x, b.column("acc"))
        self.smooth_acc.setData(x, b.column("smooth_acc"))
        if self._live:
            self._follow_data()
        if not self._epochs_dirty:
            return
        self._epochs_dirty = False
        ex = e.column("epoch")
        self.epoch_loss.setData(ex, e.column("train_loss"))
        self.epoch_acc.setData(ex, e.column("train_acc"))
        self.test_loss.setData(ex, e.column("test_loss"))
        self.test_acc.setData(ex, e.column("test_acc"))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    # ---- reference runs (Compare With Checkpoints) ----------------------------------------
    def add_reference(
        self, label: str, epochs: Sequence[EpochMetrics], curve: BatchCurve | None
    ) -> None:
        """Show another run beside the current one: its smoothed curves and test results."""
        colour = REFERENCE_COLOURS[len(self._references) % len(REFERENCE_COLOURS)]
        items = []
        pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine)
        if curve:
            x = np.asarray(curve.x)
            per_epoch = len(x) / max(float(x[-1]), 1e-9)
            weight = min(0.5, 10.0 / max(per_epoch, 1.0))  # smooth over about a tenth of an epoch
            loss = ema(np.asarray(curve.loss, float), weight, None)
            acc = ema(np.asarray(curve.acc, float), weight, None)
            items.append(self.loss_plot.plot(x, loss, pen=pen, name=label))
            items.append(self.acc_plot.plot(x, acc, pen=pen))
        if epochs:
            ex = np.array([e.epoch for e in epochs], float)
            symbol = {"symbol": "t", "symbolSize": 9, "symbolBrush": colour, "symbolPen": None}
            name = None if items else label
            items.append(
                self.loss_plot.plot(
                    ex,
                    [e.test_loss for e in epochs],
                    pen=pg.mkPen(colour, width=1),
                    name=name,
                    **symbol,
                )
            )
            items.append(
                self.acc_plot.plot(
                    ex, [e.test_acc for e in epochs], pen=pg.mkPen(colour, width=1), **symbol
                )
            )
            right = max(self.loss_plot.viewRange()[0][1], float(ex.max()) + 0.2)
            self.loss_plot.setXRange(0, right, padding=0.02)
        self._references.append(items)
        self.legend.setColumnCount(2)  # runs' names are long: two to a row

    def clear_references(self) -> None:
        for items in self._references:
            for item in items:
                for plot in (self.loss_plot, self.acc_plot):
                    if item in plot.listDataItems():
                        plot.removeItem(item)  # and from the legend
        self._references = []
        self.legend.setColumnCount(4)

    def reference_count(self) -> int:
        return len(self._references)

    def batch_count(self) -> int:
        return self._batches.n

    def epoch_count(self) -> int:
        return self._epochs.n
