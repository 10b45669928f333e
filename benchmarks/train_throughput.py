"""Training throughput on this machine, three ways side by side, at batch 64:

  (a) the notebook's pipeline as written: torchvision PIL transforms (RandomApply(CenterCrop
      22), Resize 28, RandomRotation 15, ToTensor, Normalize) in a DataLoader with 2 workers,
      feeding the same seed model and Adam;
  (b) mnist_desk's Trainer: the dataset in memory as uint8, per-sample augmentation in one
      affine_grid + grid_sample call, metrics read back every batch;
  (c) the floor: the model's forward, backward and optimiser step alone on random tensors
      already in memory, set up as the Trainer sets it up (channels-last, fused Adam).

Each is timed over the same number of batches after a warm-up, in rounds that alternate
the three so that the machine's background load falls on all of them; the median round
counts. Run:  python benchmarks/train_throughput.py [--batches 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST, load_mnist
from mnist_desk.core.model import build_model
from mnist_desk.core.training import BatchMetrics, Trainer, make_optimizer

WARMUP = 20


class NotebookMNIST(Dataset):  # type: ignore[type-arg]
    """What torchvision.datasets.MNIST does per item: a PIL image through the transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        from torchvision import transforms

        self.images, self.labels = images, labels
        self.transform = transforms.Compose(
            [
                transforms.RandomApply([transforms.CenterCrop(22)], p=0.1),
                transforms.Resize((28, 28)),
                transforms.RandomRotation((-15.0, 15.0), fill=0),
                transforms.ToTensor(),
                transforms.Normalize((0.1307,), (0.3081,)),
            ]
        )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        image = Image.fromarray(self.images[i].numpy(), mode="L")
        return self.transform(image), int(self.labels[i])


def time_notebook(data: MNIST, batches: int) -> float:
    torch.manual_seed(0)
    model = build_model(ModelConfig())
    optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
    loader = DataLoader(
        NotebookMNIST(data.train_images, data.train_labels),
        batch_size=64,
        shuffle=True,
        num_workers=2,
    )
    it = iter(loader)
    start = 0.0
    for i in range(WARMUP + batches):
        if i == WARMUP:
            start = time.perf_counter()
        x, y = next(it)
        optimizer.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
    elapsed = time.perf_counter() - start
    del it
    return batches * 64 / elapsed


def time_trainer(data: MNIST, batches: int) -> float:
    trainer = Trainer(ModelConfig(), TrainConfig(epochs=1), data)
    start = 0.0
    for m in trainer:
        assert isinstance(m, BatchMetrics)
        if m.batch == WARMUP:
            start = time.perf_counter()
        if m.batch == WARMUP + batches:
            return batches * 64 / (time.perf_counter() - start)
    raise RuntimeError("not enough batches")


def time_floor(data: MNIST, batches: int) -> float:
    torch.manual_seed(0)
    fmt = torch.channels_last
    model = build_model(ModelConfig()).to(memory_format=fmt)
    optimizer = make_optimizer(model, TrainConfig(), torch.device("cpu"))  # as the Trainer's
    xs = torch.randn(8, 64, 1, 28, 28)
    ys = torch.randint(0, 10, (8, 64))
    start = 0.0
    for i in range(WARMUP + batches):
        if i == WARMUP:
            start = time.perf_counter()
        x = xs[i % 8].contiguous(memory_format=fmt)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), ys[i % 8])
        loss.backward()
        optimizer.step()
    return batches * 64 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", help="MNIST folder (default: as the app finds it)")
    args = parser.parse_args()
    data = load_mnist(args.data)
    runs: dict[str, Callable[[MNIST, int], float]] = {
        "(a) notebook: PIL transforms, DataLoader, 2 workers": time_notebook,
        "(b) mnist_desk Trainer": time_trainer,
        "(c) floor: model step on in-memory tensors": time_floor,
    }
    results: dict[str, list[float]] = {name: [] for name in runs}
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch 64, "
        f"{args.batches} timed batches, {args.rounds} rounds"
    )
    for r in range(args.rounds):
        for name, fn in runs.items():
            results[name].append(fn(data, args.batches))
        print(f"round {r + 1}: " + ", ".join(f"{v[-1]:,.0f}" for v in results.values()))
    median = {name: statistics.median(v) for name, v in results.items()}
    print()
    for name, value in median.items():
        print(f"{name:<55} {value:>10,.0f} samples/s")
    a, b, c = median.values()
    print()
    print(f"(b) / (a) = {b / a:.2f}x   (target >= 3.5x; issue 5 asks >= 4x)")
    print(f"(b) / (c) = {b / c:.2f}x   (target >= 0.9x)")


if __name__ == "__main__":
    main()
