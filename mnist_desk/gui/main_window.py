"""The main window: tabs, menus built from a table, status bar, settings, a careful close.

The tabs are siblings: none imports another. The window makes what they share (the
workspace, the canvas panel and its live reading) and hands it to them, and talks to each
through its methods and signals only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QTabWidget

from mnist_desk import APP_NAME
from mnist_desk.bundled import load_bundled_checkpoint
from mnist_desk.core.checkpoint import Checkpoint, describe_accuracy
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.samples import SampleStore
from mnist_desk.gui.about import show_about
from mnist_desk.gui.canvas_panel import CanvasPanel
from mnist_desk.gui.checkpoint_files import CheckpointFiles
from mnist_desk.gui.draw_tab import DrawTab
from mnist_desk.gui.explorer_tab import ExplorerTab
from mnist_desk.gui.handwriting import Handwriting
from mnist_desk.gui.live_reading import LiveReading
from mnist_desk.gui.network_tab import NetworkTab
from mnist_desk.gui.recent_files import RecentFiles
from mnist_desk.gui.runs_tab import RunsTab
from mnist_desk.gui.threads import work_threads
from mnist_desk.gui.train_tab import TrainTab
from mnist_desk.gui.window_settings import read_window_settings, write_window_settings
from mnist_desk.gui.workspace import Workspace


@dataclass(frozen=True)
class ActionSpec:
    """One menu entry. `slot` names a method of the window, or of one of its parts
    ("files.save"); `menu` may name a submenu ("File/Export")."""

    menu: str
    name: str  # the window's attribute; its object name is the camel-cased form
    text: str
    slot: str
    shortcuts: tuple[str, ...] = ()
    icon: str = ""
    on_canvas: bool = False  # acts on the canvas: only where the canvas is shown


SEPARATOR, RECENT = "separator", "the Open Recent menu"
ACTIONS: tuple[ActionSpec | str, ...] = (
    ActionSpec("File", "open_action", "&Open Checkpoint…", "files.open_dialog", ("Open",), "open"),
    RECENT,
    SEPARATOR,
    ActionSpec("File", "save_action", "&Save Checkpoint", "files.save", ("Save",), "save"),
    ActionSpec(
        "File", "save_as_action", "Save Checkpoint &As…", "files.save_as", ("Ctrl+Shift+S",)
    ),
    SEPARATOR,
    ActionSpec(
        "File", "compare_action", "&Compare With Checkpoints…", "files.compare_dialog", (), "train"
    ),
    ActionSpec("File", "clear_compare_action", "C&lear Comparisons", "runs_tab.clear_comparison"),
    ActionSpec("File/&Export", "export_onnx_action", "&ONNX…", "files.export_onnx"),
    SEPARATOR,
    ActionSpec(
        "File", "revert_action", "&Revert to Bundled Model", "revert_to_bundled", (), "revert"
    ),
    SEPARATOR,
    ActionSpec("File", "quit_action", "&Quit", "close", ("Ctrl+Q",)),
    ActionSpec("Edit", "undo_action", "&Undo Stroke", "panel.undo", ("Undo",), "undo", True),
    ActionSpec(
        "Edit", "clear_action", "&Clear Canvas", "panel.clear", ("Del", "Esc"), "clear", True
    ),
    ActionSpec("Edit", "paste_action", "&Paste Image", "paste_image", ("Paste",), "", True),
    ActionSpec("Tools", "browse_samples_action", "&My Handwriting…", "handwriting.browse"),
    ActionSpec("Tools", "teach_action", "&Teach It My Handwriting", "teach", (), "play"),
    ActionSpec("Tools", "stop_teach_action", "&Stop Teaching", "handwriting.stop", (), "stop"),
    ActionSpec("Help", "about_action", "&About MNIST Desk", "show_about", (), "about"),
)
MENUS = ("&File", "&Edit", "&View", "&Tools", "&Help")
# (the window's attribute, tab title, icon, View menu entry): Ctrl+1 to Ctrl+4 in this order
TABS = (
    ("draw_tab", "&Draw", "draw", "&Draw"),
    ("network_tab", "&Network", "network", "&Network"),
    ("explorer_tab", "&Explore", "explore", "&Explore Test Set"),
    ("train_tab", "&Train", "train", "&Train"),
    ("runs_tab", "&Runs", "runs", "&Runs"),
)


def _key(text: str) -> QKeySequence:
    standard = getattr(QKeySequence.StandardKey, text, None)
    return QKeySequence(standard) if standard is not None else QKeySequence(text)


class MainWindow(QMainWindow):
    # made from ACTIONS
    open_action: QAction
    save_action: QAction
    save_as_action: QAction
    compare_action: QAction
    clear_compare_action: QAction
    export_onnx_action: QAction
    revert_action: QAction
    quit_action: QAction
    undo_action: QAction
    clear_action: QAction
    paste_action: QAction
    browse_samples_action: QAction
    teach_action: QAction
    stop_teach_action: QAction
    about_action: QAction

    def __init__(self, settings: QSettings | None = None, store: SampleStore | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or QSettings()
        self.workspace = Workspace(store, self)
        self.session = self.workspace.session
        self._closing = False
        self.panel = CanvasPanel()
        self.reading = LiveReading(self.session, self.panel.canvas, self)
        self.draw_tab = DrawTab(self.session, self.panel, self.reading)
        self.network_tab = NetworkTab(self.session, self.panel, self.reading)
        self.explorer_tab = ExplorerTab(self.workspace)
        self.train_tab = TrainTab(self.workspace)
        self.runs_tab = RunsTab(self.workspace)
        self.handwriting = Handwriting(self.workspace, self)
        self.recent = RecentFiles(self.settings, self)
        self.files = CheckpointFiles(self, self.session, self.settings, self.recent)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)
        for attr, text, icon, _ in TABS:
            self.tabs.addTab(getattr(self, attr), QIcon(f":/icons/{icon}.svg"), text)
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.session.set_bundled(load_bundled_checkpoint())
        self._read_settings()
        self._update_actions()
        # the first forward pass sets up oneDNN's kernels (~15 ms): not on the first stroke
        QTimer.singleShot(0, self.session.predictor.warm_up)

    def _connect(self) -> None:
        self.panel.sample_kept.connect(self._on_panel_sample_kept)
        self.explorer_tab.image_chosen.connect(self._on_explorer_tab_image_chosen)
        self.handwriting.running_changed.connect(lambda _running: self._update_actions())
        self.recent.chosen.connect(self.open_checkpoint)
        self.files.opened.connect(self.train_tab.show_history)
        self.files.compared.connect(self._on_files_compared)
        self.runs_tab.open_requested.connect(self.open_run)
        self.runs_tab.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.train_tab.train_requested.connect(self.train)
        self.files.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.session.model_changed.connect(self._on_session_model_changed)
        self.session.dirty_changed.connect(self.setWindowModified)
        self.train_tab.running_changed.connect(self._on_train_tab_running_changed)
        self.train_tab.finished.connect(self._on_train_tab_finished)
        self.train_tab.device_changed.connect(self._show_device)
        self.tabs.currentChanged.connect(self._update_actions)

    # ---- actions and menus -------------------------------------------------------------
    def _slot(self, path: str) -> Callable[[], object]:
        target: Any = self
        for part in path.split("."):
            target = getattr(target, part)
        return cast(Callable[[], object], target)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        menus = {title.replace("&", ""): bar.addMenu(title) for title in MENUS}
        current: QMenu = menus["File"]
        for entry in ACTIONS:
            if entry == SEPARATOR:
                current.addSeparator()
            elif entry == RECENT:
                current.addMenu(self.recent.menu)
            elif isinstance(entry, ActionSpec):
                current = self._menu_for(menus, entry.menu)
                current.addAction(self._make_action(entry))
        self.tab_actions = []
        for i, (attr, _, _, text) in enumerate(TABS, start=1):
            tab = getattr(self, attr)
            action = QAction(text, self)
            action.setShortcut(QKeySequence(f"Ctrl+{i}"))
            action.triggered.connect(lambda _=False, tab=tab: self.tabs.setCurrentWidget(tab))
            menus["View"].addAction(action)
            self.tab_actions.append(action)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

    def _menu_for(self, menus: dict[str, QMenu], path: str) -> QMenu:
        top, _, sub = path.partition("/")
        menu = menus[top]
        if not sub:
            return menu
        found = menu.findChild(QMenu, sub)
        if found is None:
            found = menu.addMenu(sub)
            found.setObjectName(sub)
        return found

    def _make_action(self, spec: ActionSpec) -> QAction:
        action = QAction(spec.text, self)
        head, *rest = spec.name.split("_")
        action.setObjectName(head + "".join(p.capitalize() for p in rest))
        if spec.icon:
            action.setIcon(QIcon(f":/icons/{spec.icon}.svg"))
        action.setShortcuts([_key(s) for s in spec.shortcuts])
        action.triggered.connect(lambda _=False, slot=spec.slot: self._slot(slot)())
        if spec.on_canvas:
            # act on the canvas only where it is shown (Draw or Network tab), so that editing
            # keys in the training form keep their usual meaning
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.draw_tab.addAction(action)
            self.panel.addAction(action)
        setattr(self, spec.name, action)
        return action

    def _build_status_bar(self) -> None:
        self.model_status = QLabel()
        self.model_status.setObjectName("modelStatus")
        self.model_status.setTextFormat(Qt.TextFormat.PlainText)  # a name is never markup
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
        self.open_action.setEnabled(not running)
        self.recent.menu.setEnabled(not running)
        self.revert_action.setEnabled(not running and not self.session.is_bundled)
        on_canvas = self.tabs.currentWidget() in (self.draw_tab, self.network_tab)
        for action in (self.undo_action, self.clear_action, self.paste_action):
            action.setEnabled(on_canvas)
        teaching = self.handwriting.is_running()
        self.teach_action.setEnabled(not running and not teaching)
        self.stop_teach_action.setEnabled(teaching)
        self.train_tab.set_train_allowed(not teaching)

    # ---- model state shown -------------------------------------------------------------
    def _on_session_model_changed(self) -> None:
        s = self.session
        where = " (bundled)" if s.is_bundled else (f" — {s.path.name}" if s.path else "")
        where = f" — run {s.run_id}" if s.run_id and not s.path else where
        self.setWindowTitle(f"{s.name}{where}[*] — {APP_NAME}")
        self.setWindowModified(s.dirty)
        self.model_status.setText(f"Model: {s.name}")
        self.accuracy_status.setText(f"Test accuracy: {describe_accuracy(s.test_acc)}")
        self.params_status.setText(f"{s.parameter_count:,} parameters")
        self._show_device()
        self._update_actions()

    def _show_device(self) -> None:
        from mnist_desk.core.device import describe_device, resolve_device

        try:
            chosen = resolve_device(self.train_tab.device_choice())
            device = describe_device(chosen, work_threads())
        except MnistDeskError:
            device = "unavailable"
        self.device_status.setText(f"Training on {device}")

    def _on_train_tab_running_changed(self, running: bool) -> None:
        self._update_actions()
        if running:
            self.statusBar().showMessage(
                "Training… the Draw tab reads with each finished epoch", 5000
            )

    # ---- files, the canvas, the other tabs ---------------------------------------------
    def open_checkpoint(self, path: str | Path) -> bool:
        return self.files.open(path)

    def train(self) -> None:
        """Train with the form's recipe, once nothing unkept would be replaced."""
        if not self.train_tab.is_running() and self.files.maybe_save():
            self.train_tab.start_training()

    def teach(self) -> None:
        if self.files.maybe_save():
            self.handwriting.start()

    def open_run(self, run_id: str) -> bool:
        """Make a run's model (its best epoch by validation, else its last) current."""
        if self.train_tab.is_running() or not self.files.maybe_save():
            return False
        try:
            checkpoint = self.workspace.runs.checkpoint(run_id)
        except MnistDeskError as exc:
            QMessageBox.critical(self, "Cannot open the run", str(exc))
            return False
        self.session.set_from_run(checkpoint, run_id)
        self.train_tab.show_history(checkpoint)
        self.statusBar().showMessage(f"Opened the run {checkpoint.name}", 5000)
        return True

    def revert_to_bundled(self) -> None:
        if self.train_tab.is_running() or not self.files.maybe_save():
            return
        self.session.set_bundled(load_bundled_checkpoint())
        if self.session.checkpoint is not None:
            self.train_tab.show_history(self.session.checkpoint)

    def paste_image(self) -> None:
        if self.tabs.currentWidget() not in (self.draw_tab, self.network_tab):
            self.tabs.setCurrentWidget(self.draw_tab)
        self.panel.paste()

    def show_about(self) -> None:
        show_about(self)

    def _on_panel_sample_kept(self, image: np.ndarray, digit: int) -> None:
        try:
            message = self.handwriting.keep(image, digit)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot keep the drawing", str(exc))
            return
        self.panel.show_message(message)
        self.statusBar().showMessage(message, 4000)

    def _on_explorer_tab_image_chosen(self, image: np.ndarray, label: int) -> None:
        self.tabs.setCurrentWidget(self.draw_tab)
        self.draw_tab.show_image(image)
        self.statusBar().showMessage(f"A test image of a {label}, as MNIST has it", 5000)

    def _on_files_compared(self, ckpt: Checkpoint) -> None:
        self.runs_tab.add_file_to_comparison(ckpt)
        self.tabs.setCurrentWidget(self.runs_tab)

    # ---- settings and closing ------------------------------------------------------------
    def _read_settings(self) -> None:
        restore = self.train_tab.restore_settings
        problems = read_window_settings(self.settings, self, self.tabs, restore)
        if problems:
            problems = [f"settings from last time ({', '.join(problems)}) could not be read "
                        "and were reset"]  # fmt: skip
        problems += self.workspace.store.problems
        if problems:
            text = "; ".join(problems)
            self.statusBar().showMessage(f"{text[:1].upper()}{text[1:]}.", 15000)

    def write_settings(self) -> None:
        write_window_settings(self.settings, self, self.tabs, self.train_tab.settings())

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing and not self._may_stop_running_work():
            event.ignore()  # Cancel: everything goes on as it was
            return
        self.explorer_tab.shutdown()
        self.handwriting.shutdown()
        self.train_tab.shutdown_jobs(2000)
        if self.train_tab.is_running():
            # stop first; the close resumes when the worker thread has ended
            self._closing = True
            self.train_tab.stop_training()
            self.statusBar().showMessage("Stopping training before closing…")
            event.ignore()
            return
        if not self.files.maybe_save():
            self._closing = False
            event.ignore()
            return
        self.write_settings()
        event.accept()

    def _may_stop_running_work(self) -> bool:
        """Ask before closing stops a training run or a teaching; False: Cancel."""
        work = [
            name
            for name, running in (
                ("a model is training", self.train_tab.is_running()),
                ("your handwriting is being taught", self.handwriting.is_running()),
            )
            if running
        ]
        if not work:
            return True
        answer = QMessageBox.question(
            self,
            "Quit While Training",
            f"{' and '.join(work).capitalize()}. Stop and quit? What is finished so far "
            "is kept in the Runs tab.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_train_tab_finished(self) -> None:
        self.runs_tab.prune()
        if self._closing:
            self.close()
