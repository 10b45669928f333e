"""The 1×1 question (Help › Experiments to Try): the seed CNN with and without its three
1×1 convolutions, trained with the seed recipe three seeds each, every run kept; their
accuracy, parameters and time per epoch in a table, their curves side by side."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.experiments import (
    Trained,
    by_arm,
    mean_test_curves,
    summarize_arms,
    the_one_by_one_question,
)
from mnist_desk.core.runs import RunLibrary
from mnist_desk.gui.background import BackgroundJob, ExperimentWorker
from mnist_desk.gui.curves import REFERENCE_COLOURS, LossAxis, chart_with_legend_row, ema
from mnist_desk.gui.job_progress import JobProgress
from mnist_desk.gui.mnist_cache import MnistCache

EXPLANATION = """
<p>A <b>1×1 convolution</b> looks at one position at a time, across all the channels
there: each output channel is a weighted sum of the input channels at that pixel. It
mixes what different detectors found at the same place, without looking at the
neighbours, for few weights (16 channels to 8 cost 136).</p>
<p>The seed CNN has three of them, 16→8, 16→16 and 32→32, between its 3×3 layers, and
<i>no ReLU after them</i>. A linear map followed by a 3×3 convolution is just another 3×3
convolution, so they add no power to the network: the 16→8 one makes the next layer
see 8 mixtures instead of 16 channels, and the others change how training moves the
weights. This experiment trains the seed CNN as it is and without the three (the 3×3
layers keep their widths; the one after 16→8 then sees all 16 channels), with the seed
recipe, three seeds each. Every run is kept in the Runs tab.</p>
"""
COLUMNS = ["Network", "Parameters", "Test accuracy", "Each seed", "Time per epoch"]


class OneByOneDialog(QDialog):
    """Stays open beside the window while it trains (about four minutes on two cores)."""

    runs_added = Signal()  # the experiment ended (finished or stopped): its runs are kept

    def __init__(
        self, cache: MnistCache, data_dir: str | None, runs: RunLibrary, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.setObjectName("oneByOneDialog")
        self.setWindowTitle("The 1×1 Question")
        self.cache, self.data_dir, self.runs = cache, data_dir, runs
        self.results: list[Trained] = []
        self._job: BackgroundJob[ExperimentWorker] = BackgroundJob(self, self._on_job_done)
        self._build()
        self.resize(900, 640)

    def _build(self) -> None:
        text = QLabel(EXPLANATION)
        text.setObjectName("oneByOneExplanation")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.run_button = QPushButton("Run the Experiment")
        self.run_button.setObjectName("runOneByOne")
        self.run_button.setToolTip("Train both networks, three seeds each (six runs, kept)")
        self.run_button.clicked.connect(self.start)
        self.job = JobProgress()
        self.job.setObjectName("oneByOneJob")
        self.job.cancel_requested.connect(self._on_cancel_requested)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.job, 1)
        self.status = QLabel("Press Run the Experiment: about four minutes on a laptop's CPU.")
        self.status.setObjectName("oneByOneStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("oneByOneTable")
        self.table.setAccessibleName("Accuracy, parameters and time of both networks")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.acc_chart, _, self.acc_plot = chart_with_legend_row(
            "oneByOneAccuracy", "Test accuracy after each epoch, both networks", columns=1
        )
        self.acc_plot.setLabel("left", "test accuracy (%)")
        self.acc_plot.setLabel("bottom", "epoch")
        self.acc_plot.getAxis("bottom").setTickSpacing(1, 1)
        self.loss_chart, _, self.loss_plot = chart_with_legend_row(
            "oneByOneLoss", "Training loss of every run, both networks", columns=1
        )
        self.loss_plot.setAxisItems({"left": LossAxis("left")})  # 1, 2, 5 of each decade
        self.loss_plot.setLabel("left", "training loss (smoothed)")
        self.loss_plot.setLabel("bottom", "epoch")
        self.loss_plot.setLogMode(y=True)
        charts = QHBoxLayout()
        charts.addWidget(self.acc_chart)
        charts.addWidget(self.loss_chart)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addLayout(charts, 1)
        layout.addWidget(buttons)

    # ---- the job -----------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job.is_running()

    def start(self) -> None:
        if self.is_running():
            return
        worker = ExperimentWorker(
            the_one_by_one_question,
            lambda stop: self.cache.get(self.data_dir, stop=stop),
            self.runs,
        )
        worker.progress.connect(self.job.report)
        worker.finished.connect(self.show_results)
        worker.failed.connect(lambda message: self.status.setText(f"Stopped: {message}"))
        self.run_button.setEnabled(False)
        self.job.start("The 1×1 question")
        self.status.setText("Training the seed CNN with and without its 1×1 convolutions…")
        self._job.start(worker, name="oneByOneThread")

    def _on_cancel_requested(self) -> None:
        self.job.cancelling()
        self._job.cancel()

    def _on_job_done(self) -> None:
        self.job.finish()
        self.run_button.setEnabled(True)
        self.runs_added.emit()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel and wait (closing the app); True when nothing is left running."""
        self._job.cancel()
        return self._job.wait(timeout_ms)

    def reject(self) -> None:
        """Close hides it; a run in progress goes on and shows its results here later."""
        self.hide()

    # ---- the results -------------------------------------------------------------------
    def show_results(self, results: list[Trained]) -> None:
        self.results = results
        summary = summarize_arms(results)
        self.table.setRowCount(0)
        for s in summary:
            row = self.table.rowCount()
            self.table.insertRow(row)
            values = [
                f"Seed CNN {s.arm}",
                f"{s.params:,}",
                f"{s.mean:.2f}% ± {s.sd:.2f}",
                ", ".join(f"{a:.2f}%" for a in s.accuracies),
                f"{s.seconds_per_epoch:.1f} s",
            ]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, col, item)
        rows = self.table.rowCount()
        self.table.setFixedHeight(
            self.table.horizontalHeader().height() + rows * self.table.rowHeight(0) + 4
        )
        self._plot(results)
        if len(summary) == 2:
            a, b = summary
            self.status.setText(
                f"{a.arm.capitalize()}: {a.mean:.2f}%; {b.arm}: {b.mean:.2f}% (means of "
                f"{len(a.accuracies)} seeds, which differ by about {max(a.sd, b.sd):.2f} "
                f"points among themselves), with {abs(a.params - b.params):,} parameters "
                f"{'more' if a.params > b.params else 'fewer'}. The {len(results)} runs are "
                "in the Runs tab: select them there to compare their curves."
            )

    def _plot(self, results: list[Trained]) -> None:
        self.acc_plot.clear()
        self.loss_plot.clear()
        for plot in (self.acc_plot, self.loss_plot):
            plot.legend.clear()
        arms = by_arm(results)
        colour = {arm: REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)] for i, arm in enumerate(arms)}
        for arm, seeds in arms.items():  # every seed, thin; the first named in the legend
            pen = pg.mkPen(colour[arm], width=1)
            for i, t in enumerate(seeds):
                history = t.checkpoint.history
                self.acc_plot.plot(
                    [e.epoch for e in history], [e.test_acc for e in history], pen=pen
                )
                curve = t.checkpoint.batch_curve
                if curve is not None and curve.x:
                    smooth = ema(np.asarray(curve.loss, np.float64), 0.05, None)
                    name = f"{arm} (each seed)" if i == 0 else None
                    self.loss_plot.plot(curve.x, smooth, pen=pen, name=name)
        for arm, points in mean_test_curves(results).items():
            c = colour[arm]
            self.acc_plot.plot(
                [e for e, _ in points], [a for _, a in points],
                pen=pg.mkPen(c, width=3), symbol="o", symbolSize=7, symbolBrush=c,
                name=f"{arm} (mean)",
            )  # fmt: skip
