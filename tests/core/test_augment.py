from __future__ import annotations

import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

from mnist_desk.core.augment import (
    MNIST_MEAN,
    MNIST_STD,
    AffineParams,
    affine_matrices,
    augment,
    change_stroke_width,
    sample_params,
    to_input,
    warp,
)
from mnist_desk.core.config import AugmentConfig
from mnist_desk.core.data import MNIST


def _params(n: int, **values: float) -> AffineParams:
    base = {"angle": 0.0, "zoom": 1.0, "scale": 1.0, "shear": 0.0, "tx": 0.0, "ty": 0.0}
    base.update(values)
    return AffineParams(**{k: torch.full((n,), float(v)) for k, v in base.items()})


def test_each_sample_gets_its_own_angle() -> None:
    p = sample_params(64, AugmentConfig(), torch.Generator().manual_seed(0), "cpu")
    assert len(torch.unique(p.angle)) == 64
    assert p.angle.abs().max() <= 15.0
    assert p.angle.std() > 5.0  # spread over [-15, 15], not one angle for all


def test_rotated_images_differ_per_sample(mnist: MNIST) -> None:
    one = mnist.train_images[:1].repeat(16, 1, 1)  # the same digit 16 times
    out = augment(one, AugmentConfig(crop_p=0.0), torch.Generator().manual_seed(1))
    diffs = (out[1:] - out[:1]).abs().flatten(1).sum(1)
    assert (diffs > 1.0).all()


def test_crop_probability_is_respected() -> None:
    p = sample_params(20000, AugmentConfig(), torch.Generator().manual_seed(0), "cpu")
    share = (p.zoom > 1).float().mean().item()
    assert 0.09 < share < 0.11
    torch.testing.assert_close(p.zoom.max(), torch.tensor(28 / 22))


def test_zero_rotation_and_no_crop_is_the_identity(mnist: MNIST) -> None:
    images = mnist.train_images[:32]
    out = augment(images, AugmentConfig(rotation=0.0, crop_p=0.0))
    torch.testing.assert_close(out, to_input(images))
    theta = affine_matrices(_params(4))
    x = images[:4].unsqueeze(1).float() / 255
    torch.testing.assert_close(warp(x, theta), x, atol=1e-5, rtol=0)


def test_seeded_generator_reproduces_a_batch(mnist: MNIST) -> None:
    images, cfg = mnist.train_images[:64], AugmentConfig(translate=0.1, scale=0.1, shear=10.0)
    a = augment(images, cfg, torch.Generator().manual_seed(7))
    b = augment(images, cfg, torch.Generator().manual_seed(7))
    c = augment(images, cfg, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_rotation_matches_torchvision_per_sample(mnist: MNIST) -> None:
    x = mnist.train_images[:3].unsqueeze(1).float() / 255
    angles = torch.tensor([12.0, -7.5, 15.0])
    p = _params(3)
    p = AffineParams(angles, p.zoom, p.scale, p.shear, p.tx, p.ty)
    ours = warp(x, affine_matrices(p))
    for i, angle in enumerate(angles.tolist()):
        ref = TF.rotate(x[i], angle, interpolation=InterpolationMode.BILINEAR)
        torch.testing.assert_close(ours[i], ref, atol=1e-4, rtol=0)


def test_crop_22_is_a_zoom_of_28_over_22(mnist: MNIST) -> None:
    x = mnist.train_images[:8].unsqueeze(1).float() / 255
    ours = warp(x, affine_matrices(_params(8, zoom=28 / 22)))
    ref = TF.resize(TF.center_crop(x, [22, 22]), [28, 28], antialias=True)
    # identical but for the outermost ring, where a resize clamps to the crop's edge
    torch.testing.assert_close(ours[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1], atol=2e-2, rtol=0)


def test_translation_matches_torchvision(mnist: MNIST) -> None:
    x = mnist.train_images[:2].unsqueeze(1).float() / 255
    ours = warp(x, affine_matrices(_params(2, tx=3 / 28, ty=-2 / 28)))
    ref = TF.affine(
        x,
        angle=0.0,
        translate=[3, -2],
        scale=1.0,
        shear=[0.0, 0.0],
        interpolation=InterpolationMode.BILINEAR,
    )
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=0)


def test_output_is_normalised(mnist: MNIST) -> None:
    out = augment(mnist.train_images[:2000], AugmentConfig(rotation=0.0, crop_p=0.0))
    assert out.shape == (2000, 1, 28, 28) and out.dtype == torch.float32
    assert abs(out.mean().item()) < 0.05 and abs(out.std().item() - 1.0) < 0.05
    torch.testing.assert_close(out.min(), torch.tensor(-MNIST_MEAN / MNIST_STD))


def test_stroke_width_change_thickens_and_thins(mnist: MNIST) -> None:
    x = mnist.train_images[:16].unsqueeze(1).float() / 255
    ones = torch.ones(16)
    thick, thin = change_stroke_width(x, ones), change_stroke_width(x, -ones)
    assert torch.equal(change_stroke_width(x, 0 * ones), x)
    assert (thick.flatten(1).sum(1) > 1.2 * x.flatten(1).sum(1)).all()
    assert (thin.flatten(1).sum(1) < 0.9 * x.flatten(1).sum(1)).all()
    assert (thin.flatten(1).max(1).values > 0.5).all()  # thinner, not erased
    half = change_stroke_width(x, 0.5 * ones)
    torch.testing.assert_close(half, (x + thick) / 2)


def test_stroke_and_elastic_augmentation_per_sample(mnist: MNIST) -> None:
    one = mnist.train_images[:1].repeat(8, 1, 1)
    cfg = AugmentConfig(rotation=0.0, crop_p=0.0, stroke=0.8, elastic=0.75)
    assert cfg.is_identity and not cfg.is_none
    out = augment(one, cfg, torch.Generator().manual_seed(0))
    assert not torch.equal(out[0], out[1])  # each sample its own field and width
    again = augment(one, cfg, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    # the digit is distorted, not destroyed: still mostly where it was
    plain = to_input(one)
    for i in range(8):
        corr = torch.corrcoef(torch.stack([out[i].flatten(), plain[0].flatten()]))[0, 1]
        assert 0.5 < corr < 0.999
