"""Time `core.robustness` on the 10,000 test images: every kind of damage at its five
default levels, for the compact network (best preset, 24,834 parameters) and the bundled
one, side by side in one run.

    python benchmarks/robustness.py [--rounds 3] [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_desk.bundled import load_bundled_checkpoint  # noqa: E402
from mnist_desk.core.checkpoint import load_checkpoint  # noqa: E402
from mnist_desk.core.config import ModelConfig  # noqa: E402
from mnist_desk.core.data import load_mnist  # noqa: E402
from mnist_desk.core.model import build_model  # noqa: E402
from mnist_desk.core.robustness import DAMAGES, robustness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checkpoint", help="also time this model")
    args = parser.parse_args()
    data = load_mnist()
    models = {
        "compact (24,834 parameters)": build_model(ModelConfig(arch="compact", batchnorm=True)),
        "bundled": load_bundled_checkpoint().build_model(),
    }
    if args.checkpoint:
        models[args.checkpoint] = load_checkpoint(args.checkpoint).build_model()
    print(f"{len(data.test_labels):,} test images x 5 levels, torch threads "
          f"{torch.get_num_threads()}, median of {args.rounds} rounds (s)")  # fmt: skip
    print(f"{'damage':<10} " + "  ".join(f"{name:>28}" for name in models))
    for kind, damage in DAMAGES.items():
        row = []
        for model in models.values():
            times = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                robustness(model, data.test_images, data.test_labels, kind, damage.levels)
                times.append(time.perf_counter() - start)
            row.append(statistics.median(times))
        print(f"{kind:<10} " + "  ".join(f"{t:>28.2f}" for t in row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
