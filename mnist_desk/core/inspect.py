"""Looking inside a network: what each convolution hands on, and which pixels mattered.

`activations` runs one image through a model module by module and keeps, for every
convolution, the maps it passes to the next convolution (after its BatchNorm, ReLU and
pooling, if any): what the next layer actually sees. Layers are named as in the layer
table (core.summary: "Conv2d-5" is the fifth layer of all), and each set of maps says
which layer's output it is. `saliency` is the gradient of the predicted
class's log-probability with respect to the input pixels (vanilla input-gradient
saliency, Simonyan et al. 2014), in absolute value: the pixels whose change would move
the prediction most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mnist_desk.core.augment import normalize
from mnist_desk.core.summary import layer_kind


@dataclass(frozen=True)
class LayerMaps:
    name: str  # the convolution, as the layer table names it: "Conv2d-5"
    detail: str  # "16→32, 3×3"
    after: str  # the layer whose output the maps are: "ReLU-7" (or the conv itself)
    maps: np.ndarray  # (channels, height, width), float32

    @property
    def title(self) -> str:
        c, h, w = self.maps.shape
        shown = "" if self.after == self.name else f" → {self.after}"
        return f"{self.name} ({self.detail}){shown}: {c} maps of {h}×{w}"


def modules_in_order(model: nn.Module) -> list[nn.Module]:
    """The leaf modules of a model built from Sequential parts (both of ours are)."""
    order: list[nn.Module] = []
    for child in model.children():
        if isinstance(child, nn.Sequential):
            order.extend(modules_in_order(child))
        elif not list(child.children()):
            order.append(child)
        else:
            order.extend(modules_in_order(child))
    return order


def _describe(conv: nn.Conv2d) -> str:
    k = conv.kernel_size[0]
    return f"{conv.in_channels}→{conv.out_channels}, {k}×{k}"


def table_name(index: int, module: nn.Module) -> str:
    return f"{layer_kind(module)}-{index}"


def _input(image28: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.asarray(image28, dtype=np.float32)).reshape(1, 1, 28, 28)
    return normalize(x)


@torch.inference_mode()
def activations(model: nn.Module, image28: np.ndarray) -> list[LayerMaps]:
    """For each convolution, the maps it hands on, for one 28x28 image in [0, 1]."""
    was_training = model.training
    model.eval()
    try:
        x = _input(image28)
        layers: list[LayerMaps] = []
        conv: tuple[str, str] | None = None  # the table name and detail of the open conv
        after = ""
        for index, module in enumerate(modules_in_order(model), start=1):
            if isinstance(module, nn.Conv2d):
                if conv is not None:
                    layers.append(LayerMaps(*conv, after, x[0].float().numpy().copy()))
                conv = (table_name(index, module), _describe(module))
            elif x.ndim != 4:  # past the convolutions (Flatten, Linear, ...)
                break
            if isinstance(module, (nn.Flatten, nn.Linear, nn.AdaptiveAvgPool2d)):
                break
            x = module(x)
            after = table_name(index, module)
        if conv is not None and x.ndim == 4:
            layers.append(LayerMaps(*conv, after, x[0].float().numpy().copy()))
        return layers
    finally:
        model.train(was_training)


def saliency(model: nn.Module, image28: np.ndarray, target: int | None = None) -> np.ndarray:
    """|d log p(target) / d pixel| for each of the 28x28 pixels, scaled to [0, 1]."""
    was_training = model.training
    model.eval()
    try:
        x = torch.from_numpy(np.asarray(image28, dtype=np.float32)).reshape(1, 1, 28, 28)
        x.requires_grad_(True)
        with torch.enable_grad():
            logp = model(normalize(x))
            cls = int(logp.argmax()) if target is None else target
            logp[0, cls].backward()
        grad = x.grad.abs()[0, 0].numpy()  # type: ignore[union-attr]
    finally:
        model.train(was_training)
        model.zero_grad(set_to_none=True)
    top = float(grad.max())
    return (grad / top).astype(np.float32) if top > 0 else grad.astype(np.float32)
