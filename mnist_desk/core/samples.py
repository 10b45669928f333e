"""The user's own handwriting: drawings kept with the digit they show.

One PNG per sample (light ink on black, as the canvas draws it, at full resolution so
that better preprocessing later applies to old samples too) and an index.json beside
them, both written atomically. The label is in the file name as well, so the samples
survive a lost or damaged index.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_desk.core.preprocess import to_mnist

INDEX = "index.json"


def user_data_dir() -> Path:
    """The platform's per-user data folder for this app."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
        return base / "mnist-desk"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "mnist-desk"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "mnist-desk"


@dataclass(frozen=True)
class Sample:
    id: str
    label: int
    file: str
    created: str


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class SampleStore:
    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else user_data_dir() / "my-digits"
        self._samples: list[Sample] = self._read_index()

    # ---- reading ---------------------------------------------------------------------
    def _read_index(self) -> list[Sample]:
        try:
            data = json.loads((self.folder / INDEX).read_text())
            samples = [Sample(**s) for s in data["samples"]]
            return [s for s in samples if (self.folder / s.file).is_file()]
        except (OSError, ValueError, KeyError, TypeError):
            return self._scan()

    def _scan(self) -> list[Sample]:
        """Rebuild the list from the files themselves: <id>_<label>.png."""
        found = []
        for path in sorted(self.folder.glob("*_[0-9].png")):
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
        """The drawing, uint8 (H, W), light ink on black."""
        with Image.open(self.folder / sample.file) as img:
            return np.asarray(img.convert("L")).copy()

    def mnist_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All samples in the MNIST form: uint8 (N, 28, 28) images and int64 (N,) labels."""
        images, labels = [], []
        for sample in self._samples:
            form = to_mnist(self.image(sample), "light")
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
        _write_atomically(self.folder / sample.file, png)
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
        _write_atomically(self.folder / INDEX, json.dumps(data, indent=1).encode())


def _png_bytes(image: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()
