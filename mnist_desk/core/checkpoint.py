"""Checkpoints: one schema of plain data, an atomic save, a safe and validated load.

A checkpoint is a dict of plain values and tensors (never a pickled object), so it loads
with `weights_only=True`: a file that would run code when unpickled is refused unread.
Everything is checked before anything is returned, so a caller can swap models only
after a load has fully succeeded.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import math
import os
import pickle
import platform
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
import torch
from torch import nn

from mnist_desk import __version__
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.errors import CheckpointError, ConfigError
from mnist_desk.core.metrics import BatchCurve, EpochMetrics, TestMetrics
from mnist_desk.core.model import build_model, count_parameters

FORMAT = "mnist-desk-checkpoint"
SCHEMA_VERSION = 1
REQUIRED_KEYS = ("format", "schema_version", "model_config", "model_state")

Source = str | os.PathLike[str] | bytes | IO[bytes]
T = TypeVar("T")


@dataclass(frozen=True)
class Checkpoint:
    """A loaded and validated checkpoint: the model, how it was trained, its history per
    epoch, its test result and its per-batch curve (averaged down)."""

    model_config: ModelConfig
    model_state: dict[str, torch.Tensor] = field(repr=False)
    name: str = "model"
    train_config: TrainConfig | None = None
    history: tuple[EpochMetrics, ...] = ()
    test_metrics: TestMetrics | None = None
    optimizer_state: dict[str, Any] | None = field(default=None, repr=False)
    scheduler_state: dict[str, Any] | None = field(default=None, repr=False)
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    batch_curve: BatchCurve | None = None

    @property
    def test_acc(self) -> float | None:
        return self.test_metrics.test_acc if self.test_metrics is not None else None

    def build_model(self) -> nn.Module:
        """The network with these weights, in eval mode, on the CPU."""
        model = build_model(self.model_config)
        model.load_state_dict(self.model_state)
        return model.eval()

    def parameter_count(self) -> int:
        return count_parameters(build_model(self.model_config))

    def to_payload(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "model_config": self.model_config.to_dict(),
            "model_state": {k: v.detach().cpu().contiguous() for k, v in self.model_state.items()},
            "optimizer_state": self.optimizer_state,
            "scheduler_state": _plain_scheduler_state(self.scheduler_state),
            "train_config": self.train_config.to_dict() if self.train_config else None,
            "history": [m.to_dict() for m in self.history],
            "test_metrics": self.test_metrics.to_dict() if self.test_metrics else None,
            "versions": self.versions or library_versions(),
            "created": self.created or _dt.datetime.now(_dt.timezone.utc).isoformat(),
            "batch_curve": self.batch_curve.to_dict() if self.batch_curve else None,
        }


def library_versions() -> dict[str, str]:
    import torchvision

    versions = {
        "mnist_desk": __version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    return {k: str(v) for k, v in versions.items()}  # torch's version is a str subclass


def _plain_scheduler_state(state: dict[str, Any] | None) -> dict[str, Any] | None:
    # Some schedulers keep bound methods in their state; those would not load weights-only.
    if state is None:
        return None
    return {k: v for k, v in state.items() if not callable(v)}


def save_checkpoint(checkpoint: Checkpoint, path: str | os.PathLike[str]) -> Path:
    """Write atomically: a temporary file in the same folder, flushed, then os.replace'd,
    so a failure at any point leaves whatever was at `path` before untouched."""
    path = Path(path)
    payload = checkpoint.to_payload()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise CheckpointError(f"cannot save {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, _file_mode(path))
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise CheckpointError(f"cannot save {path}: {exc}") from None
    return path


def _file_mode(path: Path) -> int:
    """The mode a plain new file would get (mkstemp's is owner-only), or the old file's."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _describe(source: Source) -> str:
    return str(source) if isinstance(source, (str, os.PathLike)) else "the checkpoint"


def _read(source: Source) -> Any:
    name = _describe(source)
    if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise CheckpointError(f"{name} does not exist or is not a file")
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        return torch.load(stream, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower() or "weights_only" in str(exc).lower():
            raise CheckpointError(
                f"{name} was refused: it holds Python objects that would run code when "
                "loaded, so it is not a plain checkpoint (open only files you trust)"
            ) from None
        raise CheckpointError(f"{name} is not a checkpoint (not a PyTorch file)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as exc:
        if isinstance(exc, EOFError) or "zip" in str(exc).lower() or "corrupt" in str(exc).lower():
            raise CheckpointError(f"{name} is truncated or not a PyTorch file") from None
        raise CheckpointError(f"{name} could not be read: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise CheckpointError(f"{name} could not be read: {exc.strerror or exc}") from None
    except Exception:  # the unpickler fails in many ways on arbitrary bytes
        raise CheckpointError(f"{name} is not a checkpoint (not a PyTorch file)") from None


def load_checkpoint(source: Source) -> Checkpoint:
    """Load on the CPU with weights_only=True, then validate schema, config, keys, shapes."""
    name = _describe(source)
    obj = _read(source)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        hint = ""
        if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            hint = " (it holds bare weights with no model config)"
        raise CheckpointError(f"{name} is not an mnist-desk checkpoint{hint}")
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        raise CheckpointError(f"{name} is incomplete: it lacks {', '.join(missing)}")
    version = obj["schema_version"]
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{name} has an invalid schema version {version!r}")
    if version > SCHEMA_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer mnist-desk (schema {version}; this version reads "
            f"up to {SCHEMA_VERSION}); please upgrade"
        )
    try:
        model_config = ModelConfig.from_dict(obj["model_config"])
        train_config = (
            TrainConfig.from_dict(obj["train_config"]) if obj.get("train_config") else None
        )
    except ConfigError as exc:
        raise CheckpointError(f"{name} has an invalid configuration: {exc}") from None
    state = obj["model_state"]
    _validate_state(name, model_config, state)
    history = _parse_history(name, obj.get("history") or [])
    try:
        test_metrics = _optional(TestMetrics.from_dict, obj.get("test_metrics"))
    except ConfigError as exc:
        raise CheckpointError(f"{name} has malformed test metrics: {exc}") from None
    try:
        curve = _optional(BatchCurve.from_dict, obj.get("batch_curve"))
    except ConfigError as exc:
        raise CheckpointError(f"{name} has a malformed training curve: {exc}") from None
    return Checkpoint(
        model_config=model_config,
        model_state=dict(state),
        name=str(obj.get("name") or Path(name).stem),
        train_config=train_config,
        history=history,
        test_metrics=test_metrics,
        optimizer_state=obj.get("optimizer_state"),
        scheduler_state=obj.get("scheduler_state"),
        versions=dict(obj.get("versions") or {}),
        created=str(obj.get("created") or ""),
        batch_curve=curve,
    )


def _optional(parse: Callable[[Any], T], value: Any) -> T | None:
    return None if value is None else parse(value)


def _parse_history(name: str, history: Any) -> tuple[EpochMetrics, ...]:
    if not isinstance(history, list):
        raise CheckpointError(f"{name} has a malformed training history (not a list)")
    try:
        return tuple(EpochMetrics.from_dict(h) for h in history)
    except ConfigError as exc:
        raise CheckpointError(f"{name} has a malformed training history: {exc}") from None


def _validate_state(name: str, config: ModelConfig, state: Any) -> None:
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{name} has malformed weights")
    expected = build_model(config).state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(
                f"unexpected {', '.join(unexpected[:3])}{' …' if len(unexpected) > 3 else ''}"
            )
        raise CheckpointError(
            f"{name} holds weights of another architecture than its config "
            f"({config.arch}): {'; '.join(parts)}"
        )
    for key, tensor in expected.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{name} holds weights of another architecture: {key} has shape "
                f"{tuple(state[key].shape)}, the {config.arch} model expects {tuple(tensor.shape)}"
            )
        if state[key].is_floating_point() and not bool(torch.isfinite(state[key]).all()):
            raise CheckpointError(f"{name} holds non-finite weights ({key})")


def describe_accuracy(value: float | None) -> str:
    return "untested" if value is None or math.isnan(value) else f"{value:.2f}%"
