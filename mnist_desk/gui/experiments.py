"""Help > Experiments to Try: short guided experiments, each set up with one click (the
Train form filled, the right tab shown) and saying what to look at."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.presets import preset


@dataclass(frozen=True)
class Experiment:
    key: str
    title: str
    question: str
    steps: str  # what to do once it is set up
    look_at: str
    tab: str  # the tab it opens: "train", "explore", "network", "draw", or "one-by-one"
    # (the 1×1 question's own window)
    page: str = ""  # the Explore tab's page, where it opens that tab

    def configs(self) -> tuple[ModelConfig, TrainConfig] | None:
        """The Train form's settings it sets up (None: it leaves them as they are)."""
        return SETUPS.get(self.key)


def _without_augmentation() -> tuple[ModelConfig, TrainConfig]:
    model, train = preset("seed")
    return model, train.replace(
        augment=dataclasses.replace(train.augment, rotation=0.0, crop_p=0.0)
    )


def _lr(lr: float) -> tuple[ModelConfig, TrainConfig]:
    model, train = preset("seed")
    return model, train.replace(lr=lr)


def _best_epochs(epochs: int) -> tuple[ModelConfig, TrainConfig]:
    model, train = preset("best")
    return model, train.replace(epochs=epochs)


def _batch(size: int) -> tuple[ModelConfig, TrainConfig]:
    model, train = preset("seed")
    return model, train.replace(batch_size=size, epochs=2)


SETUPS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "augmentation": _without_augmentation(),
    "learning-rate": _lr(0.1),
    "one-epoch": _best_epochs(1),
    "batch": _batch(2048),
}

EXPERIMENTS = [
    Experiment(
        "augmentation",
        "Why does augmentation help?",
        "The seed recipe turns every training digit by up to ±15°. Does that matter?",
        "The Train form now holds the seed recipe with rotation and zoom switched off. "
        "Train it (Ctrl+T), then train the plain seed recipe too. In Explore › Robustness "
        "add both runs (Add Run…), choose Rotation and press Measure. Or let Explore › "
        "Robustness › Why Augmentation Helps… train both, three seeds each, and compare.",
        "Both read the plain test set about equally well (98.9% and 98.6% here, means of "
        "three seeds); turned by 45°, the one trained with augmentation still reads 71% "
        "and the one without 57%. Try Thickness too: the augmentation never changed the "
        "strokes' width, and there the two differ little.",
        "train",
    ),
    Experiment(
        "learning-rate",
        "A learning rate of 0.1",
        "What happens when each step moves the weights fifty times further?",
        "The seed recipe, with Adam's learning rate at 0.1 instead of 0.002, is in the "
        "Train form. Train it and watch the curves.",
        "Here the loss shot up in the first batches and the network never recovered: "
        "10% test accuracy after two epochs, the score of guessing, against 98% for the "
        "usual rate. Too large a step overshoots every valley. Compare the runs in the "
        "Runs tab, then try 0.01.",
        "train",
    ),
    Experiment(
        "one-epoch",
        "One epoch against fifteen: the map",
        "How does the network's view of the digits change as it trains?",
        "The best recipe with a single epoch is in the Train form. Train it; then in "
        "Explore › Feature map make the map of the last ReLU. Then train the full best "
        "recipe (15 epochs) and make the map again.",
        "Do the ten digits already form clusters after one epoch? Where do the mistakes "
        "(×) sit? Compare the two maps, and the map of the pixels (Input), which shows "
        "how much the raw images alone separate the digits.",
        "train",
    ),
    Experiment(
        "batch",
        "A batch of 2,048",
        "Why do most recipes use small batches?",
        "The seed recipe with batches of 2,048 images for two epochs is in the Train form. "
        "Train it and compare its curves with a run at batch 64 in the Runs tab.",
        "Each epoch has 30 steps instead of 938. Here it reached 86.6% after one epoch and "
        "93.6% after two, where batches of 64 reach 97–98% after one: at the same "
        "learning rate, fewer and larger steps learn less per pass over the data.",
        "train",
    ),
    Experiment(
        "one-by-one",
        "What are the seed CNN's 1×1 convolutions for?",
        "The seed CNN has three 1×1 convolutions between its 3×3 layers. Would it read "
        "as well without them?",
        "A window opens with the experiment and what a 1×1 convolution does: press Run "
        "the Experiment. It trains the seed CNN as it is and without its 1×1 "
        "convolutions, three seeds each (about four minutes on a laptop's CPU, every run "
        "kept), and shows their accuracy, parameters and curves side by side. To train "
        "either yourself, untick “1×1 convolutions” in the Train form; the Network tab "
        "shows the layers of the current model.",
        "Here both read the test set equally well within the seeds' spread (see the "
        "table): with no ReLU after them the 1×1 convolutions fold into the 3×3 layer "
        "that follows, so they add no power. The compact CNN uses a 1×1 convolution "
        "where it counts, at the end: 64 channels to 10 digit scores for 650 weights, "
        "where the seed CNN's Linear layer spends 15,690.",
        "one-by-one",
    ),
    Experiment(
        "abstain",
        "When should it say it is unsure?",
        "How much does the network gain by refusing to answer when in doubt?",
        "Explore › Answer or abstain is open. Drag the dashed line to 0.9, then draw "
        "ambiguous digits (a 1 that could be a 7, a 4 that could be a 9).",
        "At 0.9 it still answers about 95% of the test images and makes a tenth of the "
        "mistakes per answer; on the Draw tab many more of your odd digits say unsure. "
        "The Default button puts back the threshold chosen for telling letters and "
        "scribbles from digits.",
        "explore",
        "abstain",
    ),
]

BY_KEY = {e.key: e for e in EXPERIMENTS}


def page_html() -> str:
    """The Help page: each experiment with its question, a link that sets it up, what to
    do and what to look at."""
    parts = [
        "<h2>Experiments to try</h2><p>Each one is set up with one click: the Train form "
        "filled in and the right tab shown. Nothing starts by itself, and the model you "
        "have stays current until you train.</p>"
    ]
    for e in EXPERIMENTS:
        parts.append(
            f"<h3>{e.title}</h3><p><i>{e.question}</i></p>"
            f'<p><a href="experiment:{e.key}">Set it up</a> — {e.steps}</p>'
            f"<p><b>What to look at:</b> {e.look_at}</p>"
        )
    return "".join(parts)
