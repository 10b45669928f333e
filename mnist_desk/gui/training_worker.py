"""Drives `core.training.Trainer` in a QThread and reports in plain data.

Per-batch metrics are buffered and sent as one signal twice a second, the rate at which
the Train tab redraws: each wake-up of the GUI thread takes the GIL from training, and
painting the curves takes a core from it (at 13 signals a second the GUI trained at 0.935
of the CLI's speed, at 4 at 0.88 with the curves shown and 0.97 hidden,
benchmarks/gui_responsiveness.py). Stop and pause are
threading.Events checked between batches: a queued signal could not reach this object
while its loop is busy. The model never leaves this thread; weights go out as CPU copies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from PySide6.QtCore import Signal

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST, describe_bytes
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.insides import Insides
from mnist_desk.core.metrics import BatchMetrics, EpochMetrics
from mnist_desk.core.model import count_parameters
from mnist_desk.core.runs import RunLibrary, RunRecorder, recorded
from mnist_desk.core.training import Trainer
from mnist_desk.gui.background import Worker
from mnist_desk.gui.mnist_cache import MnistCache
from mnist_desk.gui.threads import training_threads

EMIT_INTERVAL_S = 0.5
INSIDES_PROBE = 128  # training images the ReLUs are watched on


@dataclass(frozen=True)
class Continuation:
    """A run that finished, still in memory: its trainer (weights, optimiser, data on the
    device) and its recorder, so that it can train one more epoch."""

    trainer: Trainer
    recorder: RunRecorder | None


@dataclass(frozen=True)
class TrainingOutcome:
    """How a run ended: its model (None when stopped before any step), its run in the
    library (None if it could not be recorded), whether it was stopped early, and (when
    it finished) what one more epoch would go on from."""

    checkpoint: Checkpoint | None
    run_id: str | None
    stopped: bool
    record_problem: str = ""
    continuation: Continuation | None = None


class TrainingWorker(Worker):
    """finished(TrainingOutcome). On failure, the checkpoint of the last good epoch (or
    None) goes out with `salvaged` just before `failed`. The run is recorded in the runs
    library as it goes; `run_updated` says when its record changed. It trains at normal
    priority, with one thread fewer while the user draws (gui.threads)."""

    lowest_priority = False

    status_changed = Signal(str)
    batches_ready = Signal(list)  # list[BatchMetrics]
    epoch_finished = Signal(object, object)  # EpochMetrics, CPU state_dict
    salvaged = Signal(object)  # Checkpoint of the last good epoch, or None
    run_updated = Signal(str)  # the run's id
    insides_ready = Signal(object)  # core.insides.Snapshot, while `insides_every` is set

    def __init__(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        *,
        name: str,
        data_dir: str | None = None,
        cache: MnistCache | None = None,
        library: RunLibrary | None = None,
        preset: str = "custom",
        continuation: Continuation | None = None,
    ) -> None:
        """With `continuation`, the finished run it holds trains one more epoch (the
        configs given are then the run's own)."""
        super().__init__()
        self.model_config = model_config
        self.train_config = train_config
        self.name = name
        self.data_dir = data_dir
        self.cache = cache or MnistCache()
        self.library, self.preset = library, preset
        self.data: MNIST | None = None
        self.pause_event = threading.Event()
        self._last_progress = 0.0
        self.trainer: Trainer | None = None
        self.recorder: RunRecorder | None = None
        # a look inside every this many batches, 0: none (set while the panel is shown,
        # so that training with it hidden pays nothing)
        self.insides_every = 0
        self.delay_s = 0.0
        self._changes_recorded = 0
        self.continuation = continuation
        self._buffer: list[BatchMetrics] = []  # metrics not sent yet
        self._threads = 0  # the training thread's torch threads, once it trains

    # called from the GUI thread ---------------------------------------------------------
    def stop(self) -> None:
        self.cancel()

    def set_paused(self, paused: bool) -> None:
        if paused:
            self.pause_event.set()
        else:
            self.pause_event.clear()

    def step_once(self) -> None:
        """While paused: one more batch."""
        if self.trainer is not None:
            self.trainer.step_once()

    def set_delay(self, seconds: float) -> None:
        """Slow motion: a pause after every batch (0: none)."""
        self.delay_s = seconds
        if self.trainer is not None:
            self.trainer.delay_s = seconds

    def change_settings(self, **changes: float) -> None:
        """The learning rate, weight decay or momentum, from the next batch on."""
        if self.trainer is not None:
            self.trainer.change_settings(**changes)

    # runs in the worker thread ----------------------------------------------------------
    def work(self) -> TrainingOutcome:
        try:
            return self._train()
        except BaseException as exc:
            if self.recorder is not None:
                self.recorder.finish("failed", message=str(exc) or type(exc).__name__)
                self.run_updated.emit(self.recorder.id)
            if isinstance(exc, MnistDeskError):
                self.salvaged.emit(self._last_good_checkpoint())
            raise

    def _train(self) -> TrainingOutcome:
        if self.continuation is not None:
            trainer, metrics = self._continue(self.continuation)
        else:
            if self.cache.cached(self.data_dir) is None:
                self.status_changed.emit("Loading MNIST…")
            self.data = self.cache.get(
                self.data_dir, progress=self._on_download_progress, stop=self.stop_event
            )
            if self.stop_event.is_set():
                return TrainingOutcome(None, None, stopped=True)
            self.status_changed.emit("Preparing…")
            self.trainer = trainer = Trainer(
                self.model_config,
                self.train_config,
                self.data,
                stop_event=self.stop_event,
                pause_event=self.pause_event,
            )
            metrics = self._start_record(trainer)
            self.status_changed.emit("Training")
        trainer.delay_s = self.delay_s
        trainer.between_batches = self._between_batches
        self._threads = torch.get_num_threads()
        insides = Insides(trainer.model, trainer.probe_images(INSIDES_PROBE))
        buffer = self._buffer
        buffer.clear()
        last_emit = time.perf_counter()
        for m in metrics:
            if isinstance(m, EpochMetrics):
                self._flush(buffer)
                self.epoch_finished.emit(m, trainer.state_dict_cpu())
                if self.recorder is not None:
                    self.run_updated.emit(self.recorder.id)
                continue
            buffer.append(m)
            self._record_changes(trainer)
            every = self.insides_every
            if every and m.batch % every == 0:
                self.insides_ready.emit(insides.snapshot(trainer.model, m.progress, trainer.lr))
            now = time.perf_counter()
            # paused (a batch at a time) or slowed down: every batch is worth showing
            if now - last_emit >= EMIT_INTERVAL_S or self.pause_event.is_set() or trainer.delay_s:
                self._flush(buffer)
                last_emit = now
        self._flush(buffer)
        if trainer.test_result is None:  # stopped mid-epoch: judge the weights as they are
            self.status_changed.emit("Evaluating…")
        trainer.evaluate_test()
        checkpoint = trainer.to_checkpoint(self.name)
        return self._finish_record(checkpoint, trainer.stopped)

    def _continue(
        self, continuation: Continuation
    ) -> tuple[Trainer, Iterable[BatchMetrics | EpochMetrics]]:
        """One more epoch of a finished run, at the rate its schedule ended with."""
        self.trainer = trainer = continuation.trainer
        trainer.stop_event, trainer.pause_event = self.stop_event, self.pause_event
        lr = trainer.add_epochs(1)
        self.train_config = trainer.config
        self._changes_recorded = len(trainer.changes)
        self.recorder = recorder = continuation.recorder
        near_zero = " (near zero: raise it under While it trains to see it learn)"
        self.status_changed.emit(
            f"Training · epoch {trainer.config.epochs} at learning rate {lr:.3g}, "
            f"where the schedule ended{near_zero if lr < 1e-5 else ''}"
        )
        if recorder is None:
            return trainer, trainer
        recorder.extend(1, lr)
        self.run_updated.emit(recorder.id)
        return trainer, recorded(trainer, recorder, self.name)

    def _between_batches(self) -> None:
        """Before each batch: what a pause is about to hold is shown first; one thread
        fewer while the user draws, all again after."""
        if self.pause_event.is_set():
            self._flush(self._buffer)
        wanted = training_threads()
        if wanted != self._threads:
            torch.set_num_threads(wanted)
            self._threads = wanted

    def _record_changes(self, trainer: Trainer) -> None:
        """Settings changed during the run go into its record, with their batch."""
        while self._changes_recorded < len(trainer.changes):
            change = trainer.changes[self._changes_recorded]
            self._changes_recorded += 1
            if self.recorder is not None:
                self.recorder.add_event({"kind": "settings changed", **change})
            self.status_changed.emit(
                "Training · changed at batch {:.0f}: {}".format(
                    change["batch"],
                    ", ".join(f"{k} {v:g}" for k, v in change.items() if k != "batch"),
                )
            )

    def _start_record(self, trainer: Trainer) -> Iterable[BatchMetrics | EpochMetrics]:
        """The run in the library, if one can be made; the metrics, recorded as they come."""
        if self.library is None:
            return trainer
        try:
            self.recorder = RunRecorder.create(
                self.library,
                self.model_config,
                self.train_config,
                name=self.name,
                preset=self.preset,
                device=trainer.describe(),
                params=count_parameters(trainer.model),
            )
        except OSError as exc:
            self.status_changed.emit(f"Training (not recorded: {exc.strerror or exc})")
            return trainer
        self.run_updated.emit(self.recorder.id)
        return recorded(trainer, self.recorder, self.name)

    def _finish_record(self, checkpoint: Checkpoint, stopped: bool) -> TrainingOutcome:
        recorder = self.recorder
        trainer = self.trainer
        more = None if stopped or trainer is None else Continuation(trainer, recorder)
        if recorder is None:
            return TrainingOutcome(
                checkpoint, None, stopped, "the run could not be recorded", continuation=more
            )
        recorder.finish("stopped" if stopped else "finished", checkpoint if stopped else None)
        self.run_updated.emit(recorder.id)
        run_id = None if recorder.problem else recorder.id
        return TrainingOutcome(checkpoint, run_id, stopped, recorder.problem, more)

    def _on_download_progress(self, done: int, total: int, what: str) -> None:
        now = time.perf_counter()
        if now - self._last_progress >= EMIT_INTERVAL_S or done == total:
            self._last_progress = now
            self.status_changed.emit(f"Downloading MNIST: {describe_bytes(done, total)} ({what})")

    def _flush(self, buffer: list[BatchMetrics]) -> None:
        if buffer:
            self.batches_ready.emit(list(buffer))
            buffer.clear()

    def _last_good_checkpoint(self) -> Checkpoint | None:
        trainer = self.trainer
        if trainer is None or not trainer.history:
            return None
        trainer.evaluate_test()
        return trainer.to_checkpoint(self.name)
