"""The CUDA-graph step: its fallback and the parts it shares with the eager path are
tested on the CPU (CI has no GPU); on a machine with CUDA, captured training is compared
with eager training step by step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mnist_desk.core.augment import draw
from mnist_desk.core.config import AugmentConfig, ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.model import build_model
from mnist_desk.core.steps import CapturedStep, EagerStep
from mnist_desk.core.training import BatchMetrics, Trainer
from tests.helpers import subset


def _eager(data: MNIST, *, keep_grad_tensors: bool = False) -> EagerStep:
    model = build_model()
    return EagerStep(
        model,
        data.train_images,
        data.train_labels,
        0.0,
        torch.contiguous_format,
        keep_grad_tensors=keep_grad_tensors,
    )


def test_capture_falls_back_to_eager_off_cuda(small_mnist: MNIST) -> None:
    eager = _eager(small_mnist)
    step, reason = CapturedStep.build(eager, 64, None)
    assert step is eager and "CUDA" in reason
    trainer = Trainer(
        ModelConfig(),
        TrainConfig(epochs=1, cuda_graphs=True, device="cpu"),
        subset(small_mnist, 128, 64),
    )
    trainer.run()
    assert trainer.step_mode == "eager"


def test_eager_step_can_keep_gradient_tensors(small_mnist: MNIST) -> None:
    eager = _eager(small_mnist, keep_grad_tensors=True)
    idx = torch.arange(32)
    eager(idx, None)
    grads = [p.grad for p in eager.model.parameters()]
    loss, correct = eager(idx, None)
    assert all(p.grad is g for p, g in zip(eager.model.parameters(), grads, strict=True))
    assert loss.ndim == 0 and 0 <= int(correct) <= 32
    fresh = _eager(small_mnist)
    fresh(idx, None)
    first = [p.grad for p in fresh.model.parameters()]
    fresh(idx, None)
    assert all(p.grad is not g for p, g in zip(fresh.model.parameters(), first, strict=True))


def test_reading_losses_back_in_chunks_changes_nothing(small_mnist: MNIST) -> None:
    """A GPU reads losses back every 32 steps; the metrics must equal step-by-step ones."""
    data = subset(small_mnist, 640, 100)
    runs = []
    for every in (1, 7):
        trainer = Trainer(ModelConfig(), TrainConfig(epochs=1, seed=5, device="cpu"), data)
        trainer._readout_every = every
        runs.append([m for m in trainer if isinstance(m, BatchMetrics)])
    assert [m.batch for m in runs[1]] == list(range(1, 11))
    for a, b in zip(*runs, strict=True):
        assert (a.loss, a.acc, a.batch_acc) == (b.loss, b.acc, b.batch_acc)


def test_static_augmentation_buffers() -> None:
    cfg = AugmentConfig(stroke=0.5, elastic=1.0)
    first = draw(8, cfg, torch.Generator().manual_seed(0), "cpu")
    second = draw(8, cfg, torch.Generator().manual_seed(1), "cpu")
    static = first.clone_static()
    assert static.theta is not first.theta and torch.equal(static.theta, first.theta)  # type: ignore[arg-type]
    static.copy_from(second)
    for mine, theirs in (
        (static.theta, second.theta),
        (static.stroke, second.stroke),
        (static.elastic, second.elastic),
    ):
        assert torch.equal(mine, theirs)  # type: ignore[arg-type]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_captured_steps_train_as_the_eager_ones_do(small_mnist: MNIST) -> None:
    runs = {}
    for graphs in (False, True):
        trainer = Trainer(
            ModelConfig(),
            TrainConfig(epochs=1, seed=0, device="cuda", cuda_graphs=graphs),
            subset(small_mnist, 1024, 256),
        )
        losses = [m.loss for m in trainer if isinstance(m, BatchMetrics)]
        runs[graphs] = (losses, trainer.step_mode)
    assert runs[False][1] == "eager" and runs[True][1].startswith("captured")
    np.testing.assert_allclose(runs[True][0], runs[False][0], rtol=1e-3, atol=1e-4)
