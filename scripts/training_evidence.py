"""Evidence that TICA training worked: objective curves, Gabor fits, optimal stimuli.

Usage::

    python scripts/training_evidence.py [--data ../shared/data/cifar10_gray.npz]

Writes to ``docs/``:

- ``training_objective.png``: the objective of the shipped run (from
  ``seed_network.json``), and the two optimizers compared on the same data, start and
  time budget;
- ``training_stimuli.png``: the optimal stimuli of the 64 unit types, pretrained
  beside random (``TiledCNN.random(seed=0)``, same architecture);
- ``training_evidence.json``: the numbers quoted in ``docs/training.md``.

Optimal stimuli are exact: for a one-layer square-root pooling unit the maximum of
``g(x) = sqrt(eps + x^T A x)`` on the unit sphere is the top eigenvector of ``A``
(docs/method.md §8).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tcnn_widgets.network import TiledCNN  # noqa: E402
from tcnn_widgets.pixels import to_gray_bytes  # noqa: E402
from tcnn_widgets.pretrained import load_pretrained, pretrained_record  # noqa: E402
from tcnn_widgets.training import train_tica  # noqa: E402
from tcnn_widgets.training.data import preprocess  # noqa: E402
from tcnn_widgets.training.gabor import fit_gabor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cifar10_gray.npz"


def optimal_stimuli(network: TiledCNN) -> np.ndarray:
    """Unit-norm optimal stimuli of the unit types, (M k^2, r + P - 1, r + P - 1).

    The sign (free for these even units) is chosen so that the largest pixel is positive.
    """
    stimuli = []
    for unit in network.unit_types():
        values, vectors = np.linalg.eigh(unit.quadratic_matrix())
        x = vectors[:, -1]
        x = x if x[np.argmax(np.abs(x))] > 0 else -x
        stimuli.append(x.reshape(unit.shape))
    return np.array(stimuli)


def compare_optimizers(images: np.ndarray, seconds: float) -> dict:
    """Both optimizers from the same start, on the same data, for the same wall time."""
    curves = {}
    for method in ("projected", "lbfgs"):
        result = train_tica(
            images, steps=10**6, method=method, seed=0, time_limit=seconds, progress=False
        )
        curves[method] = {
            "seconds": result.times.tolist(),
            "objective": result.objective.tolist(),
            "steps": result.steps,
            "evaluations": result.evaluations,
        }
    return curves


def stimulus_grid(stimuli: np.ndarray, columns: int = 8, gap: int = 2) -> np.ndarray:
    """Tile stimuli (each on its own symmetric gray scale, ``to_gray_bytes``) into one image."""
    count, h, w = stimuli.shape
    rows = -(-count // columns)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), 255, dtype=np.uint8)
    for index, x in enumerate(stimuli):
        r, c = divmod(index, columns)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = to_gray_bytes(
            x, float(np.abs(x).max())
        )
    return grid


def plot_objective(record: dict, curves: dict, path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    shipped = record["objective_curve"]
    left.plot(shipped["step"], shipped["objective"], color="k")
    left.set_xlabel("accepted step")
    left.set_ylabel("objective (mean per image)")
    left.set_title(
        f"shipped run: {record['method']}, {record['data']['images']} images, "
        f"{record['training_seconds']:.0f} s",
        fontsize=9,
    )
    for method, style in (("projected", "C0"), ("lbfgs", "C3")):
        curve = curves[method]
        right.plot(
            curve["seconds"],
            curve["objective"],
            color=style,
            label=f"{method} ({curve['steps']} steps, {curve['evaluations']} evaluations)",
        )
    right.set_xlabel("seconds")
    right.set_title("optimizers from the same start", fontsize=9)
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_stimuli(trained, random, r2_trained, r2_random, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4))
    for ax, stimuli, r2, title in (
        (axes[0], trained, r2_trained, "pretrained (TICA)"),
        (axes[1], random, r2_random, "random weights"),
    ):
        ax.imshow(stimulus_grid(stimuli), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(f"{title}: Gabor R² median {np.median(r2):.2f}", fontsize=10)
        ax.axis("off")
    fig.suptitle(
        "Optimal stimuli of the 64 unit types (10 x 10 pixels, each on its own "
        "symmetric gray scale; map by map, 4 tile positions per row pair)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _time_to_reach(curve: dict, level: float) -> float | None:
    """First time at which ``curve`` is at or below ``level`` (None if never)."""
    for seconds, value in zip(curve["seconds"], curve["objective"], strict=True):
        if value <= level:
            return seconds
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--compare-images", type=int, default=5000)
    parser.add_argument("--compare-seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)

    record = pretrained_record()
    trained, random = load_pretrained(), TiledCNN.random(seed=0)
    stimuli = {"pretrained": optimal_stimuli(trained), "random": optimal_stimuli(random)}
    r2 = {name: np.array([fit_gabor(x).r2 for x in s]) for name, s in stimuli.items()}
    plot_stimuli(
        stimuli["pretrained"],
        stimuli["random"],
        r2["pretrained"],
        r2["random"],
        args.out / "training_stimuli.png",
    )

    with np.load(args.data, allow_pickle=False) as data:
        pool = data["train_images"]
    rng = np.random.default_rng(1)
    images = preprocess(pool[np.sort(rng.choice(len(pool), args.compare_images, replace=False))])
    curves = compare_optimizers(images, args.compare_seconds)
    plot_objective(record, curves, args.out / "training_objective.png")

    summary = {
        "gabor_r2": {
            name: {
                "median": float(np.median(v)),
                "quartiles": [float(q) for q in np.percentile(v, [25, 75])],
                "fraction_above_0.85": float(np.mean(v >= 0.85)),
                "values": [round(float(x), 4) for x in v],
            }
            for name, v in r2.items()
        },
        "shipped_run": {
            key: record[key]
            for key in (
                "method",
                "steps",
                "evaluations",
                "initial_objective",
                "final_objective",
                "training_seconds",
                "orthogonality_error",
            )
        },
        "optimizer_comparison": {
            "lbfgs_seconds_to_projected_final": _time_to_reach(
                curves["lbfgs"], curves["projected"]["objective"][-1]
            ),
            "curves": curves,
            "images": args.compare_images,
            "seconds": args.compare_seconds,
            **{
                m: {
                    "final_objective": c["objective"][-1],
                    "steps": c["steps"],
                    "evaluations": c["evaluations"],
                }
                for m, c in curves.items()
            },
        },
    }
    (args.out / "training_evidence.json").write_text(json.dumps(summary, indent=1) + "\n")
    for name, v in r2.items():
        print(
            f"{name}: Gabor R^2 median {np.median(v):.3f}, "
            f"{np.mean(v >= 0.85):.0%} of unit types >= 0.85"
        )
    for method, c in curves.items():
        print(
            f"{method}: objective {c['objective'][0]:.1f} -> {c['objective'][-1]:.1f} in "
            f"{c['seconds'][-1]:.0f} s ({c['steps']} steps)"
        )


if __name__ == "__main__":
    main()
