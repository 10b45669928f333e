"""The main window: tabs, menus, status bar, settings and a careful close."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from mnist_desk import APP_NAME, __version__
from mnist_desk.core.checkpoint import Checkpoint, describe_accuracy, load_checkpoint
from mnist_desk.core.errors import CheckpointError, MnistDeskError
from mnist_desk.core.samples import SampleStore
from mnist_desk.gui.draw_tab import DrawTab
from mnist_desk.gui.explorer_tab import ExplorerTab
from mnist_desk.gui.handwriting import Handwriting
from mnist_desk.gui.mnist_cache import MnistCache
from mnist_desk.gui.model_session import ModelSession
from mnist_desk.gui.network_tab import NetworkTab
from mnist_desk.gui.threads import work_threads
from mnist_desk.gui.train_tab import TrainTab

CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"
MAX_RECENT = 8


def _action(
    parent: QWidget,
    text: str,
    slot: Callable[[], object],
    shortcut: QKeySequence | list[QKeySequence] | None = None,
    icon: str | None = None,
    name: str | None = None,
) -> QAction:
    action = QAction(text, parent)
    if icon:
        action.setIcon(QIcon(f":/icons/{icon}.svg"))
    if shortcut is not None:
        if isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        else:
            action.setShortcut(shortcut)
    if name:
        action.setObjectName(name)
    action.triggered.connect(slot)
    return action


def reference_label(ckpt: Checkpoint) -> str:
    """A compared run's name with the settings that tell runs apart."""
    t = ckpt.train_config
    if t is None:
        return ckpt.name
    acc = f", test {ckpt.test_acc:.2f}%" if ckpt.test_acc is not None else ""
    return (
        f"{ckpt.name} ({ckpt.model_config.arch}, {t.optimizer} lr {t.lr:g}, "
        f"batch {t.batch_size}, {t.epochs} epochs{acc})"
    )


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, store: SampleStore | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or QSettings()
        self.session = ModelSession(self)
        self.cache = MnistCache()
        self._closing = False
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)
        self.draw_tab = DrawTab(self.session)
        self.train_tab = TrainTab(self.session, self.cache)
        self.network_tab = NetworkTab(self.session, self.draw_tab)
        self.explorer_tab = ExplorerTab(self.session, self.cache, self.train_tab.form.data_folder)
        self.tabs.addTab(self.draw_tab, QIcon(":/icons/draw.svg"), "&Draw")
        self.tabs.addTab(self.network_tab, QIcon(":/icons/network.svg"), "&Network")
        self.tabs.addTab(self.explorer_tab, QIcon(":/icons/explore.svg"), "&Explore")
        self.tabs.addTab(self.train_tab, QIcon(":/icons/train.svg"), "&Train")
        self.handwriting = Handwriting(
            self.session, self.cache, self.train_tab.form.data_folder, self, store
        )
        self.draw_tab.samples_kept.connect(self._on_draw_tab_samples_kept)
        self.explorer_tab.image_chosen.connect(self._on_explorer_tab_image_chosen)
        self.handwriting.running_changed.connect(lambda _running: self._update_actions())
        self.setCentralWidget(self.tabs)
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self.session.model_changed.connect(self._on_session_model_changed)
        self.session.dirty_changed.connect(self.setWindowModified)
        self.train_tab.running_changed.connect(self._on_train_tab_running_changed)
        self.train_tab.finished.connect(self._on_train_tab_finished)
        self.tabs.currentChanged.connect(self._update_actions)
        self.train_tab.form.device.currentIndexChanged.connect(
            lambda: self.device_status.setText(self._device_text())
        )
        self.session.load_bundled()
        self._read_settings()
        self._update_actions()
        # the first forward pass sets up oneDNN's kernels (~15 ms): not on the first stroke
        QTimer.singleShot(0, self.session.predictor.warm_up)

    # ---- actions and menus -------------------------------------------------------------
    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.open_action = _action(
            self,
            "&Open Checkpoint…",
            self.open_checkpoint_dialog,
            QKeySequence(std.Open),
            "open",
            "openAction",
        )
        self.save_action = _action(
            self,
            "&Save Checkpoint",
            self.save_checkpoint,
            QKeySequence(std.Save),
            "save",
            "saveAction",
        )
        self.save_as_action = _action(
            self,
            "Save Checkpoint &As…",
            self.save_checkpoint_as,
            QKeySequence("Ctrl+Shift+S"),
            None,
            "saveAsAction",
        )
        self.revert_action = _action(
            self, "&Revert to Bundled Model", self.revert_to_bundled, None, "revert", "revertAction"
        )
        self.quit_action = _action(
            self, "&Quit", self.close, QKeySequence("Ctrl+Q"), None, "quitAction"
        )
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.undo_action = _action(
            self,
            "&Undo Stroke",
            self.draw_tab.canvas.undo,
            QKeySequence(std.Undo),
            "undo",
            "undoAction",
        )
        self.clear_action = _action(
            self,
            "&Clear Canvas",
            self.draw_tab.canvas.clear,
            [QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Escape)],
            "clear",
            "clearAction",
        )
        self.paste_action = _action(
            self, "&Paste Image", self._paste_image, QKeySequence(std.Paste), None, "pasteAction"
        )
        tabs: list[tuple[str, QWidget]] = [
            ("&Draw", self.draw_tab),
            ("&Network", self.network_tab),
            ("&Explore Test Set", self.explorer_tab),
            ("&Train", self.train_tab),
        ]
        self.tab_actions = [
            _action(
                self,
                text,
                functools.partial(self.tabs.setCurrentWidget, widget),
                QKeySequence(f"Ctrl+{i}"),
            )
            for i, (text, widget) in enumerate(tabs, start=1)
        ]
        self.compare_action = _action(
            self,
            "&Compare With Checkpoints…",
            self.compare_with_checkpoints,
            None,
            "train",
            "compareAction",
        )
        self.clear_compare_action = _action(
            self,
            "C&lear Comparisons",
            self.train_tab.curves.clear_references,
            None,
            None,
            "clearCompareAction",
        )
        self.export_onnx_action = _action(
            self, "&ONNX…", self.export_onnx, None, None, "exportOnnxAction"
        )
        self.browse_samples_action = _action(
            self, "&My Handwriting…", self.handwriting.browse, None, None, "mySamplesAction"
        )
        self.teach_action = _action(
            self, "&Teach It My Handwriting", self.handwriting.start, None, "play", "teachAction"
        )
        self.stop_teach_action = _action(
            self, "&Stop Teaching", self.handwriting.stop, None, "stop", "stopTeachAction"
        )
        self.about_action = _action(
            self, "&About MNIST Desk", self.show_about, None, "about", "aboutAction"
        )
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        for action in (self.undo_action, self.clear_action, self.paste_action):
            # act on the canvas only where it is shown (Draw or Network tab), so that editing
            # keys in the training form keep their usual meaning
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.draw_tab.addAction(action)
            self.draw_tab.canvas_panel.addAction(action)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        file_menu.addAction(self.compare_action)
        file_menu.addAction(self.clear_compare_action)
        export_menu = file_menu.addMenu("&Export")
        export_menu.addAction(self.export_onnx_action)
        file_menu.addSeparator()
        file_menu.addAction(self.revert_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.clear_action)
        edit_menu.addAction(self.paste_action)
        view_menu = bar.addMenu("&View")
        for action in self.tab_actions:
            view_menu.addAction(action)
        tools_menu = bar.addMenu("&Tools")
        tools_menu.addAction(self.browse_samples_action)
        tools_menu.addAction(self.teach_action)
        tools_menu.addAction(self.stop_teach_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_status_bar(self) -> None:
        self.model_status = QLabel()
        self.model_status.setObjectName("modelStatus")
        self.accuracy_status = QLabel()
        self.accuracy_status.setObjectName("accuracyStatus")
        self.params_status = QLabel()
        self.params_status.setObjectName("paramsStatus")
        self.device_status = QLabel()
        self.device_status.setObjectName("deviceStatus")
        bar = self.statusBar()
        bar.addWidget(self.model_status, 1)
        bar.addPermanentWidget(self.handwriting.progress)
        for label in (self.accuracy_status, self.params_status, self.device_status):
            bar.addPermanentWidget(label)

    def _update_actions(self) -> None:
        running = self.train_tab.is_running()
        for action in (self.open_action, self.revert_action):
            action.setEnabled(not running)
        self.recent_menu.setEnabled(not running)
        self.revert_action.setEnabled(not running and not self.session.is_bundled)
        on_canvas = self.tabs.currentWidget() in (self.draw_tab, self.network_tab)
        for action in (self.undo_action, self.clear_action, self.paste_action):
            action.setEnabled(on_canvas)
        teaching = self.handwriting.is_running()
        self.teach_action.setEnabled(not running and not teaching)
        self.stop_teach_action.setEnabled(teaching)
        self.train_tab.train_button.setEnabled(not running and not teaching)

    # ---- model state shown -------------------------------------------------------------
    def _on_session_model_changed(self) -> None:
        s = self.session
        where = " (bundled)" if s.is_bundled else (f" — {s.path.name}" if s.path else "")
        self.setWindowTitle(f"{s.name}{where}[*] — {APP_NAME}")
        self.setWindowModified(s.dirty)
        self.model_status.setText(f"Model: {s.name}")
        self.accuracy_status.setText(f"Test accuracy: {describe_accuracy(s.test_acc)}")
        self.params_status.setText(f"{s.parameter_count:,} parameters")
        self.device_status.setText(self._device_text())
        self._update_actions()

    def _device_text(self) -> str:
        from mnist_desk.core.device import describe_device, resolve_device

        try:
            chosen = resolve_device(self.train_tab.form.device.currentData())
            device = describe_device(chosen, work_threads())
        except MnistDeskError:
            device = "unavailable"
        return f"Training on {device}"

    def _on_train_tab_running_changed(self, running: bool) -> None:
        self._update_actions()
        if running:
            self.statusBar().showMessage(
                "Training… the Draw tab reads with each finished epoch", 5000
            )

    # ---- file actions ------------------------------------------------------------------
    def _last_dir(self) -> str:
        return str(self.settings.value("lastCheckpointDir", str(Path.home())))

    def open_checkpoint_dialog(self) -> None:
        if not self._maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Checkpoint", self._last_dir(), CHECKPOINT_FILTER
        )
        if path:
            self.open_checkpoint(path, ask=False)

    def open_checkpoint(self, path: str | Path, *, ask: bool = True) -> bool:
        """Open a checkpoint; on failure say why and change nothing."""
        if ask and not self._maybe_save():
            return False
        try:
            self.session.open(path)
        except CheckpointError as exc:
            QMessageBox.critical(self, "Cannot open checkpoint", str(exc))
            return False
        self.settings.setValue("lastCheckpointDir", str(Path(path).parent))
        self._add_recent(Path(path))
        if self.session.checkpoint is not None:
            self.train_tab.show_history(self.session.checkpoint)
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def save_checkpoint(self) -> bool:
        if self.session.path is None or self.session.is_bundled:
            return self.save_checkpoint_as()
        return self._save_to(self.session.path)

    def save_checkpoint_as(self) -> bool:
        suggested = Path(self._last_dir()) / f"{self._safe_name()}.pt"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save Checkpoint", str(suggested), CHECKPOINT_FILTER
        )
        if not path:
            return False
        if not Path(path).suffix:
            path += ".pt"
        return self._save_to(Path(path))

    def _safe_name(self) -> str:
        keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in self.session.name)
        return keep.strip("-") or "model"

    def _save_to(self, path: Path) -> bool:
        try:
            saved = self.session.save(path)
        except CheckpointError as exc:
            QMessageBox.critical(self, "Cannot save checkpoint", str(exc))
            return False
        self.settings.setValue("lastCheckpointDir", str(saved.parent))
        self._add_recent(saved)
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        return True

    def revert_to_bundled(self) -> None:
        if self.train_tab.is_running() or not self._maybe_save():
            return
        self.session.load_bundled()
        self.train_tab.show_history(self.session.checkpoint)  # type: ignore[arg-type]

    def _paste_image(self) -> None:
        if self.tabs.currentWidget() not in (self.draw_tab, self.network_tab):
            self.tabs.setCurrentWidget(self.draw_tab)
        self.draw_tab.paste()

    # ---- looking inside, teaching, comparing, exporting -------------------------------------
    def _on_draw_tab_samples_kept(self, image: object, digit: int) -> None:
        try:
            message = self.handwriting.keep(image, digit)  # type: ignore[arg-type]
        except OSError as exc:
            QMessageBox.warning(self, "Cannot keep the drawing", str(exc))
            return
        self.draw_tab.kept_label.setText(message)
        self.statusBar().showMessage(message, 4000)

    def _on_explorer_tab_image_chosen(self, image: object, label: int) -> None:
        self.tabs.setCurrentWidget(self.draw_tab)
        self.draw_tab.show_image(image)  # type: ignore[arg-type]
        self.statusBar().showMessage(f"A test image of a {label}, as MNIST has it", 5000)

    def compare_with_checkpoints(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Compare With Checkpoints", self._last_dir(), CHECKPOINT_FILTER
        )
        problems = []
        for path in paths:
            try:
                ckpt = load_checkpoint(path)
            except CheckpointError as exc:
                problems.append(str(exc))
                continue
            self.train_tab.curves.add_reference(
                reference_label(ckpt), ckpt.history, ckpt.batch_curve
            )
        if paths:
            self.tabs.setCurrentWidget(self.train_tab)
            self.train_tab.views.setCurrentWidget(self.train_tab.curves)
        if problems:
            QMessageBox.warning(self, "Some checkpoints could not be compared", "\n".join(problems))

    def export_onnx(self) -> None:
        from mnist_desk.core.export import export_onnx

        if self.session.checkpoint is None:
            return
        suggested = Path(self._last_dir()) / f"{self._safe_name()}.onnx"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export to ONNX", str(suggested), "ONNX models (*.onnx)"
        )
        if not path:
            return
        if not path.endswith(".onnx"):
            path += ".onnx"
        try:
            export_onnx(self.session.checkpoint, path)
        except MnistDeskError as exc:
            QMessageBox.critical(self, "Cannot export", str(exc))
            return
        self.statusBar().showMessage(f"Exported {path}", 5000)

    # ---- recent files ------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):  # QSettings returns a lone entry as a string
            value = [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def _add_recent(self, path: Path) -> None:
        path_s = str(path.resolve())
        files = [path_s] + [f for f in self.recent_files() if f != path_s]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, f in enumerate(files, 1):
            action = self.recent_menu.addAction(f"&{i} {Path(f).name}")
            action.setToolTip(f)
            action.setStatusTip(f)
            action.triggered.connect(lambda checked=False, f=f: self.open_checkpoint(f))
        if not files:
            self.recent_menu.addAction("No recent checkpoints").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(
                "Clear Menu", lambda: self.settings.setValue("recentFiles", [])
            )

    # ---- about -------------------------------------------------------------------------
    def show_about(self) -> None:
        import platform

        import torch
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        from mnist_desk.core.device import describe_device, resolve_device

        device = describe_device(resolve_device("auto"), work_threads())
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Draw a digit and watch a small CNN read it; train it yourself on MNIST "
            "and look inside.</p>"
            f"<p>PyTorch {torch.__version__} · Qt {qVersion()} (PySide6 {pyside_version}) · "
            f"Python {platform.python_version()}<br>Training device: {device}</p>",
        )

    # ---- settings and closing ------------------------------------------------------------
    def _read_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)
        tab = str(self.settings.value("currentTab", 0))
        self.tabs.setCurrentIndex(int(tab) if tab.isdigit() else 0)
        form = self.settings.value("trainForm")
        if isinstance(form, str) and form:
            with contextlib.suppress(ValueError, TypeError):  # a damaged entry: defaults
                self.train_tab.form.from_settings(json.loads(form))
        self.train_tab.form.refresh_data_status()

    def write_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("currentTab", self.tabs.currentIndex())
        self.settings.setValue("trainForm", json.dumps(self.train_tab.form.to_settings()))
        self.settings.sync()

    def _maybe_save(self) -> bool:
        """Ask about an unsaved trained model; False means the user cancelled."""
        if not self.session.dirty:
            return True
        answer = QMessageBox.warning(
            self,
            "Unsaved model",
            f"The model “{self.session.name}” has not been saved. Save it first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save_checkpoint()
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event: QCloseEvent) -> None:
        self.explorer_tab.shutdown()
        self.handwriting.shutdown()
        if self.train_tab.is_running():
            # stop first; the close resumes when the worker thread has ended
            self._closing = True
            self.train_tab.stop_training()
            self.statusBar().showMessage("Stopping training before closing…")
            event.ignore()
            return
        if not self._maybe_save():
            self._closing = False
            event.ignore()
            return
        self.write_settings()
        event.accept()

    def _on_train_tab_finished(self) -> None:
        if self._closing:
            self._closing = False
            self.close()
