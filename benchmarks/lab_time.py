"""The lab's accuracy update, timed as a user meets it: in the app (offscreen), one
convolution channel switched off after another, each change measured on the fixed 2,000
test images. The first change also reads MNIST and measures the unedited model.

    python benchmarks/lab_time.py [--changes 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MNIST_DESK_RUNS", tempfile.mkdtemp(prefix="mnist-desk-runs-"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=8)
    args = parser.parse_args()
    from benchmarks.gui_responsiveness import use_fresh_settings
    from mnist_desk.gui.app import create_application, create_window

    use_fresh_settings()

    create_application([])
    window = create_window()
    window.show()
    lab = window.explorer_tab.lab
    times = []
    for channel in range(args.changes):
        lab.channel.setValue(channel)
        lab.factor.setValue(0.0)
        lab.add_channel_edit()
        start = time.perf_counter()
        lab.apply_now()
        times.append(time.perf_counter() - start)
    print(f"first change (reads MNIST, measures the unedited model too): {times[0]:.2f} s")
    rest = times[1:]
    print(
        f"each later change: median {statistics.median(rest):.2f} s, max {max(rest):.2f} s "
        f"(n={len(rest)}); target 0.5 s"
    )
    print(lab.result.text())
    window.session.dirty = False
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
