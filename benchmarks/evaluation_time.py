"""The 10,000 test images evaluated as the Explore tab evaluates them (its worker, in
chunks of 500), with the network in the channels-last memory layout the app now uses and
in the default layout it used before, side by side in one run.

    python benchmarks/evaluation_time.py [--rounds 5] [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_desk.bundled import load_bundled_checkpoint
from mnist_desk.core import evaluation
from mnist_desk.core.checkpoint import load_checkpoint
from mnist_desk.gui.explorer_tab import EvaluationWorker
from mnist_desk.gui.mnist_cache import MnistCache


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--checkpoint", help="default: the bundled model")
    args = parser.parse_args()
    checkpoint = load_checkpoint(args.checkpoint) if args.checkpoint else load_bundled_checkpoint()
    cache = MnistCache()
    cache.get(None)
    import mnist_desk.gui.explorer_tab as explorer

    layouts = {
        "channels-last (now)": evaluation.cpu_layout,
        "default layout (before)": lambda model: __import__("torch").contiguous_format,
    }
    times: dict[str, list[float]] = {name: [] for name in layouts}
    for _ in range(args.rounds):  # interleaved, so that drift hits both alike
        for name, layout in layouts.items():
            explorer.cpu_layout = layout  # type: ignore[assignment]
            worker = EvaluationWorker(checkpoint.model_config, checkpoint.model_state, cache, None)
            start = time.perf_counter()
            result = worker.work()
            times[name].append(time.perf_counter() - start)
    print(f"{checkpoint.name}: {result.accuracy:.2f}% of {len(result.labels):,} test images")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"  {name:<24} {median:.2f} s (median of {args.rounds})")
    now, before = medians.values()
    print(f"  speed-up {before / now:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
