"""The pretrained model that ships with the app, read from Qt's resource system.

Only QtCore is needed (no GUI), so the command line can use it too. Qt's resources are
compiled into mnist_desk/gui/resources_rc.py, which works the same from a wheel, a
source checkout or a frozen app.
"""

from __future__ import annotations

from mnist_desk.core.checkpoint import Checkpoint, load_checkpoint
from mnist_desk.core.errors import CheckpointError

BUNDLED_RESOURCE = ":/models/bundled.pt"


def read_resource(path: str) -> bytes:
    from PySide6.QtCore import QFile, QIODevice

    import mnist_desk.gui.resources_rc  # noqa: F401  (registers the resources)

    f = QFile(path)
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise CheckpointError(f"the resource {path} is missing from this installation")
    try:
        return bytes(f.readAll().data())
    finally:
        f.close()


def load_bundled_checkpoint() -> Checkpoint:
    return load_checkpoint(read_resource(BUNDLED_RESOURCE))
