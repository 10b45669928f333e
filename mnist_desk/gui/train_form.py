"""The training form: a recipe to start from, then every setting core declares for the
form (core/config.py), in its group, with its range, step, unit and help.

Nothing about a setting is written here: the rows, the widgets' limits, `configs()` and
`set_configs()` are all derived from the declarations, so the form and core cannot
disagree. Settings the form does not show (the crop size, the validation split, CUDA
graphs) are kept from the last config it was given, so nothing is silently reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.config import (
    FORM_GROUPS,
    ModelConfig,
    SettingField,
    TrainConfig,
    setting_values,
    settings,
    with_settings,
)
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.model import build_model, count_parameters
from mnist_desk.core.presets import DESCRIPTIONS, LABELS, PRESETS, matching_preset, preset

Editor = QCheckBox | QComboBox | QSpinBox | QDoubleSpinBox


def object_name(name: str) -> str:
    """A setting's name as a Qt object name: batch_size -> batchSize."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def tooltip(s: SettingField) -> str:
    text = s.spec.help[:1].upper() + s.spec.help[1:]
    allowed = s.spec.range_text()
    return f"{text}. Range: {allowed}." if allowed and not s.spec.choices else f"{text}."


def make_editor(s: SettingField, devices: Sequence[str] = ()) -> Editor:
    """The widget that edits one setting, its limits those core validates with."""
    spec = s.spec
    editor: Editor
    if s.kind is bool:
        editor = QCheckBox(spec.label)
    elif spec.choices is not None:
        editor = QComboBox()
        for value, text in spec.choices.items():
            if s.name != "device" or value == "auto" or value in devices:
                editor.addItem(text, value)
    elif s.kind is int:
        editor = QSpinBox()
        editor.setRange(int(spec.low or 0), int(spec.high or 0))
    else:
        editor = QDoubleSpinBox()
        editor.setDecimals(spec.decimals)
        smallest = 10.0**-spec.decimals if spec.open_low else float(spec.low or 0.0)
        editor.setRange(smallest, float(spec.high or 0.0))
        editor.setSingleStep(spec.step)
        if spec.off_below is not None:
            editor.setSpecialValueText("off")
    if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        editor.setSuffix(spec.unit if spec.unit in ("", "°") else f" {spec.unit}")
        editor.setPrefix("± " if spec.symmetric else "")
    editor.setObjectName(object_name(s.name))
    editor.setAccessibleName(spec.label)
    editor.setToolTip(tooltip(s))
    return editor


def editor_value(s: SettingField, editor: Editor) -> Any:
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QComboBox):
        return editor.currentData()
    value = editor.value()
    off_below = s.spec.off_below
    return 0.0 if off_below is not None and value < off_below else value


def set_editor_value(editor: Editor, value: Any) -> None:
    if isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QComboBox):
        index = editor.findData(value)
        if index >= 0:
            editor.setCurrentIndex(index)
    else:
        editor.setValue(0 if value is None else value)


def changed_signal(editor: Editor) -> SignalInstance:
    if isinstance(editor, QCheckBox):
        return editor.toggled
    if isinstance(editor, QComboBox):
        return editor.currentIndexChanged
    return editor.valueChanged


class TrainForm(QWidget):
    changed = Signal()
    device_changed = Signal()

    def __init__(self, devices: Sequence[str] = ("cpu",), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainForm")
        self._model_base = ModelConfig()
        self._train_base = TrainConfig()
        self._setting = False  # set_configs in progress: no preset re-matching meanwhile
        self.fields: dict[str, tuple[SettingField, Editor]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_preset_group())
        for group in self._build_setting_groups(devices):
            layout.addWidget(group)
        self.set_configs(ModelConfig(), TrainConfig())
        for _, editor in self.fields.values():
            changed_signal(editor).connect(self.changed)
        changed_signal(self.editor("device")).connect(self.device_changed)
        self.changed.connect(self._on_form_changed)
        self.preset.activated.connect(self._on_preset_activated)
        self._on_form_changed()

    def editor(self, name: str) -> Editor:
        """The widget that edits the setting `name` (e.g. "epochs")."""
        return self.fields[name][1]

    def value(self, name: str) -> Any:
        """The value the form shows for the setting `name`."""
        s, editor = self.fields[name]
        return editor_value(s, editor)

    def set_value(self, name: str, value: Any) -> None:
        """Show `value` for the setting `name`, as a user would enter it."""
        set_editor_value(self.editor(name), value)

    # ---- groups ------------------------------------------------------------------------
    def _build_preset_group(self) -> QGroupBox:
        box = QGroupBox("Recipe")
        layout = QVBoxLayout(box)
        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(LABELS[name], name)
        self.preset.addItem("Custom", "")
        self.preset.setObjectName("preset")
        self.preset.setAccessibleName("Recipe")
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

    def _build_setting_groups(self, devices: Sequence[str]) -> list[QGroupBox]:
        boxes = [QGroupBox(title) for title in FORM_GROUPS]
        forms = {box.title(): QFormLayout(box) for box in boxes}
        for s in settings():
            if not s.spec.group:
                continue
            editor = make_editor(s, devices)
            if isinstance(editor, QCheckBox):
                forms[s.spec.group].addRow(editor)
            else:
                forms[s.spec.group].addRow(f"{s.spec.label}:", editor)
            self.fields[s.name] = (s, editor)
        return boxes

    # ---- configs in and out ------------------------------------------------------------
    def configs(self) -> tuple[ModelConfig, TrainConfig]:
        values = {name: editor_value(s, editor) for name, (s, editor) in self.fields.items()}
        return with_settings(self._model_base, self._train_base, values)

    def set_configs(self, model: ModelConfig, train: TrainConfig) -> None:
        self._setting = True
        try:
            self._model_base, self._train_base = model, train
            values = setting_values(model, train)
            for name, (_, editor) in self.fields.items():
                set_editor_value(editor, values[name])
        finally:
            self._setting = False
        self._on_form_changed()

    def apply_preset(self, name: str) -> None:
        """Fill the form with a preset, keeping the device and seed chosen."""
        model, train = preset(name)
        _, current = self.configs()
        self.set_configs(model, train.replace(device=current.device, seed=current.seed))

    def device(self) -> str:
        """The device chosen: auto, cpu, cuda or mps."""
        return self.configs()[1].device

    def current_preset(self) -> str | None:
        return matching_preset(*self.configs())

    def reset(self) -> None:
        self.set_configs(*preset("seed"))

    def _on_preset_activated(self, index: int) -> None:
        name = self.preset.itemData(index)
        if name:
            self.apply_preset(name)
        else:
            self._on_form_changed()  # "Custom" only describes the form; it changes nothing

    def _on_form_changed(self) -> None:
        if self._setting:
            return
        values = {name: editor_value(s, editor) for name, (s, editor) in self.fields.items()}
        for s, editor in self.fields.values():
            if s.spec.needs is not None:
                other, wanted = s.spec.needs
                editor.setEnabled(values.get(other) == wanted)
        model, train = self.configs()
        name = matching_preset(model, train) or ""
        self.preset.setCurrentIndex(max(0, self.preset.findData(name)))
        self.preset_note.setText(DESCRIPTIONS.get(name, "Your own recipe."))
        self.params_label.setText(f"{count_parameters(build_model(model)):,} parameters")

    # ---- settings ------------------------------------------------------------------------
    def to_settings(self) -> dict[str, Any]:
        model, train = self.configs()
        return {"model": model.to_dict(), "train": train.to_dict()}

    def from_settings(self, data: dict[str, Any]) -> bool:
        """Restore a saved form; False (and the form unchanged) when anything is invalid."""
        try:
            model = ModelConfig.from_dict(data.get("model", {}))
            train = TrainConfig.from_dict(data.get("train", {}))
        except (MnistDeskError, ValueError, AttributeError, TypeError):
            return False
        self.set_configs(model, train)
        return True
