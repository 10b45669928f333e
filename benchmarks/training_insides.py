"""Training in the GUI with the Train tab's *Inside the training* view shown (a look
inside every 100 batches) and hidden (the Curves view shown), against `mnist-desk train`
on the same settings and against the app's training process with no GUI, run alternately
so that background load falls on all four.

    python benchmarks/training_insides.py [--epochs 2] [--rounds 2] [--interleaved 6]

Then the GUI's run and the training process alone take turns a second at a time, each
paused while the other trains (gui_responsiveness.interleaved), with the view hidden and
shown: the drift of the host's speed, which a minute between runs lets in, cancels.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gui_responsiveness import (
    alternate,
    cli_throughput,
    create_window,
    gui_training,
    interleaved,
    interleaved_ratio,
    process_throughput,
    ratios,
    use_fresh_settings,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--interleaved", type=int, default=6, help="epochs of each taking turns (0: none)"
    )
    args = parser.parse_args()
    use_fresh_settings()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    window = create_window()
    window.resize(1100, 720)
    window.show()
    tab = window.train_tab
    looks: list[int] = []

    def insides(shown: bool) -> float:
        tab.views.setCurrentWidget(tab.insides if shown else tab.curves)
        sps = gui_training(window, args.epochs, probe=False)[0]
        if shown:
            looks.append(len(tab.insides.snapshots))
        return sps

    speeds = alternate(
        {
            "cli": lambda: cli_throughput(args.epochs),
            "process": lambda: process_throughput(window, args.epochs),
            "hidden": lambda: insides(False),
            "shown": lambda: insides(True),
        },
        args.rounds,
    )
    print(f"seed recipe, {args.epochs} epochs, {args.rounds} rounds (samples/s, medians):")
    print(f"  mnist-desk train              {statistics.median(speeds['cli']):8.0f}")
    s = statistics.median(speeds["process"])
    print(f"  the training process, no GUI  {s:8.0f}   {ratios(speeds, 'process')}")
    for name in ("hidden", "shown"):
        s = statistics.median(speeds[name])
        print(f"  GUI, insides {name:<7}         {s:8.0f}   {ratios(speeds, name)}")
        print(f"{'':41}against the process alone: {ratios(speeds, name, 'process')}")
    print(f"  looks inside per shown run: {looks}")
    for name in ("hidden", "shown") if args.interleaved else ():
        tab.views.setCurrentWidget(tab.insides if name == "shown" else tab.curves)
        rates = interleaved(window, args.interleaved)
        print(f"  taking turns a second at a time, {args.interleaved} epochs each, insides {name}:")
        print(f"    GUI at {interleaved_ratio(rates)}")
    for name, values in speeds.items():
        print(f"  {name} per round: {', '.join(f'{v:,.0f}' for v in values)}")
    window.session.dirty = False
    window.close()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
