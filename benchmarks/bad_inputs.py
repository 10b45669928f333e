"""Bad input on purpose: a corpus of malformed checkpoints, images, data folders, save
targets and runs libraries, each given to the command line as a user would, with the exit
status, the lines on stderr, the time and the peak memory of each run.

    python benchmarks/bad_inputs.py [--only KIND] [--markdown]

The corpus is built fresh in a temporary folder from sources nobody tuned the checks on
(PIL's own encoders, torch.save, os.mkfifo). A good answer is exit 1 (2 for usage) with
one line on stderr, no traceback, no warning, in well under 2 s and 1 GB; for a damaged
runs library, exit 0 with the run listed as damaged.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import use_scratch_data_home  # noqa: E402
from mnist_desk.bundled import load_bundled_checkpoint  # noqa: E402
from mnist_desk.core.data import FILES  # noqa: E402


@dataclass(frozen=True)
class Case:
    kind: str  # checkpoint, image, data, save, library
    name: str
    args: list[str]
    timeout: float = 60.0


@dataclass(frozen=True)
class Outcome:
    code: int | None
    stderr_lines: int
    first_line: str
    seconds: float
    peak_mb: float
    traceback: bool


# ---- checkpoints --------------------------------------------------------------------------
def _payload() -> dict[str, object]:
    return load_bundled_checkpoint().to_payload()


def _save(path: Path, payload: object, **kwargs: object) -> Path:
    torch.save(payload, path, **kwargs)  # type: ignore[arg-type]
    return path


def _with(change: Callable[[dict[str, object]], None]) -> dict[str, object]:
    p = _payload()
    change(p)
    return p


def _weights(p: dict[str, object], fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    state = dict(p["model_state"])  # type: ignore[call-overload]
    key = next(iter(state))
    state[key] = fn(state[key])
    p["model_state"] = state


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this ran",))


def checkpoint_cases(folder: Path) -> list[Case]:
    good = _save(folder / "good.pt", _payload())
    raw = good.read_bytes()
    made: dict[str, Path] = {}

    def write(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)
        made[name] = folder / name

    write("truncated.pt", raw[: len(raw) // 2])
    write("random-bytes.pt", np.random.default_rng(0).bytes(5000))
    write("empty.pt", b"")
    write("text.pt", b"not a checkpoint at all\n")
    write("pickle-that-runs-code.pt", pickle.dumps(_Exploit()))
    legacy = io.BytesIO()
    torch.save({"a": _Exploit()}, legacy, _use_new_zipfile_serialization=False)
    write("legacy-pickle-that-runs-code.pt", legacy.getvalue())
    variants: dict[str, Callable[[dict[str, object]], None]] = {
        "nan-weights.pt": lambda p: _weights(p, lambda t: t * float("nan")),
        "wrong-shape.pt": lambda p: _weights(p, lambda t: t[..., :1].clone()),
        "integer-weights.pt": lambda p: _weights(p, lambda t: t.round().to(torch.int32)),
        "complex-weights.pt": lambda p: _weights(p, lambda t: t.to(torch.complex64)),
        "sparse-weights.pt": lambda p: _weights(p, lambda t: t.to_sparse()),
        "future-schema.pt": lambda p: p.update(schema_version=99),
        "schema-true.pt": lambda p: p.update(schema_version=True),
        "versions-not-a-dict.pt": lambda p: p.update(versions=[1, 2, 3]),
        "history-entry-a-list.pt": lambda p: p.update(history=[[1, 2, 3]]),
        "history-missing-fields.pt": lambda p: p.update(history=[{"epoch": 1}]),
        "history-strings.pt": lambda p: p.update(
            history=[{k: "x" for k in ("epoch", "epochs", "train_loss", "train_acc")}]
        ),
        "test-metrics-a-string.pt": lambda p: p.update(test_metrics="99%"),
        "curve-ragged.pt": lambda p: p.update(batch_curve={"x": [1], "loss": [], "acc": []}),
        "config-unknown-arch.pt": lambda p: p.update(model_config={"arch": "resnet"}),
        "optimizer-state-a-list.pt": lambda p: p.update(optimizer_state=[1, 2]),
        "name-with-escapes.pt": lambda p: p.update(name="\x1b[2J\x1b[31mred\x07"),
        "name-not-a-string.pt": lambda p: p.update(name=12345),
    }
    for name, change in variants.items():
        made[name] = _save(folder / name, _with(change))
    made["compressed-to-unpack-to-1GB.pt"] = _checkpoint_bomb(folder / "bomb.pt")
    made["bare-state-dict.pt"] = _save(folder / "bare.pt", dict(_payload()["model_state"]))  # type: ignore[call-overload]
    huge = folder / "huge.pt"
    with open(huge, "wb") as f:  # sparse: 120 MB of nothing on disk
        f.truncate(120 * 1024 * 1024)
    made["huge-120MB.pt"] = huge
    made["a-directory.pt"] = folder / "dir.pt"
    made["a-directory.pt"].mkdir()
    fifo = folder / "fifo.pt"
    os.mkfifo(fifo)
    made["a-fifo.pt"] = fifo
    made["missing.pt"] = folder / "missing.pt"
    return [
        Case("checkpoint", name, ["evaluate", "--checkpoint", str(path), "--json"], 20)
        for name, path in made.items()
    ]


def _checkpoint_bomb(path: Path) -> Path:
    """A good checkpoint with a 1 GB weight of zeros, in torch.save's archive with its
    entries compressed (torch.load unpacks those too): about 1 MB on disk."""
    payload = _with(lambda p: p.update(model_state={**p["model_state"], "big": torch.zeros(2**28)}))  # type: ignore[dict-item]
    raw = io.BytesIO()
    torch.save(payload, raw)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def _four(size: int = 200) -> Image.Image:
    img = Image.new("L", (size, size), 255)
    d = ImageDraw.Draw(img)
    s = size / 200
    d.line([(120 * s, 20 * s), (40 * s, 130 * s), (160 * s, 130 * s)], fill=0, width=int(14 * s))
    d.line([(120 * s, 20 * s), (120 * s, 185 * s)], fill=0, width=int(14 * s))
    return img


def _many_scans(side: int, repeats: int) -> bytes:
    """A grey progressive JPEG whose last scan comes `repeats` more times: each scan is
    read over the whole image, and libjpeg only warns of the repeats."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 128).save(buffer, "JPEG", progressive=True)
    data, at, segments = buffer.getvalue(), 2, []
    while data[at + 1] != 0xD9:
        end = at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        if data[at + 1] == 0xDA:  # its entropy-coded data runs to the next real marker
            while not (data[end] == 0xFF and data[end + 1] and not 0xD0 <= data[end + 1] <= 0xD7):
                end += 1
        segments.append(data[at:end])
        at = end
    return data[:2] + b"".join(segments) + segments[-1] * repeats + b"\xff\xd9"


def image_cases(folder: Path) -> list[Case]:
    made: dict[str, Path] = {}
    four = np.asarray(_four(), np.float64) / 255.0  # 1 paper, 0 ink
    sixteen = Image.fromarray((four * 65535).astype(np.uint16))
    sixteen.save(folder / "four-16bit.png")
    made["16-bit PNG, black 4 on white"] = folder / "four-16bit.png"
    Image.fromarray(four.astype(np.float32), mode="F").save(folder / "four-float.tiff")
    made["float TIFF, black 4 on white (0..1)"] = folder / "four-float.tiff"
    grey = 0.55 + 0.25 * four  # grey paper, darker ink
    Image.fromarray((grey * 255).astype(np.uint8)).save(folder / "four-grey-paper.png")
    made["grey-paper scan"] = folder / "four-grey-paper.png"
    Image.fromarray((four * 4000 + 100).astype(np.int32), mode="I").save(folder / "four-int32.tiff")
    made["32-bit integer TIFF"] = folder / "four-int32.tiff"
    _four().convert("CMYK").save(folder / "four-cmyk.jpg")
    made["CMYK JPEG"] = folder / "four-cmyk.jpg"
    _four().convert("1").save(folder / "four-1bit.png")
    made["1-bit PNG"] = folder / "four-1bit.png"
    _four().convert("P").save(folder / "four-palette.gif")
    made["palette GIF"] = folder / "four-palette.gif"
    bomb = Image.new("1", (13000, 13000), 1)
    bomb.save(folder / "bomb.png", optimize=True)
    made["13,000x13,000 PNG (decompression bomb)"] = folder / "bomb.png"
    big = _four(6000)
    big.save(folder / "big-6000.jpg", quality=80)
    made["6,000x6,000 JPEG photo"] = folder / "big-6000.jpg"
    good = io.BytesIO()
    _four().save(good, format="PNG")
    (folder / "truncated.png").write_bytes(good.getvalue()[:300])
    made["truncated PNG"] = folder / "truncated.png"
    lzw = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    Image.fromarray(noise).save(lzw, "TIFF", compression="tiff_lzw")
    (folder / "damaged-lzw.tif").write_bytes(
        lzw.getvalue()[:200] + b"\xff" * 60 + lzw.getvalue()[260:]
    )
    made["LZW TIFF with a damaged strip"] = folder / "damaged-lzw.tif"
    (folder / "random.png").write_bytes(np.random.default_rng(1).bytes(4000))
    made["random bytes"] = folder / "random.png"
    (folder / "empty.png").write_bytes(b"")
    made["empty file"] = folder / "empty.png"
    # where Ghostscript is installed PIL runs an EPS through it: this one never ends
    (folder / "loop.eps").write_text(
        "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 99 99\n{ } loop\n"
    )
    made["EPS that loops forever"] = folder / "loop.eps"
    (folder / "scans.jpg").write_bytes(_many_scans(5000, 3000))
    made["JPEG repeating a scan 3,000 times"] = folder / "scans.jpg"
    os.mkfifo(folder / "fifo.png")
    made["a FIFO"] = folder / "fifo.png"
    (folder / "dir.png").mkdir()
    made["a directory"] = folder / "dir.png"
    return [
        Case("image", name, ["predict", str(path), "--json"], 30) for name, path in made.items()
    ]


# ---- data folders -------------------------------------------------------------------------
def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _data_folder(folder: Path, n_train: int, n_test: int, *, bad: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 255, (n_train, 28, 28)),
        "train_labels": rng.integers(0, 10, n_train),
        "test_images": rng.integers(0, 255, (n_test, 28, 28)),
        "test_labels": rng.integers(0, 10, n_test),
    }
    for key, name in FILES.items():
        data = _idx(arrays[key])
        if bad == "truncated" and key == "train_images":
            data = data[: len(data) // 2]
        if bad == "magic" and key == "test_labels":
            data = b"\x00\x00\x0d\x01" + data[4:]
        if bad == "labels" and key == "train_labels":
            data = data[:-1] + b"\x0c"
        (folder / f"{name}.gz").write_bytes(gzip.compress(data))
    if bad == "gzip-bomb":  # 1 GB of zeros behind the test images' header, in about 1 MB
        with gzip.open(folder / f"{FILES['test_images']}.gz", "wb", compresslevel=9) as f:
            f.write(_idx(arrays["test_images"]))
            for _ in range(64):
                f.write(bytes(2**24))
    if bad == "corrupt-gzip":
        (folder / f"{FILES['test_images']}.gz").write_bytes(b"\x1f\x8b" + zlib.compress(b"x"))
    return folder


def data_cases(folder: Path) -> list[Case]:
    made = {
        "zero training images": _data_folder(folder / "zero-train", 0, 100),
        "zero test images": _data_folder(folder / "zero-test", 256, 0),
        "truncated IDX": _data_folder(folder / "trunc", 256, 100, bad="truncated"),
        "wrong magic number": _data_folder(folder / "magic", 256, 100, bad="magic"),
        "a label of 12": _data_folder(folder / "labels", 256, 100, bad="labels"),
        "corrupt gzip": _data_folder(folder / "gzip", 256, 100, bad="corrupt-gzip"),
        "gzip that unpacks to 1 GB": _data_folder(folder / "bomb", 256, 100, bad="gzip-bomb"),
        "empty folder": folder / "empty",
        "missing folder": folder / "missing",
    }
    (folder / "empty").mkdir()
    out = str(folder / "unused.pt")
    cases = [
        Case("data", name, ["train", "--data", str(p), "--epochs", "1", "--out", out], 120)
        for name, p in made.items()
    ]
    good = _data_folder(folder / "good", 256, 100)
    os.mkfifo(folder / "fifo.npz")
    extras = {
        "--extra is a FIFO": folder / "fifo.npz",
        "--extra .npz that unpacks to 2.5 GB": _npz_bomb(folder / "bomb.npz", 3_500_000),
        "--extra .npz declaring 784 TB": _npz_claiming(folder / "claims.npz", 10**12),
    }
    for name, extra in extras.items():
        args = ["train", "--data", str(good), "--extra", str(extra), "--epochs", "1"]
        cases.append(Case("data", name, [*args, "--out", out], 60))
    return cases


def _npz_bomb(path: Path, n: int) -> Path:
    """An .npz of n blank 28x28 drawings, compressed as they stream in: a few MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("images.npy", "w", force_zip64=True) as f:
            header = {"descr": "|u1", "fortran_order": False, "shape": (n, 28, 28)}
            np.lib.format.write_array_header_1_0(f, header)  # type: ignore[no-untyped-call]
            for start in range(0, n, 20_000):
                f.write(bytes(784 * min(20_000, n - start)))
        buffer = io.BytesIO()
        np.save(buffer, np.zeros(n, np.int64))
        archive.writestr("labels.npy", buffer.getvalue())
    return path


def _npz_claiming(path: Path, n: int) -> Path:
    """An .npz whose headers declare n drawings over the bytes of one: numpy allocates
    what a header declares before it reads."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, shape, descr, size in (("images", (n, 28, 28), "|u1", 784),
                                         ("labels", (n,), "<i8", 8)):  # fmt: skip
            header = io.BytesIO()
            fields = {"descr": descr, "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(header, fields)  # type: ignore[no-untyped-call]
            archive.writestr(f"{name}.npy", header.getvalue() + bytes(size))
    return path


# ---- save targets -------------------------------------------------------------------------
def save_cases(folder: Path, data: Path) -> list[Case]:
    (folder / "a-dir.pt").mkdir()
    (folder / "read-only").mkdir()
    (folder / "read-only").chmod(0o555)
    (folder / "file").write_text("x")
    long_name = "m" * 252 + ".pt"
    targets = {
        "--out is a directory": folder / "a-dir.pt",
        "--out in a read-only folder": folder / "read-only" / "m.pt",
        "--out under a file": folder / "file" / "m.pt",
        "--out near the name limit (255)": folder / long_name,
    }
    return [
        Case("save", name, ["train", "--data", str(data), "--epochs", "1", "--out", str(p)], 120)
        for name, p in targets.items()
    ]


# ---- a runs library -------------------------------------------------------------------
def library_cases(folder: Path, data: Path) -> list[Case]:
    """A library of one real run (trained for it), copied once per damage; each is listed
    with `mnist-desk runs`, which must name the run damaged, not fail or wait."""
    base = folder / "base"
    subprocess.run(
        [sys.executable, "-m", "mnist_desk", "train", "--data", str(data), "--epochs", "1",
         "--runs-dir", str(base), "--out", str(folder / "trained.pt")],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    run = next(p.name for p in base.iterdir() if p.is_dir())
    deep = "[" * 100_000 + "]" * 100_000

    def fifo(path: Path) -> None:
        path.unlink(missing_ok=True)
        os.mkfifo(path)

    damages: dict[str, Callable[[Path], None]] = {
        "run.json nested 100,000 deep": lambda lib: (lib / run / "run.json").write_text(deep),
        "run.json of 30 MB": lambda lib: (lib / run / "run.json").write_text(" " * 30 * 2**20),
        "run.json not UTF-8": lambda lib: (lib / run / "run.json").write_bytes(b"\xff\xfe{}"),
        "run.json a FIFO": lambda lib: fifo(lib / run / "run.json"),
        "user.json a FIFO": lambda lib: fifo(lib / run / "user.json"),
        "library.json nested 100,000 deep": lambda lib: (lib / "library.json").write_text(deep),
        "library.json a FIFO": lambda lib: fifo(lib / "library.json"),
    }
    cases = []
    for name, damage in damages.items():
        library = folder / f"lib{len(cases)}"
        shutil.copytree(base, library)
        damage(library)
        cases.append(Case("library", name, ["runs", "--runs-dir", str(library)], 20))
    return cases


# ---- running ------------------------------------------------------------------------------
# The command line, run so that it reports its own peak memory as it exits: the VmHWM of
# its own address space. Its ru_maxrss (wait4) starts from this process's size at the fork,
# which hid every case's peak under this one's (700-800 MB, all rows alike).
LAUNCH = """
import os, sys
sys.argv = ["mnist-desk", *sys.argv[1:]]
from mnist_desk.cli import main
from mnist_desk.core.ending import end_now
try:
    code = main()
finally:
    with open("/proc/self/status") as status, open(os.environ["BAD_INPUTS_PEAK"], "w") as f:
        f.write(next(ln.split()[1] for ln in status if ln.startswith("VmHWM:")))
end_now(code)  # as `mnist-desk` ends a command (cli.run)
"""


def run(case: Case, env: dict[str, str]) -> Outcome:
    """Run one case, with its peak memory as it reports it on the way out."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile() as peak:
        return _run(case, {**env, "BAD_INPUTS_PEAK": peak.name}, out)


def _run(case: Case, env: dict[str, str], out: IO[bytes]) -> Outcome:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, *case.args],
        stdout=out,
        stderr=subprocess.PIPE,
        env=env,
        cwd=env["PYTHONPATH"],  # -c puts the working folder first: the code under test
        start_new_session=True,  # a hung case is killed with what it started (Ghostscript)
    )
    timer = threading.Timer(case.timeout, os.killpg, (proc.pid, signal.SIGKILL))
    timer.start()
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, _ = os.wait4(proc.pid, 0)
    hung = not timer.is_alive()
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if hung:
        return Outcome(None, 0, f"hung: killed after {case.timeout:.0f} s", seconds, 0.0, False)
    text = err.decode(errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    first = (lines[0] if lines else "")[:110].encode("unicode_escape").decode()
    out.seek(0)
    if not first and case.kind == "image":
        first = f"read as: {_reading(out.read().decode())}"
    if not first and case.kind == "library":  # the run's line of the listing
        listed = out.read().decode(errors="replace").splitlines()
        first = " ".join(listed[1].split()) if len(listed) > 1 else "(nothing listed)"
    return Outcome(proc.returncode, len(lines), first, seconds, _peak_mb(env), "Traceback" in text)


def _peak_mb(env: dict[str, str]) -> float:
    text = Path(env["BAD_INPUTS_PEAK"]).read_text()
    return int(text) / 1024 if text.isdigit() else float("nan")  # kB; nothing if it died


def _reading(stdout: str) -> str:
    try:
        record = json.loads(stdout.splitlines()[0])
    except (ValueError, IndexError):
        return "?"
    if record.get("digit") is None:
        return "no ink"
    return f"{record['digit']} ({100 * record['probability']:.1f}%)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("checkpoint", "image", "data", "save", "library"))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    use_scratch_data_home()  # the runs the train cases record go there, not to the user's
    env = {**os.environ, "PYTHONPATH": os.environ.get("MNIST_DESK_CODE", str(ROOT))}
    with tempfile.TemporaryDirectory(prefix="mnist-desk-bad-") as tmp:
        folder = Path(tmp)
        cases: list[Case] = []
        kinds = {
            "checkpoint": lambda: checkpoint_cases(_mk(folder / "ckpt")),
            "image": lambda: image_cases(_mk(folder / "img")),
            "data": lambda: data_cases(_mk(folder / "data")),
            "save": lambda: save_cases(
                _mk(folder / "save"), _data_folder(folder / "tiny", 256, 100)
            ),
            "library": lambda: library_cases(
                _mk(folder / "library"), _data_folder(folder / "tiny-lib", 256, 100)
            ),
        }
        for kind, build in kinds.items():
            if args.only in (None, kind):
                cases += build()
        print(f"code under test: {env['PYTHONPATH']}", file=sys.stderr)
        if args.markdown:
            print("| input | exit | stderr lines | traceback | time (s) | peak MB | first line |")
            print("|---|---|---|---|---|---|---|")
        for case in cases:
            o = run(case, env)
            if args.markdown:
                print(
                    f"| {case.kind}: {case.name} | {o.code} | {o.stderr_lines} | "
                    f"{'yes' if o.traceback else 'no'} | {o.seconds:.1f} | {o.peak_mb:.0f} | "
                    f"{o.first_line.replace('|', '/')} |"
                )
            else:
                print(
                    f"{case.kind:10} {case.name:42} exit {o.code!s:4} lines {o.stderr_lines:3} "
                    f"{o.seconds:5.1f}s {o.peak_mb:6.0f}MB  {o.first_line}"
                )
            sys.stdout.flush()
        (folder / "save" / "read-only").chmod(0o755) if (folder / "save").exists() else None
    return 0


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
