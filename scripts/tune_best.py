"""How the `best` preset was chosen: candidates trained on 55,000 training images and
scored on a validation split of 5,000 more. The 10,000 test images are never loaded:
the validation split plays the part of the test set for the Trainer.

    python scripts/tune_best.py F2-ema-bs64:0 F2-ema-bs64:1 ...   # name[:seed]
    python scripts/tune_best.py --list

Results are appended to runs/tune/results.jsonl, one JSON object per run (the
validation accuracy of every epoch, train accuracy, seconds per epoch). docs/best-preset.md
summarises them. Candidate networks are described by a small spec language so that they
need not live in the product: an int c is conv3x3 -> BN -> ReLU with c channels; ("p", c)
is conv3x3 -> maxpool -> BN -> ReLU; ("1", c) a 1x1 conv; "M" a maxpool. The head is a
1x1 conv to 10 and global average pooling. The spec chosen became `compact` in
mnist_desk/core/model.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mnist_desk.core import training
from mnist_desk.core.config import AugmentConfig, ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST, load_mnist
from mnist_desk.core.model import build_model
from mnist_desk.core.training import EpochMetrics, Trainer, split_train_val

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "runs" / "tune" / "results.jsonl"

Spec = list[Any]
ARCHS: dict[str, Spec] = {
    "A": [16, "M", 24, "M", 32, 32],
    "F": [("p", 8), 16, ("p", 24), 32, 32],
    "F2": [("p", 8), 16, ("p", 32), 32, 32],  # -> `compact`
    "G2": [("p", 8), 16, 16, ("p", 32), 32, 24],
    "M": [("p", 8), 16, 24, "M", 32, 32, ("1", 32)],
    "O": [("p", 16), 16, 24, "M", 32, 32],
    "Q": [("p", 8), 16, 24, "M", 32, 40],
}


class SpecNet(nn.Module):
    def __init__(self, spec: Spec, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for item in spec:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            kind, c = ("3", item) if isinstance(item, int) else item
            k = 1 if kind == "1" else 3
            layers.append(nn.Conv2d(cin, c, k, padding=k // 2, bias=False))
            if kind == "p":
                layers.append(nn.MaxPool2d(2))
            layers += [nn.BatchNorm2d(c), nn.ReLU()]
            cin = c
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Conv2d(cin, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.drop(self.features(x)))
        return torch.log_softmax(x.mean((2, 3)), dim=1)


def experiments() -> dict[str, tuple[str, TrainConfig, float]]:
    heavy = AugmentConfig(rotation=12.0, crop_p=0.0, translate=0.1, scale=0.1, shear=8.0)
    light = AugmentConfig(rotation=10.0, crop_p=0.0, translate=0.08, scale=0.08, shear=5.0)
    base = TrainConfig(
        epochs=15,
        batch_size=64,
        lr=0.01,
        optimizer="adamw",
        weight_decay=0.01,
        scheduler="onecycle",
        label_smoothing=0.05,
        augment=heavy,
    )
    b2 = base.replace(augment=light, batch_size=128, lr=0.02)
    sgd = b2.replace(optimizer="sgd", lr=0.1, weight_decay=5e-4, momentum=0.9)
    ema64 = b2.replace(ema=0.999, batch_size=64, lr=0.01)
    return {
        "seed-preset": ("seed", TrainConfig(), 0.0),  # calibration: its test mean is known
        "F-base": ("F", base, 0.0),
        "A-base": ("A", base, 0.0),
        "F-lr3e-3": ("F", base.replace(lr=0.003), 0.0),
        "F-drop0.1": ("F", base, 0.1),
        "F-bs128-lr0.02": ("F", base.replace(batch_size=128, lr=0.02), 0.0),
        "F-noaug-extra": ("F", base.replace(augment=AugmentConfig()), 0.0),
        "F-light": ("F", b2, 0.0),
        "M-light": ("M", b2, 0.0),
        "O-light": ("O", b2, 0.0),
        "Q-light": ("Q", b2, 0.0),
        "F-sgd": ("F", sgd, 0.0),
        "M-sgd": ("M", sgd, 0.0),
        "F-light-ls0": ("F", b2.replace(label_smoothing=0.0), 0.0),
        "F-ema": ("F", b2.replace(ema=0.999), 0.0),
        "Q-ema": ("Q", b2.replace(ema=0.999), 0.0),
        "Q-ema-draw": (
            "Q",
            b2.replace(ema=0.999, augment=light.replace(stroke=0.6, elastic=0.75)),
            0.0,
        ),
        "M-ema-draw": (
            "M",
            b2.replace(ema=0.999, augment=light.replace(stroke=0.6, elastic=0.75)),
            0.0,
        ),
        "F2-ema": ("F2", b2.replace(ema=0.999), 0.0),
        "F2-ema-el": ("F2", b2.replace(ema=0.999, augment=light.replace(elastic=0.4)), 0.0),
        "G2-ema": ("G2", b2.replace(ema=0.999), 0.0),
        "F-ema-bs64": ("F", ema64, 0.0),
        "F2-ema-bs64": ("F2", ema64, 0.0),
        "F2-ema-bs64-el": ("F2", ema64.replace(augment=light.replace(elastic=0.4)), 0.0),
    }


def validation_data(val_size: int = 5000) -> MNIST:
    data = load_mnist()
    train, val = split_train_val(len(data.train_images), val_size)
    x, y = data.train_images, data.train_labels
    return MNIST(x[train], y[train], x[val], y[val], data.folder)  # the test set is dropped


def run(name: str, seed: int, data: MNIST) -> dict[str, Any]:
    arch, cfg, dropout = experiments()[name]
    if arch == "seed":
        training.build_model = build_model
    else:
        training.build_model = lambda _cfg: SpecNet(ARCHS[arch], dropout)  # type: ignore[assignment]
    cfg = cfg.replace(seed=seed)
    trainer = Trainer(ModelConfig(), cfg, data)
    start = time.time()
    epochs = [
        {
            "epoch": m.epoch,
            "val_acc": m.test_acc,
            "val_loss": m.test_loss,
            "train_acc": round(m.train_acc, 2),
            "s": round(m.seconds, 1),
        }
        for m in trainer
        if isinstance(m, EpochMetrics)
    ]
    return {
        "name": name,
        "spec": str(ARCHS.get(arch, arch)),
        "dropout": dropout,
        "seed": seed,
        "cfg": cfg.to_dict(),
        "epochs": epochs,
        "wall": round(time.time() - start),
    }


def summary() -> str:
    """Final-epoch validation accuracy of every experiment run so far, mean over seeds."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for line in RESULTS.read_text().splitlines():
        record = json.loads(line)
        runs.setdefault(record["name"], []).append(record)
    rows = [
        "| experiment | network | batch | epochs | val acc, final epoch (per seed) | mean | "
        "val acc, epoch 5 (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, records in runs.items():
        finals = [r["epochs"][-1]["val_acc"] for r in records]
        fifth = [r["epochs"][4]["val_acc"] for r in records if len(r["epochs"]) >= 5]
        per_seed = ", ".join(
            f"{v:.2f} (s{r['seed']})" for v, r in zip(finals, records, strict=True)
        )
        rows.append(
            f"| {name} | {records[0]['spec']} | {records[0]['cfg']['batch_size']} | "
            f"{len(records[0]['epochs'])} | {per_seed} | {sum(finals) / len(finals):.2f} | "
            f"{sum(fifth) / max(len(fifth), 1):.2f} |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="experiment[:seed]")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--summary", action="store_true", help="a Markdown table of the results")
    args = parser.parse_args()
    if args.summary:
        print(summary())
        return 0
    if args.list or not args.runs:
        for name, (arch, _, dropout) in experiments().items():
            net = build_model(ModelConfig()) if arch == "seed" else SpecNet(ARCHS[arch], dropout)
            params = sum(p.numel() for p in net.parameters())
            print(f"{name:<18} {arch:<3} {params:>6,} parameters")
        return 0
    data = validation_data()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for item in args.runs:
        name, _, seed = item.partition(":")
        record = run(name, int(seed or 0), data)
        with RESULTS.open("a") as f:
            f.write(json.dumps(record) + "\n")
        print(name, record["seed"], [e["val_acc"] for e in record["epochs"]], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
