"""Tracing digit images back into strokes (core.tracing) and drawing strokes as the canvas
draws them (core.drawn)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_desk.core import drawn, tracing
from mnist_desk.core.data import MNIST


def _drawn_lines(lines: list[list[tuple[float, float]]], width: int = 3) -> np.ndarray:
    image = Image.new("L", (28, 28), 0)
    draw = ImageDraw.Draw(image)
    for line in lines:
        draw.line(line, fill=255, width=width)
    return np.asarray(image, dtype=np.float32) / 255.0


def test_an_l_traces_to_one_stroke_from_corner_to_corner() -> None:
    strokes = tracing.trace(_drawn_lines([[(8, 4), (8, 22), (20, 22)]]))
    assert len(strokes) == 1
    ends = {tuple(np.round(strokes[0][i] * 28)) for i in (0, -1)}
    assert min(np.hypot(x - 8.5, y - 4.5) for x, y in ends) < 2.5  # the top
    assert min(np.hypot(x - 20.5, y - 22.5) for x, y in ends) < 2.5  # the right end
    assert len(strokes[0]) <= 6  # simplified to its corners, not a staircase of pixels


def test_a_ring_traces_to_a_closed_loop() -> None:
    image = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(image).ellipse((6, 4, 22, 24), outline=255, width=3)
    strokes = tracing.trace(np.asarray(image, dtype=np.float32) / 255.0)
    assert len(strokes) == 1
    loop = strokes[0]
    assert np.hypot(*(loop[0] - loop[-1])) < 0.08  # ends where it began
    assert tracing.path_length(loop) > 1.5  # round the ring, about 2.1 of the side


def test_a_cross_traces_along_both_of_its_lines() -> None:
    strokes = tracing.trace(_drawn_lines([[(4, 4), (23, 23)], [(23, 4), (4, 23)]]))
    longest = sorted(strokes, key=tracing.path_length)[-2:]
    pixels = [s * 28 - 0.5 for s in longest]
    off_main = [float(np.abs(p[:, 0] - p[:, 1]).max()) / np.sqrt(2) for p in pixels]
    off_anti = [float(np.abs(p[:, 0] + p[:, 1] - 27).max()) / np.sqrt(2) for p in pixels]
    # one stroke lies along each diagonal, within a couple of pixels everywhere (a long
    # stroke cannot lie along both)
    assert min(off_main) < 2.5 and min(off_anti) < 2.5
    assert all(tracing.path_length(s) > 0.6 for s in longest)  # most of each line


def test_nothing_to_trace() -> None:
    assert tracing.trace(np.zeros((28, 28), np.float32)) == []


def test_simplify_keeps_the_ends_and_the_corners() -> None:
    line = np.stack([np.linspace(0, 1, 50), np.zeros(50)], axis=1)
    corner = np.concatenate([line, np.stack([np.ones(50), np.linspace(0, 1, 50)], axis=1)])
    out = tracing.simplify(corner, 0.01)
    assert len(out) == 3
    np.testing.assert_allclose(out[[0, -1]], corner[[0, -1]])


def test_traced_mnist_digits_drawn_again_are_read_as_themselves(mnist: MNIST) -> None:
    """The tracing keeps the shape: redrawn with MNIST's pen, a digit looks like itself."""
    images = mnist.test_images[:40].numpy()
    similar = []
    for image in images:
        strokes = tracing.trace(image.astype(np.float32) / 255)
        again = drawn.drawn_image(strokes)
        assert again is not None
        similar.append(np.corrcoef(image.ravel(), again.ravel())[0, 1])
    assert np.median(similar) > 0.75


def test_resample_records_one_point_per_interval_ending_where_the_pen_lifts() -> None:
    stroke = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    few = drawn.resample(stroke, 3)
    assert len(few) == 4
    np.testing.assert_allclose(few[[0, -1]], stroke[[0, -1]], atol=1e-9)
    many = drawn.resample(stroke, 100)
    gaps = np.hypot(*np.diff(many, axis=0).T)
    assert gaps[:5].mean() < gaps[45:55].mean()  # slow at the start, fast in the middle
    # a fast hand cuts the corner at (1, 0); a slow one goes round it
    assert np.min(np.hypot(*(few - [1.0, 0.0]).T)) > 0.05
    assert np.min(np.hypot(*(many - [1.0, 0.0]).T)) < 0.02


def test_render_draws_a_round_pen_of_the_given_width() -> None:
    image = drawn.render([np.array([[0.2, 0.5], [0.8, 0.5]])], pen=0.1, size=100)
    column = image[:, 50].astype(float) / 255
    assert 8 <= column.sum() <= 12  # 0.1 of 100 pixels
    assert image[50, 15] > 128  # the round cap reaches past the end point by half the pen
    assert image[50, 5] == 0


def test_drawn_image_is_mnist_form_and_empty_is_none() -> None:
    form = drawn.drawn_image([np.array([[0.5, 0.1], [0.5, 0.9]])])
    assert form is not None and form.shape == (28, 28) and form.dtype == np.uint8
    assert drawn.drawn_image([]) is None


def test_european_ones_and_sevens_get_their_strokes_and_others_are_left_alone() -> None:
    rng = np.random.default_rng(0)
    one = [np.array([[0.5, 0.1], [0.5, 0.9]])]
    seven = [np.array([[0.2, 0.1], [0.8, 0.1], [0.4, 0.9]])]
    for _ in range(20):
        made = drawn.european(one, 1, rng)
        assert drawn.ink_length(made) > drawn.ink_length(one)  # a flag, maybe a base
        assert len(drawn.european(seven, 7, rng)) == 2  # the bar
    assert drawn.european(seven, 2, rng)[0].tolist() == seven[0].tolist()


def test_non_digits_are_not_simple_lines() -> None:
    rng = np.random.default_rng(1)
    lengths = [drawn.ink_length(drawn.scribble(rng)) for _ in range(60)]
    assert np.mean(np.array(lengths) >= drawn.SIMPLEST_NON_DIGIT) > 0.9
    assert drawn.ink_length([np.array([[0.0, 0.0], [0.0, 1.0]])]) == pytest.approx(1.0)


def test_no_glyph_is_both_a_non_digit_and_a_lookalike() -> None:
    assert not set(drawn.NON_DIGIT_GLYPHS) & drawn.LOOKALIKES
    assert not set(drawn.NON_DIGIT_GLYPHS) & set("0123456789")
