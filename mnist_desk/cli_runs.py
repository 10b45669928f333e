"""`mnist-desk runs`: list the runs library, show one run, export its metrics, remove it,
set how much the library keeps."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mnist_desk.core.runs import Run, RunLibrary

AddFlag = Callable[..., None]


def add_runs_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_runs_dir: AddFlag,
    add_json: AddFlag,
) -> None:
    runs = sub.add_parser("runs", help="the runs library: every training run, kept as it went")
    add_runs_dir(runs)
    add_json(runs, "one object per run")
    verbs = runs.add_subparsers(dest="runs_command", metavar="ACTION")
    show = verbs.add_parser("show", help="one run with its per-epoch history")
    show.add_argument("id", help="the run's id (or its first characters)")
    add_runs_dir(show)
    add_json(show, "the run")
    export = verbs.add_parser("export", help="a run's per-epoch metrics as CSV")
    export.add_argument("id")
    export.add_argument("--csv", required=True, metavar="PATH", help="the CSV file to write")
    add_runs_dir(export)
    remove = verbs.add_parser("rm", help="remove a run from the library")
    remove.add_argument("id")
    add_runs_dir(remove)
    limits = verbs.add_parser("limits", help="show or set how much the library keeps")
    limits.add_argument("--max-runs", type=int, metavar="N", help="at most N runs (500)")
    limits.add_argument("--max-gb", type=float, metavar="GB", help="at most GB on disk (2)")
    add_runs_dir(limits)


def runs_command(args: argparse.Namespace) -> int:
    from mnist_desk.core.runs import RunLibrary

    library = RunLibrary(args.runs_dir)
    action = getattr(args, "runs_command", None)
    if action == "show":
        return _show(library.get(args.id), bool(args.json))
    if action == "export":
        library.export_csv(args.id, args.csv)
        print(f"wrote {args.csv}")
        return 0
    if action == "rm":
        run = library.get(args.id)
        library.delete(run.id)
        print(f"removed run {run.id} ({run.name})")
        return 0
    if action == "limits":
        return _limits(library, args)
    return _list(library, bool(args.json))


def _accuracy(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _list(library: RunLibrary, as_json: bool) -> int:
    from mnist_desk.core.text import plural

    runs = library.runs()
    if as_json:
        for run in runs:
            print(json.dumps(run.summary()))
        return 0
    if not runs:
        print(f"no runs yet in {library.folder}")
        return 0
    print(f"{'id':24} {'status':11} {'epochs':>7} {'test':>7} {'best':>7}  name")
    for run in runs:
        epochs = f"{run.epochs_done}/{run.epochs_planned}"
        pin = " (pinned)" if run.pinned else ""
        print(
            f"{run.id:24} {run.status:11} {epochs:>7} {_accuracy(run.test_acc):>7} "
            f"{_accuracy(run.best_test_acc):>7}  {run.name}{pin}"
        )
    print(f"{plural(len(runs), 'run')} in {library.folder}")
    return 0


def _show(run: Run, as_json: bool) -> int:
    from mnist_desk.core.text import plural

    if as_json:
        record: dict[str, Any] = run.summary()
        record.update(
            machine=run.machine,
            model_config=run.model_config.to_dict() if run.model_config else None,
            train_config=run.train_config.to_dict() if run.train_config else None,
            history=[e.to_dict() for e in run.epochs],
            events=list(run.events),
            message=run.message,
        )
        print(json.dumps(record))
        return 0
    print(f"run {run.id}: {run.name} ({run.status})")
    if run.problem:
        print(f"  damaged: {run.problem}")
        return 0
    print(f"  started {run.started}, {run.seconds:.1f} s of training on {run.device}")
    print(f"  preset {run.preset}, {run.params:,} parameters, {run.epochs_done} of "
          f"{plural(run.epochs_planned, 'epoch')}")  # fmt: skip
    if run.note:
        print(f"  note: {run.note}")
    if run.message:
        print(f"  {run.message}")
    for e in run.epochs:
        val = f"  val {e.val_acc:.2f}%" if e.val_acc is not None else ""
        print(
            f"  epoch {e.epoch}: train loss {e.train_loss:.4f} acc {e.train_acc:.2f}%  "
            f"test loss {e.test_loss:.4f} acc {e.test_acc:.2f}%{val}  {e.seconds:.1f}s"
        )
    path = run.checkpoint_path()
    print(f"  checkpoint: {path if path else 'none yet'}")
    return 0


def _limits(library: RunLibrary, args: argparse.Namespace) -> int:
    from mnist_desk.core.runs import Limits
    from mnist_desk.core.text import plural

    current = library.limits()
    if args.max_runs is not None or args.max_gb is not None:
        current = Limits(
            args.max_runs if args.max_runs is not None else current.max_runs,
            round(args.max_gb * 2**30) if args.max_gb is not None else current.max_bytes,
        )
        library.set_limits(current)
        removed = library.prune(current)
        if removed:
            print(f"removed the {len(removed)} oldest unpinned runs", file=sys.stderr)
    print(f"the library keeps at most {plural(current.max_runs, 'run')} and "
          f"{current.max_bytes / 2**30:g} GB ({library.folder})")  # fmt: skip
    return 0
