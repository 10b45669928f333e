"""The current model: which checkpoint, from where, saved or not, and the predictor the
Draw tab reads with (which may show a training run's latest epoch for a while)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from PySide6.QtCore import QObject, Signal

from mnist_desk.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mnist_desk.core.config import ModelConfig
from mnist_desk.core.predictor import UNSURE_BELOW, Predictor


class ModelSession(QObject):
    model_changed = Signal()  # a different current model (opened, trained, reverted)
    dirty_changed = Signal(bool)
    predictor_changed = Signal(str)  # the Draw tab's weights changed; the text says whose
    threshold_changed = Signal(float)  # below it a reading is shown as unsure

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.predictor = Predictor()
        self.checkpoint: Checkpoint | None = None
        self.path: Path | None = None  # where it was opened from or saved to
        self.run_id: str | None = None  # the run of the runs library it comes from
        self.is_bundled = False
        self.dirty = False
        self.predictor_label = ""
        self._parameter_count = 0
        self.unsure_below = UNSURE_BELOW

    # ---- what the status bar and title show -------------------------------------------
    @property
    def name(self) -> str:
        return self.checkpoint.name if self.checkpoint else "no model"

    @property
    def test_acc(self) -> float | None:
        return self.checkpoint.test_acc if self.checkpoint else None

    @property
    def parameter_count(self) -> int:
        return self._parameter_count

    def set_unsure_below(self, threshold: float) -> None:
        """Readings less sure than this are shown as unsure (default: UNSURE_BELOW, the
        one chosen for "not a digit")."""
        threshold = min(max(float(threshold), 0.0), 1.0)
        if threshold != self.unsure_below:
            self.unsure_below = threshold
            self.threshold_changed.emit(threshold)

    # ---- changing the current model ----------------------------------------------------
    def _set(
        self,
        checkpoint: Checkpoint,
        path: Path | None,
        *,
        bundled: bool,
        dirty: bool,
        run_id: str | None = None,
    ) -> None:
        model = checkpoint.build_model()
        self.predictor.set_model(model)
        self.checkpoint, self.path, self.is_bundled = checkpoint, path, bundled
        self.run_id = run_id
        self._parameter_count = sum(p.numel() for p in model.parameters())
        self.predictor_label = checkpoint.name
        self._set_dirty(dirty)
        self.model_changed.emit()
        self.predictor_changed.emit(self.predictor_label)

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)

    def set_bundled(self, checkpoint: Checkpoint) -> None:
        """The model that ships with the app (mnist_desk.bundled) becomes current."""
        self._set(checkpoint, None, bundled=True, dirty=False)

    def open(self, path: str | Path) -> None:
        """Load and validate first; on any error (CheckpointError) nothing changes."""
        checkpoint = load_checkpoint(path)
        self._set(checkpoint, Path(path), bundled=False, dirty=False)

    def save(self, path: str | Path) -> Path:
        if self.checkpoint is None:
            raise RuntimeError("no model to save")
        saved = save_checkpoint(self.checkpoint, path)
        self.path, self.is_bundled = saved, False
        self._set_dirty(False)
        self.model_changed.emit()
        return saved

    def set_trained(self, checkpoint: Checkpoint) -> None:
        """A model trained here but kept nowhere (its run could not be recorded): current,
        and unsaved until the user saves it."""
        self._set(checkpoint, None, bundled=False, dirty=True)

    def set_from_run(self, checkpoint: Checkpoint, run_id: str) -> None:
        """A model kept in the runs library becomes current: nothing to save."""
        self._set(checkpoint, None, bundled=False, dirty=False, run_id=run_id)

    def rename(self, name: str) -> None:
        if self.checkpoint is not None and name != self.checkpoint.name:
            self.checkpoint = dataclasses.replace(self.checkpoint, name=name)
            self._set_dirty(True)
            self.model_changed.emit()

    # ---- the Draw tab's predictor while training -------------------------------------
    def preview_weights(
        self, config: ModelConfig, state: dict[str, torch.Tensor], label: str
    ) -> None:
        self.predictor.set_weights(config, state)
        self.predictor_label = label
        self.predictor_changed.emit(label)

    def set_temperature(self, temperature: float) -> None:
        """The softmax temperature the Draw tab reads with (1: as the model gives it)."""
        if temperature != self.predictor.temperature:
            self.predictor.temperature = temperature
            self.predictor_changed.emit(self.predictor_label)  # read again

    def restore_predictor(self) -> None:
        if self.checkpoint is not None:
            self.predictor.set_model(self.checkpoint.build_model())
            self.predictor_label = self.checkpoint.name
            self.predictor_changed.emit(self.predictor_label)
