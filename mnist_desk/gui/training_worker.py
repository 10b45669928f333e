"""Training for the Train tab: the run itself goes on in a child process of its own
(core.training_host, which says why), and a `TrainingWorker` in a QThread passes its
messages on as signals and the tab's controls to it.

Per-batch metrics come as one message twice a second, the rate at which the Train tab
redraws (core.training_job). The weights come out as CPU copies after each epoch. A
child process that stops answering is reported as a failure; the run's record, kept as
it went, stays in the library.

`prepare_host()` starts the next run's process ahead of time (when the Train tab is
shown), so that a run does not wait for it to import PyTorch. With `SEPARATE_PROCESS`
False, runs train in a thread of the app instead (the tests of the tab's logic).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.runs import RunLibrary
from mnist_desk.core.training_host import (
    Host,
    InputClock,
    ProcessHost,
    ThreadHost,
    shared_clock,
)
from mnist_desk.core.training_job import JobResult, JobSpec, Resumable
from mnist_desk.gui import threads
from mnist_desk.gui.background import Worker
from mnist_desk.gui.mnist_cache import MnistCache

SEPARATE_PROCESS = True
POLL_S = 0.1  # how often the worker looks for a stop or a host that has gone

# one idle host, ready for the next run. Each run trains in a fresh process: one that had
# trained before trained 2-6% slower (three runs of two epochs, side by side)
_spare: Host | None = None
_spare_lock = threading.Lock()
_clock: InputClock | None = None


def prepare_host() -> None:
    """Start the process the next run will train in, unless one is ready (GUI thread)."""
    global _spare
    if not SEPARATE_PROCESS:
        return
    with _spare_lock:
        if not _fits(_spare):
            if _spare is not None:
                _spare.close()
            _spare = _new_host(MnistCache())


def _input_clock() -> InputClock:
    """The time of the last change of the drawing, in memory the training processes
    read: they give a thread back while the user draws, as a thread of the app would."""
    global _clock
    if _clock is None:
        _clock = shared_clock()
        threads.share_input_clock(_clock)
    return _clock


def _fits(host: Host | None) -> bool:
    """A host that can take the next run: alive, and of the kind runs train in now."""
    return host is not None and host.alive() and isinstance(host, ProcessHost) == SEPARATE_PROCESS


def _new_host(cache: MnistCache) -> Host:
    if SEPARATE_PROCESS:
        return ProcessHost(_input_clock(), threads.work_threads(), threads.INPUT_HOLD_S)

    def load(data_dir: str | None, progress: Any, stop: threading.Event) -> MNIST:
        return cache.get(data_dir, progress=progress, stop=stop)

    return ThreadHost(load, threads.training_threads, lambda: threads.enter_worker_thread(False))


def _take_host(cache: MnistCache) -> Host:
    global _spare
    with _spare_lock:
        host, _spare = _spare, None
    if _fits(host):
        return host  # type: ignore[return-value]
    if host is not None:
        host.close()
    return _new_host(cache)


def release_spare() -> None:
    """Let the idle host go (quitting)."""
    global _spare
    with _spare_lock:
        host, _spare = _spare, None
    if host is not None:
        host.close()


class _DidNotStart(MnistDeskError):
    def __init__(self, code: int | None) -> None:
        super().__init__("the training process ended before it started")
        self.code = code


@dataclass
class Continuation:
    """A run that finished, still held where it trained (`host`), so that it can train
    one more epoch: what it would go on with (`run`)."""

    host: Host
    run: Resumable

    def close(self) -> None:
        """It will not go on: its process (trainer, data) ends."""
        self.host.close()


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
    None) goes out with `salvaged` just before `failed`; `run_kept` then says whether the
    run is in the library. The run is recorded in the runs library as it goes;
    `run_updated` says when its record changed."""

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
        self.continuation = continuation
        # the run's plan: one epoch more when it goes on
        self.train_config = (
            dataclasses.replace(train_config, epochs=train_config.epochs + 1)
            if continuation
            else train_config
        )
        self.spec = JobSpec(
            model_config,
            train_config,
            name,
            data_dir,
            library.folder if library is not None else None,
            preset,
        )
        self.cache = cache or MnistCache()
        self.host = continuation.host if continuation else _take_host(self.cache)
        self._lock = threading.Lock()
        self._started = False
        self._controls: list[tuple[Any, ...]] = []  # every control, to send again if need be
        self._heard = False  # whether the host has said anything yet
        self._delay_s = 0.0
        self._insides_every = 0
        self._threads = 0  # the torch threads training uses (as the host last said)
        self.run_id: str | None = None
        self.run_kept = False

    # called from the GUI thread ---------------------------------------------------------
    def _control(self, *message: Any) -> None:
        with self._lock:
            self._controls.append(message)
            if self._started:
                self.host.send(message)

    def cancel(self) -> None:
        super().cancel()
        self._control("stop")

    def stop(self) -> None:
        self.cancel()

    def set_paused(self, paused: bool) -> None:
        self._control("pause", paused)

    def step_once(self) -> None:
        """While paused: one more batch."""
        self._control("step")

    @property
    def delay_s(self) -> float:
        return self._delay_s

    @delay_s.setter
    def delay_s(self, seconds: float) -> None:
        self.set_delay(seconds)

    def set_delay(self, seconds: float) -> None:
        """Slow motion: a pause after every batch (0: none)."""
        self._delay_s = seconds
        self._control("delay", seconds)

    @property
    def insides_every(self) -> int:
        """A look inside every this many batches, 0: none (set while the panel is shown,
        so that training with it hidden pays nothing)."""
        return self._insides_every

    @insides_every.setter
    def insides_every(self, every: int) -> None:
        self._insides_every = every
        self._control("insides", every)

    def change_settings(self, **changes: float) -> None:
        """The learning rate, weight decay or momentum, from the next batch on."""
        self._control("settings", changes)

    # runs in the worker thread ----------------------------------------------------------
    def work(self) -> TrainingOutcome:
        host = self.host
        self._start_on(host)
        try:
            try:
                result = self._relay(host)
            except _DidNotStart as exc:
                host = self._fall_back(exc.code)
                result = self._relay(host)
        except BaseException:
            host.close()
            raise
        more = result.more
        if more is None:
            host.close()
            return TrainingOutcome(
                result.checkpoint, result.run_id, result.stopped, result.record_problem
            )
        return TrainingOutcome(
            result.checkpoint,
            result.run_id,
            result.stopped,
            result.record_problem,
            Continuation(host, more),
        )

    def _start_on(self, host: Host) -> None:
        """Send the job, then every control given so far, in order."""
        with self._lock:
            self.host = host
            start = ("more",) if self.continuation is not None else ("train", self.spec)
            sent = host.send(start)
            for message in self._controls:
                host.send(message)
            self._started = True
        if not sent and not isinstance(host, ProcessHost):
            raise MnistDeskError("Training could not start: its process has ended.")
        if self.continuation is None:  # until the process says more (a second or two)
            self.status_changed.emit("Starting…")

    def _fall_back(self, code: int | None) -> Host:
        """A training process that ended before it said anything will not start at all
        here (a main module it cannot import again, a sandbox that forbids processes):
        runs train in a thread of the app from now on."""
        global SEPARATE_PROCESS
        SEPARATE_PROCESS = False
        self.host.close()
        host = _new_host(self.cache)
        how = f" (exit code {code})" if code is not None else ""
        self._start_on(host)
        self.status_changed.emit(
            f"Training in the app's own process: a separate one could not start{how}"
        )
        return host

    def _relay(self, host: Host) -> JobResult:
        """Pass the host's messages on as signals until the run ends."""
        conn = host.conn
        while True:
            try:
                if not conn.poll(POLL_S):
                    if not host.alive():
                        raise self._gone(host)
                    continue
                kind, *payload = conn.recv()
            except (EOFError, OSError):
                raise self._gone(host) from None
            self._heard = True
            if kind == "batches":
                self.batches_ready.emit(payload[0])
            elif kind == "epoch":
                self.epoch_finished.emit(payload[0], payload[1])
            elif kind == "status":
                self.status_changed.emit(payload[0])
            elif kind == "run":
                self.run_id = payload[0]
                self.run_updated.emit(payload[0])
            elif kind == "insides":
                self.insides_ready.emit(payload[0])
            elif kind == "threads":
                self._threads = payload[0]
            elif kind == "salvaged":
                self.salvaged.emit(payload[0])
            elif kind == "failed":
                self.run_kept = bool(payload[1])
                raise MnistDeskError(payload[0])
            elif kind == "finished":
                result: JobResult = payload[0]
                return result

    def _gone(self, host: Host) -> MnistDeskError:
        code = host.exit_code()
        if not self._heard and self.continuation is None and isinstance(host, ProcessHost):
            return _DidNotStart(code)
        how = f" (exit code {code})" if code is not None else ""
        kept = "; the run is kept in the Runs tab up to its last epoch" if self.run_id else ""
        self.run_kept = self.run_id is not None
        return MnistDeskError(
            f"The training process ended unexpectedly{how}{kept}. Its memory may have run "
            "out, or it was stopped from outside the app."
        )


__all__ = ["Continuation", "TrainingOutcome", "TrainingWorker", "prepare_host"]
