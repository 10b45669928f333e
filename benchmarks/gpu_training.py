"""Training on a CUDA GPU, in one go: the notebook's DataLoader pipeline, the trainer in
eager mode and the trainer with the step captured in a CUDA graph.

  1. seconds per epoch of the seed recipe (batch 64): eager trainer, captured trainer
     (the target is <= 0.6 s on an H100/H200), and the notebook pipeline with 2 and 8
     workers;
  2. time to 99.0% test accuracy with the best preset, mean over seeds: from the first
     step to the end of the step whose model first scores 99.0%, evaluation excluded
     (checked every 32 steps; the target is <= 0.5 s);
  3. accuracy of eager against captured, same recipe, mean over seeds (must agree within
     noise).

Needs CUDA; on a machine without it, it says so and exits with status 1.

    python benchmarks/gpu_training.py [--seeds 5] [--skip-notebook]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from mnist_desk.core.config import ModelConfig
from mnist_desk.core.data import MNIST, load_mnist
from mnist_desk.core.evaluation import evaluate
from mnist_desk.core.presets import preset
from mnist_desk.core.training import BatchMetrics, Trainer


def notebook_epoch(data: MNIST, workers: int) -> float:
    from torch.utils.data import DataLoader

    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from train_throughput import NotebookMNIST

    from mnist_desk.core.model import build_model

    model = build_model(ModelConfig()).cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
    loader = DataLoader(
        NotebookMNIST(data.train_images, data.train_labels),
        batch_size=64,
        shuffle=True,
        num_workers=workers,
        pin_memory=True,
    )
    torch.cuda.synchronize()
    start = time.perf_counter()
    for x, y in loader:
        x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
        optimizer.zero_grad()
        loss = torch.nn.functional.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def trainer_epochs(
    data: MNIST, graphs: bool, epochs: int, seed: int
) -> tuple[list[float], float, str]:
    model_cfg, train_cfg = preset("seed")
    cfg = train_cfg.replace(epochs=epochs, seed=seed, device="cuda", cuda_graphs=graphs)
    trainer = Trainer(model_cfg, cfg, data)
    history = trainer.run()
    return [h.seconds for h in history], history[-1].test_acc, trainer.step_mode


def time_to_99(data: MNIST, seed: int, name: str = "best", target: float = 99.0) -> float:
    model_cfg, train_cfg = preset(name)
    trainer = Trainer(model_cfg, train_cfg.replace(seed=seed, device="cuda"), data)
    training_time, last = 0.0, time.perf_counter()
    for m in trainer:
        if not isinstance(m, BatchMetrics) or m.batch % 32:
            continue
        torch.cuda.synchronize()
        training_time += time.perf_counter() - last
        acc = evaluate(trainer.final_model, trainer._test_x, trainer._test_y).accuracy
        trainer.model.train()
        if acc >= target:
            return training_time
        torch.cuda.synchronize()
        last = time.perf_counter()
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--skip-notebook", action="store_true")
    parser.add_argument(
        "--only-time-to-99",
        action="store_true",
        help="only part 2, for the best and fast presets, and the fast preset's accuracy",
    )
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device here: this benchmark needs a GPU", file=sys.stderr)
        return 1
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    data = load_mnist()
    # the headline figures first, so that a run cut short still reports them
    accuracy: dict[bool, list[float]] = {False: [], True: []}
    epoch_times: dict[bool, list[float]] = {False: [], True: []}

    def seed_runs(seed: int) -> None:
        for graphs in (False, True):
            seconds, acc, mode = trainer_epochs(data, graphs, 5, seed)
            accuracy[graphs].append(acc)
            epoch_times[graphs] += seconds[1:]  # the first epoch includes warm-up and capture
            print(
                f"seed {seed}, {mode}: epochs {', '.join(f'{s:.2f}' for s in seconds)} s, "
                f"test {acc:.2f}%",
                flush=True,
            )

    if args.only_time_to_99:
        for name in ("best", "fast"):
            times = [time_to_99(data, s, name) for s in range(args.seeds)]
            print(
                f"time to 99.0%, {name} preset: {', '.join(f'{t:.2f}' for t in times)} s, "
                f"mean {statistics.mean(times):.2f} s",
                flush=True,
            )
        model_cfg, train_cfg = preset("fast")
        for seed in range(3):
            trainer = Trainer(model_cfg, train_cfg.replace(seed=seed, device="cuda"), data)
            history = trainer.run()
            seconds = statistics.median(h.seconds for h in history[1:])
            print(
                f"fast preset, seed {seed}: final test {history[-1].test_acc:.2f}%, "
                f"{seconds:.2f} s per epoch ({trainer.step_mode})",
                flush=True,
            )
        return 0
    seed_runs(0)
    times = []
    for seed in range(args.seeds):
        times.append(time_to_99(data, seed))
        print(f"time to 99.0% (best preset), seed {seed}: {times[-1]:.2f} s", flush=True)
    print(f"time to 99.0%: mean {statistics.mean(times):.2f} s over {len(times)} seeds")
    if not args.skip_notebook:
        for workers in (2, 8):
            seconds = notebook_epoch(data, workers)
            print(f"notebook pipeline, {workers} workers: {seconds:.2f} s/epoch", flush=True)
    for seed in range(1, args.seeds):
        seed_runs(seed)
    for graphs, accs in accuracy.items():
        name = "captured" if graphs else "eager"
        print(
            f"{name}: median epoch {statistics.median(epoch_times[graphs]):.2f} s (epochs 2-5), "
            f"mean test accuracy {statistics.mean(accs):.2f}% "
            f"(sd {statistics.pstdev(accs):.2f}) over {len(accs)} seeds"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
