"""The ``out=`` file of a batch: finished units on disk as they arrive, crash-safe, resumable.

Layout, for ``out = "layer.npz"``:

- ``layer.npz``: an ordinary `.npz` (a zip of ``.npy`` entries, no pickle, not
  compressed) in the format of :func:`tcnn_widgets.save_results` (``count``,
  ``unit{j}.<field>``), so :func:`numpy.load` and :func:`tcnn_widgets.load_results`
  read it. It holds the finished units in input order, then the batch header:
  ``batch.index`` (the input index of each stored unit), ``batch.offsets`` (the
  byte offset where the entries of each stored unit start, and one more: where
  the header starts), ``batch.total``, ``batch.seed``, ``batch.settings`` (JSON)
  and ``batch.units`` (SHA-256 of the pickled unit list). The zip's closing record
  carries a fixed-length comment, ``tcnn_widgets batch format 2, header at
  <20 digits>``, giving the header's byte offset. Readers of this module use it and
  ``batch.offsets`` to reach one unit directly, so they never hold the zip's table
  of contents (one entry per array per unit, about 20 KB a unit in Python) in
  memory: reading, resuming and rewriting take the same memory for ten units or
  ten thousand. The file is only ever replaced whole (written beside it, synced,
  renamed), so it is always loadable.
- ``layer.npz.parts/``: while a batch runs, each finished unit is written there at
  once as its own atomic file (``unit000012.npz``), with the header in
  ``header.npz``. A crash loses nothing finished; the next run with the same ``out``
  folds the parts into ``layer.npz`` and removes the folder.

Format 1 (written before the header comment existed: the same arrays, no
``batch.offsets``) is still read and resumed, through :func:`numpy.load` (whose
table of contents is then held in memory); the next fold writes format 2.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ._storage import atomic_path, load_npz, save_npz_atomic

HEADER = {
    "batch.total": "i",
    "batch.seed": "i",
    "batch.settings": "U",
    "batch.units": "U",
}
FORMAT = 2
COMMENT = b"tcnn_widgets batch format 2, header at "  # + 20 digits
COMMENT_SIZE = len(COMMENT) + 20

# zip records (PKWARE APPNOTE 6.3): every entry stored (not compressed), with zip64
# sizes and offsets, dated 1980-01-01 00:00 so that equal arrays give equal bytes
LOCAL = struct.Struct("<IHHHHHIIIHH")  # local file header, then name and extra
LOCAL_EXTRA = struct.Struct("<HHQQ")  # zip64: uncompressed and compressed size
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # central directory entry
CENTRAL_EXTRA = struct.Struct("<HHQQQ")  # zip64: sizes and local header offset
END64 = struct.Struct("<IQHHIIQQQQ")  # zip64 end of central directory
LOCATOR = struct.Struct("<IIQI")  # zip64 end of central directory locator
END = struct.Struct("<IHHHHIIH")  # end of central directory, then the comment
LOCAL_SIGNATURE, CENTRAL_SIGNATURE = 0x04034B50, 0x02014B50
VERSION, DATE, FULL = 45, 0x21, 0xFFFFFFFF


def parts_folder(path: Path) -> Path:
    """The folder of finished units not yet folded into ``path``."""
    return path.with_name(path.name + ".parts")


def read_table(path: Path) -> dict[str, np.ndarray] | None:
    """The batch header of a format-2 file (with ``batch.index`` and ``batch.offsets``).

    Reads only the header's entries. None for a file of another format.

    Raises
    ------
    ValueError
        When the file claims format 2 but its header is damaged.
    """
    with open(path, "rb") as file:
        size = file.seek(0, 2)
        if size < END.size + COMMENT_SIZE:
            return None
        file.seek(size - END.size - COMMENT_SIZE)
        end = file.read(END.size + COMMENT_SIZE)
        if struct.unpack_from("<I", end)[0] != 0x06054B50:
            return None
        comment = end[END.size :]
        if not comment.startswith(COMMENT) or not comment[len(COMMENT) :].isdigit():
            return None
        file.seek(int(comment[len(COMMENT) :]))
        table = dict(_entries(file))
    missing = {*HEADER, "batch.index", "batch.offsets"} - set(table)
    if missing:
        raise ValueError(f"{str(path)!r}: damaged batch header (no {sorted(missing)})")
    return table


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
        table = read_table(source) if source == path else None
        if table is not None:
            return {key: table[key] for key in HEADER}
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


class StoredUnits:
    """Read access to the units of a batch file, one at a time, in file order.

    Format 2 reads a unit's entries directly at its offset; format 1 goes through
    :func:`numpy.load`. Use as a context manager.

    Parameters
    ----------
    path : Path
        A batch file (format 1 or 2).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._table = read_table(path)
        if self._table is not None:
            self.index = np.asarray(self._table["batch.index"])
            self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        else:
            self._file = np.load(path, allow_pickle=False)
            if "batch.index" not in self._file:
                self._file.close()
                raise ValueError(f"{str(path)!r} is not a batch file (no 'batch.index')")
            self.index = np.asarray(self._file["batch.index"])
        self.total = int(self.header()["batch.total"])

    def header(self) -> dict[str, np.ndarray]:
        """``batch.total``, ``batch.seed``, ``batch.settings``, ``batch.units``."""
        source = self._table if self._table is not None else self._file
        return {key: np.asarray(source[key]) for key in HEADER}

    def __len__(self) -> int:
        return len(self.index)

    def arrays(self, position: int) -> dict[str, np.ndarray]:
        """The arrays of the unit stored at ``position``, keys without their prefix."""
        prefix = f"unit{position}."
        if self._table is None:
            keys = [k for k in self._file.files if k.startswith(prefix)]
            return {k[len(prefix) :]: self._file[k] for k in keys}
        offsets = self._table["batch.offsets"]
        self._file.seek(int(offsets[position]))
        found = {}
        for key, value in _entries(self._file, stop=int(offsets[position + 1])):
            if not key.startswith(prefix):
                raise ValueError(f"{str(self.path)!r}: entry {key!r} where {prefix} was expected")
            found[key[len(prefix) :]] = value
        return found

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> StoredUnits:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
        with StoredUnits(self.path) as stored:
            return stored.index

    def done(self) -> np.ndarray:
        """Which units are already stored (folded or in parts): bool, one per unit."""
        found = np.zeros(int(self.header["batch.total"]), dtype=bool)
        found[self._folded()] = True
        for part in self.parts.glob("unit*.npz"):
            found[int(part.stem[4:])] = True
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
        old = StoredUnits(self.path) if self.path.is_file() else None
        try:
            folded = {} if old is None else {int(i): j for j, i in enumerate(old.index)}
            indices = np.flatnonzero(self.done())
            with atomic_path(self.path) as temporary, ZipWriter(temporary) as zf:
                zf.add("count", np.asarray(len(indices)))
                offsets = np.zeros(len(indices) + 1, dtype=np.int64)
                for j, index in enumerate(indices):
                    offsets[j] = zf.tell()
                    if index in folded:
                        arrays = old.arrays(folded[index])
                    else:
                        arrays = load_npz(self._part(index), {})
                    for key, value in arrays.items():
                        zf.add(f"unit{j}.{key}", value)
                offsets[-1] = zf.tell()
                for key, value in self.header.items():
                    zf.add(key, value)
                zf.add("batch.index", indices.astype(np.int64))
                zf.add("batch.offsets", offsets)
                zf.comment = COMMENT + b"%020d" % offsets[-1]
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


class ZipWriter:
    """A zip of stored ``.npy`` entries whose table of contents waits on disk, not in memory.

    :class:`zipfile.ZipFile` keeps an object per entry until it closes (hundreds of
    bytes each, dozens of entries per unit); this writer appends each entry's
    central-directory record to a temporary file and copies it behind the entries
    at the end. Always zip64, so any size and number of entries fit.

    Parameters
    ----------
    path : Path
        The file to write (created or truncated).

    Example
    -------
    >>> with ZipWriter(Path("a.npz")) as zf:  # doctest: +SKIP
    ...     zf.add("x", np.arange(3))
    """

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed by __exit__
        self._central = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__
        self._count = 0
        self.comment = b""

    def tell(self) -> int:
        """Byte offset where the next entry's local header goes."""
        return self._file.tell()

    def add(self, key: str, value: np.ndarray) -> None:
        """Append ``value`` as the entry ``key.npy``, as :func:`numpy.savez` writes it."""
        name = (key + ".npy").encode("ascii")
        start = self._file.tell()
        self._file.write(b"\0" * (LOCAL.size + len(name) + LOCAL_EXTRA.size))
        data = _Checksummed(self._file)
        np.lib.format.write_array(data, np.asanyarray(value), allow_pickle=False)
        end = self._file.tell()
        self._file.seek(start)
        self._file.write(
            LOCAL.pack(
                LOCAL_SIGNATURE,
                VERSION,
                0,
                0,
                0,
                DATE,
                data.crc,
                FULL,
                FULL,
                len(name),
                LOCAL_EXTRA.size,
            )
            + name
            + LOCAL_EXTRA.pack(1, 16, data.size, data.size)
        )
        self._file.seek(end)
        self._central.write(
            CENTRAL.pack(
                CENTRAL_SIGNATURE,
                VERSION,
                VERSION,
                0,
                0,
                0,
                DATE,
                data.crc,
                FULL,
                FULL,
                len(name),
                CENTRAL_EXTRA.size,
                0,
                0,
                0,
                0,
                FULL,
            )
            + name
            + CENTRAL_EXTRA.pack(1, 24, data.size, data.size, start)
        )
        self._count += 1

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                self._finish()
        finally:
            self._central.close()
            self._file.close()

    def _finish(self) -> None:
        """Copy the table of contents behind the entries; close with the zip64 records."""
        start = self._file.tell()
        self._central.seek(0)
        shutil.copyfileobj(self._central, self._file)
        end = self._file.tell()
        self._file.write(
            END64.pack(
                0x06064B50, 44, VERSION, VERSION, 0, 0, self._count, self._count, end - start, start
            )
            + LOCATOR.pack(0x07064B50, 0, end, 1)
            + END.pack(0x06054B50, 0, 0, 0xFFFF, 0xFFFF, FULL, FULL, len(self.comment))
            + self.comment
        )


class _Checksummed:
    """A write-only file that passes bytes on, counting them and their CRC-32."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.crc = 0
        self.size = 0

    def write(self, data) -> int:
        data = memoryview(data).cast("B")
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        return self._file.write(data)


def _entries(file: BinaryIO, stop: int | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """The ``.npy`` entries from the file's position on, as (key, array), checked.

    Stops at ``stop`` (a byte offset) or at the first record that is not a local
    file header (the table of contents).
    """
    while stop is None or file.tell() < stop:
        fixed = file.read(LOCAL.size)
        if len(fixed) < LOCAL.size or struct.unpack_from("<I", fixed)[0] != LOCAL_SIGNATURE:
            if stop is not None:
                raise ValueError("damaged batch file: a unit's entries end early")
            return
        *_, crc, _, _, name_size, extra_size = LOCAL.unpack(fixed)
        name = file.read(name_size).decode("ascii")
        extra = file.read(extra_size)
        if extra_size != LOCAL_EXTRA.size or not name.endswith(".npy"):
            raise ValueError(f"damaged batch file: entry {name!r} was not written by a batch")
        size = LOCAL_EXTRA.unpack(extra)[2]
        data = file.read(size)
        if len(data) != size or zlib.crc32(data) != crc:
            raise ValueError(f"damaged batch file: entry {name!r} fails its checksum")
        yield name[:-4], np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
