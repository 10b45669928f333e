from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mnist_desk.core.evaluation import misclassified, summarize


def test_summary_of_known_predictions() -> None:
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2, 3])
    preds = torch.tensor([0, 1, 1, 1, 2, 0, 2, 3])
    logprobs = torch.log(torch.nn.functional.one_hot(preds, 10).float() * 0.9 + 0.01)
    r = summarize(logprobs, labels)
    assert r.n == 8
    assert r.accuracy == 100 * 6 / 8
    assert r.confusion[0, 1] == 1 and r.confusion[2, 0] == 1 and r.confusion.trace() == 6
    assert r.per_class_acc[:4] == (50.0, 100.0, 100 * 2 / 3, 100.0)
    assert math.isnan(r.per_class_acc[9])  # no images of 9: no accuracy to report
    assert r.to_dict()["per_class_acc"][9] is None
    expected_loss = -logprobs[torch.arange(8), labels].mean().item()
    assert abs(r.loss - expected_loss) < 1e-6


def test_misclassified_most_confident_first() -> None:
    labels = torch.tensor([0, 1, 2])
    probs = torch.tensor([[0.1, 0.9] + [0] * 8, [0, 1.0] + [0] * 8, [0.6, 0.4] + [0] * 8])
    wrong = misclassified(torch.log(probs + 1e-9), labels)
    assert wrong.tolist() == [0, 2]
    assert np.isclose(probs[0].max().item(), 0.9)


def test_answer_or_abstain_counts_by_hand() -> None:
    from mnist_desk.core.evaluation import answer_or_abstain

    def reading(digit: int, confidence: float) -> list[float]:
        rest = (1 - confidence) / 9
        return [confidence if d == digit else rest for d in range(10)]

    # read 0 at 0.9 (right), 1 at 0.6 (wrong), 0 at 0.4 (right), 4 at 0.3 (wrong)
    probabilities = np.array([reading(0, 0.9), reading(1, 0.6), reading(0, 0.4), reading(4, 0.3)])
    labels = np.array([0, 0, 0, 9])
    curve = answer_or_abstain(probabilities, labels, np.array([0.1, 0.35, 0.5, 0.95]))
    assert list(curve.answered) == [100.0, 75.0, 50.0, 0.0]
    assert list(curve.right_when_answered[:3]) == [50.0, pytest.approx(200 / 3), 50.0]
    assert np.isnan(curve.right_when_answered[3])  # nothing answered, nothing right
    assert curve.at(0.36) == (75.0, pytest.approx(200 / 3))
