"""Digits as a mouse draws them: pen strokes resampled as an input device records them,
drawn with the canvas's pen, read into MNIST's form.

The app reads what is drawn on its canvas: strokes of mouse or tablet points joined by
straight lines, drawn with a round pen whose width is set by the digit's size (MNIST's
pen, `mnist_pen`). A slow hand leaves many points a pixel apart; a fast one, or a tablet
that reports ten times a second, leaves a few points far apart, so curves become
polygons and corners are cut (`resample`). This module draws strokes the same way
without Qt (`render`, `drawn_image`), which is what the training data of drawn digits
(scripts/make_drawn_data.py), the drawn-digit benchmark and the teaching of a user's
hand are made with, and it holds the variations of shape that writers differ by
(`european`, `slanted`) and the drawings that are no digit (`glyph`, `scribble`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mnist_desk.core.preprocess import to_mnist
from mnist_desk.core.tracing import Stroke, path_length, trace

MNIST_PEN = 0.15  # MNIST's pen width relative to the extent of a digit's centre lines
MIN_PEN = 0.02  # of the canvas side: a dot or a tiny scribble still gets a visible pen
RENDER_SIZE = 112  # side of the square the strokes are drawn on for reading


def extent(strokes: Sequence[Stroke]) -> float:
    """The longer side of the box around the strokes' centre lines."""
    points = np.concatenate([np.asarray(s, dtype=float).reshape(-1, 2) for s in strokes])
    return float((points.max(axis=0) - points.min(axis=0)).max())


def ink_length(strokes: Sequence[Stroke]) -> float:
    """The length of the centre lines in units of their extent: 1 for an upright line
    (1.4 for a diagonal one), about 3 for a zero, more for letters like M or W."""
    size = extent(strokes)
    total = sum(path_length(np.asarray(s, dtype=float)) for s in strokes)
    return total / size if size else 0.0


SIMPLEST_NON_DIGIT = 1.6  # a shape with less ink than this could be a one or a seven


def mnist_pen(strokes: Sequence[Stroke]) -> float:
    """The pen width (in the strokes' units) that gives the ink MNIST's stroke width for
    the digit's size: MNIST's strokes are about 2.6 pixels wide in a digit whose long
    side, strokes included, is 20 pixels."""
    return max(MNIST_PEN * extent(strokes), MIN_PEN)


def _densify(points: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along the polyline at most `step` apart, and their arc lengths."""
    out = [points[:1]]
    for a, b in itertools.pairwise(points):
        n = max(1, math.ceil(float(np.hypot(*(b - a))) / step))
        t = np.arange(1, n + 1)[:, None] / n
        out.append(a + t * (b - a))
    dense = np.concatenate(out)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(dense, axis=0).T))])
    return dense, s


def resample(stroke: Stroke, events: int) -> Stroke:
    """The points an input device records along the stroke when the hand takes `events`
    intervals to draw it: one point per interval, the hand slow at the start and the end
    and fast in between (a minimum-jerk stroke), the last point where the pen lifts.
    Few events cut corners and turn curves into polygons, as a quick hand does."""
    points = np.asarray(stroke, dtype=float)
    if len(points) < 2 or events < 1:
        return points
    dense, s = _densify(points, 0.002)
    total = float(s[-1])
    if total == 0:
        return points[:1]
    tau = np.linspace(0.0, 1.0, events + 1)
    where = total * (10 * tau**3 - 15 * tau**4 + 6 * tau**5)
    x = np.interp(where, s, dense[:, 0])
    y = np.interp(where, s, dense[:, 1])
    return np.stack([x, y], axis=1)


def mouse_events(stroke: Stroke, pace: float) -> int:
    """How many intervals a stroke takes at `pace` (intervals per unit of length of the
    digit's extent is 1): 40 is a slow hand on a mouse, 4 a quick one or a 10 Hz tablet."""
    return max(1, round(pace * path_length(np.asarray(stroke, dtype=float))))


def render(strokes: Sequence[Stroke], pen: float, size: int = RENDER_SIZE) -> np.ndarray:
    """Strokes (points in 0..1 of a square) drawn as the canvas draws them: straight lines
    between the points with a round pen of width `pen` (same units), white on black, as
    uint8 (size, size). Drawn at four times the size and reduced: smooth edges."""
    big = 4 * size
    image = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(image)
    width = max(1.0, pen * big)
    r = width / 2
    for stroke in strokes:
        pts = [(float(x) * big, float(y) * big) for x, y in np.asarray(stroke).reshape(-1, 2)]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=max(1, round(width)))
        for x, y in pts:  # round caps and joins
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    small = image.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8)


def drawn_image(strokes: Sequence[Stroke], pen_scale: float = 1.0) -> np.ndarray | None:
    """The strokes read as the app reads a drawing (MNIST's pen for their size, then
    core.preprocess): uint8 (28, 28), or None when nothing is drawn."""
    if not strokes:
        return None
    image = render(strokes, mnist_pen(strokes) * pen_scale)
    form = to_mnist(image, "light")
    return None if form is None else np.round(form * 255).astype(np.uint8)


def place(strokes: Sequence[Stroke], box: tuple[float, float, float, float]) -> list[Stroke]:
    """The strokes scaled (keeping their aspect) and moved so that their centre lines fill
    `box` = (x, y, width, height) as far as the aspect allows, centred in it."""
    points = np.concatenate([np.asarray(s, dtype=float) for s in strokes])
    lo, hi = points.min(axis=0), points.max(axis=0)
    size = np.maximum(hi - lo, 1e-6)
    x, y, w, h = box
    k = min(w / size[0], h / size[1])
    centre = np.array([x + w / 2, y + h / 2])
    return [(np.asarray(s, dtype=float) - (lo + hi) / 2) * k + centre for s in strokes]


def slanted(strokes: Sequence[Stroke], slant: float, angle_deg: float = 0.0) -> list[Stroke]:
    """Sheared by `slant` (x moves by slant times the height above the centre: positive
    leans right) and turned by `angle_deg` (counter-clockwise on screen)."""
    points = np.concatenate([np.asarray(s, dtype=float) for s in strokes])
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    out = []
    for s in strokes:
        p = np.asarray(s, dtype=float) - centre
        p = np.stack([p[:, 0] - slant * p[:, 1], p[:, 1]], axis=1)
        out.append(p @ rot.T + centre)
    return out


def _top_and_bottom(strokes: Sequence[Stroke]) -> tuple[np.ndarray, np.ndarray, float]:
    points = np.concatenate([np.asarray(s, dtype=float) for s in strokes])
    top, bottom = points[points[:, 1].argmin()], points[points[:, 1].argmax()]
    return top, bottom, float(bottom[1] - top[1])


def european(strokes: Sequence[Stroke], digit: int, rng: np.random.Generator) -> list[Stroke]:
    """A one or a seven as many European writers draw them: a one with a long flag and
    often a base (in one stroke or two), a seven with a bar across its stem. Other digits
    are returned as they are."""
    out = [np.asarray(s, dtype=float) for s in strokes]
    if digit not in (1, 7) or not out:
        return out
    top, bottom, height = _top_and_bottom(out)
    if height <= 0:
        return out
    if digit == 1:
        flag = top + height * np.array([-rng.uniform(0.2, 0.45), rng.uniform(0.15, 0.4)])
        stem = np.array([flag, top, bottom])
        if rng.random() < 0.6:
            half = height * rng.uniform(0.2, 0.4)
            if rng.random() < 0.5:  # flag, stem and base in one stroke
                return [np.array([flag, top, bottom, bottom + np.array([half * 1.5, 0])])]
            base = np.array([bottom - np.array([half, 0]), bottom + np.array([half, 0])])
            return [stem, base]
        return [stem]
    # a seven: the bar crosses the stem at about half its height
    level = top[1] + height * rng.uniform(0.45, 0.6)
    points = np.concatenate(out)
    near = points[np.abs(points[:, 1] - level) < 0.12 * height]
    x = float(near[:, 0].mean()) if len(near) else float(points[:, 0].mean())
    half = height * rng.uniform(0.15, 0.3)
    return [*out, np.array([[x - half, level], [x + half, level]])]


# Glyphs that look like digits: scored apart from the other non-digits, never trained on
# as "no digit" (a round O is a fair zero, an l a fair one).
LOOKALIKES = frozenset("OoQDIilJj|/\\()[]{}!?~÷rZzSsbGgqB&$Ty")
NON_DIGIT_GLYPHS = "ACEFHKLMNPRUVWXYacdefhkmnptuvwx#*+%@=<>€£¥π∑Ω√αβγλμ∞≠×"


FONT_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]


def find_font(name: str) -> Path | None:
    """The font file of that name in the usual font folders; None when not installed."""
    for folder in FONT_DIRS:
        if folder.is_dir():
            for path in folder.rglob(name):
                return path
    return None


def glyph(font: Path | str, char: str, size: int = 84) -> list[Stroke]:
    """The centre lines of one character of a font, as strokes (core.tracing)."""
    face = ImageFont.truetype(str(font), int(size * 0.7))
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), char, font=face)
    draw.text(((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top), char,
              fill=255, font=face)  # fmt: skip
    small = image.resize((28, 28), Image.Resampling.BOX)
    return trace(np.asarray(small, dtype=np.float32) / 255.0)


def scribble(rng: np.random.Generator) -> list[Stroke]:
    """A drawing that is no digit: a zig-zag, a spiral, a cross-hatch, a star, a wave or
    a knot, at random."""
    kind = int(rng.integers(6))
    if kind == 0:  # zig-zag with many turns
        n = int(rng.integers(6, 11))
        xs = np.where(np.arange(n) % 2 == 0, rng.uniform(0, 0.3, n), rng.uniform(0.7, 1, n))
        return [np.stack([xs, np.linspace(0, 1, n) + rng.normal(0, 0.03, n)], axis=1)]
    if kind == 1:  # spiral
        turns = rng.uniform(2.0, 3.5)
        t = np.linspace(0, turns * 2 * math.pi, 60)
        r = 0.05 + 0.45 * t / t[-1]
        return [np.stack([0.5 + r * np.cos(t), 0.5 + r * np.sin(t)], axis=1)]
    if kind == 2:  # cross-hatch: three or more crossing lines
        lines = []
        for _ in range(int(rng.integers(3, 6))):
            a = rng.uniform(0, math.pi)
            c = rng.uniform(0.3, 0.7, 2)
            d = 0.5 * np.array([math.cos(a), math.sin(a)])
            lines.append(np.array([c - d, c + d]))
        return lines
    if kind == 3:  # a star of five or seven points
        k = int(rng.choice([5, 7]))
        step = 2 if k == 5 else 3
        angles = -math.pi / 2 + 2 * math.pi * step * np.arange(k + 1) / k
        return [np.stack([0.5 + 0.5 * np.cos(angles), 0.5 + 0.5 * np.sin(angles)], axis=1)]
    if kind == 4:  # a wave across
        t = np.linspace(0, 1, 40)
        cycles = rng.uniform(2, 4)
        return [np.stack([t, 0.5 + 0.25 * np.sin(2 * math.pi * cycles * t)], axis=1)]
    # a knot: a closed random curve through several far-apart points
    n = int(rng.integers(5, 8))
    pts = rng.uniform(0, 1, (n, 2))
    return [np.concatenate([pts, pts[:1]])]


PACES = (40.0, 12.0, 6.0, 3.0, 2.0)  # intervals per digit extent: slow mouse .. 10 Hz tablet


def by_hand(
    strokes: Sequence[Stroke], rng: np.random.Generator, pace: float | None = None
) -> list[Stroke]:
    """The strokes as an input device records them when drawn at `pace` (default: one of
    `PACES` at random), with the small unsteadiness of a hand at each recorded point."""
    size = extent(strokes) or 1.0
    pace = (pace or float(rng.choice(PACES))) * rng.uniform(0.8, 1.25)
    out = []
    for s in strokes:
        points = resample(s, mouse_events(np.asarray(s) / size, pace))
        out.append(points + rng.normal(0, 0.008 * size, points.shape))
    return out


def as_drawn(
    strokes: Sequence[Stroke], digit: int | None, rng: np.random.Generator
) -> np.ndarray | None:
    """One drawing of the strokes as a writer might make it: a European one or seven now
    and then, a slant, a pace (`by_hand`) and a pen a little off MNIST's; read into
    MNIST's form (uint8 28x28), or None when nothing is left to read."""
    if digit is not None and rng.random() < 0.35:
        strokes = european(strokes, digit, rng)
    if rng.random() < 0.5:
        strokes = slanted(strokes, rng.uniform(-0.35, 0.35), rng.uniform(-10, 10))
    return drawn_image(by_hand(strokes, rng), rng.uniform(0.8, 1.25))


def drawn_digits(images: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """A drawing (`as_drawn`) of each MNIST-form image's traced strokes (uint8 N x 28 x 28);
    where tracing leaves nothing, the image itself."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        strokes = trace(image.astype(np.float32) / 255.0)
        made = as_drawn(strokes, int(label), rng) if strokes else None
        out[i] = image if made is None else made
    return out
