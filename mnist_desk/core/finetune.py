"""Teaching a model the user's handwriting without making it forget MNIST.

One short pass from the current weights over the user's samples (each repeated, lightly
augmented) mixed with a part of MNIST's training set, the learning rate annealed to
zero: a few seconds on a laptop's CPU, whether for five samples or fifty. Half of that
MNIST part is drawn at random; the other half leans towards the digits the model
mistakes the user's samples for. A writer whose 1 starts with a loop, once taught,
read MNIST 7s and 9s as 1s; with the 7s and 9s rehearsed beside the new 1s, it does not.
A fifth of the user's samples (at least one) is held out; accuracy on them and on the
10,000 MNIST test images is measured before and after, so the user sees both what was
gained and what, if anything, was lost.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import AugmentConfig, TrainConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import TrainingError
from mnist_desk.core.evaluation import evaluate, predict_logprobs
from mnist_desk.core.runs import RunRecorder, recorded
from mnist_desk.core.text import plural
from mnist_desk.core.training import BatchMetrics, EpochMetrics, Trainer

MIN_SAMPLES = 5


@dataclass(frozen=True)
class FinetuneReport:
    mnist_before: float
    mnist_after: float
    mine_before: float  # accuracy on the held-out samples, percent
    mine_after: float
    trained_on: int  # the user's samples used for training
    held_out: int

    def summary(self) -> str:
        return (
            f"Your held-out digits: {self.mine_before:.0f}% → {self.mine_after:.0f}% "
            f"({plural(self.held_out, 'drawing')}). MNIST test: {self.mnist_before:.2f}% → "
            f"{self.mnist_after:.2f}%."
        )


REHEARSAL = 8000  # MNIST training images mixed in, so that MNIST is not forgotten
YOUR_SHARE = 0.25  # of the mixed data: the user's samples, each repeated (and augmented)
TARGETED = 0.5  # of the MNIST images: drawn from the digits the user's are mistaken for


def finetune_config(seed: int = 0) -> TrainConfig:
    """One short pass at a moderate learning rate, annealed to zero: seconds, not minutes
    (benchmarks/teaching.py chose it on one synthetic hand and proves it on another)."""
    return TrainConfig(
        epochs=1,
        batch_size=64,
        lr=1e-3,
        optimizer="adam",
        scheduler="cosine",
        seed=seed,
        label_smoothing=0.05,  # the loss the presets train with
        augment=AugmentConfig(rotation=8.0, crop_p=0.0, translate=0.06, scale=0.08, shear=5.0),
    )


def split_held_out(labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and held-out samples: a fifth held out, at least one."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    held = max(1, len(labels) // 5)
    return np.sort(order[held:]), np.sort(order[:held])


def mistaken_for(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """How much each digit is mistaken for the user's samples: the probability the model
    gives it on samples of other digits (N, 10 -> 10, summing to one)."""
    wrong = np.array(probabilities, dtype=np.float64)
    wrong[np.arange(len(labels)), labels] = 0.0
    total = wrong.sum(axis=0)
    return total / total.sum() if total.sum() > 0 else np.full(10, 0.1)


def mixed_data(
    mine: tuple[np.ndarray, np.ndarray],
    mnist: MNIST,
    *,
    mnist_images: int | None = None,
    share: float | None = None,
    seed: int = 0,
    lean: np.ndarray | None = None,
) -> MNIST:
    """The user's samples among `mnist_images` MNIST training images, each repeated so
    that together they are `share` of the whole. With `lean` (a weight for each digit,
    see mistaken_for), TARGETED of the MNIST images are drawn by their digit's weight,
    the rest at random; without it, all at random."""
    generator = torch.Generator().manual_seed(seed)
    count = min(REHEARSAL if mnist_images is None else mnist_images, len(mnist.train_images))
    order = torch.randperm(len(mnist.train_images), generator=generator)
    leaning = 0 if lean is None else int(count * TARGETED)
    pick = order[: count - leaning]
    if lean is not None and leaning:
        rest = order[count - leaning :]  # not yet picked: no image twice
        weights = torch.as_tensor(lean, dtype=torch.float64)[mnist.train_labels[rest].long()]
        extra = rest[torch.multinomial(weights + 1e-12, leaning, generator=generator)]
        pick = torch.cat([pick, extra])
    share = YOUR_SHARE if share is None else share
    repeats = max(1, math.ceil(share / (1 - share) * count / max(1, len(mine[1]))))
    images = torch.from_numpy(np.repeat(mine[0], repeats, axis=0))
    labels = torch.from_numpy(np.repeat(mine[1], repeats, axis=0))
    return MNIST(
        torch.cat([mnist.train_images[pick], images]),
        torch.cat([mnist.train_labels[pick], labels]),
        mnist.test_images,
        mnist.test_labels,
        mnist.folder,
    )


def _mnist_before(checkpoint: Checkpoint, mnist: MNIST) -> float:
    """The model's MNIST test accuracy: as its checkpoint records it, when that was
    measured on this test set, else measured now."""
    known = checkpoint.test_metrics
    if known is not None and known.n == len(mnist.test_labels):
        return known.test_acc
    return evaluate(checkpoint.build_model(), mnist.test_images, mnist.test_labels).accuracy


def _accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    result = evaluate(model, torch.from_numpy(images), torch.from_numpy(labels))
    return result.accuracy


def _probabilities(model: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    return predict_logprobs(model, torch.from_numpy(images)).exp().numpy()


def finetune(
    checkpoint: Checkpoint,
    mine: tuple[np.ndarray, np.ndarray],
    mnist: MNIST,
    *,
    config: TrainConfig | None = None,
    stop_event: threading.Event | None = None,
    progress: Callable[[BatchMetrics | EpochMetrics], None] | None = None,
    recorder: RunRecorder | None = None,
) -> tuple[Checkpoint, FinetuneReport]:
    """Fine-tune `checkpoint` on the user's samples `mine` (MNIST-form uint8 images and
    labels); return the new checkpoint and the before/after report. With a `recorder`,
    the fine-tune is recorded as a run of its own (core.runs)."""
    images, labels = mine
    if len(labels) < MIN_SAMPLES:
        raise TrainingError(
            f"keep at least {MIN_SAMPLES} of your digits first (you have {len(labels)})"
        )
    cfg = config or finetune_config()
    train_idx, held_idx = split_held_out(labels, cfg.seed or 0)
    held = (images[held_idx], labels[held_idx])
    mnist_before = _mnist_before(checkpoint, mnist)
    model = checkpoint.build_model()
    mine_before = _accuracy(model, *held)
    taught = (images[train_idx], labels[train_idx])
    lean = mistaken_for(_probabilities(model, taught[0]), taught[1])
    data = mixed_data(taught, mnist, seed=cfg.seed or 0, lean=lean)
    trainer = Trainer(
        checkpoint.model_config,
        cfg,
        data,
        stop_event=stop_event,
        initial_weights=checkpoint.model_state,
        frozen_norm=True,
    )
    name = f"{checkpoint.name}, taught your handwriting"
    metrics_seen = recorded(trainer, recorder, name) if recorder is not None else trainer
    for metrics in metrics_seen:
        if progress is not None:
            progress(metrics)
    after = trainer.evaluate_test().accuracy
    final = trainer.final_model.to("cpu")
    report = FinetuneReport(
        mnist_before, after, mine_before, _accuracy(final, *held), len(train_idx), len(held_idx)
    )
    tuned = dataclasses.replace(
        trainer.to_checkpoint(name),
        history=checkpoint.history,  # the run that made the model, not this short one
        batch_curve=checkpoint.batch_curve,
        train_config=checkpoint.train_config,
        optimizer_state=None,
        scheduler_state=None,
    )
    return tuned, report
