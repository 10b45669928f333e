"""The trainer: an iterator of immutable metrics, with stop and pause between batches.

    trainer = Trainer(ModelConfig(), TrainConfig(), load_mnist())
    for m in trainer:            # BatchMetrics after every step, EpochMetrics after every epoch
        ...
    trainer.model                # the trained network

The whole dataset sits on the training device as uint8; every batch is indexed,
converted and augmented there, so there is no DataLoader and no PIL in the loop. Nothing
here prints: the command line and the GUI decide how to show progress.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from mnist_desk.core.augment import Augmentation, draw
from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.cpu import keep_freed_memory
from mnist_desk.core.data import MNIST
from mnist_desk.core.device import describe_device, resolve_device, resolve_precision
from mnist_desk.core.errors import TrainingError
from mnist_desk.core.evaluation import EvalResult, evaluate
from mnist_desk.core.metrics import BatchCurve, BatchMetrics, EpochMetrics
from mnist_desk.core.model import build_model
from mnist_desk.core.steps import CapturedStep, EagerStep, StepResult

VAL_SPLIT_SEED = 20241126  # one fixed validation split, whatever the training seed
# batches whose inputs an eager step makes together: one pass that gathers and augments
# 1,024 images costs about half as much per image as 16 passes over 64 (0.09 against
# 0.17 ms a batch on this CPU, 3-5% of a step); a captured CUDA graph does its own
INPUT_CHUNK = 16


def split_train_val(n: int, val_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of a fixed, seeded hold-out split of n training images."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(VAL_SPLIT_SEED))
    return perm[: n - val_size], perm[n - val_size :]


def make_optimizer(
    model: nn.Module, cfg: TrainConfig, device: torch.device | None = None
) -> torch.optim.Optimizer:
    """The optimiser, fused into one kernel per step where PyTorch has one for the device
    (Adam's step: 0.08 ms instead of 0.26 ms for the seed model on this CPU)."""
    params, lr, wd = model.parameters(), cfg.lr, cfg.weight_decay
    fused = True if device is not None and device.type in ("cpu", "cuda") else None
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, fused=fused)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, fused=fused)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=wd, fused=fused)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=wd)


def make_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> tuple[torch.optim.lr_scheduler.LRScheduler | None, bool]:
    """The scheduler and whether it steps per batch (True) or per epoch (False)."""
    total = cfg.epochs * steps_per_epoch
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, cfg.step_size, cfg.gamma), False
    if cfg.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, cfg.lr, total_steps=total), True
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total), True
    return None, False


def downsample_curve(
    points: list[tuple[float, float, float]], max_points: int = 2000
) -> BatchCurve:
    """Per-batch (epochs, loss, accuracy) averaged in equal buckets down to max_points."""
    if not points:
        return BatchCurve()
    array = torch.tensor(points, dtype=torch.float64)
    bucket = max(1, math.ceil(len(array) / max_points))
    usable = len(array) // bucket * bucket
    pooled = array[:usable].reshape(-1, bucket, 3).mean(dim=1)
    if usable < len(array):
        pooled = torch.cat([pooled, array[usable:].mean(dim=0, keepdim=True)])
    x, loss, acc = (tuple(pooled[:, i].tolist()) for i in range(3))
    return BatchCurve(x, loss, acc)


def _is_out_of_memory(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        "out of memory" in text or "can't allocate memory" in text
    )


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the weights, safe to hand to another thread."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


class WeightAverage:
    """An exponential moving average of a model's weights and buffers (BatchNorm's running
    statistics included), with the usual warm-up so early steps are not over-weighted."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).eval()
        self.model.requires_grad_(False)
        self.decay = decay
        self.steps = 0
        self._pairs = [
            (mine, theirs)
            for mine, theirs in zip(
                self.model.state_dict().values(), model.state_dict().values(), strict=True
            )
        ]

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        floats = [(m, t) for m, t in self._pairs if m.is_floating_point()]
        torch._foreach_lerp_([m for m, _ in floats], [t for _, t in floats], 1.0 - decay)
        for mine, theirs in self._pairs:
            if not mine.is_floating_point():
                mine.copy_(theirs)


class _ChunkedInputs:
    """The inputs of an epoch's batches for an eager step, made INPUT_CHUNK batches at
    a time, each when its first batch asks."""

    def __init__(
        self, step: EagerStep, perm: torch.Tensor, aug: Augmentation | None, batch_size: int
    ) -> None:
        self.step, self.perm, self.aug, self.batch_size = step, perm, aug, batch_size
        self.first = -1  # the first batch of the chunk made
        self.chunk = torch.empty(0)

    def batch(self, b: int) -> Callable[[], torch.Tensor]:
        """What makes batch b's input (called inside the step's out-of-memory guard)."""
        return functools.partial(self._input, b)

    def _input(self, b: int) -> torch.Tensor:
        first = b - b % INPUT_CHUNK
        if first != self.first:
            rows = slice(first * self.batch_size, (first + INPUT_CHUNK) * self.batch_size)
            aug = None if self.aug is None else self.aug[rows]
            self.chunk, self.first = self.step.inputs(self.perm[rows], aug), first
        at = (b - first) * self.batch_size
        return self.chunk[at : at + self.batch_size]


class Trainer:
    """Iterate to train. Set `stop_event` to end after the current batch; set
    `pause_event` to hold between batches until it is cleared."""

    def __init__(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        data: MNIST,
        *,
        stop_event: threading.Event | None = None,
        pause_event: threading.Event | None = None,
        initial_weights: dict[str, torch.Tensor] | None = None,
        frozen_norm: bool = False,
    ) -> None:
        """With `frozen_norm`, BatchNorm keeps the statistics it has (a fine-tune on a
        different mix of images would otherwise shift them for every image)."""
        self.model_config = model_config
        self.frozen_norm = frozen_norm
        self.config = train_config
        self.stop_event = stop_event or threading.Event()
        self.pause_event = pause_event or threading.Event()
        self.device = resolve_device(train_config.device)
        if self.device.type == "cpu":
            keep_freed_memory()
        self.history: list[EpochMetrics] = []
        self.stopped = False
        # knobs a learner turns while it trains (set from another thread, read between
        # batches): one batch more while paused, a pause after each batch, new settings
        self.steps_allowed = 0
        self.delay_s = 0.0
        # called before each batch, before any pause holds it
        self.between_batches: Callable[[], None] | None = None
        self._pending_changes: dict[str, float] = {}
        self._changes_lock = threading.Lock()
        self.changes: list[dict[str, float]] = []  # what changed, and at which batch
        self._batches_done = 0
        self._last_lr = train_config.lr  # the rate the last batch trained at
        self._curve: list[tuple[float, float, float]] = []  # (epochs, loss, batch accuracy)
        # the test result of the current weights; None once a step has changed them
        self.test_result: EvalResult | None = None

        if train_config.seed is not None:
            torch.manual_seed(train_config.seed)
        self.model = build_model(model_config)
        if initial_weights is not None:
            self.model.load_state_dict(initial_weights)
        # channels-last halves the CPU's convolution time for these small layers
        self._memory_format = (
            torch.channels_last if self.device.type == "cpu" else torch.contiguous_format
        )
        self.model.to(self.device).to(memory_format=self._memory_format)
        # with train_config.ema, a running average of the weights is what gets evaluated,
        # shown and saved: it is steadier from epoch to epoch and from seed to seed
        self.ema = WeightAverage(self.model, train_config.ema) if train_config.ema else None
        self._good_state = copy.deepcopy(self.final_model.state_dict())

        self._generator = torch.Generator(device=self.device)
        if train_config.seed is not None:
            self._generator.manual_seed(train_config.seed)
        else:
            self._generator.seed()
        self._load_data(data)
        self.batches_per_epoch = math.ceil(len(self._train_x) / train_config.batch_size)
        self.optimizer = make_optimizer(self.model, train_config, self.device)
        autocast = resolve_precision(train_config.precision, self.device, model_config.arch)
        self.precision = "bf16" if autocast is not None else "fp32"  # what it trains in
        self._eager = EagerStep(
            self.model,
            self._train_x,
            self._train_y,
            train_config.label_smoothing,
            self._memory_format,
            autocast=autocast,
        )
        self._step: Callable[..., StepResult] | None = None
        self.step_mode = "eager"  # or "captured in a CUDA graph", or why capture failed
        # a GPU runs ahead of Python; reading losses back every step would stall it
        self._readout_every = 1 if self.device.type == "cpu" else 32
        self.scheduler, self._per_batch_schedule = make_scheduler(
            self.optimizer, train_config, self.batches_per_epoch
        )

    def _load_data(self, data: MNIST) -> None:
        x, y = data.train_images, data.train_labels
        val_size = min(self.config.val_size, len(x) // 2)
        if val_size:
            train_idx, val_idx = split_train_val(len(x), val_size)
            self._val: tuple[torch.Tensor, torch.Tensor] | None = (
                x[val_idx].to(self.device),
                y[val_idx].to(self.device),
            )
            x, y = x[train_idx], y[train_idx]
        else:
            self._val = None
        self._train_x, self._train_y = x.to(self.device), y.to(self.device)
        self._test_x, self._test_y = data.test_images.to(self.device), data.test_labels

    def describe(self) -> str:
        """Where and in what it trains: "CPU (2 threads), mixed bfloat16"."""
        where = describe_device(self.device)
        return f"{where}, mixed bfloat16" if self.precision == "bf16" else where

    def probe_images(self, n: int) -> torch.Tensor:
        """The first n training images, on the training device (to look inside with)."""
        return self._train_x[:n]

    @property
    def last_lr(self) -> float:
        """The learning rate the last batch trained at."""
        return self._last_lr

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def __iter__(self) -> Iterator[BatchMetrics | EpochMetrics]:
        # from the first epoch not yet done: iterating again after add_epochs() goes on
        for epoch in range(len(self.history) + 1, self.config.epochs + 1):
            yield from self._train_epoch(epoch)
            if self.stopped:
                return
            if self.scheduler is not None and not self._per_batch_schedule:
                self.scheduler.step()

    def _wait_while_paused(self) -> float:
        """Block while paused (unless one more step is allowed); return the seconds
        spent waiting."""
        if not self.pause_event.is_set():
            return 0.0
        start = time.perf_counter()
        while self.pause_event.is_set() and not self.stop_event.is_set():
            if self.steps_allowed > 0:
                self.steps_allowed -= 1
                break
            self.stop_event.wait(0.05)
        return time.perf_counter() - start

    def add_epochs(self, epochs: int = 1) -> float:
        """Plan more epochs for a run that has finished; iterate again to train them.

        They train at the learning rate the schedule ended with (the rate of the last
        batch), held constant: a one-cycle or cosine schedule has no steps left to give,
        and a step schedule's next decay is not part of the plan. Returns that rate."""
        if epochs < 1:
            raise ValueError("add at least one epoch")
        if self.stopped or len(self.history) < self.config.epochs:
            raise TrainingError("only a run that has finished can train for more epochs")
        lr = self._last_lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.scheduler, self._per_batch_schedule = None, False
        self.config = dataclasses.replace(self.config, epochs=self.config.epochs + epochs)
        return lr

    def step_once(self) -> None:
        """While paused: train one more batch, then hold again."""
        self.steps_allowed += 1

    def change_settings(self, **changes: float) -> None:
        """New learning rate, weight decay or momentum, from the next batch on. With a
        schedule, the learning rate's change scales the rest of the schedule alike."""
        unknown = set(changes) - {"lr", "weight_decay", "momentum"}
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} while training")
        with self._changes_lock:
            self._pending_changes.update(changes)

    def _apply_changes(self) -> None:
        with self._changes_lock:
            changes, self._pending_changes = self._pending_changes, {}
        if not changes:
            return
        for group in self.optimizer.param_groups:
            if "lr" in changes and group["lr"] > 0:
                factor = changes["lr"] / group["lr"]
                for key in ("lr", "initial_lr", "max_lr", "min_lr"):
                    if key in group:
                        group[key] *= factor
                if self.scheduler is not None:
                    base = getattr(self.scheduler, "base_lrs", None)
                    if base is not None:
                        self.scheduler.base_lrs = [b * factor for b in base]
            if "weight_decay" in changes:
                group["weight_decay"] = changes["weight_decay"]
            if "momentum" in changes:
                if "betas" in group:
                    group["betas"] = (changes["momentum"], group["betas"][1])
                elif "momentum" in group:
                    group["momentum"] = changes["momentum"]
        self.changes.append({"batch": float(self._batches_done), **changes})

    def _train_epoch(self, epoch: int) -> Iterator[BatchMetrics | EpochMetrics]:
        cfg, n = self.config, len(self._train_x)
        self.model.train()
        if self.frozen_norm:
            for module in self.model.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        perm = torch.randperm(n, generator=self._generator, device=self.device)
        # the random draws of the whole epoch at once: a handful of ops, not 30 a batch
        aug = None if cfg.augment.is_none else draw(n, cfg.augment, self._generator, self.device)
        step = self._step_function(aug)
        feed = (
            _ChunkedInputs(self._eager, perm, aug, cfg.batch_size) if step is self._eager else None
        )
        totals = {"loss": 0.0, "correct": 0, "seen": 0}
        pending: list[tuple[int, torch.Tensor, torch.Tensor, int, float]] = []
        lr_at_start = self.lr
        start = time.perf_counter()
        for b in range(self.batches_per_epoch):
            if self.between_batches is not None:
                self.between_batches()
            start += self._wait_while_paused()
            if self.stop_event.is_set():
                yield from self._flush(pending, epoch, totals, start)
                self.stopped = True
                return
            part = slice(b * cfg.batch_size, (b + 1) * cfg.batch_size)
            idx = perm[part]
            self.test_result = None
            self._apply_changes()
            aug_part = None if aug is None else aug[part]
            loss, correct = self._guarded(
                step, idx, aug_part, None if feed is None else feed.batch(b)
            )
            self._batches_done += 1
            pending.append((b + 1, loss, correct, len(idx), self._last_lr))
            if self.delay_s > 0:  # slow motion: interruptible by Stop
                self.stop_event.wait(self.delay_s)
            if len(pending) >= self._readout_every:
                yield from self._flush(pending, epoch, totals, start)
        yield from self._flush(pending, epoch, totals, start)
        seconds = time.perf_counter() - start
        self._good_state = copy.deepcopy(self.final_model.state_dict())
        seen = totals["seen"]
        train_acc = 100.0 * totals["correct"] / seen
        yield self._end_epoch(epoch, totals["loss"] / seen, train_acc, seconds, lr_at_start)

    def _step_function(self, aug: Augmentation | None) -> Callable[..., StepResult]:
        if self._step is None:
            self._step, self.step_mode = self._eager, "eager"
            if self.device.type == "cuda" and self.config.cuda_graphs:
                self._step, self.step_mode = CapturedStep.build(
                    self._eager, self.config.batch_size, aug
                )
        return self._step

    def _guarded(
        self,
        step: Callable[..., StepResult],
        idx: torch.Tensor,
        aug: Augmentation | None,
        inputs: Callable[[], torch.Tensor] | None = None,
    ) -> StepResult:
        """One step: forward and backward, then the optimiser, the average, the schedule.
        `inputs`, for an eager step, gives the batch's input made ahead."""
        try:
            result = step(idx, aug) if inputs is None else step(idx, aug, inputs())
            self._last_lr = float(self.optimizer.param_groups[0]["lr"])
            self.optimizer.step()
            if self.ema is not None:
                self.ema.update(self.model)
            if self.scheduler is not None and self._per_batch_schedule:
                self.scheduler.step()
        except (torch.cuda.OutOfMemoryError, RuntimeError) as exc:
            if not _is_out_of_memory(exc):
                raise
            self._restore_good_state()
            raise TrainingError(
                f"out of memory on {self.device.type} at batch size {self.config.batch_size}; "
                "try a smaller batch size or the CPU"
            ) from None
        return result

    def _flush(
        self,
        pending: list[tuple[int, torch.Tensor, torch.Tensor, int, float]],
        epoch: int,
        totals: dict[str, Any],
        start: float,
    ) -> Iterator[BatchMetrics]:
        """Read the pending steps' losses back (one sync on a GPU) and report them."""
        if not pending:
            return
        values = torch.stack([torch.stack([ls.float(), c.float()]) for _, ls, c, _, _ in pending])
        rows = values.cpu().tolist()
        batches = list(pending)
        pending.clear()
        elapsed = time.perf_counter() - start
        for (batch, _, _, size, lr), (loss, correct) in zip(batches, rows, strict=True):
            if not math.isfinite(loss):
                self._restore_good_state()
                kept = f"epoch {epoch - 1}" if epoch > 1 else "the start of training"
                raise TrainingError(
                    f"the loss became {loss} at epoch {epoch}, batch {batch}; training stopped "
                    f"and the weights of {kept} were kept (try a smaller learning rate)"
                )
            totals["seen"] += size
            totals["loss"] += loss * size
            totals["correct"] += int(correct)
            metrics = BatchMetrics(
                epoch,
                batch,
                self.batches_per_epoch,
                loss,
                100.0 * totals["correct"] / totals["seen"],
                lr,  # the rate this batch trained at
                totals["seen"] / max(elapsed, 1e-9),
                100.0 * correct / size,
            )
            self._curve.append((metrics.progress, loss, metrics.batch_acc))
            yield metrics

    def _restore_good_state(self) -> None:
        self.final_model.load_state_dict(self._good_state)
        if self.ema is not None:  # training stops here: the live weights follow the average
            self.model.load_state_dict(self._good_state)

    @property
    def final_model(self) -> nn.Module:
        """The network that is evaluated and saved: the weight average when there is one."""
        return self.ema.model if self.ema is not None else self.model

    def _end_epoch(
        self, epoch: int, train_loss: float, train_acc: float, seconds: float, lr: float
    ) -> EpochMetrics:
        self.test_result = evaluate(self.final_model, self._test_x, self._test_y)
        val = evaluate(self.final_model, *self._val) if self._val is not None else None
        metrics = EpochMetrics(
            epoch=epoch,
            epochs=self.config.epochs,
            train_loss=train_loss,
            train_acc=train_acc,
            test_loss=self.test_result.loss,
            test_acc=self.test_result.accuracy,
            seconds=seconds,
            samples_per_s=len(self._train_x) / max(seconds, 1e-9),
            lr=lr,
            val_loss=val.loss if val else None,
            val_acc=val.accuracy if val else None,
        )
        self.history.append(metrics)
        return metrics

    def evaluate_test(self) -> EvalResult:
        """Evaluate the current weights on the test set (e.g. after a stop mid-epoch)."""
        if self.test_result is None:
            self.test_result = evaluate(self.final_model, self._test_x, self._test_y)
        return self.test_result

    def state_dict_cpu(self) -> dict[str, torch.Tensor]:
        return cpu_state_dict(self.final_model)

    def to_checkpoint(self, name: str) -> Checkpoint:
        """Everything needed to rebuild, judge and resume this run, as plain data."""
        return Checkpoint(
            model_config=self.model_config,
            model_state=self.state_dict_cpu(),
            name=name,
            train_config=self.config,
            history=tuple(self.history),
            test_metrics=self.test_result.to_metrics() if self.test_result else None,
            optimizer_state=self.optimizer.state_dict(),
            scheduler_state=self.scheduler.state_dict() if self.scheduler else None,
            batch_curve=downsample_curve(self._curve),
        )

    def run(self) -> list[EpochMetrics]:
        """Train to the end (or until stopped) and return the per-epoch history."""
        for _ in self:
            pass
        return self.history
