"""The Runs tab and the promise that no work is lost: every run listed and openable, the
library's cap, prompts only where something is truly unkept, the wheel that scrolls."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QScrollArea
from pytestqt.qtbot import QtBot

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.runs import Limits, Run
from mnist_desk.gui import dialogs
from mnist_desk.gui.main_window import MainWindow
from mnist_desk.gui.runs_tab import NAME, NAME_CHARS
from tests.gui.lookup import current


def _train_once(qtbot: QtBot, window: MainWindow, data: Path, seed: int) -> str:
    form = window.train_tab.form
    form.set_configs(ModelConfig(), TrainConfig(epochs=1, seed=seed))
    window.train_tab.dataset.set_folder(str(data))
    window.train()
    qtbot.waitUntil(lambda: not window.train_tab.is_running(), timeout=60000)
    assert window.session.run_id is not None
    return window.session.run_id


def _unkeep(window: MainWindow) -> None:
    ckpt = current(window)
    window.session.set_trained(Checkpoint(ckpt.model_config, ckpt.model_state, name="unkept"))


def test_two_runs_in_a_row_are_both_listed_and_openable(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    first = _train_once(qtbot, window, small_mnist_dir, seed=1)
    second = _train_once(qtbot, window, small_mnist_dir, seed=2)
    assert first != second
    window.tabs.setCurrentWidget(window.runs_tab)
    tab = window.runs_tab
    assert {first, second} <= {r.id for r in tab.runs}
    assert tab.table.rowCount() == len(tab.runs)
    assert tab.summary.text().startswith(f"{len(tab.runs)} runs, ")
    for run_id in (first, second):
        tab.select([run_id])
        assert tab.buttons["open"].isEnabled()
        tab.buttons["open"].click()
        assert window.session.run_id == run_id and not window.session.dirty
        saved = window.workspace.runs.checkpoint(run_id).model_state
        for key, value in current(window).model_state.items():
            assert torch.equal(value, saved[key])
    tab.select([first, second])  # both overlaid in the chart
    assert tab.comparison_count() == 2
    assert not tab.chart_hint.isVisibleTo(tab)  # the chart speaks for itself now
    tab.clear_comparison()
    assert tab.comparison_count() == 0
    assert tab.chart_hint.isVisibleTo(tab) and "Select runs" in tab.chart_hint.text()


def test_prompts_only_where_something_is_unkept(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def warning(parent: object, title: str, *a: object) -> QMessageBox.StandardButton:
        asked.append(title)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "warning", warning)
    window.train()  # the bundled model is kept: no question
    assert asked == [] and window.train_tab.is_running()
    window.train_tab.shutdown(20000)
    qtbot.waitUntil(lambda: not window.train_tab.is_running(), timeout=5000)
    _unkeep(window)
    before = window.session.checkpoint
    for act in (window.train, window.teach, window.revert_to_bundled):
        act()
        assert window.session.checkpoint is before and not window.train_tab.is_running()
    assert asked == ["Unsaved model"] * 3
    assert not window.handwriting.is_running()


def test_the_cap_removes_the_oldest_unpinned_run(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    library = window.workspace.runs
    for run in library.runs():
        library.delete(run.id)
    ids = [_train_once(qtbot, window, small_mnist_dir, seed=s) for s in range(3)]
    library.update_user_fields(ids[0], pinned=True)
    library.set_limits(Limits(max_runs=2))
    messages: list[str] = []
    window.runs_tab.message.connect(messages.append)
    removed = window.runs_tab.prune()
    assert [r.id for r in removed] == [ids[1]]
    assert [r.id for r in library.runs()] == [ids[0], ids[2]]
    assert messages and "removed the 1 oldest unpinned" in messages[0]


def test_rename_note_pin_delete_export(
    qtbot: QtBot,
    window: MainWindow,
    small_mnist_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_id = _train_once(qtbot, window, small_mnist_dir, seed=3)
    tab = window.runs_tab
    window.tabs.setCurrentWidget(tab)
    tab.select([run_id])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("mine", True))
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("a note", True))
    tab.buttons["rename"].click()
    tab.select([run_id])
    tab.buttons["note"].click()
    tab.select([run_id])
    tab.buttons["pin"].click()
    run = window.workspace.runs.get(run_id)
    assert (run.name, run.note, run.pinned) == ("mine", "a note", True)
    name_cell = tab.table.item(tab.table.currentRow(), NAME)
    assert name_cell is not None and name_cell.toolTip() == f"mine\n{run_id}\na note"
    monkeypatch.setattr(dialogs, "get_save_file_name", lambda *a, **k: str(tmp_path / "m.csv"))
    tab.select([run_id])
    tab.buttons["export"].click()
    assert (tmp_path / "m.csv").read_text().startswith("epoch,")
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Cancel)
    tab.select([run_id])
    tab.buttons["delete"].click()
    assert window.workspace.runs.get(run_id)  # Cancel: still there
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    tab.select([run_id])
    tab.buttons["delete"].click()
    assert run_id not in {r.id for r in window.workspace.runs.runs()}


def test_the_name_column_stays_readable_in_a_narrow_window_and_fills_a_wide_one(
    qtbot: QtBot, window: MainWindow
) -> None:
    tab = window.runs_tab
    header = tab.table.horizontalHeader()
    window.resize(800, 600)  # the first window on an 800x600 screen: "Name" was "lam"
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.table.viewport().width() < header.length())
    readable = tab.table.fontMetrics().horizontalAdvance("x" * NAME_CHARS)
    assert header.sectionSize(NAME) >= max(readable, header.sectionSizeFromContents(NAME).width())
    assert tab.table.horizontalScrollBar().maximum() > 0  # the table scrolls instead
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: tab.table.horizontalScrollBar().maximum() == 0)
    assert header.length() == tab.table.viewport().width()  # the name takes what is left
    assert header.sectionSize(NAME) > readable


def test_runs_are_sorted_by_value(qtbot: QtBot, window: MainWindow, small_mnist_dir: Path) -> None:
    for seed in (4, 5):
        _train_once(qtbot, window, small_mnist_dir, seed=seed)
    tab = window.runs_tab
    tab.refresh()
    tab.table.sortItems(7, Qt.SortOrder.DescendingOrder)  # test accuracy
    values = [tab.table.item(r, 7).text() for r in range(tab.table.rowCount())]  # type: ignore[union-attr]
    numbers = [float(v.rstrip("%")) for v in values if v]
    assert numbers == sorted(numbers, reverse=True)


def test_the_wheel_scrolls_the_form_not_an_unfocused_value(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.resize(900, 500)  # the form needs to scroll
    window.tabs.setCurrentWidget(window.train_tab)
    qtbot.waitUntil(lambda: window.train_tab.isVisible())
    gamma = window.train_tab.form.editor("gamma")
    window.train_tab.form.set_value("scheduler", "step")
    scroll = window.train_tab.findChild(QScrollArea, "trainFormScroll")
    assert scroll is not None
    before, position = gamma.value(), scroll.verticalScrollBar().value()  # type: ignore[union-attr]
    centre = QPointF(gamma.rect().center())
    for _ in range(3):
        event = QWheelEvent(
            centre,
            QPointF(gamma.mapToGlobal(centre.toPoint())),
            QPoint(0, 0),
            QPoint(0, -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(gamma, event)
    assert gamma.value() == before  # type: ignore[union-attr]
    assert scroll.verticalScrollBar().value() > position  # the form scrolled instead
    gamma.setFocus()
    qtbot.waitUntil(gamma.hasFocus)
    QApplication.sendEvent(gamma, event)
    assert gamma.value() != before  # type: ignore[union-attr]


def test_the_library_is_read_again_only_while_the_runs_tab_is_shown(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run in training changes its record every epoch: a hidden Runs tab waits until
    it is shown instead of reading the whole library each time."""
    tab = window.runs_tab
    library = window.workspace.runs
    reads: list[int] = []
    real_runs = library.runs

    def counted() -> list[Run]:
        reads.append(1)
        return real_runs()

    monkeypatch.setattr(library, "runs", counted)
    window.tabs.setCurrentWidget(window.draw_tab)
    window.workspace.runs_changed.emit()
    assert reads == []
    window.tabs.setCurrentWidget(tab)
    assert reads
    shown = len(reads)
    window.workspace.runs_changed.emit()
    assert len(reads) == shown + 1
