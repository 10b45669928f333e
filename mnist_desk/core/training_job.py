"""A run of training as a job that reports in messages: `emit(kind, *payload)`, each
payload plain data that pickles (core.training_host sends them from another process).

Kinds, in the order a run gives them:
  "status" (text) · "run" (run id: its record changed) · "threads" (torch threads used)
  · "batches" (list[BatchMetrics], twice a second, or every batch when paused or slowed
  down) · "insides" (core.insides.Snapshot, every `insides_every` batches while set)
  · "epoch" (EpochMetrics, the weights as a CPU state_dict) · "salvaged" (the last good
  epoch's Checkpoint or None, just before a failure) · then one of "finished"
  (JobResult) or "failed" (one line to show, whether the run is kept in the library).

The controls (pause, step, delay, new settings, stop, insides_every) may be called from
another thread while `run` trains; they take effect between two batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST, Progress, describe_bytes
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.insides import Insides
from mnist_desk.core.metrics import BatchMetrics, EpochMetrics
from mnist_desk.core.model import count_parameters
from mnist_desk.core.runs import RunLibrary, RunRecorder, recorded
from mnist_desk.core.training import Trainer

EMIT_INTERVAL_S = 0.5
INSIDES_PROBE = 128  # training images the ReLUs are watched on

Emit = Callable[..., None]
# load(data_dir, progress, stop) -> MNIST, raising DataError
Load = Callable[[str | None, Progress, threading.Event], MNIST]


@dataclass(frozen=True)
class JobSpec:
    """What to train, and where its run is recorded (runs: None, not recorded)."""

    model_config: ModelConfig
    train_config: TrainConfig
    name: str
    data_dir: str | None = None
    runs: Path | None = None
    preset: str = "custom"


@dataclass(frozen=True)
class JobResult:
    """How a run ended: its model (None when stopped before any step), its run's id (None
    if it could not be recorded), whether it was stopped early, and, when it finished and
    can train one more epoch, the settings it would go on with."""

    checkpoint: Checkpoint | None
    run_id: str | None
    stopped: bool
    record_problem: str = ""
    more: Resumable | None = None


@dataclass(frozen=True)
class Resumable:
    """A finished run, still held by the job: its configs (the training config as it
    ended), the learning rate its schedule ended with, and its name."""

    model_config: ModelConfig
    train_config: TrainConfig
    last_lr: float
    name: str


def failure_text(exc: BaseException) -> str:
    """One line to show for a failure: a MnistDeskError's message as it is, anything
    else named as an unexpected error."""
    if isinstance(exc, MnistDeskError):
        return str(exc)
    return f"Unexpected error: {exc!r}"


class TrainingJob:
    """One run (or one more epoch of a finished run, with `resume`)."""

    def __init__(
        self,
        spec: JobSpec,
        emit: Emit,
        load: Load,
        threads_wanted: Callable[[], int],
        *,
        resume: TrainingJob | None = None,
    ) -> None:
        self.spec = spec
        self.emit, self.load, self.threads_wanted = emit, load, threads_wanted
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self._last_progress = 0.0
        self.trainer: Trainer | None = resume.trainer if resume is not None else None
        self.recorder: RunRecorder | None = resume.recorder if resume is not None else None
        self.resuming = resume is not None
        # a look inside every this many batches, 0: none (set while the panel is shown,
        # so that training with it hidden pays nothing)
        self.insides_every = 0
        self.delay_s = 0.0
        self._changes_recorded = 0
        self._buffer: list[BatchMetrics] = []  # metrics not sent yet
        self._threads = 0  # the torch threads training uses, once it trains

    # controls, from any thread ------------------------------------------------------------
    def stop(self) -> None:
        self.stop_event.set()

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

    def resumable(self) -> Resumable | None:
        trainer = self.trainer
        if trainer is None or trainer.stopped:
            return None
        name = self.recorder.record["name"] if self.recorder is not None else self.spec.name
        return Resumable(trainer.model_config, trainer.config, trainer.last_lr, name)

    # the run ------------------------------------------------------------------------------
    def run(self) -> JobResult | None:
        """Train; the last message is "finished" or "failed". Returns the result, or None
        when it failed."""
        try:
            result = self._train()
        except BaseException as exc:
            if self.recorder is not None:
                self.recorder.finish("failed", message=str(exc) or type(exc).__name__)
                self.emit("run", self.recorder.id)
            if isinstance(exc, MnistDeskError):
                self.emit("salvaged", self._last_good_checkpoint())
            kept = self.recorder is not None and not self.recorder.problem
            self.emit("failed", failure_text(exc), kept)
            if not isinstance(exc, Exception):
                raise
            return None
        self.emit("finished", result)
        return result

    def _train(self) -> JobResult:
        if self.resuming:
            trainer, metrics = self._continue()
        else:
            self.emit("status", "Loading MNIST…")
            data = self.load(self.spec.data_dir, self._on_download_progress, self.stop_event)
            if self.stop_event.is_set():
                return JobResult(None, None, stopped=True)
            self.emit("status", "Preparing…")
            self.trainer = trainer = Trainer(
                self.spec.model_config,
                self.spec.train_config,
                data,
                stop_event=self.stop_event,
                pause_event=self.pause_event,
            )
            metrics = self._start_record(trainer)
            self.emit("status", "Training")
        trainer.delay_s = self.delay_s
        trainer.between_batches = self._between_batches
        self._threads = torch.get_num_threads()
        self.emit("threads", self._threads)
        insides = Insides(trainer.model, trainer.probe_images(INSIDES_PROBE))
        buffer = self._buffer
        buffer.clear()
        last_emit = time.perf_counter()
        for m in metrics:
            if isinstance(m, EpochMetrics):
                self._flush(buffer)
                self.emit("epoch", m, trainer.state_dict_cpu())
                if self.recorder is not None:
                    self.emit("run", self.recorder.id)
                continue
            buffer.append(m)
            self._record_changes(trainer)
            every = self.insides_every
            if every and m.batch % every == 0:
                self.emit("insides", insides.snapshot(trainer.model, m.progress, trainer.lr))
            now = time.perf_counter()
            # paused (a batch at a time) or slowed down: every batch is worth showing
            if now - last_emit >= EMIT_INTERVAL_S or self.pause_event.is_set() or trainer.delay_s:
                self._flush(buffer)
                last_emit = now
        self._flush(buffer)
        if trainer.test_result is None:  # stopped mid-epoch: judge the weights as they are
            self.emit("status", "Evaluating…")
        trainer.evaluate_test()
        checkpoint = trainer.to_checkpoint(self.spec.name)
        return self._finish_record(checkpoint, trainer.stopped)

    def _continue(self) -> tuple[Trainer, Iterable[BatchMetrics | EpochMetrics]]:
        """One more epoch of a finished run, at the rate its schedule ended with."""
        trainer = self.trainer
        assert trainer is not None
        trainer.stop_event, trainer.pause_event = self.stop_event, self.pause_event
        lr = trainer.add_epochs(1)
        self._changes_recorded = len(trainer.changes)
        recorder = self.recorder
        near_zero = " (near zero: raise it under While it trains to see it learn)"
        self.emit(
            "status",
            f"Training · epoch {trainer.config.epochs} at learning rate {lr:.3g}, "
            f"where the schedule ended{near_zero if lr < 1e-5 else ''}",
        )
        if recorder is None:
            return trainer, trainer
        recorder.extend(1, lr)
        self.emit("run", recorder.id)
        return trainer, recorded(trainer, recorder, self.spec.name)

    def _between_batches(self) -> None:
        """Before each batch: what a pause is about to hold is shown first; one thread
        fewer while the user draws, all again after."""
        if self.pause_event.is_set():
            self._flush(self._buffer)
        wanted = self.threads_wanted()
        if wanted != self._threads:
            torch.set_num_threads(wanted)
            self._threads = wanted
            self.emit("threads", wanted)

    def _record_changes(self, trainer: Trainer) -> None:
        """Settings changed during the run go into its record, with their batch."""
        while self._changes_recorded < len(trainer.changes):
            change = trainer.changes[self._changes_recorded]
            self._changes_recorded += 1
            if self.recorder is not None:
                self.recorder.add_event({"kind": "settings changed", **change})
            self.emit(
                "status",
                "Training · changed at batch {:.0f}: {}".format(
                    change["batch"],
                    ", ".join(f"{k} {v:g}" for k, v in change.items() if k != "batch"),
                ),
            )

    def _start_record(self, trainer: Trainer) -> Iterable[BatchMetrics | EpochMetrics]:
        """The run in the library, if one can be made; the metrics, recorded as they come."""
        spec = self.spec
        if spec.runs is None:
            return trainer
        try:
            self.recorder = RunRecorder.create(
                RunLibrary(spec.runs),
                spec.model_config,
                spec.train_config,
                name=spec.name,
                preset=spec.preset,
                device=trainer.describe(),
                params=count_parameters(trainer.model),
            )
        except OSError as exc:
            self.emit("status", f"Training (not recorded: {exc.strerror or exc})")
            return trainer
        self.emit("run", self.recorder.id)
        return recorded(trainer, self.recorder, spec.name)

    def _finish_record(self, checkpoint: Checkpoint, stopped: bool) -> JobResult:
        recorder = self.recorder
        more = None if stopped else self.resumable()
        if recorder is None:
            return JobResult(checkpoint, None, stopped, "the run could not be recorded", more)
        recorder.finish("stopped" if stopped else "finished", checkpoint if stopped else None)
        self.emit("run", recorder.id)
        run_id = None if recorder.problem else recorder.id
        return JobResult(checkpoint, run_id, stopped, recorder.problem, more)

    def _on_download_progress(self, done: int, total: int, what: str) -> None:
        now = time.perf_counter()
        if now - self._last_progress >= EMIT_INTERVAL_S or done == total:
            self._last_progress = now
            self.emit("status", f"Downloading MNIST: {describe_bytes(done, total)} ({what})")

    def _flush(self, buffer: list[BatchMetrics]) -> None:
        if buffer:
            self.emit("batches", list(buffer))
            buffer.clear()

    def _last_good_checkpoint(self) -> Checkpoint | None:
        trainer = self.trainer
        if trainer is None or not trainer.history:
            return None
        trainer.evaluate_test()
        return trainer.to_checkpoint(self.spec.name)


def controls(job: TrainingJob, message: tuple[Any, ...]) -> None:
    """Apply one control message to a job: ("stop",), ("pause", bool), ("step",),
    ("delay", seconds), ("settings", {name: value}), ("insides", every)."""
    kind, *args = message
    if kind == "stop":
        job.stop()
    elif kind == "pause":
        job.set_paused(bool(args[0]))
    elif kind == "step":
        job.step_once()
    elif kind == "delay":
        job.set_delay(float(args[0]))
    elif kind == "settings":
        job.change_settings(**args[0])
    elif kind == "insides":
        job.insides_every = int(args[0])
