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


def test_loss_for_digits_is_plain_cross_entropy_with_smoothing() -> None:
    from mnist_desk.core.steps import loss_and_correct

    torch.manual_seed(0)
    out = torch.log_softmax(torch.randn(32, 10), dim=1)
    y = torch.randint(0, 10, (32,))
    loss, correct = loss_and_correct(out, y, 0.05)
    expected = torch.nn.functional.cross_entropy(out, y, label_smoothing=0.05)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert correct.item() == int((out.argmax(1) == y).sum())
    # the short way, for callers that know their labels are all digits
    short = loss_and_correct(out.clone().requires_grad_(), y, 0.05, digits_only=True)
    assert short[0].item() == pytest.approx(loss.item(), rel=1e-6)
    assert short[1].item() == correct.item()
    long_out = out.clone().requires_grad_()
    loss_and_correct(long_out, y, 0.05)[0].backward()
    short_out = out.clone().requires_grad_()
    loss_and_correct(short_out, y, 0.05, digits_only=True)[0].backward()
    assert short_out.grad is not None and long_out.grad is not None
    torch.testing.assert_close(short_out.grad, long_out.grad)


def test_a_step_takes_the_short_loss_only_when_every_label_is_a_digit(
    small_mnist: MNIST,
) -> None:
    from mnist_desk.core.steps import NO_DIGIT

    data = subset(small_mnist, 64, 1)
    images = data.train_images
    digits = _eager(data)
    labels = data.train_labels.clone()
    labels[5] = NO_DIGIT
    mixed = EagerStep(digits.model, images, labels, 0.0, torch.channels_last)
    assert digits.digits_only and not mixed.digits_only
    idx = torch.arange(64)
    # cross_entropy would refuse the label -1: the mixed batch takes the long way
    loss, _ = mixed(idx, None)
    assert torch.isfinite(loss)
    with pytest.raises(IndexError):
        torch.nn.functional.cross_entropy(torch.zeros(64, 10), labels)


def test_no_digit_asks_for_the_uniform_distribution() -> None:
    """A drawing that is no digit (label -1) costs least when the ten are equally likely,
    and counts as right only when the network is unsure of it."""
    from mnist_desk.core.steps import NO_DIGIT, loss_and_correct

    flat = torch.full((1, 10), -np.log(10.0))
    sure = torch.log_softmax(torch.tensor([[8.0] + [0.0] * 9]), dim=1)
    label = torch.tensor([NO_DIGIT])
    flat_loss, flat_ok = loss_and_correct(flat, label, 0.0)
    sure_loss, sure_ok = loss_and_correct(sure, label, 0.0)
    assert flat_loss.item() == pytest.approx(np.log(10.0))
    assert sure_loss.item() > flat_loss.item() + 1
    assert (flat_ok.item(), sure_ok.item()) == (1, 0)


def test_training_with_no_digit_drawings_lowers_their_confidence(small_mnist: MNIST) -> None:
    """Outlier exposure end to end: noise labelled 'no digit' is read with far lower
    confidence than by the same training without it, and the digits are still learned."""
    from mnist_desk.core.evaluation import predict_logprobs
    from mnist_desk.core.steps import NO_DIGIT

    g = torch.Generator().manual_seed(0)
    noise = (torch.rand(1500, 28, 28, generator=g) > 0.8).to(torch.uint8) * 255
    probe = (torch.rand(200, 28, 28, generator=g) > 0.8).to(torch.uint8) * 255
    digits = subset(small_mnist, 6000, 1000)
    confidence = {}
    for name, labels in (("exposed", torch.full((1500,), NO_DIGIT)), ("told digits", None)):
        data = digits.with_extra(noise, labels) if labels is not None else digits
        trainer = Trainer(ModelConfig(), TrainConfig(epochs=1, device="cpu", seed=0), data)
        assert trainer.run()[-1].test_acc > 75  # -1 labels never reach the test score
        top = predict_logprobs(trainer.final_model, probe).exp().max(dim=1).values
        confidence[name] = float(top.mean())
    assert confidence["exposed"] < 0.3 < confidence["told digits"]
