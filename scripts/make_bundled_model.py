"""Make the bundled model from a checkpoint trained with `mnist-desk train`:

    mnist-desk train --seed 0 --out runs/bundled.pt
    python scripts/make_bundled_model.py runs/bundled.pt --name "Seed CNN"

Keeps the weights, configs, history and test metrics; drops the optimizer state (the
bundled model is for reading digits, not for resuming), then rebuilds the resources.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from pathlib import Path

from mnist_desk.core.checkpoint import load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    ckpt = load_checkpoint(args.checkpoint)
    slim = dataclasses.replace(ckpt, name=args.name, optimizer_state=None, scheduler_state=None)
    out = save_checkpoint(slim, ROOT / "assets" / "bundled_model.pt")
    print(f"wrote {out} ({out.stat().st_size:,} bytes, test accuracy {slim.test_acc}%)")
    return subprocess.call([sys.executable, str(ROOT / "scripts" / "build_resources.py")])


if __name__ == "__main__":
    sys.exit(main())
