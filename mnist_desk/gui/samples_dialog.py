"""Browse and delete the digits the user kept ("It was a: ...")."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.samples import SampleStore
from mnist_desk.core.text import plural
from mnist_desk.gui.images import gray_image


class SamplesDialog(QDialog):
    def __init__(self, store: SampleStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("samplesDialog")
        self.setWindowTitle("My Handwriting")
        self.resize(640, 480)
        self.store = store
        self.summary = QLabel()
        self.summary.setObjectName("samplesSummary")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("samplesList")
        self.list.setAccessibleName("Your kept digits")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(64, 64))
        self.list.setGridSize(QSize(84, 96))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.delete_button = QPushButton(QIcon(":/icons/clear.svg"), "Delete Selected")
        self.delete_button.setObjectName("deleteSamplesButton")
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self.delete_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for sample, picture in self.store.readable():
            pixmap = QPixmap.fromImage(gray_image(picture)).scaled(
                64,
                64,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            item = QListWidgetItem(QIcon(pixmap), f"a {sample.label}")
            item.setToolTip(f"kept {sample.created[:19].replace('T', ' ')} as a {sample.label}")
            item.setData(Qt.ItemDataRole.UserRole, sample.id)
            self.list.addItem(item)
        counts = self.store.counts()
        per_digit = ", ".join(f"{d}: {n}" for d, n in enumerate(counts) if n)
        problems = "".join(f"\n⚠ {p[:1].upper()}{p[1:]}." for p in self.store.problems)
        self.summary.setText(
            f"{plural(len(self.store), 'digit')} kept in {self.store.folder}"
            + (f" ({per_digit})." if per_digit else ". Draw a digit and press its key to keep it.")
            + problems
        )
        self.delete_button.setEnabled(len(self.store) > 0)

    def delete_selected(self) -> None:
        ids = [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]
        if ids:
            self.store.delete(ids)
            self.refresh()
