"""The feature space: every test image placed on a 2-D map by what one layer of the
network makes of it. PCA at once; t-SNE (openTSNE, an optional extra:
`pip install "mnist-desk[maps]"`) on request. New points, such as the drawing on the
canvas, are placed on a map already made."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from mnist_desk.core.augment import to_input
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.evaluation import cpu_layout
from mnist_desk.core.inspect import modules_in_order, table_name

PIXELS = "Input (the pixels)"
NEIGHBOURS = 10  # placing a new point on a t-SNE map


@dataclass(frozen=True)
class Layer:
    name: str  # as the Network tab's table names it, or PIXELS
    index: int  # in modules_in_order; -1 for the pixels


def map_layers(model: nn.Module) -> list[Layer]:
    """The layers a map can be made from: the pixels, what each ReLU hands on, and the
    network's ten outputs."""
    layers = [Layer(PIXELS, -1)]
    modules = modules_in_order(model)
    for i, module in enumerate(modules, start=1):
        if isinstance(module, nn.ReLU):
            layers.append(Layer(table_name(i, module), i - 1))
    layers.append(Layer(f"{table_name(len(modules), modules[-1])} (the ten outputs)",
                        len(modules) - 1))  # fmt: skip
    return layers


def features(
    model: nn.Module, images: torch.Tensor, layer: Layer, *, batch_size: int = 500
) -> np.ndarray:
    """(N, D) float32: what `layer` hands on for each uint8 image (N, 28, 28),
    flattened."""
    return features_and_readings(model, images, layer, batch_size=batch_size)[0]


@torch.inference_mode()
def features_and_readings(
    model: nn.Module, images: torch.Tensor, layer: Layer, *, batch_size: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """What `layer` hands on for each image, flattened (N, D), and the digit the model
    reads (N,), from one pass."""
    module = None if layer.index < 0 else modules_in_order(model)[layer.index]
    caught: list[torch.Tensor] = []
    read: list[torch.Tensor] = []
    hook = None
    if module is not None:
        hook = module.register_forward_hook(lambda m, i, out: caught.append(out.flatten(1)))
    layout = cpu_layout(model)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(images), batch_size):
            x = to_input(images[start : start + batch_size]).contiguous(memory_format=layout)
            read.append(model(x).argmax(dim=1).cpu())
    finally:
        if hook is not None:
            hook.remove()
        model.train(was_training)
    readings = torch.cat(read).numpy() if read else np.zeros(0, np.int64)
    if module is None:
        return images.reshape(len(images), -1).float().div(255).numpy(), readings
    return torch.cat(caught).float().cpu().numpy(), readings


@dataclass
class FeatureMap:
    """2-D coordinates of N images, and how to place new ones on the same map."""

    method: str  # "PCA" or "t-SNE"
    layer: Layer
    points: np.ndarray  # (N, 2)
    mean: np.ndarray
    components: np.ndarray  # (D, k): PCA to 2 dimensions, or to k before t-SNE
    explained: float  # share of the variance the two PCA axes hold (PCA only)
    _start: np.ndarray | None = field(default=None, repr=False)  # what t-SNE started from

    def place(self, new_features: np.ndarray) -> np.ndarray:
        """(M, 2): new images placed on this map. PCA projects them exactly. For t-SNE,
        openTSNE's own placement takes about 0.2 s a point here, too slow to follow a
        drawing live: a point goes where its nearest neighbours among the mapped images
        are (in the 50 PCA dimensions t-SNE started from), weighted by closeness."""
        reduced = (new_features - self.mean) @ self.components
        if self.method == "PCA":
            return reduced[:, :2]
        start = self._start if self._start is not None else reduced[:0]
        out = []
        for row in reduced:
            d = np.sqrt(((start - row) ** 2).sum(axis=1))
            near = np.argsort(d)[:NEIGHBOURS]
            w = 1.0 / (d[near] + 1e-6)
            out.append((self.points[near] * w[:, None]).sum(axis=0) / w.sum())
        return np.asarray(out).reshape(-1, 2)


def pca_map(x: np.ndarray, layer: Layer, dims: int = 2) -> FeatureMap:
    """The two (or `dims`) directions along which the features vary most."""
    mean = x.mean(axis=0)
    centred = torch.from_numpy(x - mean)
    q = min(dims + 8, *centred.shape)
    torch.manual_seed(0)
    _, s, v = torch.pca_lowrank(centred, q=q, center=False, niter=4)
    components = v[:, :dims].numpy()
    total = float((centred**2).sum())
    explained = float((s[:2] ** 2).sum()) / total if total else 0.0
    points = centred.numpy() @ components[:, :2]
    return FeatureMap("PCA", layer, points, mean, components, explained)


def tsne_map(
    x: np.ndarray,
    layer: Layer,
    *,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    seed: int = 0,
) -> FeatureMap:
    """t-SNE of the features (first reduced to 50 dimensions by PCA), with openTSNE.
    `progress` gets (iterations done, iterations in all); `stop` ends it (MnistDeskError)."""
    try:
        from openTSNE import TSNE
    except ImportError:
        raise MnistDeskError(
            't-SNE needs openTSNE: pip install "mnist-desk[maps]" (PCA works without it)'
        ) from None
    reduced = pca_map(x, layer, dims=min(50, x.shape[1]))
    start = (x - reduced.mean) @ reduced.components
    early, late, every = 250, 500, 25
    calls = [0]

    def callback(iteration: int, error: float, embedding: Any) -> bool:
        """Called every `every` iterations of both phases; True stops openTSNE."""
        calls[0] += 1
        if progress is not None:
            progress(min(calls[0] * every, early + late), early + late)
        return bool(stop is not None and stop.is_set())

    tsne = TSNE(
        n_components=2,
        perplexity=30,
        n_jobs=max(1, torch.get_num_threads()),
        random_state=seed,
        early_exaggeration_iter=early,
        n_iter=late,
        callbacks=callback,
        callbacks_every_iters=every,
        verbose=False,
    )
    embedding = tsne.fit(start)
    if stop is not None and stop.is_set():
        raise MnistDeskError("stopped")
    return FeatureMap(
        "t-SNE", layer, np.asarray(embedding), reduced.mean, reduced.components, 0.0, start
    )
