"""Export a model to ONNX, ready to use elsewhere: the file takes 28x28 images with
pixels in [0, 1], white ink on black, and returns the ten probabilities; the
normalisation is inside. Needs the `onnx` package (pip install "mnist-desk[onnx]")."""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from mnist_desk.core.augment import normalize
from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.files import (
    TEMP_PREFIX,
    TEMP_SUFFIX,
    check_save_target,
    new_file_mode,
    plain_reason,
)

INPUT, OUTPUT = "image", "probabilities"


class _Deployable(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(normalize(x)).exp()


def export_onnx(checkpoint: Checkpoint, path: str | os.PathLike[str]) -> Path:
    """Write `checkpoint`'s model to `path` atomically; raise MnistDeskError on failure."""
    try:
        import onnx
    except ImportError:
        raise MnistDeskError(
            'exporting to ONNX needs the onnx package: pip install "mnist-desk[onnx]"'
        ) from None
    path = Path(path)
    model = _Deployable(checkpoint.build_model()).eval()
    try:
        check_save_target(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        os.close(fd)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its age
            torch.onnx.export(
                model,
                (torch.zeros(1, 1, 28, 28),),
                tmp,
                dynamo=False,
                opset_version=17,
                input_names=[INPUT],
                output_names=[OUTPUT],
                dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}},
            )
        proto = onnx.load(tmp)
        for key, value in (
            ("name", checkpoint.name),
            ("input", "1x28x28 pixels in [0, 1], white ink on black (MNIST's form)"),
            ("test_accuracy", f"{checkpoint.test_acc}"),
            ("made_by", "mnist-desk"),
        ):
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, tmp)
        os.chmod(tmp, new_file_mode(path))  # as any new file: mkstemp's is owner-only
        os.replace(tmp, path)
    except (OSError, RuntimeError, ValueError) as exc:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
        reason = plain_reason(exc) if isinstance(exc, OSError) else str(exc)
        raise MnistDeskError(f"cannot export {path}: {reason}") from None
    return path
