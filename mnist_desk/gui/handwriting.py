"""Teaching the model the user's handwriting: keeping drawings with their true digit,
browsing them, and a background fine-tune whose result becomes the current model."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from mnist_desk.core.finetune import MIN_SAMPLES, FinetuneReport
from mnist_desk.gui.background import BackgroundJob
from mnist_desk.gui.finetune_worker import FinetuneWorker, Taught
from mnist_desk.gui.job_progress import JobProgress
from mnist_desk.gui.samples_dialog import SamplesDialog
from mnist_desk.gui.workspace import Workspace


class Handwriting(QObject):
    running_changed = Signal(bool)
    kept = Signal(int)  # the digit just kept
    finished = Signal(object)  # FinetuneReport, or None when it failed or was stopped

    def __init__(self, workspace: Workspace, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self.workspace, self.session, self.store = workspace, workspace.session, workspace.store
        self.parent_widget = parent_widget
        self.progress = JobProgress()
        self.progress.setObjectName("teachProgress")
        self.progress.cancel_requested.connect(self.stop)
        self._job: BackgroundJob[FinetuneWorker] = BackgroundJob(self, self._on_job_done)
        self.last_report: FinetuneReport | None = None

    # ---- keeping samples -----------------------------------------------------------------
    def keep(self, image: np.ndarray, digit: int) -> str:
        self.store.add(image, digit)
        self.kept.emit(digit)
        count = self.store.counts()[digit]
        return f"Kept as a {digit}: {count} of this digit, {len(self.store)} in all"

    def browse(self) -> None:
        dialog = SamplesDialog(self.store, self.parent_widget)
        dialog.exec()
        dialog.deleteLater()

    # ---- fine-tuning ---------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job.is_running()

    def start(self) -> None:
        if self.is_running() or self.session.checkpoint is None:
            return
        if len(self.store) < MIN_SAMPLES:
            QMessageBox.information(
                self.parent_widget,
                "Teach It My Handwriting",
                f"Keep at least {MIN_SAMPLES} of your own digits first: draw a digit the model "
                "gets wrong and press its key (or a button under the canvas) to keep it. "
                f"You have {len(self.store)}.",
            )
            return
        worker = FinetuneWorker(
            self.session.checkpoint,
            self.store,
            self.workspace.cache,
            self.workspace.data_dir,
            self.workspace.runs,
            self.session.run_id,
        )
        worker.progress.connect(self._on_worker_progress)
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        self.progress.start("Teaching your handwriting")
        self._job.start(worker, name="teachingThread")
        self.running_changed.emit(True)

    def stop(self) -> None:
        if self._job.is_running():
            self._job.cancel()
            self.progress.cancelling()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self.stop()
        return self._job.wait(timeout_ms)

    def _on_worker_progress(self, percent: int, total: int, text: str) -> None:
        self.progress.report(percent, total, text)

    def _on_worker_finished(self, taught: Taught) -> None:
        self.last_report = taught.report
        if taught.run_id is not None:
            self.session.set_from_run(taught.checkpoint, taught.run_id)
            kept = "It is kept in the Runs tab and is now the current model."
        else:
            self.session.set_trained(taught.checkpoint)
            kept = "It is now the current model (unsaved: the run could not be recorded)."
        self.workspace.runs_changed.emit()
        self.finished.emit(taught.report)
        QMessageBox.information(
            self.parent_widget, "Taught your handwriting", f"{taught.report.summary()}\n\n{kept}"
        )

    def _on_worker_failed(self, message: str) -> None:
        self.finished.emit(None)
        QMessageBox.warning(self.parent_widget, "Teach It My Handwriting", message)

    def _on_job_done(self) -> None:
        self.progress.finish()
        self.running_changed.emit(False)
