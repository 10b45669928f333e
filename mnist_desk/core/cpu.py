"""CPU settings that make training faster on a small machine.

glibc hands memory blocks above a size threshold straight back to the operating system
when they are freed. A training step frees and reallocates the same few megabytes of
activations every few milliseconds, so every step paid page faults on fresh memory: the
zero fill of a 1.6 MB max-pool gradient took 370 us instead of 50. Raising glibc's mmap
and trim thresholds keeps those blocks in the process for reuse (3-6% more samples/s for
the seed model; benchmarks/cpu_speedups.py). Memory use stays flat, since every step
reuses the same sizes (benchmarks/gui_memory.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from pathlib import Path

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@functools.cache
def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed blocks (once per process); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return False
    # activations are a few MB; these bounds keep them, yet let a freed dataset-sized
    # block (tens of MB) go back to the system
    ok_mmap = mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
    ok_trim = mallopt(_M_TRIM_THRESHOLD, 64 * 1024 * 1024)
    return bool(ok_mmap and ok_trim)


BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX-512 BF16 or AMX), where mixed
    precision makes training faster (1.15-1.4x per step here) rather than slower
    (emulated). Known on Linux only; False elsewhere."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return any(flag in flags.split() for flag in BF16_FLAGS)
