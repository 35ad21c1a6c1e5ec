"""Per-pixel (column) helpers of jump detection: arrays are ``[nrows, npix]``, one column
per pixel, and every result of a column depends on that column only.
"""

from __future__ import annotations

import numpy as np


def count_true(mask: np.ndarray) -> np.ndarray:
    """Number of True values in each column.

    Parameters
    ----------
    mask : ndarray bool [nrows, npix]

    Returns
    -------
    ndarray intp [npix]
    """
    narrow = np.uint8 if mask.shape[0] < 256 else np.intp
    return np.add.reduce(mask.view(np.uint8), axis=0, dtype=narrow).astype(np.intp)


def column_values(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows[i], i]`` for every column ``i`` (a gather through the flat array).

    Parameters
    ----------
    values : ndarray [nrows, ncols]
    rows : ndarray of int [ncols]

    Returns
    -------
    ndarray [ncols]
    """
    ncols = values.shape[1]
    flat = rows.astype(np.intp) * ncols
    flat += np.arange(ncols)
    return np.ravel(values).take(flat)


def value_at(values: np.ndarray, order: np.ndarray, position: np.ndarray) -> np.ndarray:
    """``values[order[position[i], i], i]`` for every pixel ``i``."""
    return column_values(values, column_values(order, position))


def sum_rows(values: np.ndarray) -> np.ndarray:
    """Sum over axis 0, one row after the other.

    ``np.sum`` may add the values of a single column pairwise, which rounds
    differently; adding rows in order makes each pixel's sum independent of how many
    pixels are processed together.

    Parameters
    ----------
    values : ndarray float32 [nrows, npix]

    Returns
    -------
    ndarray float32 [npix]
    """
    total = np.zeros_like(values[0])
    for row in values:
        total += row
    return total


def column_largest(ratios: np.ndarray) -> np.ndarray:
    """The largest of each column, ignoring NaN; -inf where all are NaN."""
    largest = np.fmax.reduce(ratios, axis=0)
    largest[np.isnan(largest)] = -np.inf
    return largest
