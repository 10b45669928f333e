"""The File menu's work on checkpoints: open, save, save as, compare, export to ONNX, and
the question about an unsaved model. Every failure is one dialog that says why, and a
failed open changes nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from mnist_desk.core.checkpoint import load_checkpoint
from mnist_desk.core.errors import CheckpointError, MnistDeskError
from mnist_desk.core.text import file_name
from mnist_desk.gui import dialogs
from mnist_desk.gui.model_session import ModelSession
from mnist_desk.gui.recent_files import RecentFiles


class CheckpointFiles(QObject):
    opened = Signal(object)  # the Checkpoint now current, read from a file
    compared = Signal(object)  # a Checkpoint to show beside the current run
    message = Signal(str)  # for the status bar

    def __init__(
        self, window: QWidget, session: ModelSession, settings: QSettings, recent: RecentFiles
    ) -> None:
        super().__init__(window)
        self.window, self.session, self.settings, self.recent = window, session, settings, recent

    def last_dir(self) -> str:
        return str(self.settings.value("lastCheckpointDir", str(Path.home())))

    def _remember(self, path: Path) -> None:
        self.settings.setValue("lastCheckpointDir", str(path.parent))
        self.recent.add(path)

    def safe_name(self) -> str:
        """The model's name as a file name."""
        return file_name(self.session.name)

    # ---- opening -----------------------------------------------------------------------
    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path = dialogs.get_open_file_name(
            self.window, "Open Checkpoint", self.last_dir(), dialogs.CHECKPOINT_FILTER
        )
        if path:
            self.open(path, ask=False)

    def open(self, path: str | Path, *, ask: bool = True) -> bool:
        """Open a checkpoint; on failure say why and change nothing."""
        if ask and not self.maybe_save():
            return False
        try:
            self.session.open(path)
        except CheckpointError as exc:
            QMessageBox.critical(self.window, "Cannot open checkpoint", str(exc))
            return False
        self._remember(Path(path))
        self.opened.emit(self.session.checkpoint)
        self.message.emit(f"Opened {path}")
        return True

    # ---- saving ------------------------------------------------------------------------
    def save(self) -> bool:
        if self.session.path is None or self.session.is_bundled:
            return self.save_as()
        return self._save_to(self.session.path)

    def save_as(self) -> bool:
        suggested = Path(self.last_dir()) / f"{self.safe_name()}.pt"
        path = dialogs.get_save_file_name(
            self.window, "Save Checkpoint", str(suggested), dialogs.CHECKPOINT_FILTER
        )
        if not path:
            return False
        if not Path(path).suffix:
            path += ".pt"
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            saved = self.session.save(path)
        except CheckpointError as exc:
            QMessageBox.critical(self.window, "Cannot save checkpoint", str(exc))
            return False
        self._remember(saved)
        self.message.emit(f"Saved {saved}")
        return True

    def maybe_save(self) -> bool:
        """Ask about an unsaved trained model; False means the user cancelled."""
        if not self.session.dirty:
            return True
        answer = QMessageBox.warning(
            self.window,
            "Unsaved model",
            f"The model “{self.session.name}” has not been saved. Save it first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ---- comparing and exporting ---------------------------------------------------------
    def compare_dialog(self) -> None:
        paths = dialogs.get_open_file_names(
            self.window, "Compare With Checkpoints", self.last_dir(), dialogs.CHECKPOINT_FILTER
        )
        problems = []
        for path in paths:
            try:
                self.compared.emit(load_checkpoint(path))
            except CheckpointError as exc:
                problems.append(str(exc))
        if problems:
            QMessageBox.warning(
                self.window, "Some checkpoints could not be compared", "\n".join(problems)
            )

    def export_onnx(self) -> None:
        from mnist_desk.core.export import export_onnx

        if self.session.checkpoint is None:
            return
        suggested = Path(self.last_dir()) / f"{self.safe_name()}.onnx"
        path = dialogs.get_save_file_name(
            self.window, "Export to ONNX", str(suggested), "ONNX models (*.onnx)"
        )
        if not path:
            return
        if not path.endswith(".onnx"):
            path += ".onnx"
        try:
            export_onnx(self.session.checkpoint, path)
        except MnistDeskError as exc:
            QMessageBox.critical(self.window, "Cannot export", str(exc))
            return
        self.message.emit(f"Exported {path}")
