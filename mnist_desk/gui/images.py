"""numpy arrays <-> QImages: the pictures every view shows are made here."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def gray_image(array: np.ndarray) -> QImage:
    """float [0, 1] or uint8 (H, W) -> a Grayscale8 QImage that owns its pixels."""
    a = array if array.dtype == np.uint8 else np.clip(array * 255 + 0.5, 0, 255).astype(np.uint8)
    a = np.ascontiguousarray(a)
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def rgb_image(array: np.ndarray) -> QImage:
    """uint8 (H, W, 3) -> an RGB888 QImage that owns its pixels."""
    array = np.ascontiguousarray(array)
    h, w, _ = array.shape
    return QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def heat_image(values: np.ndarray) -> QImage:
    """values in [0, 1] -> a translucent red-to-yellow overlay."""
    v = np.clip(values, 0, 1).astype(np.float32)
    rgba = np.zeros((*v.shape, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 1] = (v * 220).astype(np.uint8)
    rgba[..., 3] = (v * 200).astype(np.uint8)
    h, w = v.shape
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def qimage_to_array(image: QImage) -> np.ndarray:
    """Any QImage -> uint8 (H, W, 4) RGBA."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    buffer = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.bytesPerLine())
    return buffer[:, : 4 * rgba.width()].reshape(rgba.height(), rgba.width(), 4).copy()
