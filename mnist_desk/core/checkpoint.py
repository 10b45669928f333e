"""Checkpoints: one schema of plain data, an atomic save, a safe and validated load.

A checkpoint is a dict of plain values and tensors (never a pickled object), so it loads
with `weights_only=True`: a file that would run code when unpickled is refused unread.
Everything is checked before anything is returned, so a caller can swap models only
after a load has fully succeeded.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import os
import pickle
import pickletools
import platform
import stat
import warnings
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
from mnist_desk.core.files import plain_reason, unpacked_size, write_atomically
from mnist_desk.core.metrics import BatchCurve, EpochMetrics, TestMetrics
from mnist_desk.core.model import build_model, count_parameters
from mnist_desk.core.text import shown

FORMAT = "mnist-desk-checkpoint"
SCHEMA_VERSION = 1
REQUIRED_KEYS = ("format", "schema_version", "model_config", "model_state")
MAX_FILE_BYTES = 100 * 1024 * 1024  # ours are under 1 MB
MAX_EPOCHS = 100_000
MAX_NAME = 200
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_CODE_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX"}

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
    """Write atomically (core.files): whatever was at `path` before stays untouched by any
    failure. The checkpoint is serialised in memory first (under 1 MB), so that a full disk
    is an OSError said in plain words, not an error from inside torch's writer."""
    path = Path(path)
    buffer = io.BytesIO()
    torch.save(checkpoint.to_payload(), buffer)
    try:
        return write_atomically(path, buffer.getvalue())
    except OSError as exc:
        raise CheckpointError(f"cannot save {shown(str(path))}: {plain_reason(exc)}") from None


def _describe(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return shown(os.fspath(source))
    return "the checkpoint"


def _read(source: Source) -> Any:
    """torch.load with weights_only=True, from a regular file no larger than MAX_FILE_BYTES;
    every way it can fail is one CheckpointError, and no warning reaches the terminal."""
    name = _describe(source)
    if isinstance(source, (str, os.PathLike)):
        source = _read_file(source, name)
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    head = stream.read(4)
    stream.seek(0)
    if not head:
        raise CheckpointError(f"{name} is empty: not a checkpoint")
    unpacked = unpacked_size(stream) if head[:2] == b"PK" else None
    if unpacked is not None and unpacked > MAX_FILE_BYTES:  # torch.load would take it all
        raise CheckpointError(
            f"{name} would unpack to {unpacked / 2**20:,.0f} MB; checkpoints of this app are "
            f"under 1 MB, and none that unpacks to over {MAX_FILE_BYTES // 2**20} MB is opened"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pickle protocol and sparse-tensor notices
            return torch.load(stream, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        stream.seek(0)
        refused_global = "unsupported global" in str(exc).lower()
        if refused_global or _pickle_makes_objects(stream.read(MAX_FILE_BYTES)):
            raise CheckpointError(
                f"{name} was refused: it holds Python objects that would run code when "
                "loaded, so it is not a plain checkpoint (open only files you trust)"
            ) from None
        raise CheckpointError(f"{name} is not a checkpoint (not a PyTorch file)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile) as exc:
        if head[:2] == b"PK" or isinstance(exc, EOFError):
            raise CheckpointError(f"{name} is truncated or damaged") from None
        raise CheckpointError(f"{name} is not a checkpoint (not a PyTorch file)") from None
    except MemoryError:
        raise CheckpointError(f"{name} is too large to read") from None
    except Exception:  # the unpickler fails in many ways on arbitrary bytes
        raise CheckpointError(f"{name} is not a checkpoint (not a PyTorch file)") from None


def _pickle_makes_objects(data: bytes) -> bool:
    """Whether `data` is a stream of pickles that imports and calls Python objects (what
    weights_only refuses to run), read opcode by opcode without running any of it."""
    stream = io.BytesIO(data)
    try:
        while stream.tell() < len(data):
            for opcode, _, _ in pickletools.genops(stream):
                if opcode.name in _CODE_OPCODES:
                    return True
    except Exception:  # not a pickle at all: random bytes, text, a damaged file
        return False
    return False


def _read_file(path: str | os.PathLike[str], name: str) -> bytes:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise CheckpointError(f"{name} is {kind}, not a checkpoint")
        if info.st_size > MAX_FILE_BYTES:
            raise CheckpointError(
                f"{name} is {info.st_size / 2**20:,.0f} MB; checkpoints of this app are under "
                f"1 MB, and files over {MAX_FILE_BYTES // 2**20} MB are not opened"
            )
        with open(path, "rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise CheckpointError(f"{name} does not exist") from None
    except OSError as exc:
        raise CheckpointError(f"{name} could not be read: {plain_reason(exc)}") from None


def load_checkpoint(source: Source) -> Checkpoint:
    """Load on the CPU with weights_only=True, then parse every field into checked, typed
    values (configs, dense floating weights of the right shapes, metrics records). Nothing
    is returned unless all of it is valid; any failure is one CheckpointError."""
    name = _describe(source)
    obj = _read(source)
    try:
        return _parse(name, obj)
    except CheckpointError:
        raise
    except Exception as exc:  # a shape of data the checks above did not foresee
        raise CheckpointError(f"{name} is malformed ({type(exc).__name__})") from None


def _parse(name: str, obj: Any) -> Checkpoint:
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        hint = ""
        if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            hint = " (it holds bare weights with no model config)"
        raise CheckpointError(f"{name} is not an mnist-desk checkpoint{hint}")
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        raise CheckpointError(f"{name} is incomplete: it lacks {', '.join(missing)}")
    version = obj["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{name} has an invalid schema version {shown(repr(version), 40)}")
    if version > SCHEMA_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer mnist-desk (schema {version}; this version reads "
            f"up to {SCHEMA_VERSION}); please upgrade"
        )
    try:
        model_config = ModelConfig.from_dict(obj["model_config"])
        train_config = _optional(TrainConfig.from_dict, obj.get("train_config"))
    except ConfigError as exc:
        raise CheckpointError(f"{name} has an invalid configuration: {shown(str(exc))}") from None
    state = _validate_state(name, model_config, obj["model_state"])
    history = _parse_history(name, obj.get("history"))
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
        model_state=state,
        name=_text_field(name, obj, "name") or Path(name).stem,
        train_config=train_config,
        history=history,
        test_metrics=test_metrics,
        optimizer_state=_dict_field(name, obj, "optimizer_state"),
        scheduler_state=_dict_field(name, obj, "scheduler_state"),
        versions=_versions(name, obj.get("versions")),
        created=_text_field(name, obj, "created"),
        batch_curve=curve,
    )


def _optional(parse: Callable[[Any], T], value: Any) -> T | None:
    return None if value is None else parse(value)


def _text_field(name: str, obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CheckpointError(f"{name} has a {key} that is not text")
    return shown(value.strip(), MAX_NAME)


def _dict_field(name: str, obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, dict):
        raise CheckpointError(f"{name} has a malformed {key.replace('_', ' ')}")
    return value


def _versions(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise CheckpointError(f"{name} has malformed library versions")
    return {shown(k, 40): shown(v, 80) for k, v in value.items()}


def _parse_history(name: str, history: Any) -> tuple[EpochMetrics, ...]:
    if history is None:
        return ()
    if not isinstance(history, list) or len(history) > MAX_EPOCHS:
        raise CheckpointError(f"{name} has a malformed training history (not a list of epochs)")
    try:
        return tuple(EpochMetrics.from_dict(h) for h in history)
    except ConfigError as exc:
        raise CheckpointError(f"{name} has a malformed training history: {exc}") from None


def _validate_state(name: str, config: ModelConfig, state: Any) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and type(v) is torch.Tensor for k, v in state.items()
    ):
        raise CheckpointError(f"{name} has malformed weights")
    expected = build_model(config).state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
        if unexpected:
            listed = ", ".join(shown(k, 60) for k in unexpected[:3])
            parts.append(f"unexpected {listed}{' …' if len(unexpected) > 3 else ''}")
        raise CheckpointError(
            f"{name} holds weights of another architecture than its config "
            f"({config.arch}): {'; '.join(parts)}"
        )
    for key, reference in expected.items():
        _check_tensor(name, key, state[key], reference, config.arch)
    return dict(state)


def _check_tensor(
    name: str, key: str, tensor: torch.Tensor, reference: torch.Tensor, arch: str
) -> None:
    if tensor.layout != torch.strided or tensor.is_quantized:
        raise CheckpointError(f"{name} holds weights in an unusable form ({key} is not dense)")
    if reference.is_floating_point():
        if tensor.dtype not in FLOAT_DTYPES:
            raise CheckpointError(
                f"{name} holds weights of the wrong type ({key} is {_dtype(tensor)}; "
                "weights are floating-point numbers)"
            )
    elif tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise CheckpointError(f"{name} holds a counter of the wrong type ({key})")
    if tuple(tensor.shape) != tuple(reference.shape):
        raise CheckpointError(
            f"{name} holds weights of another architecture: {key} has shape "
            f"{tuple(tensor.shape)}, the {arch} model expects {tuple(reference.shape)}"
        )
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        raise CheckpointError(f"{name} holds non-finite weights ({key})")


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def describe_accuracy(value: float | None) -> str:
    return "untested" if value is None or math.isnan(value) else f"{value:.2f}%"
