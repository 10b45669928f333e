"""The user's own handwriting: drawings kept with the digit they show.

One PNG per sample (light ink on black, as the canvas draws it, at full resolution so
that better preprocessing later applies to old samples too) and an index.json beside
them, both written atomically. The label is in the file name as well, so the samples
survive a lost or damaged index. Everything read back is checked: a damaged index is
rebuilt from the files, a damaged entry or picture is skipped, and each is listed in
`problems` for the app to report; none of them is ever fatal.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mnist_desk.core.errors import ImageError
from mnist_desk.core.files import parse_json, read_small_file, write_atomically
from mnist_desk.core.images import read_image
from mnist_desk.core.places import user_data_dir
from mnist_desk.core.preprocess import to_mnist
from mnist_desk.core.text import shown

INDEX = "index.json"
FILE_NAME = re.compile(r"^[0-9A-Za-z-]{1,64}_[0-9]\.png$")  # <id>_<label>.png, nothing else


@dataclass(frozen=True)
class Sample:
    id: str
    label: int
    file: str
    created: str


def _sample(entry: Any) -> Sample | None:
    """An index entry, checked: a plain file name of ours, a digit, text fields."""
    if not isinstance(entry, dict):
        return None
    sid, label, file, created = (entry.get(k) for k in ("id", "label", "file", "created"))
    if not (isinstance(sid, str) and isinstance(file, str) and isinstance(created, str)):
        return None
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label <= 9:
        return None
    if not FILE_NAME.match(file) or file != f"{sid}_{label}.png":
        return None
    return Sample(sid, label, file, created)


class SampleStore:
    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else user_data_dir() / "my-digits"
        self.problems: list[str] = []  # what could not be read, in words, to be reported
        self._samples: list[Sample] = self._read_index()

    # ---- reading ---------------------------------------------------------------------
    def _read_index(self) -> list[Sample]:
        path = self.folder / INDEX
        if not path.exists():
            return self._scan()
        try:
            entries = parse_json(read_small_file(path, 50 * 2**20).decode("utf-8"))["samples"]
            if not isinstance(entries, list):
                raise ValueError("not a list")
        except (OSError, ValueError, KeyError, TypeError):
            self.problems.append(f"the index of your digits ({shown(str(path))}) was damaged; "
                                 "it was rebuilt from the pictures")  # fmt: skip
            return self._scan()
        samples = [s for s in map(_sample, entries) if s is not None]
        if len(samples) < len(entries):
            self.problems.append(f"{len(entries) - len(samples)} damaged entries of the index "
                                 "of your digits were skipped")  # fmt: skip
        return [s for s in samples if (self.folder / s.file).is_file()]

    def _scan(self) -> list[Sample]:
        """Rebuild the list from the files themselves: <id>_<label>.png."""
        found = []
        with contextlib.suppress(OSError):
            for path in sorted(self.folder.glob("*_[0-9].png")):
                if not FILE_NAME.match(path.name) or not path.is_file():
                    continue
                sample_id, _, label = path.stem.rpartition("_")
                created = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.timezone.utc)
                found.append(Sample(sample_id, int(label), path.name, created.isoformat()))
        return found

    def samples(self) -> list[Sample]:
        return list(self._samples)

    def __len__(self) -> int:
        return len(self._samples)

    def counts(self) -> list[int]:
        """How many samples of each digit."""
        counts = [0] * 10
        for s in self._samples:
            counts[s.label] += 1
        return counts

    def image(self, sample: Sample) -> np.ndarray:
        """The drawing, uint8 (H, W), light ink on black; raises ImageError if damaged."""
        gray = read_image(self.folder / sample.file)
        return (gray * 255 + 0.5).astype(np.uint8)

    def readable(self) -> list[tuple[Sample, np.ndarray]]:
        """Every sample whose picture can be read, with it; the others go to `problems`."""
        out = []
        for sample in self._samples:
            try:
                out.append((sample, self.image(sample)))
            except ImageError as exc:
                message = f"a kept digit could not be read and was skipped: {exc}"
                if message not in self.problems:
                    self.problems.append(message)
        return out

    def mnist_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All readable samples in the MNIST form: uint8 (N, 28, 28) images and int64 (N,)
        labels."""
        images, labels = [], []
        for sample, picture in self.readable():
            form = to_mnist(picture, "light")
            if form is not None:
                images.append(np.clip(form * 255 + 0.5, 0, 255).astype(np.uint8))
                labels.append(sample.label)
        if not images:
            return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
        return np.stack(images), np.asarray(labels, np.int64)

    # ---- writing ---------------------------------------------------------------------
    def add(self, image: np.ndarray, label: int) -> Sample:
        if not 0 <= int(label) <= 9:
            raise ValueError(f"a digit is 0 to 9, got {label}")
        self.folder.mkdir(parents=True, exist_ok=True)
        now = _dt.datetime.now(_dt.timezone.utc)
        sample_id = now.strftime("%Y%m%d-%H%M%S-%f")
        sample = Sample(sample_id, int(label), f"{sample_id}_{int(label)}.png", now.isoformat())
        png = _png_bytes(np.asarray(image, dtype=np.uint8))
        write_atomically(self.folder / sample.file, png)
        self._samples.append(sample)
        self._write_index()
        return sample

    def delete(self, ids: Iterable[str]) -> int:
        doomed = set(ids)
        kept = [s for s in self._samples if s.id not in doomed]
        for s in self._samples:
            if s.id in doomed:
                with contextlib.suppress(FileNotFoundError):
                    (self.folder / s.file).unlink()
        removed = len(self._samples) - len(kept)
        self._samples = kept
        self._write_index()
        return removed

    def _write_index(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "samples": [s.__dict__ for s in self._samples]}
        write_atomically(self.folder / INDEX, json.dumps(data, indent=1).encode())


def _png_bytes(image: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()
