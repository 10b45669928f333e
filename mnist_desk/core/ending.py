"""Ending a process that has finished its work, without tearing down the interpreter.

When Python exits the usual way it finalises every module it imported. With PyTorch (and
torch._dynamo, which the first optimiser imports) that is some 1,300 modules and 0.3 to
0.7 s of one core on this project's machines, spent after the command has printed its
last line or the training process has sent its last message: `python -c "import torch,
torch._dynamo, torch.optim, torchvision"` took 2.6 s, and 1.8 s ending with os._exit
(`mnist-desk predict`: 1.22 s, and 0.94 s). Nothing of this project waits
for that teardown: files are written whole, flushed and synced before the functions that
write them return (core.files.write_atomically), a run's lock goes with the process, and
the threads left are daemons. So the command line's commands and the training process end
with `end_now`. The app itself ends the usual way: Qt hands the clipboard over and closes
its windows as its objects are destroyed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn


def end_now(code: int) -> NoReturn:
    """Flush standard output and error, then end the process with `code` at once."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # closed, or a pipe whose reader has gone
            if stream is not None:
                stream.flush()
    os._exit(code)
