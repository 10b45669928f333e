"""Training images as the augmentation settings transform them: the first row as they are,
three random draws below, redrawn whenever a setting changes."""

from __future__ import annotations

import threading

import numpy as np
import torch
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from mnist_desk.core.augment import MNIST_MEAN, MNIST_STD, augment
from mnist_desk.core.config import AugmentConfig
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.gui.mnist_cache import MnistCache
from mnist_desk.gui.network_tab import rgb_image

COLUMNS, DRAWS = 8, 3
SCALE = 3


def preview_grid(originals: np.ndarray, draws: list[np.ndarray]) -> np.ndarray:
    """uint8 grid: originals on top, one row per draw, each image SCALE times larger."""
    rows = [originals, *draws]
    tile = 28 * SCALE
    grid = np.full((len(rows) * (tile + 4) + 4, COLUMNS * (tile + 4) + 4), 60, np.uint8)
    for r, row in enumerate(rows):
        for c in range(COLUMNS):
            y, x = 4 + r * (tile + 4), 4 + c * (tile + 4)
            grid[y : y + tile, x : x + tile] = np.kron(row[c], np.ones((SCALE, SCALE), np.uint8))
    return grid


class AugmentPreview(QWidget):
    _loaded = Signal(str)  # error message, or "" (from the loading thread)

    def __init__(self, cache: MnistCache, data_dir: object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("augmentPreview")
        self.cache, self._data_dir = cache, data_dir
        self.config = AugmentConfig()
        self._seed = 0
        self._loading = False
        self.picture = QLabel("Loading training images…")
        self.picture.setObjectName("augmentGrid")
        self.picture.setAccessibleName("Training images after augmentation")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.again = QPushButton(QIcon(":/icons/revert.svg"), "New random draw")
        self.again.setObjectName("newDrawButton")
        self.again.clicked.connect(self.new_draw)
        note = QLabel(
            "Top row: training images as they are. Below: what the network sees "
            "in three different epochs, with the settings in the form."
        )
        note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(note, 1)
        row.addWidget(self.again)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.picture, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)  # redraw once the user stops turning a spin box
        self._timer.timeout.connect(self.redraw)
        self._loaded.connect(self._on_loaded)

    def set_config(self, cfg: AugmentConfig) -> None:
        self.config = cfg
        self._timer.start()

    def new_draw(self) -> None:
        self._seed += 1
        self.redraw()

    def showEvent(self, event: object) -> None:
        self.redraw()

    def _images(self) -> np.ndarray | None:
        data = self.cache.cached(self._data_dir())  # type: ignore[operator]
        if data is None:
            self._load_in_background()
            return None
        pick = torch.randperm(len(data.train_images), generator=torch.Generator().manual_seed(7))
        return data.train_images[pick[:COLUMNS]].numpy()

    def _load_in_background(self) -> None:
        if self._loading:
            return
        self._loading = True
        folder = self._data_dir()  # type: ignore[operator]

        def work() -> None:
            try:
                self.cache.get(folder)
                self._loaded.emit("")
            except MnistDeskError as exc:
                self._loaded.emit(str(exc))

        threading.Thread(target=work, name="mnist-preview-load", daemon=True).start()

    def _on_loaded(self, error: str) -> None:
        self._loading = False
        if error:
            self.picture.setText(f"No training images to show: {error}")
        else:
            self.redraw()

    def redraw(self) -> None:
        if not self.isVisible():
            return
        originals = self._images()
        if originals is None:
            return
        generator = torch.Generator().manual_seed(self._seed)
        x = torch.from_numpy(originals)
        draws = []
        for _ in range(DRAWS):
            out = augment(x, self.config, generator)[:, 0] * MNIST_STD + MNIST_MEAN
            draws.append((out.clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy())
        grid = preview_grid(originals, draws)
        rgb = np.repeat(grid[..., None], 3, axis=-1)
        self.picture.setPixmap(QPixmap.fromImage(rgb_image(rgb)))
        self.last_grid = grid
