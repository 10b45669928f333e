from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_desk.core.checkpoint import load_checkpoint
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import TrainingError
from mnist_desk.core.finetune import finetune, split_held_out
from mnist_desk.core.preprocess import to_mnist

# a hand that writes ones with a long flag, sevens with a bar, fours open at the top
STYLE = {
    1: [[(90, 90), (150, 30), (150, 250)]],
    7: [[(70, 40), (210, 40), (120, 250)], [(90, 140), (190, 140)]],
    4: [[(80, 30), (70, 170), (220, 170)], [(180, 40), (180, 250)]],
}


def my_digits(n_per_digit: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit, strokes in STYLE.items():
        for _ in range(n_per_digit):
            img = Image.new("L", (280, 280), 0)
            draw = ImageDraw.Draw(img)
            for stroke in strokes:
                pts = [(x + rng.normal(0, 8), y + rng.normal(0, 8)) for x, y in stroke]
                draw.line(pts, fill=255, width=int(rng.integers(18, 30)), joint="curve")
            form = to_mnist(np.asarray(img), "light")
            assert form is not None
            images.append((form * 255).astype(np.uint8))
            labels.append(digit)
    return np.stack(images), np.asarray(labels, np.int64)


def test_held_out_split() -> None:
    train, held = split_held_out(np.arange(10))
    assert len(held) == 2 and not set(train) & set(held)
    assert len(split_held_out(np.arange(3))[1]) == 1


def test_too_few_samples_is_explained(mnist: MNIST) -> None:
    from mnist_desk.bundled import load_bundled_checkpoint

    with pytest.raises(TrainingError, match="at least"):
        finetune(load_bundled_checkpoint(), my_digits(1), mnist)


def test_finetune_keeps_mnist_and_learns_the_hand(mnist: MNIST, tmp_path: Path) -> None:
    from mnist_desk.bundled import load_bundled_checkpoint
    from mnist_desk.core.checkpoint import save_checkpoint

    base = load_bundled_checkpoint()
    tuned, report = finetune(base, my_digits(10), mnist)
    assert report.trained_on == 24 and report.held_out == 6
    assert report.mnist_after >= report.mnist_before - 0.2  # MNIST is not forgotten
    assert report.mine_after >= report.mine_before
    assert tuned.test_acc == pytest.approx(report.mnist_after)
    assert tuned.model_config == base.model_config and tuned.history == base.history
    assert "handwriting" in tuned.name and "MNIST test" in report.summary()
    path = save_checkpoint(tuned, tmp_path / "tuned.pt")
    assert load_checkpoint(path).name == tuned.name
