"""Where the app keeps what it writes for the user: the platform's per-user data folder
(kept digits, the runs library)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_data_dir() -> Path:
    """The platform's per-user data folder for this app."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
        return base / "mnist-desk"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "mnist-desk"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "mnist-desk"
