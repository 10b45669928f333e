"""The forward and backward half of a training step, eager or captured in a CUDA graph.

A step of the seed CNN is a few hundred microseconds of GPU work spread over ~100 kernel
launches, so in eager mode a GPU spends most of an epoch waiting for Python. On CUDA the
batch gather, the augmentation, the forward pass, the loss and the backward pass are
captured once in a CUDA graph and replayed each step from static input buffers. The
optimiser step, the weight average and the schedulers stay eager: they are a handful of
fused launches, and OneCycle changes Adam's betas, which a graph would freeze.

Capture needs CUDA and a fixed batch size; anything that goes wrong while capturing
falls back to the eager step, and `CapturedStep.build` says why. The eager step is what
runs on the CPU and MPS (and is the only one CI can test).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mnist_desk.core.augment import Augmentation, apply

log = logging.getLogger(__name__)

StepResult = tuple[torch.Tensor, torch.Tensor]  # loss (scalar), correct count (scalar)
NO_DIGIT = -1  # the label of a training drawing that is no digit at all


def loss_and_correct(
    out: torch.Tensor, y: torch.Tensor, label_smoothing: float, *, digits_only: bool = False
) -> StepResult:
    """Cross-entropy with label smoothing against each label; a label of NO_DIGIT asks
    for no digit at all, the uniform distribution over the ten (outlier exposure,
    Hendrycks et al. 2019), so that letters and scribbles are read with low confidence.
    Correct: the digit read for a digit; for no digit, a top probability under one half.
    With only digits this is F.cross_entropy with label smoothing; `digits_only` (the
    caller knows there is no NO_DIGIT among its labels) computes it so, in two operations
    instead of fifteen, forward and backward: 0.14 ms a step less on this CPU."""
    if digits_only:
        loss = F.cross_entropy(out, y, label_smoothing=label_smoothing)
        return loss, (out.argmax(dim=1) == y).sum()
    known = y >= 0
    logp = F.log_softmax(out, dim=1)
    classes = out.shape[1]
    target = F.one_hot(y.clamp(min=0), classes).to(logp.dtype)
    target = target * (1.0 - label_smoothing) + label_smoothing / classes
    target = torch.where(known.unsqueeze(1), target, torch.full_like(target, 1.0 / classes))
    loss = -(target * logp).sum(dim=1).mean()
    top, read = logp.max(dim=1)
    correct = torch.where(known, read == y, top.exp() < 0.5)
    return loss, correct.sum()


class EagerStep:
    """Gather, augment, forward, loss, backward: gradients land in the parameters."""

    def __init__(
        self,
        model: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor,
        label_smoothing: float,
        memory_format: torch.memory_format,
        *,
        keep_grad_tensors: bool = False,
        autocast: torch.dtype | None = None,
    ) -> None:
        """With `autocast` (bfloat16), the forward pass runs in that type where PyTorch's
        autocast allows; weights, gradients, the optimiser and the loss stay float32."""
        self.model, self.images, self.labels = model, images, labels
        self.autocast = autocast
        self.label_smoothing = label_smoothing
        self.memory_format = memory_format
        self.digits_only = bool((labels >= 0).all())  # no NO_DIGIT drawing among them
        # zeroing in place keeps .grad the same tensors a captured graph writes into
        self.keep_grad_tensors = keep_grad_tensors

    @property
    def model(self) -> nn.Module:
        return self._model

    @model.setter
    def model(self, model: nn.Module) -> None:
        # the parameters listed once: walking the modules for them every step cost
        # 0.08 ms a step, 2-3% of the seed CNN's step on this CPU
        self._model, self._params = model, list(model.parameters())

    def inputs(self, idx: torch.Tensor, aug: Augmentation | None) -> torch.Tensor:
        """The network's input for these training images: gathered, augmented and
        normalised, in the training memory format. Each image is augmented on its own, so
        the inputs of many batches at once are, image for image, those of each batch."""
        return apply(self.images[idx], aug).contiguous(memory_format=self.memory_format)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The model's output for a batch, in float32 whatever the forward pass ran in."""
        if self.autocast is None:
            return self.model(x)
        # no weight cache: each weight is cast once per pass anyway, and a CUDA graph
        # must not capture a cache that outlives it
        with torch.autocast(x.device.type, dtype=self.autocast, cache_enabled=False):
            out = self.model(x)
        return out.float()

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> StepResult:
        """The batch's loss and its count of right answers."""
        return loss_and_correct(out, y, self.label_smoothing, digits_only=self.digits_only)

    def __call__(
        self, idx: torch.Tensor, aug: Augmentation | None, x: torch.Tensor | None = None
    ) -> StepResult:
        """One step on the training images `idx`; `x`, where given, is their input
        (`inputs(idx, aug)`, made ahead with other batches')."""
        if x is None:
            x = self.inputs(idx, aug)
        loss, correct = self.loss(self.forward(x), self.labels[idx])
        for p in self._params:
            if p.grad is not None:
                if self.keep_grad_tensors:
                    p.grad.zero_()
                else:
                    p.grad = None
        loss.backward()
        return loss.detach(), correct


class CapturedStep:
    """The same step as one CUDA graph for batches of exactly `batch_size` samples."""

    def __init__(self, eager: EagerStep, batch_size: int, aug: Augmentation | None) -> None:
        device = eager.images.device
        self.batch_size = batch_size
        self.idx = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.aug = None if aug is None else aug[slice(0, batch_size)].clone_static()
        self.eager = eager
        # warm-up runs change BatchNorm statistics; put them back afterwards
        buffers = {k: v.clone() for k, v in eager.model.named_buffers()}
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(3):
                self._run_eager_uncounted()
        torch.cuda.current_stream(device).wait_stream(side)
        for p in eager.model.parameters():
            p.grad = None  # the graph allocates the gradients it writes
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.loss, self.correct = self._forward_backward()
        with torch.no_grad():
            for name, value in eager.model.named_buffers():
                value.copy_(buffers[name])

    def _forward_backward(self) -> StepResult:
        e = self.eager
        loss, correct = e.loss(e.forward(e.inputs(self.idx, self.aug)), e.labels[self.idx])
        loss.backward()
        return loss.detach(), correct

    def _run_eager_uncounted(self) -> None:
        for p in self.eager.model.parameters():
            p.grad = None
        self._forward_backward()

    def __call__(self, idx: torch.Tensor, aug: Augmentation | None) -> StepResult:
        if len(idx) != self.batch_size:  # the short last batch of an epoch
            return self.eager(idx, aug)
        self.idx.copy_(idx, non_blocking=True)
        if self.aug is not None and aug is not None:
            self.aug.copy_from(aug)
        self.graph.replay()
        return self.loss.clone(), self.correct.clone()

    @classmethod
    def build(
        cls, eager: EagerStep, batch_size: int, aug: Augmentation | None
    ) -> tuple[Callable[[torch.Tensor, Augmentation | None], StepResult], str]:
        """The captured step, or the eager one and the reason capture was not possible."""
        if eager.images.device.type != "cuda":
            return eager, f"CUDA graphs need CUDA (training on {eager.images.device.type})"
        try:
            captured = cls(eager, batch_size, aug)
        except Exception as exc:  # capture fails in many ways; eager always works
            log.warning("CUDA graph capture failed, training eagerly: %s", exc)
            for p in eager.model.parameters():
                p.grad = None
            return eager, f"capture failed: {exc}"
        eager.keep_grad_tensors = True  # the short last batch must not orphan them
        return captured, "captured in a CUDA graph"
