"""CIFAR-10 binary loading, download, grayscale, preprocessing and the embedded images."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import urllib.error

import numpy as np
import pytest

from tcnn_widgets.training import data
from tcnn_widgets.training.data import (
    download,
    embedded_images,
    load_cifar10,
    preprocess,
    to_gray,
)
from tcnn_widgets.training.whitening import patch_whitening

CLASSES = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"


def make_batches(seed: int = 0, per_batch: int = 3) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Random RGB records (label, R, G, B planes) for the six batch files."""
    rng = np.random.default_rng(seed)
    batches = {}
    for name in (*data.TRAIN_FILES, data.TEST_FILE):
        labels = rng.integers(0, 10, per_batch, dtype=np.uint8)
        rgb = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        batches[name] = (labels, rgb)
    return batches


def record_bytes(labels: np.ndarray, rgb: np.ndarray) -> bytes:
    records = np.concatenate([labels[:, None], rgb.reshape(len(labels), -1)], axis=1)
    return records.astype(np.uint8).tobytes()


def write_archive(path, batches, *, folder="cifar-10-batches-bin", extra=None) -> None:
    with tarfile.open(path, "w:gz") as archive:
        files = {name: record_bytes(*value) for name, value in batches.items()}
        files["batches.meta.txt"] = CLASSES
        files.update(extra or {})
        for name, content in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))


def expected_gray(rgb: np.ndarray) -> np.ndarray:
    """BT.601 written out independently: round(0.299 R + 0.587 G + 0.114 B)."""
    r, g, b = (rgb[:, c].astype(np.float64) for c in range(3))
    return np.floor(0.299 * r + 0.587 * g + 0.114 * b + 0.5).astype(np.uint8)


def check_loaded(result, batches, gray=True) -> None:
    """Gray results against BT.601 written out; colour ones against the RGB planes."""
    convert = expected_gray if gray else (lambda rgb: rgb)
    train = [batches[name] for name in data.TRAIN_FILES]
    np.testing.assert_array_equal(result.train_labels, np.concatenate([lab for lab, _ in train]))
    np.testing.assert_array_equal(
        result.train_images, np.concatenate([convert(rgb) for _, rgb in train])
    )
    np.testing.assert_array_equal(result.test_labels, batches[data.TEST_FILE][0])
    np.testing.assert_array_equal(result.test_images, convert(batches[data.TEST_FILE][1]))
    assert result.classes[0] == "airplane" and len(result.classes) == 10


# ---- grayscale and preprocessing --------------------------------------------------------------


def test_to_gray_primaries_and_layouts():
    rgb = np.zeros((3, 3, 1, 1), dtype=np.uint8)
    for c in range(3):
        rgb[c, c] = 255
    assert to_gray(rgb).ravel().tolist() == [76, 150, 29]
    rng = np.random.default_rng(1)
    planes = rng.integers(0, 256, (4, 3, 5, 6), dtype=np.uint8)
    np.testing.assert_array_equal(to_gray(planes), expected_gray(planes))
    np.testing.assert_array_equal(to_gray(planes.transpose(0, 2, 3, 1)), expected_gray(planes))
    with pytest.raises(ValueError, match="channel"):
        to_gray(np.zeros((4, 5, 6)))


def test_preprocess_removes_mean_and_scales():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (5, 32, 32))
    out = preprocess(images)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(out[0], (images[0] - images[0].mean()) / 255)
    with pytest.raises(ValueError, match="NaN"):
        preprocess(np.full((2, 4, 4), np.nan))
    with pytest.raises(ValueError, match="shape"):
        preprocess(np.zeros((2, 1, 3, 4, 4)))


def test_preprocess_colour_removes_the_mean_over_pixels_and_channels():
    images = np.random.default_rng(4).integers(0, 256, (4, 3, 8, 8))
    out = preprocess(images)
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out[1], (images[1] - images[1].mean()) / 255)
    red = np.zeros((1, 3, 2, 2))
    red[0, 0] = 255  # a uniform red image keeps its colour contrast
    np.testing.assert_allclose(preprocess(red)[0, :, 0, 0], [2 / 3, -1 / 3, -1 / 3])


def test_patch_whitening_of_colour_patches():
    rng = np.random.default_rng(5)
    smooth = np.cumsum(np.cumsum(rng.standard_normal((200, 3, 12, 12)), 2), 3)
    images = preprocess(smooth + 0.5 * smooth[:, :1])  # correlated channels
    Z = patch_whitening(images, 3, components=12, regularization=0.0, patches=20_000)
    assert Z.shape == (27, 27)
    np.testing.assert_allclose(Z @ np.ones(27), 0, atol=1e-8)
    windows = np.lib.stride_tricks.sliding_window_view(images, (3, 3), axis=(2, 3))
    patches = windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, 27)  # channels first per patch
    patches = patches - patches.mean(axis=1, keepdims=True)
    white = patches @ Z
    eig = np.sort(np.linalg.eigvalsh(white.T @ white / len(white)))[::-1]
    np.testing.assert_allclose(eig[:12], 1.0, rtol=0.1)
    np.testing.assert_allclose(eig[12:], 0.0, atol=1e-8)


def test_patch_whitening_whitens_the_kept_components():
    rng = np.random.default_rng(3)
    # smooth random images: cumulative sums give strongly correlated pixels
    images = preprocess(np.cumsum(np.cumsum(rng.standard_normal((300, 16, 16)), 1), 2))
    Z = patch_whitening(images, 4, components=10, regularization=0.0, patches=20_000)
    np.testing.assert_allclose(Z, Z.T)
    np.testing.assert_allclose(Z @ np.ones(16), 0, atol=1e-8)
    patches = np.lib.stride_tricks.sliding_window_view(images, (4, 4), axis=(1, 2))
    patches = patches.reshape(-1, 16)
    patches = patches - patches.mean(axis=1, keepdims=True)
    white = patches @ Z
    eig = np.sort(np.linalg.eigvalsh(white.T @ white / len(white)))[::-1]
    np.testing.assert_allclose(eig[:10], 1.0, rtol=0.1)  # sample vs estimate
    np.testing.assert_allclose(eig[10:], 0.0, atol=1e-8)
    with pytest.raises(ValueError, match="components"):
        patch_whitening(images, 4, components=16)


# ---- reading the binary release ----------------------------------------------------------------


def test_load_archive_folder_and_arrays(tmp_path):
    batches = make_batches()
    archive = tmp_path / "cifar-10-binary.tar.gz"
    write_archive(archive, batches)
    check_loaded(load_cifar10(archive, gray=True), batches)
    colour = load_cifar10(archive)  # the release is colour, and colour is kept by default
    assert colour.train_images.shape == (15, 3, 32, 32) and colour.train_images.dtype == np.uint8
    check_loaded(colour, batches, gray=False)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "out", filter="data")
    check_loaded(load_cifar10(tmp_path / "out", gray=True), batches)
    check_loaded(load_cifar10(tmp_path / "out" / "cifar-10-batches-bin"), batches, gray=False)
    train = [batches[name] for name in data.TRAIN_FILES]
    arrays = {
        "train_images": np.concatenate([rgb for _, rgb in train]),
        "train_labels": np.concatenate([lab for lab, _ in train]),
        "test_images": batches[data.TEST_FILE][1].transpose(0, 2, 3, 1),  # channel-last
        "test_labels": batches[data.TEST_FILE][0],
    }
    check_loaded(load_cifar10(arrays, gray=True), batches)
    check_loaded(load_cifar10(arrays), batches, gray=False)  # channel-last read as RGB
    with pytest.raises(TypeError, match="gray must be True or False"):
        load_cifar10(arrays, gray="yes")


def test_truncated_archive_is_refused(tmp_path):
    archive = tmp_path / "cifar-10-binary.tar.gz"
    write_archive(archive, make_batches())
    content = archive.read_bytes()
    archive.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="truncated"):
        load_cifar10(archive)


def test_truncated_batch_file_is_refused(tmp_path):
    batches = make_batches()
    archive = tmp_path / "a.tar.gz"
    short = record_bytes(*batches["data_batch_2.bin"])[:-100]
    write_archive(archive, batches, extra={"data_batch_2.bin": short})
    with pytest.raises(ValueError, match="data_batch_2.bin.*truncated"):
        load_cifar10(archive)


def test_pickled_release_is_refused_without_unpickling(tmp_path, monkeypatch):
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    batch = pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]})
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = len(batch)
        tar.addfile(info, io.BytesIO(batch))
    with pytest.raises(ValueError, match="binary release is needed"):
        load_cifar10(archive)
    # a pickled batch renamed as a binary one
    batches = make_batches()
    renamed = tmp_path / "renamed.tar.gz"
    write_archive(renamed, batches, extra={"data_batch_1.bin": batch})
    with pytest.raises(ValueError, match="pickled batch"):
        load_cifar10(renamed)


def test_wrong_files_are_refused(tmp_path):
    not_archive = tmp_path / "notes.txt"
    not_archive.write_text("hello")
    with pytest.raises(ValueError, match="not a readable .tar.gz"):
        load_cifar10(not_archive)
    with pytest.raises(FileNotFoundError, match="no CIFAR-10 archive"):
        load_cifar10(tmp_path / "missing.tar.gz")
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin"):
        load_cifar10(tmp_path)
    bad_labels = make_batches()
    bad_labels["test_batch.bin"] = (np.array([0, 12, 3], np.uint8), bad_labels["test_batch.bin"][1])
    archive = tmp_path / "labels.tar.gz"
    write_archive(archive, bad_labels)
    with pytest.raises(ValueError, match="labels above 9"):
        load_cifar10(archive)


def test_in_memory_arrays_of_wrong_size_are_refused():
    good = {
        "train_images": np.zeros((2, 32, 32), np.uint8),
        "train_labels": np.zeros(2),
        "test_images": np.zeros((1, 32, 32), np.uint8),
        "test_labels": np.zeros(1),
    }
    for key, value in (
        ("train_images", np.zeros((2, 28, 28), np.uint8)),
        ("test_images", np.zeros((1, 3, 16, 16), np.uint8)),
        ("test_images", np.zeros((1, 4, 32, 32), np.uint8)),
    ):
        with pytest.raises(ValueError, match="32x32"):
            load_cifar10({**good, key: value})
    with pytest.raises(TypeError, match="uint8"):
        load_cifar10({**good, "train_images": np.zeros((2, 32, 32))})


# ---- download -----------------------------------------------------------------------------------


def sha256_of(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_once_into_cache(tmp_path):
    batches = make_batches()
    source = tmp_path / "server" / "cifar-10-binary.tar.gz"
    source.parent.mkdir()
    write_archive(source, batches)
    cache = tmp_path / "cache"
    url = source.as_uri()
    check_loaded(
        load_cifar10(cache_dir=cache, url=url, sha256=sha256_of(source), progress=False),
        batches,
        gray=False,
    )
    assert sorted(os.listdir(cache)) == ["cifar-10-binary.tar.gz"]
    source.unlink()  # a second call must not download again
    again = load_cifar10(cache_dir=cache, url=url, sha256="0" * 64, progress=False, gray=True)
    check_loaded(again, batches)


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TCNN_WIDGETS_CACHE", str(tmp_path / "c"))
    assert data.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("TCNN_WIDGETS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert data.default_cache_dir() == tmp_path / "x" / "tcnn_widgets"


def test_wrong_checksum_leaves_nothing(tmp_path):
    source = tmp_path / "a.tar.gz"
    write_archive(source, make_batches())
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_cifar10(cache_dir=cache, url=source.as_uri(), sha256="0" * 64, progress=False)
    assert os.listdir(cache) == []


def test_offline_gives_a_clear_error(tmp_path):
    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    target = tmp_path / "cache" / "a.tar.gz"
    with pytest.raises(ConnectionError, match="offline.*embedded_images"):
        download(
            "https://example.invalid/a.tar.gz", target, "0" * 64, opener=offline, progress=False
        )
    assert os.listdir(target.parent) == []
    with pytest.raises(ConnectionError, match="load_cifar10"):
        load_cifar10(cache_dir=tmp_path / "c2", url=(tmp_path / "nothing").as_uri(), progress=False)


def test_interrupted_download_leaves_nothing(tmp_path):
    class Response(io.BytesIO):
        headers = {"Content-Length": str(3 << 20)}
        calls = 0

        def read(self, size=-1):
            Response.calls += 1
            if Response.calls == 2:
                raise KeyboardInterrupt
            return b"x" * size

    target = tmp_path / "a.tar.gz"
    with pytest.raises(KeyboardInterrupt):
        download(
            "https://example.invalid/a",
            target,
            "0" * 64,
            opener=lambda url, timeout: Response(),
            progress=False,
        )
    assert os.listdir(tmp_path) == []


# ---- embedded photographs ----------------------------------------------------------------------


def test_embedded_images_are_photograph_crops():
    images = embedded_images()
    assert images.dtype == np.uint8 and images.shape[1:] == (32, 32)
    assert len(images) > 500
    np.testing.assert_array_equal(images, embedded_images())  # deterministic
    contrast = images.reshape(len(images), -1).std(axis=1)
    assert np.median(contrast) > 5  # real texture, not blank
    # natural images: neighbouring pixels are strongly correlated
    x = images.astype(float)
    a, b = x[:, :, :-1].ravel(), x[:, :, 1:].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.8
    with pytest.raises(ValueError, match="no 4000x4000 crops"):
        embedded_images(4000)


def test_dropped_connection_gives_a_clear_error_and_leaves_nothing(tmp_path):
    class Response(io.BytesIO):
        headers = {}
        calls = 0

        def read(self, size=-1):
            Response.calls += 1
            if Response.calls == 2:
                raise ConnectionResetError("connection reset by peer")
            return b"x" * size

    with pytest.raises(ConnectionError, match="could not download.*reset"):
        download(
            "https://example.invalid/a",
            tmp_path / "a.tar.gz",
            "0" * 64,
            opener=lambda url, timeout: Response(),
            progress=False,
        )
    assert os.listdir(tmp_path) == []
