from __future__ import annotations

import math

import numpy as np
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
