"""Experiments a learner runs to test an idea, each arm trained with a few seeds and every
run kept. Why augmentation helps: the seed recipe with and without its augmentation, then
each model's accuracy on damaged test images (core.robustness). The 1x1 question: the
seed CNN with and without its three 1x1 convolutions, same 3x3 layers, same recipe."""

from __future__ import annotations

import dataclasses
import statistics
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.metrics import EpochMetrics
from mnist_desk.core.model import count_parameters
from mnist_desk.core.presets import preset
from mnist_desk.core.robustness import Point, robustness
from mnist_desk.core.runs import RunLibrary, RunRecorder, recorded
from mnist_desk.core.training import Trainer

WITH, WITHOUT = "with augmentation", "without augmentation"
WITH_1X1, WITHOUT_1X1 = "with its 1×1 convolutions", "without its 1×1 convolutions"
SEEDS = (0, 1, 2)
DAMAGES = {"rotation": (0.0, 10.0, 20.0, 30.0, 45.0), "thickness": (-2.0, -1.0, 0.0, 1.0, 2.0)}


def arms() -> dict[str, tuple[ModelConfig, TrainConfig]]:
    """The seed recipe as it is, and with its rotation and zoom switched off."""
    model, train = preset("seed")
    plain = dataclasses.replace(train.augment, rotation=0.0, crop_p=0.0)
    return {WITH: (model, train), WITHOUT: (model, train.replace(augment=plain))}


@dataclass(frozen=True)
class ArmResult:
    arm: str
    seed: int
    checkpoint: Checkpoint
    run_id: str | None
    points: dict[str, list[Point]]  # damage kind -> accuracy at each level


@dataclass(frozen=True)
class Trained:
    arm: str
    seed: int
    checkpoint: Checkpoint
    run_id: str | None
    params: int


def train_arms(
    arms: dict[str, tuple[ModelConfig, TrainConfig]],
    data: MNIST,
    library: RunLibrary | None,
    *,
    seeds: Sequence[int],
    title: str,
    preset: str,
    progress: Callable[[int, int, str], None] | None = None,
    stop: threading.Event | None = None,
    after: int = 0,
) -> list[Trained]:
    """Train every arm once per seed, each a run of the library named "{title}, {arm},
    seed {seed}". `progress` gets (done, total, what) in hundredths of an epoch, the total
    counting `after` more steps the caller takes once they are trained; `stop` ends it
    after the current batch (MnistDeskError), the run in progress kept as stopped."""
    stop = stop or threading.Event()
    plan = [(arm, configs, seed) for arm, configs in arms.items() for seed in seeds]
    total = sum(configs[1].epochs for _, configs, _ in plan) * 100 + after
    done = 0
    out = []
    for arm, (model_config, train_config), seed in plan:
        config = train_config.replace(seed=seed)
        name = f"{title}, {arm}, seed {seed}"
        trainer = Trainer(model_config, config, data, stop_event=stop)
        params = count_parameters(trainer.model)
        recorder = None
        if library is not None:
            try:
                recorder = RunRecorder.create(
                    library, model_config, config, name=name, preset=preset,
                    device=trainer.describe(), params=params,
                )  # fmt: skip
            except OSError:
                recorder = None  # the experiment goes on; the run is not kept
        seen = recorded(trainer, recorder, name) if recorder is not None else trainer
        for m in seen:
            if isinstance(m, EpochMetrics):
                done += 100
                if progress is not None:
                    progress(done, total, f"trained: {name}, epoch {m.epoch} of {config.epochs}")
            elif progress is not None and m.batch % 50 == 0:
                part = done + 100 * m.batch // m.batches
                progress(part, total, f"training: {name}, epoch {m.epoch} of {config.epochs}")
        if trainer.stopped or stop.is_set():
            if recorder is not None:
                recorder.finish("stopped", trainer.to_checkpoint(name))
            raise MnistDeskError("stopped")
        checkpoint = trainer.to_checkpoint(name)
        if recorder is not None:
            recorder.finish("finished")
        run_id = recorder.id if recorder is not None and not recorder.problem else None
        out.append(Trained(arm, seed, checkpoint, run_id, params))
    return out


def why_augmentation_helps(
    data: MNIST,
    library: RunLibrary | None,
    *,
    seeds: Sequence[int] = SEEDS,
    progress: Callable[[int, int, str], None] | None = None,
    stop: threading.Event | None = None,
) -> list[ArmResult]:
    """Train both arms once per seed (each a run of the library), then measure every
    model under each damage of DAMAGES. `progress` gets (steps done, steps in all, what);
    `stop` ends it after the current batch (MnistDeskError)."""
    stop = stop or threading.Event()
    plan = arms()
    models = len(plan) * len(seeds)
    trained = train_arms(
        plan, data, library, seeds=seeds, title="Seed recipe", preset="seed",
        progress=progress, stop=stop, after=models * 100,
    )  # fmt: skip
    done = len(seeds) * sum(train.epochs for _, train in plan.values()) * 100
    total = done + models * 100
    out = []
    for t in trained:
        model = t.checkpoint.build_model()
        points = {
            kind: robustness(model, data.test_images, data.test_labels, kind, levels, stop=stop)
            for kind, levels in DAMAGES.items()
        }
        done += 100
        if progress is not None:
            progress(done, total, f"damaging the test images for {t.checkpoint.name}")
        out.append(ArmResult(t.arm, t.seed, t.checkpoint, t.run_id, points))
    return out


_R = TypeVar("_R", ArmResult, Trained)


def by_arm(results: Sequence[_R]) -> dict[str, list[_R]]:
    """The results of each arm (its seeds), arms in the order they first appear."""
    grouped: dict[str, list[_R]] = {}
    for r in results:
        grouped.setdefault(r.arm, []).append(r)
    return grouped


def mean_curves(results: Sequence[ArmResult], kind: str) -> dict[str, list[Point]]:
    """Each arm's accuracy at each level of `kind`, averaged over its seeds."""
    out = {}
    for arm, seeds in by_arm(results).items():
        runs = [r.points[kind] for r in seeds]
        out[arm] = [
            Point(runs[0][i].level, sum(run[i].test_acc for run in runs) / len(runs))
            for i in range(len(runs[0]))
        ]
    return out


# ---- the 1x1 question --------------------------------------------------------------------
def one_by_one_arms() -> dict[str, tuple[ModelConfig, TrainConfig]]:
    """The seed recipe as it is, and its network without the three 1x1 convolutions."""
    model, train = preset("seed")
    return {WITH_1X1: (model, train), WITHOUT_1X1: (model.replace(pointwise=False), train)}


def the_one_by_one_question(
    data: MNIST,
    library: RunLibrary | None,
    *,
    seeds: Sequence[int] = SEEDS,
    progress: Callable[[int, int, str], None] | None = None,
    stop: threading.Event | None = None,
) -> list[Trained]:
    """Both networks trained with the seed recipe once per seed, every run kept."""
    return train_arms(
        one_by_one_arms(), data, library, seeds=seeds, title="The 1×1 question",
        preset="seed", progress=progress, stop=stop,
    )  # fmt: skip


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    params: int
    accuracies: tuple[float, ...]  # each seed's test accuracy after its last epoch
    seconds_per_epoch: float  # the mean over every epoch of every seed

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def sd(self) -> float:
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0


def summarize_arms(trained: Sequence[Trained]) -> list[ArmSummary]:
    """Per arm, in the order trained: parameters, accuracies, time per epoch."""
    out = []
    for arm, runs in by_arm(trained).items():
        epochs = [e for t in runs for e in t.checkpoint.history]
        out.append(
            ArmSummary(
                arm,
                runs[0].params,
                tuple(t.checkpoint.history[-1].test_acc for t in runs if t.checkpoint.history),
                statistics.fmean(e.seconds for e in epochs) if epochs else 0.0,
            )
        )
    return out


def mean_test_curves(trained: Sequence[Trained]) -> dict[str, list[tuple[int, float]]]:
    """Per arm: (epoch, test accuracy averaged over its seeds) for every epoch."""
    return {
        arm: [
            (epoch, statistics.fmean(t.checkpoint.history[epoch - 1].test_acc for t in runs))
            for epoch in range(1, min(len(t.checkpoint.history) for t in runs) + 1)
        ]
        for arm, runs in by_arm(trained).items()
    }
