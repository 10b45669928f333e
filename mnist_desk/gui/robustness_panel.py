"""Robustness, in the Explore tab: test accuracy as the test images are damaged, for the
current model and any runs or checkpoint files beside it, with examples of the damage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.checkpoint import Checkpoint, load_checkpoint
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.experiments import DAMAGES as EXPERIMENT_DAMAGES
from mnist_desk.core.experiments import ArmResult, mean_curves, why_augmentation_helps
from mnist_desk.core.robustness import DAMAGES, Point, check, damaged, robustness
from mnist_desk.core.runs import RunLibrary
from mnist_desk.gui import dialogs
from mnist_desk.gui.background import BackgroundJob, ExperimentWorker, Worker
from mnist_desk.gui.curves import REFERENCE_COLOURS, chart_with_legend_row
from mnist_desk.gui.images import gray_image
from mnist_desk.gui.job_progress import JobProgress
from mnist_desk.gui.mnist_cache import MnistCache

CURRENT = "The current model"
EXAMPLES = (0, 1, 2)  # test images shown damaged at every level


@dataclass(frozen=True)
class Curve:
    name: str
    points: list[Point]


@dataclass(frozen=True)
class Measured:
    kind: str
    curves: list[Curve]
    examples: list[tuple[float, np.ndarray]]  # level, uint8 (len(EXAMPLES), 28, 28)


class RobustnessWorker(Worker):
    """finished(Measured); progress over all models and levels."""

    def __init__(
        self,
        models: list[tuple[str, Checkpoint]],
        kind: str,
        levels: list[float],
        cache: MnistCache,
        data_dir: str | None,
    ) -> None:
        super().__init__()
        self.models, self.kind, self.levels = models, kind, levels
        self.cache, self.data_dir = cache, data_dir

    def work(self) -> Measured:
        self.progress.emit(0, 0, "Reading MNIST…")
        data = self.cache.get(self.data_dir, stop=self.stop_event)
        shown = data.test_images[list(EXAMPLES)]
        examples = [
            (level, (damaged(shown, self.kind, level)[:, 0] * 255 + 0.5).byte().numpy())
            for level in self.levels
        ]
        curves = []
        for i, (name, checkpoint) in enumerate(self.models):

            def report(done: int, total: int, i: int = i, name: str = name) -> None:
                whole = total * len(self.models)
                self.progress.emit(i * total + done, whole, name)

            points = robustness(
                checkpoint.build_model(), data.test_images, data.test_labels, self.kind,
                self.levels, progress=report, stop=self.stop_event,
            )  # fmt: skip
            curves.append(Curve(name, points))
        return Measured(self.kind, curves, examples)


class RobustnessPanel(QWidget):
    """`current` gives the current model's name and checkpoint; `data_dir` the dataset
    folder chosen in the Train tab (the Explore tab hands both over from its workspace)."""

    def __init__(
        self,
        current: Callable[[], tuple[str, Checkpoint | None]],
        cache: MnistCache,
        runs: RunLibrary,
        data_dir: Callable[[], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("robustnessPanel")
        self.current, self.cache, self.runs, self.data_dir = current, cache, runs, data_dir
        self.curves: list[Curve] = []
        self._others: dict[str, Checkpoint] = {}  # name in the list -> checkpoint
        self._job: BackgroundJob[Worker] = BackgroundJob(self, self._on_job_done)
        self.experiment: list[ArmResult] = []  # why augmentation helps, once it has run
        self._build()
        self._on_damage_changed()

    # ---- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.damage = QComboBox()
        self.damage.setObjectName("damageKind")
        self.damage.setAccessibleName("Kind of damage")
        for d in DAMAGES.values():
            self.damage.addItem(f"{d.name.capitalize()} ({d.unit})", d.name)
            self.damage.setItemData(self.damage.count() - 1, d.what, Qt.ItemDataRole.ToolTipRole)
        self.damage.currentIndexChanged.connect(self._on_damage_changed)
        self.levels = QLineEdit()
        self.levels.setObjectName("damageLevels")
        self.levels.setAccessibleName("Severities, separated by commas")
        self.levels.setToolTip("Severities in the damage's unit, separated by commas")
        self.levels.returnPressed.connect(self.measure)
        self.measure_button = QPushButton("Measure")
        self.measure_button.setObjectName("measureRobustness")
        self.measure_button.setToolTip("Test accuracy of every model in the list at each level")
        self.measure_button.clicked.connect(self.measure)
        row = QHBoxLayout()
        row.addWidget(QLabel("Damage:"))
        row.addWidget(self.damage, 2)
        row.addWidget(QLabel("Levels:"))
        row.addWidget(self.levels, 1)
        row.addWidget(self.measure_button)
        self.experiment_button = QPushButton("Why Augmentation Helps…")
        self.experiment_button.setObjectName("augmentationExperiment")
        self.experiment_button.setToolTip(
            "Train the seed recipe with and without its augmentation, three seeds each "
            "(every run kept), then compare them under rotation and thickness"
        )
        self.experiment_button.clicked.connect(self._on_experiment_clicked)

        self.models = QListWidget()
        self.models.setObjectName("robustnessModels")
        self.models.setAccessibleName("Models to compare")
        self.models.setMaximumHeight(110)
        self.models.addItem(QListWidgetItem(CURRENT))
        add_file = QPushButton("Add Checkpoint…")
        add_file.clicked.connect(self._on_add_file_clicked)
        add_run = QPushButton("Add Run…")
        add_run.clicked.connect(self._on_add_run_clicked)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._on_remove_clicked)
        buttons = QVBoxLayout()
        for b in (add_file, add_run, remove, self.experiment_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        models_row = QHBoxLayout()
        models_row.addWidget(self.models, 1)
        models_row.addLayout(buttons)

        self.job = JobProgress()  # shown while a job runs: what, how far, time left, Cancel
        self.job.setObjectName("robustnessJob")
        self.job.cancel_requested.connect(self._on_cancel_requested)
        self.status = QLabel("Choose a damage and its levels, then Measure.")
        self.status.setObjectName("robustnessStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)

        self.chart, self.legend, self.plot = chart_with_legend_row(
            "robustnessChart", "Test accuracy against the severity of the damage", columns=2
        )
        self.plot.setLabel("left", "test accuracy (%)")

        self.examples = QHBoxLayout()
        self.examples.setSpacing(18)  # between levels
        examples_box = QWidget()
        examples_box.setObjectName("damageExamples")
        examples_box.setLayout(self.examples)

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(models_row)
        layout.addWidget(self.job)
        layout.addWidget(self.status)
        layout.addWidget(self.chart, 1)
        self.examples_label = QLabel("The first test images at each level:")
        self.examples_label.setVisible(False)  # until there are examples
        layout.addWidget(self.examples_label)
        layout.addWidget(examples_box)

    # ---- models ------------------------------------------------------------------------
    def _add(self, name: str, checkpoint: Checkpoint) -> None:
        base, n = name, 2
        while name in self._others or name == CURRENT:
            name, n = f"{base} ({n})", n + 1
        self._others[name] = checkpoint
        self.models.addItem(QListWidgetItem(name))

    def _on_add_file_clicked(self) -> None:
        path = dialogs.get_open_file_name(self, "Add Checkpoint", "", dialogs.CHECKPOINT_FILTER)
        if not path:
            return
        try:
            checkpoint = load_checkpoint(path)
        except MnistDeskError as exc:
            self.status.setText(f"Could not add it: {exc}")
            return
        self._add(checkpoint.name, checkpoint)

    def _on_add_run_clicked(self) -> None:
        runs = [r for r in self.runs.runs() if r.checkpoint_path is not None]
        if not runs:
            self.status.setText("No run in the library has a checkpoint yet.")
            return
        labels = [f"{r.name} ({r.id})" for r in runs]
        label, ok = QInputDialog.getItem(self, "Add Run", "Run:", labels, 0, False)
        if not ok:
            return
        run = runs[labels.index(label)]
        try:
            checkpoint = self.runs.checkpoint(run.id)
        except MnistDeskError as exc:
            self.status.setText(f"Could not add it: {exc}")
            return
        self._add(run.name or run.id, checkpoint)

    def add_checkpoint(self, name: str, checkpoint: Checkpoint) -> None:
        """Compare this model too (as Add Checkpoint does, without the dialog)."""
        self._add(name, checkpoint)

    def _on_remove_clicked(self) -> None:
        for item in self.models.selectedItems():
            if item.text() != CURRENT:
                self._others.pop(item.text(), None)
                self.models.takeItem(self.models.row(item))

    # ---- measuring ---------------------------------------------------------------------
    def _on_damage_changed(self) -> None:
        kind = self.damage.currentData()
        self.levels.setText(", ".join(f"{lv:g}" for lv in DAMAGES[kind].levels))
        self.plot.setLabel("bottom", f"{kind} ({DAMAGES[kind].unit})")
        levels = DAMAGES[kind].levels
        self.plot.setXRange(min(levels), max(levels), padding=0.05)
        self.plot.setYRange(0, 100, padding=0.02)
        if self.experiment and kind in EXPERIMENT_DAMAGES:
            self._show_experiment(kind)

    def parsed_levels(self) -> list[float]:
        try:
            levels = [float(p) for p in self.levels.text().split(",") if p.strip()]
        except ValueError:
            raise MnistDeskError("levels are numbers separated by commas") from None
        check(self.damage.currentData(), levels)
        return sorted(set(levels))

    def is_running(self) -> bool:
        return self._job.is_running()

    def measure(self) -> None:
        if self.is_running():
            return
        try:
            levels = self.parsed_levels()
        except MnistDeskError as exc:
            self.status.setText(str(exc))
            return
        models = [(n, c) for n, c in self._others.items()]
        name, checkpoint = self.current()
        if checkpoint is not None:
            models.insert(0, (f"{name} (current)", checkpoint))
        kind = self.damage.currentData()
        worker = RobustnessWorker(models, kind, levels, self.cache, self.data_dir())
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(lambda message: self.status.setText(f"Stopped: {message}"))
        self._start(
            worker, f"Damaging the test images ({kind}) for {len(models)} model(s)…", "Robustness"
        )

    def _start(self, worker: Worker, text: str, title: str) -> None:
        self.measure_button.setEnabled(False)
        self.experiment_button.setEnabled(False)
        self.job.start(title)
        self.status.setText(text)
        self._job.start(worker, name="robustnessThread")

    def _on_cancel_requested(self) -> None:
        self.job.cancelling()
        self._job.cancel()

    # ---- why augmentation helps ------------------------------------------------------------
    def _on_experiment_clicked(self) -> None:
        if self.is_running():
            return
        answer = QMessageBox.question(
            self,
            "Why Augmentation Helps",
            "This trains the seed recipe six times: three seeds with its augmentation "
            "(±15° rotation, an occasional zoom) and three without, about three minutes "
            "on a laptop's CPU. Every run is kept in the Runs tab. Then it measures all six "
            "on turned and on thinner or thicker test digits.\n\nStart?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.start_experiment()

    def start_experiment(self) -> None:
        """Run the experiment (no question asked)."""
        if self.is_running():
            return
        folder = self.data_dir()  # read here, in the GUI thread, as the run starts
        worker = ExperimentWorker(
            why_augmentation_helps, lambda stop: self.cache.get(folder, stop=stop), self.runs
        )
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_experiment_finished)
        worker.failed.connect(lambda message: self.status.setText(f"Stopped: {message}"))
        self._start(
            worker,
            "Training the seed recipe with and without augmentation…",
            "Why augmentation helps",
        )

    def _on_experiment_finished(self, results: list[ArmResult]) -> None:
        self.experiment = results
        kind = self.damage.currentData()
        if kind not in EXPERIMENT_DAMAGES:
            self.damage.setCurrentIndex(self.damage.findData("rotation"))  # shows it
        else:
            self._show_experiment(kind)

    def _show_experiment(self, kind: str) -> None:
        """Each arm's mean over its seeds (bold) and each seed (thin), under `kind`."""
        self.plot.clear()
        self.legend.clear()
        means = mean_curves(self.experiment, kind)
        for i, (arm, points) in enumerate(means.items()):
            colour = REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)]
            for r in self.experiment:
                if r.arm == arm:
                    self.plot.plot([p.level for p in r.points[kind]],
                                   [p.test_acc for p in r.points[kind]],
                                   pen=pg.mkPen(colour, width=1))  # fmt: skip
            self.plot.plot(
                [p.level for p in points], [p.test_acc for p in points],
                pen=pg.mkPen(colour, width=3), symbol="o", symbolSize=8, symbolBrush=colour,
                name=f"seed recipe {arm} (mean of {len(self.experiment) // len(means)})",
            )  # fmt: skip
        self.plot.setYRange(0, 100, padding=0.02)
        last = {arm: points[-1] for arm, points in means.items()}
        first = {arm: points[0] for arm, points in means.items()}
        text = "; ".join(
            f"{arm}: {first[arm].test_acc:.2f}% at {first[arm].level:g}, "
            f"{last[arm].test_acc:.2f}% at {last[arm].level:g}"
            for arm in means
        )
        self.status.setText(
            f"Why augmentation helps, {kind} ({DAMAGES[kind].unit}): {text}. The six runs "
            "are in the Runs tab; choose Rotation or Thickness above to switch."
        )

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self._job.cancel()
        return self._job.wait(timeout_ms)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.job.report(done, total, text)

    def _on_finished(self, measured: Measured) -> None:
        self.curves = curves = measured.curves
        self._show_examples(measured)
        plot = self.plot
        plot.clear()
        self.legend.clear()
        for i, curve in enumerate(curves):
            colour = REFERENCE_COLOURS[i % len(REFERENCE_COLOURS)]
            plot.plot(
                [p.level for p in curve.points],
                [p.test_acc for p in curve.points],
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=7,
                symbolBrush=colour,
                name=curve.name,
            )
        plot.setYRange(0, 100, padding=0.02)
        worst = min(curves, key=lambda c: c.points[-1].test_acc) if curves else None
        self.status.setText(
            "Measured on the test images."
            + (
                f" Hardest hit at the last level: {worst.name}."
                if len(curves) > 1 and worst
                else ""
            )
        )

    def _on_job_done(self) -> None:
        self.measure_button.setEnabled(True)
        self.experiment_button.setEnabled(True)
        self.job.finish()

    def _show_examples(self, measured: Measured) -> None:
        while self.examples.count():
            item = self.examples.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        unit = DAMAGES[measured.kind].unit
        self.examples_label.setVisible(bool(measured.examples))
        for level, pictures in measured.examples:
            column = QVBoxLayout()
            column.setContentsMargins(0, 0, 0, 0)
            row = QHBoxLayout()
            row.setSpacing(2)
            for array in pictures:
                label = QLabel()
                label.setPixmap(QPixmap.fromImage(gray_image(array)).scaled(48, 48))
                row.addWidget(label)
            column.addLayout(row)
            caption = QLabel(f"{level:g}")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            column.addWidget(caption)
            box = QWidget()
            box.setLayout(column)
            box.setToolTip(f"{measured.kind}: {level:g} ({unit})")
            self.examples.addWidget(box)
        self.examples.addStretch(1)
