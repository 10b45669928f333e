"""Frozen configuration dataclasses, stored in checkpoints as plain dicts.

A checkpoint holds `ModelConfig.to_dict()` and the model is rebuilt from it, so
every architectural choice lives here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mnist_desk.core.errors import ConfigError

T = TypeVar("T", bound="_Config")

ARCHS = ("seed", "compact")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULERS = ("step", "onecycle", "cosine", "none")
DEVICES = ("auto", "cpu", "cuda", "mps")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    _check(
        isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high,
        f"{name} must be between {low:g} and {high:g}, got {value!r}",
    )


class _Config:
    """to_dict / from_dict shared by the config dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: Any) -> T:
        if isinstance(data, cls):
            return data
        _check(isinstance(data, dict), f"{cls.__name__} must be a dict, got {type(data).__name__}")
        names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(names))
        _check(not unknown, f"{cls.__name__} has no setting(s) {', '.join(map(str, unknown))}")
        hints = typing.get_type_hints(cls)
        kwargs = {key: _coerce(cls.__name__, key, hints[key], value) for key, value in data.items()}
        return cls(**kwargs)

    def replace(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def _coerce(owner: str, key: str, hint: Any, value: Any) -> Any:
    """Check a plain value against a field's type; nested configs come back as dataclasses."""
    if isinstance(hint, type) and issubclass(hint, _Config):
        return hint.from_dict(value)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(hint, True)
    _check(ok, f"{owner}.{key} must be {getattr(hint, '__name__', hint)}, got {value!r}")
    return float(value) if hint is float else value


@dataclass(frozen=True)
class ModelConfig(_Config):
    """Which network to build: `seed` is the notebook's CNN (24,210 parameters), `compact`
    the project's own (BatchNorm, a global-average-pooling head, fewer parameters)."""

    arch: str = "seed"
    batchnorm: bool = False
    dropout: float = 0.0

    def __post_init__(self) -> None:
        _check(self.arch in ARCHS, f"unknown architecture {self.arch!r}; choose from {ARCHS}")
        _check_range("dropout", self.dropout, 0.0, 0.9)


@dataclass(frozen=True)
class AugmentConfig(_Config):
    """Per-sample training augmentation; the defaults are the notebook's transforms.

    rotation: degrees, uniform in [-rotation, +rotation].
    crop_p, crop_size: with probability crop_p, a centre crop to crop_size then a resize
        back to 28 (a zoom of 28/crop_size).
    translate: fraction of the image size, uniform in [-translate, +translate] per axis.
    scale: zoom uniform in [1 - scale, 1 + scale].
    shear: degrees, uniform in [-shear, +shear].
    stroke: stroke-width change, uniform in [-stroke, +stroke]; +1 is a full 3x3 dilation,
        about a pixel thicker; -1 half an erosion.
    elastic: elastic distortion, the standard deviation of a smooth random displacement
        field in pixels.
    """

    rotation: float = 15.0
    crop_p: float = 0.1
    crop_size: int = 22
    translate: float = 0.0
    scale: float = 0.0
    shear: float = 0.0
    stroke: float = 0.0
    elastic: float = 0.0

    def __post_init__(self) -> None:
        _check_range("rotation", self.rotation, 0.0, 180.0)
        _check_range("crop_p", self.crop_p, 0.0, 1.0)
        _check_range("crop_size", self.crop_size, 8, 28)
        _check_range("translate", self.translate, 0.0, 0.5)
        _check_range("scale", self.scale, 0.0, 0.5)
        _check_range("shear", self.shear, 0.0, 45.0)
        _check_range("stroke", self.stroke, 0.0, 1.0)
        _check_range("elastic", self.elastic, 0.0, 5.0)

    @property
    def is_identity(self) -> bool:
        no_crop = self.crop_p == 0.0 or self.crop_size == 28
        return no_crop and not (self.rotation or self.translate or self.scale or self.shear)

    @property
    def is_none(self) -> bool:
        """Nothing at all to do: no affine, no stroke change, no elastic distortion."""
        return self.is_identity and not self.stroke and not self.elastic


@dataclass(frozen=True)
class TrainConfig(_Config):
    """How to train. The defaults are the notebook's recipe: Adam 0.002, StepLR(15, 0.1),
    batch 64, 5 epochs, shuffled, with the notebook's augmentation."""

    epochs: int = 5
    batch_size: int = 64
    lr: float = 0.002
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    scheduler: str = "step"
    step_size: int = 15
    gamma: float = 0.1
    label_smoothing: float = 0.0
    ema: float = 0.0  # decay of a running average of the weights (0: none; e.g. 0.999)
    seed: int | None = 0
    device: str = "auto"
    val_size: int = 0
    cuda_graphs: bool = True  # on CUDA, replay each step from a captured graph
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        _check_range("epochs", self.epochs, 1, 1000)
        _check_range("batch_size", self.batch_size, 1, 65536)
        _check(
            isinstance(self.lr, (int, float)) and 0.0 < self.lr <= 10.0,
            f"lr must be in (0, 10], got {self.lr!r}",
        )
        _check(self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}")
        _check_range("momentum", self.momentum, 0.0, 0.999)
        _check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        _check(self.scheduler in SCHEDULERS, f"unknown scheduler {self.scheduler!r}")
        _check_range("step_size", self.step_size, 1, 1000)
        _check_range("gamma", self.gamma, 0.0, 1.0)
        _check_range("label_smoothing", self.label_smoothing, 0.0, 0.5)
        _check(
            self.ema == 0.0 or 0.5 <= self.ema < 1.0,
            f"ema must be 0 or in [0.5, 1), got {self.ema!r}",
        )
        _check(self.seed is None or self.seed >= 0, "seed must be a whole number >= 0")
        _check(self.device in DEVICES, f"unknown device {self.device!r}; choose from {DEVICES}")
        _check_range("val_size", self.val_size, 0, 50000)
        if isinstance(self.augment, dict):  # convenience for TrainConfig(augment={...})
            object.__setattr__(self, "augment", AugmentConfig.from_dict(self.augment))
