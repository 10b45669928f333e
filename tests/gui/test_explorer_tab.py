from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from mnist_desk.gui.main_window import MainWindow
from tests.gui.lookup import child


def _evaluated(qtbot: QtBot, window: MainWindow):
    tab = window.explorer_tab
    with qtbot.waitSignal(tab.evaluated, timeout=60000):
        window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=5000)
    return tab


def test_confusion_matrix_of_the_test_set(qtbot: QtBot, window: MainWindow) -> None:
    tab = _evaluated(qtbot, window)
    matrix = tab.matrix.matrix()
    assert matrix.sum() == 10000
    accuracy = 100 * np.trace(matrix) / 10000
    assert abs(accuracy - window.session.test_acc) < 1e-6  # the bundled model's own figure
    assert f"{accuracy:.2f}%" in tab.summary.text()
    assert tab.per_class.text().startswith("Per digit: 0:")
    assert tab.run_button.isEnabled()


def test_clicking_a_cell_fills_the_gallery(qtbot: QtBot, window: MainWindow) -> None:
    tab = _evaluated(qtbot, window)
    r = tab.result
    # the most frequent mistake
    off = tab.matrix.matrix().copy()
    np.fill_diagonal(off, 0)
    true, pred = np.unravel_index(off.argmax(), off.shape)
    centre = tab.matrix.cell_rect(int(true), int(pred)).center().toPoint()
    qtbot.mouseClick(tab.matrix, Qt.MouseButton.LeftButton, pos=centre)
    idx = tab.gallery_indices()
    assert len(idx) == off.max() == tab.gallery.count()
    assert (r.labels[idx] == true).all() and (r.predictions[idx] == pred).all()
    conf = r.confidence[idx]
    assert (np.diff(conf) <= 0).all()  # most confident first
    tab.sort.setCurrentIndex(tab.sort.findData("low"))
    assert (np.diff(r.confidence[tab.gallery_indices()]) >= 0).all()


def test_mistakes_only_filter(qtbot: QtBot, window: MainWindow) -> None:
    tab = _evaluated(qtbot, window)
    r = tab.result
    mistakes = int((r.labels != r.predictions).sum())
    assert tab.mistakes_only.isChecked() and tab.gallery.count() == mistakes
    tab.mistakes_only.setChecked(False)
    assert len(tab.gallery_indices()) == 10000 and tab.gallery.count() == 400  # capped


def test_a_gallery_image_goes_to_the_draw_tab(qtbot: QtBot, window: MainWindow) -> None:
    tab = _evaluated(qtbot, window)
    item = tab.gallery.item(0)
    index = int(item.data(Qt.ItemDataRole.UserRole))
    rect = tab.gallery.visualItemRect(item)
    qtbot.mouseClick(tab.gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentWidget() is window.draw_tab
    assert not window.draw_tab.canvas.is_empty()
    shown = child(window, QLabel, "predictedDigit").text()
    assert shown == str(int(tab.result.predictions[index]))  # the same reading as in the explorer
