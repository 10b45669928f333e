from __future__ import annotations

import numpy as np
import torch

from mnist_desk.core.config import ModelConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.inspect import activations, saliency
from mnist_desk.core.model import build_model
from mnist_desk.core.summary import layer_summary


def test_activation_maps_of_every_conv_of_the_seed_model(mnist: MNIST) -> None:
    image = mnist.test_images[0].numpy() / 255.0
    model = build_model(ModelConfig())
    layers = activations(model, image)
    table = {row.name: row for row in layer_summary(model)}
    assert len(layers) == 7 and all(layer.name in table for layer in layers)
    for layer in layers:  # named as the layer table names them, with the tensor they show
        assert (
            layer.name.startswith("Conv2d-") and table[layer.after].output_shape == layer.maps.shape
        )
    shapes = [layer.maps.shape for layer in layers]
    # what each conv hands on: after ReLU and pooling where the notebook has them
    assert shapes == [
        (8, 14, 14),
        (16, 7, 7),
        (8, 7, 7),
        (16, 7, 7),
        (16, 7, 7),
        (32, 7, 7),
        (32, 7, 7),
    ]
    assert layers[0].maps.min() >= 0  # after a ReLU
    assert (
        layers[0].title.startswith("Conv2d-1 (1→8, 3×3) → ")
        and "8 maps of 14×14" in layers[0].title
    )


def test_activation_maps_of_the_compact_model_end_with_class_maps(mnist: MNIST) -> None:
    model = build_model(ModelConfig(arch="compact", batchnorm=True))
    layers = activations(model, mnist.test_images[0].numpy() / 255.0)
    assert len(layers) == 6 and layers[-1].maps.shape == (10, 7, 7)


def test_activations_do_not_change_the_model(mnist: MNIST) -> None:
    model = build_model(ModelConfig(arch="compact", batchnorm=True)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    activations(model, mnist.test_images[0].numpy() / 255.0)
    assert model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_saliency_points_at_the_ink(mnist: MNIST) -> None:
    torch.manual_seed(0)
    model = build_model()
    image = mnist.test_images[0].numpy() / 255.0
    s = saliency(model, image)
    assert s.shape == (28, 28) and s.max() == 1.0 and s.min() >= 0
    assert all(p.grad is None for p in model.parameters())  # no gradients left behind
    corner = saliency(model, image)[:3, :3].mean()
    assert np.isfinite(corner)
