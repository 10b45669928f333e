"""The lab's edits: channels off or scaled where they are handed on, pruning, temperature."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mnist_desk.core.config import ModelConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.inspect import modules_in_order, table_name
from mnist_desk.core.lab import Channel, Edit, apply_edit, conv_layers, zero_share
from mnist_desk.core.model import build_model
from mnist_desk.core.predictor import Predictor


def _relu_after(model: torch.nn.Module, layer: str, images: torch.Tensor) -> torch.Tensor:
    """What the ReLU after convolution `layer` hands on."""
    modules = modules_in_order(model)
    start = [table_name(i, m) for i, m in enumerate(modules, start=1)].index(layer)
    relu = next(m for m in modules[start:] if isinstance(m, torch.nn.ReLU))
    caught: list[torch.Tensor] = []
    hook = relu.register_forward_hook(lambda m, i, out: caught.append(out.clone()))
    model.eval()
    with torch.no_grad():
        model((images.unsqueeze(1).float() / 255 - 0.1307) / 0.3081)
    hook.remove()
    return caught[0]


@pytest.mark.parametrize("batchnorm", [True, False])
def test_a_channel_switched_off_or_doubled_where_it_is_handed_on(
    mnist: MNIST, batchnorm: bool
) -> None:
    torch.manual_seed(0)
    config = ModelConfig(arch="compact", batchnorm=batchnorm)
    model = build_model(config)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    layer = conv_layers(model)[1][0]
    images = mnist.test_images[:16]
    before = _relu_after(model, layer, images)
    off = build_model(config)
    off.load_state_dict(apply_edit(config, state, Edit((Channel(layer, 3, 0.0),))))
    after = _relu_after(off, layer, images)
    assert float(after[:, 3].abs().max()) == 0.0 and float(before[:, 3].abs().max()) > 0
    assert torch.allclose(after[:, 4:], before[:, 4:])  # the others as they were
    doubled = build_model(config)
    doubled.load_state_dict(apply_edit(config, state, Edit((Channel(layer, 3, 2.0),))))
    assert torch.allclose(_relu_after(doubled, layer, images)[:, 3], 2 * before[:, 3], atol=1e-5)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())  # untouched


def test_pruning_zeroes_that_share_of_the_weights() -> None:
    torch.manual_seed(0)
    config = ModelConfig(arch="compact", batchnorm=True)
    state = build_model(config).state_dict()
    assert zero_share(state, config) == 0
    pruned = apply_edit(config, state, Edit(prune=50))
    assert zero_share(pruned, config) == pytest.approx(50, abs=0.5)
    # the largest weights are kept
    big = max(float(v.abs().max()) for k, v in state.items() if k.endswith("weight"))
    assert max(float(v.abs().max()) for k, v in pruned.items() if k.endswith("weight")) == big


def test_temperature_spreads_the_probabilities_but_keeps_the_digit(mnist: MNIST) -> None:
    from mnist_desk.bundled import load_bundled_checkpoint

    predictor = Predictor.from_checkpoint(load_bundled_checkpoint())
    image = mnist.test_images[0].numpy().astype(np.float32) / 255
    plain = predictor.probabilities(image)
    predictor.temperature = 3.0
    warm = predictor.probabilities(image)
    predictor.temperature = 0.5
    cold = predictor.probabilities(image)
    assert plain.argmax() == warm.argmax() == cold.argmax()
    assert warm.max() < plain.max() < cold.max() or plain.max() == pytest.approx(cold.max())
    assert warm.sum() == pytest.approx(1.0, abs=1e-5)
