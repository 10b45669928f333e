"""The compiled resources are current, and a non-editable install gives a working app."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QDirIterator, QFile, QIODevice

import mnist_desk.gui.resources_rc

ROOT = Path(__file__).resolve().parents[2]


def _build_resources_module():
    spec = importlib.util.spec_from_file_location(
        "build_resources", ROOT / "scripts" / "build_resources.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _all_resource_files() -> set[str]:
    found = set()
    it = QDirIterator(":/", QDirIterator.IteratorFlag.Subdirectories)
    while it.hasNext():
        path = it.next()
        if not it.fileInfo().isDir():
            found.add(path)
    return found


def _resource_bytes(path: str) -> bytes:
    f = QFile(path)
    assert f.open(QIODevice.OpenModeFlag.ReadOnly), path
    try:
        return bytes(f.readAll().data())
    finally:
        f.close()


def test_qrc_lists_what_assets_holds() -> None:
    build = _build_resources_module()
    assert (ROOT / "resources.qrc").read_text() == build.qrc_text(), (
        "resources.qrc is stale: run python scripts/build_resources.py"
    )


def test_compiled_resources_are_current() -> None:
    """Compared by content, not text: rcc embeds file times, which a fresh clone changes."""
    build = _build_resources_module()
    expected = {f":/{build.resource_path(a)}": a for a in build.asset_files()}
    resources = mnist_desk.gui.resources_rc
    resources.qCleanupResources()
    try:
        qts_own = _all_resource_files()
    finally:
        resources.qInitResources()
    compiled = _all_resource_files() - qts_own
    assert compiled == set(expected), "run python scripts/build_resources.py"
    for resource, asset in expected.items():
        assert _resource_bytes(resource) == asset.read_bytes(), (
            f"{resource} differs from {asset}: run python scripts/build_resources.py"
        )


def test_bundled_checkpoint_is_in_the_resources() -> None:
    from mnist_desk.bundled import load_bundled_checkpoint

    checkpoint = load_bundled_checkpoint()
    assert checkpoint.test_acc is not None and checkpoint.test_acc >= 99.5
    # the best preset's network at twice the width, trained on MNIST and traced drawings
    assert checkpoint.model_config.arch == "compact" and checkpoint.model_config.width == 2
    assert checkpoint.parameter_count() < 100_000
    assert checkpoint.history and checkpoint.train_config is not None


@pytest.mark.slow
def test_non_editable_install_gives_a_working_app(tmp_path: Path) -> None:
    """Install from a copy of what a clean clone holds (git's files, uncommitted work too,
    nothing ignored such as build output), dependencies from this environment, and draw a 1
    in a window created from the installed package alone."""
    source = tmp_path / "src"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for rel in listed.splitlines():
        if (ROOT / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            (source / rel).write_bytes((ROOT / rel).read_bytes())
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
    )
    assert not (target / "mnist_desk" / "gui" / "resources_rc.py").is_symlink()
    script = textwrap.dedent(
        """
        import os, sys
        import mnist_desk
        assert mnist_desk.__file__.startswith(sys.argv[1]), mnist_desk.__file__
        from mnist_desk.gui import create_window
        from tests_drawing import stroke
        w = create_window(); w.show()
        stroke(w.draw_tab.canvas, [(0.5, 0.15), (0.5, 0.85)])
        w.draw_tab.predict_now()
        print("DIGIT", w.findChild(type(w.draw_tab.digit_label), "predictedDigit").text())
        w.session.dirty = False; w.close()
        """
    )
    (tmp_path / "tests_drawing.py").write_text((ROOT / "tests" / "drawing.py").read_text())
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), str(tmp_path)]),
        "QT_QPA_PLATFORM": "offscreen",
    }
    result = subprocess.run(
        [sys.executable, "-c", script, str(target)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "DIGIT 1" in result.stdout
