"""Regenerate resources.qrc from what assets/ holds, then compile it with pyside6-rcc
into mnist_desk/gui/resources_rc.py. Run after changing anything under assets/:

    python scripts/build_resources.py

tests/gui/test_resources.py fails when the committed module is stale.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
QRC = ROOT / "resources.qrc"
OUTPUT = ROOT / "mnist_desk" / "gui" / "resources_rc.py"
# resource paths the app asks for, e.g. ":/models/bundled.pt"
ALIASES = {"bundled_model.pt": "models/bundled.pt"}


def asset_files() -> list[Path]:
    return sorted(p for p in ASSETS.rglob("*") if p.is_file() and p.name != "README.md")


def resource_path(asset: Path) -> str:
    """The path inside Qt's resource system (without the leading ':/')."""
    rel = asset.relative_to(ASSETS).as_posix()
    return ALIASES.get(rel, rel)


def qrc_text() -> str:
    lines = ["<!DOCTYPE RCC>", '<RCC version="1.0">', '  <qresource prefix="/">']
    for asset in asset_files():
        rel = asset.relative_to(ROOT).as_posix()
        lines.append(f'    <file alias="{resource_path(asset)}">{rel}</file>')
    lines += ["  </qresource>", "</RCC>", ""]
    return "\n".join(lines)


def rcc_command() -> list[str]:
    exe = shutil.which("pyside6-rcc") or str(Path(sys.executable).parent / "pyside6-rcc")
    return [exe]


def main() -> int:
    QRC.write_text(qrc_text())
    subprocess.run(
        [*rcc_command(), "-g", "python", str(QRC), "-o", str(OUTPUT)], check=True, cwd=ROOT
    )
    print(f"wrote {QRC.relative_to(ROOT)} and {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
