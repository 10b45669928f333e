"""Experiments a learner runs to test an idea. Why augmentation helps: the seed recipe
trained with and without its augmentation, a few seeds each, every run kept, then each
model's accuracy on damaged test images (core.robustness)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
    plan = [(arm, configs, seed) for arm, configs in arms().items() for seed in seeds]
    epochs = sum(configs[1].epochs for _, configs, _ in plan)
    total = (epochs + len(plan)) * 100  # hundredths of an epoch, then one per model
    done = 0
    results = []
    for arm, (model_config, train_config), seed in plan:
        config = train_config.replace(seed=seed)
        name = f"Seed recipe, {arm}, seed {seed}"
        trainer = Trainer(model_config, config, data, stop_event=stop)
        recorder = None
        if library is not None:
            try:
                recorder = RunRecorder.create(
                    library, model_config, config, name=name, preset="seed",
                    device=str(trainer.device), params=count_parameters(trainer.model),
                )  # fmt: skip
            except OSError:
                recorder = None  # the experiment goes on; the run is not kept
        seen = recorded(trainer, recorder, name) if recorder is not None else trainer
        for m in seen:
            if isinstance(m, EpochMetrics):
                done += 100
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
        results.append((arm, seed, checkpoint, recorder.id if recorder is not None else None))
    out = []
    for arm, seed, checkpoint, run_id in results:
        model = checkpoint.build_model()
        points = {
            kind: robustness(model, data.test_images, data.test_labels, kind, levels, stop=stop)
            for kind, levels in DAMAGES.items()
        }
        done += 100
        if progress is not None:
            progress(done, total, f"damaging the test images for {checkpoint.name}")
        out.append(ArmResult(arm, seed, checkpoint, run_id, points))
    return out


def mean_curves(results: Sequence[ArmResult], kind: str) -> dict[str, list[Point]]:
    """Each arm's accuracy at each level of `kind`, averaged over its seeds."""
    by_arm: dict[str, list[list[Point]]] = {}
    for r in results:
        by_arm.setdefault(r.arm, []).append(r.points[kind])
    return {
        arm: [
            Point(runs[0][i].level, sum(run[i].test_acc for run in runs) / len(runs))
            for i in range(len(runs[0]))
        ]
        for arm, runs in by_arm.items()
    }
