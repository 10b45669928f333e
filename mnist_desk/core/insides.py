"""Inside the training: what the weights, the gradients and the ReLUs are doing, taken
every so many batches while someone looks (the Train tab's *Inside the training*)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mnist_desk.core.augment import to_input
from mnist_desk.core.inspect import modules_in_order, table_name

BINS = 40


@dataclass(frozen=True)
class LayerState:
    name: str  # as the layer table names it
    change: float  # |w - w at the start| / |w at the start|
    grad_norm: float  # of the last step's gradient (nan when there is none)
    histogram: np.ndarray  # counts of the weights over `edges`
    edges: np.ndarray  # fixed at the start: the start's range, widened by half


@dataclass(frozen=True)
class Snapshot:
    epochs: float  # training progress in epochs
    lr: float
    layers: tuple[LayerState, ...]
    dead: dict[str, float]  # ReLU (table name) -> share of its units silent on the probe
    filters: np.ndarray  # the first convolution's filters (out, k, k), as they are now


class Insides:
    """Remembers the weights at the start; `snapshot` compares the model with them."""

    def __init__(self, model: nn.Module, probe: torch.Tensor) -> None:
        self.probe = probe  # uint8 (B, 28, 28) training images on the model's device
        self.layers = [
            (table_name(i, m), m)
            for i, m in enumerate(modules_in_order(model), start=1)
            if isinstance(m, (nn.Conv2d, nn.Linear))
        ]
        self.start = {name: m.weight.detach().clone() for name, m in self.layers}
        self.edges = {}
        for name, w in self.start.items():
            lo, hi = float(w.min()), float(w.max())
            pad = 0.5 * max(hi - lo, 1e-6)
            self.edges[name] = np.linspace(lo - pad, hi + pad, BINS + 1)
        self.start_histograms = {
            name: np.histogram(w.float().cpu().numpy(), self.edges[name])[0]
            for name, w in self.start.items()
        }
        self.relus = [
            (table_name(i, m), m)
            for i, m in enumerate(modules_in_order(model), start=1)
            if isinstance(m, nn.ReLU)
        ]

    @torch.no_grad()
    def snapshot(self, model: nn.Module, epochs: float, lr: float) -> Snapshot:
        layers = []
        for name, m in self.layers:
            w, w0 = m.weight.detach(), self.start[name]
            grad = m.weight.grad
            layers.append(
                LayerState(
                    name,
                    float(torch.linalg.vector_norm(w - w0) / torch.linalg.vector_norm(w0)),
                    float(torch.linalg.vector_norm(grad)) if grad is not None else float("nan"),
                    np.histogram(w.float().cpu().numpy(), self.edges[name])[0],
                    self.edges[name],
                )
            )
        fired: dict[str, torch.Tensor] = {}
        hooks = [
            relu.register_forward_hook(
                lambda mod, i, out, name=name: fired.__setitem__(name, (out > 0).any(dim=0))
            )
            for name, relu in self.relus
        ]
        was_training = model.training
        model.eval()  # BatchNorm's running statistics, never changed by this look
        try:
            model(to_input(self.probe))
        finally:
            for hook in hooks:
                hook.remove()
            model.train(was_training)
        dead = {name: 100.0 * float((~f).float().mean()) for name, f in fired.items()}
        first = self.layers[0][1].weight.detach().float().cpu().numpy()
        filters = first[:, 0] if first.ndim == 4 else first[:, :].reshape(len(first), 28, 28)
        return Snapshot(epochs, lr, tuple(layers), dead, filters)
