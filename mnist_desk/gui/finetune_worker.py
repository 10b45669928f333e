"""Runs core.finetune in a worker thread: the user's digits, mixed with MNIST."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.finetune import finetune, finetune_config
from mnist_desk.core.samples import SampleStore
from mnist_desk.core.training import BatchMetrics, EpochMetrics
from mnist_desk.gui.mnist_cache import MnistCache
from mnist_desk.gui.threads import enter_worker_thread


class FinetuneWorker(QObject):
    progress = Signal(int, str)  # percent, what is going on
    finished = Signal(object, object)  # Checkpoint, FinetuneReport
    failed = Signal(str)

    def __init__(
        self, checkpoint: Checkpoint, store: SampleStore, cache: MnistCache, data_dir: str | None
    ) -> None:
        super().__init__()
        self.checkpoint, self.store, self.cache, self.data_dir = checkpoint, store, cache, data_dir
        self.stop_event = threading.Event()
        self._last = 0.0

    @Slot()
    def run(self) -> None:
        enter_worker_thread()
        try:
            self.progress.emit(0, "Reading your digits and MNIST…")
            mine = self.store.mnist_arrays()
            mnist = self.cache.get(self.data_dir)
            tuned, report = finetune(
                self.checkpoint, mine, mnist, stop_event=self.stop_event, progress=self._on_metrics
            )
            if self.stop_event.is_set():
                self.failed.emit("Stopped: the model was left as it was.")
                return
            self.finished.emit(tuned, report)
        except MnistDeskError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # never let the thread die silently
            self.failed.emit(f"Unexpected error: {exc!r}")

    def _on_metrics(self, m: BatchMetrics | EpochMetrics) -> None:
        now = time.perf_counter()
        if isinstance(m, BatchMetrics) and now - self._last > 0.2:
            self._last = now
            done = (m.epoch - 1 + m.batch / m.batches) / finetune_config().epochs
            self.progress.emit(int(100 * done), f"Teaching: epoch {m.epoch}, batch {m.batch}")
