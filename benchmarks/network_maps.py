"""Time to update the Network tab's activation maps and saliency for each change of the
drawing, measured while digits are drawn on its canvas (offscreen). The maps follow every
throttled prediction, so this time adds to the prediction's.

    python benchmarks/network_maps.py [--per-digit 5]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from drawn_digits import make_samples  # noqa: E402
from gui_responsiveness import run_loop, use_fresh_settings  # noqa: E402

from mnist_desk.gui import create_window  # noqa: E402
from mnist_desk.gui.app import freeze_startup_objects  # noqa: E402
from tests.drawing import move, press, release  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-digit", type=int, default=5)
    args = parser.parse_args()
    use_fresh_settings()
    window = create_window()
    freeze_startup_objects()  # as the app does
    window.resize(1280, 800)
    window.show()
    window.tabs.setCurrentWidget(window.network_tab)
    run_loop(0.5)
    tab, canvas = window.network_tab, window.draw_tab.canvas
    tab.update_times.clear()
    predictions = []
    window.draw_tab.prediction_updated.connect(lambda: predictions.append(1))
    for sample in make_samples(args.per_digit, 3):
        canvas.clear()
        for stroke in sample.strokes:
            press(canvas, *stroke[0])
            for point in stroke[1:]:
                move(canvas, *point)
                run_loop(0.008)  # a 125 Hz mouse, the event loop running in between
            release(canvas, *stroke[-1])
        run_loop(0.03)
    times = np.array(tab.update_times) * 1000
    print(
        f"model: {window.session.name}; {len(times)} updates of the maps while drawing "
        f"{10 * args.per_digit} digits ({len(predictions)} predictions)"
    )
    print(
        f"update of all activation maps + saliency: median {np.median(times):.1f} ms, "
        f"p95 {np.percentile(times, 95):.1f} ms, max {times.max():.1f} ms"
    )
    window.session.dirty = False
    window.close()


if __name__ == "__main__":
    main()
