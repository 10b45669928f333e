from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_desk.core.checkpoint import load_checkpoint
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import TrainingError
from mnist_desk.core.finetune import (
    REHEARSAL,
    TARGETED,
    finetune,
    mistaken_for,
    mixed_data,
    split_held_out,
)
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


def test_mistaken_for_weighs_the_digits_the_samples_are_read_as() -> None:
    probabilities = np.full((3, 10), 0.01)
    probabilities[0, 1], probabilities[0, 7] = 0.3, 0.6  # a 1 read as a 7
    probabilities[1, 1], probabilities[1, 9] = 0.2, 0.7  # a 1 read as a 9
    probabilities[2, 4] = 0.9  # a 4 read as a 4: it adds little
    lean = mistaken_for(probabilities, np.array([1, 1, 4]))
    assert lean.sum() == pytest.approx(1.0)
    assert set(np.argsort(lean)[-2:]) == {7, 9}
    assert lean[4] < lean[0]  # a sample's own digit is no mistake
    assert mistaken_for(np.eye(10)[[3]], np.array([3])) == pytest.approx(np.full(10, 0.1))


def test_rehearsal_leans_towards_the_digits_mistaken_for(mnist: MNIST) -> None:
    mine = my_digits(2)
    lean = np.zeros(10)
    lean[[7, 9]] = 0.5
    leaning = mixed_data(mine, mnist, lean=lean)
    plain = mixed_data(mine, mnist)
    rehearsed = leaning.train_labels[:REHEARSAL].numpy()
    share = np.isin(rehearsed, [7, 9]).mean()
    plain_share = np.isin(plain.train_labels[:REHEARSAL].numpy(), [7, 9]).mean()
    assert plain_share == pytest.approx(0.2, abs=0.03)
    assert share == pytest.approx(TARGETED + (1 - TARGETED) * plain_share, abs=0.03)
    images = leaning.train_images[:REHEARSAL].reshape(REHEARSAL, -1)
    assert len(np.unique(images.numpy(), axis=0)) > 0.99 * REHEARSAL  # none picked twice
    yours = leaning.train_labels[REHEARSAL:].numpy()
    assert len(yours) / len(leaning.train_labels) == pytest.approx(0.25, abs=0.01)
    assert (yours == np.repeat(mine[1], len(yours) // len(mine[1]))).all()
