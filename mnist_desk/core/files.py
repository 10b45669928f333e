"""Writing files so that nothing is ever half-written, and saying plainly why a write failed.

Every file the app writes (checkpoints, run records, kept digits, exports) goes through
`write_atomically`: the bytes go to a temporary file in the same folder, are flushed to
disk, get the mode a plain new file would have, and are `os.replace`d over the target, so
a crash or a full disk at any moment leaves the old file or the new one, never a broken
one. Temporary names are short (they fit the file-name limit whatever the target's name)
and carry this app's mark, so that those a killed process left behind are removed the
next time something is saved in that folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import secrets
import stat
import time
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from mnist_desk.core.text import shown

TEMP_PREFIX = ".mnist-desk-"
TEMP_SUFFIX = ".tmp"
STALE_AFTER_S = 3600.0  # older temporaries of ours are leftovers of a killed save
NAME_MAX = 255  # bytes in one file name, on every common file system

_PLAIN_WORDS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the disk is read-only",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a part of the path is a file, not a folder",
    errno.ENOENT: "the folder does not exist",
}


def plain_reason(exc: OSError) -> str:
    """An OSError in words a user can act on."""
    if exc.errno in _PLAIN_WORDS:
        return _PLAIN_WORDS[exc.errno]
    return shown(exc.strerror or str(exc) or type(exc).__name__)


def read_small_file(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`. Anything else is a ValueError
    before it is opened: a FIFO (whose read would wait forever for a writer), a device,
    a folder, or a larger file."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("not a regular file")
    if info.st_size > max_bytes:
        raise ValueError("too large")
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew since
        raise ValueError("too large")
    return data


def parse_json(text: str) -> Any:
    """json.loads, where a nesting deeper than Python's parser goes (a few thousand "[")
    is a ValueError like any other malformed JSON, not a RecursionError that nothing
    expects: files this app reads back (run records, settings, indexes) may be damaged
    or hostile."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def unpacked_size(source: str | os.PathLike[str] | IO[bytes]) -> int | None:
    """The bytes a zip archive's entries say they unpack to (checkpoints and .npz files
    are zip archives, and their readers unpack compressed entries whole into memory),
    read from its directory without unpacking anything. None where `source` is not a
    readable zip archive; a stream is left at its start."""
    try:
        with zipfile.ZipFile(source) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        if not isinstance(source, (str, os.PathLike)):
            source.seek(0)


def read_npz(
    path: str | os.PathLike[str], names: tuple[str, ...], max_bytes: int
) -> dict[str, np.ndarray]:
    """The arrays `names` of an .npz, never unpickled. Only a regular file is opened (a
    FIFO would wait for ever for a writer). Before anything is unpacked, the file and what
    its entries unpack to must be at most `max_bytes`, and each array's header must
    declare exactly the bytes its entry holds: numpy allocates what the header declares
    before it reads, and a header of 100 bytes can declare 784 TB. ValueError for a file
    that is no regular file, too large, damaged or not an .npz of these arrays (KeyError
    for a missing one), OSError where it cannot be read."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(
            "it is a folder" if stat.S_ISDIR(info.st_mode) else "it is not a regular file"
        )
    if info.st_size > max_bytes:
        raise ValueError(f"it is larger than {max_bytes / 2**30:g} GB")
    try:
        return _read_npz(path, names, max_bytes)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        # not a zip archive, a bad CRC, damaged deflate data, an unknown compression
        raise ValueError(f"it is not a readable .npz ({shown(str(exc), 80)})") from None


def _read_npz(
    path: str | os.PathLike[str], names: tuple[str, ...], max_bytes: int
) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
        if sum(sizes.values()) > max_bytes:  # np.load unpacks compressed arrays whole
            raise ValueError(f"it would unpack to more than {max_bytes / 2**30:g} GB")
        arrays = {}
        for name in names:
            entry = f"{name}.npy"
            if entry not in sizes:
                raise KeyError(name)
            with archive.open(entry) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f"{entry} is in an unknown .npy version {version}")
                declared = math.prod(shape) * dtype.itemsize
                if dtype.hasobject or declared != sizes[entry] - f.tell():
                    raise ValueError(f"{entry} is damaged (its header does not fit its data)")
            with archive.open(entry) as f:
                arrays[name] = np.lib.format.read_array(f, allow_pickle=False)
        return arrays


def check_save_target(path: str | os.PathLike[str]) -> Path:
    """Raise OSError (with a plain errno) unless a file can be written at `path`: a sane
    name within the length limit, not a folder, in a folder that exists (or can be made)
    and accepts new files. Checked before long work, so that its result is never lost."""
    target = Path(path)
    name = target.name
    if not name or name in (".", "..") or "\0" in str(path):
        raise OSError(errno.EINVAL, "not a file name")
    if len(os.fsencode(name)) > NAME_MAX:
        raise OSError(errno.ENAMETOOLONG, "the name is too long")
    if target.is_dir():
        raise OSError(errno.EISDIR, "it is a folder")
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f"{TEMP_PREFIX}probe-{secrets.token_hex(4)}{TEMP_SUFFIX}"
    with open(probe, "wb"):
        pass  # os.access is not enough: root, read-only mounts and ACLs disagree with it
    probe.unlink()
    return target


def remove_stale_temporaries(folder: Path, older_than_s: float = STALE_AFTER_S) -> int:
    """Remove this app's temporary files in `folder` left by a killed save; return how many."""
    removed = 0
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX)):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > older_than_s:
                    os.unlink(entry.path)
                    removed += 1
    return removed


def new_file_mode(path: Path) -> int:
    """The mode the file had, or the one a plain new file gets (mkstemp's is owner-only)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` all at once or not at all (see the module's notes); raise
    OSError as the system does."""
    target = Path(path)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    temporary = folder / f"{TEMP_PREFIX}{secrets.token_hex(6)}{TEMP_SUFFIX}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, new_file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target
