"""Past the fp32 eager floor on the CPU: what bfloat16, torch.compile and threads give the
trainer, side by side in one run, for the seed and the best recipes.

Variants are measured in groups, each group in a fresh process (a compiled model or a
thread setting must not leak into the next), alternating chunks of 25 batches within the
process so that the machine's drifting load falls on all of them alike; the median chunk
counts. Each group carries its own fp32 floor. Ratios are against the fp32 eager floor: the
model's forward, backward and optimiser step alone on in-memory tensors, set up as the
Trainer sets it up (channels-last, fused optimiser), with PyTorch's own cross-entropy, no
data, no augmentation and no metrics. Compile time is reported apart.

Then, with --accuracy, each recipe is trained to the end in fp32 and in bf16 with the
same seeds, and the final test accuracies are compared (the product uses bf16 on its own
only where they agree within 0.1 point).

    python benchmarks/cpu_past_the_floor.py [--recipes seed best] [--chunks 12]
        [--accuracy seed best] [--seeds 0 1 2] [--no-compile]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, statistics, sys, time, torch
recipe, variants, chunks, chunk = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), 25
threads = int(sys.argv[4])
if threads:
    torch.set_num_threads(threads)
from mnist_desk.core.cpu import keep_freed_memory
from mnist_desk.core.data import load_mnist
from mnist_desk.core.model import build_model
from mnist_desk.core.presets import preset
import torch.nn.functional as F
from mnist_desk.core.training import Trainer, make_optimizer
keep_freed_memory()
model_cfg, base = preset(recipe)
data = load_mnist()

def floor(precision):
    torch.manual_seed(0)
    cfg = base.replace(precision=precision)
    model = build_model(model_cfg).to(memory_format=torch.channels_last).train()
    opt = make_optimizer(model, cfg, torch.device("cpu"))
    b = cfg.batch_size
    x = torch.randn(b, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (b,))
    def steps(n):
        for _ in range(n):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16",
                                cache_enabled=False):
                out = model(x)
            loss = F.cross_entropy(out.float(), y, label_smoothing=cfg.label_smoothing)
            for p in model.parameters():
                p.grad = None
            loss.backward()
            opt.step()
    return steps, b, 0.0

def trainer(precision, compiled):
    cfg = base.replace(precision=precision, device="cpu", epochs=1000)
    t = Trainer(model_cfg, cfg, data)
    spent = 0.0
    if compiled:
        start = time.perf_counter()
        t._eager.model = torch.compile(t.model)
    it = iter(t)
    if compiled:
        next(it)  # the first step compiles
        spent = time.perf_counter() - start
    def steps(n):
        for _ in range(n):
            next(it)
    return steps, cfg.batch_size, spent

make = {
    "floor fp32": lambda: floor("fp32"),
    "floor bf16": lambda: floor("bf16"),
    "trainer fp32": lambda: trainer("fp32", False),
    "trainer bf16": lambda: trainer("bf16", False),
    "trainer fp32 + compile": lambda: trainer("fp32", True),
    "trainer bf16 + compile": lambda: trainer("bf16", True),
}
runs = {v: make[v]() for v in variants}
for steps, _, _ in runs.values():
    steps(20)  # warm-up
rates = {v: [] for v in variants}
for _ in range(chunks):  # alternating chunks: drifting load falls on every variant alike
    for v, (steps, b, _) in runs.items():
        start = time.perf_counter()
        steps(chunk)
        rates[v].append(chunk * b / (time.perf_counter() - start))
print(json.dumps({v: {"rate": statistics.median(r), "compile_s": runs[v][2]}
                  for v, r in rates.items()}))
"""

GROUPS = [  # variants measured in one process, alternating; the threads as they come
    (["floor fp32", "floor bf16", "trainer fp32", "trainer bf16"], 0),
    (["floor fp32", "trainer bf16"], 1),
    (["floor fp32", "trainer fp32 + compile", "trainer bf16 + compile"], 0),
]


def child(recipe: str, variants: list[str], chunks: int, threads: int) -> dict[str, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, recipe, ",".join(variants), str(chunks), str(threads)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        print(f"   {recipe} {variants}: failed: {result.stderr[-400:]}")
        return {}
    data: dict[str, dict] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def throughput(recipes: list[str], chunks: int, with_compile: bool) -> None:
    for recipe in recipes:
        print(
            f"\n{recipe} recipe: samples/s, median of {chunks} alternating chunks of 25 "
            "batches; each group in its own process, against its own fp32 floor"
        )
        print(f"   {'variant':30} {'samples/s':>10} {'x fp32 floor':>13}")
        for variants, threads in GROUPS:
            if "compile" in " ".join(variants) and not with_compile:
                continue
            out = child(recipe, variants, chunks, threads)
            if not out:
                continue
            floor = out["floor fp32"]["rate"]
            for v in variants:
                if v == "floor fp32" and v != variants[0]:
                    continue
                rate = out[v]["rate"]
                name = v + (f", {threads} thread" if threads else "")
                note = (
                    f"   (compile {out[v]['compile_s']:.1f} s, paid once)" if "compile" in v else ""
                )
                if v == "floor fp32" and variants is not GROUPS[0][0]:
                    name = f"  (its floor fp32{f', {threads} thread' if threads else ''})"
                print(f"   {name:30} {rate:>10,.0f} {rate / floor:>12.2f}x{note}")


def accuracy(recipes: list[str], seeds: list[int]) -> None:
    from mnist_desk.core.data import load_mnist
    from mnist_desk.core.presets import preset
    from mnist_desk.core.training import Trainer

    data = load_mnist()
    for recipe in recipes:
        model_cfg, train_cfg = preset(recipe)
        accs: dict[str, list[float]] = {"fp32": [], "bf16": []}
        seconds: dict[str, float] = {"fp32": 0.0, "bf16": 0.0}
        for seed in seeds:
            for precision in ("fp32", "bf16"):  # alternating: the same load on both
                config = train_cfg.replace(seed=seed, precision=precision, device="cpu")
                start = time.perf_counter()
                history = Trainer(model_cfg, config, data).run()
                seconds[precision] += time.perf_counter() - start
                accs[precision].append(history[-1].test_acc)
                print(
                    f"   {recipe} seed {seed} {precision}: {history[-1].test_acc:.2f}%", flush=True
                )
        print(f"\n{recipe} recipe, test accuracy after {train_cfg.epochs} epochs, seeds {seeds}:")
        for precision, values in accs.items():
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            print(
                f"   {precision}: mean {statistics.fmean(values):.2f}% ± {sd:.2f} "
                f"({', '.join(f'{a:.2f}' for a in values)}); {seconds[precision]:.0f} s in all"
            )
        diff = statistics.fmean(accs["bf16"]) - statistics.fmean(accs["fp32"])
        print(f"   bf16 - fp32: {diff:+.2f} points (the bar: within 0.1)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", default=["seed", "best"])
    parser.add_argument("--chunks", type=int, default=12)
    parser.add_argument("--accuracy", nargs="*", default=[], help="recipes to train to the end")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from mnist_desk.core.cpu import native_bf16

    print(f"this CPU computes in bfloat16 natively: {native_bf16()}")
    if args.recipes:
        throughput(args.recipes, args.chunks, not args.no_compile)
    if args.accuracy:
        print()
        accuracy(args.accuracy, args.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
