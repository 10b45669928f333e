"""Knobs a learner turns while a model trains: the learning rate, weight decay and
momentum (from the next batch on, recorded in the run), one batch at a time while paused
(Step), and slow motion (a pause after every batch)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from mnist_desk.core.config import TrainConfig


class RateSpinBox(QDoubleSpinBox):
    """A learning rate as people write it: 0.002, 5e-05, 8e-09 (a one-cycle schedule ends
    near zero, and fixed decimals would show it as 0, or clamp it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(1e-10, 1.0)

    def textFromValue(self, value: float) -> str:
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        try:
            value = float(text)
        except ValueError:
            partial = text == "" or text[-1] in "eE-+." or text.endswith(("e-", "e+"))
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid,
                    text, pos)  # fmt: skip
        state = QValidator.State.Acceptable
        if not self.minimum() <= value <= self.maximum():
            state = QValidator.State.Intermediate
        return state, text, pos

    def stepBy(self, steps: int) -> None:
        """Up and down multiply and divide by 2: the scale of a learning rate."""
        self.setValue(self.value() * 2.0**steps)


class LiveKnobs(QGroupBox):
    settings_changed = Signal(dict)  # {"lr": ..., "weight_decay": ..., "momentum": ...}
    step_requested = Signal()
    delay_changed = Signal(float)  # seconds after every batch

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("While it trains", parent)
        self.setObjectName("liveKnobs")
        self.lr = RateSpinBox()
        self.lr.setObjectName("liveLearningRate")
        self.lr.setToolTip(
            "The learning rate from the next batch on; the arrows double or halve it"
        )
        self.weight_decay = QDoubleSpinBox()
        self.weight_decay.setObjectName("liveWeightDecay")
        self.weight_decay.setDecimals(4)
        self.weight_decay.setRange(0.0, 1.0)
        self.weight_decay.setSingleStep(0.001)
        self.momentum = QDoubleSpinBox()
        self.momentum.setObjectName("liveMomentum")
        self.momentum.setDecimals(3)
        self.momentum.setRange(0.0, 0.999)
        self.momentum.setSingleStep(0.05)
        self.momentum.setToolTip("SGD's momentum, or Adam's first beta")
        self.apply = QPushButton("Apply Now")
        self.apply.setObjectName("liveApply")
        self.apply.setToolTip("From the next batch on; the run's record notes the batch")
        self.apply.clicked.connect(self._on_apply_clicked)
        self.step = QPushButton("Step")
        self.step.setObjectName("stepButton")
        self.step.setToolTip("While paused: train one more batch, then hold again")
        self.step.clicked.connect(self.step_requested)
        self.slow = QSpinBox()
        self.slow.setObjectName("slowMotion")
        self.slow.setRange(0, 2000)
        self.slow.setSingleStep(50)
        self.slow.setSuffix(" ms a batch")
        self.slow.setSpecialValueText("off")
        self.slow.setToolTip("Slow motion: wait this long after every batch")
        self.slow.valueChanged.connect(lambda ms: self.delay_changed.emit(ms / 1000))
        form = QFormLayout(self)
        form.addRow("Learning rate:", self.lr)
        form.addRow("Weight decay:", self.weight_decay)
        form.addRow("Momentum:", self.momentum)
        row = QHBoxLayout()
        row.addWidget(self.apply)
        row.addWidget(self.step)
        form.addRow(row)
        form.addRow("Slow motion:", self.slow)
        self.set_running(False, paused=False)

    def start(self, config: TrainConfig) -> None:
        """A run starts: the knobs show its settings."""
        self.lr.setValue(config.lr)
        self.weight_decay.setValue(config.weight_decay)
        self.momentum.setValue(config.momentum)

    def set_running(self, running: bool, paused: bool) -> None:
        """Shown while a run trains (the form, greyed out then, makes room for it)."""
        for w in (self.lr, self.weight_decay, self.momentum, self.apply, self.slow):
            w.setEnabled(running)
        self.step.setEnabled(running and paused)
        self.setVisible(running)

    def _on_apply_clicked(self) -> None:
        self.settings_changed.emit(
            {
                "lr": self.lr.value(),
                "weight_decay": self.weight_decay.value(),
                "momentum": self.momentum.value(),
            }
        )
