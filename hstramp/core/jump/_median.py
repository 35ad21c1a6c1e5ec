"""Each pixel's rate: the (clipped, interval-weighted) median of its difference rates.

Below :data:`PLAIN_MEDIAN` usable differences a pixel is tested on the absolute values
of its differences, and the largest is left out of the median (stcal's iterative
search); from there on, on the signed differences with a plain median (stcal's single
pass). On uneven read times the median is weighted by the intervals.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from hstramp.core.jump._columns import column_values, count_true, value_at
from hstramp.core.jump._differences import Differences
from hstramp.core.jump._sorting import sorted_order

#: From this many usable differences a pixel is tested on its signed differences with
#: a plain median (stcal's single pass); below, on absolute differences with a clipped
#: median (stcal's iterative search).
PLAIN_MEDIAN = 10


def tested_rates(rates: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """The rates as tested: signed in the plain regime, else absolute values.

    Parameters
    ----------
    rates : ndarray float32 [ndiff, npix]
    plain : ndarray bool [npix]

    Returns
    -------
    ndarray float32 [ndiff, npix]
        ``rates`` itself when every pixel is plain, else a new array.
    """
    others = np.flatnonzero(~plain)
    if others.size == 0:
        return rates
    if 2 * others.size > plain.size:
        return np.where(plain, rates, np.abs(rates))
    tested = rates.copy()
    tested[:, others] = np.abs(rates.take(others, axis=1))
    return tested


def dropped_largest(count: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """Whether each pixel's largest tested value is left out of its median.

    As stcal's iterative search: with 2 usable differences the larger (the median is
    then the smaller one), with 3 none, with 4 to 9 the largest, which may be the
    jump itself and would move a median of few values by a large fraction of sigma.
    Never in the plain regime (``PLAIN_MEDIAN`` or more differences), where a jump
    moves the median by less than a tenth of sigma and dropping a clean value would
    bias it low by half a rank.

    Parameters
    ----------
    count : ndarray of int [npix]
        Number of usable differences.
    plain : ndarray of bool [npix]
        Pixels in the plain regime.

    Returns
    -------
    ndarray of bool [npix]
    """
    return ~plain & ((count == 2) | (count >= 4))


def median_weights(usable: np.ndarray, intervals: np.ndarray, dropped: np.ndarray) -> np.ndarray:
    """Weight of each difference in the median: its interval, 0 where not used.

    Parameters
    ----------
    usable : ndarray bool [ndiff, npix]
    intervals : ndarray float32 [ndiff, npix] or [ndiff, 1]
    dropped : ndarray intp [npix]
        Index of the difference left out of the median (:func:`dropped_largest`),
        -1 where none.

    Returns
    -------
    ndarray float32 [ndiff, npix]
    """
    weights = np.multiply(usable, intervals, dtype=np.float32)  # intervals > 0: 0 or interval
    columns = np.flatnonzero(dropped >= 0)
    weights[dropped[columns], columns] = 0
    return weights


@dataclass(frozen=True)
class RobustRate:
    """A pixel's rate from its difference rates (see :func:`robust_rate`).

    Attributes
    ----------
    median : ndarray float32 [npix]
        NaN where no difference is usable.
    count : ndarray intp [npix]
        Number of usable differences.
    kept : ndarray intp [npix]
        Number of differences in the median.
    order : ndarray intp [ndiff, npix] or None
        Indices that sort the tested rates (unusable ones last); None in a selection.
    usable : ndarray bool [ndiff, npix]
        The usable differences.
    intervals : ndarray float32 [ndiff, npix] or [ndiff, 1], or None
        Their intervals; None when the differences are uniform (equal weights).
    dropped : ndarray intp [npix]
        Index of the difference left out of the median, -1 where none.
    """

    median: np.ndarray
    count: np.ndarray
    kept: np.ndarray
    order: np.ndarray | None
    usable: np.ndarray
    intervals: np.ndarray | None
    dropped: np.ndarray

    @property
    def uniform(self) -> bool:
        """Every difference has the same weight."""
        return self.intervals is None

    @functools.cached_property
    def weights(self) -> np.ndarray | None:
        """:func:`median_weights` ``[ndiff, npix]``; None when uniform (computed once,
        when first needed)."""
        if self.uniform:
            return None
        return median_weights(self.usable, self.intervals, self.dropped)

    def select(self, pixels: np.ndarray) -> RobustRate:
        """Only the given pixels (copies), without the order (None)."""
        intervals = self.intervals
        if intervals is not None and intervals.shape[1] > 1:
            intervals = intervals.take(pixels, axis=1)
        return RobustRate(
            self.median[pixels],
            self.count[pixels],
            self.kept[pixels],
            None,
            self.usable.take(pixels, axis=1),
            intervals,
            self.dropped[pixels],
        )


def robust_rate(tested: Differences, plain: np.ndarray) -> RobustRate:
    """Each pixel's rate: the median of its tested rates, robust to jumps.

    The median is weighted by the intervals and interpolated (the ordinary median
    on evenly spaced reads, as in stcal), without the values of
    :func:`dropped_largest`.

    Parameters
    ----------
    tested : Differences
        The rates as tested (absolute values outside the plain regime).
    plain : ndarray bool [npix]

    Returns
    -------
    RobustRate
    """
    rates = tested.rates
    usable = ~np.isnan(rates)
    count = count_true(usable)
    order = sorted_order(rates, usable)
    drop = np.flatnonzero(dropped_largest(count, plain))
    kept = count.copy()
    kept[drop] -= 1
    dropped = np.full(count.size, -1, np.intp)
    dropped[drop] = order[count[drop] - 1, drop]
    if tested.uniform:
        with np.errstate(invalid="ignore", over="ignore"):  # over: rates near 3e38
            median = (
                value_at(rates, order, np.maximum(kept - 1, 0) // 2)
                + value_at(rates, order, kept // 2)
            ) * np.float32(0.5)
    else:
        if tested.shared:
            sorted_weights = tested.intervals[:, 0].take(order)
            position = np.arange(rates.shape[0])[:, None]
            short = np.flatnonzero(kept < rates.shape[0])
            if 2 * short.size > kept.size:
                sorted_weights *= position < kept
            elif short.size:
                sorted_weights[:, short] *= position < kept[short]
        else:
            weights = median_weights(usable, tested.intervals, dropped)
            sorted_weights = np.take_along_axis(weights, order, 0)
        median = weighted_median(rates, sorted_weights, order, kept)
    median[kept < 1] = np.nan
    intervals = None if tested.uniform else tested.intervals
    return RobustRate(median, count, kept, order, usable, intervals, dropped)


def weighted_median(
    rates: np.ndarray, sorted_weights: np.ndarray, order: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """Interpolated weighted median of each pixel's rates.

    Each sorted value owns the centre of its slice of the cumulative weight, and the
    median is interpolated linearly at half the total weight. With equal weights
    this is the ordinary median (the mean of the two middle values for an even
    count).

    Parameters
    ----------
    rates : ndarray float32 [ndiff, npix]
    sorted_weights : ndarray float32 [ndiff, npix]
        Weights in sorted order, 0 for rates not to use (which must sort last).
    order : ndarray int [ndiff, npix]
        From :func:`~hstramp.core.jump._sorting.sorted_order`.
    count : ndarray int [npix]
        Number of rates with non-zero weight.

    Returns
    -------
    ndarray float32 [npix]
    """
    centres = sorted_weights * np.float32(0.5)
    total = sorted_weights[0].copy()
    for k in range(1, sorted_weights.shape[0]):
        centres[k] += total
        total += sorted_weights[k]
    half = total * np.float32(0.5)
    last = np.maximum(count - 1, 0)
    low = np.minimum(np.maximum(count_true(centres <= half) - 1, 0), last)
    high = np.minimum(low + 1, last)
    centre_low = column_values(centres, low)
    centre_high = column_values(centres, high)
    value_low = value_at(rates, order, low)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip((half - centre_low) / (centre_high - centre_low), 0, 1)
    fraction[high == low] = 0
    with np.errstate(invalid="ignore", over="ignore"):  # rates near the float32 limit
        return value_low + fraction * (value_at(rates, order, high) - value_low)
