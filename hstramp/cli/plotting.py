"""Figures for the command-line PNGs: matplotlib's Agg canvas, no pyplot state."""

from __future__ import annotations

__all__ = ["new_figure"]


def new_figure(nrows=1, ncols=1, *, figsize, **subplot_kwargs):
    """A figure on an Agg canvas and its axes (``figure.savefig(path)`` writes the PNG).

    Parameters
    ----------
    nrows, ncols : int
        Grid of axes.
    figsize : tuple of float
        Inches.
    **subplot_kwargs
        Passed to ``Figure.subplots`` (``sharex``, ``squeeze`` ...).

    Returns
    -------
    tuple
        ``(figure, axes)``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(nrows, ncols, **subplot_kwargs)
