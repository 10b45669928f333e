"""Digits as a phone or a scanner sees them: dark ink on paper that is grey, grainy and
lit unevenly, read through the app's image path (what a dropped, pasted or predicted
image goes through: core.preprocess, then the model).

Each MNIST digit is scaled to 30-80% of a frame of 150-400 pixels, at a random place, in
ink of 0.05-0.4 on paper of 0.6-0.95, with the paper's grain (Gaussian, sigma 0-0.03)
and, unless --even, a shadow across the page (a ramp of up to 0.5 in any direction) and a
lamp's falloff to the corners (up to 0.3); with --ruled, a notebook's lines; with --desk,
the sheet lies on a darker surface that shows around it. Blank pages made the same way
must not be read as a digit. Training digits are for tuning; test digits (the default)
are the score.

    python benchmarks/photographed_digits.py [--split test] [--count 1000] [--even]
        [--ruled] [--desk]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def lighting(h: int, w: int, rng: np.random.Generator, even: bool) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / h - 0.5, xx / w - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    shadow = rng.uniform(0, 0.5) * (np.cos(angle) * xx + np.sin(angle) * yy)
    falloff = rng.uniform(0, 0.3) * 2 * (xx**2 + yy**2)
    return np.zeros_like(xx) if even else shadow - falloff


def photograph(
    digit: np.ndarray | None,
    rng: np.random.Generator,
    even: bool,
    ruled: bool = False,
    desk: bool = False,
) -> np.ndarray:
    """A frame (float32 grey, 1 = white) with the digit (uint8 28x28, white on black) on
    it as dark ink, or a blank page when `digit` is None."""
    side = int(rng.integers(150, 400))
    h, w = side, int(side * rng.uniform(0.7, 1.3))
    paper, ink = rng.uniform(0.6, 0.95), rng.uniform(0.05, 0.4)
    cover = np.zeros((h, w), np.float32)
    if digit is not None:
        size = int(min(h, w) * rng.uniform(0.3, 0.8))
        scaled = Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR)
        y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        cover[y : y + size, x : x + size] = np.asarray(scaled, np.float32) / 255
    light = paper + lighting(h, w, rng, even)
    if ruled:  # a notebook's lines, every 10-25% of the height, fainter than the ink
        gap, width = rng.uniform(0.1, 0.25) * h, int(rng.integers(1, 4))
        line = np.zeros((h, w), np.float32)
        for y in np.arange(rng.uniform(0, gap), h, gap).astype(int):
            line[y : y + width] = 1.0
        light = light - rng.uniform(0.15, 0.3) * line
    frame = light * (1 - cover) + ink * cover + rng.normal(0, rng.uniform(0, 0.03), (h, w))
    if desk:  # the sheet on a darker surface that shows on every side, 5-25% of its size
        my, mx = (int(n * rng.uniform(0.05, 0.25)) for n in (h, w))
        surface = rng.uniform(0.05, 0.4) + rng.normal(0, 0.02, (h + 2 * my, w + 2 * mx))
        surface[my : my + h, mx : mx + w] = frame
        frame = surface
    return np.clip(frame, 0, 1).astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("train", "test"), default="test")
    parser.add_argument("--count", type=int, default=1000, help="digits; half as many blanks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--even", action="store_true", help="paper lit evenly")
    parser.add_argument("--ruled", action="store_true", help="a notebook's ruled paper")
    parser.add_argument("--desk", action="store_true", help="the sheet on a darker desk")
    parser.add_argument("--checkpoint", help="read with this model (default: the bundled one)")
    args = parser.parse_args()
    from mnist_desk.bundled import load_bundled_checkpoint
    from mnist_desk.core.checkpoint import load_checkpoint
    from mnist_desk.core.data import load_mnist
    from mnist_desk.core.predictor import Predictor

    ckpt = load_checkpoint(args.checkpoint) if args.checkpoint else load_bundled_checkpoint()
    predictor = Predictor.from_checkpoint(ckpt)
    data = load_mnist()
    images, labels = (
        (data.train_images, data.train_labels)
        if args.split == "train"
        else (data.test_images, data.test_labels)
    )
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(len(images), args.count, replace=False)
    right = unsure = nothing = 0
    for i in chosen:
        reading = predictor.predict(
            photograph(images[i].numpy(), rng, args.even, args.ruled, args.desk)
        )
        if reading is None:
            nothing += 1
            continue
        right += reading.digit == int(labels[i])
        unsure += reading.unsure
    blanks = args.count // 2
    read_as_digit = unsure_blank = 0
    for _ in range(blanks):
        reading = predictor.predict(photograph(None, rng, args.even, args.ruled, args.desk))
        if reading is not None:
            read_as_digit += not reading.unsure
            unsure_blank += reading.unsure
    light = ("even light" if args.even else "uneven light") + (", ruled" if args.ruled else "")
    light += ", on a desk" if args.desk else ""
    print(f"model: {ckpt.name}")
    print(f"{args.count:,} MNIST {args.split} digits photographed ({light}, seed {args.seed}): "
          f"{100 * right / args.count:.1f}% read right; unsure {unsure}, no ink found "
          f"{nothing}")  # fmt: skip
    print(f"{blanks:,} blank pages: read as a digit {read_as_digit}, unsure {unsure_blank}, "
          f"no ink found {blanks - read_as_digit - unsure_blank}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
