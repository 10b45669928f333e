"""The augmentation experiment's arms and how its curves are averaged."""

from __future__ import annotations

import pytest

from mnist_desk.core.experiments import WITH, WITHOUT, ArmResult, arms, mean_curves
from mnist_desk.core.presets import preset
from mnist_desk.core.robustness import Point


def test_the_arms_differ_only_in_augmentation() -> None:
    both = arms()
    (m1, t1), (m2, t2) = both[WITH], both[WITHOUT]
    assert (m1, t1) == preset("seed") and m1 == m2
    assert t2.augment.rotation == 0 and t2.augment.crop_p == 0
    assert t1.replace(augment=t2.augment) == t2  # nothing else changed


def test_mean_curves_average_each_arm_over_its_seeds() -> None:
    def result(arm: str, seed: int, accs: list[float]) -> ArmResult:
        points = {"rotation": [Point(lv, a) for lv, a in zip((0.0, 45.0), accs, strict=True)]}
        return ArmResult(arm, seed, None, None, points)  # type: ignore[arg-type]

    results = [
        result(WITH, 0, [99.0, 70.0]),
        result(WITH, 1, [98.0, 72.0]),
        result(WITHOUT, 0, [98.5, 55.0]),
    ]
    means = mean_curves(results, "rotation")
    assert list(means) == [WITH, WITHOUT]
    assert [p.test_acc for p in means[WITH]] == [pytest.approx(98.5), pytest.approx(71.0)]
    assert [p.level for p in means[WITHOUT]] == [0.0, 45.0]
