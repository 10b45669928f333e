"""Any drawing or image -> the 28x28 form MNIST's digits have.

LeCun's recipe for MNIST: crop to the ink, fit it into a 20x20 box keeping the aspect
ratio (anti-aliased, hence grey edges), then paste it into a 28x28 field so that its
centre of mass sits at the centre. MNIST's own digits have their centre of mass at
pixel (14, 14) in row/column index coordinates, measured over the training set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageFilter

from mnist_desk.core import strokes
from mnist_desk.core.images import pil_to_gray

BOX = 20  # the digit's longer side after fitting
SIZE = 28
CENTRE = 14.0  # MNIST's mean centre of mass, index coordinates
INK_THRESHOLD = 0.1  # a pixel this much brighter than the background is ink
MIN_CONTRAST = 0.15  # ink this faint (of the paper's range) is stretched to full strength
UNEVEN_LIGHT = 0.05  # paper along the border this uneven (5th to 50th percentile)
PAPER_SIDE = 64  # the paper's light is found at this size, where it is smooth anyway
PAPER_WINDOW = 0.25  # of the image's short side: strokes narrower than this are ink
NOISE_SIGMAS = 3.0  # grain of the paper within this many of its spreads is not ink
GRAIN_SAMPLE = 100_000  # pixels enough to measure the grain
SPECKLED = 0.01  # grain above this spread: its peaks beyond the floor are single pixels
SHEET_MIN = 0.25  # a light block this much of the image is a sheet on a darker surface
SHEET_FILL = 0.88  # ... if this much of the block is light (the ink is sparse)
SHEET_INSET = 0.03  # of its size: the sheet's edge and its shadow are left out
RULE_COVER = 0.8  # a row of ink across this much of the width may be a ruled line
MIN_RULES = 3  # ruled paper shows at least this many; fewer may be a digit's own bars
RULE_RESIDUE = 0.05  # of the lines' ink: less than this left beside them is a blank page

Polarity = Literal["auto", "light", "dark"]


def to_grayscale(image: np.ndarray | Image.Image) -> np.ndarray:
    """float32 (H, W) in [0, 1] from a PIL image (any mode: core.images) or an array
    (H, W), (H, W, 3) or (H, W, 4).

    Where an alpha channel carries the drawing (opaque strokes on a transparent
    background), the alpha is the ink.
    """
    if isinstance(image, Image.Image):
        return pil_to_gray(image)
    a = np.asarray(image)
    scale = 255.0 if a.dtype == np.uint8 else (65535.0 if a.dtype == np.uint16 else 1.0)
    a = a.astype(np.float32) / scale
    if a.ndim == 2:
        return a
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected a grayscale, RGB or RGBA image, got shape {a.shape}")
    if a.shape[2] == 4:
        alpha = a[..., 3]
        if alpha.min() < 0.5 < alpha.max():
            return alpha.copy()
    if a.shape[2] == 1:
        return a[..., 0]
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def ink_map(gray: np.ndarray, polarity: Polarity = "auto") -> np.ndarray:
    """Ink as light-on-dark in [0, 1], the background subtracted.

    With polarity "auto" the border decides: a light border means dark ink on light paper.
    The paper is the border's median; where the border's light varies (a shadow across a
    photographed page, a lamp's falloff to the corners) it is the smooth surface under the
    ink (`_paper`). The paper's grain is not ink (NOISE_SIGMAS). Faint ink (a pencil on
    grey paper, a pale scan) is stretched so that its strongest pixels are full strength,
    as MNIST's are; below MIN_CONTRAST it is left alone, so a blank page stays blank
    instead of its noise becoming a digit (benchmarks/photographed_digits.py).
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    sheet = _sheet(gray) if polarity == "auto" and background <= 0.5 else None
    if sheet is not None:  # a light sheet on a dark desk: the ink is on the sheet
        top, bottom, left, right = sheet
        out = np.zeros_like(gray)
        out[top:bottom, left:right] = ink_map(gray[top:bottom, left:right], "dark")
        return out
    if polarity == "dark" or (polarity == "auto" and background > 0.5):
        gray, border, background = 1.0 - gray, 1.0 - border, 1.0 - background
    if polarity == "light" or background < 0.02:
        return gray
    # the paper's side of the border, from its median down (ink runs off a tightly cropped
    # digit on the other side)
    if background - float(np.percentile(border, 5)) > UNEVEN_LIGHT:  # a shadow, a lamp
        paper: np.ndarray | float = _paper(gray)
    else:
        paper = background
    # the paper's grain (a photo's noise, a scan's texture) is not ink: what lies within
    # NOISE_SIGMAS of its spread above the paper is dropped. The paper is most of the
    # image, so the median and the median deviation of what is left measure its grain.
    rest = gray - paper
    step = max(1, math.isqrt(rest.size // GRAIN_SAMPLE))  # a grid of pixels tells as well
    sample = rest[::step, ::step]
    centre = float(np.median(sample))
    grain = 1.4826 * float(np.median(np.abs(sample - centre)))
    floor = paper + centre + NOISE_SIGMAS * grain
    ink = np.clip((gray - floor) / np.maximum(1.0 - floor, 1e-6), 0.0, 1.0)
    marked = ink[ink > INK_THRESHOLD / 2]
    peak = float(np.percentile(marked, 99)) if marked.size else 0.0
    if MIN_CONTRAST <= peak < 1.0:
        ink = np.clip(ink / peak, 0.0, 1.0)
    ink = _without_rules(_without_rules(ink).T).T  # a notebook's lines, then a grid's
    if grain > SPECKLED:  # the grain's own peaks: lone pixels, where a stroke is a band
        specks = Image.fromarray(ink.astype(np.float32), mode="F")
        ink = np.asarray(specks.filter(ImageFilter.MedianFilter(3)), dtype=np.float32)
    return ink


def _without_rules(ink: np.ndarray) -> np.ndarray:
    """The ink without the lines of ruled paper: MIN_RULES or more rows of ink that run
    across RULE_COVER of the width. Each such band takes, pixel by pixel, the fainter of
    the rows just above and below it, so a stroke that crosses a line goes on through it
    and the line alone is gone. One or two such rows are left alone: the bar of a seven
    or the foot of a two can run across a tightly cropped image."""
    rows = np.flatnonzero((ink > INK_THRESHOLD).mean(axis=1) >= RULE_COVER)
    if rows.size == 0:
        return ink
    bands = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    if len(bands) < MIN_RULES:
        return ink
    out = ink.copy()
    edge = np.zeros(ink.shape[1], ink.dtype)  # beyond the image: no ink
    for band in bands:
        above, below = band[0] - 1, band[-1] + 1
        out[band] = np.minimum(
            ink[above] if above >= 0 else edge, ink[below] if below < len(ink) else edge
        )
    if out.sum() < RULE_RESIDUE * ink[rows].sum():  # only specks beside the lines: blank
        return np.zeros_like(ink)
    return out


def _sheet(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """Where a light sheet lies on a darker surface that frames it (a note photographed
    on a desk), as (top, bottom, left, right) a little inside its edges; None unless the
    light part of the image is one block covering SHEET_MIN of it. Light ink on a dark
    ground (a white digit on black) covers far less, and is no block."""
    reduced, scale = _reduced(gray)
    small = np.asarray(reduced, dtype=np.float32)
    light = small > _otsu(small)
    if light.mean() < SHEET_MIN:
        return None
    # the block: the rows and the columns that are light for more than half their length
    rows = np.flatnonzero(light.mean(axis=1) > 0.5)
    cols = np.flatnonzero(light.mean(axis=0) > 0.5)
    if rows.size == 0 or cols.size == 0:
        return None
    block = light[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if block.size < SHEET_MIN * light.size or block.mean() < SHEET_FILL:
        return None
    inset_y, inset_x = SHEET_INSET * block.shape[0], SHEET_INSET * block.shape[1]
    top, bottom = (rows[0] + inset_y) / scale, (rows[-1] + 1 - inset_y) / scale
    left, right = (cols[0] + inset_x) / scale, (cols[-1] + 1 - inset_x) / scale
    return round(top), round(bottom), round(left), round(right)


def _otsu(values: np.ndarray) -> float:
    """The threshold that best splits `values` into two classes (Otsu's method)."""
    counts, edges = np.histogram(values, bins=64)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    mass = np.cumsum(counts * centres)
    total, total_mass = weight[-1], mass[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mass * weight - total * mass) ** 2 / (weight * (total - weight))
    between = np.nan_to_num(between[:-1], nan=0.0, posinf=0.0)
    return float(edges[int(np.argmax(between)) + 1])


def _paper(gray: np.ndarray) -> np.ndarray:
    """The paper under light-on-dark ink, lit unevenly: a morphological opening (the
    darkest, then the lightest, of each window) of the image at PAPER_SIDE pixels, which
    keeps smooth light exactly (a ramp, a vignette) and removes strokes narrower than a
    quarter of the image; brought back to full size."""
    h, w = gray.shape
    small, _ = _reduced(gray)
    k = max(3, round(min(small.size) * PAPER_WINDOW) | 1)
    pad = k // 2
    padded = Image.fromarray(np.pad(np.asarray(small), pad, mode="edge"), mode="F")
    opened = padded.filter(ImageFilter.MinFilter(k)).filter(ImageFilter.MaxFilter(k))
    paper = opened.crop((pad, pad, pad + small.size[0], pad + small.size[1]))
    return np.asarray(paper.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)


def _reduced(gray: np.ndarray) -> tuple[Image.Image, float]:
    """The image as a float PIL image at most PAPER_SIDE pixels on its long side (box
    averaged), and the scale it was reduced by: the size at which the paper is judged."""
    h, w = gray.shape
    scale = min(1.0, PAPER_SIDE / max(h, w))
    image = Image.fromarray(gray.astype(np.float32), mode="F")
    if scale < 1.0:
        image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                             Image.Resampling.BOX)  # fmt: skip
    return image, scale


def _fit_box(ink: np.ndarray, box: int = BOX) -> np.ndarray:
    h, w = ink.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    img = Image.fromarray(ink.astype(np.float32), mode="F")
    return np.asarray(img.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)


def _halve(patch: np.ndarray) -> np.ndarray:
    h, w = patch.shape
    size = (max(1, round(w / 2)), max(1, round(h / 2)))
    img = Image.fromarray(patch, mode="F")
    return np.asarray(img.resize(size, Image.Resampling.BOX), dtype=np.float32)


def _centre_of_mass(patch: np.ndarray) -> tuple[float, float]:
    total = float(patch.sum())
    rows = np.arange(patch.shape[0], dtype=np.float64)
    cols = np.arange(patch.shape[1], dtype=np.float64)
    return float(patch.sum(axis=1) @ rows) / total, float(patch.sum(axis=0) @ cols) / total


def _place(patch: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The patch in a 28x28 field, its centre of mass at the centre; and where its top
    left corner went."""
    cy, cx = _centre_of_mass(patch)
    top, left = round(CENTRE - cy), round(CENTRE - cx)
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    h, w = patch.shape
    # clip the paste to the field (an extremely lopsided digit could stick out)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, SIZE), min(left + w, SIZE)
    out[y0:y1, x0:x1] = patch[y0 - top : y1 - top, x0 - left : x1 - left]
    return out, top, left


@dataclass(frozen=True)
class Field:
    """Where the 28x28 field lies in the source image, in its pixels: the square with top
    left corner (x, y) and the given side (to draw a 28x28 map back onto the source)."""

    x: float
    y: float
    side: float


def to_mnist(
    image: np.ndarray | Image.Image, polarity: Polarity = "auto", *, normalize_width: bool = True
) -> np.ndarray | None:
    """The MNIST form of `image`: float32 (28, 28) in [0, 1], white ink on black.

    With `normalize_width`, strokes much thinner or thicker than MNIST's are redrawn with
    MNIST's median width (core.strokes), at twice the final resolution. Returns None when
    the image holds no ink: nothing to read is never a guess.
    """
    placed = to_mnist_placed(image, polarity, normalize_width=normalize_width)
    return None if placed is None else placed[0]


def to_mnist_placed(
    image: np.ndarray | Image.Image, polarity: Polarity = "auto", *, normalize_width: bool = True
) -> tuple[np.ndarray, Field] | None:
    """to_mnist, and where the 28x28 field it made lies in `image`."""
    ink = ink_map(to_grayscale(image), polarity)
    mask = ink > INK_THRESHOLD
    if not mask.any():
        return None
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    patch = None
    if normalize_width:
        double = np.clip(_fit_box(crop, 2 * BOX), 0.0, 1.0)
        adjusted = strokes.normalize_width(double, 2.0)
        if adjusted is not double:  # only then: a second resampling blurs a little
            patch = _halve(adjusted)
    if patch is None:
        patch = np.clip(_fit_box(crop), 0.0, 1.0)
    if patch.sum() <= 0:
        return None
    field, top, left = _place(patch)
    scale = BOX / max(crop.shape)  # source pixels to field pixels
    origin = Field(cols[0] - left / scale, rows[0] - top / scale, SIZE / scale)
    return field, origin
