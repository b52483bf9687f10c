"""The ``tcnn-widgets`` command (also ``python -m tcnn_widgets``).

Subcommands: ``demo`` (analyze the pretrained and a random network, write a report),
``train`` (topographic ICA pretraining) and ``analyze WEIGHTS`` (results and
figures of a saved network). Mistakes in paths or options end with one line on
stderr and a non-zero exit status, not a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1, got 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``tcnn-widgets`` and its subcommands."""
    parser = _Parser(
        prog="tcnn-widgets",
        description="Optimal stimuli, Hessians and invariance videos of tiled-CNN units.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    demo = commands.add_parser(
        "demo",
        help="analyze the pretrained and a random network, write an HTML report",
        description="Analyze every unit type of the shipped pretrained network and of a random "
        "network of the same architecture, and write a report folder with index.html, figures, "
        "GIFs of the most and least invariant directions, the results and the interactive "
        "explorer page. Works offline.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("tcnn-report"),
        metavar="DIR",
        help="report folder (default: ./tcnn-report)",
    )
    _add_analysis_options(demo)
    demo.add_argument(
        "--featured",
        type=_non_negative_int,
        default=2,
        metavar="N",
        help="units per network with strips, curves and GIFs (default: 2)",
    )
    demo.add_argument(
        "--two-layer-maps",
        type=_non_negative_int,
        default=2,
        metavar="N",
        help="maps of the two-layer colour network analyzed in both layers, in a section of "
        "their own (default: 2; 0 leaves the section out)",
    )
    demo.set_defaults(run=_run_demo)

    train = commands.add_parser(
        "train",
        help="train a network by topographic ICA, with checkpoints",
        description="Train a tiled CNN by topographic ICA (TICA) on grayscale CIFAR-10 or on "
        "the images embedded in the package (no download), writing checkpoints as it goes. "
        "Ctrl-C stops cleanly: the last accepted weights are saved and --resume continues.",
    )
    train.add_argument(
        "--data",
        choices=("embedded", "cifar10"),
        default="embedded",
        help="training images: crops of the photographs shipped with matplotlib (default), "
        "or CIFAR-10",
    )
    train.add_argument(
        "--cifar10",
        type=Path,
        metavar="PATH",
        help="cifar-10-binary.tar.gz or its extracted folder (implies --data cifar10; "
        "without it, --data cifar10 downloads the archive once to the cache folder)",
    )
    train.add_argument(
        "--images", type=_positive_int, metavar="N", help="use the first N images (default: all)"
    )
    train.add_argument("--maps", type=_positive_int, default=16, help="maps M (default: 16)")
    train.add_argument("--tile", type=_positive_int, default=2, help="tile size k (default: 2)")
    train.add_argument(
        "--field", type=_positive_int, default=8, help="receptive field r (default: 8)"
    )
    train.add_argument("--pool", type=_positive_int, default=3, help="pooling size P (default: 3)")
    train.add_argument(
        "--steps",
        type=_non_negative_int,
        default=200,
        help="accepted steps in total (default: 200)",
    )
    train.add_argument(
        "--method",
        choices=("lbfgs", "projected"),
        default="lbfgs",
        help="optimizer (default: lbfgs)",
    )
    train.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: 0)")
    train.add_argument(
        "--time-limit", type=float, metavar="SECONDS", help="stop after this many seconds"
    )
    train.add_argument(
        "--out",
        type=Path,
        default=Path("tcnn-weights.npz"),
        metavar="FILE",
        help="the trained network (default: ./tcnn-weights.npz)",
    )
    train.add_argument(
        "--checkpoint",
        type=Path,
        metavar="FILE",
        help="checkpoint file (default: OUT with .checkpoint.npz)",
    )
    train.add_argument(
        "--checkpoint-every",
        type=_positive_int,
        default=10,
        metavar="N",
        help="steps between checkpoints (default: 10)",
    )
    train.add_argument(
        "--resume", type=Path, metavar="CHECKPOINT", help="continue from a checkpoint"
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_run_train)

    analyze = commands.add_parser(
        "analyze",
        help="analyze the units of a saved network: results (.npz) and figures",
        description="Analyze the unit types of a network saved with TiledCNN.save (or by "
        "'tcnn-widgets train') and write results.npz, figures, GIFs and index.html.",
    )
    analyze.add_argument("weights", type=Path, metavar="WEIGHTS", help="the network's .npz file")
    analyze.add_argument(
        "--out",
        type=Path,
        default=Path("tcnn-analysis"),
        metavar="DIR",
        help="output folder (default: ./tcnn-analysis)",
    )
    _add_analysis_options(analyze)
    analyze.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker processes (default: every core this process may use, when the first "
        "unit's time says they pay; 1: serial)",
    )
    analyze.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs the [dask] extra)",
    )
    analyze.add_argument(
        "--featured",
        type=_non_negative_int,
        default=2,
        metavar="N",
        help="units with strips, curves and GIFs (default: 2)",
    )
    analyze.add_argument(
        "--format",
        choices=("png", "svg", "pdf"),
        default="png",
        help="figure format (default: png)",
    )
    analyze.set_defaults(run=_run_analyze)

    return parser


def _add_analysis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--units",
        type=_non_negative_int,
        nargs="+",
        metavar="INDEX",
        help="unit types to analyze, as indices into unit_types() (default: all)",
    )
    parser.add_argument(
        "--restarts",
        type=_positive_int,
        default=8,
        metavar="N",
        help="random starts per unit (default: 8)",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0, help="random seed (default: 0)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    index = run_demo(
        args.out,
        units=args.units,
        restarts=args.restarts,
        seed=args.seed,
        featured=args.featured,
        progress=not args.quiet,
        two_layer_maps=args.two_layer_maps,
    )
    print(f"Report written: open {index.resolve()}")
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from . import _validate
    from .training import train_tica
    from .training.data import embedded_images, load_cifar10, preprocess

    checkpoint = args.checkpoint or args.out.with_name(args.out.stem + ".checkpoint.npz")
    _validate.output_path(args.out, "--out", suffixes=(".npz",))
    _validate.output_path(checkpoint, "--checkpoint", suffixes=(".npz",))
    if args.time_limit is not None:
        _validate.real(args.time_limit, "--time-limit", above=0)
    if args.cifar10 is not None or args.data == "cifar10":
        images = load_cifar10(args.cifar10, progress=not args.quiet, gray=True).train_images
    else:
        images = embedded_images()
    images = preprocess(images[: args.images])
    if not args.quiet:
        print(f"Training on {len(images)} images of {images.shape[1]}x{images.shape[2]} ...")
    result = train_tica(
        images,
        maps=args.maps,
        tile=args.tile,
        field=args.field,
        pool=args.pool,
        steps=args.steps,
        method=args.method,
        seed=args.seed,
        time_limit=args.time_limit,
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        progress=not args.quiet,
    )
    result.network.save(args.out)
    objective = result.objective
    print(
        f"{result.steps} steps in {result.seconds:.1f} s: objective per image "
        f"{objective[0]:.6g} -> {objective[-1]:.6g}"
    )
    print(f"Network written: {args.out} (checkpoint: {checkpoint})")
    if result.interrupted:
        print(f"Interrupted: continue with --resume {checkpoint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"Next: tcnn-widgets analyze {args.out}")
    return 0


def _run_analyze(args: argparse.Namespace) -> int:
    from .analysis import analyze
    from .network import TiledCNN
    from .report import select_units, write_index, write_section

    network = TiledCNN.load(args.weights)
    types = network.unit_types()
    chosen = select_units(len(types), args.units)
    if args.scheduler is not None and args.workers is not None:
        raise ValueError("give --workers or --scheduler, not both (Dask has its own workers)")
    args.out.mkdir(parents=True, exist_ok=True)
    with _dask_client(args.scheduler) as client:
        if not args.quiet:
            where = f"on {args.scheduler}" if client is not None else "here"
            print(f"Analyzing {len(chosen)} unit types of {args.weights} {where} ...", flush=True)
        results = analyze(
            [types[i] for i in chosen],
            restarts=args.restarts,
            seed=args.seed,
            progress=not args.quiet,
            workers=args.workers,
            executor=client,
        )
    section = write_section(
        args.out,
        "units",
        f"{args.weights.name}: {network!r}",
        results,
        featured=args.featured,
        fmt=args.format,
    )
    index = write_index(args.out, f"Invariances of {args.weights.name}", [section])
    print(f"Results written: {(args.out / section.results_file).resolve()}")
    print(f"Report written: open {index.resolve()}")
    return 0


@contextmanager
def _dask_client(address: str | None) -> Iterator:
    """A Dask client connected to ``address`` for the duration, or None."""
    if address is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs Dask: pip install 'tcnn_widgets[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise ValueError(
            f"--scheduler: cannot reach a Dask scheduler at {address!r} ({error}); start one "
            "with 'dask scheduler' and workers with 'dask worker ADDRESS'"
        ) from None
    with client:
        yield client


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on an error in the input (reported in one line on stderr),
        2 on a usage error, 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (KeyboardInterrupt, SystemError) as error:
        # Ctrl-C inside a Numba call surfaces as a SystemError whose context is the
        # KeyboardInterrupt; any other SystemError is a bug and keeps its traceback.
        if isinstance(error, SystemError) and not isinstance(error.__context__, KeyboardInterrupt):
            raise
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OSError, ValueError, TypeError, RuntimeError, ImportError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{parser.prog} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tcnn_widgets")
    except PackageNotFoundError:
        return "unknown"
