"""The 1x1 question on the full MNIST: the seed CNN with and without its three 1x1
convolutions, the seed recipe, 3 seeds each (as Help › Experiments to Try runs it), every
run kept in the runs library; prints each arm's test accuracy over the seeds, its
parameters and its time per epoch.

    python scripts/one_by_one.py [--seeds 0 1 2] [--runs DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_desk.core.data import load_mnist
from mnist_desk.core.experiments import summarize_arms, the_one_by_one_question
from mnist_desk.core.runs import RunLibrary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", help="the runs library (default: the app's)")
    args = parser.parse_args()
    data = load_mnist()
    start = time.perf_counter()
    trained = the_one_by_one_question(
        data,
        RunLibrary(args.runs),
        seeds=args.seeds,
        progress=lambda done, total, what: print(f"\r{100 * done // total:3d}% {what:70.70}",
                                                 end="", flush=True),
    )  # fmt: skip
    print(f"\n{time.perf_counter() - start:.0f} s in all\n")
    print(f"{'network':38} {'params':>7} {'test accuracy (each seed)':>40} {'s/epoch':>8}")
    for s in summarize_arms(trained):
        each = ", ".join(f"{a:.2f}" for a in s.accuracies)
        print(
            f"{'seed CNN ' + s.arm:38} {s.params:>7,} "
            f"{f'{s.mean:.2f} ± {s.sd:.2f}% ({each})':>40} {s.seconds_per_epoch:>8.2f}"
        )
    print("\nruns:", ", ".join(str(t.run_id) for t in trained))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
