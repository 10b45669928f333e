"""Why augmentation helps, answered with data: the seed recipe trained with and without
its augmentation (three seeds each, every run kept in the runs library), then each
model's test accuracy under rotation (0-45 degrees) and under thinner and thicker strokes
(-2..+2 pixels of width).

    python scripts/augmentation_experiment.py [--seeds 0,1,2] [--out runs/augmentation]
        [--runs-dir DIR] [--data DIR]

Prints a Markdown table (means over the seeds, and each seed) and writes every
robustness record as JSON lines next to the checkpoints.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_desk.cli import main as cli  # noqa: E402

ROTATION = "0,10,20,30,45"
THICKNESS = "-2,-1,0,1,2"
NO_AUGMENTATION = ["--rotation", "0", "--crop-p", "0"]


def robustness(checkpoint: Path, damage: str, levels: str, data: list[str]) -> list[float]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli(["robustness", "--checkpoint", str(checkpoint), "--damage", damage,
                    f"--levels={levels}", "--json", *data])  # fmt: skip
    if code != 0:
        raise SystemExit(f"robustness failed for {checkpoint}")
    record = json.loads(out.getvalue())
    with open(checkpoint.with_suffix(".jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")
    return [p["test_acc"] for p in record["points"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default=str(ROOT / "runs" / "augmentation"))
    parser.add_argument("--runs-dir")
    parser.add_argument("--data")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = ["--data", args.data] if args.data else []
    runs = ["--runs-dir", args.runs_dir] if args.runs_dir else []
    results: dict[str, list[tuple[int, list[float], list[float]]]] = {}
    for arm, extra in (("with augmentation", []), ("without augmentation", NO_AUGMENTATION)):
        for seed in (int(s) for s in args.seeds.split(",")):
            path = out / f"seed-{'aug' if not extra else 'noaug'}-{seed}.pt"
            if not path.exists():
                name = f"Seed recipe, {arm}, seed {seed}"
                code = cli(["train", "--preset", "seed", "--seed", str(seed), "--out", str(path),
                            "--name", name, *extra, *data, *runs])  # fmt: skip
                if code != 0:
                    return code
            path.with_suffix(".jsonl").unlink(missing_ok=True)
            rot = robustness(path, "rotation", ROTATION, data)
            thick = robustness(path, "thickness", THICKNESS, data)
            results.setdefault(arm, []).append((seed, rot, thick))
    header = [f"rotation {lv}°" for lv in ROTATION.split(",")]
    header += [f"width {int(lv):+d} px" if lv != "0" else "width ±0" for lv in THICKNESS.split(",")]
    print("| seed recipe | seed | " + " | ".join(header) + " |")
    print("|---|---|" + "---|" * len(header))
    for arm, rows in results.items():
        for seed, rot, thick in rows:
            cells = " | ".join(f"{a:.2f}" for a in rot + thick)
            print(f"| {arm} | {seed} | {cells} |")
        means = [statistics.mean(col) for col in zip(*(r + t for _, r, t in rows), strict=True)]
        print(f"| **{arm}** | mean | " + " | ".join(f"**{m:.2f}**" for m in means) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
