from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QSpinBox
from pytestqt.qtbot import QtBot

from mnist_desk.core import steps
from mnist_desk.core.config import TrainConfig
from mnist_desk.core.insides import Insides
from mnist_desk.core.model import build_model
from mnist_desk.gui.main_window import MainWindow
from mnist_desk.gui.training_insides import ROW_MIN_HEIGHT, TrainingInsides
from tests.gui.lookup import child, current


def _configure(window: MainWindow, data_dir: Path, epochs: int = 1) -> None:
    form = window.train_tab.form
    form.set_configs(*form.configs()[:1], TrainConfig(epochs=epochs))
    window.train_tab.dataset.set_folder(str(data_dir))


def _button(window: MainWindow, name: str) -> QPushButton:
    return child(window, QPushButton, name)


def test_form_defaults_are_the_notebook_recipe(window: MainWindow) -> None:
    model, train = window.train_tab.form.configs()
    assert (train.epochs, train.batch_size, train.lr, train.optimizer) == (5, 64, 0.002, "adam")
    assert (train.scheduler, train.step_size, train.gamma) == ("step", 15, 0.1)
    assert (train.augment.rotation, train.augment.crop_p) == (15.0, 0.1)
    assert not model.batchnorm and model.dropout == 0.0
    epochs = window.train_tab.form.editor("epochs")
    assert isinstance(epochs, QSpinBox) and epochs.minimum() >= 1  # 0 epochs cannot be entered


def test_a_short_real_training_run(qtbot: QtBot, window: MainWindow, small_mnist_dir: Path) -> None:
    tab = window.train_tab
    _configure(window, small_mnist_dir)
    bundled_model = window.session.predictor.model
    labels: list[str] = []
    window.session.predictor_changed.connect(labels.append)
    window.tabs.setCurrentWidget(tab)
    _button(window, "trainButton").click()
    assert tab.is_running() and not _button(window, "trainButton").isEnabled()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=60000)
    assert tab.curves.batch_count() == 47  # 3,000 images in batches of 64
    assert tab.curves.epoch_count() == 1 and tab.table.rowCount() == 1
    assert tab.curves.raw_loss.getData()[0] is not None
    # the plots are still in the layout after the reset that started the run
    assert tab.curves.ci.getItem(0, 0) is tab.curves.legend
    assert tab.curves.ci.getItem(1, 0) is tab.curves.loss_plot
    assert tab.curves.ci.getItem(2, 0) is tab.curves.acc_plot
    assert any("epoch 1" in label for label in labels)  # the Draw tab read with epoch 1
    reading = window.session.predictor.model
    assert reading is not None and reading is not bundled_model  # reads with the new weights
    trained = current(window).model_state
    for key, value in reading.state_dict().items():
        assert torch.equal(value, trained[key]), key
    # kept in the runs library as it went: current, and nothing to save
    assert not window.session.dirty and not window.isWindowModified()
    run = window.workspace.runs.get(str(window.session.run_id))
    assert run.status == "finished" and run.epochs_done == 1
    assert run.test_acc == current(window).test_acc
    assert current(window).history[0].test_acc > 70.0
    assert "Test accuracy" in window.status.accuracy.text()
    assert _button(window, "trainButton").isEnabled()


def test_stop_mid_epoch_takes_effect_within_a_second(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    tab = window.train_tab
    _configure(window, small_mnist_dir, epochs=20)
    _button(window, "trainButton").click()
    qtbot.waitUntil(lambda: tab.curves.batch_count() > 0, timeout=30000)
    _button(window, "stopButton").click()
    start = time.perf_counter()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=5000)
    assert time.perf_counter() - start < 1.0
    assert tab.curves.epoch_count() < 20
    # the model the user had stays current; the stopped run is kept and can be chosen
    assert window.session.is_bundled and not window.session.dirty
    stopped = window.workspace.runs.runs()[-1]
    assert stopped.status == "stopped" and stopped.checkpoint_path() is not None
    use = _button(window, "useStoppedModel")
    assert not use.isHidden()
    use.click()
    assert window.session.run_id == stopped.id and not window.session.is_bundled
    assert current(window).test_acc is not None and use.isHidden()


def test_pause_holds_and_resume_continues(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    tab = window.train_tab
    _configure(window, small_mnist_dir, epochs=20)
    _button(window, "trainButton").click()
    qtbot.waitUntil(lambda: tab.curves.batch_count() > 0, timeout=30000)
    _button(window, "pauseButton").click()
    assert tab.is_paused() and _button(window, "pauseButton").text() == "Resume"
    qtbot.wait(500)  # let what was already sent arrive
    held = tab.curves.batch_count()
    qtbot.wait(600)
    assert tab.curves.batch_count() == held
    # nothing moves: no speed and no time left on the progress bar
    shown = tab.progress.format()
    assert shown.startswith("Paused at epoch ") and "/20 · batch " in shown
    assert "ETA" not in shown
    _button(window, "pauseButton").click()
    qtbot.waitUntil(lambda: tab.curves.batch_count() > held, timeout=5000)
    assert "ETA" in tab.progress.format()
    _button(window, "stopButton").click()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=5000)


def test_nan_loss_shows_a_clear_message_and_the_app_stays_usable(
    qtbot: QtBot,
    window: MainWindow,
    small_mnist_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: messages.append(text)
    )
    real_apply = steps.apply
    monkeypatch.setattr(
        steps, "apply", lambda images, theta: real_apply(images, theta) * float("nan")
    )
    before = window.session.checkpoint
    _configure(window, small_mnist_dir)
    _button(window, "trainButton").click()
    qtbot.waitUntil(lambda: not window.train_tab.is_running(), timeout=30000)
    assert len(messages) == 1 and "loss became nan" in messages[0]
    assert window.session.checkpoint is before and not window.session.dirty
    assert _button(window, "trainButton").isEnabled()


def test_missing_dataset_is_explained(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: messages.append(text)
    )
    _configure(window, tmp_path)
    _button(window, "trainButton").click()
    qtbot.waitUntil(lambda: not window.train_tab.is_running(), timeout=30000)
    assert len(messages) == 1 and str(tmp_path) in messages[0]
    assert "does not hold the four MNIST IDX files" in messages[0]


def test_curves_keep_a_long_run_light(qtbot: QtBot, window: MainWindow) -> None:
    from mnist_desk.core.training import BatchMetrics, EpochMetrics

    window.show()
    window.tabs.setCurrentWidget(window.train_tab)
    qtbot.waitExposed(window)
    curves = window.train_tab.curves
    assert curves.epoch_count() == 15  # at launch: the bundled model's own history
    curves.reset()
    for epoch in range(1, 31):
        batches = [
            BatchMetrics(epoch, b, 938, 1.0 / (epoch + b / 938), 90.0, 0.002, 1e4, 95.0)
            for b in range(1, 939)
        ]
        curves.append_batches(batches)
        curves.add_epoch(EpochMetrics(epoch, 30, 0.1, 97.0, 0.05, 98.0, 3.0, 2e4, 0.002))
    curves.refresh()
    curves.repaint()
    assert curves.batch_count() == 30 * 938 and curves.epoch_count() == 30
    x, _ = curves.raw_loss.getOriginalDataset()
    assert x[-1] == pytest.approx(30.0)  # the x axis counts epochs
    for plot in (curves.loss_plot, curves.acc_plot):
        assert plot.clipToViewMode()
        _, auto, method = plot.downsampleMode()
        assert auto and method == "peak"


def test_hidden_curves_wait_until_they_are_shown(qtbot: QtBot, window: MainWindow) -> None:
    from mnist_desk.core.training import BatchMetrics

    window.show()
    window.tabs.setCurrentWidget(window.draw_tab)
    qtbot.waitExposed(window)
    curves = window.train_tab.curves
    curves.reset()
    curves.append_batches(
        [BatchMetrics(1, b, 10, 1.0, 90.0, 0.002, 1e4, 95.0) for b in range(1, 4)]
    )
    curves.refresh()
    assert curves.raw_loss.getOriginalDataset()[0] is None  # nothing done off screen
    window.tabs.setCurrentWidget(window.train_tab)
    x, _ = curves.raw_loss.getOriginalDataset()
    assert x is not None and len(x) == 3


def test_preset_choice_fills_the_form(window: MainWindow) -> None:
    form = window.train_tab.form
    assert form.current_preset() == "seed"
    assert form.params_label.text() == "24,210 parameters"
    index = form.preset.findData("best")
    form.preset.setCurrentIndex(index)
    form.preset.activated.emit(index)
    model, train = form.configs()
    assert model.arch == "compact" and train.epochs == 15 and train.ema == 0.999
    assert form.params_label.text() == "24,834 parameters"
    form.set_value("epochs", 12)
    assert form.preset.currentText() == "Custom"


def test_augmentation_preview_follows_the_settings(qtbot: QtBot, window: MainWindow) -> None:
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    tab.views.setCurrentWidget(tab.augment_preview)
    preview = tab.augment_preview
    qtbot.waitUntil(lambda: getattr(preview, "last_grid", None) is not None, timeout=30000)
    first = preview.last_grid.copy()
    tab.form.set_value("rotation", 60.0)
    qtbot.waitUntil(lambda: not np.array_equal(preview.last_grid, first), timeout=3000)
    top = slice(0, 28 * 3 + 8)  # the originals' row does not change with the settings
    assert np.array_equal(preview.last_grid[top], first[top])
    assert preview.config.rotation == 60.0
    rotated = preview.last_grid.copy()
    preview.new_draw()
    assert not np.array_equal(preview.last_grid, rotated)
    tab.form.set_value("rotation", 0.0)
    tab.form.set_value("crop_p", 0.0)
    qtbot.waitUntil(lambda: preview.config.is_identity, timeout=3000)
    qtbot.wait(300)
    rows = preview.last_grid
    h = 28 * 3 + 4
    assert np.array_equal(rows[4 : 4 + 28 * 3], rows[4 + h : 4 + h + 28 * 3])  # no augmentation


def test_inside_the_training_is_looked_at_only_while_shown(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    import pyqtgraph as pg

    tab = window.train_tab
    _configure(window, small_mnist_dir, epochs=2)
    window.tabs.setCurrentWidget(tab)
    # hidden (the Curves view shown): no look inside at all
    tab.views.setCurrentWidget(tab.curves)
    _button(window, "trainButton").click()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=60000)
    assert tab.insides.snapshots == []
    # shown: a look every 10 batches (47 a epoch: 4 an epoch)
    tab.views.setCurrentWidget(tab.insides)
    assert not tab.insides.layer.isEnabled() and tab.insides.layer.placeholderText()
    tab.insides.every = 10
    _button(window, "trainButton").click()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=60000)
    snaps = tab.insides.snapshots
    assert len(snaps) == 8 and snaps[0].epochs == pytest.approx(10 / 47)
    names = [layer.name for layer in snaps[-1].layers]
    assert names[0].startswith("Conv2d-") and tab.insides.layer.count() == len(names)
    assert tab.insides.layer.isEnabled()
    assert all(s.lr > 0 for s in snaps)
    # the weights move away from the start and keep moving; gradients are there
    first_layer = [s.layers[0].change for s in snaps]
    assert 0 < first_layer[0] < first_layer[-1]
    assert all(layer.grad_norm > 0 for layer in snaps[-1].layers)
    assert all(0 <= d <= 100 for d in snaps[-1].dead.values()) and snaps[-1].dead
    assert snaps[-1].filters.shape[1:] == (3, 3)  # the seed CNN's first filters
    child(window, pg.GraphicsLayoutWidget, "insidesChart")
    assert child(window, type(tab.insides), "trainingInsides") is tab.insides


def _feed_insides(insides: TrainingInsides) -> None:
    torch.manual_seed(0)
    model = build_model()
    looker = Insides(model, torch.rand(16, 28, 28))
    for i in range(3):
        insides.add(looker.snapshot(model, i / 10, 0.002))
    insides.redraw()


def test_inside_the_training_is_one_scrolling_column_in_a_narrow_window(
    qtbot: QtBot, window: MainWindow
) -> None:
    """At 800x600 the two columns of charts were cut off on the right and squeezed to no
    height; now they go under each other, each tall enough to read, and the area scrolls."""
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    tab.views.setCurrentWidget(tab.insides)
    insides = tab.insides
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: insides.columns == 2)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: insides.columns == 1)
    _feed_insides(insides)  # a legend of every layer above the charts
    qtbot.wait(50)  # the layout settles
    assert insides.scroll_area.verticalScrollBar().maximum() > 0
    shown = insides.chart.viewport().width()
    for cell in insides._cells:  # none cut off on the right; each chart tall enough
        box = cell.sceneBoundingRect()
        assert box.right() <= shown + 1
        assert box.height() >= 0.8 * ROW_MIN_HEIGHT or cell is insides.filters  # a strip
    # the wheel over a chart scrolls the area; it does not zoom the chart under it
    view = insides.change.getViewBox().viewRange()
    centre = QPointF(insides.chart.viewport().rect().center())
    wheel = QWheelEvent(centre, insides.chart.viewport().mapToGlobal(centre), QPoint(0, 0),
                        QPoint(0, -120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
    QApplication.sendEvent(insides.chart.viewport(), wheel)
    assert insides.scroll_area.verticalScrollBar().value() > 0
    assert insides.change.getViewBox().viewRange() == view
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: insides.columns == 2)


def test_step_slow_motion_and_settings_changed_while_training(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    tab = window.train_tab
    _configure(window, small_mnist_dir)
    window.tabs.setCurrentWidget(tab)
    knobs = tab.knobs
    assert not knobs.apply.isEnabled() and not knobs.step.isEnabled()  # nothing to turn yet
    knobs.slow.setValue(30)  # slow motion from the first batch: time to pause
    _button(window, "trainButton").click()
    qtbot.waitUntil(lambda: tab.curves.batch_count() >= 2, timeout=30000)
    tab.toggle_pause()
    assert knobs.step.isEnabled() and knobs.lr.value() == 0.002  # the run's own settings
    time.sleep(0.3)
    qtbot.wait(400)  # whatever was under way has arrived
    held = tab.curves.batch_count()
    qtbot.wait(300)
    assert tab.curves.batch_count() == held  # paused: nothing moves
    for i in range(1, 4):
        knobs.step.click()
        target = held + i
        qtbot.waitUntil(lambda: tab.curves.batch_count() == target, timeout=5000)  # noqa: B023
    assert tab.curves.batch_count() == held + 3  # one batch a click
    # a new learning rate, from the next batch on, noted in the run's record
    worker = tab._job.worker
    assert worker is not None
    rates: list[float] = []
    worker.batches_ready.connect(lambda batches: rates.extend(b.lr for b in batches))
    knobs.lr.setValue(0.0005)
    knobs.apply.click()
    knobs.step.click()
    qtbot.waitUntil(lambda: tab.curves.batch_count() == held + 4, timeout=5000)
    assert rates == [pytest.approx(0.0005)]  # the very next batch trained at it
    knobs.slow.setValue(0)
    tab.toggle_pause()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=60000)
    run = window.workspace.runs.get(str(window.session.run_id))
    changed = [e for e in run.events if e.get("kind") == "settings changed"]
    assert len(changed) == 1 and changed[0]["lr"] == pytest.approx(0.0005)
    assert changed[0]["batch"] == held + 3
    assert not knobs.apply.isEnabled()


def test_one_more_epoch_adds_an_epoch_to_the_run(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    tab = window.train_tab
    form = tab.form
    form.set_configs(form.configs()[0], TrainConfig(epochs=1, scheduler="onecycle", seed=5))
    tab.dataset.set_folder(str(small_mnist_dir))
    window.tabs.setCurrentWidget(tab)
    more = _button(window, "oneMoreEpochButton")
    assert not more.isVisible() and not window.more_epoch_action.isEnabled()  # nothing ran
    _button(window, "trainButton").click()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=60000)
    run_id = str(window.session.run_id)
    first = window.workspace.runs.get(run_id)
    assert first.epochs_done == 1 and first.epochs_planned == 1
    assert more.isVisible() and window.more_epoch_action.isEnabled()
    ended_at = tab.curves._batches.column("x").size  # 47 batches so far
    trained_weights = current(window).model_state
    more.click()
    assert tab.is_running() and not more.isVisible()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=60000)
    run = window.workspace.runs.get(run_id)
    assert run.status == "finished" and run.epochs_done == 2 and run.epochs_planned == 2
    [event] = [e for e in run.events if e.get("kind") == "more epochs"]
    assert event["after_epoch"] == 1 and 0 < event["lr"] < 0.002  # where one-cycle ended
    # the same run goes on: its curves and table grow, the current model is the new epoch's
    assert tab.curves.batch_count() == ended_at + 47 and tab.table.rowCount() == 2
    second = tab.table.item(1, 0)
    assert second is not None and second.text() == "2"
    assert str(window.session.run_id) == run_id and len(current(window).history) == 2
    config = current(window).train_config
    assert config is not None and config.epochs == 2
    assert any(
        not torch.equal(v, current(window).model_state[k]) for k, v in trained_weights.items()
    )
    assert more.isVisible()  # and again
    window.revert_to_bundled()  # another model shown: no run to go on with
    assert not more.isVisible() and not window.more_epoch_action.isEnabled()


def test_drawing_while_training_takes_a_thread_from_training(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    from mnist_desk.gui import threads
    from tests.drawing import stroke

    if threads.work_threads() < 2:
        pytest.skip("needs two threads to give one back")
    tab = window.train_tab
    _configure(window, small_mnist_dir, epochs=20)
    tab.knobs.slow.setValue(5)  # a few ms a batch: time to draw meanwhile
    tab.start_training()
    qtbot.waitUntil(lambda: tab.curves.batch_count() > 0, timeout=30000)
    worker = tab._job.worker
    assert worker is not None and worker._threads == threads.work_threads()
    window.tabs.setCurrentWidget(window.draw_tab)
    stroke(window.draw_tab.canvas, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])
    qtbot.waitUntil(lambda: worker._threads == threads.work_threads() - 1, timeout=5000)
    # a second or so after the last stroke, training has all its threads again
    qtbot.waitUntil(lambda: worker._threads == threads.work_threads(), timeout=5000)
    tab.stop_training()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=30000)


def test_the_live_learning_rate_shows_tiny_rates_as_they_are(qtbot: QtBot) -> None:
    from mnist_desk.gui.live_knobs import RateSpinBox

    box = RateSpinBox()
    qtbot.addWidget(box)
    box.setValue(8e-9)  # where a one-cycle schedule ends
    assert box.value() == pytest.approx(8e-9) and box.text() == "8e-09"
    box.setValue(0.002)
    assert box.text() == "0.002"
    box.stepBy(1)
    assert box.value() == pytest.approx(0.004)  # the arrows double...
    box.stepBy(-2)
    assert box.value() == pytest.approx(0.001)  # ...and halve
    box.lineEdit().setText("5e-05")
    box.interpretText()
    assert box.value() == pytest.approx(5e-5)
