"""Choosing the training device: `auto` picks CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch

from mnist_desk.core.cpu import native_bf16
from mnist_desk.core.errors import TrainingError


def mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if mps_available():
        devices.append("mps")
    return devices


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps_available() else "cpu")
    if name not in available_devices():
        raise TrainingError(f"the device {name!r} is not available here; use cpu or auto")
    return torch.device(name)


def describe_device(device: torch.device | str, threads: int | None = None) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple MPS"
    n = threads or torch.get_num_threads()
    return f"CPU ({n} thread{'s' * (n != 1)})"


def resolve_precision(name: str, device: torch.device, arch: str) -> torch.dtype | None:
    """The dtype the forward pass autocasts to, or None for plain float32.

    `auto` is bfloat16 for the compact CNN on a CPU that computes in it natively
    (core.cpu.native_bf16): its training steps 1.2x faster here, to the same accuracy
    (benchmarks/cpu_past_the_floor.py). The seed CNN's layers are too small to gain
    (0.97x), so it stays in float32, as the notebook trained it; GPUs stay in float32."""
    native = device.type == "cpu" and arch == "compact" and native_bf16()
    if name == "bf16" or (name == "auto" and native):
        if device.type not in ("cpu", "cuda"):
            raise TrainingError(f"bfloat16 training is not supported on {device.type}")
        return torch.bfloat16
    return None
