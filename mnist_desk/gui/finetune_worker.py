"""Runs core.finetune in a worker thread: the user's digits, mixed with MNIST."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.finetune import FinetuneReport, finetune, finetune_config
from mnist_desk.core.metrics import BatchMetrics, EpochMetrics
from mnist_desk.core.samples import SampleStore
from mnist_desk.gui.background import Worker
from mnist_desk.gui.mnist_cache import MnistCache


@dataclass(frozen=True)
class Taught:
    checkpoint: Checkpoint
    report: FinetuneReport


class FinetuneWorker(Worker):
    """finished(Taught); progress in percent."""

    def __init__(
        self, checkpoint: Checkpoint, store: SampleStore, cache: MnistCache, data_dir: str | None
    ) -> None:
        super().__init__()
        self.checkpoint, self.store, self.cache, self.data_dir = checkpoint, store, cache, data_dir
        self._last = 0.0

    def work(self) -> Taught:
        self.progress.emit(0, 100, "Reading your digits and MNIST…")
        mine = self.store.mnist_arrays()
        mnist = self.cache.get(self.data_dir, stop=self.stop_event)
        tuned, report = finetune(
            self.checkpoint, mine, mnist, stop_event=self.stop_event, progress=self._on_metrics
        )
        if self.cancelled():
            raise MnistDeskError("Stopped: the model was left as it was.")
        return Taught(tuned, report)

    def _on_metrics(self, m: BatchMetrics | EpochMetrics) -> None:
        now = time.perf_counter()
        if isinstance(m, BatchMetrics) and now - self._last > 0.2:
            self._last = now
            done = (m.epoch - 1 + m.batch / m.batches) / finetune_config().epochs
            self.progress.emit(int(100 * done), 100, f"Teaching: epoch {m.epoch}, batch {m.batch}")
