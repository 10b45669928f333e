"""The 1×1 question, run from Help › Experiments to Try."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from pytestqt.qtbot import QtBot

from mnist_desk.core.data import MNIST
from mnist_desk.core.experiments import WITH_1X1, WITHOUT_1X1
from mnist_desk.gui.main_window import MainWindow
from tests.helpers import write_mnist_folder


def test_the_one_by_one_question_in_one_click(
    qtbot: QtBot, window: MainWindow, mnist: MNIST, tmp_path: Path
) -> None:
    # six runs of five epochs: 960 training images keep them to a few seconds
    small_mnist_dir = write_mnist_folder(
        tmp_path,
        (mnist.train_images[:960].numpy(), mnist.train_labels[:960].numpy()),
        (mnist.test_images[:500].numpy(), mnist.test_labels[:500].numpy()),
    )
    window.train_tab.dataset.set_folder(str(small_mnist_dir))
    window.set_up_experiment("one-by-one")
    dialog = window.show_one_by_one()
    explanation = dialog.findChild(type(dialog.status), "oneByOneExplanation")
    assert explanation is not None and "1×1 convolution" in explanation.text()
    assert dialog.isVisible()
    assert dialog.data_dir == str(small_mnist_dir)
    runs_before = len(window.workspace.runs.runs())
    dialog.run_button.click()
    assert dialog.is_running() and not dialog.run_button.isEnabled()
    assert dialog.job.isVisible()  # what, how far, time left, Cancel
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=120000)
    # six runs kept: the seed CNN with and without its 1x1 convolutions, three seeds each
    runs = window.workspace.runs.runs()[runs_before:]
    assert len(runs) == 6 and all(r.status == "finished" for r in runs)
    assert sorted(r.params for r in runs) == [23898] * 3 + [24210] * 3
    assert dialog.table.rowCount() == 2
    cells = [[dialog.table.item(r, c).text() for c in range(5)] for r in range(2)]  # type: ignore[union-attr]
    assert cells[0][0] == f"Seed CNN {WITH_1X1}" and cells[1][0] == f"Seed CNN {WITHOUT_1X1}"
    assert cells[0][1] == "24,210" and cells[1][1] == "23,898"
    assert all(len(row[3].split(", ")) == 3 for row in cells)  # every seed's accuracy
    for row, arm in zip(cells, (WITH_1X1, WITHOUT_1X1), strict=True):
        accs = [r.test_acc for r in runs if (r.params == 24210) == (arm == WITH_1X1)]
        assert row[2].startswith(f"{sum(a or 0 for a in accs) / 3:.2f}%")
    # the curves side by side: each seed thin, each arm's mean bold, in both charts
    assert len(dialog.acc_plot.listDataItems()) == 6 + 2
    assert len(dialog.loss_plot.listDataItems()) == 6
    assert isinstance(dialog.acc_chart, pg.GraphicsLayoutWidget)
    assert "Runs tab" in dialog.status.text() and not dialog.job.isVisible()
    dialog.reject()
    assert not dialog.isVisible() and window.show_one_by_one() is dialog  # kept, one window
