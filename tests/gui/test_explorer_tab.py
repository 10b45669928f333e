from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
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


def test_robustness_chart_compares_models_under_damage(qtbot: QtBot, window: MainWindow) -> None:
    import pyqtgraph as pg

    from mnist_desk.core.checkpoint import Checkpoint
    from mnist_desk.core.config import ModelConfig
    from mnist_desk.core.model import build_model

    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    tab.pages.setCurrentWidget(tab.robustness)
    panel = tab.robustness
    panel.damage.setCurrentIndex(panel.damage.findData("rotation"))
    assert panel.levels.text() == "0, 10, 20, 30, 45"  # the damage's own first levels
    panel.levels.setText("90, 0")
    config = ModelConfig(arch="compact", batchnorm=True)
    untrained = Checkpoint(config, build_model(config).state_dict(), name="Untrained")
    panel.add_checkpoint("Untrained", untrained)
    panel.measure_button.click()
    assert panel.is_running() and not panel.measure_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=120000)
    assert panel.measure_button.isEnabled()
    names = [c.name for c in panel.curves]
    assert names == [f"{window.session.name} (current)", "Untrained"]
    current_curve = panel.curves[0].points
    assert [p.level for p in current_curve] == [0, 90]  # sorted
    assert current_curve[0].test_acc == window.session.test_acc  # level 0: the test set
    assert current_curve[1].test_acc < 60  # a quarter turn confuses it
    child(tab, pg.GraphicsLayoutWidget, "robustnessChart")
    drawn = [i for i in panel.plot.listDataItems() if i.name()]
    assert [i.name() for i in drawn] == names
    assert list(drawn[0].getData()[1]) == [p.test_acc for p in current_curve]
    # examples: the first test images at each level, under the chart
    examples = child(tab, QWidget, "damageExamples").findChildren(QLabel)
    assert [e.text() for e in examples if e.text()] == ["0", "90"]


def test_robustness_refuses_bad_levels_in_one_line(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.explorer_tab.robustness
    panel.damage.setCurrentIndex(panel.damage.findData("blur"))
    panel.levels.setText("1, 99")
    panel.measure_button.click()
    assert not panel.is_running()
    assert panel.status.text() == "blur level 99 is outside 0..10 (Gaussian sigma in pixels)"
    panel.levels.setText("1, two")
    panel.measure_button.click()
    assert panel.status.text() == "levels are numbers separated by commas"


def test_answer_or_abstain_curve_and_the_draw_tabs_threshold(
    qtbot: QtBot, window: MainWindow
) -> None:
    import pyqtgraph as pg

    from mnist_desk.core.predictor import UNSURE_BELOW
    from tests.drawing import stroke

    tab = _evaluated(qtbot, window)
    panel = tab.abstain
    child(tab, pg.GraphicsLayoutWidget, "abstainChart")
    r = tab.result
    assert panel.curve is not None
    answered, right = panel.curve.at(0.1)
    assert answered == 100.0 and right == pytest.approx(100 * (r.predictions == r.labels).mean())
    x, y = panel.answered.getData()
    assert x[0] == pytest.approx(0.1) and x[-1] == pytest.approx(1.0) and (np.diff(y) <= 0).all()
    assert panel.line.value() == UNSURE_BELOW and f"At {UNSURE_BELOW:.2f}" in panel.summary.text()
    # a drawing read with some confidence: above the threshold it is sure, below unsure
    stroke(window.draw_tab.canvas, [(0.5, 0.15), (0.5, 0.85)])
    qtbot.waitUntil(lambda: window.draw_tab.prediction is not None, timeout=5000)
    prediction = window.draw_tab.prediction
    assert prediction is not None
    confidence = prediction.confidence
    panel.threshold.setValue(min(0.99, round(confidence + 0.01, 2)))
    assert window.session.unsure_below == panel.threshold.value()
    assert panel.line.value() == panel.threshold.value()  # the mark follows
    assert "unsure" in window.draw_tab.confidence_label.text()
    panel.threshold.setValue(max(0.1, round(confidence - 0.05, 2)))
    assert "sure" in window.draw_tab.confidence_label.text()
    assert "unsure" not in window.draw_tab.confidence_label.text()
    # dragging the mark on the curve sets it too
    panel.line.setValue(0.7)
    panel.line.sigPositionChangeFinished.emit(panel.line)
    assert window.session.unsure_below == 0.7 and panel.threshold.value() == 0.7


def test_feature_map_of_a_layer_with_hover_click_and_the_drawing(
    qtbot: QtBot, window: MainWindow
) -> None:
    import pyqtgraph as pg

    from tests.drawing import stroke

    stroke(window.draw_tab.canvas, [(0.35, 0.2), (0.65, 0.2), (0.45, 0.85)])
    qtbot.waitUntil(lambda: window.reading.prediction is not None, timeout=5000)
    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    panel = tab.feature_map
    tab.pages.setCurrentWidget(panel)
    names = [panel.layer.itemText(i) for i in range(panel.layer.count())]
    assert names[0] == "Input (the pixels)" and names[-1].endswith("(the ten outputs)")
    assert panel.layer.currentIndex() == len(names) - 2  # the last ReLU by default
    panel.make()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=120000)
    made = panel.made
    assert made is not None and made.feature_map.method == "PCA"
    child(tab, pg.PlotWidget, "embeddingMap")
    assert len(panel.scatter.points()) == 10000
    wrong = int((made.predictions != made.labels).sum())
    assert len(panel.mistakes.data) == wrong and f"{wrong} read wrong" in panel.status.text()
    # images of one digit sit together: each point's nearest neighbour mostly shares its digit
    pts = made.feature_map.points[:2000]
    d = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (made.labels[:2000][d.argmin(1)] == made.labels[:2000]).mean() > 0.7  # 0.1 by chance
    # the drawing is a star, placed where its own features put it
    assert len(panel.drawing.data) == 1
    # hover shows the image and what it was read as; a click opens it on the Draw tab
    point = panel.scatter.points()[7]
    panel._on_hovered(panel.scatter, [point], None)
    assert panel.hover_text.text().startswith(f"test image 7: a {made.labels[7]}")
    with qtbot.waitSignal(tab.image_chosen) as blocker:
        panel._on_clicked(panel.scatter, [point], None)
    assert np.array_equal(blocker.args[0], made.images[7]) and blocker.args[1] == made.labels[7]


def test_why_augmentation_helps_in_one_click(
    qtbot: QtBot, window: MainWindow, small_mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from mnist_desk.core.experiments import WITH, WITHOUT

    window.workspace.set_data_dir(str(small_mnist_dir))  # 3,000 training images: quick
    runs_before = len(window.workspace.runs.runs())
    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    tab.pages.setCurrentWidget(tab.robustness)
    panel = tab.robustness
    asked: list[str] = []

    def answer(*args: object) -> QMessageBox.StandardButton:
        asked.append(str(args[1]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    panel.damage.setCurrentIndex(panel.damage.findData("blur"))
    panel.experiment_button.click()
    assert asked == ["Why Augmentation Helps"] and panel.is_running()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=300000)
    results = panel.experiment
    assert sorted((r.arm, r.seed) for r in results) == sorted(
        [(WITH, s) for s in (0, 1, 2)] + [(WITHOUT, s) for s in (0, 1, 2)]
    )
    # every run kept, finished, with the settings of its arm
    runs = window.workspace.runs.runs()
    assert len(runs) == runs_before + 6
    kept = {r.id: r for r in runs}
    for r in results:
        run = kept[str(r.run_id)]
        assert run.status == "finished" and run.train_config is not None
        rotation = run.train_config.augment.rotation
        assert (rotation == 15.0) if r.arm == WITH else (rotation == 0.0)
        assert r.points["rotation"][0].test_acc == run.test_acc  # level 0: the test set
    # shown under rotation: the two arms' means, bold, named
    assert panel.damage.currentData() == "rotation"
    named = [i.name() for i in panel.plot.listDataItems() if i.name()]
    assert named == [f"seed recipe {WITH} (mean of 3)", f"seed recipe {WITHOUT} (mean of 3)"]
    panel.damage.setCurrentIndex(panel.damage.findData("thickness"))
    assert "thickness" in panel.status.text() and WITHOUT in panel.status.text()


def test_the_lab_edits_what_the_draw_tab_reads_with(qtbot: QtBot, window: MainWindow) -> None:
    from tests.drawing import stroke

    stroke(window.draw_tab.canvas, [(0.35, 0.2), (0.65, 0.2), (0.45, 0.85)])
    qtbot.waitUntil(lambda: window.reading.prediction is not None, timeout=5000)
    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    lab = tab.lab
    tab.pages.setCurrentWidget(lab)
    assert lab.objectName() == "labPanel" and lab.layer.count() >= 4
    # switch off every channel of the first convolution: nothing gets through
    _, channels = lab.layer.itemData(0)
    for c in range(channels):
        lab.channel.setValue(c)
        lab.factor.setValue(0.0)
        lab.add_channel_edit()
    lab.apply_now()
    assert lab.edits.count() == channels
    assert "edited in the lab" in window.session.predictor_label
    assert lab.accuracy is not None and lab.baseline is not None
    assert lab.accuracy < 30 < lab.baseline  # a blind network guesses
    assert f"{lab.accuracy:.2f}% right" in lab.result.text()
    # the drawing is read again with the edited network, and the lab says how
    qtbot.waitUntil(lambda: "by the edited network" in lab.drawing.text(), timeout=5000)
    # reset: the model as it was, for the Draw tab too
    lab.reset()
    assert window.session.predictor_label == window.session.name and lab.edits.count() == 0
    # pruning a little keeps the accuracy; the temperature spreads the Draw tab's reading
    lab.prune.setValue(30)
    lab.apply_now()
    assert lab.accuracy is not None and lab.accuracy > lab.baseline - 1
    lab.reset()
    window.draw_tab.predict_now()
    sure = window.draw_tab.prediction
    lab.temperature.setValue(5.0)
    window.draw_tab.predict_now()
    warm = window.draw_tab.prediction
    assert sure is not None and warm is not None
    assert warm.digit == sure.digit and warm.confidence < sure.confidence
    lab.reset()
    assert window.session.predictor.temperature == 1.0


def test_one_channel_off_changes_the_reading_and_reset_undoes_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    import numpy as np

    from tests.drawing import stroke

    stroke(window.draw_tab.canvas, [(0.35, 0.2), (0.65, 0.2), (0.45, 0.85)])
    window.draw_tab.predict_now()
    before = window.draw_tab.prediction
    assert before is not None
    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    lab = tab.lab
    tab.pages.setCurrentWidget(lab)
    lab.layer.setCurrentIndex(0)  # the first convolution's channel 0: one of 16
    lab.channel.setValue(0)
    lab.factor.setValue(0.0)
    lab.add_channel_edit()
    lab.apply_now()
    window.draw_tab.predict_now()
    edited = window.draw_tab.prediction
    assert edited is not None
    assert not np.allclose(edited.probabilities, before.probabilities, atol=1e-6)
    lab.reset()
    window.draw_tab.predict_now()
    after = window.draw_tab.prediction
    assert after is not None
    assert np.allclose(after.probabilities, before.probabilities, atol=1e-6)


def test_an_edited_model_kept_as_a_run(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QPushButton

    from tests.gui.lookup import child

    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    lab = tab.lab
    tab.pages.setCurrentWidget(lab)
    assert lab.keep_as_run() is None and "Nothing edited" in lab.result.text()
    lab.prune.setValue(60)
    lab.apply_now()
    before = {r.id for r in window.workspace.runs.runs()}
    child(window, QPushButton, "labKeepRun").click()
    [run] = [r for r in window.workspace.runs.runs() if r.id not in before]
    assert run.status == "finished" and run.preset == "lab" and "edited in the lab" in run.name
    [event] = run.events
    assert event["kind"] == "edited in the lab" and event["prune"] == 60
    saved = window.workspace.runs.checkpoint(run.id)
    zeros = sum(int((v == 0).sum()) for k, v in saved.model_state.items() if "weight" in k)
    total = sum(v.numel() for k, v in saved.model_state.items() if "weight" in k)
    assert zeros / total > 0.5  # the pruned weights, not the model it came from
    # its own accuracy on the whole test set, not the history's last epoch
    assert run.test_acc == saved.test_acc and run.test_acc is not None
    assert run.epochs and run.test_acc != run.epochs[-1].test_acc
    assert run.id in lab.result.text()
