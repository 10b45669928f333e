"""What training and evaluation report, as immutable records of plain numbers.

The trainer yields `BatchMetrics` and `EpochMetrics`; a checkpoint keeps the epochs, the
test result (`TestMetrics`) and a downsampled per-batch curve (`BatchCurve`). Records read
back from a file go through `from_dict`, which checks every field's type, so a damaged
history is refused when a checkpoint is read, not when a plot draws it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from mnist_desk.core.errors import ConfigError

R = TypeVar("R")


def _number(owner: str, key: str, value: Any, *, whole: bool = False) -> float | int:
    ok = isinstance(value, int) if whole else isinstance(value, (int, float))
    if not ok or isinstance(value, bool):
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{owner}.{key} must be {kind}, got {type(value).__name__}")
    return int(value) if whole else float(value)


def _record(cls: type[R], data: Any, optional: tuple[str, ...] = ()) -> R:
    """A record of numbers from a dict: required fields present, every value a number,
    unknown keys ignored (a newer version may add some)."""
    name = cls.__name__
    if not isinstance(data, dict):
        raise ConfigError(f"{name} must be a dict, got {type(data).__name__}")
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            if f.name in optional:
                continue
            raise ConfigError(f"{name} lacks {f.name}")
        value = data[f.name]
        if value is None and f.name in optional:
            values[f.name] = None
            continue
        values[f.name] = _number(name, f.name, value, whole=f.type in ("int", int))
    return cls(**values)


@dataclass(frozen=True)
class BatchMetrics:
    """After one optimiser step. acc is the epoch's running accuracy so far, in percent."""

    epoch: int  # 1-based
    batch: int  # 1-based
    batches: int  # per epoch
    loss: float
    acc: float
    lr: float
    samples_per_s: float
    batch_acc: float = math.nan  # this batch alone, in percent

    @property
    def progress(self) -> float:
        """Position in epochs: 0.5 is halfway through the first epoch."""
        return self.epoch - 1 + self.batch / self.batches


@dataclass(frozen=True)
class EpochMetrics:
    """After one epoch: training figures and the evaluation on the 10,000 test images.

    seconds counts training only (not the evaluation, not time spent paused).
    """

    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    seconds: float
    samples_per_s: float
    lr: float
    val_loss: float | None = None
    val_acc: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> EpochMetrics:
        """Checked: raises ConfigError naming the first field that is missing or wrong."""
        record = _record(cls, data, optional=("val_loss", "val_acc"))
        if record.epoch < 1 or record.epochs < 1:
            raise ConfigError("EpochMetrics.epoch and epochs must be 1 or more")
        return record


@dataclass(frozen=True)
class TestMetrics:
    """A model on the test set: loss, accuracy in percent, how many images, per digit."""

    __test__ = False  # not a pytest test class, whatever its name

    test_loss: float
    test_acc: float
    n: int
    per_class_acc: tuple[float, ...] = ()  # NaN for a digit with no test images

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_loss": self.test_loss,
            "test_acc": self.test_acc,
            "n": self.n,
            "per_class_acc": [None if math.isnan(a) else a for a in self.per_class_acc],
        }

    @classmethod
    def from_dict(cls, data: Any) -> TestMetrics:
        if not isinstance(data, dict):
            raise ConfigError(f"TestMetrics must be a dict, got {type(data).__name__}")
        head = {k: data.get(k) for k in ("test_loss", "test_acc")}
        loss, acc = (_number("TestMetrics", k, v) for k, v in head.items())
        n = _number("TestMetrics", "n", data.get("n", 0), whole=True)
        per_class = data.get("per_class_acc") or []
        if not isinstance(per_class, (list, tuple)) or len(per_class) not in (0, 10):
            raise ConfigError("TestMetrics.per_class_acc must be ten numbers")
        values = tuple(
            math.nan if a is None else float(_number("TestMetrics", "per_class_acc", a))
            for a in per_class
        )
        return cls(float(loss), float(acc), int(n), values)


@dataclass(frozen=True)
class BatchCurve:
    """A run's per-batch training curve, averaged down: x in epochs, loss, accuracy (%)."""

    x: tuple[float, ...] = ()
    loss: tuple[float, ...] = ()
    acc: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.x)

    def to_dict(self) -> dict[str, list[float]]:
        return {"x": list(self.x), "loss": list(self.loss), "acc": list(self.acc)}

    @classmethod
    def from_dict(cls, data: Any) -> BatchCurve:
        if not isinstance(data, dict) or set(data) != {"x", "loss", "acc"}:
            raise ConfigError("a training curve must have exactly x, loss and acc")
        columns = []
        for key in ("x", "loss", "acc"):
            column = data[key]
            if not isinstance(column, (list, tuple)):
                raise ConfigError(f"the training curve's {key} must be a list")
            columns.append(tuple(float(_number("BatchCurve", key, v)) for v in column))
        if len({len(c) for c in columns}) != 1:
            raise ConfigError("the training curve's columns differ in length")
        return cls(*columns)
