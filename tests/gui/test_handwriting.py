from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from mnist_desk.core.finetune import finetune_config
from mnist_desk.gui.main_window import MainWindow
from mnist_desk.gui.samples_dialog import SamplesDialog
from tests.drawing import stroke

ONE = [(0.35, 0.3), (0.55, 0.15), (0.55, 0.85)]  # a one with a long flag


def test_a_digit_key_keeps_the_drawing(
    qtbot: QtBot, window: MainWindow, isolated_user_data: Path
) -> None:
    canvas = window.draw_tab.canvas
    stroke(canvas, ONE)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    store = window.handwriting.store
    assert len(store) == 1 and store.samples()[0].label == 1
    assert "Kept as a 1" in window.panel.kept_label.text()
    assert (isolated_user_data / "my-digits" / store.samples()[0].file).is_file()
    window.panel.keep_buttons[7].click()  # the same drawing again: kept once only
    assert [s.label for s in store.samples()] == [1]
    assert "already kept as a 1" in window.panel.kept_label.text()
    stroke(canvas, [(0.3, 0.2), (0.7, 0.2)])  # drawn on: a new drawing, and a new message
    assert window.panel.kept_label.text() == ""
    window.panel.keep_buttons[7].click()
    assert [s.label for s in store.samples()] == [1, 7]


def test_nothing_to_keep_on_an_empty_canvas(window: MainWindow) -> None:
    window.panel.keep_buttons[3].click()
    assert len(window.handwriting.store) == 0
    assert "Draw something" in window.panel.kept_label.text()


def test_browse_and_delete(qtbot: QtBot, window: MainWindow) -> None:
    for digit in (1, 1, 7):
        window.draw_tab.canvas.clear()
        stroke(window.draw_tab.canvas, ONE)
        window.panel.keep_as(digit)
    dialog = SamplesDialog(window.handwriting.store, window)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 3 and "1: 2, 7: 1" in dialog.summary.text()
    dialog.list.item(0).setSelected(True)
    dialog.delete_button.click()
    assert dialog.list.count() == 2 and len(window.handwriting.store) == 2


def test_teaching_needs_a_few_samples(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: said.append(text))
    window.teach_action.trigger()
    assert len(said) == 1 and "at least 5" in said[0]
    assert not window.handwriting.is_running()


def test_teach_it_my_handwriting(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: said.append(text))
    for i in range(8):
        window.draw_tab.canvas.clear()
        x = 0.45 + 0.02 * i
        stroke(window.draw_tab.canvas, [(x - 0.2, 0.3), (x, 0.15), (x, 0.85)])
        window.panel.keep_as(1)
    before = window.session.checkpoint
    with qtbot.waitSignal(window.handwriting.finished, timeout=120000) as blocker:
        window.teach_action.trigger()
        assert window.handwriting.is_running() and not window.teach_action.isEnabled()
    report = blocker.args[0]
    assert report is not None and report.held_out == 1 and report.trained_on == 7
    assert report.mnist_after >= report.mnist_before - 0.2
    # the taught model is current and kept: a run of its own, nothing to save
    assert window.session.checkpoint is not before and not window.session.dirty
    run = window.workspace.runs.get(str(window.session.run_id))
    assert (
        run.preset == "teach"
        and run.status == "finished"
        and run.epochs_done == finetune_config().epochs
    )
    assert "MNIST test" in said[0] and "Runs tab" in said[0]
    qtbot.waitUntil(lambda: not window.handwriting.is_running(), timeout=5000)
    assert window.teach_action.isEnabled()
