"""A 30-epoch training run in the GUI (offscreen, Train tab shown): resident memory after
every epoch, its growth after the first (target < 100 MB), how long a redraw of the
curves takes at the start and at the end, and the event loop's lag meanwhile.

    python benchmarks/gui_memory.py [--epochs 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEventLoop, Qt, QTimer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gui_responsiveness import use_fresh_settings  # noqa: E402
from mnist_desk.core.config import TrainConfig  # noqa: E402
from mnist_desk.gui import create_window  # noqa: E402
from mnist_desk.gui.app import freeze_startup_objects  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_loop(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def redraw_ms(window) -> float:  # type: ignore[no-untyped-def]
    curves = window.train_tab.curves
    start = time.perf_counter()
    curves._dirty = True
    curves.refresh()
    curves.grab()
    return 1000 * (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    use_fresh_settings()
    window = create_window()
    freeze_startup_objects()  # as the app does
    window.resize(1280, 800)
    window.show()
    window.tabs.setCurrentWidget(window.train_tab)
    run_loop(0.5)
    form = window.train_tab.form
    form.set_configs(form.configs()[0], TrainConfig(epochs=args.epochs))
    memory: list[float] = []
    redraws: dict[int, float] = {}
    stamps: list[float] = []

    def on_epoch(m, _state) -> None:  # type: ignore[no-untyped-def]
        memory.append(rss_mb())
        if m.epoch in (1, args.epochs // 2, args.epochs):
            redraws[m.epoch] = redraw_ms(window)
        print(f"epoch {m.epoch:>2}: RSS {memory[-1]:.0f} MB, test {m.test_acc:.2f}%", flush=True)

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(10)
    probe.timeout.connect(lambda: stamps.append(time.perf_counter()))
    start_rss = rss_mb()
    window.train_tab.start_training()
    window.train_tab._job.worker.epoch_finished.connect(on_epoch)  # type: ignore[union-attr]
    probe.start()
    while window.train_tab.is_running():
        run_loop(0.5)
    probe.stop()
    lags = np.maximum(np.diff(stamps) * 1000 - 10, 0)
    print(
        f"RSS before training {start_rss:.0f} MB, after epoch 1 {memory[0]:.0f} MB, "
        f"after epoch {len(memory)} {memory[-1]:.0f} MB: growth after the first epoch "
        f"{memory[-1] - memory[0]:+.0f} MB (target < 100 MB)"
    )
    print(
        "curves redraw (refresh + paint): "
        + ", ".join(f"epoch {e}: {ms:.1f} ms" for e, ms in sorted(redraws.items()))
    )
    print(
        f"event-loop lag over the run: p50 {np.percentile(lags, 50):.1f} ms, "
        f"p99 {np.percentile(lags, 99):.1f} ms, max {lags.max():.1f} ms"
    )
    window.session.dirty = False
    window.close()


if __name__ == "__main__":
    main()
