"""Each training setting is declared once, in core; the Train form and the command line
are derived from the declaration, so their limits are core's limits."""

from __future__ import annotations

import argparse
import contextlib
import io
import math

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox
from pytestqt.qtbot import QtBot

from mnist_desk.cli import _build_parser, main, train_configs
from mnist_desk.core.config import (
    ModelConfig,
    SettingField,
    TrainConfig,
    settings,
    with_settings,
)
from mnist_desk.core.errors import ConfigError
from mnist_desk.gui.train_form import TrainForm

NUMERIC = [s for s in settings() if s.kind in (int, float) and s.spec.choices is None]


def _lowest(s: SettingField) -> float:
    """The smallest value core accepts (an open end: the smallest step the form has)."""
    assert s.spec.low is not None
    return 10.0**-s.spec.decimals if s.spec.open_low else s.spec.low


def _configs(name: str, value: object) -> tuple[ModelConfig, TrainConfig]:
    return with_settings(ModelConfig(), TrainConfig(), {name: value})


@pytest.mark.parametrize("s", NUMERIC, ids=lambda s: s.name)
def test_core_accepts_its_ends_and_refuses_beyond(s: SettingField) -> None:
    assert s.spec.low is not None and s.spec.high is not None
    _configs(s.name, s.kind(_lowest(s)))
    _configs(s.name, s.kind(s.spec.high))
    below = s.spec.low - (1 if s.kind is int else 10.0**-s.spec.decimals)
    for bad in (s.kind(s.spec.high) + (1 if s.kind is int else 10.0**-s.spec.decimals), below):
        with pytest.raises(ConfigError, match=s.name):
            _configs(s.name, s.kind(bad) if s.kind is int else bad)


def test_form_limits_are_cores(qtbot: QtBot) -> None:
    form = TrainForm(devices=("cpu", "cuda", "mps"))
    qtbot.addWidget(form)
    shown = {s.name for s in settings() if s.spec.group}
    assert set(form.fields) == shown
    assert {"crop_size", "val_size", "cuda_graphs"}.isdisjoint(shown)  # CLI and files only
    for s in settings():
        if s.name not in shown:
            continue
        editor = form.editor(s.name)
        if s.spec.choices is not None:
            assert isinstance(editor, QComboBox)
            offered = [editor.itemData(i) for i in range(editor.count())]
            assert offered == list(s.spec.choices), s.name
        elif s.kind is bool:
            assert isinstance(editor, QCheckBox)
        else:
            assert isinstance(editor, (QSpinBox, QDoubleSpinBox)), s.name
            assert s.spec.high is not None
            assert math.isclose(editor.minimum(), _lowest(s)), s.name
            assert math.isclose(editor.maximum(), s.spec.high), s.name
            if isinstance(editor, QDoubleSpinBox):
                assert editor.decimals() == s.spec.decimals and editor.singleStep() == s.spec.step
        assert s.spec.help[:20].lower() in editor.toolTip().lower(), s.name


def test_form_round_trips_every_setting(qtbot: QtBot) -> None:
    form = TrainForm(devices=("cpu",))
    qtbot.addWidget(form)
    changed: dict[str, object] = {"epochs": 1000, "batch_size": 65536, "lr": 10.0, "ema": 0.9999}
    changed |= {"rotation": 180.0, "dropout": 0.9, "optimizer": "sgd", "batchnorm": True}
    changed |= {"step_size": 1000}
    model, train = _configs("epochs", 5)
    form.set_configs(*with_settings(model, train, changed))
    got = form.configs()
    for name, value in changed.items():
        assert form.value(name) == value, name
    assert got == with_settings(model, train, changed)


def _train_args(*flags: str) -> argparse.Namespace:
    return _build_parser().parse_args(["train", *flags])


@pytest.mark.parametrize("s", NUMERIC, ids=lambda s: s.name)
def test_cli_limits_are_cores(s: SettingField) -> None:
    assert s.spec.high is not None
    top = str(s.kind(s.spec.high))
    _, _train = train_configs(_train_args(s.flag, top))  # the end itself is accepted
    beyond = str(s.kind(s.spec.high) + (1 if s.kind is int else 1.0))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["train", s.flag, beyond]) == 2
    assert s.spec.range_text() in err.getvalue()


def test_cli_flags_come_from_the_declarations() -> None:
    parser = _build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    train = sub.choices["train"]
    flags = {o: a for a in train._actions for o in a.option_strings}
    for s in settings():
        action = flags[s.flag]
        if s.spec.choices is not None:
            assert list(action.choices or ()) == list(s.spec.choices)
        elif s.kind is not bool:
            assert action.type is s.kind and s.spec.range_text() in (action.help or "")
    presets = flags["--preset"]
    from mnist_desk.core.presets import PRESETS

    assert list(presets.choices or ()) == list(PRESETS)
