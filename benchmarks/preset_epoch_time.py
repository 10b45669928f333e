"""Seconds per training epoch of the `seed` and `best` presets on this machine, side by
side: one epoch of each in turn, several rounds, medians and their ratio. The issue asks
that `best` stay within 2x the seed recipe's per-epoch time.

    python benchmarks/preset_epoch_time.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics

import torch

from mnist_desk.core.data import load_mnist
from mnist_desk.core.model import build_model, count_parameters
from mnist_desk.core.presets import PRESETS, preset
from mnist_desk.core.training import EpochMetrics, Trainer


def epoch_seconds(name: str, data, seed: int) -> float:  # type: ignore[no-untyped-def]
    model, train = preset(name)
    trainer = Trainer(model, train.replace(epochs=1, seed=seed), data)
    return next(m.seconds for m in trainer if isinstance(m, EpochMetrics))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = load_mnist()
    times: dict[str, list[float]] = {name: [] for name in PRESETS}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for r in range(args.rounds):
        for name in times:
            times[name].append(epoch_seconds(name, data, seed=r))
        print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1]:.2f} s" for n, v in times.items()))
    for name, values in times.items():
        model, train = preset(name)
        params = count_parameters(build_model(model))
        print(
            f"{name:<5} {params:>6,} parameters, batch {train.batch_size:>3}: "
            f"{statistics.median(values):.2f} s per epoch (median)"
        )
    ratio = statistics.median(times["best"]) / statistics.median(times["seed"])
    print(f"best / seed = {ratio:.2f}x per epoch (target <= 2x)")


if __name__ == "__main__":
    main()
