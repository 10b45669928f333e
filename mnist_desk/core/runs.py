"""The runs library: every training run, from the app or the command line, kept as it goes.

One folder per run under the library's folder (MNIST_DESK_RUNS, or `runs` in the user's
data folder):

    run.json      the record: settings, machine, device, per-epoch metrics, timing, status
    batches.npz   per-batch (epochs, loss, accuracy, learning rate) as float32, compressed
    last.pt       the checkpoint of the last finished epoch (or of the weights when stopped)
    best.pt       with a validation split: the epoch with the best validation accuracy
                  (the test set never picks a checkpoint)
    user.json     what the user gave it: a name, a note, a pin (written by the app and
                  `mnist-desk runs`, never by the training process)
    .lock         held (flock) by the process that trains, for as long as it trains

Everything is written with core.files.write_atomically once per epoch, so a crash or kill -9
loses at most the epoch in progress. A run whose record says "running" but whose lock is
free belongs to a process that died: it is listed as interrupted. Several processes may
train at once (each writes its own folder only); a folder that cannot be read is listed as
damaged and never breaks the listing. The library keeps at most `max_runs` runs and
`max_bytes` on disk (library.json), removing the oldest unpinned runs first.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import os
import platform
import secrets
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from mnist_desk.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.errors import ConfigError, MnistDeskError
from mnist_desk.core.files import (
    parse_json,
    read_npz,
    read_small_file,
    remove_stale_temporaries,
    write_atomically,
)
from mnist_desk.core.metrics import BatchCurve, BatchMetrics, EpochMetrics
from mnist_desk.core.places import user_data_dir
from mnist_desk.core.text import shown

if TYPE_CHECKING:
    from mnist_desk.core.training import Trainer

RUNS_VAR = "MNIST_DESK_RUNS"
RUN_FORMAT = "mnist-desk-run"
RUN_VERSION = 1
RECORD, BATCHES, LAST, BEST, USER, LOCK = (
    "run.json", "batches.npz", "last.pt", "best.pt", "user.json", ".lock",
)  # fmt: skip
LIBRARY = "library.json"
DEFAULT_MAX_RUNS = 500
DEFAULT_MAX_BYTES = 2 * 1024**3
MAX_RECORD_BYTES = 20 * 2**20
MAX_BATCHES_BYTES = 2**29  # the columns of 33 million batches, far more than any run
STATUSES = ("running", "finished", "stopped", "failed", "interrupted", "damaged")
BATCH_COLUMNS = ("x", "loss", "acc", "lr")

if sys.platform != "win32":
    import fcntl
else:  # pragma: no cover - Windows: a lock file whose process is checked by pid
    fcntl = None


class RunError(MnistDeskError):
    """A run could not be found, read or changed."""


def runs_dir() -> Path:
    """The library's folder: MNIST_DESK_RUNS, or `runs` in the user's data folder."""
    chosen = os.environ.get(RUNS_VAR)
    return Path(chosen) if chosen else user_data_dir() / "runs"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def machine() -> dict[str, str]:
    import torch

    return {
        "host": platform.node(),
        "system": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cores": str(os.cpu_count() or 0),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
    }


@dataclass(frozen=True)
class Run:
    """One run as read from its folder. `status` is "interrupted" for a run whose process
    died while it trained, "damaged" for a folder that cannot be read (see `problem`)."""

    id: str
    folder: Path
    status: str
    name: str = ""
    started: str = ""
    updated: str = ""
    preset: str | None = None
    model_config: ModelConfig | None = None
    train_config: TrainConfig | None = None
    params: int = 0
    device: str = ""
    machine: dict[str, str] = field(default_factory=dict)
    epochs: tuple[EpochMetrics, ...] = ()
    seconds: float = 0.0
    note: str = ""
    pinned: bool = False
    parent: str | None = None
    message: str = ""
    events: tuple[dict[str, Any], ...] = ()
    problem: str = ""
    final_test_acc: float | None = None  # a model not trained here (edited): its own figure

    @property
    def epochs_done(self) -> int:
        return len(self.epochs)

    @property
    def epochs_planned(self) -> int:
        return self.train_config.epochs if self.train_config else 0

    @property
    def test_acc(self) -> float | None:
        if self.final_test_acc is not None:
            return self.final_test_acc
        return self.epochs[-1].test_acc if self.epochs else None

    @property
    def best_test_acc(self) -> float | None:
        return max(e.test_acc for e in self.epochs) if self.epochs else None

    @property
    def best_epoch(self) -> int | None:
        """The epoch of the best validation accuracy (None without a validation split)."""
        scored = [e for e in self.epochs if e.val_acc is not None]
        return max(scored, key=lambda e: e.val_acc or 0.0).epoch if scored else None

    def checkpoint_path(self) -> Path | None:
        """The run's model: its best epoch by validation accuracy, else its last."""
        for name in (BEST, LAST):
            if (self.folder / name).is_file():
                return self.folder / name
        return None

    def summary(self) -> dict[str, Any]:
        """What `mnist-desk runs --json` prints for it."""
        path = self.checkpoint_path()
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "started": self.started,
            "preset": self.preset,
            "params": self.params,
            "epochs_done": self.epochs_done,
            "epochs": self.epochs_planned,
            "test_acc": self.test_acc,
            "best_test_acc": self.best_test_acc,
            "seconds": round(self.seconds, 3),
            "device": self.device,
            "checkpoint": str(path) if path else None,
            "pinned": self.pinned,
            "note": self.note,
            "parent": self.parent,
            "problem": self.problem or None,
        }


# ---- reading ------------------------------------------------------------------------------
def _read_json(path: Path) -> dict[str, Any]:
    data = parse_json(read_small_file(path, MAX_RECORD_BYTES).decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def _text(data: dict[str, Any], key: str, limit: int = 200) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} is not text")
    return shown(value, limit)


def _user_fields(folder: Path) -> dict[str, Any]:
    """Name, note and pin the user gave the run; a damaged user.json is ignored."""
    try:
        data = _read_json(folder / USER)
    except (OSError, ValueError):
        return {}
    out: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        if data.get("name"):
            out["name"] = _text(data, "name")
        if "note" in data:
            out["note"] = _text(data, "note", 2000)
        if isinstance(data.get("pinned"), bool):
            out["pinned"] = data["pinned"]
    return out


def read_run(folder: Path) -> Run:
    """The run in `folder`; a folder that cannot be read comes back with status damaged."""
    try:
        data = _read_json(folder / RECORD)
        if data.get("format") != RUN_FORMAT or data.get("version") != RUN_VERSION:
            raise ValueError("not a run record of this version")
        epochs = data.get("epochs")
        if not isinstance(epochs, list):
            raise ValueError("epochs is not a list")
        status = data.get("status")
        if status not in STATUSES:
            raise ValueError(f"unknown status {shown(repr(status), 30)}")
        if status == "running" and not _is_locked(folder):
            status = "interrupted"
            # its process died, perhaps in the middle of a save: what that save left is
            # of no use, and nothing else will be saved here to clear it away
            remove_stale_temporaries(folder, older_than_s=0.0)
        events = data.get("events") or []
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise ValueError("events are malformed")
        params, seconds = data.get("params", 0), data.get("seconds", 0.0)
        if not isinstance(params, int) or not isinstance(seconds, (int, float)):
            raise ValueError("params or seconds are not numbers")
        final = data.get("test_acc")
        if final is not None and (not isinstance(final, (int, float)) or isinstance(final, bool)):
            raise ValueError("test_acc is not a number")
        run = Run(
            id=folder.name,
            folder=folder,
            status=status,
            name=_text(data, "name"),
            started=_text(data, "started", 40),
            updated=_text(data, "updated", 40),
            preset=_text(data, "preset", 40) or None,
            model_config=ModelConfig.from_dict(data.get("model_config")),
            train_config=TrainConfig.from_dict(data.get("train_config")),
            params=params,
            device=_text(data, "device", 120),
            machine={k: shown(str(v), 120) for k, v in dict(data.get("machine") or {}).items()},
            epochs=tuple(EpochMetrics.from_dict(e) for e in epochs),
            seconds=float(seconds),
            parent=_text(data, "parent", 80) or None,
            message=_text(data, "message", 500),
            events=tuple(events),
            final_test_acc=float(final) if final is not None else None,
        )
    except (OSError, ValueError, TypeError, ConfigError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Run(folder.name, folder, "damaged", name=folder.name, problem=shown(reason, 200))
    return replace(run, **_user_fields(folder))


def _is_locked(folder: Path) -> bool:
    """Whether a live process holds the run's lock (it is training it now)."""
    try:
        fd = os.open(folder / LOCK, os.O_RDWR)
    except OSError:
        return False
    try:
        if fcntl is None:  # pragma: no cover - Windows
            return _pid_alive(os.read(fd, 32))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _pid_alive(raw: bytes) -> bool:  # pragma: no cover - Windows
    try:
        os.kill(int(raw.decode().strip() or "0"), 0)
    except (ValueError, OSError):
        return False
    return True


def read_batches(folder: Path) -> dict[str, np.ndarray]:
    """The run's per-batch columns (x, loss, acc, lr); empty ones if there are none."""
    try:
        arrays = read_npz(folder / BATCHES, BATCH_COLUMNS, MAX_BATCHES_BYTES)
        columns = {k: np.asarray(a, np.float32) for k, a in arrays.items()}
        if len({len(c) for c in columns.values()}) != 1:
            raise ValueError("ragged")
        return columns
    except (OSError, ValueError, KeyError):
        return {k: np.zeros(0, np.float32) for k in BATCH_COLUMNS}


def batch_curve(folder: Path, max_points: int = 2000) -> BatchCurve:
    """The run's per-batch curve, averaged down to at most `max_points`."""
    columns = read_batches(folder)
    x, loss, acc = columns["x"], columns["loss"], columns["acc"]
    bucket = max(1, -(-len(x) // max_points))
    usable = len(x) // bucket * bucket

    def pool(a: np.ndarray) -> tuple[float, ...]:
        pooled = a[:usable].reshape(-1, bucket).mean(axis=1) if usable else a[:0]
        rest = [float(a[usable:].mean())] if usable < len(a) else []
        return tuple(float(v) for v in pooled) + tuple(rest)

    return BatchCurve(pool(x), pool(loss), pool(acc))


# ---- writing: one process records one run --------------------------------------------------
class RunRecorder:
    """Records one run as it trains (see the module's notes). Writing problems never stop
    the training: the first is kept in `problem` and recording stops there."""

    def __init__(self, folder: Path, record: dict[str, Any]) -> None:
        self.folder, self.record = folder, record
        self.problem = ""
        self._columns: list[list[float]] = [[] for _ in BATCH_COLUMNS]
        self._lock_fd: int | None = None
        self._best_val: float | None = None

    @property
    def id(self) -> str:
        return self.folder.name

    @classmethod
    def create(
        cls,
        library: RunLibrary,
        model_config: ModelConfig,
        train_config: TrainConfig,
        *,
        name: str,
        preset: str | None,
        device: str,
        params: int,
        parent: str | None = None,
    ) -> RunRecorder:
        """A new run folder, locked, with its record saying "running"."""
        library.folder.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = library.folder / f"{stamp}-{secrets.token_hex(3)}"
        folder.mkdir()
        record = {
            "format": RUN_FORMAT,
            "version": RUN_VERSION,
            "name": name,
            "status": "running",
            "started": _now(),
            "updated": _now(),
            "preset": preset,
            "model_config": model_config.to_dict(),
            "train_config": train_config.to_dict(),
            "params": params,
            "device": device,
            "machine": machine(),
            "epochs": [],
            "seconds": 0.0,
            "parent": parent,
            "message": "",
            "events": [],
            "pid": os.getpid(),
        }
        recorder = cls(folder, record)
        recorder._lock()
        recorder._write(RECORD, json.dumps(record, indent=1).encode())
        return recorder

    def _lock(self) -> None:
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, str(os.getpid()).encode())
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd

    def _write(self, name: str, data: bytes) -> None:
        if self.problem:
            return
        try:
            write_atomically(self.folder / name, data)
        except OSError as exc:
            self.problem = f"the run is no longer recorded: {exc.strerror or exc}"

    def add_batches(self, batches: Sequence[BatchMetrics]) -> None:
        for b in batches:
            for column, value in zip(
                self._columns, (b.progress, b.loss, b.batch_acc, b.lr), strict=True
            ):
                column.append(value)

    def add_event(self, event: dict[str, Any]) -> None:
        """Something that happened during the run (a knob changed at a batch)."""
        self.record["events"].append(event)

    def end_epoch(self, metrics: EpochMetrics, checkpoint: Checkpoint) -> None:
        """Per epoch: the checkpoint (and the best one by validation), batches, record."""
        self.record["epochs"].append(metrics.to_dict())
        self.record["seconds"] = self.record["seconds"] + metrics.seconds
        self._save_checkpoint(LAST, checkpoint)
        if metrics.val_acc is not None and (
            self._best_val is None or metrics.val_acc > self._best_val
        ):
            self._best_val = metrics.val_acc
            self._save_checkpoint(BEST, checkpoint)
        self._write_batches()
        self._write_record()

    def _save_checkpoint(self, name: str, checkpoint: Checkpoint) -> None:
        if self.problem:
            return
        try:
            save_checkpoint(checkpoint, self.folder / name)
        except MnistDeskError as exc:
            self.problem = f"the run is no longer recorded: {exc}"

    def _write_batches(self) -> None:
        buffer = io.BytesIO()
        x, loss, acc, lr = (np.asarray(c, np.float32) for c in self._columns)
        np.savez_compressed(buffer, x=x, loss=loss, acc=acc, lr=lr)
        self._write(BATCHES, buffer.getvalue())

    def _write_record(self) -> None:
        self.record["updated"] = _now()
        self._write(RECORD, json.dumps(self.record, indent=1).encode())

    def finish(self, status: str, checkpoint: Checkpoint | None = None, message: str = "") -> None:
        """The run is over: finished, stopped or failed (with its message)."""
        if checkpoint is not None and status == "stopped":
            self._save_checkpoint(LAST, checkpoint)  # the weights as they were when stopped
        self.record["status"] = status
        self.record["message"] = message
        self._write_batches()
        self._write_record()
        self.close()

    def extend(self, epochs: int, lr: float) -> None:
        """More epochs planned for a run that finished, at a constant learning rate: the
        run is locked and "running" again, and its events say from which batch on."""
        if self._lock_fd is None:
            self._lock()
        self.record["train_config"]["epochs"] += epochs
        self.record["status"] = "running"
        self.record["events"].append(
            {
                "kind": "more epochs",
                "epochs": epochs,
                "lr": lr,
                "after_epoch": len(self.record["epochs"]),
            }
        )
        self._write_record()

    def close(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None


def recorded(
    trainer: Trainer, recorder: RunRecorder, name: str
) -> Iterator[BatchMetrics | EpochMetrics]:
    """The trainer's metrics, passed on, with the run recorded as they come: batches
    buffered, and at every epoch's end its checkpoint, batches and record written."""
    for m in trainer:
        if isinstance(m, EpochMetrics):
            recorder.end_epoch(m, trainer.to_checkpoint(name))
        else:
            recorder.add_batches((m,))
        yield m


# ---- the library ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    max_runs: int = DEFAULT_MAX_RUNS
    max_bytes: int = DEFAULT_MAX_BYTES


class RunLibrary:
    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else runs_dir()

    def _folders(self) -> Iterator[Path]:
        with contextlib.suppress(OSError):
            for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                    yield Path(entry.path)

    def runs(self) -> list[Run]:
        """Every run, oldest first; damaged folders included (status damaged)."""
        return sorted((read_run(f) for f in self._folders()), key=lambda r: (r.started, r.id))

    def get(self, run_id: str) -> Run:
        """A run by its id, or by the start of its id when that is unique."""
        found = [f for f in self._folders() if f.name == run_id]
        if not found:
            found = [f for f in self._folders() if run_id and f.name.startswith(run_id)]
        if len(found) != 1:
            what = "no run" if not found else f"{len(found)} runs"
            raise RunError(f"{what} with the id {shown(run_id, 60)} in {self.folder}")
        return read_run(found[0])

    def add_model(
        self,
        checkpoint: Checkpoint,
        *,
        preset: str,
        parent: str | None,
        event: dict[str, Any],
        params: int,
    ) -> str:
        """Keep a model that was made here without training (edited in the lab) as a run
        of its own: the history its weights came with, what was done to them (`event`),
        and its own test accuracy (the checkpoint's test metrics). Returns its id."""
        train_config = checkpoint.train_config or TrainConfig()
        recorder = RunRecorder.create(
            self,
            checkpoint.model_config,
            train_config,
            name=checkpoint.name,
            preset=preset,
            device="CPU",
            params=params,
            parent=parent,
        )
        record = recorder.record
        record["epochs"] = [m.to_dict() for m in checkpoint.history]
        record["seconds"] = float(sum(m.seconds for m in checkpoint.history))
        record["train_config"]["epochs"] = max(1, len(checkpoint.history))
        if checkpoint.test_metrics is not None:
            record["test_acc"] = checkpoint.test_metrics.test_acc
        recorder.add_event(event)
        recorder._save_checkpoint(LAST, checkpoint)
        recorder.finish("finished")
        if recorder.problem:
            raise RunError(recorder.problem)
        return recorder.id

    def checkpoint(self, run_id: str) -> Checkpoint:
        run = self.get(run_id)
        path = run.checkpoint_path()
        if path is None:
            raise RunError(f"the run {run.id} has no checkpoint yet (no epoch finished)")
        return replace(load_checkpoint(path), name=run.name or run.id)

    # ---- what the user changes ------------------------------------------------------------
    def update_user_fields(self, run_id: str, **changes: Any) -> Run:
        """Rename, note or pin a run (user.json; the training process never writes it)."""
        run = self.get(run_id)
        current = {"name": run.name, "note": run.note, "pinned": run.pinned}
        current.update(changes)
        write_atomically(run.folder / USER, json.dumps(current, indent=1).encode())
        return self.get(run.id)

    def delete(self, run_id: str) -> None:
        run = self.get(run_id)
        if run.status == "running":
            raise RunError(f"the run {run.id} is training now; stop it first")
        shutil.rmtree(run.folder, ignore_errors=True)

    def export_csv(self, run_id: str, target: str | os.PathLike[str] | IO[str]) -> None:
        """The run's per-epoch metrics, one row per epoch, with a header."""
        run = self.get(run_id)
        names = [f for f in EpochMetrics.__dataclass_fields__]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(names)
        for e in run.epochs:
            writer.writerow([getattr(e, n) if getattr(e, n) is not None else "" for n in names])
        if isinstance(target, (str, os.PathLike)):
            write_atomically(target, buffer.getvalue().encode())
        else:
            target.write(buffer.getvalue())

    # ---- how much it keeps ------------------------------------------------------------------
    def limits(self) -> Limits:
        try:
            data = _read_json(self.folder / LIBRARY)
            runs, size = data.get("max_runs"), data.get("max_bytes")
            if isinstance(runs, int) and isinstance(size, int) and runs > 0 and size > 0:
                return Limits(runs, size)
        except (OSError, ValueError):
            pass
        return Limits()

    def set_limits(self, limits: Limits) -> None:
        if limits.max_runs < 1 or limits.max_bytes < 1:
            raise RunError("the library must keep at least one run and one byte")
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"max_runs": limits.max_runs, "max_bytes": limits.max_bytes}
        write_atomically(self.folder / LIBRARY, json.dumps(data).encode())

    def size(self, run: Run) -> int:
        total = 0
        with contextlib.suppress(OSError):
            for entry in os.scandir(run.folder):
                total += entry.stat(follow_symlinks=False).st_size
        return total

    def prune(self, limits: Limits | None = None) -> list[Run]:
        """Remove the oldest unpinned runs that are not training until the library is
        within its limits; return those removed."""
        limits = limits or self.limits()
        runs = self.runs()
        sizes = {r.id: self.size(r) for r in runs}
        count, total = len(runs), sum(sizes.values())
        removed = []
        for run in runs:  # oldest first
            if count <= limits.max_runs and total <= limits.max_bytes:
                break
            if run.pinned or run.status == "running":
                continue
            shutil.rmtree(run.folder, ignore_errors=True)
            removed.append(run)
            count, total = count - 1, total - sizes[run.id]
        return removed
