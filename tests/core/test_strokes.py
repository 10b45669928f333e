from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from mnist_desk.core.strokes import (
    MNIST_WIDTH_HIGH,
    MNIST_WIDTH_LOW,
    dilate,
    erode,
    normalize_width,
    stroke_width,
    thin,
)


def line_image(width: int, size: int = 60) -> np.ndarray:
    img = Image.new("L", (size, size), 0)
    ImageDraw.Draw(img).line([(10, 30), (50, 30)], fill=255, width=width)
    return np.asarray(img, np.float32) / 255


def test_thinning_leaves_a_one_pixel_line() -> None:
    skeleton = thin(line_image(9) > 0.5)
    rows = np.nonzero(skeleton.any(axis=1))[0]
    assert len(rows) == 1  # one row thick
    assert 30 <= skeleton.sum() <= 42  # about the length of the line


def test_stroke_width_is_mass_per_length() -> None:
    measured = [stroke_width(line_image(w))[0] for w in (3, 6, 10)]
    assert measured == sorted(measured)
    for width, value in zip((3, 6, 10), measured, strict=True):
        # the skeleton stops half a width short of each end, so short thick lines read wider
        assert 0.8 * width <= value <= 1.4 * width


def test_dilate_and_erode() -> None:
    image = line_image(5)
    assert dilate(image).sum() > image.sum() > erode(image).sum()


def test_normalize_width_fixes_only_extremes() -> None:
    thin_line, thick_line, fine_line = line_image(1), line_image(9), line_image(3)
    assert normalize_width(fine_line, 1.0) is fine_line  # within MNIST's range: untouched
    widened, _ = stroke_width(normalize_width(thin_line, 1.0))
    assert widened >= MNIST_WIDTH_LOW
    narrowed, _ = stroke_width(normalize_width(thick_line, 1.0))
    assert narrowed <= MNIST_WIDTH_HIGH + 1.0 and narrowed < 9


def test_thinning_a_blob_does_not_destroy_it() -> None:
    blob = np.zeros((40, 40), np.float32)
    blob[8:32, 12:28] = 1.0
    out = normalize_width(blob, 1.0)
    assert out.sum() > 0.2 * blob.sum()
