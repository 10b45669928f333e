"""How the app feels, measured on this machine (offscreen unless DISPLAY is set):

  1. launch: from starting the process to a shown window with the bundled model ready;
  2. prediction latency: from a mouse move posted to the canvas (as real input arrives,
     through the event queue) to the updated probabilities on screen widgets, median and
     p95, with the mouse at 60 Hz and at 125 Hz, idle and while training on the CPU;
  3. event-loop lag while training, with the Train tab's live curves on screen: how late a
     10 ms timer fires (p50, p99, max);
  4. training throughput in the GUI against `mnist-desk train` on the same settings, one
     run of each per round in rotating order, as ratios within each round (the host's
     speed drifts by up to 30% in an hour; within a round the drift cancels); and the
     app's training process alone, with no GUI, which tells the process's own cost from
     the GUI's.

Run:  python benchmarks/gui_responsiveness.py [--epochs 2] [--rounds 2]
MNIST is found as the app finds it (MNIST_DESK_DATA, the cache, a download).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")

import numpy as np
from PySide6.QtCore import QEvent, QEventLoop, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import use_scratch_data_home  # noqa: E402
from mnist_desk.core.config import ModelConfig, TrainConfig  # noqa: E402
from mnist_desk.core.training_host import ProcessHost, shared_clock  # noqa: E402
from mnist_desk.core.training_job import JobSpec  # noqa: E402
from mnist_desk.gui import create_window, threads  # noqa: E402
from mnist_desk.gui.app import freeze_startup_objects  # noqa: E402
from mnist_desk.gui.main_window import MainWindow  # noqa: E402

# `mnist-desk` as it starts (mnist_desk.cli.main), told to quit once its window is shown
# with the model ready: a hook waits for mnist_desk.gui.app to be imported, as the command
# imports it, and wraps QApplication.exec, so that nothing is imported in another order
LAUNCH_CHILD = """
import importlib.abc, importlib.machinery, sys

def when_shown():
    from PySide6.QtWidgets import QApplication
    window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow")
    assert window.isVisible() and window.session.predictor.model is not None
    print("READY", flush=True)
    QApplication.instance().quit()

class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "mnist_desk.gui.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run_module = spec.loader.exec_module
        def exec_module(module):
            run_module(module)
            run_loop = module.QApplication.exec
            def exec_(*_):
                from PySide6.QtCore import QTimer
                QTimer.singleShot(0, when_shown)
                return run_loop()
            module.QApplication.exec = exec_
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Hook())
from mnist_desk.cli import main
sys.exit(main([]))
"""

# digits as polylines in canvas units, drawn one after another
STROKES = [
    [(0.5, 0.15), (0.5, 0.85)],
    [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)],
    [(0.3, 0.25), (0.5, 0.15), (0.7, 0.3), (0.5, 0.5), (0.72, 0.7), (0.5, 0.85), (0.3, 0.75)],
]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_loop(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


# ---- 1. launch ------------------------------------------------------------------------
def measure_launch(runs: int) -> list[float]:
    times = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # an installed app has its bytecode (pip compiles it); a checkout run with
    # PYTHONDONTWRITEBYTECODE would compile every module at every launch (~0.1 s)
    compileall.compile_dir(ROOT / "mnist_desk", quiet=1)
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH_CHILD],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                times.append(time.perf_counter() - start)
                break
        proc.wait()
    return times


# ---- 2. prediction latency ------------------------------------------------------------
def _post_mouse(canvas, kind: QEvent.Type, x: float, y: float, buttons: Qt.MouseButton) -> None:  # type: ignore[no-untyped-def]
    rect = canvas.drawing_rect()
    pos = QPointF(rect.x() + x * rect.width(), rect.y() + y * rect.height())
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind,
        pos,
        QPointF(canvas.mapToGlobal(pos.toPoint())),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.postEvent(canvas, event)


def measure_prediction_latency(window: MainWindow, rate_hz: float, seconds: float) -> list[float]:
    """Latency of every move: from posting it to the first prediction shown after it."""
    tab, canvas = window.draw_tab, window.draw_tab.canvas
    pending: list[float] = []  # times of moves not yet reflected in a prediction
    latencies: list[float] = []

    def on_update() -> None:
        now = time.perf_counter()
        latencies.extend(now - t for t in pending)
        pending.clear()

    tab.prediction_updated.connect(on_update)
    points = []
    for stroke in STROKES:
        dense = []
        for (x0, y0), (x1, y1) in itertools.pairwise(stroke):
            dense += [(x0 + (x1 - x0) * i / 30, y0 + (y1 - y0) * i / 30) for i in range(30)]
        points.append(dense)
    state = {"stroke": 0, "i": 0}
    interval = 1.0 / rate_hz

    def tick() -> None:
        s, i = state["stroke"] % len(points), state["i"]
        stroke = points[s]
        if i == 0:
            canvas.clear()
            _post_mouse(canvas, QEvent.Type.MouseButtonPress, *stroke[0], Qt.MouseButton.LeftButton)
        elif i < len(stroke):
            pending.append(time.perf_counter())
            _post_mouse(canvas, QEvent.Type.MouseMove, *stroke[i], Qt.MouseButton.LeftButton)
        else:
            _post_mouse(
                canvas, QEvent.Type.MouseButtonRelease, *stroke[-1], Qt.MouseButton.NoButton
            )
            state["stroke"] += 1
            state["i"] = -1
        state["i"] += 1

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(round(interval * 1000))
    timer.timeout.connect(tick)
    timer.start()
    run_loop(seconds)
    timer.stop()
    run_loop(0.1)
    tab.prediction_updated.disconnect(on_update)
    return [1000 * v for v in latencies]


# ---- 3. event-loop lag ------------------------------------------------------------------
def measure_loop_lag(seconds: float, interval_ms: int = 10) -> list[float]:
    stamps: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    timer.start()
    run_loop(seconds)
    timer.stop()
    gaps = np.diff(stamps) * 1000.0
    return [max(0.0, g - interval_ms) for g in gaps]


# ---- 4. throughput ---------------------------------------------------------------------
def cli_throughput(epochs: int) -> float:
    out = Path("/tmp") / f"mnist-desk-bench-{os.getpid()}.pt"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mnist_desk",
            "train",
            "--epochs",
            str(epochs),
            "--json",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    out.unlink(missing_ok=True)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return statistics.mean(r["samples_per_s"] for r in records)


@contextlib.contextmanager
def process_run(window: MainWindow, epochs: int) -> Iterator[ProcessHost]:
    """The app's training process alone: a process started as the app starts one, sent the
    job the Train tab sends (recorded in the same library); let go and waited for after."""
    host = ProcessHost(shared_clock(), threads.work_threads(), threads.INPUT_HOLD_S)
    runs = window.workspace.runs.folder
    host.send(("train", JobSpec(ModelConfig(), TrainConfig(epochs=epochs), "bench", runs=runs)))
    try:
        yield host
    finally:
        host.close()
        host.process.join(20)


def process_epochs(host: ProcessHost, ready: threading.Event | None = None) -> list[float]:
    """The samples/s of each epoch of the host's run, once it has finished; `ready` is set
    when the run has its data and stands before its first batch."""
    rates: list[float] = []
    while True:
        kind, *payload = host.conn.recv()
        if kind == "threads" and ready is not None:
            ready.set()
        elif kind == "epoch":
            rates.append(payload[0].samples_per_s)
        elif kind == "failed":
            raise RuntimeError(payload[0])
        elif kind == "finished":
            return rates


def process_throughput(window: MainWindow, epochs: int) -> float:
    """The training process alone (process_run), while this process waits in the pipe
    with its event loop stopped, so that nothing paints. Its ratio to the CLI is what the
    training process itself gives; the GUI's arms against it, what the GUI's drawing and
    messages cost."""
    with process_run(window, epochs) as host:
        return statistics.mean(process_epochs(host))


def interleaved(window: MainWindow, epochs: int, slice_s: float = 1.0) -> dict[str, list[float]]:
    """The GUI's run (the Train tab, as shown now) and the app's training process alone
    (process_run) trained at the same time, taking turns of `slice_s`: the one whose turn
    it is not is paused between two batches, and a run's epoch times leave out its pauses.
    The turns are far shorter than the host's drift (minutes), which cancels almost
    wholly, unlike between runs a minute apart. Returns each one's samples/s per epoch.
    (The one paused looks every 50 ms whether it may go on; that falls on both.)"""
    rates: dict[str, list[float]] = {"gui": [], "process": []}
    process_ready, process_done = threading.Event(), threading.Event()
    with process_run(window, epochs) as host:
        host.send(("pause", True))  # the GUI's run goes first

        def relay() -> None:
            try:
                rates["process"] = process_epochs(host, process_ready)
            finally:
                process_ready.set()
                process_done.set()

        threading.Thread(target=relay, daemon=True).start()
        while not process_ready.is_set():
            run_loop(0.1)  # its start-up would fall on the GUI's first epoch
        tab = window.train_tab
        window.tabs.setCurrentWidget(tab)
        start_training(window, epochs)
        gui_turn = True
        while tab.is_running() or not process_done.is_set():
            run_loop(slice_s)
            gui_running = tab.is_running()
            gui_turn = not gui_turn if gui_running and not process_done.is_set() else gui_running
            # the one whose turn ends is paused first
            if gui_turn:
                host.send(("pause", True))
                if gui_running and tab.is_paused():
                    tab.toggle_pause()
            else:
                if gui_running and not tab.is_paused():
                    tab.toggle_pause()
                host.send(("pause", False))
    rates["gui"] = [h.samples_per_s for h in window.session.checkpoint.history]  # type: ignore[union-attr]
    return rates


def interleaved_ratio(rates: dict[str, list[float]]) -> str:
    """The GUI's median epoch against the process's, with each one's epochs."""
    gui, alone = statistics.median(rates["gui"]), statistics.median(rates["process"])
    return (
        f"{gui / alone:.2f} of the training process alone (median epochs {gui:,.0f} and "
        f"{alone:,.0f} samples/s; GUI {', '.join(f'{r:,.0f}' for r in rates['gui'])}; "
        f"process {', '.join(f'{r:,.0f}' for r in rates['process'])})"
    )


def start_training(window: MainWindow, epochs: int) -> None:
    form = window.train_tab.form
    form.set_configs(form.configs()[0], TrainConfig(epochs=epochs))
    window.train_tab.start_training()


def wait_for_training(window: MainWindow) -> None:
    while window.train_tab.is_running():
        run_loop(0.2)


def gui_training(
    window: MainWindow, epochs: int, probe: bool, tab: str = "train"
) -> tuple[float, float, list[float]]:
    """Train in the GUI with the Train tab shown (or the Draw tab, with tab="draw").
    Returns the mean samples/s of the epochs, the share of one core the GUI thread used
    (steadier than throughput on a noisy host) and, with `probe`, how late a 10 ms timer
    fired meanwhile (the probe wakes the GUI thread 100 times a second, so throughput is
    measured in runs without it)."""
    window.tabs.setCurrentWidget(window.train_tab if tab == "train" else window.draw_tab)
    start_training(window, epochs)
    lags: list[float] = []
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    if probe:
        while window.train_tab.is_running():
            lags += measure_loop_lag(1.0)
    else:  # wait without waking the GUI thread, as when nobody touches the app
        loop = QEventLoop()
        window.train_tab.finished.connect(loop.quit)
        if window.train_tab.is_running():
            loop.exec()
        window.train_tab.finished.disconnect(loop.quit)
    gui_cpu = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)
    history = window.session.checkpoint.history  # type: ignore[union-attr]
    return statistics.mean(h.samples_per_s for h in history), gui_cpu, lags


def use_fresh_settings() -> None:
    """Temporary settings and data folders: neither read nor overwrite the user's own
    settings, runs library or kept digits (benchmarks.scratch). Call it before the window
    is made."""
    use_scratch_data_home()
    folder = tempfile.mkdtemp(prefix="mnist-desk-settings-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--parts", default="1234", help="which measurements, e.g. 2 or 14")
    args = parser.parse_args()

    if "1" in args.parts:
        launch = measure_launch(args.launches)
        print(
            f"1. launch to window with model ready: median {statistics.median(launch):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in launch)}); target 1.5 s (issue 17)"
        )

    app = QApplication.instance() or QApplication(sys.argv[:1])
    use_fresh_settings()
    window = create_window()
    freeze_startup_objects()  # as the app does
    window.resize(1280, 800)
    window.show()
    run_loop(0.5)
    print(
        f"   platform {app.platformName()}, screen refresh {window.screen().refreshRate():.0f} Hz"
    )

    if "2" in args.parts:
        measure_latencies(window)
    if "3" in args.parts:
        measure_lag(window, args.epochs)
    if "4" in args.parts:
        measure_throughput(window, args.epochs, args.rounds)
    window.session.dirty = False
    window.close()


def measure_latencies(window: MainWindow) -> None:
    print("2. prediction latency, mouse move -> probabilities shown (ms):")
    idle = {hz: measure_prediction_latency(window, hz, 6.0) for hz in (60, 125)}
    for hz, lat in idle.items():
        print(
            f"   idle,     mouse {hz:>3} Hz: median {pct(lat, 50):5.1f}  p95 {pct(lat, 95):5.1f}  "
            f"(n={len(lat)})"
        )
    start_training(window, 50)
    run_loop(3.0)  # data loaded, training under way
    busy = {hz: measure_prediction_latency(window, hz, 6.0) for hz in (60, 125)}
    window.train_tab.stop_training()
    wait_for_training(window)
    for hz, lat in busy.items():
        print(
            f"   training, mouse {hz:>3} Hz: median {pct(lat, 50):5.1f}  p95 {pct(lat, 95):5.1f}  "
            f"(n={len(lat)})"
        )
    print("   targets (issue 17): p95 <= 8 ms idle, <= 16 ms while training")


def measure_lag(window: MainWindow, epochs: int) -> None:
    _, _, lags = gui_training(window, epochs, probe=True)
    print(
        f"3. event-loop lag while training, Train tab shown (ms): p50 {pct(lags, 50):.1f}  "
        f"p99 {pct(lags, 99):.1f}  max {max(lags):.1f}  (n={len(lags)}); "
        "target p99 < 50 ms (issue 5: < 30 ms)"
    )


def alternate(arms: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each arm's samples/s once per round, the order rotated from round to round, so that
    no arm always runs first or last; runs of one round are minutes apart at most, and a
    ratio within a round cancels the host's drift (the speed here drifts by 30%)."""
    speeds: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            speeds[name].append(arms[name]())
    return speeds


def ratios(speeds: dict[str, list[float]], name: str, to: str = "cli") -> str:
    """The median over rounds of each round's ratio to the `to` arm's run (the CLI's),
    with their spread; and the ratio of the two arms' fastest runs: other load on the host
    only ever slows a run down, so the fastest is the one least disturbed (as timeit takes
    the minimum)."""
    per_round = [a / b for a, b in zip(speeds[name], speeds[to], strict=True)]
    q1, median, q3 = np.percentile(per_round, [25, 50, 75])
    return (
        f"{median:.2f} of the {'CLI' if to == 'cli' else to} (rounds {min(per_round):.2f}-"
        f"{max(per_round):.2f}, middle half {q1:.2f}-{q3:.2f}); "
        f"fastest runs {max(speeds[name]) / max(speeds[to]):.2f}"
    )


def measure_throughput(window: MainWindow, epochs: int, rounds: int) -> None:
    gui_cpu: list[float] = []

    def train_tab() -> float:
        sps, cpu, _ = gui_training(window, epochs, probe=False)
        gui_cpu.append(cpu)
        return sps

    speeds = alternate(
        {
            "cli": lambda: cli_throughput(epochs),
            "process": lambda: process_throughput(window, epochs),
            "train tab": train_tab,
            "draw tab": lambda: gui_training(window, epochs, probe=False, tab="draw")[0],
        },
        rounds,
    )
    print(
        f"4. training throughput, {epochs} epochs x {rounds} rounds (target >= 0.95): "
        f"CLI {statistics.median(speeds['cli']):,.0f} samples/s (median)"
    )
    print(f"   the training process, no GUI: {ratios(speeds, 'process')}")
    for name in ("train tab", "draw tab"):
        print(f"   GUI, {name} shown: {ratios(speeds, name)}")
        print(f"      against the training process alone: {ratios(speeds, name, 'process')}")
    for name, values in speeds.items():
        print(f"   {name} per round: {', '.join(f'{v:,.0f}' for v in values)}")
    print(f"   the GUI thread used {100 * statistics.median(gui_cpu):.1f}% of one core meanwhile")
    n = max(6, 2 * epochs)
    print(
        f"   taking turns a second at a time, {n} epochs each, Train tab shown: GUI at "
        f"{interleaved_ratio(interleaved(window, n))}"
    )


if __name__ == "__main__":
    main()
