"""Reproduce the shipped two-layer colour network, tcnn_widgets/pretrained/two_layer_color.*.

Usage::

    python scripts/train_two_layer.py [--data ../shared/data/cifar10_jpeg.npz]

Trains a two-layer tiled CNN layer by layer by TICA (Le et al., "Tiled convolutional
neural networks", NIPS 2010) on a seeded random subset of the colour CIFAR-10
training images: layer 1 (16 maps, k = 2, 8 x 8 x 3 fields, 3 x 3 pooling) on
whitened colour patches, then layer 2 (16 maps, k = 2, 4 x 4 fields over the 16
layer-1 maps, 3 x 3 pooling) on the layer-1 pooled maps of the same images. Writes the
network (TiledCNN.save format, version 2) and a JSON record of how it was made.
Deterministic for a given number of Numba threads (the default, all cores).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from PIL import Image

from tcnn_widgets import pretrained
from tcnn_widgets.training.data import preprocess
from tcnn_widgets.training.layerwise import train_two_layer

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10_jpeg.npz"
NAME = "two_layer_color"
LAYER1 = {"maps": 16, "tile": 2, "field": 8, "pool": 3, "eps": 1e-4, "components": 48}
LAYER2 = {"maps": 16, "tile": 2, "field": 4, "pool": 3, "eps": 1e-4, "components": 64}


def decode_jpeg_images(path: Path, indices: np.ndarray) -> np.ndarray:
    """The chosen training images of ``cifar10_jpeg.npz`` as uint8 (N, 3, 32, 32) RGB."""
    with np.load(path, allow_pickle=False) as data:
        buffer, offsets = data["train_jpeg"], data["train_offsets"]
    images = []
    for i in indices:
        raw = buffer[offsets[i] : offsets[i + 1]].tobytes()
        with Image.open(io.BytesIO(raw)) as image:
            images.append(np.asarray(image.convert("RGB")))
    return np.stack(images).transpose(0, 3, 1, 2).copy()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="cifar10_jpeg.npz")
    parser.add_argument("--images", type=int, default=8000, help="training images drawn at random")
    parser.add_argument("--steps", type=int, default=200, help="accepted steps per layer, at most")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--time-limit", type=float, default=720.0, help="seconds per layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=pretrained.FOLDER)
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="checkpoint base name (resumed if present)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()

    total = len(np.load(args.data, allow_pickle=False)["train_labels"])
    rng = np.random.default_rng(args.seed)
    chosen = np.sort(rng.choice(total, size=args.images, replace=False))
    images = preprocess(decode_jpeg_images(args.data, chosen))
    print(f"decoded {len(images)} colour images in {time.perf_counter() - start:.1f} s", flush=True)

    result = train_two_layer(
        images,
        layer1=LAYER1,
        layer2=LAYER2,
        steps=args.steps,
        seed=args.seed,
        tolerance=args.tolerance,
        time_limit=args.time_limit,
        checkpoint=args.checkpoint,
        resume=args.checkpoint is not None,
    )
    wall = time.perf_counter() - start
    if result.interrupted:
        sys.exit("interrupted: nothing written (the checkpoints, if any, hold the progress)")

    args.out.mkdir(parents=True, exist_ok=True)
    network = result.network
    network.save(args.out / f"{NAME}.npz")
    command = ["scripts/train_two_layer.py", *(sys.argv[1:] if argv is None else argv)]
    record = {
        "command": "python " + " ".join(shlex.quote(a) for a in command),
        "data": {
            "file": args.data.name,
            "sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
            "description": "colour CIFAR-10 training set (JPEG re-encoding, decoded with "
            "Pillow to RGB), see shared/data/README.md",
            "images": args.images,
            "selection": f"numpy.random.default_rng({args.seed}).choice({total}, "
            f"{args.images}, replace=False), sorted",
        },
        "preprocessing": (
            "x = (image - mean of the image over pixels and channels) / 255, channels first "
            "(tcnn_widgets.training.data.preprocess). Layer 1: TICA on PCA-whitened 3x8x8 "
            "patches (48 components); layer 2: TICA on PCA-whitened 16x4x4 patches of the "
            "layer-1 pooled maps of the same images (64 components). Each layer's network "
            "filters are W = V Z (tcnn_widgets.training.layerwise.train_two_layer)"
        ),
        "architecture": {
            "channels": network.channels,
            "image_size": network.image_size,
            "layer1": {k: v for k, v in LAYER1.items() if k != "components"},
            "layer2": {k: v for k, v in LAYER2.items() if k != "components"},
            "field_pixels": {"layer1": network.field_size(1), "layer2": network.field_size(2)},
        },
        "training_seconds": round(result.layer1.seconds + result.layer2.seconds, 1),
        "script_seconds": round(wall, 1),
        "seed": args.seed,
        "max_steps": args.steps,
        "tolerance": args.tolerance,
        "time_limit_per_layer": args.time_limit,
        "layers": {
            "layer1": _layer_record(result.layer1),
            "layer2": _layer_record(result.layer2),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "numba_threads": numba.get_num_threads(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "numba": numba.__version__,
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_json(args.out / f"{NAME}.json", record)
    for suffix in (".npz", ".json"):
        (args.out / f"{NAME}{suffix}").chmod(0o644)  # package data: readable by everyone
    print(f"trained in {wall:.0f} s; wrote {args.out / NAME}.npz and .json")


def _layer_record(result) -> dict:
    return {
        "method": result.method,
        "steps": result.steps,
        "converged": result.converged,
        "evaluations": result.evaluations,
        "initial_objective": float(result.objective[0]),
        "final_objective": float(result.objective[-1]),
        "objective_unit": "mean over training images of the summed pooling outputs",
        "seconds": round(result.seconds, 1),
        "orthogonality_error": result.orthogonality_error,
        "objective_curve": {
            "seconds": [round(float(t), 2) for t in result.times],
            "objective": [float(f) for f in result.objective],
        },
    }


def _write_json(path: Path, record: dict) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(record, file, indent=1)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


if __name__ == "__main__":
    main()
