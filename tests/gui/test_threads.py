"""Background work gives way to the GUI thread."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from pathlib import Path

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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_training_keeps_its_normal_priority() -> None:
    seen: list[int] = []
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def worker() -> None:
        enter_worker_thread(lowest_priority=False)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [before]


def test_training_leaves_a_core_free_for_a_while_after_each_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mnist_desk.gui import threads

    now = [1000.0]
    monkeypatch.setattr(threads.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(threads, "work_threads", lambda: 4)
    monkeypatch.setattr(threads, "_last_input", -math.inf)  # whatever earlier tests drew
    assert threads.training_threads() == 4
    threads.note_user_input()
    assert threads.training_threads() == 3
    now[0] += threads.INPUT_HOLD_S - 0.01
    assert threads.training_threads() == 3
    now[0] += 0.02
    assert threads.training_threads() == 4  # nobody drew for a while: all of them again
    monkeypatch.setattr(threads, "work_threads", lambda: 1)
    threads.note_user_input()
    assert threads.training_threads() == 1  # never none


def test_garbage_is_collected_in_the_gui_thread_only(qtbot: object, window: object) -> None:
    """A cycle holding a widget, dropped while another thread allocates: that thread
    must not collect it (PySide would destroy the widget there, and could deadlock with
    the GUI thread); the GUI thread's timer does, moments later."""
    import gc
    import weakref

    from PySide6.QtWidgets import QWidget
    from pytestqt.qtbot import QtBot

    from mnist_desk.gui.app import create_application

    assert isinstance(qtbot, QtBot)
    collector = create_application().property("garbageCollector")
    assert collector is not None and not gc.isenabled()

    class Holder:
        widget: QWidget

    holder = Holder()
    holder.widget = QWidget()
    holder.widget.holder = holder  # type: ignore[attr-defined]  # a cycle through the widget
    alive = weakref.ref(holder)
    del holder

    kept: list[list[object]] = []

    def allocate() -> None:
        kept.extend([] for _ in range(20000))  # well past every generation's threshold

    thread = threading.Thread(target=allocate)
    thread.start()
    thread.join()
    assert alive() is not None  # not collected in that thread
    qtbot.waitUntil(lambda: alive() is None, timeout=5000)  # the GUI thread's timer did
    kept.clear()


def _run_app_script(body: str, tmp_path: Path) -> str:
    """Run `body` after making and showing a main window in a fresh offscreen app (so
    that torch._dynamo is not already imported by other tests); its stdout."""
    script = (
        "import sys, time\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from mnist_desk.gui import create_window\n"
        "from mnist_desk.gui import threads\n"
        "window = create_window()\n"
        "window.show()\n"
        "QApplication.processEvents()\n"
        "def loaded(): return 'torch._dynamo' in sys.modules\n"
        "def wait(seconds, until=lambda: False, each=lambda: None):\n"
        "    end = time.monotonic() + seconds\n"
        "    while time.monotonic() < end and not until():\n"
        "        each(); QApplication.processEvents(); time.sleep(0.05)\n"
        "print('before', loaded())\n" + body + "window.close()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "before False" in done.stdout
    return done.stdout


def test_the_tools_menu_warms_up_what_the_first_optimiser_step_imports(tmp_path: Path) -> None:
    """PyTorch's optimisers import torch._dynamo (about a second) when the first one is
    made; opening the Tools menu (where teaching is) starts that import in the background.
    Showing the Train tab does not: runs train in a process of their own."""
    out = _run_app_script(
        "from PySide6.QtCore import QPoint\n"
        "window.tabs.setCurrentWidget(window.train_tab)\n"
        "wait(1.5)\n"
        "print('train tab', loaded())\n"
        "[tools] = [a.menu() for a in window.menuBar().actions() if 'Tools' in a.text()]\n"
        "tools.popup(QPoint(0, 0))\n"
        "wait(30, until=loaded)\n"
        "print('after', loaded())\n",
        tmp_path,
    )
    assert "train tab False" in out and "after True" in out


def test_a_kept_digit_warms_up_only_once_the_canvas_rests(tmp_path: Path) -> None:
    """After a digit is kept the import waits while the user goes on drawing (it would
    slow the readings down), and starts once the canvas has been left alone."""
    out = _run_app_script(
        "from tests.drawing import stroke\n"
        "stroke(window.panel.canvas, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])\n"
        "window.panel.keep_as(7)\n"
        "wait(3, each=threads.note_user_input)\n"  # drawing on for three seconds
        "print('drawing', loaded())\n"
        "wait(30, until=loaded)\n"
        "print('resting', loaded())\n",
        tmp_path,
    )
    assert "drawing False" in out and "resting True" in out
