"""Real MNIST is found the way the app finds it: MNIST_DESK_DATA, then the user cache,
downloading there when a network is available (.ci/run sets MNIST_DESK_DATA)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mnist_desk.core.data import MNIST, load_mnist
from mnist_desk.core.runs import RUNS_VAR
from tests.helpers import subset


@pytest.fixture(scope="session", autouse=True)
def isolated_runs_library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Runs recorded by the tests (and by the command lines they start) go to a temporary
    library, never to the user's."""
    folder = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(RUNS_VAR, str(folder))
        yield folder


@pytest.fixture(scope="session")
def mnist() -> MNIST:
    return load_mnist()


@pytest.fixture(scope="session")
def small_mnist(mnist: MNIST) -> MNIST:
    """12,000 training and 2,000 test images: enough for a one-epoch accuracy floor."""
    return subset(mnist, 12000, 2000)
