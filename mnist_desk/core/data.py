"""MNIST as in-memory tensors, read straight from the four IDX files.

Where the files come from, first match wins: an explicit folder (`--data DIR`), the
environment variable MNIST_DESK_DATA, the user's cache folder. If none holds them, they
are downloaded with torchvision (its mirrors and MD5 checksums) into the cache folder.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mnist_desk.core.errors import DataError

ENV_VAR = "MNIST_DESK_DATA"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IDX_UBYTE = 0x08


@dataclass(frozen=True)
class MNIST:
    """Images uint8 (N, 28, 28) and labels int64 (N,), on the CPU."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    folder: Path


def user_cache_dir() -> Path:
    """The platform's per-user cache folder for this app."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "mnist-desk" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mnist-desk"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mnist-desk"


def _find(folder: Path, name: str) -> Path | None:
    for sub in (folder, folder / "MNIST" / "raw"):
        for candidate in (sub / name, sub / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def find_idx_files(folder: str | os.PathLike[str]) -> dict[str, Path] | None:
    """The four IDX files in `folder` (plain or gzipped, directly or in MNIST/raw/), or None."""
    found = {key: _find(Path(folder), name) for key, name in FILES.items()}
    if any(path is None for path in found.values()):
        return None
    return found  # type: ignore[return-value]


def _where_to_put_them(folder: Path | None = None) -> str:
    names = ", ".join(f"{n}.gz" for n in FILES.values())
    return (
        f"put the four MNIST files ({names}) in {folder or user_cache_dir()}, "
        f"or point to a folder that holds them with --data DIR or {ENV_VAR}"
    )


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder MNIST will be read from, or None when it has to be downloaded first.

    A folder named explicitly or by MNIST_DESK_DATA must hold the files: silently using
    some other copy would hide the user's mistake.
    """
    for folder, origin in ((data_dir, "the data folder"), (os.environ.get(ENV_VAR), ENV_VAR)):
        if folder:
            if find_idx_files(folder) is None:
                raise DataError(
                    f"{origin} {folder} does not hold the four MNIST IDX files; "
                    + _where_to_put_them()
                )
            return Path(folder)
    cache = user_cache_dir()
    return cache if find_idx_files(cache) is not None else None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """An IDX file of unsigned bytes (gzipped or not) as a numpy array, fully checked."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc} (a truncated or corrupt file?)") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _IDX_UBYTE or raw[3] not in (1, 3):
        raise DataError(f"{path} is not an MNIST IDX file (wrong magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated: its header is incomplete")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(
            f"{path} is truncated or corrupt: its header promises {expected:,} bytes of data "
            f"for shape {dims}, the file holds {len(raw) - header:,}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read_split(images_path: Path, labels_path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path} does not hold 28x28 images (shape {images.shape})")
    if labels.ndim != 1:
        raise DataError(f"{labels_path} does not hold labels (shape {labels.shape})")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images):,} images but {labels_path} holds "
            f"{len(labels):,} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path} holds a label above 9 ({labels.max()})")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def load_from_folder(folder: str | os.PathLike[str]) -> MNIST:
    files = find_idx_files(folder)
    if files is None:
        raise DataError(f"{folder} does not hold the four MNIST IDX files; " + _where_to_put_them())
    train = _read_split(files["train_images"], files["train_labels"])
    test = _read_split(files["test_images"], files["test_labels"])
    return MNIST(*train, *test, folder=Path(folder))


def download_mnist(folder: str | os.PathLike[str] | None = None) -> Path:
    """Download MNIST with torchvision into `folder` (the cache by default); return it."""
    from torchvision.datasets import MNIST as TorchvisionMNIST

    target = Path(folder) if folder is not None else user_cache_dir()
    chatter = io.StringIO()  # torchvision prints each mirror it tries; we say it once
    try:
        target.mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(chatter):
            TorchvisionMNIST(root=str(target), train=False, download=True)
    except Exception as exc:  # torchvision raises RuntimeError, URLError, OSError, ...
        reason = _first_reason(str(exc)) or type(exc).__name__
        raise DataError(
            f"MNIST is not on this machine and could not be downloaded into {target} "
            f"({reason}); " + _where_to_put_them(target)
        ) from None
    if find_idx_files(target) is None:
        raise DataError(f"the download into {target} did not produce the four MNIST files")
    return target


def _first_reason(message: str) -> str:
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    tail = [ln for ln in lines if not ln.startswith(("Error downloading", "Tried "))]
    return (tail or lines or [""])[-1][:200]


def load_mnist(data_dir: str | os.PathLike[str] | None = None, *, download: bool = True) -> MNIST:
    """MNIST from the first place that holds it, downloading into the cache if allowed."""
    folder = resolve_data_dir(data_dir)
    if folder is None:
        if not download:
            raise DataError("MNIST is not on this machine; " + _where_to_put_them())
        folder = download_mnist()
    return load_from_folder(folder)
