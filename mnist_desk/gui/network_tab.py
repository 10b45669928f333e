"""The Network tab: the model's layers as a table, and for the drawing on the canvas the
maps every convolution hands on, updated as the user draws, with a saliency view.

The canvas panel moves into this tab while it is shown (the same panel the Draw tab
shows, strokes and all, handed to both by the main window), so drawing here updates the
maps live.
"""

from __future__ import annotations

import html
import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.inspect import LayerMaps, activations, saliency
from mnist_desk.core.summary import layer_summary
from mnist_desk.gui.canvas_panel import CanvasPanel
from mnist_desk.gui.colour_scale import GREY_MAPS, SALIENCY, SIGNED_MAPS, ColourScale
from mnist_desk.gui.images import rgb_image
from mnist_desk.gui.input_preview import InputPreview
from mnist_desk.gui.live_reading import LiveReading
from mnist_desk.gui.model_session import ModelSession

TILE = 56  # pixels per map, about


def tile_maps(maps: np.ndarray, columns: int = 8) -> np.ndarray:
    """(C, H, W) floats -> an RGB grid of the maps (uint8), scaled per layer.

    Non-negative layers (after a ReLU) are shown black to white; layers with negative
    values, blue (negative) through black to orange (positive).
    """
    c, h, w = maps.shape
    scale = max(1, TILE // h)
    columns = min(columns, c)
    rows = -(-c // columns)
    peak = float(np.abs(maps).max()) or 1.0
    v = maps / peak
    if maps.min() >= 0:
        rgb = np.repeat(v[..., None], 3, axis=-1)
    else:
        pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
        rgb = np.stack([pos, 0.55 * pos + 0.45 * neg, neg], axis=-1)
    rgb = (rgb * 255 + 0.5).astype(np.uint8)
    rgb = rgb.repeat(scale, axis=1).repeat(scale, axis=2)
    th, tw = h * scale, w * scale
    grid = np.full((rows * (th + 2) + 2, columns * (tw + 2) + 2, 3), 70, np.uint8)
    for i in range(c):
        r, col = divmod(i, columns)
        y, x = 2 + r * (th + 2), 2 + col * (tw + 2)
        grid[y : y + th, x : x + tw] = rgb[i]
    return grid


class NetworkTab(QWidget):
    maps_updated = Signal()

    def __init__(
        self,
        session: ModelSession,
        panel: CanvasPanel,
        reading: LiveReading,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("networkTab")
        self.session, self.panel, self.reading = session, panel, reading
        self.update_times: list[float] = []  # seconds per update of the maps, for benchmarks
        self._layer_labels: list[tuple[QLabel, QLabel]] = []
        self._build()
        session.model_changed.connect(self._on_session_model_changed)
        session.predictor_changed.connect(self._on_session_predictor_changed)
        reading.updated.connect(self._on_reading_updated)
        self._on_session_model_changed()

    # ---- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.canvas_slot = QVBoxLayout()
        self.reading_label = QLabel()
        self.reading_label.setObjectName("networkReading")
        self.reading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(self.canvas_slot, 1)
        left_layout.addWidget(self.reading_label)

        self.model_label = QLabel()
        self.model_label.setObjectName("networkModel")
        self.model_label.setWordWrap(True)
        titles = ["Layer", "Output shape", "Parameters", "Mult-adds"]
        self.table = QTableWidget(0, len(titles))
        self.table.setObjectName("layerTable")
        self.table.setAccessibleName("The model's layers")
        self.table.setHorizontalHeaderLabels(titles)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for column in (0, 1):  # a layer's name and shape are read whole: as wide as they need
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # the others share the rest, never narrower than their titles (it scrolls instead)
        widest = max(header.fontMetrics().horizontalAdvance(t) for t in titles[2:])
        header.setMinimumSectionSize(widest + 16)
        self.table.setWordWrap(False)  # too narrow a cell ends in "…", not in a cut-off line

        self.maps_box = QWidget()
        self.maps_layout = QVBoxLayout(self.maps_box)
        self.maps_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("featureMaps")
        scroll.setWidget(self.maps_box)
        scroll.setWidgetResizable(True)
        self.saliency_view = InputPreview(name="saliencyView")
        self.saliency_view.setAccessibleName("Saliency: which pixels pushed the prediction")
        self.saliency_view.setMinimumSize(140, 140)
        self.saliency_view.setMaximumSize(220, 220)
        saliency_box = QVBoxLayout()
        caption = QLabel("Saliency: |∂ log p / ∂ pixel|")
        caption.setToolTip(
            "Input-gradient saliency: how strongly each pixel of the 28×28 input moves the "
            "probability of the predicted digit. Bright pixels pushed the prediction most."
        )
        saliency_box.addWidget(caption)
        saliency_box.addWidget(self.saliency_view)
        saliency_scale = ColourScale(*SALIENCY)
        saliency_scale.setMinimumWidth(140)
        saliency_scale.setMaximumWidth(220)
        saliency_box.addWidget(saliency_scale)
        saliency_box.addStretch(1)
        maps_row = QHBoxLayout()
        maps_row.addWidget(scroll, 1)
        maps_row.addLayout(saliency_box)
        maps_widget = QWidget()
        maps_layout = QVBoxLayout(maps_widget)
        maps_layout.setContentsMargins(0, 0, 0, 0)
        maps_layout.addLayout(maps_row, 1)
        maps_layout.addLayout(self._build_maps_legend())

        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("networkRightSplitter")
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.model_label)
        top_layout.addWidget(self.table)
        right.addWidget(top)
        right.addWidget(maps_widget)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 2)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("networkSplitter")
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)

    def _build_maps_legend(self) -> QVBoxLayout:
        """How the maps are coloured: grey where a layer's values are never negative
        (after a ReLU), blue to orange where they can be; each layer scaled to its own peak."""
        note = QLabel("Colours of the maps, each layer scaled to its own largest value:")
        note.setWordWrap(True)
        grey = ColourScale(*GREY_MAPS)
        grey.setToolTip("After a ReLU a map is never negative: black is 0")
        signed = ColourScale(*SIGNED_MAPS, middle="0")
        signed.setToolTip("Before a ReLU (e.g. the class maps) values can be negative")
        row = QHBoxLayout()
        row.addWidget(QLabel("grey:"))
        row.addWidget(grey, 1)
        row.addSpacing(12)
        row.addWidget(QLabel("coloured:"))
        row.addWidget(signed, 1)
        legend = QVBoxLayout()
        legend.addWidget(note)
        legend.addLayout(row)
        return legend

    # ---- the shared canvas ---------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        self.canvas_slot.addWidget(self.panel)
        # the canvas takes the keys (Delete, Esc, the digits), not the layer table
        self.panel.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        self.update_maps()

    # ---- the layer table -----------------------------------------------------------------
    def _on_session_model_changed(self) -> None:
        checkpoint = self.session.checkpoint
        model = self.session.predictor.model
        if checkpoint is None or model is None:
            return
        rows = layer_summary(checkpoint.build_model())
        self.table.setRowCount(len(rows) + 1)
        for i, r in enumerate(rows):
            values = [r.name, str([-1, *r.output_shape]), f"{r.params:,}", f"{r.macs:,}"]
            for col, value in enumerate(values):
                self.table.setItem(i, col, QTableWidgetItem(value))
        total = ["Total", "", f"{sum(r.params for r in rows):,}", f"{sum(r.macs for r in rows):,}"]
        for col, value in enumerate(total):
            item = QTableWidgetItem(value)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            self.table.setItem(len(rows), col, item)
        cfg = checkpoint.model_config
        self.model_label.setText(
            f"<b>{html.escape(checkpoint.name)}</b> — {cfg.arch} network, BatchNorm "
            f"{'on' if cfg.batchnorm else 'off'}, dropout {cfg.dropout:g}"
        )

    def _on_session_predictor_changed(self, label: str) -> None:
        self.update_maps()

    # ---- the maps ------------------------------------------------------------------------
    def _on_reading_updated(self) -> None:
        if self.isVisible():
            self.update_maps()

    def _ensure_layer_widgets(self, count: int) -> None:
        while len(self._layer_labels) < count:
            title, picture = QLabel(), QLabel()
            title.setObjectName(f"mapsTitle{len(self._layer_labels)}")
            picture.setObjectName(f"maps{len(self._layer_labels)}")
            index = self.maps_layout.count() - 1  # before the stretch
            self.maps_layout.insertWidget(index, title)
            self.maps_layout.insertWidget(index + 1, picture)
            self._layer_labels.append((title, picture))
        for i, (title, picture) in enumerate(self._layer_labels):
            title.setVisible(i < count)
            picture.setVisible(i < count)

    def layer_maps(self) -> list[LayerMaps]:
        prediction, model = self.reading.prediction, self.session.predictor.model
        if prediction is None or model is None:
            return []
        return activations(model, prediction.image)

    def update_maps(self) -> None:
        start = time.perf_counter()
        prediction = self.reading.prediction
        layers = self.layer_maps()
        self._ensure_layer_widgets(len(layers))
        for i, layer in enumerate(layers):
            title, picture = self._layer_labels[i]
            note = " — one map per digit" if i == len(layers) - 1 and len(layer.maps) == 10 else ""
            title.setText(f"<b>{html.escape(layer.title)}</b>{note}")
            title.setToolTip(
                f"The output of {layer.after}: what the next layer sees. The table above "
                f"names the layers the same way."
            )
            picture.setPixmap(
                QPixmap.fromImage(rgb_image(tile_maps(layer.maps, 10 if note else 8)))
            )
        if prediction is None:
            self.reading_label.setText("Draw a digit to see what each layer makes of it.")
            self.saliency_view.set_array(None)
            self.saliency_view.set_overlay(None)
        else:
            pct = 100 * prediction.confidence
            self.reading_label.setText(f"Reads {prediction.digit} ({pct:.0f}%)")
            model = self.session.predictor.model
            self.saliency_view.set_array(prediction.image)
            if model is not None:
                self.saliency_view.set_overlay(saliency(model, prediction.image, prediction.digit))
        self.update_times.append(time.perf_counter() - start)
        self.maps_updated.emit()
