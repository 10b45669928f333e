"""Test loss and accuracy, per-class accuracy, the confusion matrix, the mistakes.

Kept apart from training (as in PyTorch's examples/mnist): evaluation never augments and
always runs the model in eval mode without gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mnist_desk.core.augment import to_input
from mnist_desk.core.metrics import TestMetrics


@dataclass(frozen=True)
class EvalResult:
    """Accuracies in percent. confusion[i, j] counts images of digit i predicted as j."""

    loss: float
    accuracy: float
    n: int
    per_class_acc: tuple[float, ...]
    confusion: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_loss": self.loss,
            "test_acc": self.accuracy,
            "n": self.n,
            "per_class_acc": [None if math.isnan(a) else a for a in self.per_class_acc],
            "confusion": self.confusion.tolist(),
        }

    def to_metrics(self) -> TestMetrics:
        return TestMetrics(self.loss, self.accuracy, self.n, self.per_class_acc)


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def cpu_layout(model: nn.Module) -> torch.memory_format:
    """Puts a model on the CPU in channels-last memory layout (in place: the same weights,
    another layout), which halves the time of its convolutions there; the layout its
    inputs should have. Elsewhere the model is left as it is."""
    if _model_device(model).type != "cpu":
        return torch.contiguous_format
    model.to(memory_format=torch.channels_last)
    return torch.channels_last


def predict_logprobs(
    model: nn.Module, images: torch.Tensor, *, batch_size: int | None = None
) -> torch.Tensor:
    """Log-probabilities (N, 10) on the CPU for uint8 images (N, 28, 28) on any device."""
    device = _model_device(model)
    layout = cpu_layout(model)
    if batch_size is None:  # a CPU's caches hold 500 images: faster per image than more
        batch_size = 500 if device.type == "cpu" else 2000
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                x = to_input(images[start : start + batch_size].to(device, non_blocking=True))
                out.append(model(x.contiguous(memory_format=layout)).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, 10)


def summarize(logprobs: torch.Tensor, labels: torch.Tensor) -> EvalResult:
    """Loss, accuracy, per-class accuracy and confusion from predictions already made."""
    labels = labels.cpu()
    digits = labels >= 0  # a drawing that is no digit (core.steps.NO_DIGIT) has no answer
    if not bool(digits.all()):
        logprobs, labels = logprobs[digits], labels[digits]
    n = len(labels)
    loss = F.nll_loss(logprobs, labels, reduction="mean").item() if n else math.nan
    pred = logprobs.argmax(dim=1)
    confusion = torch.bincount(labels * 10 + pred, minlength=100).reshape(10, 10).numpy()
    per_class_total = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = 100.0 * np.diag(confusion) / per_class_total
    accuracy = 100.0 * float(np.trace(confusion)) / n if n else math.nan
    return EvalResult(loss, accuracy, n, tuple(float(a) for a in per_class), confusion)


def evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, batch_size: int | None = None
) -> EvalResult:
    return summarize(predict_logprobs(model, images, batch_size=batch_size), labels)


def misclassified(logprobs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Indices of the wrong predictions, the most confident mistakes first."""
    conf, pred = logprobs.max(dim=1)
    wrong = torch.nonzero(pred != labels.cpu()).flatten()
    return wrong[torch.argsort(conf[wrong], descending=True)]


@dataclass(frozen=True)
class AbstainCurve:
    """As the confidence threshold moves: what share of the images gets an answer (the
    rest are "unsure"), and how many of those answers are right. Percentages."""

    thresholds: np.ndarray
    answered: np.ndarray  # coverage
    right_when_answered: np.ndarray  # accuracy on the answered ones (nan when none)

    def at(self, threshold: float) -> tuple[float, float]:
        """(answered, right when answered) at this threshold, by the nearest one computed."""
        i = int(np.abs(self.thresholds - threshold).argmin())
        return float(self.answered[i]), float(self.right_when_answered[i])


def answer_or_abstain(
    probabilities: np.ndarray, labels: np.ndarray, thresholds: np.ndarray | None = None
) -> AbstainCurve:
    """The coverage/accuracy trade-off: an image is answered when the top probability
    reaches the threshold, else the model abstains (as the Draw tab's "unsure")."""
    if thresholds is None:
        thresholds = np.round(np.linspace(0.1, 1.0, 91), 2)
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    order = np.argsort(confidence)
    confidence, right = confidence[order], right[order]
    # answered at threshold t: confidence >= t, a suffix of the sorted confidences
    start = np.searchsorted(confidence, thresholds, side="left")
    right_from = np.concatenate([np.cumsum(right[::-1])[::-1], [0]])  # right in suffix
    n = len(labels)
    count = n - start
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(count > 0, 100.0 * right_from[start] / np.maximum(count, 1), np.nan)
    return AbstainCurve(np.asarray(thresholds, float), 100.0 * count / max(n, 1), accuracy)
