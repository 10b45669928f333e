"""Digits drawn the way people draw them with a mouse, read end to end by the app.

No MNIST image is used. Each digit has several hand-designed stroke templates (sevens with
and without a bar, ones with a flag and a base, open and closed fours, eights in one or
two strokes, ...). Every sample varies them at random: size and place on the canvas,
aspect, slant, rotation, stroke width, wobble of the hand, speed (a fast hand gives few
mouse events, hence polygonal strokes) and stroke direction and order. The samples are
replayed as real mouse events (press, moves, release) on the canvas of an offscreen main
window and scored through the `predictedDigit` label, so everything a drawing goes
through is measured: the canvas, preprocessing and the model.

    python benchmarks/drawn_digits.py [--per-digit 40] [--seed 0] [--checkpoint PATH]

Prints accuracy overall and per digit, and the most common confusions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QLabel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_desk.core import drawn, tracing  # noqa: E402
from tests.drawing import catmull_rom, move, press, release  # noqa: E402

Point = tuple[float, float]
Stroke = list[Point]


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 12) -> Stroke:
    """Points on an elliptic arc; angles in degrees, 0 = right, 90 = down (screen)."""
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in np.linspace(a0, a1, n)
    ]


# Templates in a unit box (x right, y down). Each is a list of strokes; each stroke a list
# of control points through which a smooth curve is drawn ("|" entries split corners).
TEMPLATES: dict[int, list[list[Stroke]]] = {
    0: [
        [arc(0.5, 0.5, 0.32, 0.45, -90, 275, 20)],  # counter-clockwise from the top
        [arc(0.5, 0.5, 0.3, 0.45, -80, -440, 20)],  # clockwise, overlapping the start
        [arc(0.52, 0.5, 0.25, 0.46, -120, 245, 18)],  # narrow
    ],
    1: [
        [[(0.5, 0.05), (0.5, 0.95)]],
        [[(0.3, 0.22), (0.55, 0.05), (0.55, 0.95)]],  # with a flag
        [[(0.32, 0.2), (0.55, 0.05), (0.55, 0.95)], [(0.3, 0.95), (0.8, 0.95)]],  # flag + base
        [[(0.6, 0.05), (0.4, 0.95)]],  # slanted
    ],
    2: [
        [[*arc(0.5, 0.3, 0.32, 0.25, 200, 360, 8), (0.75, 0.45), (0.2, 0.95), (0.85, 0.95)]],
        [
            [
                *arc(0.5, 0.28, 0.3, 0.23, 190, 380, 9),
                (0.22, 0.9),
                (0.35, 0.82),
                (0.5, 0.92),
                (0.85, 0.95),
            ]
        ],  # a small loop at the bottom left
        [[(0.2, 0.2), (0.5, 0.05), (0.8, 0.2), (0.75, 0.45), (0.15, 0.95), (0.9, 0.92)]],
        [[(0.15, 0.1), (0.8, 0.1), (0.2, 0.9), (0.85, 0.9)]],  # angular, like a Z
    ],
    3: [
        [[*arc(0.45, 0.27, 0.3, 0.22, 200, 450, 10), *arc(0.45, 0.72, 0.33, 0.24, -90, 160, 10)]],
        [[(0.2, 0.05), (0.8, 0.05), (0.45, 0.42), *arc(0.45, 0.7, 0.33, 0.26, -70, 160, 10)]],
        [[*arc(0.5, 0.27, 0.28, 0.22, 210, 440, 10), *arc(0.5, 0.72, 0.3, 0.24, -80, 170, 10)]],
    ],
    4: [
        [[(0.6, 0.05), (0.15, 0.65), (0.9, 0.65)], [(0.7, 0.3), (0.7, 0.95)]],  # closed, 2 strokes
        [[(0.25, 0.05), (0.2, 0.6), (0.85, 0.6)], [(0.7, 0.05), (0.7, 0.95)]],  # open
        [[(0.7, 0.95), (0.7, 0.05), (0.15, 0.65), (0.9, 0.65)]],  # one stroke
        [[(0.3, 0.05), (0.25, 0.55), (0.8, 0.5)], [(0.75, 0.1), (0.7, 0.95)]],
        [[(0.45, 0.05), (0.1, 0.62), (0.95, 0.6)], [(0.62, 0.25), (0.6, 0.95)]],  # long bar
    ],
    5: [
        [
            [(0.3, 0.05), (0.25, 0.45), *arc(0.5, 0.67, 0.3, 0.27, -130, 150, 10)],
            [(0.3, 0.05), (0.8, 0.05)],
        ],  # body first, bar second
        [[(0.8, 0.05), (0.3, 0.05), (0.25, 0.45), *arc(0.5, 0.67, 0.3, 0.27, -130, 150, 10)]],
        [
            [
                (0.8, 0.06),
                (0.28, 0.06),
                (0.22, 0.48),
                (0.6, 0.42),
                (0.78, 0.65),
                (0.6, 0.92),
                (0.2, 0.88),
            ]
        ],  # angular
        [
            [
                (0.85, 0.1),
                (0.5, 0.03),
                (0.3, 0.15),
                (0.3, 0.45),
                (0.7, 0.5),
                (0.75, 0.78),
                (0.45, 0.95),
                (0.15, 0.82),
            ]
        ],  # rounded, almost an S
    ],
    6: [
        [[(0.7, 0.05), (0.35, 0.35), *arc(0.5, 0.7, 0.28, 0.25, 180, 540, 14)]],
        [[(0.75, 0.08), (0.45, 0.1), (0.25, 0.45), *arc(0.5, 0.7, 0.27, 0.24, 170, 520, 14)]],
        [
            [(0.65, 0.05), (0.3, 0.55), (0.32, 0.88), *arc(0.5, 0.78, 0.18, 0.16, 180, 540, 12)]
        ],  # small loop
    ],
    7: [
        [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)]],
        [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)], [(0.3, 0.5), (0.75, 0.5)]],  # with a bar
        [[(0.15, 0.12), (0.2, 0.05), (0.85, 0.05), (0.55, 0.5), (0.45, 0.95)]],  # curved stem
        [
            [(0.15, 0.2), (0.15, 0.05), (0.85, 0.05), (0.45, 0.95)],
            [(0.35, 0.48), (0.75, 0.5)],
        ],  # hook, bar
    ],
    8: [
        [
            [
                *arc(0.5, 0.27, 0.25, 0.22, 0, -270, 10),
                (0.3, 0.55),
                *arc(0.5, 0.73, 0.28, 0.23, 180, 450, 10),
                (0.65, 0.42),
                (0.75, 0.27),
            ]
        ],  # one stroke, crossing in the middle
        [
            arc(0.5, 0.27, 0.25, 0.22, 0, 360, 14),
            arc(0.5, 0.72, 0.3, 0.24, 0, 360, 14),
        ],  # two loops
        [
            [
                (0.7, 0.12),
                (0.5, 0.05),
                (0.3, 0.15),
                (0.35, 0.35),
                (0.65, 0.6),
                (0.7, 0.85),
                (0.5, 0.95),
                (0.3, 0.85),
                (0.35, 0.6),
                (0.65, 0.38),
                (0.7, 0.15),
            ]
        ],  # S then back up
    ],
    9: [
        [[*arc(0.5, 0.3, 0.28, 0.24, 0, -360, 14), (0.78, 0.3), (0.72, 0.95)]],
        [[*arc(0.5, 0.28, 0.28, 0.22, -20, -380, 14), (0.78, 0.3), (0.7, 0.65), (0.55, 0.95)]],
        [arc(0.5, 0.28, 0.27, 0.22, 0, 360, 14), [(0.77, 0.25), (0.77, 0.95)]],  # two strokes
        [
            [
                *arc(0.5, 0.28, 0.28, 0.22, 0, -360, 14),
                (0.78, 0.3),
                (0.72, 0.8),
                (0.5, 0.95),
                (0.25, 0.85),
            ]
        ],  # like a g
    ],
}


# Drawings that are no digit: letters that resemble none, symbols, scribbles. The app
# should show them as unsure rather than announce a digit with confidence.
NOT_DIGITS: dict[str, list[list[Stroke]]] = {
    "A": [[[(0.1, 0.95), (0.5, 0.05), (0.9, 0.95)], [(0.28, 0.6), (0.72, 0.6)]]],
    "E": [[[(0.85, 0.05), (0.2, 0.05), (0.2, 0.95), (0.85, 0.95)], [(0.2, 0.5), (0.7, 0.5)]]],
    "H": [[[(0.2, 0.05), (0.2, 0.95)], [(0.8, 0.05), (0.8, 0.95)], [(0.2, 0.5), (0.8, 0.5)]]],
    "K": [[[(0.25, 0.05), (0.25, 0.95)], [(0.8, 0.05), (0.25, 0.55), (0.85, 0.95)]]],
    "M": [[[(0.1, 0.95), (0.15, 0.05), (0.5, 0.6), (0.85, 0.05), (0.9, 0.95)]]],
    "W": [[[(0.05, 0.05), (0.25, 0.95), (0.5, 0.35), (0.75, 0.95), (0.95, 0.05)]]],
    "X": [[[(0.15, 0.05), (0.85, 0.95)], [(0.85, 0.05), (0.15, 0.95)]]],
    "#": [
        [
            [(0.35, 0.05), (0.3, 0.95)],
            [(0.7, 0.05), (0.65, 0.95)],
            [(0.1, 0.35), (0.9, 0.35)],
            [(0.1, 0.65), (0.9, 0.65)],
        ]
    ],
    "scribble": [
        [
            [
                (0.1, 0.2),
                (0.9, 0.3),
                (0.15, 0.45),
                (0.85, 0.55),
                (0.1, 0.7),
                (0.9, 0.8),
                (0.2, 0.95),
                (0.8, 0.05),
            ]
        ]
    ],
    "spiral": [
        [
            [
                (0.5 + 0.045 * t * math.cos(t), 0.5 + 0.045 * t * math.sin(t))
                for t in np.linspace(0, 10, 40)
            ]
        ]
    ],
    "star": [[[(0.5, 0.05), (0.78, 0.95), (0.05, 0.38), (0.95, 0.38), (0.22, 0.95), (0.5, 0.05)]]],
}


@dataclass(frozen=True)
class Sample:
    digit: int | None  # None: not a digit
    strokes: list[Stroke]  # in canvas units (0..1)
    brush_px: int  # at the canvas's 280-pixel scale


def make_sample(
    digit: int | None, templates: list[list[Stroke]], rng: np.random.Generator
) -> Sample:
    strokes = [list(s) for s in templates[rng.integers(len(templates))]]
    # the hand: wobble on the control points
    wobble = rng.uniform(0.0, 0.04)
    strokes = [
        [(x + rng.normal(0, wobble), y + rng.normal(0, wobble)) for x, y in s] for s in strokes
    ]
    # speed: a slow hand traces the curve densely, a fast one leaves a polygon
    fast = rng.random() < 0.35
    dense = [catmull_rom(s, 1 if fast else 8) if len(s) > 2 else s for s in strokes]
    if not fast:  # tremor along the path
        tremor = rng.uniform(0.0, 0.006)
        dense = [
            [(x + rng.normal(0, tremor), y + rng.normal(0, tremor)) for x, y in s] for s in dense
        ]
    # direction and order of strokes
    if rng.random() < 0.2:
        dense = [s[::-1] for s in dense]
    if len(dense) > 1 and rng.random() < 0.3:
        dense = dense[::-1]
    # geometry: aspect, slant, rotation, size, place
    height = rng.uniform(0.3, 0.9)
    width = height * rng.uniform(0.55, 0.95)
    slant = rng.uniform(-0.45, 0.3)  # x shifts by slant * (0.5 - y): forward slant is common
    angle = math.radians(rng.uniform(-12, 12))
    cx = rng.uniform(0.5 - (0.95 - height) / 2, 0.5 + (0.95 - height) / 2)
    cy = rng.uniform(0.5 - (0.95 - height) / 2, 0.5 + (0.95 - height) / 2)

    def place(x: float, y: float) -> Point:
        x, y = (x - 0.5) * width, (y - 0.5) * height
        x -= slant * y
        x, y = x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)
        return (min(max(cx + x, 0.01), 0.99), min(max(cy + y, 0.01), 0.99))

    placed = [[place(x, y) for x, y in s] for s in dense]
    brush = int(rng.choice([rng.integers(8, 16), rng.integers(16, 28), rng.integers(28, 44)]))
    return Sample(digit, placed, brush)


def make_samples(per_digit: int, seed: int) -> list[Sample]:
    rng = np.random.default_rng(seed)
    return [make_sample(d, TEMPLATES[d], rng) for _ in range(per_digit) for d in range(10)]


def make_non_digits(per_kind: int, seed: int) -> list[Sample]:
    rng = np.random.default_rng(seed + 1)
    return [make_sample(None, t, rng) for _ in range(per_kind) for t in NOT_DIGITS.values()]


def on_canvas(digit: int | None, strokes: list[np.ndarray], rng: np.random.Generator) -> Sample:
    """Strokes (any units) drawn at a random size and place on the canvas."""
    height = rng.uniform(0.35, 0.85)
    x, y = rng.uniform(0.05, 0.95 - height, 2)
    placed = drawn.place(strokes, (x, y, height, height))
    clipped = [[(float(min(max(px, 0.01), 0.99)), float(min(max(py, 0.01), 0.99))) for px, py in s]
               for s in placed]  # fmt: skip
    return Sample(digit, clipped, int(rng.integers(8, 44)))


def pick_mnist(split: str, per_digit: int, seed: int) -> list[tuple[int, np.ndarray]]:
    """`per_digit` images of each digit from MNIST's `split` ("train" or "test"), picked
    at random with `seed` and the same for every model."""
    from mnist_desk.core.data import load_mnist

    mnist = load_mnist(os.environ.get("MNIST_DESK_DATA"))
    images = (mnist.test_images if split == "test" else mnist.train_images).numpy()
    labels = (mnist.test_labels if split == "test" else mnist.train_labels).numpy()
    order = np.random.default_rng(seed).permutation(len(labels))
    picked: list[tuple[int, np.ndarray]] = []
    for d in range(10):
        of_d = order[labels[order] == d][:per_digit]
        picked += [(d, images[i]) for i in of_d]
    return picked


def traced_samples(
    split: str, per_digit: int, seed: int, pace: float | None = None, style: bool = False
) -> list[Sample]:
    """MNIST digits of `split` traced to their centre lines (core.tracing) and drawn as a
    hand draws them at a random pace (core.drawn.by_hand) on the canvas."""
    rng = np.random.default_rng(seed + 2)
    out = []
    for digit, image in pick_mnist(split, per_digit, seed):
        strokes = tracing.trace(image.astype(np.float32) / 255.0)
        if style:
            strokes = drawn.european(strokes, digit, rng)
        out.append(on_canvas(digit, drawn.by_hand(strokes, rng, pace), rng))
    return out


# Fonts no training data was made from (scripts/make_drawn_data.py uses others): their
# letters and symbols are the non-digits the benchmark scores.
HELD_OUT_FONTS = [
    "NimbusSans-Regular.otf", "NimbusSans-Italic.otf", "C059-Roman.otf", "C059-Italic.otf",
    "URWGothic-Book.otf", "URWGothic-BookOblique.otf", "URWBookman-Light.otf",
    "URWBookman-LightItalic.otf", "Z003-MediumItalic.otf", "NimbusMonoPS-Regular.otf",
]  # fmt: skip


def glyph_samples(chars: str, seed: int) -> tuple[list[Sample], list[str]]:
    """The characters of every held-out font that is installed, traced and drawn by hand;
    and the fonts that were found."""
    rng = np.random.default_rng(seed + 3)
    out, found = [], []
    for name in HELD_OUT_FONTS:
        font = drawn.find_font(name)
        if font is None:
            continue
        found.append(name)
        for char in chars:
            strokes = drawn.glyph(font, char)
            if strokes:
                out.append(on_canvas(None, drawn.by_hand(strokes, rng), rng))
    return out, found


def scribble_samples(n: int, seed: int) -> list[Sample]:
    rng = np.random.default_rng(seed + 1_000_003)  # never a seed the training data used
    return [on_canvas(None, drawn.by_hand(drawn.scribble(rng), rng), rng) for _ in range(n)]


def replay(window, sample: Sample) -> str:  # type: ignore[no-untyped-def]
    """Draw the sample with mouse events on the real canvas; return what the app reads
    (the text of `predictedDigit`)."""
    tab = window.draw_tab
    tab.canvas.clear()
    tab.brush_slider.setValue(sample.brush_px)
    for stroke in sample.strokes:
        press(tab.canvas, *stroke[0])
        for point in stroke[1:]:
            move(tab.canvas, *point)
        release(tab.canvas, *stroke[-1])
    tab.predict_now()
    return window.findChild(QLabel, "predictedDigit").text()


def shown_unsure(window) -> bool:  # type: ignore[no-untyped-def]
    return window.findChild(QLabel, "confidence").text().startswith("unsure")


@dataclass
class Reading:
    read: str  # the text of predictedDigit
    confidence: float  # the top probability, 0..1
    unsure: bool  # shown as unsure


def read_all(window, samples: list[Sample]) -> list[Reading]:  # type: ignore[no-untyped-def]
    out = []
    for sample in samples:
        read = replay(window, sample)
        prediction = window.reading.prediction
        out.append(
            Reading(read, prediction.confidence if prediction else 0.0, shown_unsure(window))
        )
    return out


@dataclass
class Result:
    accuracy: float
    per_digit: dict[int, float]
    confusions: Counter[tuple[int, str]]
    digits_unsure: float  # share of real digits shown as unsure (false alarms)
    confidences: list[float]


def score(samples: list[Sample], readings: list[Reading]) -> Result:
    per_digit: dict[int, list[bool]] = {d: [] for d in range(10)}
    confusions: Counter[tuple[int, str]] = Counter()
    for sample, reading in zip(samples, readings, strict=True):
        assert sample.digit is not None
        ok = reading.read == str(sample.digit)
        per_digit[sample.digit].append(ok)
        if not ok:
            confusions[(sample.digit, reading.read or "nothing")] += 1
    return Result(
        100
        * float(np.mean([r.read == str(s.digit) for s, r in zip(samples, readings, strict=True)])),
        {d: 100 * float(np.mean(v)) for d, v in per_digit.items() if v},
        confusions,
        100 * float(np.mean([r.unsure for r in readings])),
        [r.confidence for r in readings],
    )


def report(title: str, r: Result, n: int) -> None:
    print(f"{title}: {r.accuracy:.1f}% of {n}")
    print("  per digit: " + "  ".join(f"{d}: {a:.0f}%" for d, a in r.per_digit.items()))
    print(
        "  most common confusions: "
        + ", ".join(f"{d}->{n_} ({k})" for (d, n_), k in r.confusions.most_common(8))
    )
    print(f"  shown as unsure: {r.digits_unsure:.1f}%")


def flagged(title: str, readings: list[Reading]) -> float:
    rate = 100 * float(np.mean([r.unsure for r in readings])) if readings else float("nan")
    print(f"{title}: {rate:.1f}% shown as unsure or not a digit ({len(readings)} drawings)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-digit", type=int, default=40, help="template drawings per digit")
    parser.add_argument(
        "--traced", type=int, default=100, help="MNIST digits per digit and split to trace"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", help="read with this model (default: the bundled one)")
    parser.add_argument(
        "--sources",
        default="templates,test,train,others",
        help="comma-separated: templates, test (traced MNIST test digits: the score), "
        "train (traced MNIST training digits: for tuning), others (non-digits)",
    )
    parser.add_argument(
        "--pace", type=float, help="draw traced digits at this pace (default: mixed)"
    )
    parser.add_argument(
        "--european", action="store_true", help="traced ones and sevens in European style"
    )
    parser.add_argument("--save", type=Path, help="also save the first 100 drawings as a PNG sheet")
    parser.add_argument("--json", type=Path, help="write the readings' confidences here")
    parser.add_argument(
        "--curve", type=Path, help="draw the unsure rates against the threshold in this PNG"
    )
    args = parser.parse_args()
    sources = set(args.sources.split(","))

    from mnist_desk.gui import create_window

    window = create_window()
    window.resize(1100, 720)
    window.show()
    if args.checkpoint:
        window.session.open(args.checkpoint)
    print(f"model: {window.session.name}")
    dump: dict[str, list[float]] = {}
    first: list[Sample] = []
    if "templates" in sources:
        samples = make_samples(args.per_digit, args.seed)
        r = score(samples, read_all(window, samples))
        report(f"template drawings ({args.per_digit} per digit, seed {args.seed})", r, len(samples))
        first = first or samples
    for split in ("test", "train"):
        if split in sources:
            samples = traced_samples(split, args.traced, args.seed, args.pace, args.european)
            r = score(samples, read_all(window, samples))
            use = "the score" if split == "test" else "for tuning"
            report(f"traced MNIST {split} digits ({use})", r, len(samples))
            dump[f"digits_{split}"] = r.confidences
            first = first or samples
    if "others" in sources:
        chars = drawn.NON_DIGIT_GLYPHS
        glyphs, fonts = glyph_samples(chars, args.seed)
        looks, _ = glyph_samples("".join(sorted(drawn.LOOKALIKES)), args.seed)
        print(f"held-out fonts found: {len(fonts)} of {len(HELD_OUT_FONTS)}")
        templates = make_non_digits(max(1, args.per_digit // 4), args.seed)
        scribbles = scribble_samples(200, args.seed)
        read = {name: read_all(window, s) for name, s in
                (("letters and symbols", glyphs), ("hand-made templates", templates),
                 ("scribbles", scribbles), ("lookalikes (scored apart)", looks))}  # fmt: skip
        rates = {name: flagged(f"  {name}", r) for name, r in read.items()}
        others = [r for name, rs in read.items() if "lookalike" not in name for r in rs]
        flagged("non-digits (all but the lookalikes)", others)
        dump["non_digits"] = [r.confidence for r in others]
        dump["lookalikes"] = [r.confidence for r in read["lookalikes (scored apart)"]]
        del rates
    if args.curve and "digits_test" in dump and "non_digits" in dump:
        threshold_curve(dump, args.curve)
    if args.json:
        args.json.write_text(json.dumps(dump))
        print(f"wrote {args.json}")
    if args.save and first:
        save_sheet(window, first[:100], args.save)
    window.session.dirty = False
    window.close()


def flagged_share(confidences: list[float], threshold: float) -> float:
    return 100 * float(np.mean(np.asarray(confidences) < threshold)) if confidences else 0.0


def threshold_curve(dump: dict[str, list[float]], path: Path) -> None:
    """Share of digits and of non-digits shown as unsure, for every threshold: the
    trade-off the app's default (core.predictor.UNSURE_BELOW) is one point of."""
    import pyqtgraph as pg
    import pyqtgraph.exporters
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from mnist_desk.core.predictor import UNSURE_BELOW

    t = np.linspace(0.1, 1.0, 91)
    plot = pg.PlotWidget(background="w")
    plot.resize(720, 420)
    item = plot.getPlotItem()
    item.addLegend(offset=(10, 150), labelTextColor="k")
    item.setLabel("bottom", "threshold: a reading less sure than this is shown as unsure")
    item.setLabel("left", "shown as unsure or not a digit (%)")
    item.setTitle("Where to draw the line between a digit and a guess", color="k")
    series = [
        ("non-digits (letters and symbols of held-out fonts, scribbles, templates)",
         dump["non_digits"], (200, 80, 0)),
        ("digits traced from the MNIST test set, drawn by hand", dump["digits_test"],
         (20, 90, 200)),
    ]  # fmt: skip
    if "digits_train" in dump:
        series.append(("the same from the training set (the threshold is chosen here)",
                       dump["digits_train"], (120, 160, 220)))  # fmt: skip
    for name, conf, colour in series:
        rates = [flagged_share(conf, x) for x in t]
        item.plot(t, rates, pen=pg.mkPen(colour, width=2), name=name)
    item.addItem(
        pg.InfiniteLine(UNSURE_BELOW, pen=pg.mkPen((90, 90, 90), style=Qt.PenStyle.DashLine))
    )
    item.setYRange(0, 100)
    item.showGrid(x=True, y=True, alpha=0.3)
    QApplication.processEvents()
    exporter = pyqtgraph.exporters.ImageExporter(item)
    exporter.parameters()["width"] = 1000
    exporter.export(str(path))
    d, n = dump["digits_test"], dump["non_digits"]
    print(
        f"at the default {UNSURE_BELOW}: {flagged_share(n, UNSURE_BELOW):.1f}% of non-digits "
        f"and {flagged_share(d, UNSURE_BELOW):.1f}% of test digits shown as unsure; wrote {path}"
    )


def save_sheet(window, samples: list[Sample], path: Path) -> None:  # type: ignore[no-untyped-def]
    """The drawings as the canvas shows them (top) and as the network sees them (bottom)."""
    from PIL import Image

    tiles, seen = [], []
    for sample in samples:
        replay(window, sample)
        canvas = window.draw_tab.canvas.render_array(112)
        tiles.append(canvas)
        mnist = window.draw_tab.prediction.image if window.draw_tab.prediction else None
        seen.append(np.kron(mnist if mnist is not None else np.zeros((28, 28)), np.ones((4, 4))))
    rows = []
    for i in range(0, len(samples), 10):
        rows.append(np.hstack([np.pad(t, 2) for t in tiles[i : i + 10]]))
        rows.append(np.hstack([np.pad((s * 255).astype(np.uint8), 2) for s in seen[i : i + 10]]))
    Image.fromarray(np.vstack(rows).astype(np.uint8)).save(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
