"""Runs core.finetune in a worker thread: the user's digits, mixed with MNIST."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.finetune import FinetuneReport, finetune, finetune_config
from mnist_desk.core.metrics import BatchMetrics, EpochMetrics
from mnist_desk.core.model import count_parameters
from mnist_desk.core.runs import RunLibrary, RunRecorder
from mnist_desk.core.samples import SampleStore
from mnist_desk.core.text import plural
from mnist_desk.gui.background import Worker
from mnist_desk.gui.mnist_cache import MnistCache


@dataclass(frozen=True)
class Taught:
    checkpoint: Checkpoint
    report: FinetuneReport
    run_id: str | None  # the fine-tune's run in the library (None: not recorded)


class FinetuneWorker(Worker):
    """finished(Taught); progress in percent. The fine-tune is recorded as a run, linked to
    the run the model came from (`parent`)."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        store: SampleStore,
        cache: MnistCache,
        data_dir: str | None,
        library: RunLibrary | None = None,
        parent: str | None = None,
    ) -> None:
        super().__init__()
        self.checkpoint, self.store, self.cache, self.data_dir = checkpoint, store, cache, data_dir
        self.library, self.parent_run = library, parent
        self._last = 0.0

    def work(self) -> Taught:
        self.progress.emit(0, 100, "Reading your digits and MNIST…")
        mine = self.store.mnist_arrays()
        mnist = self.cache.get(self.data_dir, stop=self.stop_event)
        recorder = self._recorder(len(mine[1]))
        try:
            tuned, report = finetune(
                self.checkpoint,
                mine,
                mnist,
                stop_event=self.stop_event,
                progress=self._on_metrics,
                recorder=recorder,
            )
        except BaseException as exc:
            if recorder is not None:
                recorder.finish("failed", message=str(exc))
            raise
        if self.cancelled():
            if recorder is not None:
                recorder.finish("stopped")
            raise MnistDeskError("Stopped: the model was left as it was.")
        if recorder is not None:
            recorder.finish("finished")
        run_id = recorder.id if recorder is not None and not recorder.problem else None
        return Taught(tuned, report, run_id)

    def _recorder(self, samples: int) -> RunRecorder | None:
        if self.library is None:
            return None
        try:
            return RunRecorder.create(
                self.library,
                self.checkpoint.model_config,
                finetune_config(),
                name=f"{self.checkpoint.name}, taught your handwriting "
                f"({plural(samples, 'digit')})",
                preset="teach",
                device="CPU",
                params=count_parameters(self.checkpoint.build_model()),
                parent=self.parent_run,
            )
        except OSError:
            return None

    def _on_metrics(self, m: BatchMetrics | EpochMetrics) -> None:
        now = time.perf_counter()
        if isinstance(m, BatchMetrics) and now - self._last > 0.2:
            self._last = now
            done = (m.epoch - 1 + m.batch / m.batches) / finetune_config().epochs
            epochs = finetune_config().epochs
            self.progress.emit(int(100 * done), 100, f"epoch {m.epoch} of {epochs}")
