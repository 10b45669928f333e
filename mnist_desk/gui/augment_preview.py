"""Training images as the augmentation settings transform them: the first row as they are,
three random draws below, redrawn whenever a setting changes."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from mnist_desk.core.augment import MNIST_MEAN, MNIST_STD, augment
from mnist_desk.core.config import AugmentConfig
from mnist_desk.gui.background import BackgroundJob, FunctionWorker
from mnist_desk.gui.images import rgb_image
from mnist_desk.gui.mnist_cache import MnistCache
from mnist_desk.gui.picture import Picture

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
    """`data_dir` gives the dataset folder in use (None: found as usual)."""

    def __init__(
        self,
        cache: MnistCache,
        data_dir: Callable[[], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("augmentPreview")
        self.cache, self.data_dir = cache, data_dir
        self.config = AugmentConfig()
        self._seed = 0
        self._job: BackgroundJob[FunctionWorker] = BackgroundJob(self, self.redraw)
        self._failed: set[str] = set()  # folders that failed to load: not tried again
        self.picture = Picture()
        self.picture.set_text("Loading training images…")
        self.picture.setObjectName("augmentGrid")
        self.picture.setAccessibleName("Training images after augmentation")
        self.again = QPushButton(QIcon(":/icons/revert.svg"), "New random draw")
        self.again.setObjectName("newDrawButton")
        self.again.setToolTip("Draw the random transformations again")
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

    def set_config(self, cfg: AugmentConfig) -> None:
        self.config = cfg
        self._timer.start()

    def new_draw(self) -> None:
        self._seed += 1
        self.redraw()

    def showEvent(self, event: QShowEvent) -> None:
        self._failed.clear()  # shown again: the folder may hold MNIST by now
        self.redraw()

    def _images(self) -> np.ndarray | None:
        data = self.cache.cached(self.data_dir())
        if data is None:
            self._load_in_background()
            return None
        pick = torch.randperm(len(data.train_images), generator=torch.Generator().manual_seed(7))
        return data.train_images[pick[:COLUMNS]].numpy()

    def _load_in_background(self) -> None:
        folder = self.data_dir()
        if self._job.is_running() or (folder or "") in self._failed:
            return
        worker = FunctionWorker(functools.partial(self.cache.get, download=False), folder)
        worker.failed.connect(self._on_worker_failed)
        self._job.start(worker, name="previewLoad")

    def _on_worker_failed(self, message: str) -> None:
        self._failed.add(self.data_dir() or "")
        self.picture.set_text(f"No training images to show: {message}")

    def shutdown(self, timeout_ms: int) -> bool:
        return self._job.wait(timeout_ms)

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
        self.picture.set_image(rgb_image(rgb))
        self.last_grid = grid
