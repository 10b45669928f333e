"""The feature space, in the Explore tab: the 10,000 test images on a 2-D map of what one
layer makes of them (PCA at once, t-SNE on request), coloured by their digit, mistakes
marked; hover to see an image, click to read it on the Draw tab; the drawing on the
canvas is a star on the map."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from torch import nn

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.embedding import (
    FeatureMap,
    features,
    features_and_readings,
    map_layers,
    pca_map,
    tsne_map,
)
from mnist_desk.core.predictor import Prediction
from mnist_desk.gui.background import BackgroundJob, Worker
from mnist_desk.gui.images import gray_image
from mnist_desk.gui.job_progress import JobProgress
from mnist_desk.gui.mnist_cache import MnistCache

DIGIT_COLOURS = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]  # fmt: skip


def has_tsne() -> bool:
    return importlib.util.find_spec("openTSNE") is not None


@dataclass(frozen=True)
class MadeMap:
    feature_map: FeatureMap
    model: nn.Module  # the model the map was made with: the drawing is placed by it
    images: np.ndarray  # uint8 (N, 28, 28)
    labels: np.ndarray
    predictions: np.ndarray
    seconds: float


class MapWorker(Worker):
    """finished(MadeMap)."""

    def __init__(
        self, checkpoint: Checkpoint, layer: int, method: str, cache: MnistCache,
        data_dir: str | None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.checkpoint, self.layer, self.method = checkpoint, layer, method
        self.cache, self.data_dir = cache, data_dir

    def work(self) -> MadeMap:
        self.progress.emit(0, 0, "reading MNIST")
        data = self.cache.get(self.data_dir, stop=self.stop_event)
        model = self.checkpoint.build_model()
        start = time.perf_counter()
        layer = map_layers(model)[self.layer]
        self.progress.emit(0, 0, f"what {layer.name} makes of the test images")
        x, predictions = features_and_readings(model, data.test_images, layer)
        if self.method == "t-SNE":
            made = tsne_map(
                x, layer, stop=self.stop_event,
                progress=lambda done, total: self.progress.emit(done, total, "t-SNE"),
            )  # fmt: skip
        else:
            made = pca_map(x, layer)
        return MadeMap(
            made, model, data.test_images.numpy(), data.test_labels.numpy(), predictions,
            time.perf_counter() - start,
        )  # fmt: skip


class FeatureMapPanel(QWidget):
    def __init__(
        self,
        current: Callable[[], Checkpoint | None],
        cache: MnistCache,
        data_dir: Callable[[], str | None],
        open_image: Callable[[np.ndarray, int], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("featureMapPanel")
        self.current, self.cache, self.data_dir = current, cache, data_dir
        self.open_image = open_image
        self.made: MadeMap | None = None
        self._drawing: Prediction | None = None
        self._job: BackgroundJob[MapWorker] = BackgroundJob(self, self._on_job_done)
        self._build()

    def showEvent(self, event: QShowEvent) -> None:
        if self.layer.count() == 0:
            self.refresh_layers()
        if self.made is None and not self.is_running() and self.method.currentData() == "PCA":
            self.make()  # PCA is quick: the first look shows a map at once
        self.show_drawing(self._drawing)

    def _build(self) -> None:
        self.layer = QComboBox()
        self.layer.setObjectName("mapLayer")
        self.layer.setAccessibleName("The layer whose output is mapped")
        self.method = QComboBox()
        self.method.setObjectName("mapMethod")
        self.method.addItem("PCA (at once)", "PCA")
        self.method.addItem("t-SNE (about a minute)", "t-SNE")
        if not has_tsne():
            self.method.model().item(1).setEnabled(False)  # type: ignore[attr-defined]
            self.method.setItemData(
                1, 't-SNE needs openTSNE: pip install "mnist-desk[maps]"',
                Qt.ItemDataRole.ToolTipRole,
            )  # fmt: skip
        self.make_button = QPushButton("Make the Map")
        self.make_button.setObjectName("makeMap")
        self.make_button.clicked.connect(self.make)
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer:"))
        row.addWidget(self.layer, 2)
        row.addWidget(QLabel("Method:"))
        row.addWidget(self.method, 1)
        row.addWidget(self.make_button)
        self.job = JobProgress()  # shown while a map is made: how far, time left, Cancel
        self.job.setObjectName("featureMapJob")
        self.job.cancel_requested.connect(self._on_cancel_requested)
        self.status = QLabel("Choose a layer and make its map of the test images.")
        self.status.setObjectName("mapStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        self.chart = pg.PlotWidget()
        self.chart.setObjectName("embeddingMap")
        self.chart.setAccessibleName("The test images on a map of the chosen layer's output")
        self.chart.getPlotItem().hideAxis("left")
        self.chart.getPlotItem().hideAxis("bottom")
        self.chart.setAspectLocked(True)
        self.legend = self.chart.getPlotItem().addLegend(offset=(10, 10), labelTextSize="8pt")
        # translucent grey: the theme's text colour reads on it in light and in dark
        self.legend.setBrush(pg.mkBrush(128, 128, 128, 70))
        self.scatter = pg.ScatterPlotItem(size=4, pen=None, hoverable=True, tip=None)
        self.scatter.sigHovered.connect(self._on_hovered)
        self.scatter.sigClicked.connect(self._on_clicked)
        self.mistakes = pg.ScatterPlotItem(
            size=10,
            symbol="x",
            pen=pg.mkPen((255, 255, 255), width=0.8),
            brush=pg.mkBrush(0, 0, 0),  # black with a white rim: seen on light and dark
        )
        self.drawing = pg.ScatterPlotItem(
            size=22, symbol="star", pen=pg.mkPen((0, 0, 0), width=1.5),
            brush=pg.mkBrush(255, 215, 0),
        )  # fmt: skip
        for item in (self.scatter, self.mistakes, self.drawing):
            self.chart.addItem(item)
        for digit, colour in enumerate(DIGIT_COLOURS):  # legend entries only
            self.legend.addItem(pg.ScatterPlotItem(symbol="o", brush=colour, pen=None), str(digit))
        self.legend.addItem(self.mistakes, "read wrong")
        self.legend.addItem(self.drawing, "your drawing")

        self.hover_image = QLabel()
        self.hover_image.setFixedSize(112, 112)
        self.hover_image.setStyleSheet("background: black;")
        self.hover_text = QLabel("Hover over a point to see its image; click it to read it "
                                 "on the Draw tab.")  # fmt: skip
        self.hover_text.setObjectName("mapHoverText")
        self.hover_text.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.hover_image)
        side.addWidget(self.hover_text)
        side.addStretch(1)
        side_box = QWidget()
        side_box.setLayout(side)
        side_box.setFixedWidth(170)
        body = QHBoxLayout()
        body.addWidget(self.chart, 1)
        body.addWidget(side_box)

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.job)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)

    # ---- making the map ----------------------------------------------------------------
    def refresh_layers(self) -> None:
        """The current model's layers, keeping the chosen one where it still exists."""
        checkpoint = self.current()
        chosen = self.layer.currentText()
        self.layer.clear()
        if checkpoint is None:
            return
        for layer in map_layers(checkpoint.build_model()):
            self.layer.addItem(layer.name)
        index = self.layer.findText(chosen)
        self.layer.setCurrentIndex(index if index >= 0 else self.layer.count() - 2)

    def is_running(self) -> bool:
        return self._job.is_running()

    def make(self) -> None:
        checkpoint = self.current()
        if self.is_running() or checkpoint is None:
            return
        if self.layer.count() == 0:
            self.refresh_layers()
        method = self.method.currentData()
        worker = MapWorker(
            checkpoint, self.layer.currentIndex(), method, self.cache, self.data_dir()
        )
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(lambda message: self.status.setText(f"No map: {message}"))
        self.make_button.setEnabled(False)
        self.job.start(f"{method} map of {self.layer.currentText()}")
        self.status.setText(f"Making the {method} map of {self.layer.currentText()}…")
        self._job.start(worker, name="featureMapThread")

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self._job.cancel()
        return self._job.wait(timeout_ms)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.job.report(done, total, text)

    def _on_cancel_requested(self) -> None:
        self.job.cancelling()
        self._job.cancel()

    def _on_job_done(self) -> None:
        self.make_button.setEnabled(True)
        self.job.finish()

    def _on_finished(self, made: MadeMap) -> None:
        self.made = made
        fm = made.feature_map
        brushes = [pg.mkBrush(*DIGIT_COLOURS[int(d)], 170) for d in made.labels]
        self.scatter.setData(pos=fm.points, brush=brushes, data=np.arange(len(made.labels)))
        wrong = made.predictions != made.labels
        self.mistakes.setData(pos=fm.points[wrong])
        self.show_drawing(self._drawing)
        extra = (
            f"; the two axes hold {100 * fm.explained:.0f}% of the variance"
            if fm.method == "PCA" else ""
        )  # fmt: skip
        self.status.setText(
            f"{fm.method} of {fm.layer.name}: {len(made.labels):,} test images, "
            f"{int(wrong.sum())} read "
            f"wrong (×), made in {made.seconds:.1f} s{extra}. Images that sit together are "
            "ones this layer finds alike."
        )
        self.chart.getPlotItem().autoRange()

    # ---- hover, click, the drawing -----------------------------------------------------
    def _on_hovered(self, item: pg.ScatterPlotItem, points: list, ev: object) -> None:
        if self.made is None or not len(points):
            return
        i = int(points[0].data())
        m = self.made
        self.hover_image.setPixmap(QPixmap.fromImage(gray_image(m.images[i])).scaled(112, 112))
        verdict = "read right" if m.predictions[i] == m.labels[i] else "read wrong"
        self.hover_text.setText(
            f"test image {i}: a {m.labels[i]}, read as {m.predictions[i]} ({verdict})"
        )

    def _on_clicked(self, item: pg.ScatterPlotItem, points: list, ev: object) -> None:
        if self.made is not None and len(points):
            i = int(points[0].data())
            self.open_image(self.made.images[i], int(self.made.labels[i]))

    def show_drawing(self, prediction: Prediction | None) -> None:
        """The drawing on the canvas (as the network sees it) as a star on the map;
        placed when the map is in view (it costs the drawing nothing elsewhere)."""
        self._drawing = prediction
        if not self.isVisible():
            return
        if self.made is None or prediction is None:
            self.drawing.setData([])
            return
        image = torch.from_numpy(
            np.clip(prediction.image * 255 + 0.5, 0, 255).astype(np.uint8)
        ).reshape(1, 28, 28)
        fm = self.made.feature_map
        where = fm.place(features(self.made.model, image, fm.layer))
        self.drawing.setData(pos=where)
