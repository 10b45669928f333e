"""mnist_desk.core never imports Qt, pyqtgraph or the GUI (import-linter has the same
contract in pyproject.toml; these tests enforce it without the dev tools installed)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mnist_desk

CORE = Path(mnist_desk.__file__).parent / "core"
FORBIDDEN = ("PySide6", "pyqtgraph", "shiboken6", "mnist_desk.gui", "mnist_desk.cli")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_core_sources_import_no_qt() -> None:
    files = sorted(CORE.glob("*.py"))
    assert len(files) >= 8
    offenders = [
        f"{path.name}: {name}"
        for path in files
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offenders == []


def test_importing_all_of_core_loads_no_qt() -> None:
    modules = [f"mnist_desk.core.{p.stem}" for p in sorted(CORE.glob("*.py"))]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        "or m.startswith(('mnist_desk.gui', 'mnist_desk.cli'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_linter_contracts() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint_imports).exists():
        pytest.skip("import-linter is a dev tool (pip install -e '.[dev]')")
    root = Path(mnist_desk.__file__).parent.parent
    result = subprocess.run([lint_imports], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
