from __future__ import annotations

from pathlib import Path

import torch

from mnist_desk.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.model import build_model, count_parameters
from mnist_desk.core.presets import PRESETS, matching_preset, preset


def test_seed_preset_is_the_notebook_recipe() -> None:
    model, train = preset("seed")
    assert model == ModelConfig() and train == TrainConfig()
    assert count_parameters(build_model(model)) == 24210


def test_best_preset_stays_within_the_notebook_budget() -> None:
    model, train = preset("best")
    assert count_parameters(build_model(model)) < 25000
    assert train.epochs <= 15
    assert model.arch == "compact" and model.batchnorm


def test_matching_preset_ignores_seed_and_device() -> None:
    model, train = PRESETS["best"]
    assert matching_preset(model, train.replace(seed=7, device="cpu")) == "best"
    assert matching_preset(model, train.replace(epochs=3)) is None


def test_compact_model_forward_and_checkpoint(tmp_path: Path) -> None:
    cfg = ModelConfig(arch="compact", batchnorm=True, dropout=0.1)
    model = build_model(cfg).eval()
    out = model(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(3))
    path = save_checkpoint(Checkpoint(cfg, model.state_dict(), name="c"), tmp_path / "c.pt")
    rebuilt = load_checkpoint(path).build_model()
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(rebuilt(x), model(x))


def test_compact_without_batchnorm_has_biases() -> None:
    plain = build_model(ModelConfig(arch="compact", batchnorm=False))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    assert all(m.bias is not None for m in plain.modules() if isinstance(m, torch.nn.Conv2d))


def test_fast_preset_is_best_at_a_larger_batch() -> None:
    best_model, best_train = preset("best")
    model, train = preset("fast")
    assert model == best_model
    assert train == best_train.replace(batch_size=256, lr=0.02)
    assert matching_preset(model, train) == "fast"
