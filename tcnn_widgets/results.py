"""`Invariances`: everything the analysis of one unit found, and how it is stored."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _validate
from ._storage import load_npz, save_npz_atomic
from .naming import describe_directions
from .pixels import interval_abs_max

_ARRAY_FIELDS = {
    "stimulus": "f",
    "curvatures": "f",
    "directions": "f",
    "groups": "i",
    "video_ranges": "f",
    "geodesic_angles": "f",
    "geodesic_activations": "f",
    "start_activations": "f",
}
# stored in single precision with precision="float32" (display data, not the result's core)
_SINGLE_PRECISION_FIELDS = {"directions", "geodesic_activations", "hessian", "label_fractions"}
# absent from files written before they existed, or when there is nothing to store
_OPTIONAL_ARRAY_FIELDS = {
    "labels": "U",
    "label_fractions": "f",
    "label_centres": "f",
    "hessian": "f",
    "ends_tied": "b",
}
_OPTIONAL_SCALAR_FIELDS = {
    "fd_step": float,
    "degeneracy_tol": float,
    "method": str,
    "hvp_count": int,
    "complete": bool,
}
_SCALAR_FIELDS = {
    "activation": "f",
    "mu": "f",
    "radius": "f",
    "threshold": "f",
    "residual": "f",
    "hessian_asymmetry": "f",
    "hessian_method": "U",
    "seed": "i",
    "is_maximum": "b",
    "name": "U",
}


@dataclass(repr=False)
class Invariances:
    """The optimal stimulus of a unit and its invariances (docs/method.md §4–§7).

    The kept tangent directions are sorted **most invariant first** (curvature closest
    to zero first); the last is the least invariant one. A complete result keeps all
    ``m = n - 1`` directions (n the number of stimulus entries). A matrix-free result
    keeps the k most and the k least invariant ones, ``m = 2k``, in the same order: the
    first k from the most invariant end, the last k from the least invariant end.

    Attributes
    ----------
    stimulus : ndarray, shape (h, w) or (c, h, w)
        The optimal stimulus x*, with ``||x*|| = radius`` over all entries; channels
        come first.
    activation : float
        g(x*).
    mu : float
        Lagrange multiplier ``x*^T grad g(x*) / radius^2``.
    radius : float
        Norm of the sphere searched.
    curvatures : ndarray, shape (m,)
        ``nu_i = eig_i(B^T H B) - mu``, in descending order (most invariant first).
    directions : ndarray, shape (m, *stimulus.shape)
        Unit tangent directions ``w_i`` (``w_i . x* = 0``), one per curvature.
    groups : ndarray of int, shape (m,)
        Degenerate-group index of each direction; directions with the same index
        have equal curvature (within the analysis tolerance) and only their span is
        meaningful. Groups are numbered 0, 1, ... in rank order.
    video_ranges : ndarray, shape (m, 2)
        ``[a, b]``: the first angles either side of 0 at which the activation along
        the geodesic falls below :attr:`video_level` (clipped to the search range
        when it never does).
    threshold : float
        The fraction ``c`` used for the video ranges.
    geodesic_angles : ndarray, shape (G,)
        Angle grid on which the activation along each geodesic was evaluated.
    geodesic_activations : ndarray, shape (m, G)
        The real activation g(x(t)) along each direction's geodesic.
    hessian : ndarray, shape (n, n), or None
        The symmetrized Hessian at x*; None when none was formed (matrix-free).
    residual : float
        Convergence residual ``||grad g(x*) - mu x*||``.
    start_activations : ndarray, shape (restarts,)
        Best activation reached from each random start.
    hessian_asymmetry : float
        ``||H - H^T|| / ||H||`` before symmetrization (0 for exact Hessians).
    hessian_method : str
        ``"fd"``, ``"exact"`` or ``"callable"``.
    seed : int
        The seed that reproduces this result.
    is_maximum : bool
        False when some curvature is positive: x* is then not a local maximum.
    name : str
        A human-readable name of the unit, e.g. ``"map 3, row 0, col 1"``.
    labels : ndarray of str, shape (m,)
        Each direction named "translation", "rotation", "scale" or "other"
        (docs/method.md section 9, :func:`tcnn_widgets.naming.describe_directions`),
        independently of where the pattern sits; computed from the stimulus and
        directions when not given.
    label_fractions : ndarray, shape (m, 3)
        The parts of each direction's energy explained by translation, rotation and
        scale; they partition the explained energy (each row sums to at most 1).
    label_centres : ndarray, shape (m, 2)
        ``(row, column)`` in pixels of the centre of each direction's rotation or
        scaling; NaN for directions not named "rotation" or "scale".
    fd_step, degeneracy_tol : float
        The analysis settings of the same names (see :func:`tcnn_widgets.analyze`);
        the others are ``radius``, ``threshold``, ``hessian_method``, ``seed``, the
        number of starts (``len(start_activations)``) and the angle grid.
    method : str
        ``"dense"`` (the Hessian was formed and fully diagonalized) or
        ``"matrix-free"`` (only Hessian-vector products, block Lanczos for the two ends).
    hvp_count : int
        Hessian-vector products the curvature analysis took (for a dense Hessian from
        finite differences, its n columns).
    complete : bool
        True when all n - 1 tangent directions are kept.
    ends_tied : ndarray of bool, shape (2,)
        For [most invariant end, least invariant end]: True when that end of the kept
        set is one degenerate cluster that may extend beyond the kept directions, so
        that its size is only known to be at least what was kept (matrix-free results),
        and no single direction of it is "the" most or least invariant one.
    """

    stimulus: np.ndarray
    activation: float
    mu: float
    radius: float
    curvatures: np.ndarray
    directions: np.ndarray
    groups: np.ndarray
    video_ranges: np.ndarray
    threshold: float
    geodesic_angles: np.ndarray
    geodesic_activations: np.ndarray
    hessian: np.ndarray | None
    residual: float
    start_activations: np.ndarray
    hessian_asymmetry: float
    hessian_method: str
    seed: int
    is_maximum: bool
    name: str = ""
    labels: np.ndarray | None = None
    label_fractions: np.ndarray | None = None
    label_centres: np.ndarray | None = None
    fd_step: float = 1e-5
    degeneracy_tol: float = 1e-6
    method: str = "dense"
    hvp_count: int = 0
    complete: bool = True
    ends_tied: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(2, dtype=bool))

    def __post_init__(self) -> None:
        self.ends_tied = np.asarray(self.ends_tied, dtype=bool)
        self.check()

    def check(self, where: str = "Invariances") -> None:
        """Raise a ValueError naming the first field whose shape or value is impossible.

        Run on construction, before saving and after loading, so that no result that
        cannot be shown, saved or loaded again exists.

        Parameters
        ----------
        where : str
            How to name this result in the message, e.g. ``"results[3]"``.
        """
        self.check_shapes(where)
        for field in (
            "stimulus",
            "curvatures",
            "directions",
            "video_ranges",
            "geodesic_angles",
            "geodesic_activations",
            "start_activations",
        ):
            if not np.all(np.isfinite(getattr(self, field))):
                raise ValueError(f"{where}.{field} contains NaN or infinite values")
        for field in ("activation", "mu", "residual", "hessian_asymmetry"):
            if not np.isfinite(getattr(self, field)):
                raise ValueError(f"{where}.{field} is not finite: {getattr(self, field)!r}")
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"{where}.radius must be a positive number, got {self.radius!r}")
        norm = float(np.linalg.norm(self.stimulus))
        if not abs(norm - self.radius) <= 1e-6 * self.radius:
            raise ValueError(
                f"{where}.stimulus has norm {norm:.6g}, not the radius {self.radius:.6g}"
            )
        if not 0 < self.threshold < 1:
            raise ValueError(f"{where}.threshold must be in (0, 1), got {self.threshold!r}")
        a, b = self.video_ranges[:, 0], self.video_ranges[:, 1]
        if np.any(a > 0) or np.any(b < 0):
            raise ValueError(f"{where}.video_ranges must hold [a, b] with a <= 0 <= b")
        if self.method not in ("dense", "matrix-free"):
            raise ValueError(
                f"{where}.method must be 'dense' or 'matrix-free', got {self.method!r}"
            )
        if self.complete != (self.n_directions == self.stimulus.size - 1):
            raise ValueError(
                f"{where}.complete is {self.complete} but {self.n_directions} of "
                f"{self.stimulus.size - 1} directions are kept"
            )

    def check_shapes(self, where: str = "Invariances") -> None:
        """Raise a ValueError naming the first array that does not fit the stimulus.

        Parameters
        ----------
        where : str
            How to name this result in the message, e.g. ``"results[3]"``.
        """
        if np.ndim(self.stimulus) not in (2, 3) or np.size(self.stimulus) < 2:
            raise ValueError(
                f"{where}.stimulus must be an image (h, w) or (c, h, w) of at least 2 pixels, "
                f"has shape {np.shape(self.stimulus)}"
            )
        shape = tuple(np.shape(self.stimulus))
        n = int(np.size(self.stimulus))
        m = int(np.size(self.curvatures))
        if np.ndim(self.curvatures) != 1 or not 1 <= m <= n - 1:
            raise ValueError(
                f"{where}.curvatures must hold 1 to {n - 1} values for a stimulus of shape "
                f"{shape}, has shape {np.shape(self.curvatures)}"
            )
        expected = {
            "directions": (m, *shape),
            "groups": (m,),
            "video_ranges": (m, 2),
            "geodesic_angles": (np.size(self.geodesic_angles),),
            "geodesic_activations": (m, np.size(self.geodesic_angles)),
            "hessian": (n, n),
            "labels": (m,),
            "label_fractions": (m, 3),
            "label_centres": (m, 2),
            "ends_tied": (2,),
        }
        for field in expected:
            value = getattr(self, field)
            if value is not None and np.shape(value) != expected[field]:
                raise ValueError(
                    f"{where}.{field} has shape {np.shape(value)}, expected {expected[field]} "
                    f"for a stimulus of shape {shape} with {m} directions"
                )

    def __repr__(self) -> str:
        return (
            f"Invariances(name={self.name!r}, shape={self.shape}, activation={self.activation:.6g}, "
            f"curvatures=[{self.curvatures[0]:.4g} .. {self.curvatures[-1]:.4g}], "
            f"groups={len(np.unique(self.groups))}, is_maximum={self.is_maximum}, "
            f"residual={self.residual:.2g}, seed={self.seed})"
        )

    # ---- derived quantities ------------------------------------------------------
    @property
    def video_level(self) -> float:
        """The activation at which a video ends: ``threshold * activation`` for g* > 0."""
        return video_level(self.activation, self.threshold)

    @property
    def shape(self) -> tuple[int, ...]:
        """The stimulus shape, (h, w) or (c, h, w)."""
        return tuple(np.shape(self.stimulus))

    @property
    def n_directions(self) -> int:
        """Number of kept tangent directions: n - 1 when complete, else 2k."""
        return len(self.curvatures)

    def index(self, rank: int, order: str = "most") -> int:
        """Index into the arrays of the ``rank``-th direction in the given order.

        Parameters
        ----------
        rank : int
            0 is the first direction in that order.
        order : {"most", "least"}
            ``"most"``: most invariant first (the stored order); ``"least"``: least
            invariant first.
        """
        _validate.choice(order, "order", ("most", "least"))
        rank = _validate.integer(rank, "rank")
        if not 0 <= rank < self.n_directions:
            raise IndexError(f"rank {rank} is outside 0..{self.n_directions - 1}")
        return rank if order == "most" else self.n_directions - 1 - rank

    def frame(self, rank: int, angle: float) -> np.ndarray:
        """The stimulus ``cos(angle) x* + sin(angle) radius w_rank`` (docs/method.md §6)."""
        index = self.index(rank)
        angle = _validate.real(angle, "angle")
        return np.cos(angle) * self.stimulus + np.sin(angle) * self.radius * self.directions[index]

    def frames(self, rank: int, count: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """The invariance video of a direction: ``count`` frames across its video range.

        Returns
        -------
        angles : ndarray, shape (count,)
        frames : ndarray, shape (count, *stimulus.shape)
        """
        a, b = self.video_ranges[self.index(rank)]
        angles = np.linspace(a, b, _validate.integer(count, "count", minimum=2))
        return angles, np.stack([self.frame(rank, t) for t in angles])

    def gray_limit(self, rank: int) -> float:
        """The fixed, symmetric gray-scale limit of a direction's whole video."""
        index = self.index(rank)
        a, b = self.video_ranges[index]
        return interval_abs_max(self.stimulus, self.radius * self.directions[index], a, b)

    def gray_limits(self) -> np.ndarray:
        """:meth:`gray_limit` of every direction at once, shape (n - 1,), by rank."""
        a, b = self.video_ranges[:, 0], self.video_ranges[:, 1]
        return interval_abs_max(self.stimulus, self.radius * self.directions, a, b)

    def group_members(self, rank: int) -> np.ndarray:
        """Ranks of all directions degenerate with the given one (itself included)."""
        return np.flatnonzero(self.groups == self.groups[self.index(rank)])

    # ---- notebook display ----------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Notebook display: a PNG summary (also in static exports and on GitHub) and
        plain text; the live view is ``tw.InvarianceExplorer(result)``."""
        from .display import invariances_mimebundle  # display reads results: import on use

        return invariances_mimebundle(self)

    # ---- storage -----------------------------------------------------------------
    def to_arrays(self, prefix: str = "", precision: str = "float64") -> dict[str, np.ndarray]:
        """All fields as named numpy arrays (no objects), keys prefixed by ``prefix``.

        Parameters
        ----------
        prefix : str
            Put before every key (to store many results in one file).
        precision : {"float64", "float32"}
            ``"float32"`` stores the bulky display arrays (directions, activations along
            geodesics, the Hessian, naming fractions) in single precision, about half
            the size; the stimulus, curvatures, video ranges and scalars stay exact.
        """
        _validate.choice(precision, "precision", ("float64", "float32"))
        self.check()
        arrays = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            value = np.asarray(value)
            if precision == "float32" and f.name in _SINGLE_PRECISION_FIELDS:
                value = value.astype(np.float32)
            arrays[prefix + f.name] = value
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str = "") -> Invariances:
        """Rebuild from :meth:`to_arrays` output; checks names, kinds, shapes and values.

        Raises
        ------
        ValueError
            Naming the first missing or impossible array.
        """
        values = {}
        for field, kind in {**_ARRAY_FIELDS, **_SCALAR_FIELDS}.items():
            key = prefix + field
            if key not in arrays:
                raise ValueError(f"stored results lack {key!r}; not an Invariances file?")
            value = np.asarray(arrays[key])
            if value.dtype.kind not in kind:
                raise ValueError(f"stored {key!r} has dtype {value.dtype}, expected kind {kind!r}")
            if field in _SCALAR_FIELDS:
                if value.shape != ():
                    raise ValueError(f"stored {key!r} should be a scalar, has shape {value.shape}")
                value = value.item()
            values[field] = value
        for field, kind in _OPTIONAL_SCALAR_FIELDS.items():
            if prefix + field in arrays:
                values[field] = kind(np.asarray(arrays[prefix + field]).item())
        for field, kind in _OPTIONAL_ARRAY_FIELDS.items():
            value = arrays.get(prefix + field)
            if value is not None and np.asarray(value).dtype.kind not in kind:
                raise ValueError(
                    f"stored {prefix + field!r} has dtype {value.dtype}, expected {kind!r}"
                )
            if value is not None:
                values[field] = value
        values.setdefault("hessian", None)  # none was formed (matrix-free)
        for field, value in values.items():  # single precision loads exactly as float64
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                values[field] = value.astype(np.float64)
        if "label_centres" not in values:  # written before this naming: name again
            names = describe_directions(values["stimulus"], values["directions"])
            values["labels"] = names.labels
            values["label_fractions"] = names.fractions
            values["label_centres"] = names.centres
        try:
            return cls(**values)
        except ValueError as error:
            raise ValueError(f"stored results {prefix}: {error}") from None

    def save(self, path: str | os.PathLike, *, precision: str = "float64") -> Path:
        """Save to a compressed `.npz` file (atomic, no pickle; checked first).

        Parameters
        ----------
        path : path-like
            Destination ending in ``.npz``; its folder must exist.
        precision : {"float64", "float32"}
            See :meth:`to_arrays`.

        Example
        -------
        >>> result.save("unit.npz", precision="float32")  # doctest: +SKIP
        """
        path = _validate.output_path(path, "path", suffixes=(".npz",))
        return save_npz_atomic(path, self.to_arrays(precision=precision), compress=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Invariances:
        """Load from a file written by :meth:`save`; a clear error for anything else."""
        return cls.from_arrays(load_npz(_validate.input_path(path, "path"), {}))


def video_level(activation: float, threshold: float) -> float:
    """Where an invariance video ends: the activation fallen by ``(1 - c) |g*|``.

    That is ``c g*`` for the usual positive optimum, and stays below g* when g* < 0.

    Parameters
    ----------
    activation : float
        The optimal activation g*.
    threshold : float
        The fraction c.
    """
    return activation - (1 - threshold) * abs(activation)


STACKED = "stack."
"""Key prefix of a field stored once for all units of a results file (``stack.curvatures``:
every unit's curvatures, one row per unit)."""


def save_results(
    path: str | os.PathLike, results: Sequence[Invariances], *, precision: str = "float64"
) -> Path:
    """Save many units' results to one compressed `.npz` file (atomic, no pickle).

    A field that every unit has with the same shape is stored once, stacked
    (``stack.<field>``, one row per unit: fewer, larger arrays, which compress better
    and spare the archive's per-array overhead); the others per unit
    (``unit<i>.<field>``). :func:`load_results` reads both layouts, and files written
    before stacking. Values are stored as they are: loading gives them back exactly.

    Parameters
    ----------
    path : path-like
        Destination ending in ``.npz``; its folder must exist.
    results : sequence of Invariances
    precision : {"float64", "float32"}
        See :meth:`Invariances.to_arrays`.
    """
    path = _validate.output_path(path, "path", suffixes=(".npz",))
    units = []
    for i, result in enumerate(results):
        if not isinstance(result, Invariances):
            raise TypeError(f"results[{i}] is a {type(result).__name__}, not Invariances")
        units.append(result.to_arrays(precision=precision))
    arrays: dict[str, np.ndarray] = {"count": np.asarray(len(units))}
    for field in dict.fromkeys(key for unit in units for key in unit):
        values = [unit.get(field) for unit in units]
        if _stackable(values):
            arrays[STACKED + field] = np.stack(values)
        else:
            arrays.update({f"unit{i}.{field}": v for i, v in enumerate(values) if v is not None})
    return save_npz_atomic(path, arrays, compress=True)


def _stackable(values: list[np.ndarray | None]) -> bool:
    """Whether the units' arrays of one field can be stored as one exactly: all present,
    one shape, one dtype (text of any length, which stacking pads and loading strips)."""
    if any(v is None for v in values):
        return False
    shapes = {v.shape for v in values}
    dtypes = {v.dtype if v.dtype.kind != "U" else "U" for v in values}
    return len(shapes) == 1 and len(dtypes) == 1


def load_results(path: str | os.PathLike) -> list[Invariances]:
    """Load the list written by :func:`save_results`.

    Raises
    ------
    ValueError
        When the file's ``count`` does not match the units it holds, or a unit is
        missing or impossible.
    """
    arrays = load_npz(_validate.input_path(path, "path"), {"count": "i"})
    count = int(arrays["count"])
    for key in [key for key in arrays if key.startswith(STACKED)]:
        stacked = arrays.pop(key)
        if stacked.ndim == 0 or len(stacked) != count:
            rows = 0 if stacked.ndim == 0 else len(stacked)
            raise ValueError(
                f"{str(path)!r} says it holds {count} units but {key!r} has {rows} rows: the "
                "file was altered or is not a results file"
            )
        field = key[len(STACKED) :]
        arrays.update({f"unit{i}.{field}": stacked[i] for i in range(count)})
    stored = {key.split(".", 1)[0] for key in arrays if key.startswith("unit") and "." in key}
    if count < 0 or stored != {f"unit{i}" for i in range(count)}:
        raise ValueError(
            f"{str(path)!r} says it holds {count} units but holds {len(stored)}: the file was "
            "altered or is not a results file"
        )
    return [Invariances.from_arrays(arrays, prefix=f"unit{i}.") for i in range(count)]
