"""File dialogs that open large enough to read: Qt's own (non-native) file dialog opens
small, its name column cut short; these open at a readable size with the name column
taking the room. Same arguments and results as QFileDialog's static functions."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QHeaderView, QTreeView, QWidget

CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"

SIZE = (900, 560)


def _run(dialog: QFileDialog) -> list[str]:
    screen = dialog.screen().availableGeometry() if dialog.screen() else None
    width, height = SIZE
    if screen is not None:
        width, height = min(width, screen.width() - 40), min(height, screen.height() - 60)
    dialog.resize(width, height)
    for tree in dialog.findChildren(QTreeView):
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, header.count()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    chosen = dialog.selectedFiles() if dialog.exec() else []
    dialog.deleteLater()  # in the GUI thread, now it is done with: not left to the GC
    return chosen


def _dialog(
    parent: QWidget, caption: str, folder: str, name_filter: str, mode: QFileDialog.FileMode
) -> QFileDialog:
    dialog = QFileDialog(parent, caption, folder, name_filter)
    dialog.setFileMode(mode)
    return dialog


def get_open_file_name(parent: QWidget, caption: str, folder: str, name_filter: str) -> str:
    files = _run(_dialog(parent, caption, folder, name_filter, QFileDialog.FileMode.ExistingFile))
    return files[0] if files else ""


def get_open_file_names(parent: QWidget, caption: str, folder: str, name_filter: str) -> list[str]:
    return _run(_dialog(parent, caption, folder, name_filter, QFileDialog.FileMode.ExistingFiles))


def get_save_file_name(parent: QWidget, caption: str, suggested: str, name_filter: str) -> str:
    dialog = _dialog(parent, caption, suggested, name_filter, QFileDialog.FileMode.AnyFile)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    files = _run(dialog)
    return files[0] if files else ""


def get_existing_directory(parent: QWidget, caption: str, folder: str) -> str:
    dialog = QFileDialog(parent, caption, folder)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    files = _run(dialog)
    return files[0] if files else ""
