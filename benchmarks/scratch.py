"""Benchmarks write nothing into the user's own data folder: the runs they train and the
digits they keep go to a temporary folder, removed when the benchmark ends.

The app finds its data folder through XDG_DATA_HOME on Linux and APPDATA on Windows
(core.places.user_data_dir); this process and every command it starts inherit both. On
macOS the folder follows the home directory alone, which stays as it is (it also finds
the MNIST cache), so there a benchmark's runs still land in the user's library.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path


def use_scratch_data_home() -> Path:
    """Point the app's per-user data folder at a fresh temporary one; return it."""
    folder = Path(tempfile.mkdtemp(prefix="mnist-desk-bench-data-"))
    os.environ["XDG_DATA_HOME"] = str(folder)
    os.environ["APPDATA"] = str(folder)
    atexit.register(shutil.rmtree, folder, True)
    return folder
