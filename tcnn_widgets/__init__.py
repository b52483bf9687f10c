"""tcnn_widgets: optimal stimuli, Hessians and invariances of neural-network units."""

from .analysis import analyze
from .network import TiledCNN
from .pretrained import load_pretrained
from .quadratic import QuadraticUnit
from .results import Invariances, load_results, save_results
from .units import CallableUnit, PoolingUnit, Unit

__all__ = [
    "CallableUnit",
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
