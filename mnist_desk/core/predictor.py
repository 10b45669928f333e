"""28x28 -> ten probabilities, with weights that can be swapped between calls.

The GUI predicts on every stroke while a training thread may hand over new weights, so
the swap and the forward pass share a lock; neither ever sees half a model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from mnist_desk.core.augment import normalize
from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import ModelConfig
from mnist_desk.core.model import build_model
from mnist_desk.core.preprocess import Field, Polarity, to_mnist_placed

# Below this confidence a reading is a guess: "unsure, maybe not a digit". The bundled
# model was trained to spread its belief over the ten digits for drawings that are no
# digit (core.steps.NO_DIGIT); the threshold is the one that flags at most 1.5% of the
# digits traced from MNIST's *training* set, drawn by hand (benchmarks/drawn_digits.py
# --sources train); the rates it gives on the test tracings and on non-digits of
# held-out fonts are in docs/unsure-threshold.png and the README.
UNSURE_BELOW = 0.5


@dataclass(frozen=True)
class Prediction:
    digit: int
    confidence: float  # probability of `digit`, 0..1
    probabilities: np.ndarray  # (10,) float32, sums to 1
    image: np.ndarray  # the (28, 28) input the network saw, [0, 1]
    field: Field | None = None  # where that input lies in the image it was made from

    @property
    def unsure(self) -> bool:
        """A guess rather than a reading: maybe no digit at all (UNSURE_BELOW)."""
        return self.confidence < UNSURE_BELOW


class Predictor:
    def __init__(self, model: nn.Module | None = None) -> None:
        self._lock = threading.Lock()
        self._model: nn.Module | None = None
        # softmax temperature: above 1 the probabilities spread, below 1 they sharpen;
        # the digit read never changes (the lab sets it)
        self.temperature = 1.0
        if model is not None:
            self.set_model(model)

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> Predictor:
        return cls(checkpoint.build_model())

    @property
    def model(self) -> nn.Module | None:
        return self._model

    def set_model(self, model: nn.Module) -> None:
        model = model.to("cpu").eval()
        with self._lock:
            self._model = model

    def set_weights(self, config: ModelConfig, state_dict: dict[str, torch.Tensor]) -> None:
        """Build a fresh model from weights (e.g. sent by a training thread) and swap it in."""
        model = build_model(config)
        model.load_state_dict(state_dict)
        self.set_model(model)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(28, 28) or (N, 28, 28) floats in [0, 1] -> (10,) or (N, 10) probabilities."""
        single = images.ndim == 2
        x = torch.from_numpy(np.asarray(images, dtype=np.float32).reshape(-1, 1, 28, 28))
        with self._lock, torch.inference_mode():
            if self._model is None:
                raise RuntimeError("no model loaded")
            logp = self._model(normalize(x))
            if self.temperature != 1.0:
                logp = torch.log_softmax(logp / self.temperature, dim=1)
            probs = logp.exp().numpy()
        return probs[0] if single else probs

    def warm_up(self) -> None:
        """Run one blank image through, so the first real prediction is not the slow one."""
        if self._model is not None:
            self.probabilities(np.zeros((28, 28), np.float32))

    def predict_array(self, image28: np.ndarray, field: Field | None = None) -> Prediction:
        """Classify an image already in the MNIST form, as it is."""
        probs = self.probabilities(image28)
        digit = int(probs.argmax())
        return Prediction(digit, float(probs[digit]), probs, image28, field)

    def predict(
        self, image: np.ndarray | Image.Image, polarity: Polarity = "auto"
    ) -> Prediction | None:
        """Preprocess any image to the MNIST form and classify it; None when it has no ink."""
        placed = to_mnist_placed(image, polarity)
        return None if placed is None else self.predict_array(*placed)
