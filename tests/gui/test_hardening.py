"""Bad input through the app: a refused checkpoint changes nothing; damaged settings and
kept digits are reported and skipped; a stalled download never holds the window open."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from mnist_desk.bundled import load_bundled_checkpoint
from mnist_desk.core import data as data_mod
from mnist_desk.gui import create_window, dialogs
from mnist_desk.gui.main_window import MainWindow
from tests.gui.lookup import dispose


def _payload(**changes: object) -> dict[str, object]:
    return {**load_bundled_checkpoint().to_payload(), **changes}


def _sparse() -> dict[str, object]:
    payload = _payload()
    state = dict(payload["model_state"])  # type: ignore[call-overload]
    key = next(iter(state))
    state[key] = state[key].to_sparse()
    return _payload(model_state=state)


BAD = {
    "versions-not-a-dict": lambda: _payload(versions=[1]),
    "sparse-weights": _sparse,
    "history-of-the-wrong-shape": lambda: _payload(history=[{"epoch": 1, "loss": "x"}]),
    "schema-true": lambda: _payload(schema_version=True),
}


@pytest.mark.parametrize("name", BAD)
def test_a_refused_checkpoint_changes_nothing(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = tmp_path / f"{name}.pt"
    torch.save(BAD[name](), path)
    messages: list[str] = []
    monkeypatch.setattr(dialogs, "get_open_file_name", lambda *a, **k: str(path))
    monkeypatch.setattr(QMessageBox, "critical", lambda p, t, text, *a: messages.append(text))
    before = (window.session.checkpoint, window.session.predictor.model, window.windowTitle())
    rows = window.train_tab.table.rowCount()
    window.open_action.trigger()
    assert len(messages) == 1 and "\n" not in messages[0] and path.name in messages[0]
    after = (window.session.checkpoint, window.session.predictor.model, window.windowTitle())
    assert after == before and window.train_tab.table.rowCount() == rows
    assert window.recent.files() == []


@pytest.mark.parametrize(
    "form", ["{not json", "[" * 100_000 + "]" * 100_000], ids=["damaged", "deep"]
)
def test_damaged_settings_are_reported_and_reset(qtbot: QtBot, form: str) -> None:
    from mnist_desk.gui.app import configure_application

    configure_application(QApplication.instance())  # type: ignore[arg-type]
    settings = QSettings()  # where the window reads them (named as the app names itself)
    settings.setValue("geometry", "not a geometry")
    settings.setValue("currentTab", "99")
    settings.setValue("trainForm", form)  # the second nested deeper than JSON's parser goes
    settings.sync()
    win = create_window()
    try:
        message = win.statusBar().currentMessage()
        assert "could not be read and were reset" in message
        assert "window's size" in message and "Train tab" in message
        assert win.tabs.currentIndex() == 0 and win.train_tab.form.value("epochs") == 5
    finally:
        win.close()
        dispose(win)


def test_damaged_kept_digits_are_reported_and_skipped(
    qtbot: QtBot, isolated_user_data: Path
) -> None:
    folder = isolated_user_data / "my-digits"
    folder.mkdir(parents=True)
    (folder / "index.json").write_text("{damaged")
    (folder / "20260101-000000-000001_3.png").write_bytes(b"not a png")
    win = create_window()
    try:
        assert "index of your digits" in win.statusBar().currentMessage()
        assert len(win.handwriting.store) == 1
        _, labels = win.handwriting.store.mnist_arrays()  # the damaged picture: skipped
        assert len(labels) == 0
        assert any("could not be read" in p for p in win.handwriting.store.problems)
    finally:
        win.close()
        dispose(win)


@pytest.fixture
def stalled_mirror(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No MNIST anywhere, and a mirror that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    monkeypatch.delenv(data_mod.ENV_VAR, raising=False)
    monkeypatch.setenv(data_mod.MIRRORS_VAR, f"http://127.0.0.1:{sock.getsockname()[1]}/")
    monkeypatch.setattr(data_mod, "user_cache_dir", lambda: tmp_path / "empty-cache")
    yield
    sock.close()


def _closes_quickly(qtbot: QtBot, window: MainWindow) -> float:
    start = time.perf_counter()
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)
    return time.perf_counter() - start


def test_the_window_closes_during_a_stalled_download_for_training(
    qtbot: QtBot, window: MainWindow, stalled_mirror: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    window.train_tab.start_training()
    qtbot.waitUntil(lambda: "MNIST" in window.train_tab.status_label.text(), timeout=3000)
    qtbot.wait(300)  # the download has begun and stalls
    assert window.train_tab.is_running()
    assert _closes_quickly(qtbot, window) < 2.0


def test_the_window_closes_during_a_stalled_download_button(
    qtbot: QtBot, window: MainWindow, stalled_mirror: None
) -> None:
    box = window.train_tab.dataset
    box.download_button.click()
    qtbot.wait(300)
    assert box.is_downloading() and not box.download_progress.isHidden()
    assert _closes_quickly(qtbot, window) < 2.0
    qtbot.waitUntil(lambda: not box.is_downloading(), timeout=2000)


def test_a_stalled_download_can_be_cancelled(
    qtbot: QtBot, window: MainWindow, stalled_mirror: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda p, t, text, *a: warned.append(text))
    box = window.train_tab.dataset
    box.download_button.click()
    qtbot.wait(200)
    assert box.download_button.text() == "Cancel Download"
    box.download_button.click()
    qtbot.waitUntil(lambda: not box.is_downloading(), timeout=1000)
    assert box.download_button.text() == "Download MNIST" and warned == []
