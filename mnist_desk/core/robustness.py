"""How accuracy falls as the test images are damaged: rotation, shift, scale, noise, blur,
thicker or thinner strokes, a bar across the digit.

Each kind of damage has a unit a learner can picture (degrees, a fraction of the image
width, pixels) and a severity of 0 that leaves the images as they are. The damage is
deterministic for a given seed, so two models are judged on the very same images.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mnist_desk.core.augment import AffineParams, affine_matrices, normalize, warp
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.evaluation import cpu_layout


@dataclass(frozen=True)
class Damage:
    name: str
    unit: str
    levels: tuple[float, ...]  # a good first set of severities
    lowest: float
    highest: float
    what: str


DAMAGES: dict[str, Damage] = {
    d.name: d
    for d in (
        Damage("rotation", "degrees", (0, 10, 20, 30, 45), -180, 180,
               "turned counter-clockwise about the centre"),
        Damage("shift", "fraction of the width", (0, 0.05, 0.1, 0.15, 0.2), 0, 1,
               "moved this far, each image in a direction of its own"),
        Damage("scale", "relative change", (0, -0.2, -0.4, 0.2, 0.4), -0.9, 2,
               "made larger (positive) or smaller (negative) about the centre"),
        Damage("noise", "standard deviation, pixels in 0-1", (0, 0.1, 0.2, 0.3, 0.5), 0, 2,
               "Gaussian noise added to every pixel"),
        Damage("blur", "Gaussian sigma in pixels", (0, 0.5, 1, 1.5, 2), 0, 10,
               "blurred with a Gaussian"),
        Damage("thickness", "pixels of stroke width, negative thins", (-2, -1, 0, 1, 2), -4, 4,
               "strokes made wider or thinner by grey dilation or erosion"),
        Damage("occlusion", "fraction of the width", (0, 0.1, 0.2, 0.3, 0.4), 0, 1,
               "a black bar this wide across the digit, across or down, at a random place"),
    )
}  # fmt: skip


def check(kind: str, levels: Sequence[float]) -> Damage:
    """The damage `kind`, once every level is within its range; else a clear error."""
    damage = DAMAGES.get(kind)
    if damage is None:
        raise MnistDeskError(f"unknown damage {kind!r}; choose from {', '.join(DAMAGES)}")
    if not levels:
        raise MnistDeskError("give at least one level")
    for level in levels:
        if not math.isfinite(level) or not damage.lowest <= level <= damage.highest:
            raise MnistDeskError(
                f"{kind} level {level:g} is outside {damage.lowest:g}..{damage.highest:g} "
                f"({damage.unit})"
            )
    return damage


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0)), kernel.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, radius, radius)), kernel.view(1, 1, -1, 1))


def _stroke_width(x: torch.Tensor, pixels: float) -> torch.Tensor:
    """Each 3x3 grey dilation (erosion) widens (narrows) a stroke by 2 pixels; a fraction
    of a step is a blend with the next one."""
    steps = abs(pixels) / 2
    sign = 1.0 if pixels > 0 else -1.0
    for _ in range(math.floor(steps)):
        x = sign * F.max_pool2d(sign * x, 3, stride=1, padding=1)
    rest = steps - math.floor(steps)
    if rest > 0:
        x = x + rest * (sign * F.max_pool2d(sign * x, 3, stride=1, padding=1) - x)
    return x


def damaged(
    images: torch.Tensor, kind: str, level: float, *, seed: int = 0, first: int = 0
) -> torch.Tensor:
    """uint8 images (B, 28, 28) -> float (B, 1, 28, 28) in [0, 1], damaged. Random
    choices depend on the seed and on each image's index (`first` + its place in the
    batch) only, so any batching gives the same images."""
    x = images.unsqueeze(1).float().div_(255.0)
    b, device = len(images), images.device
    if level == 0 or b == 0:
        return x

    def uniform(salt: int, per_pixel: bool = False) -> torch.Tensor:
        """Numbers in [0, 1) that depend on the seed and the image's index (and pixel),
        not on the batching: a hash of them, as shaders make noise."""
        idx = torch.arange(first, first + b, dtype=torch.float64)
        if per_pixel:
            idx = idx[:, None] * 1024 + torch.arange(784, dtype=torch.float64)[None, :]
        u = torch.frac(torch.sin(idx * 12.9898 + (seed * 7 + salt) * 78.233) * 43758.5453)
        return u.abs().float().to(device)

    def affine(angle: float = 0.0, scale: float = 1.0, tx: torch.Tensor | None = None,
               ty: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        zeros, ones = torch.zeros(b, device=device), torch.ones(b, device=device)
        p = AffineParams(zeros + angle, ones, ones * scale, zeros,
                         zeros if tx is None else tx, zeros if ty is None else ty)  # fmt: skip
        return warp(x, affine_matrices(p))

    if kind == "rotation":
        return affine(angle=level)
    if kind == "shift":
        direction = 2 * math.pi * uniform(1)
        return affine(tx=level * torch.cos(direction), ty=level * torch.sin(direction))
    if kind == "scale":
        return affine(scale=1.0 + level)
    if kind == "noise":
        u1, u2 = uniform(4, per_pixel=True).clamp_(min=1e-7), uniform(5, per_pixel=True)
        noise = (torch.sqrt(-2 * torch.log(u1)) * torch.cos(2 * math.pi * u2)).view(x.shape)
        return (x + level * noise).clamp_(0.0, 1.0)
    if kind == "blur":
        return _gaussian_blur(x, level)
    if kind == "thickness":
        return _stroke_width(x, level)
    if kind == "occlusion":
        width = level * 28
        start = uniform(2) * (28 - width)  # the bar lies wholly inside the image
        pos = torch.arange(28, dtype=torch.float32, device=device) + 0.5
        inside = (pos[None, :] >= start[:, None]) & (pos[None, :] < start[:, None] + width)
        across = uniform(3) < 0.5  # a horizontal bar; else a vertical one
        rows = inside[:, :, None].expand(b, 28, 28)
        cols = inside[:, None, :].expand(b, 28, 28)
        mask = torch.where(across[:, None, None], rows, cols)
        return x.masked_fill(mask[:, None], 0.0)
    raise MnistDeskError(f"unknown damage {kind!r}")


@dataclass(frozen=True)
class Point:
    level: float
    test_acc: float


def robustness(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    kind: str,
    levels: Sequence[float],
    *,
    seed: int = 0,
    batch_size: int = 500,  # a CPU's caches hold it: faster per image than larger ones
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> list[Point]:
    """Accuracy (%) of `model` on the images under each level of damage. `progress`
    gets (batches done, batches in all); `stop` ends the work early (MnistDeskError)."""
    check(kind, levels)
    device = next(model.parameters()).device
    layout = cpu_layout(model)
    was_training = model.training
    model.eval()
    batches = math.ceil(len(images) / batch_size)
    points = []
    try:
        with torch.inference_mode():
            for i, level in enumerate(levels):
                correct = 0
                for j, start in enumerate(range(0, len(images), batch_size)):
                    if stop is not None and stop.is_set():
                        raise MnistDeskError("stopped")
                    part = images[start : start + batch_size].to(device)
                    x = normalize(damaged(part, kind, level, seed=seed, first=start))
                    x = x.contiguous(memory_format=layout)
                    pred = model(x).argmax(dim=1).cpu()
                    correct += int((pred == labels[start : start + batch_size].cpu()).sum())
                    if progress is not None:
                        progress(i * batches + j + 1, len(levels) * batches)
                points.append(Point(float(level), 100.0 * correct / max(1, len(images))))
    finally:
        model.train(was_training)
    return points
