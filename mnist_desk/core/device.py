"""Choosing the training device: `auto` picks CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch

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
