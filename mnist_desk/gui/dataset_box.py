"""The Dataset group of the Train tab: which MNIST folder, whether it was found, and a
download button. The Train tab hands the folder on to the workspace, shared by every tab."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.data import describe_bytes, download_mnist, resolve_data_dir, user_cache_dir
from mnist_desk.core.errors import DataError
from mnist_desk.gui import dialogs
from mnist_desk.gui.background import BackgroundJob, Worker


class DownloadWorker(Worker):
    """finished(Path): the folder MNIST was downloaded into."""

    def __init__(self, folder: str | None) -> None:
        super().__init__()
        self.folder = folder

    def work(self) -> Path:
        return download_mnist(self.folder, progress=self._report, stop=self.stop_event)

    def _report(self, done: int, total: int, what: str) -> None:
        self.progress.emit(done, total, what)


class DatasetBox(QGroupBox):
    """Shows and edits the dataset folder; `folder_changed` carries the new text."""

    folder_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Dataset", parent)
        self._job: BackgroundJob[DownloadWorker] = BackgroundJob(self, self._on_job_done)
        self.data_dir = QLineEdit()
        self.data_dir.setObjectName("dataDir")
        self.data_dir.setAccessibleName("MNIST folder")
        self.data_dir.setPlaceholderText("automatic (MNIST_DESK_DATA, then the cache)")
        self.data_dir.setClearButtonEnabled(True)
        self.data_dir.setToolTip(
            "A folder with MNIST's four IDX files (gzipped or not); empty: MNIST_DESK_DATA, "
            "then the cache, downloading there if needed"
        )
        browse = QToolButton()
        browse.setIcon(QIcon(":/icons/folder.svg"))
        browse.setText("Browse…")
        browse.setToolTip("Choose a folder with MNIST's four IDX files")
        browse.setAccessibleName("Browse for the MNIST folder")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(browse)
        self.data_status = QLabel()
        self.data_status.setObjectName("dataStatus")
        self.data_status.setWordWrap(True)
        self.data_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = QPushButton(QIcon(":/icons/download.svg"), "Download MNIST")
        self.download_button.setObjectName("downloadButton")
        self.download_button.setToolTip("Download the four files with torchvision (needs internet)")
        self.download_button.clicked.connect(self._on_download_clicked)
        self.download_progress = QProgressBar()
        self.download_progress.setObjectName("downloadProgress")
        self.download_progress.setAccessibleName("Download progress")
        self.download_progress.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.data_status)
        layout.addWidget(self.download_button)
        layout.addWidget(self.download_progress)
        self.data_dir.editingFinished.connect(self.refresh_status)
        self.data_dir.textChanged.connect(self.folder_changed)

    def folder(self) -> str | None:
        return self.data_dir.text().strip() or None

    def set_folder(self, folder: str) -> None:
        self.data_dir.setText(folder)
        self.refresh_status()

    def _found_folder(self) -> str | None:
        """Where MNIST is found now (the environment or the cache), to start browsing at."""
        try:
            found = resolve_data_dir(self.folder())
        except DataError:
            return None
        return str(found) if found else str(user_cache_dir())

    def refresh_status(self) -> None:
        try:
            found = resolve_data_dir(self.folder())
            text = (
                f"✓ MNIST found in {found}"
                if found
                else f"Not found yet: training downloads it into {user_cache_dir()} "
                "(needs internet)"
            )
        except DataError as exc:
            text = f"⚠ {exc}"
        self.data_status.setText(text)
        self.data_status.setToolTip(text)

    def _on_browse_clicked(self) -> None:
        start = self.folder() or self._found_folder() or str(Path.home())
        folder = dialogs.get_existing_directory(self, "Choose the MNIST folder", start)
        if folder:
            self.set_folder(folder)

    # ---- download ------------------------------------------------------------------------
    def is_downloading(self) -> bool:
        return self._job.is_running()

    def _on_download_clicked(self) -> None:
        if self._job.is_running():
            self._job.cancel()
            self.download_button.setEnabled(False)
            return
        worker = DownloadWorker(self.folder())
        worker.progress.connect(self._on_worker_progress)
        worker.failed.connect(self._on_worker_failed)
        self.download_button.setText("Cancel Download")
        self.download_button.setIcon(QIcon(":/icons/stop.svg"))
        self.download_progress.setRange(0, 0)
        self.download_progress.setFormat("Connecting…")
        self.download_progress.setVisible(True)
        self._job.start(worker, name="mnistDownload")

    def _on_worker_progress(self, done: int, total: int, what: str) -> None:
        if total > 0:
            self.download_progress.setRange(0, 1000)
            self.download_progress.setValue(round(1000 * done / total))
        self.download_progress.setFormat(f"{describe_bytes(done, total)}: {what}")

    def _on_worker_failed(self, message: str) -> None:
        if "cancelled" not in message:
            QMessageBox.warning(self, "Download failed", message)

    def _on_job_done(self) -> None:
        self.download_button.setEnabled(True)
        self.download_button.setText("Download MNIST")
        self.download_button.setIcon(QIcon(":/icons/download.svg"))
        self.download_progress.setVisible(False)
        self.refresh_status()

    def shutdown(self, timeout_ms: int) -> bool:
        self._job.cancel()
        return self._job.wait(timeout_ms)
