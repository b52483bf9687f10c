"""The one validation layer: checks of arguments, arrays, shapes and paths.

Every public function checks what it is given through these helpers, so that a bad
argument gets the same clear message everywhere: it names the argument, says what
was expected and what came instead. Each helper returns the value in its canonical
form (a plain ``int``, a ``float``, a C-contiguous float64 array, a ``Path``).

``np.integer`` counts as an int and ``np.floating`` as a real number; ``bool``
counts as neither, so that ``net.unit(True, 0, 0)`` is refused rather than read as
``1`` or as a mask.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def integer(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int within ``[minimum, maximum]``, or a clear error.

    Raises
    ------
    TypeError
        For bools, floats, strings and anything else that is not an integer.
    ValueError
        When it lies outside the bounds.

    Example
    -------
    >>> integer(np.int64(3), "rank", minimum=0)
    3
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"{name} must be an int in {minimum}..{maximum}, got {value}")
    _check_bounds(value, name, minimum, maximum)
    return value


def real(
    value,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
) -> float:
    """``value`` as a finite float within the bounds, or a clear error.

    ``minimum``/``maximum`` are inclusive bounds, ``above``/``below`` exclusive ones.

    Raises
    ------
    TypeError
        For bools, strings, complex numbers and anything else that is not real.
    ValueError
        For NaN, infinities and values outside the bounds.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    _check_bounds(value, name, minimum, maximum)
    if above is not None and not value > above:
        raise ValueError(f"{name} must be > {above}, got {value!r}")
    if below is not None and not value < below:
        raise ValueError(f"{name} must be < {below}, got {value!r}")
    return value


def choice(value, name: str, options: Iterable[str]) -> str:
    """``value`` if it is one of the strings ``options``, else a clear error."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def flag(value, name: str) -> bool:
    """``value`` as a bool; only ``True``/``False`` (or numpy bools) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def array(
    value,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    dtype=np.float64,
    finite: bool = True,
) -> np.ndarray:
    """``value`` as a C-contiguous real array of ``dtype``, or a clear error.

    Parameters
    ----------
    value : array-like
    name : str
        The argument's name, for messages.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    shape : tuple, optional
        The expected shape; ``None`` entries match any length.
    dtype : numpy dtype
        The dtype returned (float64 by default).
    finite : bool
        Refuse NaN and infinities.

    Raises
    ------
    TypeError
        For complex, boolean, text or object data.
    ValueError
        For a wrong number of dimensions or shape, and for non-finite values.
    """
    a = np.asarray(value)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real-valued array, got dtype {a.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in allowed:
            wanted = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {wanted} dimensions, got shape {a.shape}")
    if shape is not None and (
        a.ndim != len(shape)
        or any(s is not None and s != t for s, t in zip(shape, a.shape, strict=False))
    ):
        wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {a.shape}")
    a = np.ascontiguousarray(a, dtype=dtype)
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def image_shape(value, name: str = "shape") -> tuple[int, ...]:
    """A stimulus shape ``(h, w)`` or ``(c, h, w)`` (channels first) of at least 2 entries.

    Raises
    ------
    TypeError
        When it is not a tuple or list of ints.
    ValueError
        For another number of dimensions, a zero or negative size, or a single entry.
    """
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a tuple (h, w) or (c, h, w), got {value!r}")
    if len(value) not in (2, 3):
        raise ValueError(
            f"{name} must be (h, w) or (c, h, w) with channels first, got {len(value)} "
            f"dimensions: {tuple(value)!r}"
        )
    sizes = tuple(integer(s, f"{name}[{i}]", minimum=1) for i, s in enumerate(value))
    if int(np.prod(sizes)) < 2:
        raise ValueError(f"a stimulus needs at least 2 entries to have invariances, got {sizes}")
    return sizes


def output_path(value, name: str, *, suffixes: tuple[str, ...] = ()) -> Path:
    """A path to write: its folder must exist, and its suffix be one of ``suffixes``.

    Checked before any work starts, so that a long job does not fail at its end.

    Raises
    ------
    TypeError
        When it is not a str or path-like.
    FileNotFoundError
        When its folder does not exist.
    ValueError
        For a wrong suffix, or a path that is an existing folder.
    """
    path = _path(value, name)
    if suffixes and path.suffix.lower() not in suffixes:
        raise ValueError(
            f"{name} must end in {' or '.join(suffixes)}, got {str(path)!r}: the file's "
            "content follows its suffix"
        )
    if path.is_dir():
        raise ValueError(f"{name} {str(path)!r} is a folder; give a file name")
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"{name}: folder {str(path.parent)!r} does not exist; create it first"
        )
    return path


def input_path(value, name: str) -> Path:
    """A path to read: it must be an existing file."""
    path = _path(value, name)
    if not path.is_file():
        raise FileNotFoundError(f"{name}: no file at {str(path)!r}")
    return path


def _path(value, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {value!r}")
    return Path(value)


def _check_bounds(value, name: str, minimum, maximum) -> None:
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
