from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from mnist_desk.core.data import MNIST
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.export import INPUT, export_onnx


def test_onnx_matches_pytorch_on_real_test_images(mnist: MNIST, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from mnist_desk.bundled import load_bundled_checkpoint

    checkpoint = load_bundled_checkpoint()
    path = export_onnx(checkpoint, tmp_path / "model.onnx")
    images = mnist.test_images[:200].numpy().astype(np.float32)[:, None] / 255.0
    session = ort.InferenceSession(str(path))
    onnx_probs = session.run(None, {INPUT: images})[0]
    with torch.inference_mode():
        from mnist_desk.core.augment import normalize

        torch_probs = checkpoint.build_model()(normalize(torch.from_numpy(images))).exp().numpy()
    np.testing.assert_allclose(onnx_probs, torch_probs, atol=1e-5)
    labels = mnist.test_labels[:200].numpy()
    assert (onnx_probs.argmax(1) == labels).mean() > 0.98
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["name"] == checkpoint.name


def test_missing_onnx_package_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import builtins

    from mnist_desk.bundled import load_bundled_checkpoint

    real_import = builtins.__import__

    def no_onnx(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "onnx":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(MnistDeskError, match="mnist-desk\\[onnx\\]"):
        export_onnx(load_bundled_checkpoint(), tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())
