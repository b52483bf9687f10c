"""Training images: grayscale CIFAR-10 and the embedded default, and their preprocessing.

Preprocessing (what :func:`train_tica` and the shipped network use)
------------------------------------------------------------------
1. **Grayscale** by ITU-R BT.601 luma, ``0.299 R + 0.587 G + 0.114 B`` (Pillow's "L").
2. **Pixel scale** (:func:`preprocess`): each image is mapped by the fixed affine map
   ``x = (pixels - mean of the image) / 255``. Nothing else is done to the images,
   so units act on images in pixel space, the space a person recognises.
3. **Whitening folded into the filters** (:func:`patch_whitening`): TICA needs white
   input, otherwise the least-variance (finest, noisiest) directions win. Instead of
   whitening images, training learns filters ``V`` on whitened patches ``Z p`` and the
   network uses the pixel-space filters ``W = V Z`` (one fixed r^2 x r^2 matrix ``Z``:
   PCA whitening of mean-free r x r patches, keeping the 32 leading components for the
   seed network). Responses are identical, ``V (Z p) = (V Z) p``, so the network stays
   an ordinary :class:`~tcnn_widgets.network.TiledCNN` acting on pixels. ``Z`` maps the
   constant patch to zero, so units ignore the brightness of an image.

``scripts/train_pretrained.py`` and ``docs/training.md`` give the numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import _validate
from .._storage import atomic_file

BT601 = (0.299, 0.587, 0.114)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
CIFAR10_FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
RECORD_BYTES = 1 + 3 * 32 * 32  # label byte, then R, G, B planes of 32 x 32
DEFAULT_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
_NEEDS_BINARY = (
    "the binary release is needed: download cifar-10-binary.tar.gz from "
    "https://www.cs.toronto.edu/~kriz/cifar.html (the pickled Python release is never "
    "unpickled by this package)"
)


@dataclasses.dataclass
class Cifar10:
    """Grayscale CIFAR-10 (BT.601 luma, uint8).

    Attributes
    ----------
    train_images : ndarray of uint8, shape (N, 32, 32)
    train_labels : ndarray of uint8, shape (N,)
    test_images : ndarray of uint8, shape (N_test, 32, 32)
    test_labels : ndarray of uint8, shape (N_test,)
    classes : tuple of str
        Class names, indexed by label.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple


def load_cifar10(
    source: str | os.PathLike | Mapping | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    url: str = CIFAR10_URL,
    sha256: str = CIFAR10_SHA256,
    progress: bool = True,
) -> Cifar10:
    """Grayscale CIFAR-10 from the official binary release.

    Parameters
    ----------
    source : path-like, mapping or None
        - the archive ``cifar-10-binary.tar.gz`` (read in place, not extracted);
        - its extracted folder ``cifar-10-batches-bin`` (or the folder holding it);
        - a mapping of in-memory arrays ``train_images``, ``train_labels``,
          ``test_images``, ``test_labels`` (images RGB as (N, 3, 32, 32) or
          (N, 32, 32, 3), or already gray (N, 32, 32); uint8);
        - None: the archive in the cache folder, downloaded once if missing.
    cache_dir : path-like, optional
        Cache folder for the download; default ``$TCNN_WIDGETS_CACHE``, else
        ``$XDG_CACHE_HOME/tcnn_widgets``, else ``~/.cache/tcnn_widgets``.
    url, sha256 : str
        Where to download from, and the archive's SHA-256 checksum.
    progress : bool
        Show a progress bar while downloading.

    Returns
    -------
    Cifar10
    """
    if isinstance(source, Mapping):
        return _from_arrays(source)
    if source is None:
        folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        archive = folder / "cifar-10-binary.tar.gz"
        if not archive.is_file():
            download(url, archive, sha256, progress=progress)
        return _from_archive(archive)
    path = Path(source)
    if path.is_dir():
        return _from_folder(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no CIFAR-10 archive or folder at {str(path)!r}; pass the path of "
            "cifar-10-binary.tar.gz, of its extracted folder, or None to download it"
        )
    return _from_archive(path)


def default_cache_dir() -> Path:
    """The per-user cache folder (see :func:`load_cifar10`)."""
    if os.environ.get("TCNN_WIDGETS_CACHE"):
        return Path(os.environ["TCNN_WIDGETS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tcnn_widgets"


def download(
    url: str,
    target: str | os.PathLike,
    sha256: str,
    *,
    progress: bool = True,
    opener: Callable = urllib.request.urlopen,
) -> Path:
    """Download ``url`` to ``target``, verify its SHA-256, all or nothing.

    The data go to a temporary file beside ``target`` that is renamed only once the
    checksum matches; on any failure (or Ctrl-C) it is removed.

    Parameters
    ----------
    url : str
        Source (any scheme ``urllib`` opens, e.g. ``https://`` or ``file://``).
    target : path-like
        Destination file; its folder is created if needed.
    sha256 : str
        Expected hex digest.
    progress : bool
        Show a tqdm progress bar.
    opener : callable
        ``opener(url, timeout=...)`` returning a file-like response (for tests).

    Returns
    -------
    Path
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with atomic_file(target) as file:  # no half-written archive, even on Ctrl-C
        try:
            with opener(url, timeout=60) as response:
                total = getattr(response, "headers", {}).get("Content-Length")
                bar = tqdm(
                    total=int(total) if total else None,
                    unit="B",
                    unit_scale=True,
                    desc=target.name,
                    disable=not progress,
                )
                with bar:
                    while chunk := response.read(1 << 20):
                        file.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError) as error:  # includes timeouts
            raise ConnectionError(
                f"could not download {url} ({error}). If this machine is offline, fetch "
                "cifar-10-binary.tar.gz elsewhere and pass its path to load_cifar10(), "
                "or train on tcnn_widgets.training.data.embedded_images(), which needs no download"
            ) from None
        if digest.hexdigest() != sha256.lower():
            raise ValueError(
                f"checksum mismatch for {url}: got SHA-256 {digest.hexdigest()}, expected "
                f"{sha256}; the download is corrupt or not the official archive. Try again"
            )
    return target


def _from_archive(path: Path) -> Cifar10:
    """Read the six batch files and the class names from the .tar.gz without extracting."""
    try:
        with tarfile.open(path, "r:*") as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
            folders = {Path(m.name).parts[0] for m in archive.getmembers() if m.name}
            if "cifar-10-batches-py" in folders or "data_batch_1" in members:
                raise ValueError(f"{str(path)!r} is the pickled Python release; {_NEEDS_BINARY}")

            def read(name: str) -> bytes:
                if name not in members:
                    raise ValueError(
                        f"{str(path)!r} has no {name}; is it cifar-10-binary.tar.gz? "
                        f"{_NEEDS_BINARY}"
                    )
                return archive.extractfile(members[name]).read()

            batches = {name: read(name) for name in (*TRAIN_FILES, TEST_FILE)}
            meta = read("batches.meta.txt") if "batches.meta.txt" in members else None
    except (tarfile.TarError, EOFError, OSError, io.UnsupportedOperation) as error:
        raise ValueError(
            f"{str(path)!r} is not a readable .tar.gz archive ({error}); it may be truncated "
            "or of the wrong format: delete it and download cifar-10-binary.tar.gz again"
        ) from None
    return _assemble(batches, meta, str(path))


def _from_folder(path: Path) -> Cifar10:
    """Read an extracted ``cifar-10-batches-bin`` folder (or the folder holding it)."""
    if (path / CIFAR10_FOLDER).is_dir():
        path = path / CIFAR10_FOLDER
    if (path / "data_batch_1").is_file() and not (path / "data_batch_1.bin").is_file():
        raise ValueError(f"{str(path)!r} holds the pickled Python release; {_NEEDS_BINARY}")
    batches = {}
    for name in (*TRAIN_FILES, TEST_FILE):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{str(path)!r} has no {name}; {_NEEDS_BINARY}")
        batches[name] = (path / name).read_bytes()
    meta = path / "batches.meta.txt"
    return _assemble(batches, meta.read_bytes() if meta.is_file() else None, str(path))


def _assemble(batches: dict, meta: bytes | None, where: str) -> Cifar10:
    parts = {name: _decode_batch(data, f"{where}: {name}") for name, data in batches.items()}
    train = [parts[name] for name in TRAIN_FILES]
    classes = DEFAULT_CLASSES
    if meta is not None:
        names = tuple(meta.decode("ascii", errors="replace").split())
        if len(names) == 10:
            classes = names
    return Cifar10(
        train_images=np.concatenate([images for images, _ in train]),
        train_labels=np.concatenate([labels for _, labels in train]),
        test_images=parts[TEST_FILE][0],
        test_labels=parts[TEST_FILE][1],
        classes=classes,
    )


def _decode_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Records of 1 label byte + 3072 pixel bytes (R, G, B planes) -> gray images, labels."""
    if data[:1] == b"\x80":
        raise ValueError(f"{where} is a pickled batch; {_NEEDS_BINARY}")
    if len(data) == 0 or len(data) % RECORD_BYTES:
        raise ValueError(
            f"{where} has {len(data)} bytes, not a whole number of {RECORD_BYTES}-byte "
            "records: the file is truncated or of the wrong format. Download "
            "cifar-10-binary.tar.gz again"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].copy()
    if labels.max() > 9:
        raise ValueError(f"{where} has labels above 9: it is not a CIFAR-10 binary batch")
    return to_gray(records[:, 1:].reshape(-1, 3, 32, 32)), labels


def _from_arrays(arrays: Mapping) -> Cifar10:
    """In-memory arrays (RGB or gray uint8) -> Cifar10."""
    out = {}
    for split in ("train", "test"):
        images = np.asarray(arrays[f"{split}_images"]) if f"{split}_images" in arrays else None
        labels = np.asarray(arrays[f"{split}_labels"]) if f"{split}_labels" in arrays else None
        if images is None or labels is None:
            raise ValueError(f"arrays need {split}_images and {split}_labels")
        if images.dtype != np.uint8:
            raise TypeError(f"{split}_images must be uint8 (0..255), got {images.dtype}")
        if images.ndim == 4:
            images = to_gray(images)
        if images.ndim != 3 or images.shape[1:] != (32, 32):
            raise ValueError(
                f"{split}_images must be 32x32 images, (N, 3, 32, 32), (N, 32, 32, 3) or "
                f"(N, 32, 32), got shape {np.shape(arrays[f'{split}_images'])}"
            )
        labels = _validate.array(
            labels, f"{split}_labels", shape=(images.shape[0],), dtype=np.int64
        )
        classes = tuple(arrays.get("classes", DEFAULT_CLASSES))
        if labels.size and not (labels.min() >= 0 and labels.max() < len(classes)):
            raise ValueError(
                f"{split}_labels must be class indices 0..{len(classes) - 1}, got values "
                f"{labels.min()}..{labels.max()}"
            )
        out[f"{split}_images"], out[f"{split}_labels"] = images, labels.astype(np.uint8)
    return Cifar10(**out, classes=classes)


def embedded_images(size: int = 32, *, scales: tuple = (2, 4, 8), stride: int = 8) -> np.ndarray:
    """Grayscale crops of the photographs that matplotlib ships, for offline training.

    The two photographs in matplotlib's sample data (``grace_hopper.jpg`` and
    ``Minduka_Present_Blue_Pack.png``) are converted to BT.601 gray, shrunk by each
    factor in ``scales`` (Pillow's antialiased box filter), and cut into ``size`` x
    ``size`` crops every ``stride`` pixels.

    Parameters
    ----------
    size : int
        Side of the crops.
    scales : tuple of int
        Shrink factors.
    stride : int
        Step between crops.

    Returns
    -------
    ndarray of uint8, shape (N, size, size)
    """
    from matplotlib import cbook
    from PIL import Image

    crops = []
    for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png"):
        with Image.open(cbook.get_sample_data(name, asfileobj=False)) as photo:
            gray = to_gray(np.asarray(photo.convert("RGB")))
        for factor in scales:
            shape = (gray.shape[1] // factor, gray.shape[0] // factor)
            small = np.asarray(Image.fromarray(gray).resize(shape, Image.Resampling.BOX))
            for i in range(0, small.shape[0] - size + 1, stride):
                for j in range(0, small.shape[1] - size + 1, stride):
                    crops.append(small[i : i + size, j : j + size])
    if not crops:
        raise ValueError(f"no {size}x{size} crops fit in the photographs at scales {scales}")
    return np.stack(crops)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of RGB images, rounded to uint8.

    Parameters
    ----------
    rgb : ndarray, shape (..., 3, H, W) channel-major or (..., H, W, 3) channel-last
        8-bit colour images; the channel axis is the one of length 3 (channel-major
        is tried first, as in the CIFAR-10 binary release).

    Returns
    -------
    ndarray of uint8, shape (..., H, W)
    """
    rgb = np.asarray(rgb)
    if rgb.ndim >= 3 and rgb.shape[-3] == 3:
        r, g, b = (rgb[..., c, :, :].astype(np.float64) for c in range(3))
    elif rgb.ndim >= 3 and rgb.shape[-1] == 3:
        r, g, b = (rgb[..., c].astype(np.float64) for c in range(3))
    else:
        raise ValueError(f"rgb must have a channel axis of length 3, got shape {rgb.shape}")
    luma = BT601[0] * r + BT601[1] * g + BT601[2] * b
    return np.clip(np.floor(luma + 0.5), 0, 255).astype(np.uint8)


def preprocess(images: np.ndarray) -> np.ndarray:
    """The fixed pixel scaling used for training: ``(image - image mean) / 255``.

    Parameters
    ----------
    images : ndarray, shape (N, S, S) or (S, S)
        Grayscale images with values in 0..255 (any real dtype).

    Returns
    -------
    ndarray of float64, same shape
    """
    X = np.asarray(images)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"images must be a real-valued array, got dtype {X.dtype}")
    if X.ndim not in (2, 3):
        raise ValueError(f"images must have shape (N, S, S) or (S, S), got {X.shape}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("images contain NaN or infinite values")
    return (X - X.mean(axis=(-2, -1), keepdims=True)) / 255.0
