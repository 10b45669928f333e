from __future__ import annotations

import math
import threading
import time

import pytest
import torch

from mnist_desk.core import training
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import TrainingError
from mnist_desk.core.evaluation import evaluate
from mnist_desk.core.training import (
    BatchMetrics,
    EpochMetrics,
    Trainer,
    make_scheduler,
    split_train_val,
)
from tests.helpers import subset


def test_one_real_epoch_reaches_an_accuracy_floor(small_mnist: MNIST) -> None:
    trainer = Trainer(ModelConfig(), TrainConfig(epochs=1), small_mnist)
    metrics = list(trainer)
    batches = [m for m in metrics if isinstance(m, BatchMetrics)]
    epochs = [m for m in metrics if isinstance(m, EpochMetrics)]
    assert len(batches) == math.ceil(12000 / 64) == batches[0].batches
    assert [b.batch for b in batches] == list(range(1, len(batches) + 1))
    assert len(epochs) == 1 and epochs[0] is metrics[-1]
    e = epochs[0]
    assert e.test_acc > 90.0, e  # 12,000 images, one epoch
    assert e.train_loss < batches[0].loss
    assert e.seconds > 0 and e.samples_per_s > 0 and e.lr == 0.002
    # the reported test figures are those of the 2,000 real test images
    check = evaluate(trainer.model, small_mnist.test_images, small_mnist.test_labels)
    assert check.n == 2000 and check.accuracy == pytest.approx(e.test_acc)


def test_metrics_are_immutable(small_mnist: MNIST) -> None:
    m = next(iter(Trainer(ModelConfig(), TrainConfig(epochs=1), subset(small_mnist, 128, 64))))
    assert isinstance(m, BatchMetrics)
    with pytest.raises(AttributeError):
        m.loss = 0.0  # type: ignore[misc]


def test_seed_makes_a_run_repeatable(small_mnist: MNIST) -> None:
    data = subset(small_mnist, 640, 100)
    config = TrainConfig(epochs=1, seed=3, device="cpu")  # CUDA kernels may not repeat
    runs = [Trainer(ModelConfig(), config, data) for _ in range(2)]
    for t in runs:
        t.run()
    for (k, a), b in zip(
        runs[0].model.state_dict().items(), runs[1].model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), k
    other = Trainer(ModelConfig(), config.replace(seed=4), data)
    other.run()
    assert not torch.equal(
        other.model.state_dict()["head.1.weight"], runs[0].model.state_dict()["head.1.weight"]
    )


@pytest.mark.parametrize("augment", ["notebook", "every kind", "none"])
def test_inputs_made_sixteen_batches_at_a_time_train_exactly_as_one_at_a_time(
    small_mnist: MNIST, monkeypatch: pytest.MonkeyPatch, augment: str
) -> None:
    # 40 batches: two whole chunks of 16 and a part of one, the last batch short
    data = subset(small_mnist, 40 * 64 - 20, 100)
    config = TrainConfig(epochs=1, seed=5, device="cpu")
    if augment == "every kind":
        kinds = config.augment.replace(translate=0.1, shear=5.0, stroke=0.5, elastic=2.0)
        config = config.replace(augment=kinds)
    elif augment == "none":
        config = config.replace(augment=config.augment.replace(rotation=0.0, crop_p=0.0))
        assert config.augment.is_none
    losses, weights = [], []
    for chunk in (1, training.INPUT_CHUNK):
        monkeypatch.setattr(training, "INPUT_CHUNK", chunk)
        trainer = Trainer(ModelConfig(), config, data)
        losses.append([m.loss for m in trainer if isinstance(m, BatchMetrics)])
        weights.append(trainer.model.state_dict())
    assert training.INPUT_CHUNK > 1 and len(losses[1]) == 40
    assert losses[0] == losses[1]
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key


def test_stop_mid_epoch_returns_promptly_with_a_usable_model(mnist: MNIST) -> None:
    stop = threading.Event()
    # on the CPU every step reports at once (a GPU reports the steps it has run in chunks)
    config = TrainConfig(epochs=3, device="cpu")
    trainer = Trainer(ModelConfig(), config, mnist, stop_event=stop)
    it = iter(trainer)
    for _ in range(50):
        next(it)
    stop.set()
    start = time.perf_counter()
    rest = list(it)
    assert time.perf_counter() - start < 1.0
    assert rest == [] and trainer.stopped and trainer.history == []
    result = trainer.evaluate_test()
    assert result.accuracy > 30.0  # 50 batches already learn something (chance: 10%)


def test_pause_holds_between_batches(small_mnist: MNIST) -> None:
    pause, stop = threading.Event(), threading.Event()
    trainer = Trainer(
        ModelConfig(), TrainConfig(epochs=1), small_mnist, stop_event=stop, pause_event=pause
    )
    seen: list[BatchMetrics | EpochMetrics] = []

    def consume() -> None:
        seen.extend(trainer)

    pause.set()
    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.3)
    assert seen == []  # paused before the first batch
    pause.clear()
    deadline = time.time() + 5
    while len(seen) < 5 and time.time() < deadline:
        time.sleep(0.01)
    pause.set()
    time.sleep(0.2)
    held = len(seen)
    time.sleep(0.3)
    assert len(seen) == held  # nothing moves while paused
    stop.set()  # stop also ends a pause
    thread.join(timeout=2)
    assert not thread.is_alive() and trainer.stopped


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_epoch(
    small_mnist: MNIST,
) -> None:
    data = subset(small_mnist, 640, 100)
    trainer = Trainer(ModelConfig(), TrainConfig(epochs=3, device="cpu"), data)  # step by step
    it = iter(trainer)
    while not isinstance(next(it), EpochMetrics):
        pass
    good = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    for _ in range(3):
        next(it)  # three steps into epoch 2: the weights have moved on
    with torch.no_grad():
        first_conv = next(m for m in trainer.model.modules() if isinstance(m, torch.nn.Conv2d))
        first_conv.weight.fill_(float("nan"))
    with pytest.raises(TrainingError, match=r"loss became nan at epoch 2.*weights of epoch 1"):
        next(it)
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, good[k]), k


def test_optimizers_and_schedulers_run(small_mnist: MNIST) -> None:
    data = subset(small_mnist, 256, 100)
    for optimizer, scheduler in [("sgd", "none"), ("rmsprop", "cosine"), ("adamw", "onecycle")]:
        cfg = TrainConfig(epochs=2, optimizer=optimizer, scheduler=scheduler, lr=0.01)
        history = Trainer(ModelConfig(batchnorm=True, dropout=0.1), cfg, data).run()
        assert len(history) == 2 and all(math.isfinite(h.train_loss) for h in history)


def test_step_lr_steps_per_epoch() -> None:
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1.0)
    sched, per_batch = make_scheduler(opt, TrainConfig(step_size=2, gamma=0.5), 10)
    assert not per_batch
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()  # type: ignore[union-attr]
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_validation_split_is_fixed_and_disjoint(small_mnist: MNIST) -> None:
    a_train, a_val = split_train_val(1000, 100)
    _, b_val = split_train_val(1000, 100)
    assert torch.equal(a_val, b_val) and len(a_val) == 100
    assert not set(a_train.tolist()) & set(a_val.tolist())
    data = subset(small_mnist, 1000, 100)
    history = Trainer(ModelConfig(), TrainConfig(epochs=1, val_size=200), data).run()
    assert history[0].val_acc is not None and 0 <= history[0].val_acc <= 100


def test_unavailable_device_is_a_clear_error(small_mnist: MNIST) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(TrainingError, match="not available"):
        Trainer(ModelConfig(), TrainConfig(device="cuda"), small_mnist)


def test_weight_average_follows_the_formula() -> None:
    from mnist_desk.core.training import WeightAverage

    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = WeightAverage(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)  # warm-up: decay = min(0.9, 2/11)
    expected = 1.0 - 2 / 11
    torch.testing.assert_close(ema.model.weight, torch.full((1, 2), expected))
    assert not ema.model.weight.requires_grad


def test_ema_model_is_the_one_evaluated_and_saved(small_mnist: MNIST) -> None:
    data = subset(small_mnist, 1280, 500)
    trainer = Trainer(ModelConfig(batchnorm=True), TrainConfig(epochs=1, ema=0.99), data)
    history = trainer.run()
    assert trainer.final_model is trainer.ema.model  # type: ignore[union-attr]
    live = trainer.model.state_dict()["features.0.weight"]
    averaged = trainer.final_model.state_dict()["features.0.weight"]
    assert not torch.equal(live, averaged)
    saved = trainer.to_checkpoint("ema").model_state["features.0.weight"]
    assert torch.equal(saved, averaged.cpu())
    check = evaluate(trainer.final_model, data.test_images, data.test_labels)
    assert check.accuracy == pytest.approx(history[-1].test_acc)


@pytest.mark.parametrize("scheduler", ["onecycle", "step", "cosine"])
def test_one_more_epoch_goes_on_at_the_rate_the_schedule_ended_with(
    small_mnist: MNIST, scheduler: str
) -> None:
    data = subset(small_mnist, 640, 200)
    config = TrainConfig(epochs=2, scheduler=scheduler, step_size=1, gamma=0.5, seed=3)
    trainer = Trainer(ModelConfig(), config, data)
    first = [m for m in trainer if isinstance(m, BatchMetrics)]
    ended_at = first[-1].lr  # the rate the last batch trained at
    if scheduler == "step":
        assert ended_at == pytest.approx(0.002 * 0.5)  # decayed once, after epoch 1
    weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert trainer.add_epochs(1) == pytest.approx(ended_at)
    more = list(trainer)
    batches = [m for m in more if isinstance(m, BatchMetrics)]
    epochs = [m for m in more if isinstance(m, EpochMetrics)]
    assert len(batches) == 10 and {b.epoch for b in batches} == {3}  # one epoch, the third
    assert all(b.lr == pytest.approx(ended_at) for b in batches)  # held where it ended
    assert [e.epoch for e in epochs] == [3] and epochs[0].epochs == 3
    assert [e.epoch for e in trainer.history] == [1, 2, 3] and trainer.config.epochs == 3
    changed = trainer.model.state_dict()
    assert any(not torch.equal(weights[k], changed[k]) for k in weights)  # it trained
    saved = trainer.to_checkpoint("more").train_config
    assert saved is not None and saved.epochs == 3


def test_only_a_finished_run_takes_more_epochs(small_mnist: MNIST) -> None:
    trainer = Trainer(ModelConfig(), TrainConfig(epochs=1), subset(small_mnist, 640, 200))
    with pytest.raises(TrainingError, match="finished"):
        trainer.add_epochs(1)  # nothing trained yet
    trainer.stop_event.set()
    trainer.run()
    with pytest.raises(TrainingError, match="finished"):
        trainer.add_epochs(1)  # stopped before its end


def test_native_bfloat16_is_read_from_the_cpu_flags(tmp_path: object) -> None:
    from pathlib import Path

    from mnist_desk.core.cpu import native_bf16

    assert isinstance(tmp_path, Path)
    with_amx, plain = tmp_path / "amx", tmp_path / "plain"
    with_amx.write_text("processor : 0\nflags : fpu sse2 avx2 avx512f amx_bf16 amx_tile\n")
    plain.write_text("processor : 0\nflags : fpu sse2 avx2 avx512f avx512_bf16x\n")
    assert native_bf16(str(with_amx)) and not native_bf16(str(plain))
    assert not native_bf16(str(tmp_path / "missing"))


def test_automatic_precision_is_bfloat16_only_where_it_gains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mnist_desk.core import device

    cpu = torch.device("cpu")
    monkeypatch.setattr(device, "native_bf16", lambda: True)
    assert device.resolve_precision("auto", cpu, "compact") == torch.bfloat16
    assert device.resolve_precision("auto", cpu, "seed") is None  # too small to gain
    assert device.resolve_precision("fp32", cpu, "compact") is None  # the user's choice
    assert device.resolve_precision("bf16", cpu, "seed") == torch.bfloat16
    with pytest.raises(TrainingError, match="mps"):
        device.resolve_precision("bf16", torch.device("mps"), "seed")
    monkeypatch.setattr(device, "native_bf16", lambda: False)  # emulated: slower
    assert device.resolve_precision("auto", cpu, "compact") is None


def test_bfloat16_training_runs_the_forward_pass_in_bfloat16(small_mnist: MNIST) -> None:
    model_cfg = ModelConfig(arch="compact", batchnorm=True)
    config = TrainConfig(epochs=1, precision="bf16", lr=0.005)
    trainer = Trainer(model_cfg, config, small_mnist)
    assert trainer.precision == "bf16" and trainer.describe().endswith("mixed bfloat16")
    seen: list[tuple[bool, torch.dtype]] = []
    first_conv = next(m for m in trainer.model.modules() if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_hook(lambda m, _i, out: seen.append((m.training, out.dtype)))
    history = trainer.run()
    training = [d for t, d in seen if t]
    assert len(training) == trainer.batches_per_epoch  # one forward pass a batch...
    assert all(d == torch.bfloat16 for d in training)  # ...in bfloat16
    assert all(d == torch.float32 for t, d in seen if not t)  # evaluated in float32
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())  # the weights
    assert math.isfinite(history[-1].train_loss) and history[-1].test_acc > 90.0
    plain = Trainer(model_cfg, config.replace(precision="fp32"), small_mnist)
    assert plain.precision == "fp32" and "bfloat16" not in plain.describe()
