from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import torch

from mnist_desk.core import files as files_mod
from mnist_desk.core.checkpoint import (
    FORMAT,
    SCHEMA_VERSION,
    Checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from mnist_desk.core.config import ModelConfig, TrainConfig
from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import CheckpointError
from mnist_desk.core.model import build_model
from mnist_desk.core.training import Trainer
from tests.helpers import subset


def _checkpoint(cfg: ModelConfig | None = None, name: str = "m") -> Checkpoint:
    cfg = cfg or ModelConfig()
    torch.manual_seed(0)
    return Checkpoint(cfg, build_model(cfg).state_dict(), name=name)


@pytest.fixture(scope="module")
def trained(small_mnist: MNIST) -> Trainer:
    trainer = Trainer(
        ModelConfig(batchnorm=True),
        TrainConfig(epochs=1, scheduler="onecycle"),
        subset(small_mnist, 640, 200),
    )
    trainer.run()
    return trainer


def test_round_trip_keeps_everything(trained: Trainer, tmp_path: Path) -> None:
    path = save_checkpoint(trained.to_checkpoint("my run"), tmp_path / "a.pt")
    loaded = load_checkpoint(path)
    assert loaded.name == "my run"
    assert loaded.model_config == trained.model_config
    assert loaded.train_config == trained.config
    assert loaded.history == tuple(trained.history)
    assert loaded.test_metrics is not None and loaded.test_acc == trained.history[-1].test_acc
    assert loaded.optimizer_state is not None and loaded.scheduler_state is not None
    assert loaded.versions["torch"] == torch.__version__ and loaded.created
    model = loaded.build_model()
    for k, v in trained.model.state_dict().items():
        assert torch.equal(model.state_dict()[k], v.cpu()), k
    x = torch.randn(4, 1, 28, 28)
    trained.model.eval()
    device = next(trained.model.parameters()).device  # a GPU where there is one
    torch.testing.assert_close(model(x), trained.model(x.to(device)).cpu())


def test_optimizer_state_can_resume(trained: Trainer, tmp_path: Path) -> None:
    loaded = load_checkpoint(save_checkpoint(trained.to_checkpoint("r"), tmp_path / "r.pt"))
    model = loaded.build_model()
    optimizer = torch.optim.Adam(model.parameters())
    optimizer.load_state_dict(loaded.optimizer_state)  # type: ignore[arg-type]
    assert optimizer.state_dict()["state"]


def test_failed_save_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_checkpoint(_checkpoint(name="old"), tmp_path / "m.pt")
    before = path.read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files_mod.os, "fsync", full_disk)  # half written, then the disk fills
    with pytest.raises(CheckpointError, match=r"cannot save .*m\.pt: the disk is full$"):
        save_checkpoint(_checkpoint(name="new"), path)
    assert path.read_bytes() == before
    assert load_checkpoint(path).name == "old"
    assert os.listdir(tmp_path) == ["m.pt"]  # no temporary file left behind


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


def test_pickle_that_would_run_code_is_refused_unrun(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = _checkpoint().to_payload()
    payload["name"] = _Exploit(marker)
    path = tmp_path / "evil.pt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="would run code"):
        load_checkpoint(path)
    assert not marker.exists()


def test_truncated_file(tmp_path: Path) -> None:
    path = save_checkpoint(_checkpoint(), tmp_path / "t.pt")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", b"hello, I am a text file\n", os.urandom(2000)])
def test_files_that_are_not_checkpoints(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not"):
        load_checkpoint(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_other_pytorch_files_are_not_mnist_desk_checkpoints(tmp_path: Path) -> None:
    torch.save(build_model().state_dict(), tmp_path / "bare.pt")
    with pytest.raises(CheckpointError, match="bare weights"):
        load_checkpoint(tmp_path / "bare.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="not an mnist-desk checkpoint"):
        load_checkpoint(tmp_path / "list.pt")


def test_weights_of_another_architecture(tmp_path: Path) -> None:
    payload = _checkpoint(ModelConfig(batchnorm=True)).to_payload()
    payload["model_config"] = ModelConfig().to_dict()  # claims the plain seed model
    torch.save(payload, tmp_path / "a.pt")
    with pytest.raises(CheckpointError, match="another architecture"):
        load_checkpoint(tmp_path / "a.pt")

    payload = _checkpoint().to_payload()
    payload["model_state"]["head.1.weight"] = torch.zeros(10, 100)
    torch.save(payload, tmp_path / "b.pt")
    with pytest.raises(CheckpointError, match=r"head.1.weight has shape \(10, 100\)"):
        load_checkpoint(tmp_path / "b.pt")


def test_newer_schema_and_bad_config(tmp_path: Path) -> None:
    payload = _checkpoint().to_payload()
    payload["schema_version"] = SCHEMA_VERSION + 1
    torch.save(payload, tmp_path / "new.pt")
    with pytest.raises(CheckpointError, match="newer mnist-desk"):
        load_checkpoint(tmp_path / "new.pt")
    payload = _checkpoint().to_payload()
    payload["model_config"] = {"arch": "transformer"}
    torch.save(payload, tmp_path / "cfg.pt")
    with pytest.raises(CheckpointError, match="invalid configuration"):
        load_checkpoint(tmp_path / "cfg.pt")
    payload = _checkpoint().to_payload()
    del payload["model_state"]
    torch.save(payload, tmp_path / "inc.pt")
    with pytest.raises(CheckpointError, match="lacks model_state"):
        load_checkpoint(tmp_path / "inc.pt")


def test_non_finite_weights_are_refused(tmp_path: Path) -> None:
    payload = _checkpoint().to_payload()
    payload["model_state"]["features.0.bias"][0] = float("nan")
    torch.save(payload, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match="non-finite"):
        load_checkpoint(tmp_path / "nan.pt")


def test_loads_from_bytes() -> None:
    import io

    buffer = io.BytesIO()
    torch.save(_checkpoint(name="mem").to_payload(), buffer)
    assert load_checkpoint(buffer.getvalue()).name == "mem"
    assert _checkpoint().to_payload()["format"] == FORMAT
