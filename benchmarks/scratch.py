"""Benchmarks write nothing into the user's own data folder: the runs they train and the
digits they keep go to a temporary folder, removed when the benchmark ends.

The app finds its data folder through XDG_DATA_HOME on Linux and APPDATA on Windows
(core.places.user_data_dir), and the runs library through MNIST_DESK_RUNS first; this
process and every command it starts inherit all three. On macOS the data folder follows
the home directory alone, which stays as it is (it also finds the MNIST cache): there the
runs go to the scratch folder, kept digits to the user's.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from mnist_desk.core.runs import RUNS_VAR


def use_scratch_data_home() -> Path:
    """Point the app's per-user data folder at a fresh temporary one; return it."""
    folder = Path(tempfile.mkdtemp(prefix="mnist-desk-bench-data-"))
    os.environ["XDG_DATA_HOME"] = str(folder)
    os.environ["APPDATA"] = str(folder)
    os.environ[RUNS_VAR] = str(folder / "mnist-desk" / "runs")  # where the above is not read
    atexit.register(shutil.rmtree, folder, True)
    return folder
