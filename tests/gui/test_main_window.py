from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from mnist_desk.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.metrics import BatchCurve, EpochMetrics, TestMetrics
from mnist_desk.core.model import build_model
from mnist_desk.gui import create_window, dialogs
from mnist_desk.gui.main_window import MainWindow
from tests.gui.lookup import current, dispose


def _other_checkpoint(tmp_path: Path, name: str = "other model") -> Path:
    torch.manual_seed(1)
    cfg = ModelConfig(batchnorm=True)
    history = (
        EpochMetrics(1, 2, 0.5, 85.0, 0.2, 94.0, seconds=3.0, samples_per_s=2e4, lr=0.002),
        EpochMetrics(2, 2, 0.3, 91.0, 0.1, 96.5, seconds=3.0, samples_per_s=2e4, lr=0.002),
    )
    ckpt = Checkpoint(
        cfg,
        build_model(cfg).state_dict(),
        name=name,
        train_config=TrainConfig(epochs=2),
        history=history,
        test_metrics=TestMetrics(test_loss=0.1, test_acc=96.5, n=10000),
        batch_curve=BatchCurve(
            (0.5, 1.0, 1.5, 2.0), (1.0, 0.5, 0.4, 0.3), (70.0, 85.0, 89.0, 91.0)
        ),
    )
    return save_checkpoint(ckpt, tmp_path / "other.pt")


def _make_dirty(window: MainWindow) -> None:
    ckpt = current(window)
    window.session.set_trained(Checkpoint(ckpt.model_config, ckpt.model_state, name="fresh run"))


def test_starts_with_the_bundled_model(window: MainWindow) -> None:
    assert window.session.is_bundled and not window.session.dirty
    assert window.session.test_acc is not None and window.session.test_acc >= 99.5
    assert f"{window.session.test_acc:.2f}%" in window.status.accuracy.text()
    assert window.status.params.text() == f"{window.session.parameter_count:,} parameters"
    assert "CPU" in window.status.device.text() or "CUDA" in window.status.device.text()
    assert window.session.name in window.windowTitle()


def test_menus_and_shortcuts(window: MainWindow) -> None:
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "&Tools", "&Help"]
    assert window.open_action.shortcut().toString() == "Ctrl+O"
    assert window.save_action.shortcut().toString() == "Ctrl+S"
    assert window.save_as_action.shortcut().toString() == "Ctrl+Shift+S"
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    assert window.undo_action.shortcut().toString() == "Ctrl+Z"
    file_menu = window.menuBar().actions()[0].menu()
    assert isinstance(file_menu, QMenu)
    texts = [a.text() for a in file_menu.actions() if a.text()]
    assert texts == [
        "&Open Checkpoint…",
        "Open &Recent",
        "&Save Checkpoint",
        "Save Checkpoint &As…",
        "&Compare With Checkpoints…",
        "C&lear Comparisons",
        "&Export",
        "&Revert to Bundled Model",
        "&Quit",
    ]
    assert [a.shortcut().toString() for a in window.tab_actions] == [
        "Ctrl+1",
        "Ctrl+2",
        "Ctrl+3",
        "Ctrl+4",
        "Ctrl+5",
    ]


def test_open_through_the_menu_restores_history(
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _other_checkpoint(tmp_path)
    monkeypatch.setattr(dialogs, "get_open_file_name", lambda *a, **k: str(path))
    window.open_action.trigger()
    assert window.session.name == "other model" and window.session.path == path
    assert not window.session.is_bundled and not window.session.dirty
    assert "96.50%" in window.status.accuracy.text()
    assert window.train_tab.table.rowCount() == 2
    assert window.train_tab.curves.epoch_count() == 2 and window.train_tab.curves.batch_count() == 4
    assert window.recent.files()[0] == str(path.resolve())
    assert window.revert_action.isEnabled()


def test_invalid_checkpoint_changes_nothing(
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_text("not a checkpoint")
    messages: list[str] = []
    monkeypatch.setattr(dialogs, "get_open_file_name", lambda *a, **k: str(bad))
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: messages.append(text)
    )
    before, weights = window.session.checkpoint, window.session.predictor.model
    window.open_action.trigger()
    assert len(messages) == 1 and "bad.pt" in messages[0]
    assert window.session.checkpoint is before and window.session.predictor.model is weights
    assert window.recent.files() == []


def test_save_as_through_the_menu(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_dirty(window)
    assert window.isWindowModified()
    target = tmp_path / "saved"  # no suffix: .pt is added
    monkeypatch.setattr(dialogs, "get_save_file_name", lambda *a, **k: str(target))
    window.save_action.trigger()  # Ctrl+S on a never-saved model asks where
    saved = tmp_path / "saved.pt"
    assert saved.exists() and load_checkpoint(saved).name == "fresh run"
    assert not window.session.dirty and not window.isWindowModified()
    assert window.session.path == saved
    # a second save writes to the same file without asking
    monkeypatch.setattr(dialogs, "get_save_file_name", lambda *a, **k: pytest.fail("asked again"))
    window.session.rename("renamed")
    window.save_action.trigger()
    assert load_checkpoint(saved).name == "renamed"


def test_failed_save_is_reported(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_dirty(window)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    messages: list[str] = []
    monkeypatch.setattr(dialogs, "get_save_file_name", lambda *a, **k: str(blocker / "m.pt"))
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: messages.append(text)
    )
    window.save_as_action.trigger()
    assert len(messages) == 1 and "cannot save" in messages[0]
    assert window.session.dirty


@pytest.mark.parametrize(
    ("answer", "closes"),
    [(QMessageBox.StandardButton.Cancel, False), (QMessageBox.StandardButton.Discard, True)],
)
def test_unsaved_changes_prompt(
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    answer: QMessageBox.StandardButton,
    closes: bool,
) -> None:
    _make_dirty(window)
    asked: list[str] = []

    def warning(parent: object, title: str, text: str, *a: object) -> QMessageBox.StandardButton:
        asked.append(title)
        return answer

    monkeypatch.setattr(QMessageBox, "warning", warning)
    window.close()
    assert asked == ["Unsaved model"]
    assert window.isVisible() != closes


def test_prompt_save_then_close(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_dirty(window)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Save)
    monkeypatch.setattr(dialogs, "get_save_file_name", lambda *a, **k: str(tmp_path / "k.pt"))
    window.close()
    assert (tmp_path / "k.pt").exists() and not window.isVisible()


def test_closing_during_training_asks_then_stops_it(
    qtbot: QtBot,
    window: MainWindow,
    small_mnist_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def question(parent: object, title: str, *a: object) -> QMessageBox.StandardButton:
        asked.append(title)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    form = window.train_tab.form
    form.set_configs(ModelConfig(), TrainConfig(epochs=50))
    window.train_tab.dataset.set_folder(str(small_mnist_dir))
    window.train_tab.start_training()
    qtbot.waitUntil(lambda: window.train_tab.curves.batch_count() > 0, timeout=30000)
    window.close()
    assert asked == ["Quit While Training"]
    assert window.isVisible()  # not yet: the worker is stopping
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert not window.train_tab.is_running()
    runs = window.workspace.runs.runs()
    assert [r.status for r in runs][-1] == "stopped"  # what was done is kept


def test_closing_during_training_cancelled_leaves_it_running(
    qtbot: QtBot,
    window: MainWindow,
    small_mnist_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Cancel)
    form = window.train_tab.form
    form.set_configs(ModelConfig(), TrainConfig(epochs=1))
    window.train_tab.dataset.set_folder(str(small_mnist_dir))
    window.train_tab.start_training()
    qtbot.waitUntil(lambda: window.train_tab.curves.batch_count() > 0, timeout=30000)
    window.close()
    assert window.isVisible() and window.train_tab.is_running()
    assert "Stopping" not in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.train_tab.is_running(), timeout=60000)
    run = window.workspace.runs.get(str(window.session.run_id))  # it ran to its end
    assert run.status == "finished" and run.epochs_done == 1 and window.isVisible()


def test_revert_to_bundled(window: MainWindow, tmp_path: Path) -> None:
    window.open_checkpoint(_other_checkpoint(tmp_path))
    assert not window.session.is_bundled
    window.revert_action.trigger()
    assert window.session.is_bundled and window.session.test_acc >= 99.5
    assert not window.revert_action.isEnabled()


def test_about_names_versions_and_device(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: texts.append(text))
    window.about_action.trigger()
    assert len(texts) == 1
    assert torch.__version__ in texts[0] and "Qt" in texts[0] and "device" in texts[0].lower()


def test_settings_survive_a_restart(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    window.resize(760, 580)  # within the offscreen screen (800x600)
    window.train_tab.form.set_value("epochs", 7)
    window.train_tab.dataset.set_folder(str(tmp_path))
    window.tabs.setCurrentIndex(1)
    window.recent.add(_other_checkpoint(tmp_path))
    window.close()
    assert QSettings().value("trainForm")
    again = create_window()
    try:
        assert again.train_tab.form.value("epochs") == 7
        assert again.workspace.data_dir == str(tmp_path)
        assert again.tabs.currentIndex() == 1
        assert (again.width(), again.height()) == (760, 580)
        assert len(again.recent.files()) == 1
    finally:
        again.close()
        dispose(again)


def test_recent_menu_opens_a_file(window: MainWindow, tmp_path: Path) -> None:
    path = _other_checkpoint(tmp_path)
    window.recent.add(path)
    window.recent.fill_menu()
    first = window.recent.menu.actions()[0]
    assert first.text().endswith("other.pt")
    first.trigger()
    assert window.session.name == "other model"


def test_compare_with_checkpoints(
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = _other_checkpoint(tmp_path)
    bad = tmp_path / "bad.pt"
    bad.write_text("no")
    warnings: list[str] = []
    monkeypatch.setattr(dialogs, "get_open_file_names", lambda *a, **k: [str(good), str(bad)])
    monkeypatch.setattr(
        QMessageBox, "warning", lambda parent, title, text, *a: warnings.append(text)
    )
    window.compare_action.trigger()
    curves = window.runs_tab.chart
    assert curves.reference_count() == 1 and window.tabs.currentWidget() is window.runs_tab
    legend = [label.text for _, label in curves.legend.items]
    assert any("other model (seed, adam lr 0.002" in text for text in legend)
    assert len(warnings) == 1 and "bad.pt" in warnings[0]
    window.clear_compare_action.trigger()
    assert curves.reference_count() == 0
    assert not any("other model" in label.text for _, label in curves.legend.items)


def test_export_onnx_through_the_menu(
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("onnx")
    target = tmp_path / "digits"
    monkeypatch.setattr(dialogs, "get_save_file_name", lambda *a, **k: str(target))
    window.export_onnx_action.trigger()
    assert (tmp_path / "digits.onnx").stat().st_size > 10000


def test_the_app_exempts_its_startup_objects_from_full_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    from PySide6.QtWidgets import QApplication

    from mnist_desk.gui import app

    windows = []

    def fake_exec(self: QApplication) -> int:  # the event loop would block the test
        for widget in QApplication.topLevelWidgets():
            if widget.objectName() == "mainWindow":
                widget.close()
                windows.append(widget)
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    gc.unfreeze()
    try:
        assert app.run() == 0
        assert gc.get_freeze_count() > 0  # the modules, the window, its model
    finally:
        gc.unfreeze()
        for widget in windows:
            dispose(widget)


def test_the_app_loads_pytorch_before_qt() -> None:
    """Once PySide6 is loaded, its import hook reads the source of every module imported
    after it; PyTorch's thousand modules made that 0.2 s of every launch."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "order = []\n"
        "class Spy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('torch', 'PySide6') and name not in order: order.append(name)\n"
        "sys.meta_path.insert(0, Spy())\n"
        "import mnist_desk.gui.app\n"
        "print(','.join(order))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["torch,PySide6"]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="lists threads through /proc")
def test_the_app_paints_without_qts_helper_threads() -> None:
    """Qt's raster engine hands large fills to helper threads and waits: ~800 wake-ups a
    second while the curves repaint in training, each taking a core from it a moment."""
    import os
    import subprocess
    import sys

    paint = (
        "import os\n"
        "from PySide6.QtCore import QPointF\n"
        "from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath\n"
        "app = QGuiApplication([])\n"
        "image = QImage(1200, 800, QImage.Format.Format_ARGB32_Premultiplied)\n"
        "painter = QPainter(image)\n"
        "painter.setRenderHint(QPainter.RenderHint.Antialiasing)\n"
        "path = QPainterPath(QPointF(0, 0))\n"
        "for x in range(1, 1200, 3):\n"
        "    path.lineTo(QPointF(x, 400 + 300 * (x % 2)))\n"
        "painter.drawPath(path)\n"
        "painter.fillRect(0, 0, 1200, 800, QColor(10, 20, 30, 128))\n"
        "painter.end()\n"
        "names = [open(f'/proc/self/task/{t}/comm').read().strip()\n"
        "         for t in os.listdir('/proc/self/task')]\n"
        "print(sum(name == 'Thread (pooled)' for name in names))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"}
    env["QT_QPA_PLATFORM"] = "offscreen"

    def helper_threads(first: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", first + paint], capture_output=True, text=True, env=env
        )
        assert result.returncode == 0, result.stderr
        return int(result.stdout.split()[-1])

    if helper_threads("") == 0:
        pytest.skip("this Qt paints without helper threads anyway")
    assert helper_threads("import mnist_desk.gui\n") == 0
