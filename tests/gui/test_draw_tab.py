from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from mnist_desk.gui.main_window import MainWindow
from tests.drawing import move, press, release, stroke
from tests.gui.lookup import child

VERTICAL = [(0.5, 0.15), (0.5, 0.85)]
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]


def digit_text(window: MainWindow) -> str:
    return child(window, QLabel, "predictedDigit").text()


def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Let the throttled prediction run."""
    qtbot.wait(60)
    window.draw_tab.predict_now()


def test_named_widgets_for_automation(window: MainWindow) -> None:
    for name in (
        "canvas",
        "probabilityChart",
        "predictedDigit",
        "confidence",
        "inputPreview",
        "trainButton",
        "pauseButton",
        "stopButton",
    ):
        widget = window.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), name


def test_empty_canvas_shows_no_prediction(window: MainWindow) -> None:
    window.draw_tab.predict_now()
    assert digit_text(window) == ""
    assert window.draw_tab.chart.probabilities().sum() == 0
    assert window.draw_tab.preview.array() is None


def test_vertical_stroke_is_read_as_one(qtbot: QtBot, window: MainWindow) -> None:
    canvas = window.draw_tab.canvas
    with qtbot.waitSignal(window.draw_tab.prediction_updated, timeout=2000):
        stroke(canvas, VERTICAL)
    settle(qtbot, window)
    assert digit_text(window) == "1"
    probs = window.draw_tab.chart.probabilities()
    assert abs(probs.sum() - 1) < 1e-4 and probs.argmax() == 1
    assert child(window, QLabel, "confidence").text().endswith("sure")
    seen = window.draw_tab.preview.array()
    assert seen is not None and seen.shape == (28, 28) and seen.max() > 0.5


def test_prediction_updates_during_the_stroke(qtbot: QtBot, window: MainWindow) -> None:
    canvas = window.draw_tab.canvas
    press(canvas, 0.5, 0.15)
    for i in range(1, 20):
        move(canvas, 0.5, 0.15 + 0.035 * i)
    with qtbot.waitSignal(window.draw_tab.prediction_updated, timeout=2000):
        pass  # the button is still down: no release yet
    assert digit_text(window) != ""
    release(canvas, 0.5, 0.85)


def test_predictions_are_throttled_not_queued(qtbot: QtBot, window: MainWindow) -> None:
    count = []
    window.draw_tab.prediction_updated.connect(lambda: count.append(1))
    canvas = window.draw_tab.canvas
    press(canvas, 0.2, 0.2)
    for i in range(200):  # 200 moves without the event loop running in between
        move(canvas, 0.2 + 0.003 * i, 0.2 + 0.003 * i)
    release(canvas, 0.8, 0.8)
    qtbot.wait(200)
    assert 1 <= len(count) <= 3  # one refresh's worth, not 200 queued predictions


def test_the_first_move_after_a_pause_is_read_at_once(qtbot: QtBot, window: MainWindow) -> None:
    """Leading edge: read inside the move's own event, with no timer or frame to wait for;
    a move that follows at once waits for the throttle, then is read too."""
    count: list[int] = []
    window.draw_tab.prediction_updated.connect(lambda: count.append(1))
    canvas = window.draw_tab.canvas
    press(canvas, 0.5, 0.2)
    assert len(count) == 1  # no event loop has run: read within the press itself
    qtbot.wait(50)  # a pause
    move(canvas, 0.5, 0.5)
    assert len(count) == 2  # again at once
    move(canvas, 0.5, 0.8)  # straight after: held back by the throttle...
    assert len(count) == 2
    qtbot.waitUntil(lambda: len(count) == 3, timeout=1000)  # ...and read moments later
    release(canvas, 0.5, 0.8)
    assert window.reading.prediction is not None


def test_undo_and_clear(qtbot: QtBot, window: MainWindow) -> None:
    canvas = window.draw_tab.canvas
    stroke(canvas, VERTICAL)
    stroke(canvas, [(0.3, 0.5), (0.7, 0.5)])
    assert len(canvas.strokes) == 2
    window.undo_action.trigger()
    assert len(canvas.strokes) == 1
    settle(qtbot, window)
    assert digit_text(window) == "1"
    window.panel.clear_button.click()
    assert canvas.is_empty()
    settle(qtbot, window)
    assert digit_text(window) == ""
    window.undo_action.trigger()  # a clear can be undone too: nothing lost
    assert len(canvas.strokes) == 1


def test_keyboard_shortcuts(qtbot: QtBot, window: MainWindow) -> None:
    canvas = window.draw_tab.canvas
    canvas.setFocus()
    stroke(canvas, VERTICAL)
    stroke(canvas, SEVEN)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(canvas.strokes) == 1
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert canvas.is_empty()
    stroke(canvas, VERTICAL)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.is_empty()


def test_right_button_erases(qtbot: QtBot, window: MainWindow) -> None:
    canvas = window.draw_tab.canvas
    stroke(canvas, VERTICAL)
    assert canvas.render_array().max() == 255
    stroke(canvas, VERTICAL, button=Qt.MouseButton.RightButton)
    assert canvas.render_array().max() < 40  # at most an anti-aliased fringe
    settle(qtbot, window)
    assert digit_text(window) == ""


def test_render_does_not_depend_on_window_size(qtbot: QtBot, window: MainWindow) -> None:
    canvas = window.draw_tab.canvas
    stroke(canvas, SEVEN)
    before = canvas.render_array()
    window.resize(window.width() + 300, window.height() + 200)
    qtbot.wait(50)
    np.testing.assert_array_equal(canvas.render_array(), before)
    assert canvas.width() >= 280 and canvas.height() >= 280


def test_brush_slider_sets_stroke_width(window: MainWindow) -> None:
    tab = window.draw_tab
    tab.brush_slider.setValue(10)
    stroke(tab.canvas, VERTICAL)
    thin = (tab.canvas.render_array() > 128).sum()
    tab.canvas.clear()
    tab.brush_slider.setValue(40)
    stroke(tab.canvas, VERTICAL)
    thick = (tab.canvas.render_array() > 128).sum()
    assert thick > 3 * thin


def _one_image(path: Path, *, dark_on_light: bool) -> Path:
    img = Image.new("L", (120, 160), 255 if dark_on_light else 0)
    ImageDraw.Draw(img).line([(60, 20), (60, 140)], fill=0 if dark_on_light else 255, width=12)
    img.save(path)
    return path


def test_dropped_image_is_read(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(_one_image(tmp_path / "one.png", dark_on_light=True)))])
    with qtbot.waitSignal(window.panel.image_loaded, timeout=5000) as loaded:
        assert window.panel.load_mime(mime)  # decoded in a worker thread
    assert loaded.args == [True]
    settle(qtbot, window)
    assert digit_text(window) == "1"
    assert not window.draw_tab.canvas.is_empty()


def test_pasted_image_is_read(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    path = _one_image(tmp_path / "one.jpg", dark_on_light=False)
    QGuiApplication.clipboard().setImage(QImage(str(path)))
    window.paste_action.trigger()
    settle(qtbot, window)
    assert digit_text(window) == "1"


def test_a_file_that_is_not_an_image_is_explained(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda parent, title, text, *a: messages.append(text)
    )
    (tmp_path / "notes.txt").write_text("hello")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    with qtbot.waitSignal(window.panel.image_loaded, timeout=5000) as loaded:
        window.panel.load_mime(mime)
    assert loaded.args == [False]
    assert (
        len(messages) == 1 and "notes.txt" in messages[0] and "not a readable image" in messages[0]
    )
    assert window.draw_tab.canvas.is_empty()


def test_drawings_are_read_with_mnist_stroke_width(window: MainWindow) -> None:
    tab = window.draw_tab
    masses, as_drawn = [], []
    for brush in (8, 40):
        tab.canvas.clear()
        tab.brush_slider.setValue(brush)
        stroke(tab.canvas, SEVEN)
        masses.append(float(tab.canvas.render_array(mnist_width=True).sum()))
        as_drawn.append(float(tab.canvas.render_array().sum()))
    assert abs(masses[0] - masses[1]) < 0.1 * masses[1]  # the brush no longer matters
    assert as_drawn[0] < 0.6 * masses[0] and as_drawn[1] > 1.3 * masses[1]


def test_a_quick_stroke_keeps_its_corners(window: MainWindow) -> None:
    """Points far apart (a fast hand, a tablet) are joined by straight lines: the corner
    of a seven drawn with three points stays a corner instead of becoming a 2's curve."""
    canvas = window.draw_tab.canvas
    window.draw_tab.brush_slider.setValue(10)
    press(canvas, 0.2, 0.2)
    move(canvas, 0.8, 0.2)
    move(canvas, 0.4, 0.9)
    release(canvas, 0.4, 0.9)
    image = canvas.render_array(280)
    assert image[56, 222] > 128  # the corner at (0.8, 0.2) is ink
    assert image[56, 200] > 128 and image[90, 208] > 128  # and both strokes leading to it
    assert image[100, 170] == 0  # nothing inside the corner


def test_a_kept_drawing_is_the_drawing_as_it_is_read(window: MainWindow) -> None:
    canvas = window.draw_tab.canvas
    window.draw_tab.brush_slider.setValue(44)
    stroke(canvas, SEVEN)
    window.panel.keep_as(7)
    (sample,) = window.handwriting.store.samples()
    kept = window.handwriting.store.image(sample)
    np.testing.assert_array_equal(kept, canvas.render_array(mnist_width=True))
