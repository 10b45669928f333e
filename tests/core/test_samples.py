from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_desk.core.places import user_data_dir
from mnist_desk.core.samples import SampleStore


def drawing(points: list[tuple[int, int]], width: int = 20) -> np.ndarray:
    img = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(img).line(points, fill=255, width=width, joint="curve")
    return np.asarray(img)


def test_samples_survive_a_restart(tmp_path: Path) -> None:
    store = SampleStore(tmp_path)
    seven = drawing([(60, 60), (220, 60), (120, 240)])
    a = store.add(seven, 7)
    b = store.add(drawing([(140, 40), (140, 240)]), 1)
    again = SampleStore(tmp_path)
    assert [s.id for s in again.samples()] == [a.id, b.id]
    assert again.counts()[7] == 1 and again.counts()[1] == 1
    np.testing.assert_array_equal(again.image(again.samples()[0]), seven)


def test_delete(tmp_path: Path) -> None:
    store = SampleStore(tmp_path)
    first = store.add(drawing([(140, 40), (140, 240)]), 1)
    store.add(drawing([(60, 60), (220, 60), (120, 240)]), 7)
    assert store.delete([first.id]) == 1
    assert len(store) == 1 and not (tmp_path / first.file).exists()
    assert len(SampleStore(tmp_path)) == 1


def test_a_damaged_index_is_rebuilt_from_the_files(tmp_path: Path) -> None:
    store = SampleStore(tmp_path)
    store.add(drawing([(140, 40), (140, 240)]), 1)
    store.add(drawing([(60, 60), (220, 60), (120, 240)]), 7)
    for damage in ("{not json", "[" * 100_000 + "]" * 100_000):  # the second: too deep
        (tmp_path / "index.json").write_text(damage)
        rebuilt = SampleStore(tmp_path)
        assert sorted(s.label for s in rebuilt.samples()) == [1, 7] and rebuilt.problems
    if hasattr(os, "mkfifo"):  # a FIFO: read, it would wait forever for a writer
        (tmp_path / "index.json").unlink()
        os.mkfifo(tmp_path / "index.json")
        stores: list[SampleStore] = []
        reader = threading.Thread(target=lambda: stores.append(SampleStore(tmp_path)))
        reader.daemon = True
        reader.start()
        reader.join(20)
        assert stores, "reading the index waited on a FIFO"
        assert sorted(s.label for s in stores[0].samples()) == [1, 7] and stores[0].problems


def test_mnist_form_of_the_samples(tmp_path: Path) -> None:
    store = SampleStore(tmp_path)
    store.add(drawing([(140, 40), (140, 240)]), 1)
    store.add(np.zeros((280, 280), np.uint8), 3)  # an empty drawing is skipped
    images, labels = store.mnist_arrays()
    assert images.shape == (1, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [1] and images.max() > 200


def test_labels_are_digits(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SampleStore(tmp_path).add(np.zeros((28, 28), np.uint8), 12)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_user_data_dir_is_per_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import mnist_desk.core.places as samples

    monkeypatch.setattr(samples.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert user_data_dir() == tmp_path / "mnist-desk"
