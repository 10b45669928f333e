from __future__ import annotations

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from mnist_desk.core.summary import layer_summary
from mnist_desk.gui.main_window import MainWindow
from tests.drawing import stroke
from tests.gui.lookup import current

SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]


def test_layer_table_lists_the_current_model(window: MainWindow) -> None:
    tab = window.network_tab
    rows = layer_summary(current(window).build_model())
    assert tab.table.rowCount() == len(rows) + 1
    first, last = tab.table.item(0, 0), tab.table.item(len(rows), 2)
    assert first is not None and first.text() == rows[0].name
    total = sum(r.params for r in rows)
    assert last is not None and last.text() == f"{total:,}"
    assert window.session.name in tab.model_label.text()


def test_layer_names_and_shapes_are_whole_in_a_small_window(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.tabs.setCurrentWidget(window.network_tab)
    table = window.network_tab.table
    qtbot.waitUntil(table.isVisible)
    window.resize(window.minimumSizeHint())  # as narrow as the window goes
    qtbot.waitUntil(lambda: table.width() < 380)
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        for column in (0, 1):
            item = table.item(row, column)
            if item is not None and item.text():
                assert metrics.horizontalAdvance(item.text()) < table.columnWidth(column), (
                    item.text()
                )
    assert not table.wordWrap()
    header = table.horizontalHeader()
    for column in range(table.columnCount()):  # and the titles too
        heading = table.horizontalHeaderItem(column)
        assert heading is not None
        title = heading.text()
        assert header.fontMetrics().horizontalAdvance(title) < header.sectionSize(column), title


def test_maps_update_live_while_drawing_on_the_network_tab(
    qtbot: QtBot, window: MainWindow
) -> None:
    tab = window.network_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: window.draw_tab.canvas.isVisible(), timeout=2000)
    assert window.panel.parent() is not window.draw_tab  # the canvas moved here
    with qtbot.waitSignal(tab.maps_updated, timeout=3000):
        stroke(window.draw_tab.canvas, SEVEN)  # read at once on the press, then throttled
    qtbot.waitUntil(lambda: tab.reading_label.text().startswith("Reads 7"), timeout=3000)
    layers = tab.layer_maps()
    assert len(layers) == 6  # the bundled compact CNN: five convs and the class maps
    shown = [tab.findChild(QLabel, f"maps{i}") for i in range(len(layers))]
    assert all(label is not None and not label.pixmap().isNull() for label in shown)
    assert tab.saliency_view.has_overlay() and tab.saliency_view.array() is not None
    assert tab.reading_label.text().startswith("Reads 7")
    assert (
        tab.update_times and max(tab.update_times) < 1.0
    )  # a generous bound; timing lives in benchmarks
    window.tabs.setCurrentWidget(window.draw_tab)
    qtbot.waitUntil(lambda: window.panel.parent() is window.draw_tab, timeout=2000)
    assert len(window.draw_tab.canvas.strokes) == 1  # the same canvas, strokes and all


def test_saliency_toggle_on_the_draw_tab(qtbot: QtBot, window: MainWindow) -> None:
    tab = window.draw_tab
    stroke(tab.canvas, SEVEN)
    tab.predict_now()
    assert not tab.preview.has_overlay()
    tab.saliency_toggle.setChecked(True)
    assert tab.preview.has_overlay()
    tab.saliency_toggle.setChecked(False)
    assert not tab.preview.has_overlay()
