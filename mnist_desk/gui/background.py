"""A worker object run once in its own QThread, the pattern the Qt documentation gives:
the worker moves to the thread, its `run` slot starts with it, the thread quits when the
worker reports that it is done (by default its `finished` or `failed` signal), and both
objects are deleted once the thread has finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QThread, SignalInstance

W = TypeVar("W", bound=QObject)  # with a run() slot


class BackgroundJob(Generic[W]):
    """At most one worker at a time; `on_done` runs in the GUI thread after the thread
    has finished and `is_running()` is False again."""

    def __init__(self, parent: QObject, on_done: Callable[[], None]) -> None:
        self._parent, self._on_done = parent, on_done
        self.thread: QThread | None = None
        self.worker: W | None = None

    def is_running(self) -> bool:
        return self.thread is not None

    def start(
        self, worker: W, quit_on: Sequence[SignalInstance] | None = None, name: str = ""
    ) -> None:
        """Start `worker.run` in a new thread (connect the worker's other signals first);
        the thread quits on any of `quit_on`, by default the worker's finished and failed."""
        thread = QThread(self._parent)
        if name:
            thread.setObjectName(name)
        worker.moveToThread(thread)
        signals: Any = worker  # Qt's signals are not visible to type checkers
        thread.started.connect(signals.run)
        for signal in quit_on if quit_on is not None else (signals.finished, signals.failed):
            signal.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)
        self.thread, self.worker = thread, worker
        thread.start()

    def wait(self, timeout_ms: int) -> bool:
        """True once no thread runs (at once when none was started)."""
        return self.thread is None or self.thread.wait(timeout_ms)

    def _on_thread_finished(self) -> None:
        for obj in (self.worker, self.thread):
            if obj is not None:
                obj.deleteLater()
        self.thread, self.worker = None, None
        self._on_done()
