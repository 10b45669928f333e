"""GUI tests run offscreen, with settings in a temporary folder."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QSettings

from mnist_desk.core.data import MNIST
from tests.gui.lookup import dispose
from tests.helpers import write_mnist_folder

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from mnist_desk.gui.main_window import MainWindow


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's kept digits go to a temporary folder."""
    import mnist_desk.core.samples as samples

    folder = tmp_path / "user-data"
    monkeypatch.setattr(samples, "user_data_dir", lambda: folder)
    return folder


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "settings"
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def training_in_a_thread(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs train in a thread of the test process, through the same pipe and messages as
    the app's child process (which would cost each test seconds to start, and which a
    monkeypatch cannot reach); tests marked `training_process` use the child process."""
    from mnist_desk.gui import training_worker

    if request.node.get_closest_marker("training_process") is None:
        monkeypatch.setattr(training_worker, "SEPARATE_PROCESS", False)


@pytest.fixture
def window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    from mnist_desk.gui import create_window

    win = create_window()
    win.show()
    qtbot.waitExposed(win)
    yield win
    # never leave a thread running or a modal prompt waiting behind a test (this is why
    # the window is not given to qtbot.addWidget, which closes before fixtures end)
    win.train_tab.shutdown(20000)
    qtbot.waitUntil(lambda: not win.train_tab.is_running(), timeout=5000)
    win.session.dirty = False
    win.close()
    dispose(win)


@pytest.fixture(scope="session")
def small_mnist_dir(tmp_path_factory: pytest.TempPathFactory, mnist: MNIST) -> Path:
    """A real MNIST subset as IDX files: 3,000 training and 1,000 test images."""
    folder = tmp_path_factory.mktemp("mnist-small")
    return write_mnist_folder(
        folder,
        (mnist.train_images[:3000].numpy(), mnist.train_labels[:3000].numpy()),
        (mnist.test_images[:1000].numpy(), mnist.test_labels[:1000].numpy()),
    )
