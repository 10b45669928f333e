"""Digit images traced back into pen strokes.

MNIST's digits were written on paper and scanned; nobody recorded the pen. Their centre
lines are the next best thing: each image is enlarged, thinned to lines one pixel wide
(core.strokes.thin), and the lines are walked into strokes the way a hand would draw
them, from a free end, going straight on at crossings and closing loops where they
close. The strokes are simplified to the corners that matter (Ramer-Douglas-Peucker) and
returned in coordinates of the image (0..1 across its width and height), so they can be
drawn on the canvas, resampled as a mouse or a tablet would record them (core.drawn) and
rendered with any pen. The shapes are MNIST's writers', not ours.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from mnist_desk.core.strokes import thin

UPSCALE = 3  # trace an 84x84 version of a 28x28 digit: smoother centre lines
THRESHOLD = 0.35  # of the image's peak: ink for the purpose of tracing
MIN_SPUR = 0.08  # a free branch shorter than this (of the image side) is thinning noise

_NEIGHBOURS = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))

Stroke = np.ndarray  # (n, 2) float: x, y in 0..1 of the image


def _straightness(
    here: tuple[int, int], heading: np.ndarray, q: tuple[int, int]
) -> tuple[float, int]:
    """How straight on the step from `here` to `q` goes, then preferring 4-neighbours."""
    step = np.array([q[0] - here[0], q[1] - here[1]], dtype=float)
    ahead = float(heading @ step / (np.linalg.norm(step) * (np.linalg.norm(heading) or 1)))
    return ahead, -abs(q[0] - here[0]) - abs(q[1] - here[1])


def skeleton(image: np.ndarray, upscale: int = UPSCALE) -> np.ndarray:
    """The centre lines of the ink of `image` (2-D, ink bright), enlarged `upscale` times,
    as a boolean image one pixel wide."""
    a = np.asarray(image, dtype=np.float32)
    peak = float(a.max())
    if peak <= 0:
        return np.zeros((a.shape[0] * upscale, a.shape[1] * upscale), dtype=bool)
    h, w = a.shape
    big = Image.fromarray(a / peak, mode="F").resize(
        (w * upscale, h * upscale), Image.Resampling.BICUBIC
    )
    return thin(np.asarray(big) > THRESHOLD)


def _walk(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """The skeleton's pixels as paths: each starts at a free end where there is one (the
    topmost first, as people start a digit at its top), goes straight on at junctions, and
    joins the pixel it runs into, so branches meet and loops close."""
    pixels = {(int(r), int(c)) for r, c in zip(*np.nonzero(mask), strict=True)}

    def around(p: tuple[int, int]) -> list[tuple[int, int]]:
        return [
            (p[0] + dr, p[1] + dc) for dr, dc in _NEIGHBOURS if (p[0] + dr, p[1] + dc) in pixels
        ]

    degree = {p: len(around(p)) for p in pixels}
    left = set(pixels)
    paths: list[list[tuple[int, int]]] = []
    while left:
        ends = [p for p in left if degree[p] <= 1]
        start = min(ends or left, key=lambda p: (p[0] + 0.3 * p[1], p[1]))
        path = [start]
        left.discard(start)
        joined = [q for q in around(start) if q not in left]
        if joined:  # a branch off a line already walked: start on that line
            path.insert(0, joined[0])
        while True:
            here = path[-1]
            options = [q for q in around(here) if q in left]
            if not options:
                break
            back = path[max(0, len(path) - 5)]
            heading = np.array([here[0] - back[0], here[1] - back[1]], dtype=float)
            nxt = max(options, key=functools.partial(_straightness, here, heading))
            path.append(nxt)
            left.discard(nxt)
        recent = set(path[-4:])
        touching = [q for q in around(path[-1]) if q not in left and q not in recent]
        if touching:  # ran into a line already drawn (or its own start): meet it
            path.append(touching[0])
        paths.append(path)
    return paths


def simplify(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Ramer-Douglas-Peucker: the fewest points whose polyline stays within `tolerance` of
    the original."""
    if len(points) < 3:
        return points
    keep = np.zeros(len(points), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        a, b = points[i], points[j]
        seg = b - a
        length = float(np.hypot(*seg))
        rel = points[i + 1 : j] - a
        if length == 0:
            dist = np.hypot(rel[:, 0], rel[:, 1])
        else:
            dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / length
        k = int(dist.argmax())
        if dist[k] > tolerance:
            mid = i + 1 + k
            keep[mid] = True
            stack += [(i, mid), (mid, j)]
    return points[keep]


def path_length(points: np.ndarray) -> float:
    return float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0


def trace(image: np.ndarray, upscale: int = UPSCALE) -> list[Stroke]:
    """The strokes of the digit in `image` (2-D, ink bright): arrays of (x, y) points in
    0..1 of the image's width and height, in drawing order. Empty when there is no ink."""
    mask = skeleton(image, upscale)
    h, w = mask.shape
    side = float(max(h, w))
    strokes: list[Stroke] = []
    for path in _walk(mask):
        rc = np.array(path, dtype=float)
        xy = np.stack([(rc[:, 1] + 0.5) / w, (rc[:, 0] + 0.5) / h], axis=1)
        strokes.append(simplify(xy, 0.6 / side))
    if len(strokes) > 1:  # thinning leaves short spurs at corners and stroke ends
        longest = max(path_length(s) for s in strokes)
        strokes = [s for s in strokes if path_length(s) >= MIN_SPUR or path_length(s) == longest]
    return strokes
