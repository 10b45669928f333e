"""The real download path, against servers on this machine: one that serves the files,
one that accepts connections and never answers (a proxy or captive portal), one that is
not there at all. No test needs the internet."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mnist_desk.core import data as data_mod
from mnist_desk.core.data import (
    DOWNLOAD_BUDGET_S,
    DOWNLOAD_TIMEOUT_S,
    DOWNLOAD_TRIES,
    ENV_VAR,
    FILES,
    MIRRORS_VAR,
    download_mnist,
    find_idx_files,
    load_mnist,
)
from mnist_desk.core.errors import DataError
from tests.helpers import idx_bytes, random_split


@pytest.fixture
def mirror_files(tmp_path: Path) -> dict[str, bytes]:
    """Small but valid MNIST files, as a mirror holds them (gzipped)."""
    train, test = random_split(64, 1), random_split(32, 2)
    arrays = {
        "train_images": train[0],
        "train_labels": train[1],
        "test_images": test[0],
        "test_labels": test[1],
    }
    return {f"{name}.gz": gzip.compress(idx_bytes(arrays[key])) for key, name in FILES.items()}


def _serve(files: dict[str, bytes]) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path.rsplit("/", 1)[-1])
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/mnist/"


@pytest.fixture
def mirror(mirror_files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server, url = _serve(mirror_files)
    md5s = [(n, hashlib.md5(b).hexdigest()) for n, b in mirror_files.items()]
    monkeypatch.setattr(data_mod, "_sources", lambda: ([url], md5s))
    yield url
    server.shutdown()


@pytest.fixture
def stalled() -> Iterator[str]:
    """A server that accepts every connection and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # the kernel completes the handshakes; nobody ever answers
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/mnist/"
    sock.close()


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_download_checks_and_loads(tmp_path: Path, mirror: str) -> None:
    seen: list[tuple[int, int, str]] = []
    folder = download_mnist(tmp_path / "cache", progress=lambda *p: seen.append(p))
    assert find_idx_files(folder) is not None
    assert seen and seen[-1][0] == seen[-1][1] > 0 and "127.0.0.1" in seen[-1][2]
    assert not list(folder.glob(".*.part"))  # nothing half-written left behind
    loaded = load_mnist(folder)
    assert len(loaded.train_images) == 64 and len(loaded.test_images) == 32


def test_load_downloads_into_the_cache_once(
    tmp_path: Path, mirror: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(data_mod, "user_cache_dir", lambda: tmp_path / "cache")
    assert load_mnist().folder == tmp_path / "cache"
    monkeypatch.setattr(data_mod, "_sources", lambda: pytest.fail("downloaded again"))
    assert load_mnist().folder == tmp_path / "cache"


def test_a_damaged_file_is_refused(
    tmp_path: Path, mirror_files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, url = _serve({**mirror_files, "t10k-labels-idx1-ubyte.gz": b"tampered"})
    md5s = [(n, hashlib.md5(b).hexdigest()) for n, b in mirror_files.items()]
    monkeypatch.setattr(data_mod, "_sources", lambda: ([url], md5s))
    try:
        with pytest.raises(DataError, match="sent a damaged t10k-labels"):
            download_mnist(tmp_path / "cache", timeout_s=2)
    finally:
        server.shutdown()
    assert not (tmp_path / "cache" / "t10k-labels-idx1-ubyte.gz").exists()


def test_a_stalled_server_is_given_up_with_one_line(
    tmp_path: Path, stalled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_mod, "_sources", lambda: ([stalled], [("x.gz", "0" * 32)]))
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        download_mnist(tmp_path / "cache", timeout_s=0.4)
    assert time.monotonic() - start < DOWNLOAD_TRIES * (0.4 + 2.5) + 1.5
    message = str(info.value)
    assert "\n" not in message and "no answer from 127.0.0.1 within 0.4 s" in message
    assert "--data" in message and ENV_VAR in message


def test_nothing_listening_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_unused_port()}/"
    monkeypatch.setattr(data_mod, "_sources", lambda: ([url], [("x.gz", "0" * 32)]))
    start = time.monotonic()
    with pytest.raises(DataError, match=r"cannot reach 127\.0\.0\.1"):
        download_mnist(tmp_path / "cache")
    assert time.monotonic() - start < 3.0


def test_a_stalled_download_is_cancelled_at_once(
    tmp_path: Path, stalled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_mod, "_sources", lambda: ([stalled], [("x.gz", "0" * 32)]))
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    start = time.monotonic()
    with pytest.raises(DataError, match="cancelled"):
        download_mnist(tmp_path / "cache", stop=stop)  # the real 10 s timeout
    assert time.monotonic() - start < 0.8


def test_the_defaults_give_up_within_a_minute() -> None:
    mirrors = len(data_mod._sources()[0])
    worst_attempt = DOWNLOAD_TIMEOUT_S + 2.0  # a read timeout, or the watchdog
    worst = DOWNLOAD_TRIES * mirrors * worst_attempt + (DOWNLOAD_TRIES - 1) * 1.0
    assert min(worst, DOWNLOAD_BUDGET_S + worst_attempt) <= 60.0


def test_mirrors_can_be_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MIRRORS_VAR, "http://a.example/mnist/, http://b.example/")
    mirrors, resources = data_mod._sources()
    assert mirrors == ["http://a.example/mnist/", "http://b.example/"]
    assert {name for name, _ in resources} == {f"{n}.gz" for n in FILES.values()}
    assert all(len(md5) == 32 for _, md5 in resources)


def test_zero_images_is_one_clear_error_naming_the_file(tmp_path: Path) -> None:
    from tests.helpers import write_mnist_folder

    empty = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    write_mnist_folder(tmp_path / "a", random_split(20), empty)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz holds no images"):
        load_mnist(tmp_path / "a")
    write_mnist_folder(tmp_path / "b", empty, random_split(20))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz holds no images"):
        load_mnist(tmp_path / "b")
