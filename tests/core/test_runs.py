"""The runs library: what a run records, how it ends, and that nothing can break it."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.files import TEMP_PREFIX, TEMP_SUFFIX
from mnist_desk.core.runs import (
    Limits,
    RunError,
    RunLibrary,
    RunRecorder,
    batch_curve,
    read_batches,
    recorded,
)
from mnist_desk.core.training import Trainer
from tests.helpers import subset, write_mnist_folder


def _record(library: RunLibrary, data: MNIST, epochs: int = 2, **train: object) -> str:
    cfg = TrainConfig(epochs=epochs, batch_size=128, seed=0, **train)  # type: ignore[arg-type]
    trainer = Trainer(ModelConfig(), cfg, data)
    recorder = RunRecorder.create(
        library, ModelConfig(), cfg, name="a run", preset="seed", device="CPU", params=24210
    )
    for _ in recorded(trainer, recorder, "a run"):
        pass
    recorder.finish("finished")
    return recorder.id


@pytest.fixture(scope="module")
def tiny(mnist: MNIST) -> MNIST:
    return subset(mnist, 1024, 256)


def test_a_run_records_everything(tmp_path: Path, tiny: MNIST) -> None:
    library = RunLibrary(tmp_path)
    run = library.get(_record(library, tiny))
    assert (run.status, run.name, run.preset, run.epochs_done, run.epochs_planned) == (
        "finished", "a run", "seed", 2, 2,
    )  # fmt: skip
    assert run.test_acc == run.epochs[-1].test_acc and run.seconds > 0
    assert run.machine["host"] and run.device == "CPU" and run.params == 24210
    batches = read_batches(run.folder)
    assert len(batches["x"]) == 2 * 8 and batches["x"][-1] == pytest.approx(2.0)
    assert len(batch_curve(run.folder)) == 16
    ckpt = library.checkpoint(run.id)
    assert ckpt.name == "a run" and len(ckpt.history) == 2


def test_batches_that_would_unpack_past_the_limit_are_not_read(
    tmp_path: Path, tiny: MNIST, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mnist_desk.core import runs as runs_mod

    library = RunLibrary(tmp_path)
    run = library.get(_record(library, tiny))
    monkeypatch.setattr(runs_mod, "MAX_BATCHES_BYTES", 2**20)
    assert len(read_batches(run.folder)["x"]) == 16  # a run's own columns: far under
    big = np.zeros(2**18, np.float32)  # 4 columns of 1 MB each, compressed to a few KB
    np.savez_compressed(run.folder / "batches.npz", x=big, loss=big, acc=big, lr=big)
    assert all(len(c) == 0 for c in read_batches(run.folder).values())
    assert library.get(run.id).test_acc == run.test_acc  # the run itself still opens


def test_the_best_epoch_by_validation_is_kept_apart(tmp_path: Path, tiny: MNIST) -> None:
    library = RunLibrary(tmp_path)
    run = library.get(_record(library, tiny, epochs=3, val_size=200))
    assert run.best_epoch is not None and (run.folder / "best.pt").is_file()
    assert run.checkpoint_path() == run.folder / "best.pt"
    best = max(run.epochs, key=lambda e: e.val_acc or 0)
    assert run.best_epoch == best.epoch  # picked by validation, never by the test set


def test_user_fields_and_removal(tmp_path: Path, tiny: MNIST) -> None:
    library = RunLibrary(tmp_path)
    run_id = _record(library, tiny, epochs=1)
    library.update_user_fields(run_id, name="renamed", note="first try", pinned=True)
    run = library.get(run_id[:12])  # the start of an id is enough when unique
    assert (run.name, run.note, run.pinned) == ("renamed", "first try", True)
    library.delete(run_id)
    assert library.runs() == []
    with pytest.raises(RunError, match="no run"):
        library.get(run_id)


def test_export_csv(tmp_path: Path, tiny: MNIST) -> None:
    library = RunLibrary(tmp_path / "lib")
    run_id = _record(library, tiny)
    library.export_csv(run_id, tmp_path / "m.csv")
    rows = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"] and float(rows[1]["test_acc"]) > 10


def test_damaged_folders_are_listed_not_fatal(tmp_path: Path, tiny: MNIST) -> None:
    library = RunLibrary(tmp_path)
    good = _record(library, tiny, epochs=1)
    deep = "[" * 100_000 + "]" * 100_000  # deeper than Python's JSON parser goes
    damaged = {"a-broken": "{not json", "b-foreign": '{"format": "x"}', "d-deep": deep}
    for name, content in damaged.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(content)
    (tmp_path / "c-empty").mkdir()
    bad_user = tmp_path / good / "user.json"
    bad_user.write_text("[1, 2")  # a damaged user.json: ignored
    runs = {r.id: r for r in library.runs()}
    assert runs[good].status == "finished"
    names = ("a-broken", "b-foreign", "c-empty", "d-deep")
    assert {runs[n].status for n in names} == {"damaged"}
    assert all(runs[n].problem for n in names) and "nested" in runs["d-deep"].problem
    bad_user.write_text(deep)
    (tmp_path / "library.json").write_text(deep)
    assert library.get(good).name == "a run" and library.limits() == Limits()  # defaults


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifos_in_the_library_are_damaged_files_not_a_hang(tmp_path: Path, tiny: MNIST) -> None:
    """A read of a FIFO waits forever for a writer: the Runs tab would freeze."""
    library = RunLibrary(tmp_path)
    good = _record(library, tiny, epochs=1)
    (tmp_path / "a-fifo").mkdir()
    for path in (tmp_path / "a-fifo" / "run.json", tmp_path / good / "user.json",
                 tmp_path / good / "batches.npz", tmp_path / "library.json"):  # fmt: skip
        path.unlink(missing_ok=True)
        os.mkfifo(path)
    found: dict[str, Any] = {}

    def read() -> None:
        found["runs"] = {r.id: r for r in library.runs()}
        found["batches"] = read_batches(tmp_path / good)
        found["limits"] = library.limits()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(20)
    assert not reader.is_alive(), "reading the library waited on a FIFO"
    runs = found["runs"]
    assert runs["a-fifo"].status == "damaged" and "regular" in runs["a-fifo"].problem
    assert runs[good].status == "finished" and runs[good].name == "a run"
    assert len(found["batches"]["x"]) == 0 and found["limits"] == Limits()


def test_a_run_whose_process_died_is_interrupted(tmp_path: Path, tiny: MNIST) -> None:
    library = RunLibrary(tmp_path)
    cfg = TrainConfig(epochs=3, batch_size=128)
    recorder = RunRecorder.create(
        library, ModelConfig(), cfg, name="x", preset=None, device="CPU", params=1
    )
    leftover = recorder.folder / f"{TEMP_PREFIX}cut-short{TEMP_SUFFIX}"  # a save cut short
    leftover.write_bytes(b"half")
    assert library.get(recorder.id).status == "running"  # its lock is held
    assert leftover.exists()  # perhaps a save under way: left alone
    recorder.close()  # as the system does when the process dies
    assert library.get(recorder.id).status == "interrupted"
    assert not leftover.exists()  # nothing will be saved there again to clear it


def test_the_cap_removes_the_oldest_unpinned_first(tmp_path: Path, tiny: MNIST) -> None:
    library = RunLibrary(tmp_path)
    ids = [_record(library, tiny, epochs=1) for _ in range(4)]
    library.update_user_fields(ids[0], pinned=True)
    removed = library.prune(Limits(max_runs=2))
    assert [r.id for r in removed] == [ids[1], ids[2]]
    assert [r.id for r in library.runs()] == [ids[0], ids[3]]
    library.set_limits(Limits(max_runs=7, max_bytes=3 * 2**30))
    assert library.limits() == Limits(7, 3 * 2**30)


def test_a_15_epoch_record_is_small(tmp_path: Path, tiny: MNIST) -> None:
    """Per-batch metrics are compact: 15 epochs of 938 batches would be 14,070 rows."""
    library = RunLibrary(tmp_path)
    run = library.get(_record(library, tiny, epochs=1))
    rows = 15 * 938
    recorder = RunRecorder(run.folder, json.loads((run.folder / "run.json").read_text()))
    recorder._columns = [[float(i) for i in range(rows)] for _ in range(4)]
    recorder._write_batches()
    assert (run.folder / "batches.npz").stat().st_size < 300_000


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mnist_desk", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def test_kill_9_mid_training_leaves_an_interrupted_run_that_evaluates(
    tmp_path: Path, mnist: MNIST
) -> None:
    data = write_mnist_folder(
        tmp_path / "data",
        (mnist.train_images[:2048].numpy(), mnist.train_labels[:2048].numpy()),
        (mnist.test_images[:500].numpy(), mnist.test_labels[:500].numpy()),
    )
    env = {"MNIST_DESK_RUNS": str(tmp_path / "runs")}
    proc = _cli("train", "--data", str(data), "--epochs", "200", "--json",
                "--out", str(tmp_path / "m.pt"), env=env)  # fmt: skip
    assert proc.stdout is not None
    for _ in range(2):  # two epochs finished: their records are on disk
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
    time.sleep(0.3)  # into the third epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    listing = subprocess.run(
        [sys.executable, "-m", "mnist_desk", "runs", "--json"],
        capture_output=True, text=True, env={**os.environ, **env}, check=True,
    )  # fmt: skip
    runs = [json.loads(line) for line in listing.stdout.splitlines()]
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "interrupted" and run["epochs_done"] >= 2 and run["epochs"] == 200
    assert run["checkpoint"] and Path(run["checkpoint"]).is_file()
    evaluated = subprocess.run(
        [sys.executable, "-m", "mnist_desk", "evaluate", "--checkpoint", run["id"],
         "--data", str(data), "--json"],
        capture_output=True, text=True, env={**os.environ, **env},
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["test_acc"] > 50
    assert not list((tmp_path / "runs" / run["id"]).glob(".mnist-desk-*"))  # nothing half-written


def test_runs_from_several_processes_at_once(tmp_path: Path, mnist: MNIST) -> None:
    data = write_mnist_folder(
        tmp_path / "data",
        (mnist.train_images[:512].numpy(), mnist.train_labels[:512].numpy()),
        (mnist.test_images[:200].numpy(), mnist.test_labels[:200].numpy()),
    )
    env = {"MNIST_DESK_RUNS": str(tmp_path / "runs")}
    procs = [
        _cli(
            "train",
            "--data",
            str(data),
            "--epochs",
            "2",
            "--seed",
            str(i),
            "--out",
            str(tmp_path / f"m{i}.pt"),
            "--name",
            f"run {i}",
            env=env,
        )
        for i in range(3)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0
    runs = RunLibrary(tmp_path / "runs").runs()
    assert sorted(r.name for r in runs) == ["run 0", "run 1", "run 2"]
    assert all(r.status == "finished" and r.epochs_done == 2 for r in runs)
