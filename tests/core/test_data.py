from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_desk.core import data as data_mod
from mnist_desk.core.data import (
    ENV_VAR,
    FILES,
    MNIST,
    find_idx_files,
    load_from_folder,
    load_mnist,
    read_idx,
    resolve_data_dir,
    user_cache_dir,
)
from mnist_desk.core.errors import DataError
from tests.helpers import idx_bytes, random_split, write_idx, write_mnist_folder


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MNIST_DESK_DATA, and a user cache in an empty temporary folder."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setattr(data_mod, "user_cache_dir", lambda: cache)
    return cache


def small_folder(folder: Path, gz: bool = True) -> Path:
    return write_mnist_folder(folder, random_split(50, 1), random_split(20, 2), gz=gz)


def test_real_mnist_shapes_and_types(mnist: MNIST) -> None:
    assert mnist.train_images.shape == (60000, 28, 28)
    assert mnist.train_images.dtype == torch.uint8
    assert mnist.train_labels.shape == (60000,)
    assert mnist.train_labels.dtype == torch.int64
    assert mnist.test_images.shape == (10000, 28, 28)
    assert mnist.test_labels.shape == (10000,)
    assert set(mnist.test_labels.unique().tolist()) == set(range(10))
    assert mnist.train_labels[:5].tolist() == [5, 0, 4, 1, 9]  # MNIST's famous first digits
    assert 0.12 < mnist.train_images.float().mean().item() / 255 < 0.14


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    images = np.arange(3 * 28 * 28, dtype=np.uint64).reshape(3, 28, 28).astype(np.uint8)
    path = write_idx(tmp_path / "x.idx", images, gz=gz)
    np.testing.assert_array_equal(read_idx(path), images)


@pytest.mark.parametrize("layout", ["direct", "raw", "plain"])
def test_folder_layouts(tmp_path: Path, layout: str) -> None:
    folder = tmp_path / "d"
    target = folder / "MNIST" / "raw" if layout == "raw" else folder
    small_folder(target, gz=layout != "plain")
    assert find_idx_files(folder) is not None
    loaded = load_from_folder(folder)
    assert loaded.train_images.shape == (50, 28, 28)
    assert loaded.test_labels.shape == (20,)


def test_folder_missing_one_file_does_not_count(tmp_path: Path) -> None:
    small_folder(tmp_path)
    (tmp_path / f"{FILES['test_labels']}.gz").unlink()
    assert find_idx_files(tmp_path) is None


def test_order_explicit_then_env_then_cache(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit, env, cache = small_folder(tmp_path / "a"), small_folder(tmp_path / "b"), isolated_env
    small_folder(cache)
    monkeypatch.setenv(ENV_VAR, str(env))
    assert resolve_data_dir(explicit) == explicit
    assert resolve_data_dir() == env
    monkeypatch.delenv(ENV_VAR)
    assert resolve_data_dir() == cache


def test_explicit_folder_without_files_is_an_error(tmp_path: Path, isolated_env: Path) -> None:
    with pytest.raises(DataError, match="does not hold the four MNIST IDX files"):
        load_mnist(tmp_path)


def test_env_folder_without_files_names_the_variable(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(DataError, match=ENV_VAR):
        load_mnist()


def test_truncated_file_names_it(tmp_path: Path) -> None:
    small_folder(tmp_path, gz=False)
    path = tmp_path / FILES["train_images"]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated") as info:
        load_from_folder(tmp_path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_names_it(tmp_path: Path) -> None:
    small_folder(tmp_path)
    path = tmp_path / f"{FILES['test_images']}.gz"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError) as info:
        load_from_folder(tmp_path)
    assert str(path) in str(info.value)


def _gzip_of(path: Path, head: bytes, zeros: int) -> Path:
    """A gzip of `head` then `zeros` zero bytes, written in pieces: a few KB on disk."""
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(head)
        for _ in range(zeros // 2**24):
            f.write(bytes(2**24))
    return path


def test_a_small_gzip_that_unpacks_past_its_header_is_refused_unread(tmp_path: Path) -> None:
    """200 MB of zeros behind the header of 3 images: read up to what the header promises,
    then refused, never the whole 200 MB in memory."""
    head = idx_bytes(np.zeros((3, 28, 28)))
    path = _gzip_of(tmp_path / "bomb.gz", head, 200 * 2**20)
    assert path.stat().st_size < 2**20
    with pytest.raises(DataError, match=r"promises 2,352 bytes .* the file holds more"):
        read_idx(path)


def test_a_header_promising_more_than_the_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_mod, "MAX_IDX_BYTES", 2**20)
    head = b"\x00\x00\x08\x03" + b"".join(n.to_bytes(4, "big") for n in (2000, 28, 28))
    path = _gzip_of(tmp_path / "big.gz", head, 0)  # 1.5 MB promised, none there
    with pytest.raises(DataError, match=r"promises 1 MB of data for shape \(2000, 28, 28\)"):
        read_idx(path)


def test_wrong_magic_number(tmp_path: Path) -> None:
    small_folder(tmp_path)
    path = tmp_path / f"{FILES['train_labels']}.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + idx_bytes(np.zeros(50))[4:]))
    with pytest.raises(DataError, match="magic number") as info:
        load_from_folder(tmp_path)
    assert str(path) in str(info.value)


def test_mismatched_counts_name_both_files(tmp_path: Path) -> None:
    write_mnist_folder(tmp_path, (random_split(50)[0], random_split(49)[1]), random_split(20))
    with pytest.raises(DataError, match=r"50 images but .* 49 labels") as info:
        load_from_folder(tmp_path)
    assert FILES["train_images"] in str(info.value)
    assert FILES["train_labels"] in str(info.value)
    write_mnist_folder(tmp_path, (random_split(1)[0], random_split(2)[1]), random_split(20))
    with pytest.raises(DataError, match=r"holds 1 image but .* holds 2 labels"):
        load_from_folder(tmp_path)


def test_label_out_of_range(tmp_path: Path) -> None:
    images, labels = random_split(50)
    labels[3] = 11
    write_mnist_folder(tmp_path, (images, labels), random_split(20))
    with pytest.raises(DataError, match="label above 9"):
        load_from_folder(tmp_path)


def test_user_cache_dir_is_per_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(data_mod.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / "mnist-desk"
    monkeypatch.setattr(data_mod.sys, "platform", "darwin")
    assert user_cache_dir().parts[-3:] == ("Library", "Caches", "mnist-desk")
    monkeypatch.setattr(data_mod.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    assert user_cache_dir() == tmp_path / "mnist-desk" / "Cache"
    assert os.fspath(user_cache_dir())


def _npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def test_extra_drawings_are_read_and_checked(tmp_path: Path) -> None:
    from mnist_desk.core.data import load_extra

    images = np.zeros((5, 28, 28), np.uint8)
    good = _npz(tmp_path / "good.npz", images=images, labels=np.array([0, 1, 9, -1, 3]))
    x, y = load_extra(good)
    assert x.shape == (5, 28, 28) and y.tolist() == [0, 1, 9, -1, 3]
    cases = {
        "wrong.npz": dict(images=images.astype(np.float32), labels=np.zeros(5, int)),
        "shape.npz": dict(images=np.zeros((5, 28, 27), np.uint8), labels=np.zeros(5, int)),
        "count.npz": dict(images=images, labels=np.zeros(4, int)),
        "range.npz": dict(images=images, labels=np.array([0, 1, 2, 3, 10])),
        "missing.npz": dict(pictures=images),
        "objects.npz": dict(images=images, labels=np.array([0, "a", None, 1, 2], dtype=object)),
    }
    for name, arrays in cases.items():
        with pytest.raises(DataError):
            load_extra(_npz(tmp_path / name, **arrays))
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(DataError, match="cannot read"):
        load_extra(tmp_path / "text.npz")
    with pytest.raises(DataError, match="cannot read"):
        load_extra(tmp_path / "absent.npz")
    with pytest.raises(DataError, match="it is a folder"):
        load_extra(tmp_path)
    if hasattr(os, "mkfifo"):  # refused unopened: a read would wait forever for a writer
        os.mkfifo(tmp_path / "fifo.npz")
        refused: list[str] = []

        def load() -> None:
            with pytest.raises(DataError, match="not a regular file") as info:
                load_extra(tmp_path / "fifo.npz")
            refused.append(str(info.value))

        reader = threading.Thread(target=load, daemon=True)
        reader.start()
        reader.join(20)
        assert refused, "the FIFO was opened and waited on"


def test_extra_drawings_that_would_unpack_past_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mnist_desk.core.data import load_extra

    monkeypatch.setattr(data_mod, "MAX_EXTRA_BYTES", 2**20)
    path = tmp_path / "packed.npz"  # 2 MB of blank drawings in a few KB
    np.savez_compressed(path, images=np.zeros((2700, 28, 28), np.uint8), labels=np.zeros(2700))
    assert path.stat().st_size < 2**20
    with pytest.raises(DataError, match="would unpack to more than"):
        load_extra(path)
