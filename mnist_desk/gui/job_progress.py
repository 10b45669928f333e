"""A long job's progress where it can be read: what is going on, how far, the time left,
and a Cancel button (in the status bar, for jobs that run while the user does other
things, like teaching the model the user's handwriting)."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from mnist_desk.gui.elided_label import ElidedLabel


def format_eta(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


class JobProgress(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobProgress")
        self.label = ElidedLabel()  # the title stays; what it is doing may be shortened
        self.label.setObjectName("jobLabel")
        self.bar = QProgressBar()
        self.bar.setObjectName("jobBar")
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("jobCancel")
        self.cancel.setToolTip("Stop this job; nothing is changed")
        self.cancel.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self._title, self._started = "", 0.0
        self.setVisible(False)

    def start(self, title: str) -> None:
        self._title, self._started = title, time.perf_counter()
        self.label.shortest = f"{title}: …"
        self.label.setText(f"{title}: starting…")
        self.bar.setRange(0, 0)
        self.cancel.setEnabled(True)
        self.setVisible(True)

    def report(self, done: int, total: int, text: str) -> None:
        """`done` of `total` (0: unknown); the time left is extrapolated from the pace."""
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            elapsed = time.perf_counter() - self._started
            left = elapsed * (total - done) / done if done else None
            eta = f" · {format_eta(left)} left" if left is not None else ""
            self.bar.setFormat(f"%p%{eta}")
        self.label.setText(f"{self._title}: {text}" if text else self._title)

    def cancelling(self) -> None:
        self.cancel.setEnabled(False)
        self.label.setText(f"{self._title}: stopping…")

    def finish(self) -> None:
        self.setVisible(False)
