"""The lab, in the Explore tab: switch off or scale any convolution channel, prune the
smallest weights, change the softmax temperature; the Draw tab reads with the edited
network at once, and its accuracy on a fixed 2,000 test images follows each change."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import torch
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.checkpoint import Checkpoint, save_checkpoint
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.evaluation import evaluate
from mnist_desk.core.lab import Channel, Edit, apply_edit, conv_layers, zero_share
from mnist_desk.core.predictor import Prediction
from mnist_desk.core.text import file_name
from mnist_desk.gui import dialogs
from mnist_desk.gui.model_session import ModelSession

SUBSET = 2000  # test images measured after every change (the first ones: always the same)

# keeps an edited model as a run: (checkpoint, what was done to it) -> the run's id
KeepRun = Callable[[Checkpoint, dict[str, Any]], str]


class LabPanel(QWidget):
    def __init__(
        self,
        session: ModelSession,
        data: Callable[[], MNIST],
        keep_run: KeepRun | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("labPanel")
        self.session, self.data, self.keep_run = session, data, keep_run
        self.edit = Edit()
        self.edited: dict[str, torch.Tensor] | None = None
        self.accuracy: float | None = None
        self.baseline: float | None = None
        self._timer = QTimer(self, singleShot=True, interval=120)  # many quick changes: one
        self._timer.timeout.connect(self._apply)
        self._build()
        session.model_changed.connect(self._on_model_changed)

    def _build(self) -> None:
        self.layer = QComboBox()
        self.layer.setObjectName("labLayer")
        self.layer.currentIndexChanged.connect(self._on_layer_changed)
        self.channel = QSpinBox()
        self.channel.setObjectName("labChannel")
        self.factor = QDoubleSpinBox()
        self.factor.setObjectName("labFactor")
        self.factor.setRange(0.0, 5.0)
        self.factor.setSingleStep(0.5)
        self.factor.setValue(0.0)
        self.factor.setToolTip("0 switches the channel off; 2 doubles what it hands on")
        add = QPushButton("Apply to Channel")
        add.setObjectName("labApplyChannel")
        add.clicked.connect(self.add_channel_edit)
        row = QHBoxLayout()
        for w in (QLabel("Layer:"), self.layer, QLabel("Channel:"), self.channel,
                  QLabel("Times:"), self.factor, add):  # fmt: skip
            row.addWidget(w)
        row.addStretch(1)
        self.edits = QListWidget()
        self.edits.setObjectName("labEdits")
        self.edits.setMaximumHeight(90)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._on_remove_clicked)

        self.prune = QSpinBox()
        self.prune.setObjectName("labPrune")
        self.prune.setRange(0, 99)
        self.prune.setSuffix(" %")
        self.prune.setToolTip("Set this share of the smallest weights (convolutions, linear) to 0")
        self.prune.valueChanged.connect(lambda _v: self._changed())
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("labTemperature")
        self.temperature.setRange(0.1, 10.0)
        self.temperature.setSingleStep(0.5)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip(
            "Divides the scores before softmax: above 1 the Draw tab's probabilities "
            "spread out, below 1 they sharpen; the digit read never changes"
        )
        self.temperature.valueChanged.connect(self._on_temperature_changed)
        for box in (self.prune, self.temperature):
            box.setMaximumWidth(110)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Prune the smallest weights:", self.prune)
        form.addRow("Softmax temperature:", self.temperature)
        self.drawing = QLabel("Draw on the Draw tab: its reading is shown here too.")
        self.drawing.setObjectName("labDrawing")
        self.drawing.setTextFormat(Qt.TextFormat.PlainText)

        self.result = QLabel("Edit the network: the Draw tab reads with the edited one.")
        self.result.setObjectName("labResult")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        full = QPushButton("Full Test Set")
        full.setToolTip("The edited network on the whole test set")
        full.clicked.connect(self.measure_full)
        reset = QPushButton("Reset")
        reset.setObjectName("labReset")
        reset.clicked.connect(self.reset)
        save = QPushButton("Save As Checkpoint…")
        save.setObjectName("labSaveCheckpoint")
        save.setToolTip("The edited weights in a checkpoint file, with their test accuracy")
        save.clicked.connect(self._on_save_clicked)
        keep = QPushButton("Keep As Run")
        keep.setObjectName("labKeepRun")
        keep.setToolTip(
            "The edited model in the Runs tab, as a run of its own beside the one it came "
            "from, with what was edited and its accuracy on the whole test set"
        )
        keep.clicked.connect(self.keep_as_run)
        keep.setVisible(self.keep_run is not None)
        buttons = QHBoxLayout()
        for b in (remove, full, reset, save, keep):
            buttons.addWidget(b)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.edits)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        layout.addWidget(self.drawing)
        layout.addStretch(1)
        self._on_model_changed()

    # ---- editing -----------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        self.layer.clear()
        self.edit, self.edited, self.baseline = Edit(), None, None
        self.edits.clear()
        if self.session.checkpoint is not None:
            for name, channels in conv_layers(self.session.checkpoint.build_model()):
                self.layer.addItem(f"{name} ({channels} channels)", (name, channels))

    def _on_layer_changed(self) -> None:
        data = self.layer.currentData()
        if data:
            self.channel.setRange(0, data[1] - 1)

    def add_channel_edit(self) -> None:
        data = self.layer.currentData()
        if not data:
            return
        c = Channel(data[0], self.channel.value(), self.factor.value())
        kept = tuple(x for x in self.edit.channels if (x.layer, x.channel) != (c.layer, c.channel))
        self.edit = dataclasses.replace(self.edit, channels=(*kept, c))
        self._list_edits()
        self._changed()

    def _on_remove_clicked(self) -> None:
        row = self.edits.currentRow()
        if 0 <= row < len(self.edit.channels):
            channels = list(self.edit.channels)
            del channels[row]
            self.edit = dataclasses.replace(self.edit, channels=tuple(channels))
            self._list_edits()
            self._changed()

    def _list_edits(self) -> None:
        self.edits.clear()
        for c in self.edit.channels:
            what = "off" if c.factor == 0 else f"× {c.factor:g}"
            self.edits.addItem(f"{c.layer}, channel {c.channel}: {what}")

    def _on_temperature_changed(self, value: float) -> None:
        self.edit = dataclasses.replace(self.edit, temperature=value)
        self.session.set_temperature(value)

    def _changed(self) -> None:
        self.edit = dataclasses.replace(self.edit, prune=float(self.prune.value()))
        self._timer.start()

    def apply_now(self) -> None:
        """Make the pending change at once (the panel waits 120 ms for more)."""
        self._timer.stop()
        self._apply()

    def _apply(self) -> None:
        checkpoint = self.session.checkpoint
        if checkpoint is None:
            return
        start = time.perf_counter()
        if self.edit.is_none:
            self.edited = None
            self.session.restore_predictor()
        else:
            self.edited = apply_edit(checkpoint.model_config, checkpoint.model_state, self.edit)
            self.session.preview_weights(
                checkpoint.model_config, self.edited, f"{checkpoint.name}, edited in the lab"
            )
        try:
            data = self.data()
        except MnistDeskError as exc:
            self.result.setText(f"Could not measure: {exc}")
            return
        images, labels = data.test_images[:SUBSET], data.test_labels[:SUBSET]
        if self.baseline is None:
            self.baseline = evaluate(checkpoint.build_model(), images, labels).accuracy
        model = checkpoint.build_model()
        if self.edited is not None:
            model.load_state_dict(self.edited)
        self.accuracy = evaluate(model, images, labels).accuracy
        seconds = time.perf_counter() - start
        zeros = zero_share(self.edited, checkpoint.model_config) if self.edited else 0.0
        self.result.setText(
            f"On the first {SUBSET:,} test images: {self.accuracy:.2f}% right "
            f"(unedited: {self.baseline:.2f}%); {zeros:.0f}% of the weights are zero. "
            f"Measured in {seconds:.2f} s. The Draw tab reads with this network now."
        )

    def measure_full(self) -> None:
        checkpoint = self.session.checkpoint
        if checkpoint is None:
            return
        data = self.data()
        model = checkpoint.build_model()
        if self.edited is not None:
            model.load_state_dict(self.edited)
        acc = evaluate(model, data.test_images, data.test_labels).accuracy
        self.result.setText(f"On all {len(data.test_labels):,} test images: {acc:.2f}% right.")

    def reset(self) -> None:
        self.edit, self.edited = Edit(), None
        self.edits.clear()
        for box in (self.prune, self.temperature):
            box.blockSignals(True)
        self.prune.setValue(0)
        self.temperature.setValue(1.0)
        for box in (self.prune, self.temperature):
            box.blockSignals(False)
        self.session.set_temperature(1.0)
        self.session.restore_predictor()
        self.result.setText("Reset: the Draw tab reads with the model as it was.")

    def _edited_checkpoint(self) -> Checkpoint | None:
        """The edited model as a checkpoint, measured on the whole test set (None, with
        the reason shown, when there is nothing edited or no test set)."""
        checkpoint = self.session.checkpoint
        if checkpoint is None or self.edited is None:
            self.result.setText("Nothing edited to keep yet.")
            return None
        try:
            data = self.data()
        except MnistDeskError as exc:
            self.result.setText(f"Could not measure the edited model: {exc}")
            return None
        model = checkpoint.build_model()
        model.load_state_dict(self.edited)
        result = evaluate(model, data.test_images, data.test_labels)
        return dataclasses.replace(
            checkpoint, name=f"{checkpoint.name}, edited in the lab",
            model_state=self.edited, test_metrics=result.to_metrics(),
            optimizer_state=None, scheduler_state=None,
        )  # fmt: skip

    def describe_edit(self) -> dict[str, Any]:
        """What was done to the weights, as plain data for the run's record."""
        return {
            "kind": "edited in the lab",
            "channels": [dataclasses.asdict(c) for c in self.edit.channels],
            "prune": self.edit.prune,
        }

    def keep_as_run(self) -> str | None:
        """Keep the edited model in the runs library; returns the new run's id."""
        if self.keep_run is None:
            return None
        edited = self._edited_checkpoint()
        if edited is None:
            return None
        try:
            run_id = self.keep_run(edited, self.describe_edit())
        except (OSError, MnistDeskError) as exc:
            self.result.setText(f"Could not keep it as a run: {exc}")
            return None
        self.result.setText(
            f"Kept as the run {run_id} in the Runs tab: {edited.test_acc:.2f}% on the whole "
            "test set. The current model is unchanged; open the run there to make it current."
        )
        return run_id

    def _on_save_clicked(self) -> None:
        checkpoint = self.session.checkpoint
        if checkpoint is None or self.edited is None:
            self.result.setText("Nothing edited to save yet.")
            return
        name = f"{checkpoint.name}, edited in the lab"
        path = dialogs.get_save_file_name(
            self, "Save Edited Model", f"{file_name(name)}.pt", dialogs.CHECKPOINT_FILTER
        )
        if not path:
            return
        edited = self._edited_checkpoint()
        if edited is None:
            return
        try:
            saved = save_checkpoint(edited, path)
        except (OSError, MnistDeskError) as exc:
            self.result.setText(f"Could not save: {exc}")
            return
        self.result.setText(f"Saved as {saved}.")

    def show_drawing(self, prediction: Prediction | None) -> None:
        """The drawing on the canvas as the network (edited or not) reads it now."""
        if prediction is None:
            self.drawing.setText("Draw on the Draw tab: its reading is shown here too.")
            return
        whose = "the edited network" if self.edited is not None else "the network"
        self.drawing.setText(
            f"Your drawing is read as {prediction.digit}, {100 * prediction.confidence:.1f}% "
            f"sure, by {whose} (temperature {self.session.predictor.temperature:g})."
        )
