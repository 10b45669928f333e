"""What each CPU optimisation of the trainer gives, measured side by side.

Each variant trains the seed recipe (batch 64) in a fresh process, with the optimisations
switched on one after another; rounds alternate the variants so that background load
falls on all of them, and the median round counts:

  0 baseline: the trainer with the notebook's defaults (NCHW tensors, Adam's per-tensor
    loop, ReLU allocating new tensors, F.affine_grid, glibc's default malloc)
  1 + channels-last tensors (oneDNN's fast convolutions for few channels)
  2 + fused Adam (one kernel per step instead of ~10 ops per parameter)
  3 + in-place ReLU (four fewer activation tensors per step)
  4 + the sampling grid as one matmul instead of F.affine_grid
  5 + glibc keeping freed blocks (no page faults on reused activations)
  6 + the 1x1 convolutions as matrix products on channels-last tensors
  7 + the inputs of 16 batches gathered and augmented in one pass
  8 + the parameters listed once, not walked through the modules every step
  9 + PyTorch's own cross-entropy when every label is a digit: the trainer now

    python benchmarks/cpu_speedups.py [--batches 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CHILD = r"""
import sys, time, torch, torch.nn.functional as F
level, batches = int(sys.argv[1]), int(sys.argv[2])
from mnist_desk.core import augment, model, steps, training
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import load_mnist
if level < 9:
    long_loss = steps.loss_and_correct
    steps.loss_and_correct = lambda out, y, smoothing, digits_only=False: long_loss(
        out, y, smoothing)
if level < 7:
    training.INPUT_CHUNK = 1
if level < 6:
    model.PointwiseConv2d.forward = torch.nn.Conv2d.forward
if level < 5:
    training.keep_freed_memory = lambda: False
if level < 4:
    augment.sampling_grid = lambda theta, h, w: F.affine_grid(
        theta, [theta.shape[0], 1, h, w], align_corners=False)
trainer = training.Trainer(ModelConfig(), TrainConfig(epochs=1), load_mnist())
if level < 8:
    class EveryStep:  # walks the modules for the parameters at every step, as before
        def __iter__(self):
            return iter(trainer.model.parameters())
    trainer._eager._params = EveryStep()
if level < 3:
    for module in trainer.model.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False
if level < 2:
    trainer.optimizer = torch.optim.Adam(trainer.model.parameters(), lr=0.002)
if level < 1:
    trainer._memory_format = torch.contiguous_format
    trainer.model.to(memory_format=torch.contiguous_format)
start = 0.0
for m in trainer:
    if m.batch == 20:
        start = time.perf_counter()
    if m.batch == 20 + batches:
        print(batches * 64 / (time.perf_counter() - start))
        break
"""

NAMES = [
    "baseline",
    "+ channels-last",
    "+ fused Adam",
    "+ in-place ReLU",
    "+ matmul sampling grid",
    "+ glibc keeps freed memory",
    "+ 1x1 convs as matmuls",
    "+ inputs 16 batches a pass",
    "+ parameters listed once",
    "+ short cross-entropy",
]


def measure(level: int, batches: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(level), str(batches)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: list[list[float]] = [[] for _ in NAMES]
    start = time.time()
    for r in range(args.rounds):
        for level in range(len(NAMES)):
            results[level].append(measure(level, args.batches))
        print(f"round {r + 1}: " + ", ".join(f"{v[-1]:,.0f}" for v in results), flush=True)
    base = statistics.median(results[0])
    previous = base
    print(
        f"\nseed recipe, batch 64, {args.batches} batches, median of {args.rounds} rounds "
        f"({time.time() - start:.0f} s):"
    )
    for name, values in zip(NAMES, results, strict=True):
        value = statistics.median(values)
        print(
            f"  {name:<28} {value:>8,.0f} samples/s  x{value / previous:.2f} step, "
            f"x{value / base:.2f} total"
        )
        previous = value


if __name__ == "__main__":
    main()
