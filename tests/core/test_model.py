from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mnist_desk.core.config import ModelConfig
from mnist_desk.core.model import PointwiseConv2d, build_model, count_parameters
from mnist_desk.core.summary import format_summary, layer_summary

# The notebook's torchsummary table: (layer, output shape, parameters)
NOTEBOOK_SUMMARY = [
    ("Conv2d-1", (8, 28, 28), 80),
    ("ReLU-2", (8, 28, 28), 0),
    ("MaxPool2d-3", (8, 14, 14), 0),
    ("Conv2d-4", (16, 14, 14), 1168),
    ("ReLU-5", (16, 14, 14), 0),
    ("MaxPool2d-6", (16, 7, 7), 0),
    ("Conv2d-7", (8, 7, 7), 136),
    ("Conv2d-8", (16, 7, 7), 1168),
    ("ReLU-9", (16, 7, 7), 0),
    ("Conv2d-10", (16, 7, 7), 272),
    ("Conv2d-11", (32, 7, 7), 4640),
    ("ReLU-12", (32, 7, 7), 0),
    ("Conv2d-13", (32, 7, 7), 1056),
    ("Flatten-14", (1568,), 0),
    ("Linear-15", (10,), 15690),
    ("LogSoftmax-16", (10,), 0),
]


def test_seed_model_has_24210_parameters() -> None:
    assert count_parameters(build_model(ModelConfig())) == 24210


def test_seed_model_matches_the_notebook_summary() -> None:
    rows = layer_summary(build_model())
    assert [(r.name, r.output_shape, r.params) for r in rows] == NOTEBOOK_SUMMARY
    assert sum(r.params for r in rows) == 24210
    text = format_summary(rows)
    assert "Total params: 24,210" in text and "Linear-15" in text


def test_multiply_adds_of_the_first_conv() -> None:
    first = layer_summary(build_model())[0]
    assert first.macs == 8 * 28 * 28 * 9  # one 3x3 window per output pixel and channel


def test_output_is_log_probabilities() -> None:
    out = build_model()(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 10)
    torch.testing.assert_close(out.exp().sum(dim=1), torch.ones(5))


def test_batchnorm_after_each_3x3_conv() -> None:
    model = build_model(ModelConfig(batchnorm=True))
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [bn.num_features for bn in bns] == [8, 16, 16, 32]
    assert count_parameters(model) == 24210 + 2 * (8 + 16 + 16 + 32)


def test_dropout_option() -> None:
    model = build_model(ModelConfig(dropout=0.25))
    drops = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(drops) == 1 and drops[0].p == 0.25
    assert count_parameters(model) == 24210


def test_config_rebuilds_the_same_architecture() -> None:
    cfg = ModelConfig(batchnorm=True, dropout=0.1)
    a, b = build_model(cfg), build_model(ModelConfig.from_dict(cfg.to_dict()))
    assert a.state_dict().keys() == b.state_dict().keys()


@pytest.mark.parametrize("bad", [{"arch": "resnet"}, {"dropout": 1.5}])
def test_invalid_model_config(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ModelConfig(**bad)  # type: ignore[arg-type]


def test_pointwise_conv_on_channels_last_matches_the_convolution() -> None:
    torch.manual_seed(0)
    layer = PointwiseConv2d(16, 8)
    x = torch.randn(4, 16, 7, 7)
    x_cl = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    x_nchw = x.clone().requires_grad_()
    grad = torch.randn(4, 8, 7, 7)

    fast = layer(x_cl)  # the matrix-product path
    fast.backward(grad)
    fast_grads = [p.grad.clone() for p in layer.parameters()]  # type: ignore[union-attr]
    layer.zero_grad()
    reference = F.conv2d(x_nchw, layer.weight, layer.bias)
    reference.backward(grad)

    assert fast.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast, reference)
    torch.testing.assert_close(x_cl.grad, x_nchw.grad)
    for mine, theirs in zip(fast_grads, [p.grad for p in layer.parameters()], strict=True):
        torch.testing.assert_close(mine, theirs)


@pytest.mark.parametrize("arch", ["seed", "compact"])
def test_channels_last_model_gives_the_same_output(arch: str) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch=arch)).eval()
    x = torch.randn(8, 1, 28, 28)
    with torch.no_grad():
        reference = model(x)
        model.to(memory_format=torch.channels_last)
        fast = model(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=1e-5)
