"""Bias level from the reference pixels (calwf3 ``blevcorr``).

One number per read: the resistant mean of the reference columns BIASSECTA and
BIASSECTB over the rows inside the trim, subtracted from the whole read,
reference pixels included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.outputs import output_arrays
from hstramp.core.stats import resistant_mean, science_slices

__all__ = ["BiasLevel", "bias_level_correct", "reference_pixel_values"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BiasLevel:
    """Result of :func:`bias_level_correct`.

    Attributes
    ----------
    data : ndarray, float32
        Bias-subtracted data, same shape as the input.
    meanblev : ndarray, float64
        The level subtracted from each read (MEANBLEV), shape ``data.shape[:-2]``
        (0-d for a single image); float32 values, as calwf3 computes them.
    """

    data: np.ndarray
    meanblev: np.ndarray


def _column_range(section: tuple[int, int], nx: int, name: str) -> slice:
    """Slice of an inclusive 0-indexed column range, validated against the width."""
    first, last = (int(v) for v in section)
    if not 0 <= first <= last < nx:
        raise ValueError(f"{name} {tuple(section)} is not a column range inside 0..{nx - 1}")
    return slice(first, last + 1)


def reference_pixel_values(
    data: np.ndarray,
    *,
    trim: tuple[int, int, int, int],
    biassect_a: tuple[int, int],
    biassect_b: tuple[int, int],
) -> np.ndarray:
    """The reference pixels calwf3 averages for the bias level, per image.

    Parameters
    ----------
    data : ndarray [..., ny, nx]
        One image or a stack of reads.
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``; only the rows inside
        ``y1 .. ny - y2 - 1`` are used.
    biassect_a, biassect_b : tuple of 2 int
        First and last column (0-indexed, inclusive) of each reference section:
        OSCNTAB BIASSECTA1-1, BIASSECTA2-1 (and B). Full frame: (1, 4), (1019, 1022).

    Returns
    -------
    ndarray [..., nvalues]
        The values of both sections, one row per image.
    """
    data = np.asarray(data)
    rows, _ = science_slices(data.shape, trim)
    nx = data.shape[-1]
    sections = [
        data[..., rows, _column_range(biassect_a, nx, "biassect_a")],
        data[..., rows, _column_range(biassect_b, nx, "biassect_b")],
    ]
    lead = data.shape[:-2]
    return np.concatenate([s.reshape(*lead, -1) for s in sections], axis=-1)


def bias_level_correct(
    data: np.ndarray,
    *,
    trim: tuple[int, int, int, int],
    biassect_a: tuple[int, int],
    biassect_b: tuple[int, int],
    sigma: float = 3.0,
    out: np.ndarray | None = None,
) -> BiasLevel:
    """Subtract from each read the resistant mean of its reference pixels.

    calwf3 pools the BIASSECTA and BIASSECTB columns of the rows inside the
    trim (the four quadrants it loops over are exactly those rows), takes one
    3-sigma :func:`~hstramp.core.stats.resistant_mean`, and subtracts it from
    every pixel of the read, reference pixels included. ERR and DQ are not
    touched. calwf3 does the same to its saved copy of the zeroth read (used by
    ZOFF): pass a 2-D image for that.

    Parameters
    ----------
    data : ndarray [ngroups, ny, nx] or [ny, nx]
        Reads (raw DN, after ZSIG) or one image.
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    biassect_a, biassect_b : tuple of 2 int
        First and last column (0-indexed, inclusive) of each reference section.
    sigma : float, optional
        Clip level of the resistant mean (calwf3: 3).
    out : ndarray, optional
        float32 array of ``data``'s shape to write the corrected data into; it may be
        ``data`` itself. Default: a new array.

    Returns
    -------
    BiasLevel
        Corrected data (``out`` when given) and MEANBLEV per read.
    """
    data = np.asarray(data)
    refpix = reference_pixel_values(data, trim=trim, biassect_a=biassect_a, biassect_b=biassect_b)
    flat = refpix.reshape(-1, refpix.shape[-1])
    levels = np.array([resistant_mean(v, sigma).mean for v in flat], dtype=np.float32)
    levels = levels.reshape(data.shape[:-2])
    log.debug("MEANBLEV per read: %s", levels)
    (corrected,) = output_arrays((data,), (np.float32,), None if out is None else (out,),
                                 ("data",))
    corrected -= levels[..., None, None]
    return BiasLevel(data=corrected, meanblev=levels.astype(np.float64))
