"""A layer table like the notebook's torchsummary output: layer, output shape, parameters,
multiply-adds. Computed by running one dummy image through forward hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LayerInfo:
    name: str  # torchsummary style: "Conv2d-1"
    path: str  # the module's dotted name in the model, e.g. "features.0"
    output_shape: tuple[int, ...]  # without the batch dimension
    params: int
    macs: int


def layer_kind(module: nn.Module) -> str:
    """How the table names a layer's type (a 1x1 convolution is a Conv2d too)."""
    return "Conv2d" if isinstance(module, nn.Conv2d) else type(module).__name__


def _macs(module: nn.Module, out: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        per_output = (module.in_channels // module.groups) * kh * kw
        return int(out.numel() * per_output)
    if isinstance(module, nn.Linear):
        return int(out.numel() * module.in_features)
    return 0


def layer_summary(model: nn.Module) -> list[LayerInfo]:
    """One row per leaf module, in the order the forward pass runs them."""
    rows: list[LayerInfo] = []
    hooks = []

    def make_hook(path: str) -> Callable[[nn.Module, object, torch.Tensor], None]:
        def hook(module: nn.Module, _inp: object, out: torch.Tensor) -> None:
            name = f"{layer_kind(module)}-{len(rows) + 1}"
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(LayerInfo(name, path, tuple(out.shape[1:]), params, _macs(module, out)))

        return hook

    for path, module in model.named_modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(make_hook(path)))
    was_training = model.training
    try:
        model.eval()
        device = next(model.parameters()).device
        with torch.inference_mode():
            model(torch.zeros(1, 1, 28, 28, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


def format_summary(rows: list[LayerInfo]) -> str:
    lines = [f"{'Layer (type)':<22}{'Output Shape':<22}{'Param #':>10}{'Mult-Adds':>12}"]
    lines.append("=" * len(lines[0]))
    for r in rows:
        shape = str([-1, *r.output_shape])
        lines.append(f"{r.name:<22}{shape:<22}{r.params:>10,}{r.macs:>12,}")
    lines.append("=" * len(lines[0]))
    lines.append(f"Total params: {sum(r.params for r in rows):,}")
    lines.append(f"Total mult-adds: {sum(r.macs for r in rows):,}")
    return "\n".join(lines)
