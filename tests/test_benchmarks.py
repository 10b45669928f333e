"""The benchmarks' own helpers (the benchmarks themselves time things and are run by hand)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from benchmarks.scratch import use_scratch_data_home
from mnist_desk.core.places import user_data_dir
from mnist_desk.core.runs import RunLibrary
folder = use_scratch_data_home()
library = RunLibrary()
(library.folder / "a-run").mkdir(parents=True)
print(json.dumps({"scratch": str(folder), "data": str(user_data_dir()),
                  "runs": str(library.folder)}))
"""


def test_a_benchmarks_runs_go_to_a_scratch_folder_that_is_removed_after(tmp_path: Path) -> None:
    home = tmp_path / "user-data"
    env = {"PATH": "", "HOME": str(tmp_path), "XDG_DATA_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tmp_path,
    )
    places = json.loads(out.stdout)
    scratch = Path(places["scratch"])
    assert Path(places["data"]).is_relative_to(scratch)
    assert Path(places["runs"]).is_relative_to(scratch)
    assert not home.exists()  # nothing written into the user's own folder
    assert not scratch.exists()  # and the scratch folder went with the process
