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
from mnist_desk.core.model import build_model, count_parameters
from mnist_desk.core.presets import DESCRIPTIONS as PRESET_DESCRIPTIONS
from mnist_desk.core.presets import PRESETS, matching_preset, preset

PRESET_NAMES = {
    "seed": "Seed: the notebook's recipe",
    "best": "Best: the project's recipe",
    "fast": "Fast: best at batch 256 (GPU)",
}
ARCH_NAMES = [("Seed CNN (notebook)", "seed"), ("Compact CNN", "compact")]
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
        self._setting = False  # set_configs in progress: no preset re-matching meanwhile
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_preset_group())
        layout.addWidget(self._build_model_group())
        layout.addWidget(self._build_optim_group())
        layout.addWidget(self._build_augment_group())
        layout.addWidget(self._build_run_group())
        layout.addWidget(self._build_data_group())
        layout.addStretch(1)
        self._download_done.connect(self._on_download_done)
        self.set_configs(ModelConfig(), TrainConfig())
        for child in self.findChildren(QWidget):
            if child is self.preset:
                continue
            signal = getattr(child, "valueChanged", None) or getattr(
                child, "currentIndexChanged", None
            )
            if isinstance(child, QCheckBox):
                signal = child.toggled
            if signal is not None:
                signal.connect(self.changed)
        self.changed.connect(self._on_form_changed)
        self.preset.activated.connect(self._on_preset_activated)
        self._on_form_changed()

    # ---- groups ------------------------------------------------------------------------
    def _build_preset_group(self) -> QGroupBox:
        box = QGroupBox("Recipe")
        layout = QVBoxLayout(box)
        self.preset = _combo([(PRESET_NAMES[n], n) for n in PRESETS] + [("Custom", "")], "preset")
        self.preset.setToolTip("Fill the form with a recipe; any change makes it Custom")
        self.preset_note = QLabel()
        self.preset_note.setObjectName("presetNote")
        self.preset_note.setWordWrap(True)
        self.params_label = QLabel()
        self.params_label.setObjectName("parameterCount")
        self.params_label.setAccessibleName("Parameter count")
        layout.addWidget(self.preset)
        layout.addWidget(self.preset_note)
        layout.addWidget(self.params_label)
        return box

    def _build_model_group(self) -> QGroupBox:
        box = QGroupBox("Model")
        form = QFormLayout(box)
        self.arch = _combo(ARCH_NAMES, "architecture")
        self.arch.setToolTip(
            "Seed: the notebook's CNN with a 1,568-to-10 linear head. "
            "Compact: BatchNorm and a global-average-pooling head."
        )
        self.batchnorm = QCheckBox("BatchNorm after each 3×3 convolution")
        self.batchnorm.setObjectName("batchnorm")
        self.dropout = _dspin(0.0, 0.9, 0.0, 0.05, 2, "dropout")
        self.dropout.setToolTip("Dropout probability before the classifier (0 = off)")
        form.addRow("Network:", self.arch)
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
        self.weight_decay = _dspin(0.0, 1.0, 0.0, 0.0005, 4, "weightDecay")
        self.scheduler = _combo(SCHEDULERS, "scheduler")
        self.step_size = _spin(1, 500, 15, "stepSize")
        self.step_size.setSuffix(" epochs")
        self.gamma = _dspin(0.0, 1.0, 0.1, 0.05, 3, "gamma")
        self.label_smoothing = _dspin(0.0, 0.5, 0.0, 0.05, 2, "labelSmoothing")
        self.ema = _dspin(0.0, 0.9999, 0.0, 0.001, 4, "weightAverage")
        self.ema.setSpecialValueText("off")
        self.ema.setToolTip(
            "Decay of a running average of the weights, which is what gets evaluated and saved "
            "(e.g. 0.999); off keeps the last weights"
        )
        form.addRow("Epochs:", self.epochs)
        form.addRow("Batch size:", self.batch_size)
        form.addRow("Learning rate:", self.lr)
        form.addRow("Optimiser:", self.optimizer)
        form.addRow("Momentum:", self.momentum)
        form.addRow("Weight decay:", self.weight_decay)
        form.addRow("Schedule:", self.scheduler)
        form.addRow("Step size:", self.step_size)
        form.addRow("Gamma:", self.gamma)
        form.addRow("Label smoothing:", self.label_smoothing)
        form.addRow("Weight average:", self.ema)
        return box

    def _build_augment_group(self) -> QGroupBox:
        box = QGroupBox("Augmentation")
        form = QFormLayout(box)
        self.rotation = _dspin(0.0, 180.0, 15.0, 1.0, 1, "rotation")
        self.rotation.setPrefix("± ")
        self.rotation.setSuffix("°")
        self.crop_p = _dspin(0.0, 1.0, 0.1, 0.05, 2, "cropProbability")
        self.crop_p.setToolTip("Probability of a centre crop to 22 pixels, resized back to 28")
        self.translate = _dspin(0.0, 0.5, 0.0, 0.02, 2, "translate")
        self.translate.setPrefix("± ")
        self.translate.setToolTip("Largest shift, as a fraction of the image width")
        self.scale = _dspin(0.0, 0.5, 0.0, 0.02, 2, "scale")
        self.scale.setPrefix("± ")
        self.scale.setToolTip("Largest change of size, as a fraction")
        self.shear = _dspin(0.0, 45.0, 0.0, 1.0, 1, "shear")
        self.shear.setPrefix("± ")
        self.shear.setSuffix("°")
        self.stroke = _dspin(0.0, 1.0, 0.0, 0.1, 2, "strokeWidth")
        self.stroke.setToolTip("Random thickening and thinning of the strokes (1: about a pixel)")
        self.elastic = _dspin(0.0, 5.0, 0.0, 0.25, 2, "elastic")
        self.elastic.setSuffix(" px")
        self.elastic.setToolTip("Elastic distortion: a smooth random warp, its size in pixels")
        form.addRow("Rotation:", self.rotation)
        form.addRow("Centre crop p:", self.crop_p)
        form.addRow("Shift:", self.translate)
        form.addRow("Scale:", self.scale)
        form.addRow("Shear:", self.shear)
        form.addRow("Stroke width:", self.stroke)
        form.addRow("Elastic:", self.elastic)
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
            arch=self.arch.currentData(),
            batchnorm=self.batchnorm.isChecked(),
            dropout=self.dropout.value(),
        )
        augment = self._train_base.augment.replace(
            rotation=self.rotation.value(),
            crop_p=self.crop_p.value(),
            translate=self.translate.value(),
            scale=self.scale.value(),
            shear=self.shear.value(),
            stroke=self.stroke.value(),
            elastic=self.elastic.value(),
        )
        train = self._train_base.replace(
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            optimizer=self.optimizer.currentData(),
            momentum=self.momentum.value(),
            weight_decay=self.weight_decay.value(),
            scheduler=self.scheduler.currentData(),
            step_size=self.step_size.value(),
            gamma=self.gamma.value(),
            label_smoothing=self.label_smoothing.value(),
            ema=self.ema.value() if self.ema.value() >= 0.5 else 0.0,
            device=self.device.currentData(),
            seed=self.seed.value(),
            augment=augment,
        )
        return model, train

    def set_configs(self, model: ModelConfig, train: TrainConfig) -> None:
        self._setting = True
        try:
            self._model_base, self._train_base = model, train
            _select(self.arch, model.arch)
            self.batchnorm.setChecked(model.batchnorm)
            self.dropout.setValue(model.dropout)
            self.epochs.setValue(train.epochs)
            self.batch_size.setValue(train.batch_size)
            self.lr.setValue(train.lr)
            _select(self.optimizer, train.optimizer)
            self.momentum.setValue(train.momentum)
            self.weight_decay.setValue(train.weight_decay)
            _select(self.scheduler, train.scheduler)
            self.step_size.setValue(train.step_size)
            self.gamma.setValue(train.gamma)
            self.label_smoothing.setValue(train.label_smoothing)
            self.ema.setValue(train.ema)
            _select(self.device, train.device)
            self.seed.setValue(train.seed or 0)
            a = train.augment
            self.rotation.setValue(a.rotation)
            self.crop_p.setValue(a.crop_p)
            self.translate.setValue(a.translate)
            self.scale.setValue(a.scale)
            self.shear.setValue(a.shear)
            self.stroke.setValue(a.stroke)
            self.elastic.setValue(a.elastic)
        finally:
            self._setting = False
        self._on_form_changed()

    def apply_preset(self, name: str) -> None:
        """Fill the form with a preset, keeping the device and seed chosen."""
        model, train = preset(name)
        _, current = self.configs()
        self.set_configs(model, train.replace(device=current.device, seed=current.seed))

    def current_preset(self) -> str | None:
        return matching_preset(*self.configs())

    def _on_preset_activated(self, index: int) -> None:
        name = self.preset.itemData(index)
        if name:
            self.apply_preset(name)
        else:
            self._on_form_changed()  # "Custom" only describes the form; it changes nothing

    def _on_form_changed(self) -> None:
        if self._setting:
            return
        self._update_enabled()
        model, train = self.configs()
        name = matching_preset(model, train)
        _select(self.preset, name or "")
        self.preset_note.setText(PRESET_DESCRIPTIONS.get(name or "", "Your own recipe."))
        self.params_label.setText(f"{count_parameters(build_model(model)):,} parameters")

    def reset(self) -> None:
        self.set_configs(*preset("seed"))

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
