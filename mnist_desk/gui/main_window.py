"""The main window: tabs, menus built from a table (gui.menus), status bar, settings,
appearance and a careful close.

The tabs are siblings: none imports another. The window makes what they share (the
workspace, the canvas panel and its live reading) and hands it to them, and talks to each
through its methods and signals only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PySide6.QtCore import QSettings, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QTextBrowser,
    QWidget,
)

from mnist_desk import APP_NAME
from mnist_desk.bundled import load_bundled_checkpoint
from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.samples import SampleStore
from mnist_desk.gui import experiments
from mnist_desk.gui import help as help_pages
from mnist_desk.gui.about import show_about
from mnist_desk.gui.appearance import MODES, apply_appearance, restyle_charts
from mnist_desk.gui.canvas_panel import CanvasPanel
from mnist_desk.gui.checkpoint_files import CheckpointFiles
from mnist_desk.gui.draw_tab import DrawTab
from mnist_desk.gui.explorer_tab import ExplorerTab
from mnist_desk.gui.handwriting import Handwriting
from mnist_desk.gui.live_reading import LiveReading
from mnist_desk.gui.menus import MenuBuilder
from mnist_desk.gui.network_tab import NetworkTab
from mnist_desk.gui.recent_files import RecentFiles
from mnist_desk.gui.runs_tab import RunsTab
from mnist_desk.gui.status_bar import ModelStatus
from mnist_desk.gui.threads import seconds_since_input, warm_up_training, work_threads
from mnist_desk.gui.train_tab import TrainTab
from mnist_desk.gui.window_settings import read_window_settings, write_window_settings
from mnist_desk.gui.workspace import Workspace

if TYPE_CHECKING:
    from mnist_desk.gui.one_by_one import OneByOneDialog

WARM_UP_IDLE_S = 1.5  # the canvas left alone this long after a digit is kept: warm up

# (the window's attribute, tab title, icon, View menu entry): Ctrl+1 onwards in this order;
# the tabs' Alt keys differ from the menus' (Alt+E is Edit, Alt+T is Tools)
TABS = (
    ("draw_tab", "&Draw", "draw", "&Draw"),
    ("network_tab", "&Network", "network", "&Network"),
    ("explorer_tab", "E&xplore", "explore", "&Explore Test Set"),
    ("train_tab", "Tr&ain", "train", "&Train"),
    ("runs_tab", "&Runs", "runs", "&Runs"),
)


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, store: SampleStore | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or QSettings()
        self.workspace = Workspace(store, self)
        self.session = self.workspace.session
        self._closing = False
        self._one_by_one: OneByOneDialog | None = None  # the 1×1 question's window, once opened
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
        self.status = ModelStatus(self.statusBar(), self.handwriting.progress)
        self._connect()
        self.session.set_bundled(load_bundled_checkpoint())
        self.train_tab.show_history(self.session.checkpoint)
        self._read_settings()
        # after the last tab is restored: starting up is no time for a second's import
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self._update_actions()
        # the first forward pass sets up oneDNN's kernels (~15 ms): not on the first stroke
        QTimer.singleShot(0, self.session.predictor.warm_up)

    def _connect(self) -> None:
        self.panel.sample_kept.connect(self._on_panel_sample_kept)
        self.explorer_tab.image_chosen.connect(self._on_explorer_tab_image_chosen)
        self.reading.updated.connect(self._on_reading_updated)
        self.handwriting.running_changed.connect(lambda _running: self._update_actions())
        self.recent.chosen.connect(self.open_checkpoint)
        self.files.opened.connect(self.train_tab.show_history)
        self.files.compared.connect(self._on_files_compared)
        self.files.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.runs_tab.open_requested.connect(self.open_run)
        self.runs_tab.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.session.model_changed.connect(self._on_session_model_changed)
        self.session.dirty_changed.connect(self.setWindowModified)
        self.train_tab.train_requested.connect(self.train)
        self.train_tab.more_requested.connect(self.train_more)
        self.train_tab.more_available.connect(lambda _available: self._update_actions())
        self.train_tab.running_changed.connect(self._on_train_tab_running_changed)
        self.train_tab.finished.connect(self._on_train_tab_finished)
        self.train_tab.device_changed.connect(self._show_device)
        self.tabs.currentChanged.connect(self._update_actions)
        self._warm_up_timer = QTimer(self, singleShot=True, interval=int(WARM_UP_IDLE_S * 1000))
        self._warm_up_timer.timeout.connect(self._warm_up_when_idle)

    # ---- actions and menus -------------------------------------------------------------
    def action(self, name: str) -> QAction:
        """A menu action by its name in gui.menus (e.g. "open_action")."""
        return self.menu_actions[name]

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_action") and "menu_actions" in self.__dict__:
            return self.__dict__["menu_actions"][name]
        raise AttributeError(name)

    def _slot(self, path: str) -> Callable[..., object]:
        target: Any = self
        for part in path.split("."):
            target = getattr(target, part)
        return cast(Callable[..., object], target)

    def _build_menus(self) -> None:
        builder = MenuBuilder(self, self._slot, [self.draw_tab, self.network_tab, self.panel])
        self.menu_actions = builder.build(self.recent.menu)
        # Train and Teach are in this menu: nobody draws while it is open
        builder.menus["Tools"].aboutToShow.connect(warm_up_training)
        tabs = [(cast(QWidget, getattr(self, attr)), text) for attr, _, _, text in TABS]
        self.tab_actions = builder.add_tab_actions(tabs, self.tabs.setCurrentWidget)
        self.appearance = str(self.settings.value("appearance", "system"))
        self.appearance = self.appearance if self.appearance in MODES else "system"
        self.appearance_actions = builder.add_appearance(self.set_appearance, self.appearance)

    def _update_actions(self) -> None:
        running = self.train_tab.is_running()
        teaching = self.handwriting.is_running()
        on_canvas = self.tabs.currentWidget() in (self.draw_tab, self.network_tab)
        enabled = {
            "open_action": not running,
            "revert_action": not running and not self.session.is_bundled,
            "train_action": not running and not teaching,
            "stop_training_action": running,
            "more_epoch_action": self.train_tab.can_train_more() and not teaching,
            "teach_action": not running and not teaching,
            "stop_teach_action": teaching,
            **{n: on_canvas for n in self.menu_actions if n.startswith("keep_as_")},
            **dict.fromkeys(("undo_action", "clear_action", "paste_action"), on_canvas),
        }
        for name, on in enabled.items():
            self.menu_actions[name].setEnabled(on)
        self.recent.menu.setEnabled(not running)
        self.train_tab.set_train_allowed(not teaching)
        if on_canvas:
            self.panel.canvas.setFocus()  # the drawing keys work at once on either tab

    # ---- model state shown -------------------------------------------------------------
    def _on_session_model_changed(self) -> None:
        s = self.session
        where = " (bundled)" if s.is_bundled else (f" — {s.path.name}" if s.path else "")
        where = f" — run {s.run_id}" if s.run_id and not s.path else where
        self.setWindowTitle(f"{s.name}{where}[*] — {APP_NAME}")
        self.setWindowModified(s.dirty)
        self.status.show_model(s)
        self._show_device()
        self._update_actions()

    def _show_device(self) -> None:
        from mnist_desk.core.device import describe_device, resolve_device

        try:
            device = describe_device(resolve_device(self.train_tab.device_choice()), work_threads())
        except MnistDeskError:
            device = "unavailable"
        self.status.show_device(device, self.train_tab.is_running())

    def _on_train_tab_running_changed(self, running: bool) -> None:
        self._update_actions()
        self.draw_tab.show_training(running)
        self._show_device()
        if running:
            self.statusBar().showMessage("Training… the Draw tab reads with each finished epoch")
        else:
            self.statusBar().clearMessage()  # no "Training…" left over a run that ended

    # ---- files, runs, teaching -----------------------------------------------------------
    def open_checkpoint(self, path: str | Path) -> bool:
        return self.files.open(path)

    def train(self) -> None:
        """Train with the form's recipe, once nothing unkept would be replaced."""
        if not self.train_tab.is_running() and self.files.maybe_save():
            self.tabs.setCurrentWidget(self.train_tab)
            self.train_tab.start_training()

    def train_more(self) -> None:
        """The run that just finished trains one more epoch (nothing unkept is replaced)."""
        if self.train_tab.can_train_more() and self.files.maybe_save():
            self.tabs.setCurrentWidget(self.train_tab)
            self.train_tab.train_one_more_epoch()

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
        self.train_tab.show_history(self.session.checkpoint)

    def paste_image(self) -> None:
        if self.tabs.currentWidget() not in (self.draw_tab, self.network_tab):
            self.tabs.setCurrentWidget(self.draw_tab)
        self.panel.paste()

    def _on_panel_sample_kept(self, image: np.ndarray, digit: int) -> None:
        try:
            message = self.handwriting.keep(image, digit)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot keep the drawing", str(exc))
            return
        self.panel.show_message(message)
        self._warm_up_timer.start()  # teaching is near: warm up once the canvas rests

    def _warm_up_when_idle(self) -> None:
        if seconds_since_input() >= WARM_UP_IDLE_S:
            warm_up_training()
        else:
            self._warm_up_timer.start()

    def _on_tabs_current_changed(self) -> None:
        if self.tabs.currentWidget() is self.train_tab:
            self.train_tab.prepare()  # so that a run need not wait for its process to start

    def _on_reading_updated(self) -> None:
        """The drawing, as read now, for the Explore tab's map and lab."""
        self.explorer_tab.feature_map.show_drawing(self.reading.prediction)
        self.explorer_tab.lab.show_drawing(self.reading.prediction)

    def _on_explorer_tab_image_chosen(self, image: np.ndarray, label: int) -> None:
        self.tabs.setCurrentWidget(self.draw_tab)
        self.draw_tab.show_image(image)
        self.statusBar().showMessage(f"A test image of a {label}, as MNIST has it", 5000)

    def _on_files_compared(self, ckpt: Checkpoint) -> None:
        self.runs_tab.add_file_to_comparison(ckpt)
        self.tabs.setCurrentWidget(self.runs_tab)

    # ---- help and appearance ---------------------------------------------------------------
    def show_about(self) -> None:
        show_about(self)

    def show_shortcuts(self) -> None:
        self._show_dialog(help_pages.shortcuts_dialog(self))

    def show_guide(self) -> None:
        title = "How to Use MNIST Desk"
        self._show_dialog(help_pages.page_dialog(self, title, help_pages.GUIDE, "guide"))

    def show_inside_guide(self) -> None:
        title = "What the Network Sees"
        self._show_dialog(help_pages.page_dialog(self, title, help_pages.INSIDE, "insideGuide"))

    def show_experiments(self) -> None:
        dialog = help_pages.page_dialog(
            self, "Experiments to Try", experiments.page_html(), "experiments"
        )
        browser = dialog.findChild(QTextBrowser, "experimentsText")

        def set_up(url: QUrl) -> None:
            dialog.accept()
            self.set_up_experiment(url.path())

        if browser is not None:
            browser.anchorClicked.connect(set_up)
        self._show_dialog(dialog)

    def show_one_by_one(self) -> OneByOneDialog:
        """The 1×1 question's window (one, kept while the app runs)."""
        if self._one_by_one is None:
            from mnist_desk.gui.one_by_one import OneByOneDialog

            w = self.workspace
            self._one_by_one = OneByOneDialog(w.cache, w.data_dir, w.runs, self)
            self._one_by_one.runs_added.connect(w.runs_changed)
        self._one_by_one.data_dir = self.workspace.data_dir
        self._one_by_one.show()
        self._one_by_one.raise_()
        return self._one_by_one

    def set_up_experiment(self, key: str) -> None:
        """Fill the Train form and show the tab an experiment starts from."""
        experiment = experiments.BY_KEY[key]
        if experiment.tab == "one-by-one":
            self.show_one_by_one()
            return
        configs = experiment.configs()
        if configs is not None:
            if self.train_tab.is_running():
                self.statusBar().showMessage("Set it up once the training has ended.", 5000)
                return
            self.train_tab.form.set_configs(*configs)
        tab = {
            "train": self.train_tab,
            "explore": self.explorer_tab,
            "network": self.network_tab,
            "draw": self.draw_tab,
        }[experiment.tab]
        self.tabs.setCurrentWidget(tab)
        if experiment.page == "abstain":
            self.explorer_tab.pages.setCurrentWidget(self.explorer_tab.abstain)
        self.statusBar().showMessage(f"Set up: {experiment.title}", 8000)

    @staticmethod
    def _show_dialog(dialog: QDialog) -> None:
        dialog.exec()
        dialog.deleteLater()

    def set_appearance(self, mode: str) -> None:
        """System, light or dark, remembered; the charts follow."""
        self.appearance = mode if mode in MODES else "system"
        apply_appearance(cast(QApplication, QApplication.instance()), self.appearance)
        restyle_charts(self)
        for action in self.appearance_actions.actions():
            action.setChecked(action.data() == self.appearance)
        self.settings.setValue("appearance", self.appearance)

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
        if self.appearance != "system":
            self.set_appearance(self.appearance)

    def write_settings(self) -> None:
        write_window_settings(self.settings, self, self.tabs, self.train_tab.settings())

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing and not self._may_stop_running_work():
            event.ignore()  # Cancel: everything goes on as it was
            return
        self.explorer_tab.shutdown()
        if self._one_by_one is not None:
            self._one_by_one.shutdown()
        self.handwriting.shutdown()
        self.train_tab.shutdown_jobs(2000)
        self.panel.shutdown(2000)
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
        self.train_tab.release()
        event.accept()

    def _may_stop_running_work(self) -> bool:
        """Ask before closing stops a training run or a teaching; False: Cancel."""
        work = [
            name
            for name, running in (
                ("a model is training", self.train_tab.is_running()),
                ("your handwriting is being taught", self.handwriting.is_running()),
                (
                    "the 1×1 experiment is training",
                    self._one_by_one is not None and self._one_by_one.is_running(),
                ),
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
