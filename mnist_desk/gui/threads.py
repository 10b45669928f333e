"""CPU threads: the GUI thread predicts single-threaded, training gets the rest, and gives
one back while the user draws. (Runs train in a process of their own, core.training_host,
which reads the time of the last input from memory shared with it, share_input_clock;
teaching and the lab's jobs train and evaluate in threads of this process.)

Each OS thread that runs a parallel PyTorch op owns an OpenMP team. If the GUI thread ran
even one multi-threaded prediction, its idle team would count against the CPUs and
libgomp would switch every barrier of the trainer's team from spinning to sleeping in
futex calls: on two cores training ran at half speed. A one-image prediction gains
nothing from a second thread anyway (0.33 ms single-threaded against 0.8 ms).
torch.set_num_threads sets the calling thread's OpenMP count, so each side sets its own.

Training runs at normal priority. It ran at the lowest (nice 19) so that a drawing was
read at once, but then any other busy program on the machine took nearly all of its CPU:
with one other process training, the GUI's first epoch ran at 94 samples/s against 7,463
for its second. Now, for a second after each change of the drawing, training uses one
thread fewer (between two batches; note_user_input, training_threads), which leaves the
GUI thread a core of its own: mouse to probabilities p95 under 8 ms while training, and
the GUI trains as fast as the command line when nobody draws
(benchmarks/gui_responsiveness.py). Other background jobs (evaluations, maps, robustness)
still run at the lowest priority.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from typing import Any

import torch

_work_threads: int | None = None
INPUT_HOLD_S = 1.0  # how long after a change of the drawing training leaves a core free
_last_input = -math.inf  # time.monotonic() of the last change of the drawing
_shared: Any = None  # the same, in memory shared with the training process


def reserve_gui_thread() -> None:
    """Call from the GUI thread before its first prediction: it will use one thread."""
    global _work_threads
    if _work_threads is None:
        _work_threads = torch.get_num_threads()
        torch.set_num_threads(1)


def work_threads() -> int:
    """How many threads training and evaluation use."""
    return _work_threads or torch.get_num_threads()


def note_user_input() -> None:
    """The user is drawing (called from the GUI thread): for the next INPUT_HOLD_S,
    training leaves a core free."""
    global _last_input
    _last_input = time.monotonic()
    if _shared is not None:
        _shared.value = _last_input


def share_input_clock(shared: Any) -> None:
    """Also write the time of the last input into `shared.value` (a multiprocessing
    RawValue a training process reads: gui.training_worker)."""
    global _shared
    shared.value = _last_input
    _shared = shared


def seconds_since_input() -> float:
    """How long ago the drawing last changed (note_user_input); infinite if never."""
    return time.monotonic() - _last_input


def training_threads() -> int:
    """How many threads training should use now: one fewer while the user draws."""
    n = work_threads()  # as core.training_host.threads_for, in the training process
    return max(1, n - 1) if seconds_since_input() < INPUT_HOLD_S else n


def enter_worker_thread(lowest_priority: bool = True) -> None:
    """Call at the start of a background thread that trains or evaluates.

    The thread also lowers its own scheduling priority to the lowest (Linux nice values
    are per thread, and the OpenMP helpers it starts inherit it): when the user draws while
    a model trains, the GUI thread gets a core at once instead of queueing behind the busy
    training threads; when nobody draws, training still has every idle core to itself.
    Measured with benchmarks/gui_responsiveness.py while training on two cores: mouse to
    probabilities p95 8 ms at nice 19, 16.5 ms at nice 10, 19 ms at nice 5, with the same
    training throughput (the GUI thread needs 4% of a core).
    """
    torch.set_num_threads(work_threads())
    if lowest_priority:
        _lowest_priority()


def _lowest_priority() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


_warming = threading.Lock()
_warmed = False


def warm_up_training() -> None:
    """Start loading, in a background thread at the lowest priority, the part of PyTorch
    that making and stepping the first optimiser imports: torch._dynamo (the compiler's
    front end, which PyTorch's optimisers import to mark their methods as not to be
    compiled) and SymPy with it, about 900 modules and 0.8-1.2 s on this machine, so that
    a run or a teaching does not start by waiting for it. Once.

    Call it when the user is about to train or teach and is not drawing: the import
    holds the GIL in long stretches, and a drawing read meanwhile waits (mouse to
    probabilities: median 20 ms and p95 60 ms during the import, 4 and 6 ms otherwise).
    So: the Train tab shown, the Tools menu opened, a while after a digit is kept with
    the canvas left alone (gui.main_window)."""
    global _warmed
    with _warming:
        if _warmed or "torch._dynamo" in sys.modules:
            return
        _warmed = True
    threading.Thread(target=_import_compiler_front_end, name="warm-up", daemon=True).start()


def _import_compiler_front_end() -> None:
    _lowest_priority()
    with contextlib.suppress(Exception):  # a failure here shows again, and is reported, later
        import torch._dynamo  # noqa: F401
