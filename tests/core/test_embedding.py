"""The feature space: layers, features, PCA and t-SNE maps, new points placed on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mnist_desk.core.config import ModelConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.embedding import PIXELS, features, map_layers, pca_map, tsne_map
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.model import build_model


def test_layers_and_their_features(mnist: MNIST) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="compact", batchnorm=True))
    layers = map_layers(model)
    assert layers[0].name == PIXELS and layers[-1].name.endswith("(the ten outputs)")
    assert all(layer.name.startswith("ReLU-") for layer in layers[1:-1])
    images = mnist.test_images[:50]
    pixels = features(model, images, layers[0])
    assert pixels.shape == (50, 784) and np.allclose(pixels, images.reshape(50, -1) / 255)
    outputs = features(model, images, layers[-1])
    assert outputs.shape == (50, 10)
    assert np.allclose(np.exp(outputs).sum(axis=1), 1, atol=1e-4)  # log-probabilities
    # one pass gives the features and the digits read, as evaluation reads them
    from mnist_desk.core.embedding import features_and_readings
    from mnist_desk.core.evaluation import predict_logprobs

    _, read = features_and_readings(model, images, layers[3])
    assert np.array_equal(read, predict_logprobs(model, images).argmax(dim=1).numpy())
    # batching does not change what a layer hands on
    relu = layers[2]
    assert np.allclose(features(model, images, relu), features(model, images, relu, batch_size=7),
                       atol=1e-5)  # fmt: skip


def test_pca_map_places_new_points_exactly() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 20)).astype(np.float32)
    x[:, 0] *= 10  # the direction of most variance
    x[:, 1] *= 5
    fm = pca_map(x, map_layers(build_model(ModelConfig()))[0])
    assert fm.points.shape == (500, 2) and fm.explained > 0.7
    assert np.allclose(np.abs(fm.components[:2, 0]), [1, 0], atol=0.1)
    assert np.allclose(fm.place(x[:5]), fm.points[:5], atol=1e-4)


def test_tsne_needs_its_extra_or_keeps_neighbours_together() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=20, size=(3, 10))
    x = np.concatenate([c + rng.normal(size=(60, 10)) for c in centres]).astype(np.float32)
    layer = map_layers(build_model(ModelConfig()))[0]
    try:
        import openTSNE  # noqa: F401
    except ImportError:
        with pytest.raises(MnistDeskError, match=r'pip install "mnist-desk\[maps\]"'):
            tsne_map(x, layer)
        return
    seen: list[tuple[int, int]] = []
    fm = tsne_map(x, layer, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (750, 750)
    group = np.repeat(np.arange(3), 60)
    d = ((fm.points[:, None] - fm.points[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (group[d.argmin(1)] == group).all()
    placed = fm.place(x[:3] + 0.01)
    assert (((placed[:, None] - fm.points[None]) ** 2).sum(-1).argmin(1) < 60).all()
