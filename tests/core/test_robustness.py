"""Damaged test images: each kind in its unit, deterministic, independent of batching."""

from __future__ import annotations

import threading

import pytest
import torch

from mnist_desk.core.config import ModelConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.model import build_model
from mnist_desk.core.robustness import DAMAGES, check, damaged, robustness


@pytest.fixture(scope="module")
def images(mnist: MNIST) -> torch.Tensor:
    return mnist.test_images[:64]


@pytest.mark.parametrize("kind", list(DAMAGES))
def test_level_zero_leaves_the_images_alone(images: torch.Tensor, kind: str) -> None:
    plain = images.unsqueeze(1).float() / 255
    assert torch.equal(damaged(images, kind, 0.0), plain)


@pytest.mark.parametrize("kind", list(DAMAGES))
def test_damage_is_the_same_however_the_images_are_batched(images: torch.Tensor, kind: str) -> None:
    level = [lv for lv in DAMAGES[kind].levels if lv != 0][-1]
    whole = damaged(images, kind, level, seed=3)
    parts = torch.cat([damaged(images[i : i + 10], kind, level, seed=3, first=i)
                       for i in range(0, len(images), 10)])  # fmt: skip
    assert torch.allclose(whole, parts, atol=1e-6)
    assert whole.shape == (len(images), 1, 28, 28) and whole.min() >= 0 and whole.max() <= 1
    assert not torch.equal(whole, damaged(images, kind, 0.0))


def test_each_damage_does_what_its_unit_says(images: torch.Tensor) -> None:
    plain = damaged(images, "rotation", 0)
    # a quarter turn counter-clockwise on screen is torch.rot90 on (row, column)
    turned = damaged(images, "rotation", 90)
    assert torch.allclose(turned, torch.rot90(plain, 1, dims=(2, 3)), atol=1e-4)
    # stroke width: 2 px wider is one 3x3 dilation; ink grows, and thinning removes it
    ink = float(plain.sum())
    assert damaged(images, "thickness", 2).sum() > 1.5 * ink
    assert damaged(images, "thickness", -2).sum() < 0.5 * ink
    assert ink < damaged(images, "thickness", 1).sum() < damaged(images, "thickness", 2).sum()
    # a bar of a quarter of the width: exactly 7 rows or columns of each image go black
    bar = damaged(torch.full((20, 28, 28), 255, dtype=torch.uint8), "occlusion", 0.25)
    dark = (bar == 0).sum(dim=(1, 2, 3))
    assert torch.equal(dark, torch.full((20,), 7 * 28))
    # a shift of a quarter of the width moves the centre of mass by 7 pixels
    dot = torch.zeros(1, 28, 28, dtype=torch.uint8)
    dot[0, 13:15, 13:15] = 255
    moved = damaged(dot, "shift", 0.25)[0, 0]
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    centre = torch.stack([(moved * xs).sum(), (moved * ys).sum()]) / moved.sum()
    assert float(torch.linalg.norm(centre - 13.5)) == pytest.approx(7.0, abs=0.3)
    # scale: half the size keeps a quarter of the ink, about
    assert float(damaged(images, "scale", -0.5).sum()) == pytest.approx(0.25 * ink, rel=0.1)
    # blur keeps the ink and spreads it; noise of sd 0.1 moves pixels by about that much
    assert float(damaged(images, "blur", 1.0).sum()) == pytest.approx(ink, rel=0.02)
    assert (damaged(images, "blur", 1.0) > 0).sum() > 1.5 * (plain > 0).sum()
    assert 0.03 < (damaged(images, "noise", 0.1) - plain).abs().mean() < 0.1
    noise = damaged(torch.full((64, 28, 28), 128, dtype=torch.uint8), "noise", 0.1) - 128 / 255
    assert float(noise.mean()) == pytest.approx(0.0, abs=0.005)
    assert float(noise.std()) == pytest.approx(0.1, rel=0.05)


def test_check_names_the_range_and_the_unit() -> None:
    assert check("blur", [0, 2]).unit == "Gaussian sigma in pixels"
    with pytest.raises(MnistDeskError, match=r"thickness level 9 is outside -4..4 \(pixels"):
        check("thickness", [0, 9])
    with pytest.raises(MnistDeskError, match="unknown damage"):
        check("fire", [0])
    with pytest.raises(MnistDeskError, match="at least one level"):
        check("blur", [])
    with pytest.raises(MnistDeskError):
        check("blur", [float("nan")])


def test_robustness_reports_each_level_with_progress_and_stops(mnist: MNIST) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="compact", batchnorm=True))
    images, labels = mnist.test_images[:300], mnist.test_labels[:300]
    seen: list[tuple[int, int]] = []
    points = robustness(model, images, labels, "blur", [0, 1], batch_size=100,
                        progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert [p.level for p in points] == [0, 1]
    predicted = model.eval()((images.unsqueeze(1).float() / 255 - 0.1307) / 0.3081).argmax(1)
    assert points[0].test_acc == pytest.approx(100 * float((predicted == labels).float().mean()))
    assert seen == [(i, 6) for i in range(1, 7)]
    stop = threading.Event()
    stop.set()
    with pytest.raises(MnistDeskError, match="stopped"):
        robustness(model, images, labels, "blur", [0], stop=stop)
