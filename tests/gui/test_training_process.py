"""The app trains in a child process of its own (core.training_host): the run, its
controls, One More Epoch, a drawing taking a thread back, and a process that dies."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.runs import RunLibrary
from mnist_desk.core.training_host import ProcessHost, ThreadHost, shared_clock
from mnist_desk.core.training_job import JobSpec
from mnist_desk.gui import threads, training_worker
from mnist_desk.gui.main_window import MainWindow
from mnist_desk.gui.training_worker import TrainingWorker
from tests.gui.lookup import child, current

pytestmark = pytest.mark.training_process


def _button(window: MainWindow, name: str) -> QPushButton:
    return child(window, QPushButton, name)


def _train(window: MainWindow, data_dir: Path, config: TrainConfig) -> TrainingWorker:
    tab = window.train_tab
    form = tab.form
    form.set_configs(form.configs()[0], config)
    tab.dataset.set_folder(str(data_dir))
    window.tabs.setCurrentWidget(tab)  # which starts the next run's process ahead
    _button(window, "trainButton").click()
    worker = tab._job.worker
    assert worker is not None
    return worker


def _pid(worker: TrainingWorker) -> int:
    host = worker.host
    assert isinstance(host, ProcessHost)
    assert host.pid is not None and host.pid != os.getpid()
    return host.pid


def test_a_run_trains_in_its_own_process_and_goes_on_there(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    tab = window.train_tab
    bundled = window.session.predictor.model
    worker = _train(window, small_mnist_dir, TrainConfig(epochs=1, scheduler="onecycle", seed=3))
    pid = _pid(worker)
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=90000)
    assert tab.curves.batch_count() == 47 and tab.table.rowCount() == 1
    reading = window.session.predictor.model
    assert reading is not None and reading is not bundled  # the weights came back
    for key, value in reading.state_dict().items():
        assert torch.equal(value, current(window).model_state[key]), key
    run_id = str(window.session.run_id)
    run = window.workspace.runs.get(run_id)
    assert run.status == "finished" and run.test_acc == current(window).test_acc
    assert current(window).history[0].test_acc > 70.0
    # One More Epoch: the same process, still holding the trainer, goes on
    more = _button(window, "oneMoreEpochButton")
    assert more.isVisible()
    more.click()
    second = tab._job.worker
    assert second is not None and _pid(second) == pid
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=90000)
    run = window.workspace.runs.get(run_id)
    assert run.epochs_done == 2 and run.epochs_planned == 2 and tab.table.rowCount() == 2
    # another model shown: the run will not go on, and its process ends
    host = second.host
    assert isinstance(host, ProcessHost) and host.alive()
    window.revert_to_bundled()
    qtbot.waitUntil(lambda: not host.alive(), timeout=15000)  # polled: its reaper joins it
    # the next run's process was started when this one ended
    spare = training_worker._spare
    assert isinstance(spare, ProcessHost) and spare.alive() and spare.pid != pid
    # quitting ends it
    assert window.close()
    assert training_worker._spare is None
    qtbot.waitUntil(lambda: not spare.alive(), timeout=15000)


def test_the_controls_reach_the_process(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path
) -> None:
    tab = window.train_tab
    tab.knobs.slow.setValue(30)  # time to pause
    worker = _train(window, small_mnist_dir, TrainConfig(epochs=20))
    _pid(worker)
    rates: list[float] = []
    worker.batches_ready.connect(lambda batches: rates.extend(b.lr for b in batches))
    qtbot.waitUntil(lambda: tab.curves.batch_count() >= 2, timeout=60000)
    tab.toggle_pause()
    qtbot.wait(700)  # whatever was under way has arrived
    held = tab.curves.batch_count()
    qtbot.wait(400)
    assert tab.curves.batch_count() == held
    tab.knobs.step.click()
    qtbot.waitUntil(lambda: tab.curves.batch_count() == held + 1, timeout=5000)
    tab.knobs.lr.setValue(0.0005)
    tab.knobs.apply.click()
    tab.knobs.step.click()
    qtbot.waitUntil(lambda: tab.curves.batch_count() == held + 2, timeout=5000)
    qtbot.wait(300)
    assert tab.curves.batch_count() == held + 2  # one batch a step, no more
    assert rates[-2:] == [pytest.approx(0.002), pytest.approx(0.0005)]
    # a drawing takes a thread from the training process, and gives it back
    if threads.work_threads() >= 2:
        tab.toggle_pause()
        assert worker._threads == threads.work_threads()
        threads.note_user_input()
        qtbot.waitUntil(lambda: worker._threads == threads.work_threads() - 1, timeout=5000)
        qtbot.waitUntil(lambda: worker._threads == threads.work_threads(), timeout=5000)
    _button(window, "stopButton").click()
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=5000)
    assert window.workspace.runs.runs()[-1].status == "stopped"


def test_a_training_process_that_dies_is_reported_and_the_app_goes_on(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: messages.append(text)
    )
    tab = window.train_tab
    before = window.session.checkpoint
    worker = _train(window, small_mnist_dir, TrainConfig(epochs=20))
    pid = _pid(worker)
    qtbot.waitUntil(lambda: tab.curves.batch_count() > 0, timeout=60000)
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=10000)
    assert len(messages) == 1 and "training process ended unexpectedly" in messages[0]
    assert window.session.checkpoint is before  # the model the user had stays
    # and the next run trains, in a new process
    worker = _train(window, small_mnist_dir, TrainConfig(epochs=1))
    assert _pid(worker) != pid
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=90000)
    assert window.workspace.runs.runs()[-1].status == "finished"


def test_the_next_runs_process_starts_when_the_train_tab_is_shown(
    qtbot: QtBot, window: MainWindow
) -> None:
    training_worker.release_spare()
    assert training_worker._spare is None
    window.tabs.setCurrentWidget(window.draw_tab)
    window.tabs.setCurrentWidget(window.train_tab)
    spare = training_worker._spare
    assert isinstance(spare, ProcessHost) and spare.alive()
    window.tabs.setCurrentWidget(window.draw_tab)
    window.tabs.setCurrentWidget(window.train_tab)
    assert training_worker._spare is spare  # one is enough
    training_worker.release_spare()
    qtbot.waitUntil(lambda: not spare.alive(), timeout=15000)


def test_where_a_training_process_cannot_start_the_app_trains_in_a_thread(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training_worker, "SEPARATE_PROCESS", True)  # restored afterwards
    real_new_host = training_worker._new_host

    def dead_on_arrival(cache: object) -> object:
        host = real_new_host(cache)  # type: ignore[arg-type]
        if isinstance(host, ProcessHost):
            host.process.kill()  # as a process that cannot import its main module ends
        return host

    monkeypatch.setattr(training_worker, "_new_host", dead_on_arrival)
    messages: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a: messages.append(text)
    )
    tab = window.train_tab
    worker = _train(window, small_mnist_dir, TrainConfig(epochs=1))
    statuses: list[str] = []
    worker.status_changed.connect(statuses.append)
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=90000)
    assert messages == [] and isinstance(worker.host, ThreadHost)
    assert any("a separate one could not start" in s for s in statuses)
    assert window.workspace.runs.runs()[-1].status == "finished"
    assert tab.curves.batch_count() == 47 and tab.table.rowCount() == 1
    assert not training_worker.SEPARATE_PROCESS  # the next runs go straight to a thread


def test_a_training_process_whose_app_has_gone_stops_its_run_and_ends(
    small_mnist_dir: Path, tmp_path: Path
) -> None:
    """Killed or crashed, the app cannot end its training process: the process sees its
    pipe close, stops the run at the next batch (kept in the library as stopped) and
    ends, rather than training on unseen for the rest of its epochs."""
    host = ProcessHost(shared_clock(), 1, 1.0)
    runs = tmp_path / "runs"
    spec = JobSpec(ModelConfig(), TrainConfig(epochs=1000), "orphan", str(small_mnist_dir), runs)
    try:
        host.send(("train", spec))
        while host.conn.poll(120):
            if host.conn.recv()[0] == "batches":
                break
        else:
            pytest.fail("no batch within 120 s")
        host.conn.close()  # as the app's end closes when its process is gone
        host.process.join(60)  # a generous bound: a batch, the test set, the record
        assert not host.process.is_alive() and host.process.exitcode == 0
    finally:
        if host.process.is_alive():
            host.process.kill()
    (run,) = RunLibrary(runs).runs()
    assert run.status == "stopped" and run.epochs_planned == 1000
