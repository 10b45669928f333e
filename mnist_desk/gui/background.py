"""Background jobs: one contract for every piece of work that leaves the GUI thread.

A `Worker` runs once in its own QThread, the pattern the Qt documentation gives (and
napari's `create_worker` wraps): the worker moves to the thread, its `run` slot starts
with it, and `work()` does the job there. Every worker has the same signals: `finished`
with what `work()` returned, or `failed` with one line to show (a MnistDeskError's
message, or an unexpected error named as such); one of the two is always the last
signal, and the thread quits on it. `progress` reports (done, total, text) where a job
can say how far along it is. `cancel()` sets `stop_event`, which `work()` checks.

`BackgroundJob` holds at most one such worker at a time and deletes the worker and its
thread once the thread has finished.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from mnist_desk.core.errors import MnistDeskError
from mnist_desk.gui.threads import enter_worker_thread


class Worker(QObject):
    finished = Signal(object)  # what work() returned
    failed = Signal(str)  # one line, meant to be shown as it is
    progress = Signal(int, int, str)  # done, total (0 while unknown), what is going on

    # background work runs at the lowest scheduling priority (gui.threads); training,
    # which gives a core back while the user draws instead, does not
    lowest_priority = True

    def __init__(self) -> None:
        super().__init__()
        self.stop_event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to end early (called from any thread)."""
        self.stop_event.set()

    def cancelled(self) -> bool:
        return self.stop_event.is_set()

    def work(self) -> Any:
        """The job itself; runs in the worker thread. Raise MnistDeskError to fail."""
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        enter_worker_thread(self.lowest_priority)
        try:
            result = self.work()
        except MnistDeskError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # never let the thread die silently
            self.failed.emit(f"Unexpected error: {exc!r}")
        else:
            self.finished.emit(result)


class FunctionWorker(Worker):
    """A worker for a plain function: `finished` carries what `function(*args)` returns."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        super().__init__()
        self.function, self.args = function, args

    def work(self) -> Any:
        return self.function(*self.args)


class ExperimentWorker(Worker):
    """One of core.experiments' experiments: finished(what it returned). In this thread,
    `load(stop_event)` reads MNIST, then experiment(data, runs, progress=..., stop=...)
    runs with its runs kept in `runs` (a core.runs.RunLibrary)."""

    def __init__(
        self,
        experiment: Callable[..., Any],
        load: Callable[[threading.Event], Any],
        runs: object,
    ) -> None:
        super().__init__()
        self.experiment, self.load, self.runs = experiment, load, runs

    def work(self) -> Any:
        self.progress.emit(0, 0, "reading MNIST")
        data = self.load(self.stop_event)
        return self.experiment(data, self.runs, progress=self.progress.emit, stop=self.stop_event)


W = TypeVar("W", bound=Worker)


class BackgroundJob(Generic[W]):
    """At most one worker at a time; `on_done` runs in the GUI thread after the thread
    has finished and `is_running()` is False again."""

    def __init__(self, parent: QObject, on_done: Callable[[], None]) -> None:
        self._parent, self._on_done = parent, on_done
        self.thread: QThread | None = None
        self.worker: W | None = None

    def is_running(self) -> bool:
        return self.thread is not None

    def start(self, worker: W, name: str = "") -> None:
        """Start `worker.run` in a new thread (connect the worker's signals first)."""
        thread = QThread(self._parent)
        if name:
            thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit from the worker's own thread: a GUI thread blocked in wait() (closing the
        # window) could not run a queued quit, and the wait would always time out
        direct = Qt.ConnectionType.DirectConnection
        worker.finished.connect(thread.quit, direct)
        worker.failed.connect(thread.quit, direct)
        thread.finished.connect(self._on_thread_finished)
        self.thread, self.worker = thread, worker
        thread.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, timeout_ms: int) -> bool:
        """True once no thread runs (at once when none was started)."""
        return self.thread is None or self.thread.wait(timeout_ms)

    def _on_thread_finished(self) -> None:
        for obj in (self.worker, self.thread):
            if obj is not None:
                obj.deleteLater()
        self.thread, self.worker = None, None
        self._on_done()
