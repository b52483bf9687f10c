"""tcnn_widgets: optimal stimuli, Hessians and invariances of neural-network units.

The public API is what ``__all__`` lists. Modules whose names start with an underscore
are internals. ``InvarianceExplorer`` is imported on first use, so that
``import tcnn_widgets`` does not load the widget stack.
"""

from .analysis import analyze
from .network import TiledCNN
from .pretrained import load_pretrained
from .quadratic import QuadraticUnit
from .results import Invariances, load_results, save_results
from .units import CallableUnit, PoolingUnit, Unit

__all__ = [
    "CallableUnit",
    "InvarianceExplorer",
    "Invariances",
    "PoolingUnit",
    "QuadraticUnit",
    "TiledCNN",
    "Unit",
    "analyze",
    "load_pretrained",
    "load_results",
    "save_results",
]


def __getattr__(name: str):
    """Import the widget (anywidget, ipywidgets, traitlets) only when it is asked for."""
    if name == "InvarianceExplorer":
        from .widget import InvarianceExplorer

        return InvarianceExplorer
    raise AttributeError(f"module 'tcnn_widgets' has no attribute {name!r}")
