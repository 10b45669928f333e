"""The status bar's permanent part: the current model, its test accuracy, its size, and
the device the Train tab trains on."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from mnist_desk.core.checkpoint import describe_accuracy
from mnist_desk.gui.elided_label import ElidedLabel
from mnist_desk.gui.model_session import ModelSession


class ModelStatus:
    def __init__(self, bar: QStatusBar, job_widget: QWidget) -> None:
        self.model = ElidedLabel("The current model: what the Draw tab reads with", "Model: …")
        self.model.setObjectName("modelStatus")
        self.accuracy = self._label("accuracyStatus", "The current model on the 10,000 test images")
        self.params = self._label("paramsStatus", "How many weights the current model has")
        self.device = self._label("deviceStatus", "The device the Train tab trains on")
        bar.addWidget(self.model, 1)
        bar.addPermanentWidget(job_widget)
        for label in (self.accuracy, self.params, self.device):
            bar.addPermanentWidget(label)

    @staticmethod
    def _label(name: str, tip: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setToolTip(tip)
        return label

    def show_model(self, session: ModelSession) -> None:
        self.model.setText(f"Model: {session.name}")
        self.accuracy.setText(f"Test accuracy: {describe_accuracy(session.test_acc)}")
        self.params.setText(f"{session.parameter_count:,} parameters")

    def show_device(self, device: str, training: bool) -> None:
        self.device.setText(f"{'Training on' if training else 'Trains on'} {device}")
