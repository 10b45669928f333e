"""Stroke width: measure it, and bring it into MNIST's range.

MNIST's digits were written with pens of similar width; a mouse on a canvas draws lines
from hair-thin to blob-thick, depending on the brush and on how large the digit is drawn.
Measured as ink mass per length of the skeleton, in pixels of a 28x28 digit whose long
side is 20 pixels, MNIST's strokes are 1.9 px wide at the 10th percentile, 2.6 at the
median and 4.1 at the 90th (2,000 training digits); drawings span 1.3 to 6.7 (10th to
90th percentile of benchmarks/drawn_digits.py). Only strokes outside 1.5-5.0 (about the
3rd and 96th percentiles of MNIST) are adjusted: adjusting MNIST's own p10-p90 outliers
cost 0.09 points on its test images, these bounds 0.02.
"""

from __future__ import annotations

import numpy as np

MNIST_WIDTH_LOW = 1.5  # thinner than this: dilate
MNIST_WIDTH_HIGH = 5.0  # thicker than this: erode


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: a boolean image reduced to lines one pixel wide."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            # neighbours clockwise from north: p2 .. p9
            nb = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],
                  img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]]  # fmt: skip
            count = np.sum(nb, axis=0)
            ring = [*nb, nb[0]]
            transitions = np.sum([(ring[i] == 0) & (ring[i + 1] == 1) for i in range(8)], axis=0)
            p2, p4, p6, p8 = nb[0], nb[2], nb[4], nb[6]
            if step == 0:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (c == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if remove.any():
                c[remove] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def stroke_width(ink: np.ndarray) -> tuple[float, int]:
    """Mean stroke width in pixels (ink mass per skeleton pixel), and the skeleton length."""
    length = int(thin(ink > 0.5).sum())
    return (float(ink.sum()) / length if length else 0.0), length


def _shifted(image: np.ndarray) -> list[np.ndarray]:
    padded = np.pad(image, 1)
    h, w = image.shape
    return [padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]


def dilate(image: np.ndarray) -> np.ndarray:
    """3x3 grey dilation: strokes about a pixel thicker on each side."""
    return np.max(_shifted(image), axis=0)


def erode(image: np.ndarray) -> np.ndarray:
    """3x3 grey erosion: strokes about a pixel thinner on each side."""
    return np.min(_shifted(image), axis=0)


def normalize_width(ink: np.ndarray, scale: float, max_steps: int = 6) -> np.ndarray:
    """Bring strokes much thinner or thicker than MNIST's back into its range by grey
    dilation or erosion, a pixel at a time; `scale` is ink pixels per 28x28 pixel.

    Thinning stops before it breaks strokes apart or eats the digit (the skeleton must
    keep 85% of its length, the ink half its mass): a digit drawn as a blob stays a blob.
    """
    width, length = stroke_width(ink)
    mass = float(ink.sum())
    if width == 0.0 or MNIST_WIDTH_LOW <= width / scale <= MNIST_WIDTH_HIGH:
        return ink
    out = ink
    for _ in range(max_steps):
        if width / scale < MNIST_WIDTH_LOW:
            candidate = dilate(out)
        elif width / scale > MNIST_WIDTH_HIGH:
            candidate = erode(out)
        else:
            break
        new_width, new_length = stroke_width(candidate)
        if new_width == 0.0 or new_length < 0.85 * length or candidate.sum() < 0.5 * mass:
            break
        out, width = candidate, new_width
    return out
