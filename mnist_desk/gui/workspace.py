"""What the tabs share, in one small object the main window hands to each of them: the
current model (a ModelSession), the dataset folder the user chose, MNIST loaded once per
folder, the store of the user's own digits and the runs library. No tab holds shared
state of its own."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from mnist_desk.core.runs import RunLibrary
from mnist_desk.core.samples import SampleStore
from mnist_desk.gui.mnist_cache import MnistCache
from mnist_desk.gui.model_session import ModelSession


class Workspace(QObject):
    data_dir_changed = Signal()
    runs_changed = Signal()  # a run was added, changed or removed by this app

    def __init__(self, store: SampleStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = ModelSession(self)
        self.cache = MnistCache()
        self.store = store or SampleStore()
        self.runs = RunLibrary()
        self._data_dir: str | None = None

    @property
    def data_dir(self) -> str | None:
        """The dataset folder chosen in the Train tab; None: found as usual."""
        return self._data_dir

    def set_data_dir(self, folder: str | None) -> None:
        folder = (folder or "").strip() or None
        if folder != self._data_dir:
            self._data_dir = folder
            self.data_dir_changed.emit()
