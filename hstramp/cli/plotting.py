"""Figures for the command-line PNGs: the shared :mod:`hstramp.plots` module."""

from __future__ import annotations

from hstramp.plots import new_figure

__all__ = ["new_figure"]
