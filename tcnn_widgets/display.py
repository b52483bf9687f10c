"""Inline display of an `Invariances` result in a notebook: a PNG summary and plain text.

``Invariances._repr_mimebundle_`` returns :func:`invariances_mimebundle`: a PNG of
:func:`summary_figure` (the optimal stimulus, the curvature spectrum and invariance
strips), which also shows in static exports (``jupyter nbconvert --to html``) and on
GitHub, and the plain-text ``repr``. For the live view (sliders, play, the gallery of
units) use the widget: ``tw.InvarianceExplorer(result)``.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from .figures import FONT_SIZE, curvature_spectrum, invariance_strips, show_stimulus
from .results import Invariances


def summary_figure(inv: Invariances, *, top: int = 2, frames: int = 6) -> Figure:
    """One figure: the optimal stimulus, the curvature spectrum and invariance strips.

    Parameters
    ----------
    inv : Invariances
        The analysis result.
    top, frames
        As for :func:`tcnn_widgets.figures.invariance_strips`.

    Returns
    -------
    Figure
    """
    fig = Figure(figsize=(11.5, 5.0), dpi=100, layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.0, 1.7])
    stimulus_ax, spectrum_ax = left.subplots(2, 1, height_ratios=[1.0, 1.4])
    show_stimulus(stimulus_ax, inv.stimulus)
    stimulus_ax.set_title(f"optimal stimulus x*, g* = {inv.activation:.4g}", fontsize=FONT_SIZE)
    curvature_spectrum(inv, ax=spectrum_ax)
    spectrum_ax.set_title("curvature spectrum", fontsize=FONT_SIZE)
    invariance_strips(inv, top=top, frames=frames, fig=right)
    return fig


def invariances_png(inv: Invariances) -> bytes:
    """The PNG shown for an `Invariances` in a notebook (see :func:`summary_figure`).

    Parameters
    ----------
    inv : Invariances
        The analysis result.

    Returns
    -------
    bytes
        A PNG file.
    """
    buffer = io.BytesIO()
    summary_figure(inv).savefig(buffer, format="png")
    return buffer.getvalue()


def invariances_mimebundle(inv: Invariances) -> dict[str, bytes | str]:
    """What a notebook shows for an `Invariances`: ``{"image/png": ..., "text/plain": ...}``.

    The live, interactive view is the widget, ``tw.InvarianceExplorer(result)``.

    Example
    -------
    >>> bundle = invariances_mimebundle(result)  # doctest: +SKIP
    >>> sorted(bundle)  # doctest: +SKIP
    ['image/png', 'text/plain']
    """
    return {"image/png": invariances_png(inv), "text/plain": repr(inv)}
