"""Where training runs: a child process of its own (`ProcessHost`, what the app uses),
or a thread of this process (`ThreadHost`), both spoken to through the same pipe.

Why a process: Python runs one thread at a time (the GIL), and training needs it between
the operations of every batch, as freeing each batch's saved tensors does. While the
Train tab drew its live curves in the GUI thread, the training thread waited for the GIL
in 38% of py-spy's samples, and the app trained at 0.84-0.89 of the command line's speed.
In a process of its own, training has its own GIL; the app's painting only takes CPU
(benchmarks/gui_responsiveness.py).

The pipe carries, towards the host: ("train", core.training_job.JobSpec), ("more",) for
one more epoch of the run that finished last, ("quit",), and the controls of
core.training_job.controls. Back: the messages of core.training_job, each as
(kind, *payload). The host keeps a finished run (its trainer and data) until the next
"train" or "quit", so that it can train one more epoch.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol


class InputClock(Protocol):
    """When the user last changed the drawing (time.monotonic(), shared between
    processes: a multiprocessing RawValue of a double)."""

    value: float


def threads_for(work_threads: int, last_input: float, hold_s: float) -> int:
    """Torch threads for training now: one fewer while the user draws (for `hold_s` after
    the last change of the drawing), so that the GUI's prediction has a core."""
    drawing = time.monotonic() - last_input < hold_s
    return max(1, work_threads - 1) if drawing else work_threads


def serve(
    conn: Connection,
    load: Any,
    threads_wanted: Callable[[], int],
    on_start: Callable[[], None] | None = None,
) -> None:
    """Run jobs sent through `conn` until "quit" or the other end closes. `on_start` runs
    first, in this thread (to set its torch threads and priority)."""
    from mnist_desk.core.training_job import TrainingJob, controls

    if on_start is not None:
        on_start()

    send_lock = threading.Lock()

    def emit(kind: str, *payload: Any) -> None:
        with send_lock, contextlib.suppress(OSError, ValueError):
            conn.send((kind, *payload))

    jobs: queue.Queue[tuple[Any, ...]] = queue.Queue()
    current: list[TrainingJob] = []  # the job the controls go to
    finished: list[TrainingJob] = []  # the finished run that can train one more epoch

    def read() -> None:
        """Job commands go to the queue; controls to the current job at once."""
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the app has gone (killed, or it crashed)
                jobs.put(("quit",))
                if current:  # nobody will see the run go on: it stops, kept as stopped
                    current[0].stop()
                return
            kind = message[0]
            if kind == "train" or kind == "more":
                resume = finished[-1] if kind == "more" and finished else None
                if kind == "more" and resume is None:
                    jobs.put(("none",))
                    continue
                job = TrainingJob(
                    message[1] if kind == "train" else resume.spec,  # type: ignore[union-attr]
                    emit,
                    load,
                    threads_wanted,
                    resume=resume,
                )
                current[:] = [job]
                jobs.put(("run", job))
            elif kind == "quit":
                jobs.put(("quit",))
                if current:
                    current[0].stop()
                return
            elif current:
                controls(current[0], message)

    threading.Thread(target=read, name="training-commands", daemon=True).start()
    while True:
        command = jobs.get()
        if command[0] == "quit":
            break
        if command[0] == "none":
            emit("failed", "There is no finished run to train further.", False)
            continue
        job = command[1]
        finished.clear()  # a run that goes on, or a new one: the old one can go
        job.run()
        if job.resumable() is not None:
            finished.append(job)
    with contextlib.suppress(OSError):
        conn.close()


def _process_main(conn: Connection, clock: InputClock, work_threads: int, hold_s: float) -> None:
    """The child process: one torch team of `work_threads`; the compiler front end that
    the first optimiser imports is loaded while it waits for its first job."""
    import torch

    from mnist_desk.core.data import load_mnist
    from mnist_desk.core.ending import end_now

    torch.set_num_threads(work_threads)
    warm_up = threading.Thread(target=_warm_up, name="warm-up", daemon=True)
    warm_up.start()

    def load(data_dir: str | None, progress: Any, stop: threading.Event) -> Any:
        data = load_mnist(data_dir, progress=progress, stop=stop)
        # the first optimiser would wait for this import anyway; finished before the
        # first batch, it does not take the GIL from the timed epoch
        warm_up.join()
        return data

    serve(conn, load, lambda: threads_for(work_threads, clock.value, hold_s))
    end_now(0)  # every job has ended and said so: nothing is left to the teardown


def _warm_up() -> None:
    with contextlib.suppress(Exception):  # a failure here shows again, and is reported, later
        import torch._dynamo  # noqa: F401


class Host:
    """One end of the pipe to where jobs run."""

    conn: Connection

    def __init__(self) -> None:
        self._send_lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> bool:
        """False when the host has gone."""
        with self._send_lock:
            try:
                self.conn.send(message)
            except (OSError, ValueError):
                return False
            return True

    def alive(self) -> bool:
        raise NotImplementedError

    def exit_code(self) -> int | None:
        return None

    def close(self) -> None:
        """Let it go: it finishes what it trains (a stop is sent first) and ends."""
        self.send(("stop",))
        self.send(("quit",))
        with contextlib.suppress(OSError):
            self.conn.close()


class ProcessHost(Host):
    """A child process (started with "spawn", as safe with Qt's threads as on every
    system). It starts at once; its imports take a second or two, during which the jobs
    sent wait in the pipe."""

    def __init__(self, clock: InputClock, work_threads: int, hold_s: float) -> None:
        super().__init__()
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_process_main,
            args=(child, clock, work_threads, hold_s),
            name="mnist-desk training",
            daemon=True,  # never outlives the app
        )
        self.process.start()
        child.close()
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def exit_code(self) -> int | None:
        return self.process.exitcode

    def close(self) -> None:
        super().close()
        threading.Thread(target=self._reap, name="training-reaper", daemon=True).start()

    def _reap(self) -> None:
        """A host asked to quit gets 10 s to finish its batch and end, then is killed."""
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


class ThreadHost(Host):
    """Jobs in a thread of this process (tests, and where a child process cannot start)."""

    def __init__(
        self,
        load: Any,
        threads_wanted: Callable[[], int],
        on_start: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.conn, child = multiprocessing.Pipe()
        self.thread = threading.Thread(
            target=serve,
            args=(child, load, threads_wanted, on_start),
            name="training",
            daemon=True,
        )
        self.thread.start()

    def alive(self) -> bool:
        return self.thread.is_alive()


def shared_clock() -> InputClock:
    """A clock both processes read: the time of the last input, -inf until one."""
    clock: Any = multiprocessing.get_context("spawn").RawValue("d", -math.inf)
    return clock
