from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_desk.core.errors import ImageError
from mnist_desk.core.images import read_image
from mnist_desk.core.preprocess import to_grayscale, to_mnist

# a "2" as a polyline in a unit box
TWO = [(0.15, 0.25), (0.3, 0.05), (0.7, 0.05), (0.85, 0.25), (0.8, 0.45), (0.15, 0.95), (0.9, 0.95)]


def draw(
    points: list[tuple[float, float]],
    box: tuple[float, float, float],
    *,
    size: int = 280,
    ink: int = 255,
    paper: int = 0,
    mode: str = "L",
) -> Image.Image:
    """The polyline scaled into the square (left, top, side) of a size x size image."""
    left, top, side = box
    img = Image.new(mode, (size, size), paper if mode == "L" else (paper,) * len(mode))
    pts = [(left + x * side, top + y * side) for x, y in points]
    width = max(1, round(side * 0.12))
    fill = ink if mode == "L" else (ink,) * len(mode)
    ImageDraw.Draw(img).line(pts, fill=fill, width=width, joint="curve")
    return img


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(a.shape)
    return float((a * rows).sum() / a.sum()), float((a * cols).sum() / a.sum())


def test_output_is_the_mnist_form() -> None:
    out = to_mnist(draw(TWO, (60, 40, 200)))
    assert out is not None and out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    rows, cols = np.nonzero(out > 0.1)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 21  # fits the 20x20 box (plus a soft edge)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 >= 18
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_small_in_a_corner_equals_large_in_the_middle() -> None:
    small = to_mnist(draw(TWO, (8, 8, 60)))
    large = to_mnist(draw(TWO, (40, 40, 200)))
    assert small is not None and large is not None
    assert np.abs(small - large).mean() < 0.05
    assert np.corrcoef(small.ravel(), large.ravel())[0, 1] > 0.9


def test_polarity_is_detected() -> None:
    light = to_mnist(draw(TWO, (40, 40, 200)))
    dark = to_mnist(draw(TWO, (40, 40, 200), ink=0, paper=255))
    rgb = to_mnist(draw(TWO, (40, 40, 200), ink=20, paper=235, mode="RGB"))
    assert light is not None and dark is not None and rgb is not None
    np.testing.assert_allclose(light, dark, atol=1e-5)
    assert np.corrcoef(light.ravel(), rgb.ravel())[0, 1] > 0.98


def test_alpha_carries_the_ink() -> None:
    img = draw(TWO, (40, 40, 200), mode="RGBA", ink=255, paper=0)  # opaque white on transparent
    out = to_mnist(img)
    ref = to_mnist(draw(TWO, (40, 40, 200)))
    assert out is not None and ref is not None
    np.testing.assert_allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize("value", [0, 255, 128])
def test_empty_images_have_no_ink(value: int) -> None:
    assert to_mnist(np.full((280, 280), value, dtype=np.uint8)) is None


def photographed(
    ink: Image.Image | None, *, shadow: float, grain: float, rules: int = 0, grid: bool = False
) -> np.ndarray:
    """A 280x280 grey page (paper 0.7, ink 0.2) with a shadow falling across it from left
    to right and the grain of a photo, with `ink` (white on black) drawn on it; ruled
    with `rules` lines 2 pixels wide (and as many columns with `grid`)."""
    rng = np.random.default_rng(0)
    cover = np.zeros((280, 280), np.float32) if ink is None else np.asarray(ink) / 255.0
    light = 0.7 + shadow * (np.linspace(-0.5, 0.5, 280, dtype=np.float32)[None, :])
    light = np.repeat(light, 280, axis=0) if light.shape[0] == 1 else light
    for k in range(rules):
        at = round((k + 0.5) * 280 / rules)
        light[at : at + 2] -= 0.25
        if grid:
            light[:, at : at + 2] -= 0.25
    page = light * (1 - cover) + 0.2 * cover + rng.normal(0, grain, (280, 280))
    return np.clip(page, 0, 1).astype(np.float32)


@pytest.mark.parametrize(("shadow", "grain"), [(0.0, 0.03), (0.0, 0.06), (0.4, 0.0), (0.4, 0.03)])
def test_a_photographed_page_reads_as_the_clean_digit_and_a_blank_one_as_nothing(
    shadow: float, grain: float
) -> None:
    """Before, the grain and the shadow were taken for ink: the blank page became a digit
    and the digit a small part of a grey field."""
    assert to_mnist(photographed(None, shadow=shadow, grain=grain)) is None
    clean = to_mnist(draw(TWO, (60, 40, 160)))
    seen = to_mnist(photographed(draw(TWO, (60, 40, 160)), shadow=shadow, grain=grain))
    assert clean is not None and seen is not None
    assert np.corrcoef(clean.ravel(), seen.ravel())[0, 1] > 0.9


@pytest.mark.parametrize("grid", [False, True])
def test_ruled_paper_loses_its_lines_and_keeps_the_digit(grid: bool) -> None:
    """A notebook's lines ran across the whole image: the digit became a stripe of a
    page-wide patch. Strokes that cross a line go on through it."""
    assert to_mnist(photographed(None, shadow=0.2, grain=0.02, rules=6, grid=grid)) is None
    clean = to_mnist(draw(TWO, (60, 40, 160)))
    page = photographed(draw(TWO, (60, 40, 160)), shadow=0.2, grain=0.02, rules=6, grid=grid)
    seen = to_mnist(page)
    assert clean is not None and seen is not None
    assert np.corrcoef(clean.ravel(), seen.ravel())[0, 1] > 0.9


def test_a_sheet_on_a_dark_desk_is_read_for_the_ink_on_it() -> None:
    """The desk around a photographed note made the border dark, so the sheet itself was
    taken for light ink on a dark ground: nothing was read."""
    clean = to_mnist(draw(TWO, (60, 40, 160)))
    note = photographed(draw(TWO, (60, 40, 160)), shadow=0.0, grain=0.02)
    desk = np.full((400, 380), 0.2, np.float32)
    desk[70:350, 40:320] = note
    seen = to_mnist(desk)
    assert clean is not None and seen is not None
    assert np.corrcoef(clean.ravel(), seen.ravel())[0, 1] > 0.9
    blank = desk.copy()
    blank[70:350, 40:320] = photographed(None, shadow=0.0, grain=0.02)
    assert to_mnist(blank) is None


def test_a_thick_white_one_on_black_is_a_digit_not_a_sheet() -> None:
    one = np.zeros((200, 200), np.float32)
    one[5:195, 70:130] = 1.0  # light over a quarter of the image, but a bar, not a block
    out = to_mnist(one)
    assert out is not None
    rows, cols = np.nonzero(out > 0.5)
    assert np.ptp(rows) > 2 * np.ptp(cols)  # the tall bar itself


def test_one_or_two_bars_across_a_tight_crop_are_the_digit_s_own() -> None:
    """A seven cropped to its ink: its bar runs across the whole image, and stays."""
    seven = np.full((100, 80), 0.9, np.float32)
    seven[:12, :] = 0.1  # the bar, edge to edge
    for y in range(12, 100):  # the stem, down to the left
        x = round(70 - 0.5 * (y - 12))
        seven[y, x - 6 : x + 6] = 0.1
    out = to_mnist(seven)
    assert out is not None
    rows, _ = np.nonzero(out > 0.5)
    top = out[rows.min() : rows.min() + 3]
    assert (top > 0.5).sum(axis=1).max() >= 8  # the bar is still there


def test_tiny_speck_is_still_placed_at_the_centre() -> None:
    a = np.zeros((100, 100), dtype=np.uint8)
    a[10, 90] = 255
    out = to_mnist(a)
    assert out is not None and out.sum() > 0
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_grayscale_conversions() -> None:
    assert to_grayscale(np.zeros((5, 6, 3), np.uint8)).shape == (5, 6)
    assert to_grayscale(np.ones((5, 6), np.float64)).max() == 1.0
    with pytest.raises(ValueError):
        to_grayscale(np.zeros((5, 6, 2)))


def test_read_image_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ImageError, match="not a readable image"):
        read_image(tmp_path / "notes.txt")
    with pytest.raises(ImageError, match="does not exist"):
        read_image(tmp_path / "missing.png")
    draw(TWO, (0, 0, 100), size=100).save(tmp_path / "two.png")
    assert read_image(tmp_path / "two.png").shape == (100, 100)
