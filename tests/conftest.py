"""Real MNIST is found the way the app finds it: MNIST_DESK_DATA, then the user cache,
downloading there when a network is available (.ci/run sets MNIST_DESK_DATA)."""

from __future__ import annotations

import pytest

from mnist_desk.core.data import MNIST, load_mnist
from tests.helpers import subset


@pytest.fixture(scope="session")
def mnist() -> MNIST:
    return load_mnist()


@pytest.fixture(scope="session")
def small_mnist(mnist: MNIST) -> MNIST:
    """12,000 training and 2,000 test images: enough for a one-epoch accuracy floor."""
    return subset(mnist, 12000, 2000)
