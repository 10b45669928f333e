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


def test_the_one_by_one_arms_differ_only_in_the_1x1_convolutions() -> None:
    from torch import nn

    from mnist_desk.core.experiments import WITH_1X1, WITHOUT_1X1, one_by_one_arms
    from mnist_desk.core.model import build_model, count_parameters

    both = one_by_one_arms()
    (m1, t1), (m2, t2) = both[WITH_1X1], both[WITHOUT_1X1]
    assert (m1, t1) == preset("seed") and t1 == t2 and m1.replace(pointwise=False) == m2
    with_, without = build_model(m1), build_model(m2)
    assert count_parameters(with_) == 24210 and count_parameters(without) == 23898

    def convs(model: nn.Module, k: int) -> list[tuple[int, int]]:
        return [
            (c.in_channels, c.out_channels)
            for c in model.modules()
            if isinstance(c, nn.Conv2d) and c.kernel_size == (k, k)
        ]

    assert convs(with_, 1) == [(16, 8), (16, 16), (32, 32)] and convs(without, 1) == []
    # the same 3x3 layers, widths kept; the third sees all 16 channels, not 8
    assert convs(with_, 3) == [(1, 8), (8, 16), (8, 16), (16, 32)]
    assert convs(without, 3) == [(1, 8), (8, 16), (16, 16), (16, 32)]


def test_the_one_by_one_question_trains_and_keeps_every_run(
    small_mnist: object, tmp_path: object
) -> None:
    from pathlib import Path

    from mnist_desk.core.data import MNIST
    from mnist_desk.core.experiments import (
        WITH_1X1,
        WITHOUT_1X1,
        mean_test_curves,
        summarize_arms,
        the_one_by_one_question,
    )
    from mnist_desk.core.runs import RunLibrary
    from tests.helpers import subset

    assert isinstance(small_mnist, MNIST) and isinstance(tmp_path, Path)
    data = subset(small_mnist, 1280, 400)
    library = RunLibrary(tmp_path)
    seen: list[tuple[int, int]] = []
    trained = the_one_by_one_question(
        data, library, seeds=(0, 1), progress=lambda d, t, _w: seen.append((d, t))
    )
    assert [(t.arm, t.seed) for t in trained] == [
        (WITH_1X1, 0), (WITH_1X1, 1), (WITHOUT_1X1, 0), (WITHOUT_1X1, 1),
    ]  # fmt: skip
    runs = {r.id: r for r in library.runs()}
    assert len(runs) == 4 and all(r.status == "finished" for r in runs.values())
    for t in trained:
        run = runs[str(t.run_id)]
        assert run.model_config is not None
        assert run.model_config.pointwise == (t.arm == WITH_1X1) and run.params == t.params
        assert run.epochs_done == 5 and run.test_acc == t.checkpoint.history[-1].test_acc
    summary = summarize_arms(trained)
    assert [s.arm for s in summary] == [WITH_1X1, WITHOUT_1X1]
    assert [s.params for s in summary] == [24210, 23898]
    assert all(len(s.accuracies) == 2 and s.seconds_per_epoch > 0 for s in summary)
    assert summary[0].mean == pytest.approx(sum(summary[0].accuracies) / 2)
    curves = mean_test_curves(trained)
    assert [e for e, _ in curves[WITH_1X1]] == [1, 2, 3, 4, 5]
    assert all(d <= t for d, t in seen) and seen[-1][1] == 4 * 5 * 100
