"""The lab: hands on a trained network. Switch a convolution's channel off or scale it,
prune the smallest weights, and see what the network then reads and how accurate it
stays. Edits make a new set of weights; the model they start from is never changed."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mnist_desk.core.config import ModelConfig
from mnist_desk.core.inspect import modules_in_order, table_name
from mnist_desk.core.model import build_model


@dataclass(frozen=True)
class Channel:
    layer: str  # the convolution, as the layer table names it ("Conv2d-5")
    channel: int
    factor: float  # 0 switches the channel off; 2 doubles what it hands on


@dataclass(frozen=True)
class Edit:
    channels: tuple[Channel, ...] = ()
    prune: float = 0.0  # percent of the smallest convolution and linear weights set to 0
    temperature: float = 1.0  # softmax temperature: the Draw tab's probabilities only

    @property
    def is_none(self) -> bool:
        return not self.channels and self.prune == 0


def conv_layers(model: nn.Module) -> list[tuple[str, int]]:
    """(table name, output channels) of every convolution that hands on maps."""
    out = []
    for i, module in enumerate(modules_in_order(model), start=1):
        if isinstance(module, nn.Conv2d) and module.out_channels > 10:
            out.append((table_name(i, module), module.out_channels))
    return out


def _scaled_by(model: nn.Module, layer: str) -> tuple[nn.Module, bool]:
    """The module whose per-channel parameters scale what the convolution `layer` hands
    on: the BatchNorm after it where there is one (scaling the convolution's weights
    would be undone by it), else the convolution itself."""
    modules = modules_in_order(model)
    for i, module in enumerate(modules, start=1):
        if table_name(i, module) == layer:
            for after in modules[i:]:
                if isinstance(after, nn.BatchNorm2d):
                    return after, True
                if isinstance(after, (nn.Conv2d, nn.Linear, nn.Flatten)):
                    break
            return module, False
    raise KeyError(f"no layer {layer!r}")


@torch.no_grad()
def apply_edit(
    config: ModelConfig, state: dict[str, torch.Tensor], edit: Edit
) -> dict[str, torch.Tensor]:
    """The weights with `edit` made (a copy; `state` is left as it is). A channel's
    factor multiplies what it hands on after the ReLU that follows: the affine part of
    its BatchNorm (or its convolution's weights and bias) scaled, which ReLU passes on
    as it is for factors of 0 or more."""
    model = build_model(config)
    model.load_state_dict(state)
    for c in edit.channels:
        module, _ = _scaled_by(model, c.layer)
        for name in ("weight", "bias"):
            p = getattr(module, name, None)
            if p is not None:
                p[c.channel] *= c.factor
    if edit.prune > 0:
        weights = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        magnitudes = torch.cat([w.abs().flatten() for w in weights])
        k = int(len(magnitudes) * edit.prune / 100)
        if k > 0:
            cut = magnitudes.kthvalue(k).values
            for w in weights:
                w[w.abs() <= cut] = 0.0
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def zero_share(state: dict[str, torch.Tensor], config: ModelConfig) -> float:
    """Percent of the convolution and linear weights that are zero."""
    model = build_model(config)
    model.load_state_dict(state)
    weights = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    total = sum(w.numel() for w in weights)
    return 100.0 * sum(int((w == 0).sum()) for w in weights) / max(1, total)
