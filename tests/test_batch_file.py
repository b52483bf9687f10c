"""The out= file of a batch (format 2): a real zip, units read at their offsets, memory
that does not grow with the number of units, format-1 files still read and resumed."""

from __future__ import annotations

import tracemalloc
import zipfile

import numpy as np
import pytest
from batch_units import small_units
from test_batch import assert_same

import tcnn_widgets as tw
from tcnn_widgets._batchfile import ZipWriter, read_table
from tcnn_widgets.analysis import Settings
from tcnn_widgets.batch import StoredResults, _unit_seeds, analyze_batch


@pytest.fixture(scope="module")
def units():
    return small_units(6)


@pytest.fixture(scope="module")
def serial(units):
    return tw.analyze(units, seed=3, workers=1, progress=False)


def test_zip_writer_writes_what_zipfile_and_numpy_read(tmp_path):
    arrays = {
        "a": np.arange(12.0).reshape(3, 4),
        "b.c": np.asarray("text"),
        "d": np.asfortranarray(np.ones((2, 3), dtype=np.float32)),
        "e": np.zeros(0, dtype=np.int64),
    }
    path = tmp_path / "a.npz"
    with ZipWriter(path) as zf:
        for key, value in arrays.items():
            zf.add(key, value)
        zf.comment = b"hello"
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every CRC checks
        assert archive.comment == b"hello"
        assert [info.filename for info in archive.infolist()] == [f"{k}.npy" for k in arrays]
    with np.load(path) as data:
        for key, value in arrays.items():
            np.testing.assert_array_equal(data[key], value, strict=True)


def test_batch_file_is_a_results_file_with_a_table(units, serial, tmp_path):
    out = tmp_path / "layer.npz"
    stored = tw.analyze(units, seed=3, workers=1, out=out, progress=False)
    assert_same(list(stored), serial)
    assert_same(tw.load_results(out), serial)
    assert_same(stored[::-1], serial[::-1])
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
    table = read_table(out)
    np.testing.assert_array_equal(table["batch.index"], np.arange(len(units)))
    offsets = table["batch.offsets"]
    assert offsets[0] > 0 and np.all(np.diff(offsets) > 0) and offsets[-1] < out.stat().st_size


def test_format_1_files_are_read_and_resumed_into_format_2(units, serial, tmp_path):
    whole, old = tmp_path / "whole.npz", tmp_path / "old.npz"
    tw.analyze(units, seed=3, workers=1, out=whole, progress=False)
    part = tmp_path / "part.npz"
    tw.analyze(units, seed=3, workers=1, out=part, progress=False)
    with np.load(part) as data:  # the same file as format 1 wrote it: no table, 3 units
        arrays = {k: data[k] for k in data.files if k != "batch.offsets"}
    keep = {f"unit{j}." for j in range(3)}
    arrays = {k: v for k, v in arrays.items() if not k.startswith("unit") or k[:6] in keep}
    arrays["count"], arrays["batch.index"] = np.asarray(3), np.arange(3)
    np.savez(old, **arrays)
    assert read_table(old) is None
    stored = StoredResults(old)
    assert len(stored) == 3
    assert_same(list(stored), serial[:3])
    resumed = tw.analyze(units, seed=3, workers=1, out=old, progress=False)
    assert_same(list(resumed), serial)
    assert old.read_bytes() == whole.read_bytes()


def test_unit_seeds_are_the_children_of_the_batch_seed():
    for seed in (0, 7, 2**62 + 5):
        children = np.random.SeedSequence(seed).spawn(40)
        expected = [int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children]
        np.testing.assert_array_equal(_unit_seeds(seed, 40), expected)
        assert len(set(expected)) == 40


def traced_peak(function) -> int:
    """Peak of Python allocations (bytes) while ``function`` runs."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_parent_memory_does_not_grow_with_the_number_of_units(tmp_path):
    many = small_units(16) * 10  # 160 units (picklable, distinct objects not needed)
    peaks = {}
    for count in (4, 40, 160):
        out = tmp_path / f"layer{count}.npz"

        def run(c=count, o=out):
            analyze_batch(many[:c], Settings(), 1, workers=1, out=o, progress=False, fold_every=0)

        peaks[count] = traced_peak(run)
        peaks[count, "read"] = traced_peak(lambda o=out: StoredResults(o)[-1])
    # (the 4 units warm up.) Format 1 held the zip's table of contents in memory, about
    # 20 KB a unit: its peaks grew by 3.9 MB (writing) and 2.4 MB (reading) here. What
    # grows now is garbage awaiting Python's cycle collector (NumPy parses each .npy
    # header with ast.literal_eval), about 0.1 MB
    assert peaks[160] - peaks[40] < 400_000, peaks
    assert peaks[160, "read"] - peaks[40, "read"] < 200_000, peaks
