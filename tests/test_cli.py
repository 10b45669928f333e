"""The command line's contract: commands, flags, JSON output and exit statuses."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_desk.cli import main
from mnist_desk.core.checkpoint import load_checkpoint
from mnist_desk.core.data import MNIST
from tests.helpers import write_mnist_folder

EPOCH_KEYS = {
    "epoch",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "seconds",
    "samples_per_s",
}


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory, mnist: MNIST) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    return write_mnist_folder(
        folder,
        (mnist.train_images[:1280].numpy(), mnist.train_labels[:1280].numpy()),
        (mnist.test_images[:500].numpy(), mnist.test_labels[:500].numpy()),
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    assert (
        main(["train", "--data", str(tiny_dir), "--epochs", "2", "--out", str(out), "--json"]) == 0
    )
    return out


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mnist_desk", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def _digit_png(path: Path) -> Path:
    img = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(img).line([(100, 30), (100, 170)], fill=0, width=16)
    img.save(path)
    return path


def test_train_json_is_one_object_per_epoch(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.pt"
    result = _run(
        "train",
        "--data",
        str(tiny_dir),
        "--epochs",
        "2",
        "--seed",
        "1",
        "--out",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    assert all(set(r) == EPOCH_KEYS for r in records)
    assert all(0 <= r["test_acc"] <= 100 and r["test_acc"] > 1 for r in records)  # percent
    assert str(out) in result.stderr and "24,210 parameters" in result.stderr
    ckpt = load_checkpoint(out)
    assert ckpt.train_config is not None
    assert len(ckpt.history) == 2 and ckpt.train_config.seed == 1
    assert ckpt.test_acc == records[-1]["test_acc"]


def test_train_flags_reach_the_configs(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "flags.pt"
    code = main(
        [
            "train",
            "--data",
            str(tiny_dir),
            "--epochs",
            "1",
            "--batch-size",
            "128",
            "--lr",
            "0.01",
            "--optimizer",
            "sgd",
            "--step-size",
            "3",
            "--gamma",
            "0.5",
            "--batchnorm",
            "--dropout",
            "0.2",
            "--device",
            "cpu",
            "--seed",
            "5",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    ckpt = load_checkpoint(out)
    t = ckpt.train_config
    assert t is not None
    assert (t.batch_size, t.lr, t.optimizer, t.step_size, t.gamma, t.device, t.seed) == (
        128,
        0.01,
        "sgd",
        3,
        0.5,
        "cpu",
        5,
    )
    assert ckpt.model_config.batchnorm and ckpt.model_config.dropout == 0.2


def test_train_on_extra_drawings_and_a_wider_network(
    tiny_dir: Path, tmp_path: Path, mnist: MNIST
) -> None:
    """--extra adds drawings (with "no digit" ones) to the training set; --width widens
    every convolution; both are recorded with the run."""
    extra = tmp_path / "extra.npz"
    images = mnist.train_images[2000:2300].numpy()
    labels = mnist.train_labels[2000:2300].numpy().astype(np.int64)
    labels[:50] = -1
    np.savez(extra, images=images, labels=labels)
    out = tmp_path / "extra.pt"
    code = main(["train", "--data", str(tiny_dir), "--epochs", "1", "--preset", "best",
                 "--width", "2", "--extra", str(extra), "--out", str(out), "--json"])  # fmt: skip
    assert code == 0
    ckpt = load_checkpoint(out)
    assert ckpt.model_config.width == 2 and ckpt.parameter_count() > 90_000
    assert ckpt.history[0].samples_per_s > 0
    from mnist_desk.core.runs import RunLibrary

    (run,) = [r for r in RunLibrary().runs() if r.name == "extra"]
    assert run.preset == "best, changed, extra drawings"
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=images.astype(np.float32), labels=labels)
    result = _run("train", "--data", str(tiny_dir), "--epochs", "1", "--extra", str(bad),
                  "--out", str(tmp_path / "never.pt"))  # fmt: skip
    assert result.returncode == 1 and "uint8" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "never.pt").exists()


def test_train_human_output_and_default_name(tiny_dir: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mnist_desk", "train", "--data", str(tiny_dir), "--epochs", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 1/1" in result.stdout and "test loss" in result.stdout
    saved = list(tmp_path.glob("mnist-desk-*.pt"))
    assert len(saved) == 1 and saved[0].name in result.stdout


def test_evaluate_json(trained: Path, mnist: MNIST) -> None:
    result = _run("evaluate", "--checkpoint", str(trained), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert set(record) == {"test_loss", "test_acc", "n", "per_class_acc"}
    assert record["n"] == 10000  # the real test set (MNIST_DESK_DATA), not the tiny one
    assert len(record["per_class_acc"]) == 10


def test_evaluate_defaults_to_the_bundled_model() -> None:
    result = _run("evaluate", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["n"] == 10000 and record["test_acc"] >= 99.5
    human = _run("evaluate")
    assert "test accuracy" in human.stdout and "per class" in human.stdout


def test_predict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = _digit_png(tmp_path / "one.png")
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    assert main(["predict", str(image), str(blank), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["digit"] == 1 and len(lines[0]["probabilities"]) == 10
    assert 0.5 < lines[0]["probability"] <= 1.0
    assert lines[1]["digit"] is None  # no ink, no guess
    assert main(["predict", str(image)]) == 0
    assert "one.png: 1 (" in capsys.readouterr().out


def test_predict_bad_image_is_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    result = _run("predict", str(bad))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "bad.png" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_are_exit_2() -> None:
    assert main(["train", "--epochs", "many"]) == 2
    assert main(["train", "--optimizer", "lion"]) == 2
    assert main(["train", "--epochs", "0"]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--version"]) == 0


def test_data_error_is_one_line_exit_1(tmp_path: Path) -> None:
    result = _run("train", "--data", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr.startswith("mnist-desk: error:") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and "nowhere" in result.stderr


def test_no_network_and_no_data_says_where_to_put_the_files(tmp_path: Path) -> None:
    """With nothing found, the real download is tried; offline it fails with one message."""
    env = {
        "MNIST_DESK_DATA": "",
        "XDG_CACHE_HOME": str(tmp_path),
        "HOME": str(tmp_path),
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    result = _run("evaluate", env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(tmp_path / "mnist-desk") in result.stderr
    assert "--data" in result.stderr and "MNIST_DESK_DATA" in result.stderr


def test_bad_checkpoint_is_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 100)
    result = _run("evaluate", "--checkpoint", str(bad))
    assert result.returncode == 1 and "bad.pt" in result.stderr
    assert "Traceback" not in result.stderr


def test_summary_prints_the_layer_table(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--checkpoint", str(trained)]) == 0
    assert "Total params: 24,210" in capsys.readouterr().out


def test_preset_best_and_flags_override_it(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "best.pt"
    result = _run("train", "--preset", "best", "--data", str(tiny_dir), "--epochs", "1",
                  "--lr", "0.01", "--out", str(out), "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "24,834 parameters" in result.stderr and "preset best" in result.stderr
    ckpt = load_checkpoint(out)
    assert ckpt.model_config.arch == "compact"
    t = ckpt.train_config
    assert t is not None
    assert (t.epochs, t.lr, t.optimizer, t.scheduler, t.ema) == (
        1,
        0.01,
        "adamw",
        "onecycle",
        0.999,
    )


def test_every_preset_is_offered_on_the_command_line() -> None:
    from mnist_desk.cli import _build_parser, train_configs
    from mnist_desk.core.presets import PRESETS, preset

    parser = _build_parser()
    for name in PRESETS:
        args = parser.parse_args(["train", "--preset", name])
        assert train_configs(args) == preset(name)


# ---- bad input: one line, no traceback, no warning -------------------------------------------
def _bad_checkpoint(path: Path, change: str) -> Path:
    import torch

    from mnist_desk.bundled import load_bundled_checkpoint

    payload = load_bundled_checkpoint().to_payload()
    if change == "sparse":
        state = dict(payload["model_state"])
        key = next(iter(state))
        state[key] = state[key].to_sparse()
        payload["model_state"] = state
    elif change == "versions":
        payload["versions"] = [1, 2, 3]
    elif change == "name":
        payload["name"] = "\x1b[2J\x1b[31mgotcha"
    torch.save(payload, path)
    return path


@pytest.mark.parametrize("change", ["sparse", "versions"])
def test_malformed_checkpoints_are_one_line_on_the_cli(tmp_path: Path, change: str) -> None:
    result = _run("summary", "--checkpoint", str(_bad_checkpoint(tmp_path / "x.pt", change)))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr


def test_checkpoint_names_are_printed_escaped(tmp_path: Path) -> None:
    result = _run("summary", "--checkpoint", str(_bad_checkpoint(tmp_path / "x.pt", "name")))
    assert result.returncode == 0 and "\x1b" not in result.stdout
    assert "\\x1b[2J" in result.stdout


def test_images_that_would_hang_or_exhaust_are_refused(tmp_path: Path) -> None:
    from PIL import Image

    os.mkfifo(tmp_path / "fifo.png")
    Image.new("1", (13000, 13000), 1).save(tmp_path / "bomb.png", optimize=True)
    result = _run("predict", str(tmp_path / "fifo.png"), str(tmp_path / "bomb.png"))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "regular file" in lines[0] and "13,000×13,000" in lines[1]
    assert "Warning" not in result.stderr


def test_a_bad_out_path_is_refused_before_training(tmp_path: Path) -> None:
    (tmp_path / "folder.pt").mkdir()
    missing_data = tmp_path / "no-mnist-here"
    result = _run("train", "--data", str(missing_data), "--out", str(tmp_path / "folder.pt"))
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "cannot save to" in result.stderr and "it is a folder" in result.stderr


def test_zero_test_images_is_refused(tmp_path: Path) -> None:
    import numpy as np

    from tests.helpers import random_split

    empty = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    folder = write_mnist_folder(tmp_path / "d", random_split(64), empty)
    result = _run("train", "--data", str(folder), "--out", str(tmp_path / "m.pt"))
    assert result.returncode == 1 and "holds no images" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "m.pt").exists()


def test_missing_system_libraries_are_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from mnist_desk.gui import system_libraries

    monkeypatch.setattr(
        system_libraries,
        "missing_libraries",
        lambda: {
            "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
            "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
        },
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main([]) == 1
    text = err.getvalue()
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in text
    assert "apt install libxcb-cursor0 libxcb-icccm4" in text
    assert "dnf install xcb-util-cursor xcb-util-wm" in text


# ---- the runs library on the command line ----------------------------------------------------
RUN_KEYS = {"id", "name", "status", "started", "preset", "params", "epochs_done", "epochs",
            "test_acc", "best_test_acc", "seconds", "device", "checkpoint"}  # fmt: skip


def test_runs_list_show_export_and_remove(tiny_dir: Path, tmp_path: Path) -> None:
    runs_dir = str(tmp_path / "runs")
    out = tmp_path / "r.pt"
    flags = ["--data", str(tiny_dir), "--epochs", "2", "--runs-dir", runs_dir, "--json"]
    assert main(["train", *flags, "--out", str(out), "--name", "my run"]) == 0
    listing = _run("runs", "--json", "--runs-dir", runs_dir)
    records = [json.loads(line) for line in listing.stdout.splitlines()]
    assert len(records) == 1 and set(records[0]) >= RUN_KEYS
    assert f"1 run in {runs_dir}" in _run("runs", "--runs-dir", runs_dir).stdout
    run = records[0]
    assert (run["name"], run["status"], run["epochs_done"], run["epochs"]) == (
        "my run", "finished", 2, 2,
    )  # fmt: skip
    assert run["params"] == 24210 and run["test_acc"] == load_checkpoint(out).test_acc
    shown = json.loads(
        _run("runs", "show", run["id"][:10], "--json", "--runs-dir", runs_dir).stdout
    )
    assert [h["epoch"] for h in shown["history"]] == [1, 2] and shown["machine"]["host"]
    evaluated = _run("evaluate", "--checkpoint", run["id"], "--runs-dir", runs_dir,
                     "--data", str(tiny_dir), "--json")  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["test_acc"] == run["test_acc"]
    csv_path = tmp_path / "m.csv"
    assert (
        _run("runs", "export", run["id"], "--csv", str(csv_path), "--runs-dir", runs_dir).returncode
        == 0
    )
    assert csv_path.read_text().splitlines()[0].startswith("epoch,epochs,train_loss")
    assert _run("runs", "rm", run["id"], "--runs-dir", runs_dir).returncode == 0
    assert _run("runs", "--json", "--runs-dir", runs_dir).stdout == ""
    missing = _run("runs", "show", "nope", "--runs-dir", runs_dir)
    assert missing.returncode == 1 and "no run with the id nope" in missing.stderr


def test_runs_limits_on_the_cli(tmp_path: Path) -> None:
    runs_dir = str(tmp_path / "runs")
    result = _run("runs", "limits", "--max-runs", "3", "--max-gb", "1", "--runs-dir", runs_dir)
    assert result.returncode == 0 and "at most 3 runs and 1 GB" in result.stdout
    one = _run("runs", "limits", "--max-runs", "1", "--runs-dir", runs_dir)
    assert one.returncode == 0 and "at most 1 run and 1 GB" in one.stdout


def test_robustness_json_one_object_per_model(trained: Path, tiny_dir: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([
            "robustness", "--checkpoint", str(trained), str(trained), "--damage", "rotation",
            "--levels", "0,30,90", "--data", str(tiny_dir), "--json",
        ])  # fmt: skip
    assert code == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 2 and records[0] == records[1]  # the same damage for every model
    record = records[0]
    assert set(record) == {"model", "damage", "points"} and record["damage"] == "rotation"
    levels = [p["level"] for p in record["points"]]
    accs = [p["test_acc"] for p in record["points"]]
    assert levels == [0, 30, 90]
    evaluated = json.loads(
        _run("evaluate", "--checkpoint", str(trained), "--data", str(tiny_dir), "--json").stdout
    )
    assert accs[0] == pytest.approx(evaluated["test_acc"])  # level 0 is the plain test set
    assert accs[0] > accs[1] > accs[2]  # a quarter turn is far worse than 30 degrees


def test_robustness_refuses_levels_out_of_range_and_unknown_damage() -> None:
    result = _run("robustness", "--damage", "rotation", "--levels", "0,400")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "mnist-desk: error: rotation level 400 is outside -180..180 (degrees)"
    ]
    bad = _run("robustness", "--damage", "blur", "--levels", "1,x")
    assert bad.returncode == 1 and "numbers separated by commas" in bad.stderr
    assert _run("robustness", "--damage", "melting").returncode == 2


def test_the_collector_is_off_while_starting_and_on_for_a_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Starting up frees almost nothing, so the cyclic collector is off until a command
    runs (the app collects in its GUI thread); it is on again afterwards."""
    import gc

    from mnist_desk import cli

    seen: dict[str, bool] = {}
    monkeypatch.setattr(cli, "_gui", lambda _checkpoint: seen.setdefault("app", gc.isenabled()))
    monkeypatch.setattr(cli, "_summary", lambda _args: seen.setdefault("summary", gc.isenabled()))
    was_on = gc.isenabled()  # off after a GUI test: the app's collector turns it off
    gc.enable()
    try:
        main([])
        assert gc.isenabled()
        main(["summary"])
        assert seen == {"app": False, "summary": True}
        assert gc.isenabled()
    finally:
        if not was_on:
            gc.disable()


# a command run through the entry point, with an exit handler that says when it runs
ENTRY = """
import atexit, sys
atexit.register(lambda: print("finalised", flush=True))
sys.argv = ["mnist-desk", *sys.argv[1:]]
from mnist_desk.cli import run
run()
"""


def test_a_command_ends_its_process_without_finalising_it(tmp_path: Path) -> None:
    """A command's output is all there (flushed into a pipe), its exit status is kept, and
    the interpreter's teardown (0.3-0.7 s with torch imported; core.ending) is skipped."""
    image = _digit_png(tmp_path / "one.png")

    def entry(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, timeout=120
        )

    ok = entry("predict", str(image), str(image), "--json")
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["digit"] == 1 for line in lines)
    failed = entry("predict", str(tmp_path / "missing.png"))
    assert failed.returncode == 1 and "missing.png" in failed.stderr
    assert "finalised" not in ok.stdout + failed.stdout
    assert entry("--version").returncode == 0


def test_the_app_ends_its_process_the_usual_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Qt's objects are destroyed as Python finalises (the clipboard is handed over then):
    after the app, the entry point exits through SystemExit, not at once."""
    from mnist_desk import cli
    from mnist_desk.core import ending

    def at_once(code: int) -> None:
        raise AssertionError(f"ended at once with {code}")

    monkeypatch.setattr(ending, "end_now", at_once)  # here, it would end the test run
    monkeypatch.setattr(cli, "_gui", lambda _checkpoint: 3)
    monkeypatch.setattr(sys, "argv", ["mnist-desk"])
    with pytest.raises(SystemExit) as ended:
        cli.run()
    assert ended.value.code == 3
