"""The Train tab: the form, Train / Pause / Stop, live curves, progress with ETA, and a
table of epochs. Training runs in a child process, spoken to by a TrainingWorker in a QThread
(gui.training_worker)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.checkpoint import Checkpoint, describe_accuracy
from mnist_desk.core.device import available_devices
from mnist_desk.core.metrics import BatchMetrics, EpochMetrics
from mnist_desk.gui.augment_preview import AugmentPreview
from mnist_desk.gui.background import BackgroundJob
from mnist_desk.gui.curves import TrainingCurves
from mnist_desk.gui.dataset_box import DatasetBox
from mnist_desk.gui.live_knobs import LiveKnobs
from mnist_desk.gui.train_form import TrainForm
from mnist_desk.gui.training_insides import TrainingInsides
from mnist_desk.gui.training_worker import (
    Continuation,
    TrainingOutcome,
    TrainingWorker,
    prepare_host,
    release_spare,
)
from mnist_desk.gui.wheel_guard import WheelGuard, guard_wheel
from mnist_desk.gui.workspace import Workspace

TABLE_COLUMNS = ["Epoch", "Train loss", "Train acc", "Test loss", "Test acc", "Time", "LR"]


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainTab(QWidget):
    running_changed = Signal(bool)
    finished = Signal()  # the worker thread has ended (normally, stopped or failed)
    train_requested = Signal()  # Train pressed: the window checks nothing unkept is lost
    more_requested = Signal()  # One More Epoch pressed: the same check first
    more_available = Signal(bool)  # whether One More Epoch has a run to go on with
    device_changed = Signal()  # the device chosen in the form

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainTab")
        self.workspace, self.session = workspace, workspace.session
        self._job: BackgroundJob[TrainingWorker] = BackgroundJob(self, self._on_job_done)
        self._paused = False
        self._train_allowed = True
        self._started_at = 0.0
        self._latest: BatchMetrics | None = None
        self._salvaged: Checkpoint | None = None  # a failed run's last good epoch
        self._stopped: TrainingOutcome | None = None  # a stopped run the user may choose
        self._continuation: Continuation | None = None  # a finished run that can go on
        # everything the run shows is redrawn when metrics arrive, twice a second
        # whatever the batch rate: painting competes with training for the CPU
        # (benchmarks/gui_responsiveness.py)
        self._build(available_devices())

    # ---- layout ------------------------------------------------------------------------
    def _build(self, devices: Sequence[str]) -> None:
        self.form = TrainForm(devices)
        self.form.device_changed.connect(self.device_changed)
        self.dataset = DatasetBox()
        self.dataset.folder_changed.connect(self.workspace.set_data_dir)
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(self.form)
        settings_layout.addWidget(self.dataset)
        settings_layout.addStretch(1)
        self._wheel_guard = WheelGuard(self)
        guard_wheel(settings, self._wheel_guard)
        scroll = QScrollArea()
        scroll.setObjectName("trainFormScroll")
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(settings.sizeHint().width() + 24)

        self.train_button = QPushButton(QIcon(":/icons/play.svg"), "Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setAccessibleName("Start training")
        self.train_button.setToolTip("Train a new model with these settings (Ctrl+T)")
        self.pause_button = QPushButton(QIcon(":/icons/pause.svg"), "Pause")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.setAccessibleName("Pause or resume training")
        self.pause_button.setToolTip("Hold the training between two batches, and go on again")
        self.stop_button = QPushButton(QIcon(":/icons/stop.svg"), "Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setAccessibleName("Stop training")
        self.stop_button.setToolTip(
            "Stop after the current batch. The run is kept; the model you had stays current "
            "unless you choose the stopped run's"
        )
        self.train_button.clicked.connect(self.train_requested)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        buttons = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addLayout(buttons)
        self.knobs = LiveKnobs()
        self.knobs.settings_changed.connect(self._on_knobs_settings_changed)
        self.knobs.step_requested.connect(self._on_knobs_step_requested)
        self.knobs.delay_changed.connect(self._on_knobs_delay_changed)
        left_layout.addWidget(self.knobs)

        self.curves = TrainingCurves()
        self.augment_preview = AugmentPreview(self.workspace.cache, lambda: self.workspace.data_dir)
        self.views = QTabWidget()
        self.views.setObjectName("trainViews")
        self.views.addTab(self.curves, "Curves")
        self.views.addTab(self.augment_preview, "Augmentation preview")
        self.insides = TrainingInsides()
        self.insides.shown_changed.connect(self._on_insides_shown_changed)
        self.views.addTab(self.insides, "Inside the training")
        self.form.changed.connect(
            lambda: self.augment_preview.set_config(self.form.configs()[1].augment)
        )
        self.progress = QProgressBar()
        self.progress.setObjectName("trainProgress")
        self.progress.setAccessibleName("Training progress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("Ready")
        self.progress.setValue(0)
        self.status_label = QLabel("Set the recipe and press Train.")
        self.status_label.setObjectName("trainStatus")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        self.use_button = QPushButton("Use This Model")
        self.use_button.setObjectName("useStoppedModel")
        self.use_button.setToolTip("Make the stopped run's model the current one")
        self.use_button.setVisible(False)
        self.use_button.clicked.connect(self.use_stopped_model)
        self.more_button = QPushButton(QIcon(":/icons/play.svg"), "One More Epoch")
        self.more_button.setObjectName("oneMoreEpochButton")
        self.more_button.setToolTip(
            "Train the run that just finished for one more epoch, at the learning rate its "
            "schedule ended with; the run and the current model grow by that epoch "
            "(Ctrl+Shift+T)"
        )
        self.more_button.setVisible(False)
        self.more_button.clicked.connect(self.more_requested)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.use_button)
        status_row.addWidget(self.more_button)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setObjectName("epochTable")
        self.table.setAccessibleName("Results per epoch")
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(80)

        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("trainRightSplitter")
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.views, 1)
        top_layout.addWidget(self.progress)
        top_layout.addLayout(status_row)
        right.addWidget(top)
        right.addWidget(self.table)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("trainSplitter")
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)
        self._set_running(False)

    # ---- state -------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job.is_running()

    def set_train_allowed(self, allowed: bool) -> None:
        """Whether Train may start a run (not while the handwriting is being taught)."""
        self._train_allowed = allowed
        self.train_button.setEnabled(allowed and not self.is_running())
        self.more_button.setVisible(self.can_train_more())

    def device_choice(self) -> str:
        """The device the form would train on: auto, cpu, cuda or mps."""
        return self.form.device()

    def _set_running(self, running: bool) -> None:
        self.train_button.setEnabled(self._train_allowed and not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.form.setEnabled(not running)
        self.dataset.setEnabled(not running)
        self.knobs.set_running(running, paused=False)
        self.more_button.setVisible(self.can_train_more())
        if not running:
            self._paused = False
            self.pause_button.setText("Pause")
            self.pause_button.setIcon(QIcon(":/icons/pause.svg"))
        self.running_changed.emit(running)

    # ---- training ----------------------------------------------------------------------
    def can_train_more(self) -> bool:
        """Whether One More Epoch has a finished run to go on with."""
        return self._continuation is not None and self._train_allowed and not self.is_running()

    def start_training(self) -> None:
        if self.is_running() or not self._train_allowed:
            return
        model_cfg, train_cfg = self.form.configs()
        name = f"{model_cfg.arch} CNN trained {time.strftime('%Y-%m-%d %H:%M')}"
        self._set_continuation(None)  # the run that finished can go, and its process
        worker = TrainingWorker(
            model_cfg,
            train_cfg,
            name=name,
            data_dir=self.workspace.data_dir,
            cache=self.workspace.cache,
            library=self.workspace.runs,
            preset=self.form.current_preset() or "custom",
        )
        self.curves.reset()
        self.insides.reset()
        self.table.setRowCount(0)
        self._start(worker)

    def train_one_more_epoch(self) -> None:
        """The run that finished last trains one more epoch (its curves and table go on)."""
        continuation = self._continuation
        if continuation is None or self.is_running() or not self._train_allowed:
            return
        worker = TrainingWorker(
            continuation.run.model_config,
            continuation.run.train_config,
            name=continuation.run.name,
            library=self.workspace.runs,
            continuation=continuation,
        )
        self._continuation = None  # until this epoch has finished too (its host goes on)
        self._set_continuation(None)
        self._start(worker)

    def _set_continuation(self, continuation: Continuation | None) -> None:
        """The run One More Epoch goes on with; the one held before, if another, is let go
        (its process, with its trainer and data, ends)."""
        old, self._continuation = self._continuation, continuation
        if old is not None and old is not continuation:
            old.close()
        self.more_button.setVisible(self.can_train_more())
        self.more_available.emit(self.can_train_more())

    def _start(self, worker: TrainingWorker) -> None:
        train_cfg = worker.train_config
        worker.run_updated.connect(lambda _run_id: self.workspace.runs_changed.emit())
        worker.status_changed.connect(self._on_worker_status_changed)
        worker.batches_ready.connect(self._on_worker_batches_ready)
        worker.insides_ready.connect(self.insides.add)
        worker.delay_s = self.knobs.slow.value() / 1000
        self.knobs.start(train_cfg)
        if worker.continuation is not None:  # it goes on where the schedule ended
            self.knobs.lr.setValue(worker.continuation.run.last_lr)
        worker.insides_every = self.insides.every if self.insides.isVisible() else 0
        worker.epoch_finished.connect(self._on_worker_epoch_finished)
        worker.finished.connect(self._on_worker_finished)
        worker.salvaged.connect(self._on_worker_salvaged)
        worker.failed.connect(self._on_worker_failed)
        self.curves.set_epochs(train_cfg.epochs)
        self.curves.set_live(True)
        self._latest = None
        self._salvaged = None
        self._stopped = None
        self.use_button.setVisible(False)
        self.progress.setRange(0, 0)  # busy until the first batch
        self._started_at = time.perf_counter()
        self._job.start(worker, name="trainingThread")
        self._set_running(True)

    def _on_knobs_settings_changed(self, changes: dict[str, float]) -> None:
        if self._job.worker is not None:
            self._job.worker.change_settings(**changes)

    def _on_knobs_step_requested(self) -> None:
        if self._job.worker is not None and self._paused:
            self._job.worker.step_once()

    def _on_knobs_delay_changed(self, seconds: float) -> None:
        if self._job.worker is not None:
            self._job.worker.set_delay(seconds)

    def _on_insides_shown_changed(self, shown: bool) -> None:
        worker = self._job.worker
        if worker is not None:
            worker.insides_every = self.insides.every if shown else 0

    def stop_training(self) -> None:
        if self._job.worker is not None:
            self._job.worker.stop()
            self.status_label.setText("Stopping after this batch…")

    def toggle_pause(self) -> None:
        if self._job.worker is None:
            return
        self._paused = not self._paused
        self._job.worker.set_paused(self._paused)
        self.pause_button.setText("Resume" if self._paused else "Pause")
        self.pause_button.setIcon(
            QIcon(":/icons/play.svg" if self._paused else ":/icons/pause.svg")
        )
        self.status_label.setText("Paused" if self._paused else "Training")
        self.knobs.set_running(True, paused=self._paused)
        if self._latest is not None:
            self.progress.setFormat(self._progress_text(self._latest))

    def is_paused(self) -> bool:
        return self._paused

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop and wait for the thread (for quitting); True when nothing is left running.
        The finished run held for One More Epoch is let go."""
        self.stop_training()
        done = self._job.wait(timeout_ms)
        self._set_continuation(None)
        return done

    # ---- worker signals (queued into this thread) ---------------------------------------
    def _on_worker_status_changed(self, text: str) -> None:
        self.status_label.setText(text)

    def _on_worker_batches_ready(self, batches: list[BatchMetrics]) -> None:
        # they come twice a second: one redraw per arrival, no timer of its own
        self.curves.append_batches(batches)
        self._latest = batches[-1]
        self._refresh_display()

    def _refresh_display(self) -> None:
        self.curves.refresh()
        last = self._latest
        if last is None:
            return
        self.progress.setRange(0, last.batches * self._epochs_planned())
        self.progress.setValue((last.epoch - 1) * last.batches + last.batch)
        self.progress.setFormat(self._progress_text(last))

    def _epochs_planned(self) -> int:
        worker = self._job.worker
        return worker.train_config.epochs if worker else 1  # with one more epoch, grown

    def _progress_text(self, m: BatchMetrics) -> str:
        epochs = self._epochs_planned()
        if self._paused:  # no speed and no time left while nothing moves
            return f"Paused at epoch {m.epoch}/{epochs} · batch {m.batch}/{m.batches}"
        remaining_batches = (epochs - m.epoch) * m.batches + (m.batches - m.batch)
        worker = self._job.worker
        batch_size = worker.train_config.batch_size if worker else 64
        eta = remaining_batches * batch_size / max(m.samples_per_s, 1e-9)
        return (
            f"Epoch {m.epoch}/{epochs} · batch {m.batch}/{m.batches} · "
            f"{m.samples_per_s:,.0f} samples/s · ETA {format_duration(eta)}"
        )

    def _on_worker_epoch_finished(self, m: EpochMetrics, state: dict[str, torch.Tensor]) -> None:
        self.curves.add_epoch(m)
        self._add_table_row(m)
        if self._job.worker is not None:
            self.session.preview_weights(
                self._job.worker.model_config, state, f"the model in training (epoch {m.epoch})"
            )

    def _add_table_row(self, m: EpochMetrics) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        values = [
            str(m.epoch),
            f"{m.train_loss:.4f}",
            f"{m.train_acc:.2f}%",
            f"{m.test_loss:.4f}",
            f"{m.test_acc:.2f}%",
            f"{m.seconds:.1f} s",
            f"{m.lr:.2g}",
        ]
        for col, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(row, col, item)
        self.table.scrollToBottom()

    def _on_worker_finished(self, outcome: TrainingOutcome) -> None:
        elapsed = format_duration(time.perf_counter() - self._started_at)
        checkpoint = outcome.checkpoint
        if checkpoint is None:
            self.status_label.setText("Stopped before training began.")
            self.session.restore_predictor()
            return
        acc = describe_accuracy(checkpoint.test_acc)
        kept = "kept in the Runs tab" if outcome.run_id else f"not kept: {outcome.record_problem}"
        if outcome.stopped:  # the user's model stays current unless they choose this one
            self.session.restore_predictor()
            self._stopped = outcome
            self.use_button.setVisible(True)
            done = len(checkpoint.history)
            self.status_label.setText(
                f"Stopped after {elapsed}, {done} of {self._epochs_planned()} epochs done: "
                f"test accuracy {acc} (the weights when stopped). The run is {kept}; the "
                "model you had is still the current one."
            )
            return
        self._make_current(outcome)
        self._set_continuation(outcome.continuation)
        self.status_label.setText(
            f"Finished after {elapsed}: test accuracy {acc}. The run is {kept}, and its "
            "model is now the current one."
        )

    def _make_current(self, outcome: TrainingOutcome) -> None:
        if outcome.checkpoint is None:
            return
        if outcome.run_id is not None:
            self.session.set_from_run(outcome.checkpoint, outcome.run_id)
        else:  # kept nowhere: the window will ask before it is replaced or closed
            self.session.set_trained(outcome.checkpoint)

    def use_stopped_model(self) -> None:
        """Make the model of the run just stopped the current one."""
        if self._stopped is not None:
            self._make_current(self._stopped)
            self.status_label.setText("The stopped run's model is now the current one.")
        self._stopped = None
        self.use_button.setVisible(False)

    def _on_worker_salvaged(self, checkpoint: Checkpoint | None) -> None:
        self._salvaged = checkpoint

    def _on_worker_failed(self, message: str) -> None:
        worker = self._job.worker
        if worker is not None and worker.cancelled() and self._salvaged is None:
            # stopped while MNIST was loading or downloading: nothing failed
            self.session.restore_predictor()
            self.status_label.setText("Stopped before training began.")
            return
        self.session.restore_predictor()
        if worker is not None and worker.run_kept:
            message += (
                "\n\nThe run is kept in the Runs tab with its last good epoch; the model you "
                "had is still the current one."
            )
        elif self._salvaged is not None:
            self.session.set_trained(self._salvaged)
            message += "\n\nThe model of the last good epoch is now the current model (unsaved)."
        self.status_label.setText("Training failed.")
        QMessageBox.critical(self, "Training failed", message)

    def _on_job_done(self) -> None:
        if self.isVisible():
            prepare_host()  # the next run's process, started while nothing trains
        self.curves.refresh()  # the last batches; the progress bar is reset below
        self.curves.set_live(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.table.rowCount() else 0)
        ended = "Stopped" if self._stopped is not None else "Done"
        self.progress.setFormat(ended if self.table.rowCount() else "Ready")
        self._set_running(False)
        self.finished.emit()

    # ---- a finished run's history (from a checkpoint) -------------------------------------
    def show_history(self, checkpoint: Checkpoint | None) -> None:
        """Show a finished run's curves and epochs (the current model's)."""
        if self.is_running() or checkpoint is None:
            return
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Ready")  # the run shown is not one that just ended here
        self.use_button.setVisible(False)
        self._stopped = None
        self._set_continuation(None)  # another model shown: the run that finished is done
        self.curves.set_history(checkpoint.history, checkpoint.batch_curve)
        self.table.setRowCount(0)
        for m in checkpoint.history:
            self._add_table_row(m)
        n = len(checkpoint.history)
        self.status_label.setText(
            f"History of {checkpoint.name}: {n} epoch{'s' * (n != 1)}."
            if n
            else f"{checkpoint.name} has no training history."
        )

    # ---- settings --------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {**self.form.to_settings(), "data_dir": self.workspace.data_dir or ""}

    def restore_settings(self, data: dict[str, Any]) -> bool:
        """Restore what settings() gave; False (defaults kept) when it is damaged."""
        folder = data.get("data_dir") or ""
        self.dataset.set_folder(folder if isinstance(folder, str) else "")
        return self.form.from_settings(data) and isinstance(folder, str)

    def prepare(self) -> None:
        """The user may train soon: start the process a run trains in, if none is ready."""
        prepare_host()

    def release(self) -> None:
        """Quitting: let the processes held for training go."""
        self._set_continuation(None)
        release_spare()

    def shutdown_jobs(self, timeout_ms: int) -> bool:
        """Cancel the other jobs of this tab (preview loading, download); True when done."""
        return self.augment_preview.shutdown(timeout_ms) and self.dataset.shutdown(timeout_ms)
