"""Small helpers shared by the tests: IDX files written from arrays, tiny datasets."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from mnist_desk.core.data import FILES, MNIST


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray, *, gz: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_mnist_folder(
    folder: Path,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    gz: bool = True,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": train[0],
        "train_labels": train[1],
        "test_images": test[0],
        "test_labels": test[1],
    }
    for key, name in FILES.items():
        write_idx(folder / (f"{name}.gz" if gz else name), arrays[key], gz=gz)
    return folder


def random_split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def subset(data: MNIST, n_train: int, n_test: int) -> MNIST:
    return MNIST(
        data.train_images[:n_train],
        data.train_labels[:n_train],
        data.test_images[:n_test],
        data.test_labels[:n_test],
        data.folder,
    )
