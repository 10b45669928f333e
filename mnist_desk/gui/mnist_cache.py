"""MNIST loaded once per folder and shared by training, the test-set explorer and the
augmentation preview. Loading happens in whichever worker thread asks first."""

from __future__ import annotations

import threading

from mnist_desk.core.data import MNIST, load_mnist


class MnistCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, MNIST] = {}

    def get(self, data_dir: str | None) -> MNIST:
        """The dataset for `data_dir` (None: found as usual), loading it if needed.
        Blocks: call from a worker thread. Raises DataError as load_mnist does."""
        key = data_dir or ""
        with self._lock:
            if key not in self._data:
                self._data[key] = load_mnist(data_dir)
            return self._data[key]

    def cached(self, data_dir: str | None) -> MNIST | None:
        with self._lock:
            return self._data.get(data_dir or "")
