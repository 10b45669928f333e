"""Real handwriting that nobody here designed: UCI's optical digits, as scikit-learn ships
them (1,797 digits written by 13 people who are not MNIST's writers, scanned, and stored
as 8x8 blocks of 0-16 ink counts). Each is read through the app's own image path (the
path a dropped or pasted image and `mnist-desk predict` take): core.preprocess, then the
bundled model, with nothing tuned on them.

At 8x8 much of a digit is gone (a one with a flag and a base is a blob of a few pixels),
so this is a floor for scans of real handwriting at a very low resolution, not a measure
of drawing on the canvas (benchmarks/drawn_digits.py).

    pip install scikit-learn   # only for its copy of the data
    python benchmarks/uci_digits.py [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as float32 (N, 8, 8) ink in [0, 1], and their labels."""
    try:
        import sklearn
    except ImportError:
        raise SystemExit(
            "this benchmark reads scikit-learn's copy: pip install scikit-learn"
        ) from None
    path = Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    return (rows[:, :64] / 16).reshape(-1, 8, 8).astype(np.float32), rows[:, 64].astype(int)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="read with this model (default: the bundled one)")
    args = parser.parse_args()
    from mnist_desk.bundled import load_bundled_checkpoint
    from mnist_desk.core.checkpoint import load_checkpoint
    from mnist_desk.core.predictor import Predictor

    ckpt = load_checkpoint(args.checkpoint) if args.checkpoint else load_bundled_checkpoint()
    predictor = Predictor.from_checkpoint(ckpt)
    images, labels = load()
    right = np.zeros(10)
    total = np.bincount(labels, minlength=10)
    unsure = np.zeros(2)  # of the right readings, of the wrong ones
    confusions: Counter[tuple[int, int]] = Counter()
    for image, label in zip(images, labels, strict=True):
        reading = predictor.predict(image, polarity="light")  # white ink on black, as stored
        ok = reading is not None and reading.digit == label
        right[label] += ok
        unsure[0 if ok else 1] += reading is None or reading.unsure
        if not ok:
            confusions[(label, -1 if reading is None else reading.digit)] += 1
    wrong = len(labels) - right.sum()
    print(f"model: {ckpt.name}")
    print(f"UCI optical digits, 8x8 scans, 13 writers: {100 * right.sum() / len(labels):.1f}% of "
          f"{len(labels):,} read right")  # fmt: skip
    print("per digit: " + "  ".join(f"{d}: {100 * right[d] / total[d]:.0f}%" for d in range(10)))
    print(f"said unsure: {100 * unsure[1] / max(wrong, 1):.0f}% of the misreadings, "
          f"{100 * unsure[0] / max(right.sum(), 1):.1f}% of the right readings")  # fmt: skip
    sure = len(labels) - unsure.sum()
    print(f"right when not unsure: {100 * (right.sum() - unsure[0]) / max(sure, 1):.1f}% "
          f"of {int(sure):,}")  # fmt: skip
    common = confusions.most_common(6)
    print("commonest misreadings: " + ", ".join(
        f"{t}→{'nothing' if r < 0 else r} ({n})" for (t, r), n in common))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
