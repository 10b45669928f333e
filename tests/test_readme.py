"""The README's two commands are the contract; CI must run the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_has_the_two_commands() -> None:
    blocks = [b.strip() for b in _bash_blocks()]
    assert len(blocks) == 2
    launch, tests = blocks
    assert "pip install ." in launch and launch.endswith("mnist-desk")
    assert '".[test]"' in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = _bash_blocks()[1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [
        ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    assert commands[-1] == test_command


def test_pyproject_declares_ranges_and_the_console_script() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for dep in (
        '"torch>=2.4"',
        '"torchvision>=0.19"',
        '"PySide6-Essentials>=6.6',
        '"pyqtgraph"',
        '"tqdm"',
    ):
        assert dep in text
    assert 'mnist-desk = "mnist_desk.cli:run"' in text
