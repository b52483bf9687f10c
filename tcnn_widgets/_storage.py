"""Atomic `.npz` files without pickle."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np


def check_folder(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or a clear error when its folder does not exist."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist; create it first")
    return path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Write a file all or nothing, through a temporary path beside it.

    ``with atomic_path(path) as temporary:`` write ``temporary`` (with any program);
    when the block ends without error the file is synced to disk and renamed over
    ``path``; on any error (or Ctrl-C) it is removed and an existing ``path`` is left
    untouched. The file gets mode 0644 (readable by all; ``mkstemp`` alone would give
    0600).

    Parameters
    ----------
    path : path-like
        Destination; its folder must exist.
    """
    path = check_folder(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        os.chmod(temporary, 0o644)
        yield Path(temporary)
        handle = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Write a file all or nothing: ``with atomic_file(path) as file: file.write(...)``.

    The file object of :func:`atomic_path`'s temporary file.

    Parameters
    ----------
    path : path-like
        Destination; its folder must exist.
    """
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        yield file


def write_bytes_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write bytes (or text, as UTF-8) to ``path`` all or nothing (see :func:`atomic_file`)."""
    with atomic_file(path) as file:
        file.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def save_npz_atomic(
    path: str | os.PathLike, arrays: dict[str, np.ndarray], *, compress: bool = False
) -> Path:
    """Write arrays to ``path`` as a `.npz` (zip-deflated with ``compress``), all or nothing.

    Parameters
    ----------
    path : path-like
        Destination; the name is used exactly as given (no ``.npz`` is appended).
    arrays : dict of str to array
        The arrays to store. Object arrays are refused.
    compress : bool
        Deflate the arrays (smaller files, slower to write).

    Returns
    -------
    Path
        The path written.
    """
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"cannot store {key!r}: object arrays need pickle")
    with atomic_file(path) as file:
        (np.savez_compressed if compress else np.savez)(file, **arrays)
    return Path(path)


def load_npz(path: str | os.PathLike, required: dict[str, str]) -> dict[str, np.ndarray]:
    """Read a `.npz` without pickle and check that the expected arrays are there.

    Parameters
    ----------
    path : path-like
        The file.
    required : dict of str to str
        Name of each array that must be present, mapped to its numpy dtype kind
        (``"f"`` float, ``"i"`` integer, ``"b"`` bool, ``"U"`` text).

    Returns
    -------
    dict of str to ndarray
        All arrays in the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {str(path)!r}")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{str(path)!r} is not a readable .npz file (not a zip archive: a .npy file, or "
            "truncated or corrupt); write it again with the package's save functions"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise ValueError(
            f"{str(path)!r} is not a readable .npz file ({error}); it may be truncated "
            "or corrupt: write it again"
        ) from None
    missing = sorted(set(required) - set(arrays))
    if missing:
        raise ValueError(f"{str(path)!r} lacks the arrays {missing}; is it the right kind of file?")
    for key, kind in required.items():
        if arrays[key].dtype.kind not in kind:
            raise ValueError(
                f"{str(path)!r}: array {key!r} has dtype {arrays[key].dtype}, expected kind {kind!r}"
            )
    return arrays
