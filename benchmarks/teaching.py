"""Teach It My Handwriting, timed in the app and proven on hands the model reads badly.

A synthetic writer draws every digit in a consistent style of their own, far from
MNIST's (below: `WRITERS`). The writer's drawings are replayed as mouse strokes on the
canvas of an offscreen main window: `--kept` of them (an equal number per digit) are
kept with their digit as a user keeps them, then Tools > Teach It My Handwriting runs as
in the app and is timed from the menu action to the new model in place. Reported, before
and after: the app's reading of `--held-out` other drawings of the same writer (never
kept, never taught), and the MNIST test accuracy (from the teaching report).

    python benchmarks/teaching.py [--writer boxy] [--kept 20] [--held-out 80]
        [--checkpoint PATH] [--seed 0] [--menu-s 0.7]

As a user does, the Tools menu is opened after the last drawing is kept and Teach It My
Handwriting is chosen `--menu-s` seconds later (opening the menu starts loading what
the first optimiser imports, gui.threads.warm_up_training); with `--menu-s 0` the
action is triggered at once, the moment the last drawing is kept.

The `boxy` writer was used to choose the teaching recipe. `looped` was written down
beside it and held out, until teaching it was found to cost MNIST 0.2-0.4 point; the
recipe's rehearsal was then chosen on both. `european` was written down after that
and is held out: nothing was chosen on it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.drawn_digits import Sample, on_canvas, read_all  # noqa: E402
from mnist_desk.core import drawn  # noqa: E402

Shape = list[list[tuple[float, float]]]  # strokes of points in a unit box, y down


def _loop(
    cx: float, cy: float, rx: float, ry: float, start: float, turn: float
) -> list[tuple[float, float]]:
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, start + turn, 16)]  # fmt: skip


# A writer of square digits, as on a calculator's display but written by hand, leaning
# backwards: the corners MNIST's writers round off are this writer's whole style.
BOXY: dict[int, Shape] = {
    0: [[(0, 0), (0, 1), (0.7, 1), (0.7, 0), (0, 0)]],
    1: [[(0.2, 0.25), (0.55, 0), (0.55, 1)], [(0.15, 1), (0.95, 1)]],
    2: [[(0, 0), (0.7, 0), (0.7, 0.5), (0, 0.5), (0, 1), (0.75, 1)]],
    3: [[(0, 0), (0.7, 0), (0.7, 1), (0, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    4: [[(0, 0), (0, 0.55), (0.7, 0.55)], [(0.7, 0), (0.7, 1)]],
    5: [[(0.7, 0), (0, 0), (0, 0.5), (0.7, 0.5), (0.7, 1), (0, 1)]],
    6: [[(0.7, 0), (0, 0), (0, 1), (0.7, 1), (0.7, 0.5), (0, 0.5)]],
    7: [[(0, 0.2), (0, 0), (0.7, 0), (0.7, 1)]],
    8: [[(0, 0), (0.7, 0), (0.7, 1), (0, 1), (0, 0)], [(0, 0.5), (0.7, 0.5)]],
    9: [[(0.7, 0.5), (0, 0.5), (0, 0), (0.7, 0), (0.7, 1), (0.05, 1)]],
}

# A writer who loops and crosses: a loop at the start of the 1, the 2, the 3 and the 7,
# a slashed zero, a flat-topped 3, looped 4s and 8s, a 5 whose flag floats off to the
# right, a 6 whose loop stays open, a 9 whose tail curls back like a g; broad digits
# leaning forwards.
LOOPED: dict[int, Shape] = {
    0: [_loop(0.5, 0.5, 0.35, 0.5, -90, 370), [(0.2, 0.95), (0.8, 0.05)]],
    1: [[*_loop(0.35, 0.2, 0.12, 0.12, 90, 300), (0.5, 0.0), (0.5, 1.0)]],
    2: [
        [
            *_loop(0.3, 0.25, 0.12, 0.12, 0, -330),
            *_loop(0.5, 0.3, 0.3, 0.3, 200, 160),
            (0.1, 1.0),
            *_loop(0.2, 0.88, 0.1, 0.1, 180, -300),
            (0.9, 1.0),
        ]
    ],
    3: [
        [
            *_loop(0.15, 0.12, 0.1, 0.1, 90, -330),
            (0.85, 0.0),
            (0.4, 0.4),
            *_loop(0.45, 0.7, 0.35, 0.28, -90, 250),
        ]
    ],
    4: [
        [
            (0.55, 0.0),
            (0.1, 0.65),
            *_loop(0.55, 0.6, 0.35, 0.12, 180, -300),
            (0.6, 0.3),
            (0.65, 1.0),
        ]
    ],
    5: [
        [
            (0.3, 0.05),
            (0.25, 0.45),
            *_loop(0.5, 0.7, 0.32, 0.3, -140, 290),
            *_loop(0.1, 0.9, 0.1, 0.08, 0, 300),
        ],
        [(0.45, 0.0), (1.0, -0.05)],
    ],
    6: [[(0.75, 0.0), (0.3, 0.4), *_loop(0.5, 0.72, 0.3, 0.28, 180, 300)]],
    7: [
        [
            *_loop(0.15, 0.12, 0.1, 0.1, 90, -330),
            (0.9, 0.0),
            *_loop(0.65, 0.55, 0.15, 0.1, -60, 340),
            (0.45, 1.0),
        ]
    ],
    8: [
        [
            *_loop(0.5, 0.25, 0.25, 0.22, -20, -250),
            (0.35, 0.4),
            (0.65, 0.6),
            *_loop(0.5, 0.77, 0.25, 0.22, -60, 300),
            (0.35, 0.6),
            (0.6, 0.38),
            *_loop(0.6, 0.22, 0.12, 0.1, 90, -300),
        ]
    ],
    9: [
        [
            *_loop(0.5, 0.25, 0.3, 0.25, 0, -370),
            (0.8, 0.25),
            (0.75, 0.85),
            *_loop(0.45, 0.85, 0.3, 0.15, 0, 200),
        ]
    ],
}

# A continental European hand, leaning forwards: a 1 that is all flag and stem, no base;
# a 7 with a bar across; an open 4 whose stem crosses its bar; a 9 with a straight
# tail; an 8 of two stacked rings; a 5 begun from its top bar, right to left.
EUROPEAN: dict[int, Shape] = {
    0: [_loop(0.5, 0.5, 0.3, 0.5, -90, 360)],
    1: [[(0.1, 0.45), (0.6, 0.0), (0.6, 1.0)]],
    2: [[*_loop(0.45, 0.3, 0.32, 0.28, 180, 190), (0.05, 1.0), (0.95, 1.0)]],
    3: [
        [
            *_loop(0.45, 0.27, 0.3, 0.25, 200, 230),
            (0.4, 0.5),
            *_loop(0.45, 0.74, 0.33, 0.26, -80, 250),
        ]
    ],
    4: [[(0.1, 0.0), (0.05, 0.6), (0.9, 0.6)], [(0.7, 0.15), (0.7, 1.0)]],
    5: [[(0.8, 0.0), (0.2, 0.0), (0.15, 0.45), *_loop(0.45, 0.7, 0.35, 0.3, -120, 250)]],
    6: [[(0.65, 0.0), (0.15, 0.6), *_loop(0.45, 0.72, 0.3, 0.27, 180, 360)]],
    7: [[(0.0, 0.1), (0.05, 0.0), (0.9, 0.0), (0.35, 1.0)], [(0.3, 0.5), (0.85, 0.5)]],
    8: [_loop(0.5, 0.27, 0.25, 0.25, 90, 360), _loop(0.5, 0.73, 0.3, 0.27, -90, 360)],
    9: [[*_loop(0.45, 0.3, 0.3, 0.28, 0, -360), (0.75, 0.3), (0.75, 1.0)]],
}

# shapes, slant, breadth, pace (core.drawn.by_hand): each writer has a pace of their own
WRITERS = {
    "boxy": (BOXY, -0.5, 2.0, 6.0),
    "looped": (LOOPED, 0.5, 1.3, 12.0),
    "european": (EUROPEAN, 0.35, 1.1, 9.0),
}


def drawings(writer: str, per_digit: int, rng: np.random.Generator) -> list[Sample]:
    """`per_digit` drawings of each digit in the writer's hand: the writer's shape, slant,
    breadth and pace, give or take a little, an unsteady hand, a random size and place."""
    shapes, slant, breadth, pace = WRITERS[writer]
    out = []
    for _ in range(per_digit):
        for digit in range(10):
            strokes = [np.asarray(s, dtype=float) * [breadth, 1.0] for s in shapes[digit]]
            strokes = [s + rng.normal(0, 0.025, s.shape) for s in strokes]
            strokes = drawn.slanted(strokes, slant + rng.normal(0, 0.05), rng.normal(0, 3))
            out.append(on_canvas(digit, drawn.by_hand(strokes, rng, pace), rng))
    return out


def accuracy(window, samples: list[Sample]) -> float:  # type: ignore[no-untyped-def]
    readings = read_all(window, samples)
    return 100 * float(
        np.mean([r.read == str(s.digit) for s, r in zip(samples, readings, strict=True)])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writer", choices=tuple(WRITERS), default="boxy")
    parser.add_argument("--kept", type=int, default=20, help="drawings kept and taught")
    parser.add_argument("--held-out", type=int, default=80, help="drawings only read")
    parser.add_argument("--checkpoint", help="start from this model (default: the bundled one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--menu-s", type=float, default=0.7, help="the Tools menu open this long (0: no menu)"
    )
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

    from benchmarks.gui_responsiveness import use_fresh_settings
    from mnist_desk.gui import create_window

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    use_fresh_settings()  # the first run's settings, whatever this machine's user left
    window = create_window()
    window.resize(1100, 720)
    window.show()
    if args.checkpoint:
        window.session.open(args.checkpoint)
    rng = np.random.default_rng(args.seed)
    kept = drawings(args.writer, max(1, args.kept // 10), rng)
    held = drawings(args.writer, max(1, args.held_out // 10), rng)
    print(f"model: {window.session.name}; writer: {args.writer}")
    before = accuracy(window, held)
    from benchmarks.drawn_digits import replay

    for sample in kept:
        replay(window, sample)
        assert sample.digit is not None
        window.panel.keep_as(sample.digit)
    print(f"kept {len(window.workspace.store)} drawings")
    QMessageBox.information = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Ok)  # type: ignore[method-assign]
    done: list[object] = []
    window.handwriting.finished.connect(done.append)
    if args.menu_s > 0:
        tools = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Tools")
        tools.popup(window.mapToGlobal(window.rect().topLeft()))
        end = time.perf_counter() + args.menu_s
        while time.perf_counter() < end:
            QApplication.processEvents()
            time.sleep(0.01)
        tools.hide()
    warmed = "torch._dynamo" in sys.modules  # loading what the first optimiser imports
    start = time.perf_counter()
    window.teach_action.trigger()
    while not done:
        QApplication.processEvents()
        time.sleep(0.002)
    seconds = time.perf_counter() - start
    report = window.handwriting.last_report
    if report is None:
        print("teaching failed")
        return 1
    after = accuracy(window, held)
    how = f"{args.menu_s:g} s after the Tools menu opened" if args.menu_s > 0 else "no menu"
    started = "had started" if warmed else "had not started"
    print(f"teaching took {seconds:.1f} s in the app (menu action to the new model; {how}; "
          f"loading PyTorch's optimiser imports {started})")  # fmt: skip
    print(f"held-out drawings of the writer ({len(held)}): {before:.1f}% -> {after:.1f}%")
    print(f"MNIST test: {report.mnist_before:.2f}% -> {report.mnist_after:.2f}%")
    print(f"(the teaching's own held-out part of the kept digits: {report.mine_before:.0f}% -> "
          f"{report.mine_after:.0f}% of {report.held_out})")  # fmt: skip
    window.session.dirty = False
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
