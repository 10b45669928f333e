"""Named recipes. `seed` is the notebook's, exactly; `best` is the project's own, chosen
on a validation split of the training images (scripts/tune_best.py), never on the test set;
`fast` is `best` at batch 256 for a GPU, where a step of this small network costs about the
same for 64 images as for 256: four times fewer steps per epoch (its batch size and
learning rate were set beforehand, not tuned). A preset fills the defaults; explicit
settings override them."""

from __future__ import annotations

from mnist_desk.core.config import AugmentConfig, ModelConfig, TrainConfig

PRESETS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "seed": (ModelConfig(), TrainConfig()),
    "best": (
        ModelConfig(arch="compact", batchnorm=True),
        TrainConfig(
            epochs=15,
            batch_size=64,
            lr=0.01,
            optimizer="adamw",
            weight_decay=0.01,
            scheduler="onecycle",
            label_smoothing=0.05,
            ema=0.999,
            augment=AugmentConfig(rotation=10.0, crop_p=0.0, translate=0.08, scale=0.08, shear=5.0),
        ),
    ),
}
PRESETS["fast"] = (PRESETS["best"][0], PRESETS["best"][1].replace(batch_size=256, lr=0.02))
LABELS = {
    "seed": "Seed: the notebook's recipe",
    "best": "Best: the project's recipe",
    "fast": "Fast: best at batch 256 (GPU)",
}
DESCRIPTIONS = {
    "seed": "The notebook's CNN and recipe: 24,210 parameters, Adam, 5 epochs",
    "best": "Compact CNN (BatchNorm, pooling head), AdamW + OneCycle, weight averaging, 15 epochs",
    "fast": "Best at batch 256 and learning rate 0.02: four times fewer steps, for a GPU",
}


def preset(name: str) -> tuple[ModelConfig, TrainConfig]:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}") from None


def matching_preset(model: ModelConfig, train: TrainConfig) -> str | None:
    """The preset these configs are, ignoring the seed, the device and the precision;
    None if custom."""
    for name, (m, t) in PRESETS.items():
        same_run = t.replace(seed=train.seed, device=train.device, precision=train.precision)
        if m == model and same_run == train:
            return name
    return None
