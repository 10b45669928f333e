"""Frozen configuration dataclasses, stored in checkpoints as plain dicts.

Every setting is declared once, here, with everything an interface needs to offer it
(label, range, step, decimals, unit, help, choices, its group in the Train form); the
range is also what validates it. The Train form, the command line's flags and their help
are derived from these declarations (`settings()`), so a new setting is one line and the
three cannot disagree, the way nanoGPT's configurator derives every override from the
declared defaults. A checkpoint holds `ModelConfig.to_dict()` and the model is rebuilt
from it, so every architectural choice lives here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mnist_desk.core.errors import ConfigError

T = TypeVar("T", bound="_Config")

ARCH_CHOICES = {"seed": "Seed CNN (notebook)", "compact": "Compact CNN"}
OPTIMIZER_CHOICES = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD (momentum)",
    "rmsprop": "RMSprop",
}
SCHEDULER_CHOICES = {
    "step": "StepLR",
    "onecycle": "OneCycle",
    "cosine": "Cosine",
    "none": "Constant",
}
DEVICE_CHOICES = {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA (GPU)", "mps": "Apple MPS"}
PRECISION_CHOICES = {
    "auto": "Automatic",
    "fp32": "Float32",
    "bf16": "BFloat16 (mixed)",
}
ARCHS = tuple(ARCH_CHOICES)
OPTIMIZERS = tuple(OPTIMIZER_CHOICES)
SCHEDULERS = tuple(SCHEDULER_CHOICES)
DEVICES = tuple(DEVICE_CHOICES)
MAX_SEED = 2**31 - 1  # what a spin box can hold; torch takes any seed up to 2**64


@dataclass(frozen=True)
class Setting:
    """What an interface needs to offer one setting. `low`/`high` also validate it.

    group: the Train form's group it appears in; "" keeps it out of the form (the command
        line and checkpoints still have it).
    off_below: values below this are not allowed except 0, which means "off".
    open_low: `low` itself is not allowed (a learning rate of 0).
    """

    label: str
    help: str
    low: float | None = None
    high: float | None = None
    step: float = 1.0
    decimals: int = 0
    unit: str = ""  # "°", "px", "epochs"
    symmetric: bool = False  # the value is a ± range: "± 15°"
    choices: dict[str, str] | None = None  # value -> label, in the order offered
    group: str = ""
    open_low: bool = False
    off_below: float | None = None
    metavar: str | None = None
    needs: tuple[str, str] | None = None  # (setting, value): only then does this one matter

    def range_text(self) -> str:
        """The allowed values in words: "0–180°", "more than 0, at most 10", "0 (off) or …"."""
        if self.choices is not None:
            return ", ".join(self.choices)
        if self.low is None or self.high is None:
            return ""
        unit = self.unit if self.unit in ("", "°") else f" {self.unit}"
        low, high = _number_text(self.low), _number_text(self.high) + unit
        if self.off_below is not None:
            return f"0 (off) or {_number_text(self.off_below)}–{high}"
        if self.open_low:
            return f"more than {low}, at most {high}"
        return f"{low}–{high}"

    def check(self, name: str, value: Any) -> None:
        if self.choices is not None:
            known = isinstance(value, str) and value in self.choices
            _check(known, f"unknown {name} {value!r}; choose from {', '.join(self.choices)}")
            return
        if self.low is None or self.high is None or isinstance(value, bool):
            return
        ok = isinstance(value, (int, float)) and math.isfinite(value) and value <= self.high
        if ok and self.off_below is not None:
            ok = value == 0 or value >= self.off_below
        elif ok:
            ok = value > self.low if self.open_low else value >= self.low
        _check(ok, f"{name} must be {self.range_text()}, got {value!r}")


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def setting(default: Any, **spec: Any) -> Any:
    """A dataclass field declared with its Setting."""
    if isinstance(default, _Config):
        return field(default_factory=type(default), metadata={"setting": Setting(**spec)})
    return field(default=default, metadata={"setting": Setting(**spec)})


@dataclass(frozen=True)
class SettingField:
    """One declared setting: where it lives, its type and default, and its Setting."""

    owner: type[_Config]
    name: str
    kind: type  # bool, int, float or str
    optional: bool  # None is allowed (a random seed)
    default: Any
    spec: Setting

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


class _Config:
    """to_dict / from_dict and validation from the declarations, shared by the configs."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            spec = f.metadata.get("setting")
            value = getattr(self, f.name)
            if spec is not None and value is not None:
                spec.check(f.name, value)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: Any) -> T:
        if isinstance(data, cls):
            return data
        _check(isinstance(data, dict), f"{cls.__name__} must be a dict, got {type(data).__name__}")
        names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(names), key=str)
        _check(not unknown, f"{cls.__name__} has no setting(s) {', '.join(map(str, unknown))}")
        hints = _type_hints(cls)  # type: ignore[arg-type]
        kwargs = {key: _coerce(cls.__name__, key, hints[key], value) for key, value in data.items()}
        return cls(**kwargs)

    def replace(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """The fields' types, resolved once per class (typing.get_type_hints evaluates every
    annotation's string each time: most of the time of reading a run's record)."""
    return typing.get_type_hints(cls)


def _plain_type(hint: Any) -> tuple[Any, bool]:
    """The type inside `X | None`, and whether None is allowed."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        return next(a for a in args if a is not type(None)), type(None) in args
    return hint, False


def _coerce(owner: str, key: str, hint: Any, value: Any) -> Any:
    """Check a plain value against a field's type; nested configs come back as dataclasses."""
    if isinstance(hint, type) and issubclass(hint, _Config):
        return hint.from_dict(value)
    hint, optional = _plain_type(hint)
    if value is None and optional:
        return None
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

    # fmt: off
    arch: str = setting(
        "seed",
        label="Network",
        help="Seed: the notebook's CNN with a 1,568-to-10 linear head. "
        "Compact: BatchNorm and a global-average-pooling head",
        choices=ARCH_CHOICES,
        group="Model",
    )
    batchnorm: bool = setting(
        False,
        label="BatchNorm after each 3×3 convolution",
        help="normalise each 3×3 convolution's output over the batch",
        group="Model",
    )
    dropout: float = setting(
        0.0,
        label="Dropout",
        help="dropout probability before the classifier (0 = off)",
        low=0.0, high=0.9, step=0.05, decimals=2, metavar="P", group="Model",
    )
    pointwise: bool = setting(
        True,
        label="1×1 convolutions between the 3×3 ones",
        help="the seed CNN's three 1×1 convolutions (16→8, 16→16, 32→32); without "
        "them the 3×3 layers keep their widths",
        group="Model", needs=("arch", "seed"),
    )
    width: int = setting(
        1,
        label="Width",
        help="channels of every convolution times this: more capacity, slower steps",
        low=1, high=4, step=1, unit="×", metavar="N", group="Model",
    )
    # fmt: on


@dataclass(frozen=True)
class AugmentConfig(_Config):
    """Per-sample training augmentation; the defaults are the notebook's transforms.

    stroke: +1 is a full 3x3 dilation, about a pixel thicker; -1 half an erosion.
    elastic: the standard deviation of a smooth random displacement field in pixels.
    """

    # fmt: off
    rotation: float = setting(
        15.0,
        label="Rotation",
        help="largest rotation, uniform in ± this many degrees",
        low=0.0, high=180.0, step=1.0, decimals=1, unit="°", symmetric=True, metavar="DEG",
        group="Augmentation",
    )
    crop_p: float = setting(
        0.1,
        label="Centre crop p",
        help="probability of a centre crop to the crop size, resized back to 28 (a zoom)",
        low=0.0, high=1.0, step=0.05, decimals=2, metavar="P", group="Augmentation",
    )
    crop_size: int = setting(
        22,
        label="Crop size",
        help="side of the centre crop in pixels (28: no zoom)",
        low=8, high=28, unit="px", metavar="PX",
    )
    translate: float = setting(
        0.0,
        label="Shift",
        help="largest shift, as a fraction of the image width, per axis",
        low=0.0, high=0.5, step=0.02, decimals=2, symmetric=True, metavar="FRAC",
        group="Augmentation",
    )
    scale: float = setting(
        0.0,
        label="Scale",
        help="largest change of size, as a fraction",
        low=0.0, high=0.5, step=0.02, decimals=2, symmetric=True, metavar="FRAC",
        group="Augmentation",
    )
    shear: float = setting(
        0.0,
        label="Shear",
        help="largest shear, uniform in ± this many degrees",
        low=0.0, high=45.0, step=1.0, decimals=1, unit="°", symmetric=True, metavar="DEG",
        group="Augmentation",
    )
    stroke: float = setting(
        0.0,
        label="Stroke width",
        help="random thickening and thinning of the strokes (1: about a pixel)",
        low=0.0, high=1.0, step=0.1, decimals=2, metavar="F", group="Augmentation",
    )
    elastic: float = setting(
        0.0,
        label="Elastic",
        help="elastic distortion: a smooth random warp, its size in pixels",
        low=0.0, high=5.0, step=0.25, decimals=2, unit="px", metavar="PX",
        group="Augmentation",
    )
    # fmt: on

    @property
    def is_identity(self) -> bool:
        no_crop = self.crop_p == 0.0 or self.crop_size == 28
        return no_crop and not (self.rotation or self.translate or self.scale or self.shear)

    @property
    def is_none(self) -> bool:
        """Nothing at all to do: no affine, no stroke change, no elastic distortion."""
        return self.is_identity and not self.stroke and not self.elastic


OPTIMISATION = "Optimisation"
FORM_GROUPS = ("Model", OPTIMISATION, "Augmentation", "Run")  # the Train form's, in order


@dataclass(frozen=True)
class TrainConfig(_Config):
    """How to train. The defaults are the notebook's recipe: Adam 0.002, StepLR(15, 0.1),
    batch 64, 5 epochs, shuffled, with the notebook's augmentation."""

    # fmt: off
    epochs: int = setting(
        5, label="Epochs", help="passes over the training images",
        low=1, high=1000, metavar="N", group=OPTIMISATION,
    )
    batch_size: int = setting(
        64, label="Batch size", help="images per optimiser step",
        low=1, high=65536, metavar="N", group=OPTIMISATION,
    )
    lr: float = setting(
        0.002, label="Learning rate", help="the optimiser's step size (OneCycle: its peak)",
        low=0.0, high=10.0, open_low=True, step=0.0005, decimals=5, metavar="F",
        group=OPTIMISATION,
    )
    optimizer: str = setting(
        "adam", label="Optimiser", help="how the weights follow the gradient",
        choices=OPTIMIZER_CHOICES, group=OPTIMISATION,
    )
    momentum: float = setting(
        0.9, label="Momentum", help="SGD's momentum (the other optimisers ignore it)",
        low=0.0, high=0.999, step=0.05, decimals=3, metavar="F", group=OPTIMISATION,
        needs=("optimizer", "sgd"),
    )
    weight_decay: float = setting(
        0.0, label="Weight decay", help="how strongly weights are pulled towards 0",
        low=0.0, high=1.0, step=0.0005, decimals=4, metavar="F", group=OPTIMISATION,
    )
    scheduler: str = setting(
        "step", label="Schedule", help="how the learning rate changes during the run",
        choices=SCHEDULER_CHOICES, group=OPTIMISATION,
    )
    step_size: int = setting(
        15, label="Step size", help="StepLR: epochs between two cuts of the learning rate",
        low=1, high=1000, unit="epochs", metavar="N", group=OPTIMISATION,
        needs=("scheduler", "step"),
    )
    gamma: float = setting(
        0.1, label="Gamma", help="StepLR: the factor of each cut of the learning rate",
        low=0.0, high=1.0, step=0.05, decimals=3, metavar="F", group=OPTIMISATION,
        needs=("scheduler", "step"),
    )
    label_smoothing: float = setting(
        0.0, label="Label smoothing",
        help="share of each target spread over the other digits (0 = off)",
        low=0.0, high=0.5, step=0.05, decimals=2, metavar="F", group=OPTIMISATION,
    )
    ema: float = setting(
        0.0, label="Weight average",
        help="decay of a running average of the weights, which is what gets evaluated and "
        "saved (e.g. 0.999); off keeps the last weights",
        low=0.0, high=0.9999, off_below=0.5, step=0.001, decimals=4, metavar="DECAY",
        group=OPTIMISATION,
    )
    device: str = setting(
        "auto", label="Device", help="where to train; auto picks CUDA, then MPS, then the CPU",
        choices=DEVICE_CHOICES, group="Run",
    )
    precision: str = setting(
        "auto", label="Precision",
        help="bf16: the forward pass in bfloat16 (autocast); the weights, the optimiser and "
        "the loss stay float32. Auto: bf16 for the compact CNN on CPUs with bfloat16 "
        "instructions (AVX-512 BF16, AMX), float32 elsewhere",
        choices=PRECISION_CHOICES, group="Run",
    )
    seed: int | None = setting(
        0, label="Seed", help="the same seed repeats a run exactly on the CPU",
        low=0, high=MAX_SEED, metavar="N", group="Run",
    )
    val_size: int = setting(
        0, label="Validation images", help="hold out this many training images to validate on",
        low=0, high=50000, metavar="N",
    )
    cuda_graphs: bool = setting(
        True, label="CUDA graphs", help="on CUDA, replay each step from a captured graph",
    )
    # fmt: on
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if isinstance(self.augment, dict):  # convenience for TrainConfig(augment={...})
            object.__setattr__(self, "augment", AugmentConfig.from_dict(self.augment))
        super().__post_init__()


def settings(config: type[_Config] | None = None) -> Iterator[SettingField]:
    """Every declared setting, in the order declared: the model's, the training's, the
    augmentation's (or those of one config class)."""
    classes = (ModelConfig, TrainConfig, AugmentConfig) if config is None else (config,)
    for cls in classes:
        hints = typing.get_type_hints(cls)
        defaults = cls()
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            spec = f.metadata.get("setting")
            if spec is not None:
                kind, optional = _plain_type(hints[f.name])
                yield SettingField(cls, f.name, kind, optional, getattr(defaults, f.name), spec)


def find_setting(name: str) -> SettingField:
    for s in settings():
        if s.name == name:
            return s
    raise KeyError(name)


def with_settings(
    model: ModelConfig, train: TrainConfig, values: dict[str, Any]
) -> tuple[ModelConfig, TrainConfig]:
    """`model` and `train` with the named settings changed (any of the three configs)."""
    by_owner: dict[type[_Config], dict[str, Any]] = {}
    for s in settings():
        if s.name in values:
            by_owner.setdefault(s.owner, {})[s.name] = values[s.name]
    augment = train.augment.replace(**by_owner.get(AugmentConfig, {}))
    return (
        model.replace(**by_owner.get(ModelConfig, {})),
        train.replace(augment=augment, **by_owner.get(TrainConfig, {})),
    )


def setting_values(model: ModelConfig, train: TrainConfig) -> dict[str, Any]:
    """Every declared setting's value, by name."""
    configs = {ModelConfig: model, TrainConfig: train, AugmentConfig: train.augment}
    return {s.name: getattr(configs[s.owner], s.name) for s in settings()}
