"""Make the training data of drawn digits and of drawings that are no digit:

    python scripts/make_drawn_data.py --copies 2 --with-mnist --out runs/drawn-data.npz

- every MNIST *training* digit traced to its centre lines and drawn again as a hand
  draws it on the canvas (core.drawn.as_drawn: pace, slant, European ones and sevens,
  pen), labelled with its digit; the test set is never traced here;
- letters and symbols of the training fonts (never the benchmark's held-out fonts, never
  the glyphs that look like digits) and random scribbles, traced and drawn the same way,
  labelled "no digit" (core.steps.NO_DIGIT).

Writes images (uint8 N x 28 x 28) and labels (int64) in one .npz. Uses every core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_desk.core import drawn  # noqa: E402
from mnist_desk.core.data import load_mnist  # noqa: E402
from mnist_desk.core.steps import NO_DIGIT  # noqa: E402

# Fonts the non-digit training drawings come from; benchmarks/drawn_digits.py scores
# letters of other fonts (HELD_OUT_FONTS there).
TRAINING_FONTS = [
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-ExtraLight.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono.ttf",
    "DejaVuSansCondensed.ttf", "DejaVuSerifCondensed-Italic.ttf", "NotoSansMono-Regular.ttf",
    "NimbusRoman-Regular.otf", "NimbusRoman-Italic.otf", "NimbusSansNarrow-Regular.otf",
    "NimbusSansNarrow-Oblique.otf", "P052-Roman.otf", "P052-Italic.otf",
]  # fmt: skip


def _digits_part(args: tuple[np.ndarray, np.ndarray, int]) -> np.ndarray:
    images, labels, seed = args
    return drawn.drawn_digits(images, labels, seed)


def _glyph_part(args: tuple[str, int, int]) -> list[np.ndarray]:
    font, copies, seed = args
    rng = np.random.default_rng(seed)
    out = []
    for char in drawn.NON_DIGIT_GLYPHS:
        strokes = drawn.glyph(font, char)
        if not strokes or drawn.ink_length(strokes) < drawn.SIMPLEST_NON_DIGIT:
            continue  # a line or a hook drawn from a glyph may well be a one or a seven
        for _ in range(copies):
            made = drawn.as_drawn(strokes, None, rng)
            if made is not None:
                out.append(made)
    return out


def _scribble_part(args: tuple[int, int]) -> list[np.ndarray]:
    n, seed = args
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        strokes = drawn.scribble(rng)
        if drawn.ink_length(strokes) >= drawn.SIMPLEST_NON_DIGIT:
            made = drawn.as_drawn(strokes, None, rng)
            if made is not None:
                out.append(made)
    return out


def _one_copy(
    pool: ProcessPoolExecutor,
    images: np.ndarray,
    labels: np.ndarray,
    fonts: list[Path],
    seed: int,
    args: argparse.Namespace,
) -> tuple[np.ndarray, np.ndarray]:
    chunk = 2000
    parts = [(images[i : i + chunk], labels[i : i + chunk], seed * 1000 + i // chunk)
             for i in range(0, len(labels), chunk)]  # fmt: skip
    digits = np.concatenate(list(pool.map(_digits_part, parts)))
    glyph_jobs = [(str(f), args.glyph_copies, 10_000 + seed * 100 + k) for k, f in enumerate(fonts)]
    glyphs = [g for part in pool.map(_glyph_part, glyph_jobs) for g in part]
    jobs = args.workers * 4
    per = -(-args.scribbles // jobs)
    scribble_jobs = [(per, 20_000 + seed * 100 + k) for k in range(jobs)]
    scribbles = [s for part in pool.map(_scribble_part, scribble_jobs) for s in part]
    print(f"  {len(digits)} digits, {len(glyphs)} letters and symbols, {len(scribbles)} scribbles")
    others = np.stack(glyphs + scribbles)
    return (
        np.concatenate([digits, others]),
        np.concatenate([labels.astype(np.int64), np.full(len(others), NO_DIGIT)]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", default=os.environ.get("MNIST_DESK_DATA"))
    parser.add_argument("--digits", type=int, default=60000, help="training digits to trace")
    parser.add_argument("--glyph-copies", type=int, default=4, help="drawings per glyph and font")
    parser.add_argument("--scribbles", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="draw everything this many times (seeds seed, seed+1, ..)",
    )
    parser.add_argument(
        "--with-mnist",
        action="store_true",
        help="add MNIST's training images as they are, so that with the trainer's own copy "
        "MNIST weighs about as much as the drawings",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    start = time.perf_counter()
    mnist = load_mnist(args.data)
    images = mnist.train_images[: args.digits].numpy()
    labels = mnist.train_labels[: args.digits].numpy()
    fonts = [f for f in (drawn.find_font(n) for n in TRAINING_FONTS) if f is not None]
    print(f"{len(fonts)} of {len(TRAINING_FONTS)} training fonts found")
    all_images, all_labels = [], []
    with ProcessPoolExecutor(args.workers) as pool:
        for seed in range(args.seed, args.seed + args.copies):
            made, made_labels = _one_copy(pool, images, labels, fonts, seed, args)
            all_images.append(made)
            all_labels.append(made_labels)
            print(
                f"copy with seed {seed}: {len(made)} drawings ({time.perf_counter() - start:.0f} s)"
            )
    if args.with_mnist:
        all_images.append(images)
        all_labels.append(labels.astype(np.int64))
    out_images, out_labels = np.concatenate(all_images), np.concatenate(all_labels)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=out_images, labels=out_labels)
    print(f"wrote {args.out}: {len(out_labels)} drawings ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
