"""The command line: the GUI by default; train, evaluate, predict and summary.

Exit status: 0 on success, 2 for usage errors (argparse), 1 for data, checkpoint, image
or training errors, reported as one line on stderr without a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # imported where they are used, so that --help and the app start fast
    from tqdm import tqdm

    from mnist_desk.core.checkpoint import Checkpoint
    from mnist_desk.core.config import ModelConfig, SettingField, TrainConfig
    from mnist_desk.core.metrics import BatchMetrics, EpochMetrics
    from mnist_desk.core.runs import RunLibrary, RunRecorder
    from mnist_desk.core.training import Trainer

PROG = "mnist-desk"


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        metavar="DIR",
        help="folder with MNIST's four IDX files (default: $MNIST_DESK_DATA, then the user "
        "cache, downloading there if needed)",
    )


def _add_json(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as JSON on stdout")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Draw digits, train and inspect a small CNN on MNIST. "
        "Without a command, opens the app.",
    )
    from mnist_desk import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the app (the default)")
    gui.add_argument("--checkpoint", metavar="PATH", help="open this checkpoint at start")

    train = sub.add_parser("train", help="train a model, record the run, save a checkpoint")
    _add_train_arguments(train)

    ev = sub.add_parser("evaluate", help="test loss and accuracy on the 10,000 test images")
    _add_checkpoint(ev)
    _add_data(ev)
    _add_json(ev, "one object with test_loss, test_acc, n, per_class_acc")

    pr = sub.add_parser("predict", help="classify image files")
    pr.add_argument("images", nargs="+", metavar="IMAGE")
    _add_checkpoint(pr)
    _add_json(pr, "one object per image")

    sm = sub.add_parser("summary", help="the model's layers, shapes and parameter counts")
    _add_checkpoint(sm)

    from mnist_desk.core.robustness import DAMAGES

    rb = sub.add_parser(
        "robustness",
        help="test accuracy as the test images are damaged, for one model or several",
        description="Test accuracy on the 10,000 test images under damage of each chosen "
        "severity. Units: "
        + "; ".join(f"{d.name}: {_escape(d.unit)}" for d in DAMAGES.values())
        + ".",
    )
    rb.add_argument(
        "--checkpoint",
        metavar="PATH_OR_RUN",
        nargs="+",
        help="checkpoint files or run ids (see `mnist-desk runs`); default: the bundled model",
    )
    _add_runs_dir(rb)
    rb.add_argument("--damage", required=True, choices=tuple(DAMAGES), help="what to do to them")
    rb.add_argument(
        "--levels",
        metavar="L,L,...",
        help="comma-separated severities in the damage's unit (default: a first set for it, "
        "e.g. 0,10,20,30,45 degrees); a list that starts with a minus takes an equals sign: "
        "--levels=-2,-1,0,1,2",
    )
    rb.add_argument("--seed", type=int, default=0, help="for the random parts of the damage")
    _add_data(rb)
    _add_json(rb, 'one object per model: {"model", "damage", "points": [{"level", "test_acc"}]}')

    from mnist_desk.cli_runs import add_runs_parser

    add_runs_parser(sub, _add_runs_dir, _add_json)
    return parser


def _add_checkpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--checkpoint",
        metavar="PATH_OR_RUN",
        help="a checkpoint file or the id of a run (see `mnist-desk runs`); "
        "default: the bundled model",
    )
    _add_runs_dir(p)


def _add_runs_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--runs-dir",
        metavar="DIR",
        help="the runs library (default: $MNIST_DESK_RUNS, then the user's data folder)",
    )


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    from mnist_desk.core.config import AugmentConfig, setting_values, settings
    from mnist_desk.core.presets import DESCRIPTIONS, PRESETS, preset

    _add_data(p)
    recipes = "; ".join(f"{name}: {DESCRIPTIONS[name]}" for name in PRESETS)
    p.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        default="seed",
        help=f"the recipe the other flags start from (default seed). {recipes}",
    )
    seed_recipe = setting_values(*preset("seed"))
    groups: dict[str, argparse._ArgumentGroup] = {}
    for s in settings():
        title = s.spec.group or ("Augmentation" if s.owner is AugmentConfig else "Run")
        title = title.lower()
        group = groups.get(title) or groups.setdefault(title, p.add_argument_group(title))
        _add_setting_flag(group, s, seed_recipe[s.name])
    p.add_argument("--out", metavar="PATH", help="checkpoint file (default: a dated name here)")
    p.add_argument("--name", help="the model's name, shown in the app")
    p.add_argument(
        "--extra",
        metavar="NPZ",
        help="also train on these drawings: an .npz of images (uint8 N x 28 x 28) and labels "
        "(0-9, or -1 for no digit), as scripts/make_drawn_data.py makes them",
    )
    _add_runs_dir(p)
    _add_json(p, "one object per epoch (and nothing else)")


def _add_setting_flag(group: argparse._ArgumentGroup, s: SettingField, default: object) -> None:
    """One flag from a declared setting: its type, choices, range and help come from core."""
    spec = s.spec
    if s.kind is bool:
        shown = "on" if default else "off"
        group.add_argument(
            s.flag,
            action=argparse.BooleanOptionalAction,
            default=None,
            help=_escape(f"{spec.help} (seed preset: {shown})"),
        )
        return
    allowed = "" if spec.choices else f"; {spec.range_text()}"
    group.add_argument(
        s.flag,
        type=s.kind,
        default=None,
        choices=tuple(spec.choices) if spec.choices else None,
        metavar=None if spec.choices else spec.metavar,
        help=_escape(f"{spec.help}{allowed}; seed preset: {default}"),
    )


def _escape(text: str) -> str:
    return text.replace("%", "%%")  # argparse formats help strings with %


def run() -> NoReturn:
    """The process's entry point (`mnist-desk`, `python -m mnist_desk`): main(), then a
    command's process ends at once, without finalising the modules it imported (0.3 s of
    `predict`'s 1.2 s, 0.7 s after `train` has saved its checkpoint; core.ending). The app
    ends the usual way."""
    code = main()
    if _app_ran:
        sys.exit(code)
    from mnist_desk.core.ending import end_now

    end_now(code)


_app_ran = False  # whether main() ran the app rather than a command


def main(argv: Sequence[str] | None = None) -> int:
    # Starting up creates some 300,000 objects that live as long as the process (PyTorch's
    # modules above all) and frees almost none, so the cyclic collector's passes over them
    # are wasted: about 0.2 s of the app's launch. A command turns it back on before it
    # runs; the app collects in its GUI thread from its start on (gui.garbage).
    global _app_ran
    _app_ran = False
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv, collecting)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None, collecting: bool) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (2)
        return int(exc.code or 0)
    from mnist_desk.cli_runs import runs_command
    from mnist_desk.core.errors import MnistDeskError

    handlers = {
        "train": _train,
        "evaluate": _evaluate,
        "predict": _predict,
        "summary": _summary,
        "robustness": _robustness,
        "runs": runs_command,
    }
    try:
        if args.command in handlers:
            if collecting:
                gc.enable()
            return handlers[args.command](args)
        global _app_ran
        _app_ran = True
        return _gui(getattr(args, "checkpoint", None))
    except MnistDeskError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (| head): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if os.environ.get("MNIST_DESK_DEBUG"):
            raise
        print(f"{PROG}: internal error: {exc!r} (MNIST_DESK_DEBUG=1 shows where)", file=sys.stderr)
        return 1


def _gui(checkpoint: str | None) -> int:
    from mnist_desk.gui.system_libraries import install_message, missing_libraries

    missing = missing_libraries()  # before Qt loads: it would name only the first
    if missing:
        print(f"{PROG}: {install_message(missing)}", file=sys.stderr)
        return 1
    from mnist_desk.gui.app import run

    return run(checkpoint=checkpoint)


def _info(message: str, args: argparse.Namespace) -> None:
    """Human messages: stdout normally, stderr when stdout is reserved for JSON."""
    print(message, file=sys.stderr if getattr(args, "json", False) else sys.stdout, flush=True)


def train_configs(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    """ModelConfig and TrainConfig from the preset, overridden by the flags given."""
    from mnist_desk.core.config import settings, with_settings
    from mnist_desk.core.presets import preset

    given = {s.name: getattr(args, s.name) for s in settings() if getattr(args, s.name) is not None}
    return with_settings(*preset(args.preset), given)


class _Interrupts:
    """First Ctrl+C: stop after the current batch and save. Second: abort."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def __enter__(self) -> _Interrupts:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt
        self.stop.set()
        print(f"\n{PROG}: stopping after this batch (Ctrl+C again to abort)", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)


def _train(args: argparse.Namespace) -> int:
    from mnist_desk.core.checkpoint import save_checkpoint
    from mnist_desk.core.data import load_mnist
    from mnist_desk.core.errors import ConfigError
    from mnist_desk.core.model import build_model, count_parameters
    from mnist_desk.core.presets import matching_preset
    from mnist_desk.core.runs import RunLibrary, RunRecorder
    from mnist_desk.core.text import plural
    from mnist_desk.core.training import Trainer

    try:
        model_cfg, train_cfg = train_configs(args)
    except ConfigError as exc:
        print(f"{PROG} train: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(f"mnist-desk-{time.strftime('%Y%m%d-%H%M%S')}.pt")
    _check_out(out)  # before the training, so that its result is never lost to a bad path
    data = load_mnist(args.data, progress=_DownloadReport())
    if args.extra:
        from mnist_desk.core.data import load_extra

        data = data.with_extra(*load_extra(args.extra))
    stop = threading.Event()
    trainer = Trainer(model_cfg, train_cfg, data, stop_event=stop)
    params = count_parameters(build_model(model_cfg))
    name = args.name or out.stem
    library = RunLibrary(args.runs_dir)
    recorder = RunRecorder.create(
        library,
        model_cfg,
        train_cfg,
        name=name,
        preset=(matching_preset(model_cfg, train_cfg) or f"{args.preset}, changed")
        + (", extra drawings" if args.extra else ""),
        device=trainer.describe(),
        params=params,
    )
    _info(
        f"training the {model_cfg.arch} model ({params:,} parameters, preset {args.preset}) "
        f"for {plural(train_cfg.epochs, 'epoch')} on {trainer.describe()}, data from "
        f"{data.folder}; recorded as run {recorder.id} in {library.folder}",
        args,
    )
    _record_training(trainer, recorder, name, stop, args)
    path = save_checkpoint(trainer.to_checkpoint(name), out)
    acc = trainer.evaluate_test().accuracy
    _info(f"saved {path} (test accuracy {acc:.2f}%)", args)
    _prune(library, args)
    return 0


def _record_training(
    trainer: Trainer, recorder: RunRecorder, name: str, stop: threading.Event, args: Any
) -> None:
    """Train with the run recorded; whatever ends it, the record says how it ended."""
    from mnist_desk.core.errors import MnistDeskError
    from mnist_desk.core.runs import recorded

    try:
        with _Interrupts(stop):
            _run_training(recorded(trainer, recorder, name), trainer.config.epochs, args)
    except MnistDeskError as exc:
        recorder.finish("failed", message=str(exc))
        raise
    except KeyboardInterrupt:
        recorder.finish("failed", message="aborted (Ctrl+C twice)")
        raise
    if trainer.stopped:
        _info("stopped early; evaluating the weights as they are", args)
        trainer.evaluate_test()
        recorder.finish("stopped", trainer.to_checkpoint(name))
    else:
        recorder.finish("finished")
    if recorder.problem:
        _info(f"{PROG}: warning: {recorder.problem}", args)


def _prune(library: RunLibrary, args: argparse.Namespace) -> None:
    from mnist_desk.core.text import plural

    limits = library.limits()
    removed = library.prune(limits)
    if removed:
        _info(
            f"the runs library keeps at most {plural(limits.max_runs, 'run')} and "
            f"{limits.max_bytes / 2**30:g} GB: removed the {len(removed)} oldest unpinned "
            f"({', '.join(r.id for r in removed[:5])}{' …' if len(removed) > 5 else ''})",
            args,
        )


def _check_out(out: Path) -> None:
    from mnist_desk.core.errors import CheckpointError
    from mnist_desk.core.files import check_save_target, plain_reason
    from mnist_desk.core.text import shown

    try:
        check_save_target(out)
    except OSError as exc:
        raise CheckpointError(f"cannot save to {shown(str(out))}: {plain_reason(exc)}") from None


class _DownloadReport:
    """MNIST's download on the terminal: a bar per file on a terminal, else a line each."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.what = ""

    def __call__(self, done: int, total: int, what: str) -> None:
        if what != self.what:
            self._close()
            self.what = what
            if sys.stderr.isatty():
                from tqdm import tqdm

                self.bar = tqdm(total=total or None, desc=what, unit="B", unit_scale=True,
                                leave=False, file=sys.stderr)  # fmt: skip
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        if total and done >= total:
            self._close()
            print(f"{PROG}: downloaded {what} ({done / 1e6:.1f} MB)", file=sys.stderr)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _run_training(
    metrics: Iterable[BatchMetrics | EpochMetrics], epochs: int, args: argparse.Namespace
) -> None:
    from mnist_desk.core.metrics import EpochMetrics

    show_bar = sys.stderr.isatty()
    bar = None
    for m in metrics:
        if isinstance(m, EpochMetrics):
            if bar is not None:
                bar.close()
                bar = None
            _report_epoch(m, args)
            continue
        if show_bar:
            if bar is None:
                bar = _progress_bar(m.epoch, epochs, m.batches)
            bar.update(1)
            if m.batch % 10 == 0 or m.batch == m.batches:
                bar.set_postfix(
                    loss=f"{m.loss:.4f}",
                    acc=f"{m.acc:.2f}%",
                    rate=f"{m.samples_per_s:,.0f}/s",
                    refresh=False,
                )
    if bar is not None:
        bar.close()


def _progress_bar(epoch: int, epochs: int, batches: int) -> tqdm[Any]:
    from tqdm import tqdm

    return tqdm(
        total=batches,
        desc=f"epoch {epoch}/{epochs}",
        unit="batch",
        leave=False,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def _report_epoch(m: EpochMetrics, args: argparse.Namespace) -> None:
    if args.json:
        keys = (
            "epoch",
            "train_loss",
            "train_acc",
            "test_loss",
            "test_acc",
            "seconds",
            "samples_per_s",
        )
        record = {k: getattr(m, k) for k in keys}
        if m.val_acc is not None:
            record.update(val_loss=m.val_loss, val_acc=m.val_acc)
        print(json.dumps(record), flush=True)
        return
    val = f"  val {m.val_loss:.4f} / {m.val_acc:.2f}%" if m.val_acc is not None else ""
    print(
        f"epoch {m.epoch}/{m.epochs}  train loss {m.train_loss:.4f} acc {m.train_acc:.2f}%  "
        f"test loss {m.test_loss:.4f} acc {m.test_acc:.2f}%{val}  "
        f"{m.seconds:.1f}s  {m.samples_per_s:,.0f} samples/s",
        flush=True,
    )


def _load_checkpoint(args: argparse.Namespace) -> Checkpoint:
    """--checkpoint as a file, else as a run's id; the bundled model when not given."""
    from mnist_desk.core.checkpoint import load_checkpoint
    from mnist_desk.core.runs import RunLibrary

    given = args.checkpoint
    if not given:
        from mnist_desk.bundled import load_bundled_checkpoint

        return load_bundled_checkpoint()
    if os.path.lexists(given) or os.sep in given or given.endswith((".pt", ".pth", ".ckpt")):
        return load_checkpoint(given)
    return RunLibrary(args.runs_dir).checkpoint(given)


def _evaluate(args: argparse.Namespace) -> int:
    from mnist_desk.core.data import load_mnist
    from mnist_desk.core.evaluation import evaluate

    checkpoint = _load_checkpoint(args)
    data = load_mnist(args.data, progress=_DownloadReport())
    result = evaluate(checkpoint.build_model(), data.test_images, data.test_labels)
    if args.json:
        record = result.to_dict()
        record.pop("confusion")
        print(json.dumps(record))
        return 0
    print(f"model: {checkpoint.name} ({checkpoint.model_config.arch})")
    print(f"test images: {result.n}")
    print(f"test loss: {result.loss:.4f}")
    print(f"test accuracy: {result.accuracy:.2f}%")
    per_class = "  ".join(
        f"{d}: {'-' if math.isnan(a) else f'{a:.1f}'}" for d, a in enumerate(result.per_class_acc)
    )
    print(f"per class (%): {per_class}")
    return 0


def _levels(text: str | None, kind: str) -> list[float]:
    from mnist_desk.core.errors import MnistDeskError
    from mnist_desk.core.robustness import DAMAGES

    if text is None:
        return list(DAMAGES[kind].levels)
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise MnistDeskError(f"--levels wants numbers separated by commas, not {text!r}") from None


def _robustness(args: argparse.Namespace) -> int:
    from mnist_desk.core.data import load_mnist
    from mnist_desk.core.robustness import check, robustness

    levels = _levels(args.levels, args.damage)
    damage = check(args.damage, levels)
    checkpoints = [
        _load_checkpoint(argparse.Namespace(checkpoint=given, runs_dir=args.runs_dir))
        for given in (args.checkpoint or [None])
    ]  # all of them read before the data loads: a bad one costs nothing
    data = load_mnist(args.data, progress=_DownloadReport())
    if not args.json:
        print(f"{damage.name} ({damage.unit}), {len(data.test_labels):,} test images")
    for checkpoint in checkpoints:
        points = robustness(
            checkpoint.build_model(), data.test_images, data.test_labels, damage.name, levels,
            seed=args.seed,
        )  # fmt: skip
        if args.json:
            print(json.dumps({
                "model": checkpoint.name,
                "damage": damage.name,
                "points": [{"level": p.level, "test_acc": p.test_acc} for p in points],
            }), flush=True)  # fmt: skip
            continue
        row = "  ".join(f"{p.level:g}: {p.test_acc:.2f}%" for p in points)
        print(f"{checkpoint.name}: {row}", flush=True)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from mnist_desk.core.errors import ImageError
    from mnist_desk.core.images import read_image
    from mnist_desk.core.predictor import Predictor

    predictor = Predictor.from_checkpoint(_load_checkpoint(args))
    status = 0
    for path in args.images:
        try:
            prediction = predictor.predict(read_image(path))
        except ImageError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            status = 1
            continue
        if args.json:
            record: dict[str, Any] = {
                "image": path,
                "digit": None,
                "probability": None,
                "unsure": None,
                "probabilities": None,
            }
            if prediction is not None:
                record.update(
                    digit=prediction.digit,
                    probability=prediction.confidence,
                    unsure=prediction.unsure,
                    probabilities=[round(float(p), 6) for p in prediction.probabilities],
                )
            print(json.dumps(record))
        elif prediction is None:
            print(f"{path}: no ink found")
        else:
            probs = " ".join(f"{d}:{p:.3f}" for d, p in enumerate(prediction.probabilities))
            guess = ", unsure: maybe not a digit" if prediction.unsure else ""
            print(
                f"{path}: {prediction.digit} ({100 * prediction.confidence:.1f}%{guess})  {probs}"
            )
    return status


def _summary(args: argparse.Namespace) -> int:
    from mnist_desk.core.summary import format_summary, layer_summary

    checkpoint = _load_checkpoint(args)
    print(f"{checkpoint.name}: {checkpoint.model_config}")
    print(format_summary(layer_summary(checkpoint.build_model())))
    return 0
