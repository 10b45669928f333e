"""The training form: every field of the recipe, defaults from the notebook.

Spin boxes and combo boxes make invalid values impossible to enter; what they cannot
express (none so far) would be explained next to the field. Settings the form does not
show are kept from the last config it was given, so nothing is silently reset.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import download_mnist, resolve_data_dir, user_cache_dir
from mnist_desk.core.device import available_devices
from mnist_desk.core.errors import DataError, MnistDeskError

OPTIMIZERS = [
    ("Adam", "adam"),
    ("AdamW", "adamw"),
    ("SGD (momentum)", "sgd"),
    ("RMSprop", "rmsprop"),
]
SCHEDULERS = [
    ("StepLR", "step"),
    ("OneCycle", "onecycle"),
    ("Cosine", "cosine"),
    ("Constant", "none"),
]
DEVICE_NAMES = {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA (GPU)", "mps": "Apple MPS"}


def _spin(low: int, high: int, value: int, name: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setObjectName(name)
    box.setAccessibleName(name)
    return box


def _dspin(
    low: float, high: float, value: float, step: float, decimals: int, name: str
) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    box.setObjectName(name)
    box.setAccessibleName(name)
    return box


def _combo(items: list[tuple[str, str]], name: str) -> QComboBox:
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    box.setObjectName(name)
    box.setAccessibleName(name)
    return box


def _select(box: QComboBox, data: str) -> None:
    index = box.findData(data)
    if index >= 0:
        box.setCurrentIndex(index)


class TrainForm(QWidget):
    changed = Signal()
    _download_done = Signal(str, bool)  # message, success (from the download thread)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainForm")
        self._model_base = ModelConfig()
        self._train_base = TrainConfig()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_model_group())
        layout.addWidget(self._build_optim_group())
        layout.addWidget(self._build_augment_group())
        layout.addWidget(self._build_run_group())
        layout.addWidget(self._build_data_group())
        layout.addStretch(1)
        self._download_done.connect(self._on_download_done)
        self.set_configs(ModelConfig(), TrainConfig())
        for child in self.findChildren(QWidget):
            signal = getattr(child, "valueChanged", None) or getattr(
                child, "currentIndexChanged", None
            )
            if isinstance(child, QCheckBox):
                signal = child.toggled
            if signal is not None:
                signal.connect(self.changed)
        self.scheduler.currentIndexChanged.connect(self._update_enabled)
        self.optimizer.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()

    # ---- groups ------------------------------------------------------------------------
    def _build_model_group(self) -> QGroupBox:
        box = QGroupBox("Model")
        form = QFormLayout(box)
        self.batchnorm = QCheckBox("BatchNorm after each 3×3 convolution")
        self.batchnorm.setObjectName("batchnorm")
        self.dropout = _dspin(0.0, 0.9, 0.0, 0.05, 2, "dropout")
        self.dropout.setToolTip("Dropout probability before the classifier (0 = off)")
        form.addRow(self.batchnorm)
        form.addRow("Dropout:", self.dropout)
        return box

    def _build_optim_group(self) -> QGroupBox:
        box = QGroupBox("Optimisation")
        form = QFormLayout(box)
        self.epochs = _spin(1, 500, 5, "epochs")
        self.batch_size = _spin(1, 8192, 64, "batchSize")
        self.lr = _dspin(0.00001, 1.0, 0.002, 0.0005, 5, "learningRate")
        self.optimizer = _combo(OPTIMIZERS, "optimizer")
        self.momentum = _dspin(0.0, 0.999, 0.9, 0.05, 3, "momentum")
        self.scheduler = _combo(SCHEDULERS, "scheduler")
        self.step_size = _spin(1, 500, 15, "stepSize")
        self.step_size.setSuffix(" epochs")
        self.gamma = _dspin(0.0, 1.0, 0.1, 0.05, 3, "gamma")
        form.addRow("Epochs:", self.epochs)
        form.addRow("Batch size:", self.batch_size)
        form.addRow("Learning rate:", self.lr)
        form.addRow("Optimiser:", self.optimizer)
        form.addRow("Momentum:", self.momentum)
        form.addRow("Schedule:", self.scheduler)
        form.addRow("Step size:", self.step_size)
        form.addRow("Gamma:", self.gamma)
        return box

    def _build_augment_group(self) -> QGroupBox:
        box = QGroupBox("Augmentation")
        form = QFormLayout(box)
        self.rotation = _dspin(0.0, 180.0, 15.0, 1.0, 1, "rotation")
        self.rotation.setPrefix("± ")
        self.rotation.setSuffix("°")
        self.crop_p = _dspin(0.0, 1.0, 0.1, 0.05, 2, "cropProbability")
        self.crop_p.setToolTip("Probability of a centre crop to 22 pixels, resized back to 28")
        form.addRow("Rotation:", self.rotation)
        form.addRow("Centre crop p:", self.crop_p)
        return box

    def _build_run_group(self) -> QGroupBox:
        box = QGroupBox("Run")
        form = QFormLayout(box)
        devices = ["auto", *available_devices()]
        self.device = _combo([(DEVICE_NAMES[d], d) for d in devices], "device")
        self.seed = _spin(0, 2**31 - 1, 0, "seed")
        self.seed.setToolTip("The same seed repeats a run exactly on the CPU")
        form.addRow("Device:", self.device)
        form.addRow("Seed:", self.seed)
        return box

    def _build_data_group(self) -> QGroupBox:
        box = QGroupBox("Dataset")
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self.data_dir = QLineEdit()
        self.data_dir.setObjectName("dataDir")
        self.data_dir.setAccessibleName("MNIST folder")
        self.data_dir.setPlaceholderText("automatic (MNIST_DESK_DATA, then the cache)")
        self.data_dir.setClearButtonEnabled(True)
        browse = QToolButton()
        browse.setIcon(QIcon(":/icons/folder.svg"))
        browse.setText("Browse…")
        browse.setToolTip("Choose a folder with MNIST's four IDX files")
        browse.setAccessibleName("Browse for the MNIST folder")
        browse.clicked.connect(self._on_browse_clicked)
        row.addWidget(self.data_dir, 1)
        row.addWidget(browse)
        self.data_status = QLabel()
        self.data_status.setObjectName("dataStatus")
        self.data_status.setWordWrap(True)
        self.data_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = QPushButton(QIcon(":/icons/download.svg"), "Download MNIST")
        self.download_button.setObjectName("downloadButton")
        self.download_button.setToolTip("Download the four files with torchvision (needs internet)")
        self.download_button.clicked.connect(self._on_download_clicked)
        layout.addLayout(row)
        layout.addWidget(self.data_status)
        layout.addWidget(self.download_button)
        self.data_dir.editingFinished.connect(self.refresh_data_status)
        self.data_dir.textChanged.connect(self.changed)
        return box

    # ---- configs in and out ------------------------------------------------------------
    def configs(self) -> tuple[ModelConfig, TrainConfig]:
        model = self._model_base.replace(
            batchnorm=self.batchnorm.isChecked(), dropout=self.dropout.value()
        )
        augment = self._train_base.augment.replace(
            rotation=self.rotation.value(), crop_p=self.crop_p.value()
        )
        train = self._train_base.replace(
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            optimizer=self.optimizer.currentData(),
            momentum=self.momentum.value(),
            scheduler=self.scheduler.currentData(),
            step_size=self.step_size.value(),
            gamma=self.gamma.value(),
            device=self.device.currentData(),
            seed=self.seed.value(),
            augment=augment,
        )
        return model, train

    def set_configs(self, model: ModelConfig, train: TrainConfig) -> None:
        self._model_base, self._train_base = model, train
        self.batchnorm.setChecked(model.batchnorm)
        self.dropout.setValue(model.dropout)
        self.epochs.setValue(train.epochs)
        self.batch_size.setValue(train.batch_size)
        self.lr.setValue(train.lr)
        _select(self.optimizer, train.optimizer)
        self.momentum.setValue(train.momentum)
        _select(self.scheduler, train.scheduler)
        self.step_size.setValue(train.step_size)
        self.gamma.setValue(train.gamma)
        _select(self.device, train.device)
        self.seed.setValue(train.seed or 0)
        self.rotation.setValue(train.augment.rotation)
        self.crop_p.setValue(train.augment.crop_p)

    def reset(self) -> None:
        self.set_configs(ModelConfig(), TrainConfig())

    def data_folder(self) -> str | None:
        return self.data_dir.text().strip() or None

    def to_settings(self) -> dict[str, Any]:
        model, train = self.configs()
        return {
            "model": model.to_dict(),
            "train": train.to_dict(),
            "data_dir": self.data_dir.text(),
        }

    def from_settings(self, data: dict[str, Any]) -> None:
        """Restore a saved form; anything invalid (an older version's values) is skipped."""
        try:
            model = ModelConfig.from_dict(data.get("model", {}))
            train = TrainConfig.from_dict(data.get("train", {}))
        except (MnistDeskError, ValueError, AttributeError):
            return
        self.set_configs(model, train)
        self.data_dir.setText(str(data.get("data_dir") or ""))
        self.refresh_data_status()

    def _update_enabled(self) -> None:
        step = self.scheduler.currentData() == "step"
        self.step_size.setEnabled(step)
        self.gamma.setEnabled(step)
        self.momentum.setEnabled(self.optimizer.currentData() == "sgd")

    # ---- data folder -------------------------------------------------------------------
    def refresh_data_status(self) -> None:
        try:
            found = resolve_data_dir(self.data_folder())
            text = (
                f"✓ MNIST found in {found}"
                if found
                else f"Not found yet: training downloads it into {user_cache_dir()} "
                "(needs internet)"
            )
        except DataError as exc:
            text = f"⚠ {exc}"
        self.data_status.setText(text)
        self.data_status.setToolTip(text)

    def _on_browse_clicked(self) -> None:
        start = self.data_folder() or os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self, "Choose the MNIST folder", start)
        if folder:
            self.data_dir.setText(folder)
            self.refresh_data_status()

    def _on_download_clicked(self) -> None:
        self.download_button.setEnabled(False)
        self.download_button.setText("Downloading…")
        target = self.data_folder()

        def work() -> None:
            try:
                path = download_mnist(target)
                self._download_done.emit(f"Downloaded MNIST into {path}", True)
            except MnistDeskError as exc:
                self._download_done.emit(str(exc), False)

        threading.Thread(target=work, name="mnist-download", daemon=True).start()

    def _on_download_done(self, message: str, ok: bool) -> None:
        self.download_button.setEnabled(True)
        self.download_button.setText("Download MNIST")
        self.refresh_data_status()
        if not ok:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.warning(self, "Download failed", message)
