"""Reading an image file the user hands over, whatever it is, safely.

Any mode PIL opens becomes float32 grayscale in [0, 1]: 8-bit modes by their nominal
range, 16-bit, 32-bit integer and floating-point images by the range their pixels really
span (PIL's own `convert` would clip them at 255). Where an alpha channel carries the
drawing (opaque strokes on a transparent background), the alpha is the ink.

No file costs more than a few hundred MB or a second or two: only regular files are
opened (a FIFO would block forever), images over MAX_PIXELS are refused from their header
before any pixel is decoded (JPEGs are decoded at a reduced scale instead, up to
MAX_JPEG_PIXELS: a 200-megapixel phone photo), and what is decoded is reduced to MAX_SIDE
pixels on its long side before any conversion. A progressive JPEG keeps all of its
coefficients in memory and reads them again for each of its scans, so it is held to
MAX_PROGRESSIVE_PIXELS and MAX_JPEG_SCANS (an encoder writes about ten; a file of 224 KB
that repeats one scan 3,000 times took 25 s to decode). Only the raster formats in
READ_FORMATS are decoded, all of them by PIL itself: PIL would hand an EPS file to
Ghostscript, which runs it as a program (`{ } loop` never ends). Whatever goes wrong is
one ImageError line, and neither a warning nor libtiff's own complaints reach the terminal.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from mnist_desk.core.errors import ImageError
from mnist_desk.core.text import shown

MAX_PIXELS = 25_000_000  # 5,000 x 5,000: a scan or a photo, not a bomb
MAX_JPEG_PIXELS = 16 * MAX_PIXELS  # decoded at a quarter of the width or less
MAX_PROGRESSIVE_PIXELS = 2 * MAX_PIXELS  # its coefficients: 2-6 bytes a pixel in memory
MAX_JPEG_SCANS = 100
# PIL refuses images over twice this as bombs before this module's own limits are asked;
# those limits, for every format, come right after the header and before any decoding
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS
MAX_SIDE = 2048  # what is kept of a larger image: far more than a 28x28 digit needs
MAX_FILE_BYTES = 200 * 1024 * 1024
_WIDE_MODES = ("I", "F")  # 32-bit integer and float: scaled by their real range
# what people save drawings, scans and photos as; PIL decodes each in this process (a
# JPEG from a phone opens as MPO through the JPEG plugin). Not JPEG 2000: rare, and slow
# to decode (3.5 s for 25 MP of noise here), with no reduced scale to read it at.
READ_FORMATS = (
    "PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "AVIF", "PPM", "ICO", "TGA", "PCX",
    "QOI", "SGI", "PSD", "XBM", "XPM",
)  # fmt: skip


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """The image at `path` as float32 grayscale (H, W) in [0, 1], long side <= MAX_SIDE."""
    name = shown(os.fspath(path))
    _check_regular_file(path, name)
    _quiet_libtiff()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning and friends
            with Image.open(path, formats=_formats()) as opened:
                _limit_size(opened, name)
                if isinstance(opened, JpegImagePlugin.JpegImageFile):
                    _limit_scans(path, name)
                opened.load()
                return pil_to_gray(_reduce(ImageOps.exif_transpose(opened) or opened))
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(f"{name} is far too large to be a drawing") from None
    except UnidentifiedImageError:
        raise ImageError(_not_read(path, name)) from None
    except MemoryError:
        raise ImageError(f"{name} is too large to read on this machine") from None
    except Exception as exc:  # a damaged file reaches PIL's parsers anywhere
        # mostly OSError, ValueError, SyntaxError or EOFError; but a TIFF whose offset tag
        # says "text" raised TypeError from inside load(): whatever a decoder throws on
        # a file is the file's fault, and one line
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if reason.startswith("decoder error"):  # PIL's words for a codec's failure code
            reason = "its image data is damaged"
        raise ImageError(f"{name} is not a readable image ({shown(reason)})") from None


@functools.cache
def _quiet_libtiff() -> None:
    """libtiff, which decodes PIL's compressed TIFFs, prints its own complaints about a
    damaged file to stderr ("Using code not yet in table."), apart from the error PIL
    raises: a quarter of TIFFs with a few bytes changed added such lines to the one the
    command line prints. Its handlers are set to none in the copy that PIL loaded; where
    that copy cannot be found (built into PIL itself), nothing changes."""
    import ctypes

    for lib in _loaded_libtiff():
        with contextlib.suppress(OSError, AttributeError):
            tiff = ctypes.CDLL(lib)
            tiff.TIFFSetErrorHandler(None)
            tiff.TIFFSetWarningHandler(None)


def _loaded_libtiff() -> list[str]:
    """The libtiff files this process has loaded (Linux), or those beside PIL."""
    try:
        with open("/proc/self/maps") as maps:
            found = {ln.split()[-1] for ln in maps if "/libtiff" in ln}
        return sorted(found)
    except OSError:
        import PIL

        here = Path(PIL.__file__).parent
        return [str(p) for d in (here.parent / "pillow.libs", here / ".dylibs")
                if d.is_dir() for p in sorted(d.glob("libtiff*"))]  # fmt: skip


def _formats() -> list[str]:
    """READ_FORMATS that this PIL has (AVIF depends on how it was built)."""
    Image.init()
    return [f for f in READ_FORMATS if f in Image.OPEN]


def _not_read(path: str | os.PathLike[str], name: str) -> str:
    """Why a file that no reader in READ_FORMATS took is not read: the format that PIL's
    other plugins see in its header (read, never decoded), or that it is no image at all."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as other:
                fmt = other.format or "unknown"
    except Exception:  # any failure here only means "no image PIL knows"
        return f"{name} is not a readable image (not an image PIL can read)"
    if fmt == "EPS":
        return (
            f"{name} is PostScript (EPS), a program rather than a picture, and is not run: "
            "save the drawing as PNG or JPEG"
        )
    return f"{name} is in the {fmt} format, which is not read: save the drawing as PNG or JPEG"


def _check_regular_file(path: str | os.PathLike[str], name: str) -> None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImageError(f"{name} does not exist") from None
    except OSError as exc:
        raise ImageError(f"{name} cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{name} is a folder, not an image")
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(f"{name} is not a regular file (a pipe or a device?)")
    if info.st_size > MAX_FILE_BYTES:
        raise ImageError(f"{name} is {info.st_size / 2**20:,.0f} MB: too large for an image")


def _limit_size(img: Image.Image, name: str) -> None:
    """Refuse an image over MAX_PIXELS from its header; a JPEG (or a phone's MPO) is
    decoded smaller instead, at the largest of libjpeg's scales (1/2, 1/4, 1/8) that fits."""
    w, h = img.size
    if w * h > MAX_PIXELS and isinstance(img, JpegImagePlugin.JpegImageFile):
        progressive = bool(img.info.get("progressive"))
        limit = MAX_PROGRESSIVE_PIXELS if progressive else MAX_JPEG_PIXELS
        if w * h > limit:
            kind = "progressive JPEG" if progressive else "JPEG"
            raise ImageError(
                f"{name} is {w:,}×{h:,} pixels; {kind} images up to {limit / 1e6:.0f} "
                "megapixels can be read (scale it down first)"
            )
        scale = next(s for s in (2, 4, 8) if math.ceil(w / s) * math.ceil(h / s) <= MAX_PIXELS)
        img.draft(img.mode, (math.ceil(w / scale), math.ceil(h / scale)))
        return
    if w * h > MAX_PIXELS:
        raise ImageError(
            f"{name} is {w:,}×{h:,} pixels; images up to {MAX_PIXELS / 1e6:.0f} megapixels "
            "can be read (scale it down first)"
        )
    if w == 0 or h == 0:
        raise ImageError(f"{name} has no pixels")


def _limit_scans(path: str | os.PathLike[str], name: str) -> None:
    """Refuse a JPEG of over MAX_JPEG_SCANS scans, counted as the start-of-scan markers in
    its bytes (those of an embedded thumbnail too) without decoding anything."""
    scans, tail = 0, b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            scans += (tail + chunk).count(b"\xff\xda")
            tail = chunk[-1:]  # a marker split across two chunks is counted once
            if scans > MAX_JPEG_SCANS:
                raise ImageError(
                    f"{name} is a JPEG of over {MAX_JPEG_SCANS} scans (encoders write about "
                    "ten); it is not decoded"
                )


def _reduce(img: Image.Image) -> Image.Image:
    """Long side down to MAX_SIDE by box averaging, in a mode that can be averaged."""
    if img.mode == "1":
        img = img.convert("L")
    elif img.mode in ("P", "PA"):
        img = img.convert("RGBA" if _has_alpha(img) else "RGB")
    elif img.mode.startswith("I;16"):
        img = img.convert("I")
    factor = math.ceil(max(img.size) / MAX_SIDE)
    return img.reduce(factor) if factor > 1 else img


def _has_alpha(img: Image.Image) -> bool:
    return "A" in img.getbands() or "a" in img.getbands() or "transparency" in img.info


def pil_to_gray(img: Image.Image) -> np.ndarray:
    """Any PIL image -> float32 (H, W) in [0, 1]; see the module's notes on ranges."""
    if img.mode in _WIDE_MODES or img.mode.startswith("I;16"):
        return _by_real_range(np.asarray(img, dtype=np.float64))
    if _has_alpha(img):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        if alpha.min() < 0.5 < alpha.max():
            return alpha
        return _luma(rgba[..., :3])
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def _luma(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)


def _by_real_range(values: np.ndarray) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, np.float32)
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        return np.zeros(values.shape, np.float32)
    scaled = (np.nan_to_num(values, nan=low, posinf=high, neginf=low) - low) / (high - low)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)
