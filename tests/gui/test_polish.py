"""What a careful user notices: keys that work on every tab with the canvas, messages that
do not outlive their moment, one reading per image, help made from the real actions,
light and dark, a layout that holds still."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from mnist_desk.gui import dialogs
from mnist_desk.gui.help import shortcut_rows
from mnist_desk.gui.main_window import MainWindow
from tests.drawing import stroke
from tests.gui.lookup import child

ONE = [(0.5, 0.15), (0.5, 0.85)]
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]


def test_drawing_keys_work_on_the_network_tab(qtbot: QtBot, window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.network_tab)
    qtbot.waitUntil(lambda: window.panel.canvas.isVisible())
    stroke(window.panel.canvas, SEVEN)
    window.network_tab.table.setFocus()  # where a click on the layer table puts it
    qtbot.keyClick(window.network_tab.table, Qt.Key.Key_7)
    assert [s.label for s in window.handwriting.store.samples()] == [7]
    qtbot.keyClick(window.network_tab.table, Qt.Key.Key_Delete)
    assert window.panel.canvas.is_empty()
    window.tabs.setCurrentWidget(window.draw_tab)
    assert window.panel.canvas.hasFocus()  # the canvas takes the keys on arrival


def test_drawing_keys_leave_the_train_form_alone(qtbot: QtBot, window: MainWindow) -> None:
    stroke(window.panel.canvas, ONE)
    window.tabs.setCurrentWidget(window.train_tab)
    epochs = window.train_tab.form.editor("epochs")
    epochs.setFocus()
    qtbot.keyClick(epochs, Qt.Key.Key_Delete)
    qtbot.keyClick(epochs, Qt.Key.Key_3)
    assert not window.panel.canvas.is_empty() and len(window.handwriting.store) == 0


def test_messages_do_not_outlive_their_moment(qtbot: QtBot, window: MainWindow) -> None:
    window.panel.keep_as(3)
    assert "Draw something first" in window.panel.kept_label.text()
    stroke(window.panel.canvas, ONE)
    assert window.panel.kept_label.text() == ""
    window.panel.keep_as(1)
    assert "Kept as a 1" in window.panel.kept_label.text()
    window.panel.canvas.clear()
    assert window.panel.kept_label.text() == ""
    assert child(window, QLabel, "deviceStatus").text().startswith("Trains on")


def test_revert_shows_ready_not_done(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    from mnist_desk.core.config import ModelConfig, TrainConfig

    window.train_tab.form.set_configs(ModelConfig(), TrainConfig(epochs=1))
    window.train_tab.dataset.set_folder(str(small_mnist_dir))
    window.train()
    qtbot.waitUntil(lambda: not window.train_tab.is_running(), timeout=60000)
    assert window.train_tab.progress.format() == "Done"
    assert "Training" not in window.statusBar().currentMessage()
    window.revert_to_bundled()
    assert window.train_tab.progress.format() == "Ready"


def test_a_test_image_reads_the_same_in_the_explorer_and_on_the_draw_tab(
    qtbot: QtBot, window: MainWindow
) -> None:
    explorer = window.explorer_tab
    window.tabs.setCurrentWidget(explorer)
    qtbot.waitUntil(lambda: explorer.result is not None, timeout=60000)
    result = explorer.result
    assert result is not None
    explorer.matrix.cell_clicked.emit(4, 9)
    item = explorer.gallery.item(0)
    index = int(item.data(Qt.ItemDataRole.UserRole))
    explorer.gallery.itemClicked.emit(item)
    prediction = window.draw_tab.prediction
    assert prediction is not None
    assert prediction.digit == int(result.predictions[index])
    assert prediction.confidence == pytest.approx(float(result.confidence[index]), abs=1e-4)
    shown = child(window, QLabel, "confidence").text()
    assert f"{100 * result.confidence[index]:.1f}%" in shown
    stroke(window.panel.canvas, ONE)  # drawn over: read as a drawing again
    window.draw_tab.predict_now()
    assert window.panel.canvas.exact_image() is None


def test_unsure_does_not_move_the_layout(qtbot: QtBot, window: MainWindow) -> None:
    tab = window.draw_tab
    stroke(tab.canvas, ONE)
    tab.predict_now()
    qtbot.wait(50)
    sure = (tab.digit_label.geometry(), tab.chart.geometry())
    tab.canvas.clear()
    stroke(tab.canvas, [(0.2, 0.5), (0.5, 0.2), (0.8, 0.5), (0.5, 0.8), (0.2, 0.5)])
    stroke(tab.canvas, [(0.2, 0.2), (0.8, 0.8)])
    tab.predict_now()
    qtbot.wait(50)
    assert child(window, QLabel, "confidence").text().startswith(("unsure", "9", "8", "0"))
    assert (tab.digit_label.geometry(), tab.chart.geometry()) == sure


def test_the_brush_is_labelled_in_screen_pixels(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.panel
    panel.brush_slider.setValue(28)
    side = panel.canvas.drawing_rect().width()
    assert panel.brush_label.text() == f"{28 / 280 * side:.0f} px"


def test_the_shortcuts_window_lists_every_action_with_a_shortcut(window: MainWindow) -> None:
    rows = dict(shortcut_rows(window))
    with_keys = [a for a in window.menu_actions.values() if a.shortcut().toString()]
    named = [a for a in with_keys if not a.objectName().startswith("keepAs")]
    for action in named + window.tab_actions:
        text = action.text().replace("&", "")
        assert any(path.endswith(text) for path in rows), text
    assert rows["Edit > Keep Drawing As > 0 … 9"] == "0 … 9"
    assert rows["Tools > Train"] == "Ctrl+T" and rows["File > Open Checkpoint…"] == "Ctrl+O"


def test_help_pages_open(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QDialog, QTextBrowser

    seen: list[str] = []

    def record(dialog: QDialog) -> int:
        seen.append(dialog.windowTitle())
        browser = dialog.findChild(QTextBrowser)
        if browser is not None:
            assert len(browser.toPlainText()) > 1000
        return 0

    monkeypatch.setattr(QDialog, "exec", record)
    window.guide_action.trigger()
    window.inside_action.trigger()
    window.shortcuts_action.trigger()
    assert seen == ["How to Use MNIST Desk", "What the Network Sees", "Keyboard Shortcuts"]


def test_dark_appearance_is_applied_and_remembered(qtbot: QtBot, window: MainWindow) -> None:
    import pyqtgraph as pg

    window.set_appearance("dark")
    palette = QApplication.palette()
    assert palette.color(QPalette.ColorRole.Window).lightness() < 100
    chart = window.draw_tab.chart
    assert isinstance(chart, pg.PlotWidget)
    assert chart.backgroundBrush().color().lightness() < 100
    assert window.settings.value("appearance") == "dark"
    assert [a.isChecked() for a in window.appearance_actions.actions()] == [False, False, True]
    window.set_appearance("light")
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 200


def test_the_explorer_gallery_pages_and_cells(qtbot: QtBot, window: MainWindow) -> None:
    explorer = window.explorer_tab
    window.tabs.setCurrentWidget(explorer)
    qtbot.waitUntil(lambda: explorer.result is not None, timeout=60000)
    explorer.matrix.cell_clicked.emit(1, 1)
    assert not explorer.mistakes_only.isEnabled() and "read right" in explorer.gallery_label.text()
    assert explorer.gallery.count() == 400 and not explorer.show_more.isHidden()
    explorer.show_more.click()
    assert explorer.gallery.count() == 800
    assert "\u00a0" in explorer.per_class.text()  # "8: 99.7%" never broken inside


def test_onnx_export_name_and_mode(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnx")
    suggested: list[str] = []

    def save(parent: object, caption: str, name: str, filt: str) -> str:
        suggested.append(Path(name).name)
        return str(tmp_path / "m.onnx")

    monkeypatch.setattr(dialogs, "get_save_file_name", save)
    window.export_onnx_action.trigger()
    assert suggested == ["Compact-CNN-2-best-preset-drawn-digits.onnx"]  # "×" left out
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE((tmp_path / "m.onnx").stat().st_mode)
    assert mode == 0o666 & ~umask


def test_the_input_preview_draws_inside_its_border(qtbot: QtBot, window: MainWindow) -> None:
    preview = window.draw_tab.preview
    preview.set_array(np.ones((28, 28), np.float32))
    preview.resize(170, 150)
    image = preview.grab().toImage()
    side = min(preview.width(), preview.height())
    left = (preview.width() - side) // 2
    outside = image.pixelColor(left + side, preview.height() // 2)  # one past the border
    assert outside == preview.palette().color(QPalette.ColorRole.Window)


def test_dialog_buttons_have_no_icons(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QStyle

    style = QApplication.style()
    assert style.styleHint(QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons) == 0
    _ = QMessageBox


def test_experiments_are_set_up_in_one_click(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtWidgets import QDialog, QTextBrowser

    from mnist_desk.gui.experiments import EXPERIMENTS

    clicked: list[str] = []

    def click_first_link(dialog: QDialog) -> int:
        browser = dialog.findChild(QTextBrowser, "experimentsText")
        assert browser is not None
        html = browser.toHtml()
        for e in EXPERIMENTS:
            assert e.title in browser.toPlainText() and f"experiment:{e.key}" in html
        browser.anchorClicked.emit(QUrl("experiment:augmentation"))  # as a click does
        clicked.append(dialog.windowTitle())
        return 0

    monkeypatch.setattr(QDialog, "exec", click_first_link)
    window.experiments_action.trigger()
    assert clicked == ["Experiments to Try"]
    # the seed recipe without its augmentation, on the Train tab, nothing training
    model, train = window.train_tab.form.configs()
    assert model.arch == "seed" and train.augment.rotation == 0 and train.augment.crop_p == 0
    assert train.epochs == 5 and window.tabs.currentWidget() is window.train_tab
    assert not window.train_tab.is_running()
    window.set_up_experiment("learning-rate")
    assert window.train_tab.form.configs()[1].lr == 0.1
    window.set_up_experiment("abstain")
    assert window.tabs.currentWidget() is window.explorer_tab
    assert window.explorer_tab.pages.currentWidget() is window.explorer_tab.abstain
    for e in EXPERIMENTS:  # every one sets up without error
        window.set_up_experiment(e.key)


def test_a_long_model_name_gives_way_to_a_job_in_the_status_bar(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.resize(1100, 720)  # as in the screenshots, where the job's words were cut
    status, progress = window.status, window.handwriting.progress
    status.model.setText("Model: " + "a very long name for a model, " * 4)
    progress.start("Teaching your handwriting")
    progress.report(1, 10, "reading your digits and MNIST's test images, then training")
    qtbot.waitUntil(lambda: progress.isVisible())
    qtbot.wait(50)  # the status bar's layout settles
    title = progress.label.fontMetrics().horizontalAdvance("Teaching your handwriting: …")
    assert progress.label.width() >= title  # what the job is stays readable
    assert status.model.width() < status.model.sizeHint().width()  # the name gave way
    assert "a very long name" in status.model.toolTip()  # and is whole in its tooltip
    assert "then training" in progress.label.toolTip()
    for label in (status.accuracy, status.params, status.device):
        assert label.width() >= label.sizeHint().width()
    progress.finish()


def test_every_alt_key_of_the_menu_bar_and_the_tabs_is_its_own(window: MainWindow) -> None:
    """Alt+T opened the Train tab instead of the Tools menu: the two shared a key."""

    def key(text: str) -> str:
        at = text.replace("&&", "").find("&")
        return text.replace("&&", "")[at + 1].lower() if at >= 0 else ""

    titles = [a.text() for a in window.menuBar().actions()]
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    keys = [key(t) for t in titles + tabs]
    assert all(keys) and len(set(keys)) == len(keys), dict(zip(titles + tabs, keys, strict=True))


def test_the_first_window_fits_a_small_screen() -> None:
    from PySide6.QtCore import QRect, QSize

    from mnist_desk.gui.window_settings import DEFAULT_SIZE, first_size

    minimum = QSize(688, 509)
    assert first_size(QRect(0, 0, 1920, 1040), minimum) == QSize(*DEFAULT_SIZE)
    small = first_size(QRect(0, 0, 800, 600), minimum)
    assert small.width() < 800 and small.height() < 600  # the frame fits too
    assert first_size(QRect(0, 0, 640, 480), minimum) == minimum  # it cannot shrink further


def test_the_window_starts_within_its_screen(window: MainWindow) -> None:
    # the test screen (offscreen) is 800 pixels wide, narrower than the default size
    available = window.screen().availableGeometry()
    assert available.width() < 1100
    assert window.width() <= available.width() and window.height() <= available.height()
