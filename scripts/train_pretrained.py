"""Reproduce the shipped one-layer network, tcnn_widgets/pretrained/seed_network.{npz,json}.

Usage::

    python scripts/train_pretrained.py [--data ../shared/data/cifar10_gray.npz]

Trains the one-layer architecture (16 maps, k = 2, 8 x 8 fields, 3 x 3 pooling) by TICA on
a seeded random subset of the grayscale CIFAR-10 training images, then writes the
network and a JSON record of how it was made. Deterministic for a given number of
Numba threads (the default, all cores).
"""

from __future__ import annotations

import argparse
import hashlib
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

from tcnn_widgets import pretrained
from tcnn_widgets._storage import save_npz_atomic
from tcnn_widgets.training import train_tica
from tcnn_widgets.training.data import preprocess

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10_gray.npz"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="grayscale CIFAR-10 .npz with train_images (default: %(default)s)",
    )
    parser.add_argument(
        "--images",
        type=int,
        default=10_000,
        help="training images drawn at random (default: %(default)s)",
    )
    parser.add_argument("--steps", type=int, default=300, help="accepted optimizer steps")
    parser.add_argument("--method", choices=("lbfgs", "projected"), default="lbfgs")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-6,
        help="stop when the objective fell by less than this fraction "
        "over 10 steps (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=pretrained.FOLDER,
        help="output folder (default: the package's pretrained/)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint file (written every 10 steps; resumed if present)",
    )
    args = parser.parse_args(argv)

    with np.load(args.data, allow_pickle=False) as data:
        all_images = data["train_images"]
    rng = np.random.default_rng(args.seed)
    chosen = np.sort(rng.choice(len(all_images), size=args.images, replace=False))
    images = preprocess(all_images[chosen])

    resume = args.checkpoint if args.checkpoint is not None and args.checkpoint.is_file() else None
    start = time.perf_counter()
    result = train_tica(
        images,
        steps=args.steps,
        tolerance=args.tolerance,
        method=args.method,
        seed=args.seed,
        checkpoint=args.checkpoint,
        resume=resume,
    )
    wall = time.perf_counter() - start
    if result.interrupted:
        sys.exit("interrupted: nothing written (the checkpoint, if any, holds the progress)")

    args.out.mkdir(parents=True, exist_ok=True)
    network = result.network
    save_npz_atomic(
        args.out / "seed_network.npz",
        {
            "weights": network.weights,
            "pool": np.asarray(network.pool),
            "image_size": np.asarray(network.image_size),
            "eps": np.asarray(network.eps),
            "filters": result.filters,
            "whitening": result.whitening,
        },
    )
    record = {
        "command": "python "
        + " ".join(
            shlex.quote(a)
            for a in ["scripts/train_pretrained.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "data": {
            "file": args.data.name,
            "sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
            "description": "grayscale CIFAR-10 training set (BT.601 luma), see "
            "shared/data/README.md",
            "images": args.images,
            "selection": f"numpy.random.default_rng({args.seed}).choice(50000, "
            f"{args.images}, replace=False), sorted",
        },
        "preprocessing": (
            "x = (image - mean of the image) / 255 for 8-bit gray images "
            "(tcnn_widgets.training.data.preprocess); TICA learns filters V on PCA-whitened 8x8 "
            "patches (32 components, tcnn_widgets.training.whitening.patch_whitening) and the network's "
            "pixel-space filters are W = V Z"
        ),
        "architecture": {
            "maps": network.maps,
            "tile": network.tile,
            "field": network.field,
            "pool": network.pool,
            "image_size": network.image_size,
            "eps": network.eps,
        },
        "method": result.method,
        "seed": result.seed,
        "steps": result.steps,
        "max_steps": args.steps,
        "tolerance": args.tolerance,
        "converged": result.converged,
        "evaluations": result.evaluations,
        "final_objective": float(result.objective[-1]),
        "initial_objective": float(result.objective[0]),
        "objective_unit": "mean over training images of the summed pooling outputs",
        "training_seconds": round(result.seconds, 1),
        "script_seconds": round(wall, 1),
        "orthogonality_error": result.orthogonality_error,
        "objective_curve": {
            "step": list(range(len(result.objective))),
            "seconds": [round(float(t), 2) for t in result.times],
            "objective": [float(f) for f in result.objective],
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
    _write_json(args.out / "seed_network.json", record)
    for name in ("seed_network.npz", "seed_network.json"):
        (args.out / name).chmod(0o644)  # package data: readable by everyone
    print(
        f"final objective {record['final_objective']:.4f} after {result.steps} steps, "
        f"{result.seconds:.0f} s; wrote {args.out}"
    )


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
