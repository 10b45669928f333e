"""Background work gives way to the GUI thread."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from mnist_desk.gui.threads import enter_worker_thread


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_worker_threads_run_at_the_lowest_priority_and_the_gui_thread_does_not() -> None:
    seen: list[int] = []

    def worker() -> None:
        enter_worker_thread()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [19]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
