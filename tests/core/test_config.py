from __future__ import annotations

import pytest

from mnist_desk.core.config import AugmentConfig, ModelConfig, TrainConfig
from mnist_desk.core.errors import ConfigError


def test_defaults_are_the_notebook_recipe() -> None:
    cfg = TrainConfig()
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.optimizer) == (5, 64, 0.002, "adam")
    assert (cfg.scheduler, cfg.step_size, cfg.gamma) == ("step", 15, 0.1)
    assert cfg.augment == AugmentConfig(rotation=15.0, crop_p=0.1, crop_size=22)


def test_round_trip_through_plain_dicts() -> None:
    cfg = TrainConfig(epochs=3, lr=0.01, augment=AugmentConfig(rotation=5.0, shear=3.0))
    data = cfg.to_dict()
    assert isinstance(data["augment"], dict)
    assert TrainConfig.from_dict(data) == cfg
    assert ModelConfig.from_dict(ModelConfig(batchnorm=True).to_dict()).batchnorm


def test_missing_keys_take_defaults_unknown_keys_are_refused() -> None:
    assert TrainConfig.from_dict({"epochs": 2}).batch_size == 64
    with pytest.raises(ConfigError, match="no setting"):
        TrainConfig.from_dict({"epochz": 2})


@pytest.mark.parametrize(
    "data",
    [
        {"epochs": 0},
        {"epochs": "5"},
        {"lr": -1.0},
        {"optimizer": "lion"},
        {"batch_size": 2.5},
        {"device": "tpu"},
        {"augment": {"rotation": 500.0}},
        {"augment": 3},
    ],
)
def test_invalid_values_are_explained(data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        TrainConfig.from_dict(data)


def test_ints_are_accepted_for_floats() -> None:
    assert TrainConfig.from_dict({"lr": 1}).lr == 1.0


def test_configs_are_frozen() -> None:
    with pytest.raises(AttributeError):
        TrainConfig().epochs = 3  # type: ignore[misc]
