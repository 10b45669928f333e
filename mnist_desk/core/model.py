"""The networks. `build_model(ModelConfig)` is the only way in, so a checkpoint's stored
config always rebuilds the very model its weights came from."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mnist_desk.core.config import ModelConfig


class PointwiseConv2d(nn.Conv2d):
    """A 1x1 convolution. On a channels-last input (the Trainer's format on the CPU) it
    is a matrix product over the pixels, one `linear` call: its backward is two small
    matrix products where oneDNN's convolution backward costs several times that for
    these channel counts. Otherwise (GPU, inference on one image, ONNX export) it is the
    ordinary convolution. Same parameters, same state_dict, same result up to rounding."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4 and not x.is_contiguous() and _is_channels_last(x):
            # (B, C, H, W) with channels-last strides is a contiguous (B, H, W, C) tensor
            y = F.linear(x.permute(0, 2, 3, 1), self.weight.flatten(1), self.bias)
            return y.permute(0, 3, 1, 2)
        return super().forward(x)


def _is_channels_last(x: torch.Tensor) -> bool:
    return x.is_contiguous(memory_format=torch.channels_last)


def _conv3(cin: int, cout: int, cfg: ModelConfig) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1)]
    if cfg.batchnorm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.ReLU(inplace=True))
    return layers


class SeedNet(nn.Module):
    """The notebook's CNN, layer for layer (24,210 parameters without options).

    28x28 -> conv3 8 -> pool 14x14 -> conv3 16 -> pool 7x7 -> 1x1 to 8 -> conv3 16
    -> 1x1 16 -> conv3 32 -> 1x1 32 -> Linear(32*7*7 -> 10) -> log-probabilities.
    The 1x1 convolutions mix channels without looking at neighbours. No ReLU follows
    them, so each is a linear map folded into the layer after it: the 16->8 one narrows
    what the next 3x3 convolution sees, the other two change how the training moves the
    weights, not what the network can compute. Without them (cfg.pointwise False) the
    3x3 layers keep their widths and the one after 16->8 sees all 16 channels: 23,898
    parameters.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        k = cfg.width
        mid = 8 * k if cfg.pointwise else 16 * k  # what the third 3x3 convolution sees

        def pointwise(cin: int, cout: int) -> list[nn.Module]:
            return [PointwiseConv2d(cin, cout)] if cfg.pointwise else []

        self.features = nn.Sequential(
            *_conv3(1, 8 * k, cfg),
            nn.MaxPool2d(2),
            *_conv3(8 * k, 16 * k, cfg),
            nn.MaxPool2d(2),
            *pointwise(16 * k, 8 * k),
            *_conv3(mid, 16 * k, cfg),
            *pointwise(16 * k, 16 * k),
            *_conv3(16 * k, 32 * k, cfg),
            *pointwise(32 * k, 32 * k),
        )
        head: list[nn.Module] = [nn.Flatten()]
        if cfg.dropout > 0:
            head.append(nn.Dropout(cfg.dropout))
        head += [nn.Linear(32 * k * 7 * 7, 10), nn.LogSoftmax(dim=1)]
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class CompactNet(nn.Module):
    """The project's own network: fewer parameters than the seed, more accurate.

    The seed spends 15,690 of its 24,210 parameters on the final Linear layer. Here a
    1x1 convolution and global average pooling replace it, and the parameters go into
    convolutions instead: 8 channels at 28x28 (pooled before BatchNorm and ReLU, which
    then work on a quarter of the pixels), 16 and 32 at 14x14, two of 32 at 7x7. Every
    convolution is followed by BatchNorm when cfg.batchnorm (the default of this net).
    With cfg.width, every convolution has that many times the channels.
    """

    WIDTHS = (8, 16, 32, 32, 32)

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        c1, c2, c3, c4, c5 = (c * cfg.width for c in self.WIDTHS)
        self.features = nn.Sequential(
            *self._block(1, c1, cfg, pool=True),
            *self._block(c1, c2, cfg),
            *self._block(c2, c3, cfg, pool=True),
            *self._block(c3, c4, cfg),
            *self._block(c4, c5, cfg),
        )
        head: list[nn.Module] = []
        if cfg.dropout > 0:
            head.append(nn.Dropout(cfg.dropout))
        head += [
            PointwiseConv2d(c5, 10),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.LogSoftmax(dim=1),
        ]
        self.head = nn.Sequential(*head)

    @staticmethod
    def _block(cin: int, cout: int, cfg: ModelConfig, pool: bool = False) -> list[nn.Module]:
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, bias=not cfg.batchnorm)]
        if pool:
            layers.append(nn.MaxPool2d(2))
        if cfg.batchnorm:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.ReLU(inplace=True))
        return layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def build_model(cfg: ModelConfig | None = None) -> nn.Module:
    """A freshly initialised network for `cfg` (the seed CNN by default)."""
    cfg = cfg or ModelConfig()
    if cfg.arch == "seed":
        return SeedNet(cfg)
    if cfg.arch == "compact":
        return CompactNet(cfg)
    raise ValueError(f"unknown architecture {cfg.arch!r}")  # ModelConfig already checks


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
