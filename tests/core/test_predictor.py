from __future__ import annotations

import threading

import numpy as np
import torch

from mnist_desk.core.config import ModelConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.model import build_model
from mnist_desk.core.predictor import Predictor


def test_probabilities_sum_to_one() -> None:
    predictor = Predictor(build_model())
    probs = predictor.probabilities(np.random.rand(28, 28).astype(np.float32))
    assert probs.shape == (10,)
    assert abs(probs.sum() - 1.0) < 1e-5
    batch = predictor.probabilities(np.random.rand(3, 28, 28).astype(np.float32))
    assert batch.shape == (3, 10)


def test_no_ink_is_no_prediction() -> None:
    assert Predictor(build_model()).predict(np.zeros((280, 280), np.uint8)) is None


def test_weights_swap_between_calls(mnist: MNIST) -> None:
    torch.manual_seed(0)
    a, b = build_model(), build_model()
    predictor = Predictor(a)
    x = mnist.test_images[0].numpy() / 255.0
    first = predictor.probabilities(x)
    predictor.set_weights(ModelConfig(), b.state_dict())
    second = predictor.probabilities(x)
    assert not np.allclose(first, second)
    with torch.inference_mode():
        expected = b.eval()((torch.from_numpy(x).float()[None, None] - 0.1307) / 0.3081).exp()
    np.testing.assert_allclose(second, expected[0].numpy(), rtol=1e-5, atol=1e-6)


def test_swapping_from_another_thread_is_safe() -> None:
    predictor = Predictor(build_model())
    state = build_model().state_dict()
    x = np.random.rand(28, 28).astype(np.float32)
    errors: list[BaseException] = []

    def swap() -> None:
        try:
            for _ in range(20):
                predictor.set_weights(ModelConfig(), state)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=swap)
    thread.start()
    for _ in range(200):
        assert abs(predictor.probabilities(x).sum() - 1) < 1e-5
    thread.join()
    assert errors == []
