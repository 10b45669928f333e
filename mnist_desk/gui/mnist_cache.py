"""MNIST loaded once per folder and shared by training, the test-set explorer and the
augmentation preview. Loading happens in whichever worker thread asks first; a download
it needs reports progress and stops when the asking job is cancelled."""

from __future__ import annotations

import threading

from mnist_desk.core.data import MNIST, Progress, load_mnist
from mnist_desk.core.errors import DataError


class MnistCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, MNIST] = {}

    def get(
        self,
        data_dir: str | None,
        *,
        download: bool = True,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> MNIST:
        """The dataset for `data_dir` (None: found as usual), loading it if needed.
        Blocks: call from a worker thread. Raises DataError as load_mnist does, and when
        `stop` is set while it waits for another thread's load."""
        key = data_dir or ""
        while not self._lock.acquire(timeout=0.1):
            if stop is not None and stop.is_set():
                raise DataError("loading MNIST was cancelled")
        try:
            if key not in self._data:
                self._data[key] = load_mnist(
                    data_dir, download=download, progress=progress, stop=stop
                )
            return self._data[key]
        finally:
            self._lock.release()

    def cached(self, data_dir: str | None) -> MNIST | None:
        with self._lock:
            return self._data.get(data_dir or "")
