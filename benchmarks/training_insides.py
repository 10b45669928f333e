"""Training in the GUI with the Train tab's *Inside the training* view shown (a look
inside every 100 batches) and hidden (the Curves view shown), against `mnist-desk train`
on the same settings, run alternately so that background load falls on all three.

    python benchmarks/training_insides.py [--epochs 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gui_responsiveness import (
    cli_throughput,
    create_window,
    gui_training,
    use_fresh_settings,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    use_fresh_settings()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    window = create_window()
    window.resize(1100, 720)
    window.show()
    tab = window.train_tab
    speeds: dict[str, list[float]] = {"cli": [], "hidden": [], "shown": []}
    for _ in range(args.rounds):
        speeds["cli"].append(cli_throughput(args.epochs))
        tab.views.setCurrentWidget(tab.curves)
        speeds["hidden"].append(gui_training(window, args.epochs, probe=False)[0])
        tab.views.setCurrentWidget(tab.insides)
        speeds["shown"].append(gui_training(window, args.epochs, probe=False)[0])
        looks = len(tab.insides.snapshots)
    cli = statistics.mean(speeds["cli"])
    print(f"seed recipe, {args.epochs} epochs, {args.rounds} rounds (samples/s, means):")
    print(f"  mnist-desk train              {cli:8.0f}")
    for name in ("hidden", "shown"):
        s = statistics.mean(speeds[name])
        print(f"  GUI, insides {name:<7}         {s:8.0f}   {s / cli:.2f} of the CLI")
    print(f"  looks inside in the last shown run: {looks}")
    window.session.dirty = False
    window.close()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
