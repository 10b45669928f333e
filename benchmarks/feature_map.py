"""Time the Explore tab's feature map on the 10,000 test images with the bundled network:
for each layer, the features (one pass of the network) and the PCA map; then the t-SNE
map of the last ReLU, where openTSNE is installed.

    python benchmarks/feature_map.py [--no-tsne]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_desk.bundled import load_bundled_checkpoint
from mnist_desk.core.data import load_mnist
from mnist_desk.core.embedding import (
    features_and_readings,
    map_layers,
    pca_map,
    tsne_map,
)
from mnist_desk.core.errors import MnistDeskError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tsne", action="store_true")
    args = parser.parse_args()
    data = load_mnist()
    model = load_bundled_checkpoint().build_model()
    layers = map_layers(model)
    features_and_readings(model, data.test_images[:500], layers[1])  # warm-up
    print(f"{len(data.test_labels):,} test images, {load_bundled_checkpoint().name}")
    print(f"{'layer':<34} {'dims':>6} {'features':>9} {'PCA':>7}")
    for layer in layers:
        start = time.perf_counter()
        x, _ = features_and_readings(model, data.test_images, layer)
        middle = time.perf_counter()
        pca_map(x, layer)
        end = time.perf_counter()
        print(f"{layer.name:<34} {x.shape[1]:>6} {middle - start:>8.2f}s {end - middle:>6.2f}s")
    if not args.no_tsne:
        layer = layers[-2]
        x, _ = features_and_readings(model, data.test_images, layer)
        start = time.perf_counter()
        try:
            tsne_map(x, layer)
        except MnistDeskError as exc:
            print(f"t-SNE: {exc}")
            return 0
        print(f"t-SNE of {layer.name}: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
