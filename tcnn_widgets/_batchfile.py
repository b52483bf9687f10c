"""The ``out=`` file of a batch: finished units on disk as they arrive, crash-safe, resumable.

Layout, for ``out = "layer.npz"``:

- ``layer.npz``: an ordinary `.npz` (no pickle) in the format of
  :func:`tcnn_widgets.save_results` (``count``, ``unit{j}.<field>``), holding the
  finished units in input order, plus the batch header ``batch.index`` (the input
  index of each stored unit), ``batch.total``, ``batch.seed``, ``batch.settings``
  (JSON) and ``batch.units`` (SHA-256 of the pickled unit list). It is only ever
  replaced whole (written beside it, synced, renamed), so it is always loadable.
- ``layer.npz.parts/``: while a batch runs, each finished unit is written there at
  once as its own atomic file (``unit000012.npz``), with the header in
  ``header.npz``. A crash loses nothing finished; the next run with the same ``out``
  folds the parts into ``layer.npz`` and removes the folder.

Folding rewrites the whole file once per batch (and on Ctrl-C), streaming one unit
at a time, so the parent's memory does not grow with the number of units.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np

from ._storage import atomic_path, load_npz, save_npz_atomic

HEADER = {
    "batch.total": "i",
    "batch.seed": "i",
    "batch.settings": "U",
    "batch.units": "U",
}


def parts_folder(path: Path) -> Path:
    """The folder of finished units not yet folded into ``path``."""
    return path.with_name(path.name + ".parts")


def read_header(path: Path) -> dict[str, np.ndarray] | None:
    """The header of an existing batch file or of its parts folder, else None.

    Reads only the header's arrays, not the units.
    """
    for source in (parts_folder(path) / "header.npz", path):
        if not source.is_file():
            continue
        if not zipfile.is_zipfile(source):
            raise ValueError(
                f"out={str(path)!r} exists but is not a readable .npz file; give another out= "
                "or delete it"
            )
        with np.load(source, allow_pickle=False) as data:
            if not set(HEADER) <= set(data.files):
                raise ValueError(
                    f"out={str(path)!r} exists but was not written by a batch analysis "
                    "(no batch header); give another out= or delete it"
                )
            return {key: data[key] for key in HEADER}
    return None


def check_header(path: Path, stored: dict[str, np.ndarray], wanted: dict[str, np.ndarray]) -> None:
    """Raise a ValueError naming what differs between a file's batch and this one."""
    old_settings = json.loads(stored["batch.settings"].item())
    new_settings = json.loads(wanted["batch.settings"].item())
    changed = {
        key: (old_settings.get(key), new_settings.get(key))
        for key in sorted(set(old_settings) | set(new_settings))
        if old_settings.get(key) != new_settings.get(key)
    }
    differences = {
        "number of units": (int(stored["batch.total"]), int(wanted["batch.total"])),
        "seed": (int(stored["batch.seed"]), int(wanted["batch.seed"])),
        "settings": changed or None,
        "units (their pickled content differs)": (
            stored["batch.units"].item()[:12],
            wanted["batch.units"].item()[:12],
        ),
    }
    for what, values in differences.items():
        if what == "settings":
            if not changed:
                continue
            detail = ", ".join(f"{k} stored {a!r}, now {b!r}" for k, (a, b) in changed.items())
        elif values[0] == values[1]:
            continue
        else:
            detail = f"stored {values[0]!r}, now {values[1]!r}"
        raise ValueError(
            f"out={str(path)!r} holds a batch with other {what}: {detail}. Resuming needs "
            "the same units, seed and settings; give another out= or delete the file (and "
            f"its {parts_folder(path).name} folder)"
        )


class BatchFile:
    """Finished units of one batch, streamed to ``path`` (see the module docstring).

    Parameters
    ----------
    path : Path
        The `.npz` file; its folder exists.
    header : dict of str to ndarray
        ``batch.total``, ``batch.seed``, ``batch.settings``, ``batch.units``.
    fold_every : float
        Seconds between folds by :meth:`fold_if_due` (at least 10 times the
        duration of the last fold).

    Raises
    ------
    ValueError
        When ``path`` holds a batch with other units, seed or settings.
    """

    def __init__(self, path: Path, header: dict[str, np.ndarray], fold_every: float = 60.0) -> None:
        self.fold_every = fold_every
        self._next_fold = time.monotonic() + fold_every
        self.path = Path(path)
        self.parts = parts_folder(self.path)
        self.header = header
        stored = read_header(self.path)
        if stored is not None:
            check_header(self.path, stored, header)
        self.parts.mkdir(exist_ok=True)
        if not (self.parts / "header.npz").is_file():
            save_npz_atomic(self.parts / "header.npz", header)

    def _part(self, index: int) -> Path:
        return self.parts / f"unit{index:06d}.npz"

    def _folded(self) -> np.ndarray:
        """Input indices stored in the folded file (empty when there is none)."""
        if not self.path.is_file():
            return np.zeros(0, dtype=np.int64)
        with np.load(self.path, allow_pickle=False) as data:
            return np.asarray(data["batch.index"]) if "batch.index" in data else np.zeros(0, int)

    def done(self) -> set[int]:
        """Input indices of the units already stored (folded or in parts)."""
        found = {int(i) for i in self._folded()}
        for part in self.parts.glob("unit*.npz"):
            found.add(int(part.stem[4:]))
        return found

    def add(self, index: int, arrays: dict[str, np.ndarray]) -> None:
        """Store one finished unit at once, atomically."""
        save_npz_atomic(self._part(index), arrays)

    def fold(self) -> None:
        """Rewrite ``path`` with every stored unit in input order; remove the parts.

        Streams one unit at a time. The result depends only on the stored units, not
        on the order they finished in, so an interrupted and resumed batch ends with
        the same bytes as an uninterrupted one.
        """
        folded = {int(i): j for j, i in enumerate(self._folded())}
        indices = sorted(self.done())
        old = np.load(self.path, allow_pickle=False) if folded else None
        fields: dict[str, list[str]] = {}  # "unit{j}." -> its keys in the old file
        for key in old.files if old is not None else ():
            if key.startswith("unit"):
                prefix, _, _ = key.partition(".")
                fields.setdefault(prefix + ".", []).append(key)
        try:
            with atomic_path(self.path) as temporary:
                with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                    _write(zf, "count", np.asarray(len(indices)))
                    for j, index in enumerate(indices):
                        if index in folded:
                            prefix = f"unit{folded[index]}."
                            arrays = {k[len(prefix) :]: old[k] for k in fields[prefix]}
                        else:
                            arrays = load_npz(self._part(index), {})
                        for key, value in arrays.items():
                            _write(zf, f"unit{j}.{key}", value)
                    for key, value in self.header.items():
                        _write(zf, key, value)
                    _write(zf, "batch.index", np.asarray(indices, dtype=np.int64))
        finally:
            if old is not None:
                old.close()
        shutil.rmtree(self.parts)
        self.parts.mkdir()
        save_npz_atomic(self.parts / "header.npz", self.header)

    def fold_if_due(self) -> None:
        """:meth:`fold` when ``fold_every`` seconds (or 10 folds' time) have passed."""
        if time.monotonic() < self._next_fold:
            return
        start = time.monotonic()
        self.fold()
        took = time.monotonic() - start
        self._next_fold = time.monotonic() + max(self.fold_every, 10 * took)

    def close(self) -> None:
        """Remove the parts folder once everything is folded into ``path``."""
        if self.parts.is_dir() and not any(self.parts.glob("unit*.npz")):
            shutil.rmtree(self.parts)


def _write(zf: zipfile.ZipFile, key: str, value: np.ndarray) -> None:
    """One array as ``key.npy`` in an open zip, as :func:`numpy.savez` writes it."""
    with zf.open(key + ".npy", "w", force_zip64=True) as file:
        np.lib.format.write_array(file, np.asanyarray(value), allow_pickle=False)
