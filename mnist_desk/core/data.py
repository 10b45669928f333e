"""MNIST as in-memory tensors, read straight from the four IDX files.

Where the files come from, first match wins: an explicit folder (`--data DIR`), the
environment variable MNIST_DESK_DATA, the user's cache folder. If none holds them, they
are downloaded from torchvision's mirrors, checked against its MD5 checksums, into the
cache folder, with timeouts, retries, progress and a way to cancel.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import math
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from mnist_desk.core.errors import DataError
from mnist_desk.core.files import plain_reason, read_npz
from mnist_desk.core.text import plural, shown

ENV_VAR = "MNIST_DESK_DATA"
MIRRORS_VAR = "MNIST_DESK_MIRRORS"
DOWNLOAD_TIMEOUT_S = 10.0  # a mirror that sends nothing for this long is given up
DOWNLOAD_TRIES = 2  # per mirror
DOWNLOAD_BUDGET_S = 50.0  # when nothing answers: every mirror and retry, together
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IDX_UBYTE = 0x08
MAX_IDX_BYTES = 2**30  # one IDX file's data: 1.3 million 28x28 images


@dataclass(frozen=True)
class MNIST:
    """Images uint8 (N, 28, 28) and labels int64 (N,), on the CPU."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    folder: Path

    def with_extra(self, images: torch.Tensor, labels: torch.Tensor) -> MNIST:
        """These images added to the training set (the test set stays MNIST's)."""
        return MNIST(
            torch.cat([self.train_images, images]),
            torch.cat([self.train_labels, labels]),
            self.test_images,
            self.test_labels,
            self.folder,
        )


MAX_EXTRA_BYTES = 2 * 2**30


def load_extra(path: str | os.PathLike[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Extra training drawings from an .npz of `images` (uint8 N x 28 x 28, white ink on
    black, as MNIST's) and `labels` (integers 0-9, or -1 for a drawing that is no digit),
    as scripts/make_drawn_data.py writes them; fully checked, never unpickled."""
    path = Path(path)
    where = shown(str(path))
    try:
        arrays = read_npz(path, ("images", "labels"), MAX_EXTRA_BYTES)
        images, labels = arrays["images"], arrays["labels"]
    except KeyError:
        raise DataError(f"{where} has no 'images' and 'labels' arrays") from None
    except FileNotFoundError:
        raise DataError(f"cannot read {where}: it does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read {where}: {plain_reason(exc)}") from None
    except ValueError as exc:  # no regular file, too large, damaged, not an .npz of arrays
        raise DataError(f"cannot read {where}: {shown(str(exc))}") from None
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{where}: images must be uint8 N x 28 x 28 (got {images.dtype} "
                        f"{images.shape})")  # fmt: skip
    if labels.ndim != 1 or len(labels) != len(images) or labels.dtype.kind not in "iu":
        raise DataError(f"{where}: labels must be one integer per image")
    if len(labels) and (labels.min() < -1 or labels.max() > 9):
        raise DataError(f"{where}: labels must be 0-9, or -1 for no digit")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


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
    """An IDX file of unsigned bytes (gzipped or not) as a numpy array, fully checked.

    Read as a stream, never past what its header promises: a small gzip that would unpack
    to gigabytes, or a header that promises more than MAX_IDX_BYTES, is refused without
    the memory for it ever being taken."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == b"\x1f\x8b"
            f.seek(0)
            stream: BinaryIO = gzip.GzipFile(fileobj=f) if gzipped else f  # type: ignore[assignment]
            return _read_idx_stream(stream, path)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc} (a truncated or corrupt file?)") from None


def _read_idx_stream(stream: BinaryIO, path: Path) -> np.ndarray:
    magic = stream.read(4)
    if (
        len(magic) < 4
        or magic[0] != 0
        or magic[1] != 0
        or magic[2] != _IDX_UBYTE
        or magic[3] not in (1, 3)
    ):
        raise DataError(f"{path} is not an MNIST IDX file (wrong magic number {magic.hex()})")
    ndim = magic[3]
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataError(f"{path} is truncated: its header is incomplete")
    dims = tuple(int.from_bytes(sizes[4 * i : 4 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(dims)
    if expected > MAX_IDX_BYTES:
        raise DataError(
            f"{path} promises {expected / 2**20:,.0f} MB of data for shape {dims}; files over "
            f"{MAX_IDX_BYTES // 2**20:,} MB are not read (MNIST's largest is 45 MB)"
        )
    data = stream.read(expected + 1)  # one byte more tells a file longer than its header
    if len(data) != expected:
        holds = f"{len(data):,} bytes" if len(data) < expected else "more"
        raise DataError(
            f"{path} is truncated or corrupt: its header promises {expected:,} bytes of data "
            f"for shape {dims}, the file holds {holds}"
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _read_split(images_path: Path, labels_path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path} does not hold 28x28 images (shape {images.shape})")
    if labels.ndim != 1:
        raise DataError(f"{labels_path} does not hold labels (shape {labels.shape})")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {plural(len(images), 'image')} but {labels_path} holds "
            f"{plural(len(labels), 'label')}"
        )
    if len(images) == 0:
        raise DataError(f"{images_path} holds no images (its header says 0)")
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


Progress = Callable[[int, int, str], None]  # bytes done, bytes expected (0: unknown), what


def describe_bytes(done: int, total: int) -> str:
    """Download progress in words: "3.2 of 9.9 MB"."""
    if total > 0:
        return f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"
    return f"{done / 1e6:.1f} MB"


def _sources() -> tuple[list[str], list[tuple[str, str]]]:
    """Mirrors and (file, MD5) pairs: torchvision's, or MNIST_DESK_MIRRORS (comma-separated
    base URLs, tried first) for a local mirror."""
    from torchvision.datasets import MNIST as TorchvisionMNIST

    mirrors = [m.strip() for m in os.environ.get(MIRRORS_VAR, "").split(",") if m.strip()]
    return mirrors or list(TorchvisionMNIST.mirrors), list(TorchvisionMNIST.resources)


def download_mnist(
    folder: str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
    budget_s: float = DOWNLOAD_BUDGET_S,
) -> Path:
    """Download MNIST's four files into `folder` (the cache by default), each checked
    against its MD5, and return the folder.

    Each mirror is tried DOWNLOAD_TRIES times; a mirror that sends nothing for `timeout_s`
    is given up, and when nothing answers at all the whole download gives up after
    `budget_s`, every mirror and retry included. Setting `stop` cancels it within a tenth
    of a second. Raises DataError, one line, whatever went wrong.
    """
    target = Path(folder) if folder is not None else user_cache_dir()
    mirrors, resources = _sources()
    stop = stop or threading.Event()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot download MNIST into {target}: {exc.strerror or exc}") from None
    spent = 0.0  # seconds lost to mirrors that failed
    for filename, md5 in resources:
        if _md5(target / filename) == md5:
            continue
        spent = _download_file(
            target, filename, md5, mirrors, progress, stop, timeout_s, budget_s, spent
        )
    if find_idx_files(target) is None:
        raise DataError(f"the download into {target} did not produce the four MNIST files")
    return target


def _download_file(
    target: Path,
    filename: str,
    md5: str,
    mirrors: list[str],
    progress: Progress | None,
    stop: threading.Event,
    timeout_s: float,
    budget_s: float,
    spent: float,
) -> float:
    """One file from the first mirror that gives it; returns the seconds lost so far."""
    reasons: list[str] = []
    for attempt in range(DOWNLOAD_TRIES):
        for mirror in mirrors:
            if spent >= budget_s:
                break
            url = mirror.rstrip("/") + "/" + filename
            started = time.monotonic()
            reason = _fetch(url, target / filename, md5, progress, stop, timeout_s)
            if reason is None:
                return spent
            spent += time.monotonic() - started
            reasons.append(reason)
            if stop.is_set():
                raise DataError("the download of MNIST was cancelled")
        if attempt + 1 < DOWNLOAD_TRIES and spent < budget_s:
            stop.wait(min(1.0, budget_s - spent))
            spent += min(1.0, budget_s - spent)
    raise DataError(
        f"MNIST is not on this machine and could not be downloaded into {target} "
        f"({reasons[-1] if reasons else 'no time left'}); " + _where_to_put_them(target)
    )


def _fetch(
    url: str,
    dest: Path,
    md5: str,
    progress: Progress | None,
    stop: threading.Event,
    timeout_s: float,
) -> str | None:
    """Download `url` to `dest` in a helper thread that this one watches, so that a stalled
    connection never holds up a cancel; None on success, else why it failed."""
    host = urllib.parse.urlsplit(url).hostname or url
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    outcome: list[str | None] = []
    heard = [time.monotonic()]  # when the mirror last sent something
    abandoned = threading.Event()  # this thread stopped waiting: the helper cleans up

    def run() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                total = int(response.headers.get("Content-Length") or 0)
                done = 0
                with open(part, "wb") as f:
                    while chunk := response.read(1 << 16):
                        if stop.is_set():
                            outcome.append("cancelled")
                            return
                        f.write(chunk)
                        heard[0] = time.monotonic()
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total, f"{dest.name} from {host}")
            outcome.append(None if _md5(part) == md5 else f"{host} sent a damaged {dest.name}")
        except TimeoutError:
            outcome.append(f"no answer from {host} within {timeout_s:g} s")
        except urllib.error.HTTPError as exc:
            outcome.append(f"{host} answered {exc.code} {exc.reason}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            outcome.append(f"cannot reach {host}: {str(reason)[:120]}")
        finally:
            if abandoned.is_set():
                with contextlib.suppress(OSError):
                    part.unlink()

    thread = threading.Thread(target=run, name="mnist-download", daemon=True)
    thread.start()
    while thread.is_alive() and not stop.is_set():
        thread.join(0.1)
        if time.monotonic() - heard[0] > timeout_s + 2.0:  # stuck where no timeout reaches,
            outcome[:] = [f"no answer from {host} within {timeout_s:g} s"]  # e.g. in DNS
            break
    if stop.is_set():
        outcome[:] = ["cancelled"]  # the helper ends by itself at its next read or timeout
    if thread.is_alive():
        abandoned.set()
    if outcome and outcome[0] is None:
        os.replace(part, dest)
        return None
    with contextlib.suppress(OSError):
        part.unlink()
    return outcome[0] if outcome else "cancelled"


def _md5(path: Path) -> str | None:
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> MNIST:
    """MNIST from the first place that holds it, downloading into the cache if allowed
    (with `progress` and `stop` as download_mnist takes them)."""
    folder = resolve_data_dir(data_dir)
    if folder is None:
        if not download:
            raise DataError("MNIST is not on this machine; " + _where_to_put_them())
        folder = download_mnist(progress=progress, stop=stop)
    return load_from_folder(folder)
