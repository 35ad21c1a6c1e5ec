"""Each pixel's most deviant difference, in units of the noise expected for it.

The expected noise of a difference is read noise plus Poisson noise over its own
interval, plus the noise of the median it is compared with; :func:`largest_outliers`
has the formulas. :func:`largest_uniform_outliers` (evenly spaced reads) and
:func:`largest_by_interval` (shared intervals) are shortcuts that give the same
ratios as :func:`outlier_ratios` with fewer plane operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hstramp.core.jump._columns import column_largest, sum_rows, value_at
from hstramp.core.jump._differences import Differences
from hstramp.core.jump._median import RobustRate, median_weights

_HALF_PI = np.float32(np.pi / 2)

#: From this many pixels :func:`largest_by_interval` is used (fewer plane operations,
#: more calls).
BY_INTERVAL_PIXELS = 256


@dataclass(frozen=True)
class Outliers:
    """Each pixel's most deviant difference (see :func:`largest_outliers`).

    Attributes
    ----------
    largest : ndarray float32 [npix]
        The largest ratio; -inf where nothing can be tested.
    ratios_of : callable or None
        ``ratios_of(pixels)`` gives every ratio of those pixels, ``[ndiff, len(pixels)]``
        (NaN where not tested), to find which difference is the largest.
    worst_index : ndarray intp [npix] or None
        Index of the largest difference, when known for every pixel.
    """

    largest: np.ndarray
    ratios_of: Callable[[np.ndarray], np.ndarray] | None = None
    worst_index: np.ndarray | None = None

    @classmethod
    def from_ratios(cls, ratios: np.ndarray) -> Outliers:
        """From the ratios of every pixel."""
        return cls(column_largest(ratios), lambda pixels: ratios.take(pixels, axis=1))

    def worst(self, pixels: np.ndarray) -> np.ndarray:
        """Index of the largest difference of each of ``pixels`` (the first of equals).

        Parameters
        ----------
        pixels : ndarray intp
            Pixels with a finite or +inf ``largest``.

        Returns
        -------
        ndarray intp
        """
        if self.ratios_of is None:
            return self.worst_index[pixels]
        return np.argmax(self.ratios_of(pixels) == self.largest[pixels], axis=0)


def largest_outliers(
    tested: Differences,
    rate: RobustRate,
    plain: np.ndarray,
    inverse_gain: np.ndarray,
    read_variance: np.ndarray,
    by_interval: bool = False,
) -> Outliers:
    """Each pixel's most deviant difference and its deviation in sigma.

    ``sigma_i^2 = (2 RN^2 + |m| dt_i / g) / dt_i^2``: two reads of read noise and the
    Poisson noise of the charge collected over the interval. The median ``m`` is
    itself noisy: for a weighted median of independent normal values (weights
    ``w_j``, densities ``f_j = 1 / (sqrt(2 pi) sigma_j)`` at the centre) its variance
    is ``V = (pi/2) sum(w^2) / (sum(w / sigma))^2`` and including value ``i`` moves it
    towards that value by ``delta_i = sqrt(pi/2) w_i / sum(w / sigma)``. The ratio is

    - plain regime: ``(|d_i - m| + delta_i) / sqrt(sigma_i^2 + V)``, approximately a
      comparison with the median of the *other* differences;
    - 4 to 9 differences: ``|d_i - m| / sqrt(sigma_i^2 + max(0, V - (pi/2)
      sigma_i^2 / K))``, only the part of the median's variance due to unequal
      intervals (none on evenly spaced reads, where this is stcal's test);
    - 2 or 3: ``|d_i - m| / sigma_i`` (the raised thresholds apply).

    Every ratio is computed by :func:`outlier_ratios`, unless ``by_interval`` is set
    and the intervals are shared by all pixels: :func:`largest_by_interval` then finds
    the largest ratios with fewer operations and the same result, and the ratios of
    a pixel are computed only when the index of its largest is asked for (worth it
    when few pixels have a jump).

    Parameters
    ----------
    tested : Differences
    rate : RobustRate
    plain : ndarray bool [npix]
    inverse_gain : ndarray float32 [npix]
        1 / gain, DN/e-.
    read_variance : ndarray float32 [npix]
        Read-noise variance of a difference of two reads, ``2 RN^2`` (DN^2).
    by_interval : bool, optional
        Allow :func:`largest_by_interval`.

    Returns
    -------
    Outliers
    """
    if rate.uniform:
        return largest_uniform_outliers(tested, rate, plain, inverse_gain, read_variance)
    if not (by_interval and tested.shared and plain.size >= BY_INTERVAL_PIXELS):
        return Outliers.from_ratios(
            outlier_ratios(tested, rate, plain, inverse_gain, read_variance)
        )

    def ratios_of(pixels: np.ndarray) -> np.ndarray:
        """:func:`outlier_ratios` of some pixels."""
        return outlier_ratios(
            tested.select(pixels),
            rate.select(pixels),
            plain[pixels],
            inverse_gain[pixels],
            read_variance[pixels],
        )

    largest = largest_by_interval(tested, rate, plain, inverse_gain, read_variance)
    return Outliers(largest, ratios_of)


def noise_terms(median: np.ndarray, inverse_gain, read_variance) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel terms of ``sigma_i^2 = (floor + poisson * dt_i) / dt_i^2``.

    ``floor`` is ``2 RN^2``, NaN for a pixel with no noise at all (read noise and
    median 0), which cannot be tested (stcal: sigma 0 -> NaN); ``poisson`` is
    ``|m| / g``.
    """
    floor = np.where((read_variance == 0) & (median == 0), np.float32(np.nan), read_variance)
    return floor, np.abs(median) * inverse_gain


def outlier_ratios(
    tested: Differences,
    rate: RobustRate,
    plain: np.ndarray,
    inverse_gain: np.ndarray,
    read_variance: np.ndarray,
) -> np.ndarray:
    """The ratio of every difference of every pixel (see :func:`largest_outliers`).

    Parameters
    ----------
    tested : Differences
    rate : RobustRate
        With weights.
    plain : ndarray bool [npix]
    inverse_gain, read_variance : ndarray float32 [npix]

    Returns
    -------
    ndarray float32 [ndiff, npix]
        NaN where the difference is not tested.
    """
    rates, intervals, weights = tested.rates, tested.intervals, rate.weights
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        floor, poisson = noise_terms(rate.median, inverse_gain, read_variance)
        variance = (floor + poisson * intervals) / (intervals * intervals)
        spread = sum_rows(weights / np.sqrt(variance))
        median_variance = _HALF_PI * sum_rows(weights * weights) / (spread * spread)
        shift = np.where(plain, np.sqrt(_HALF_PI) / spread, np.float32(0))
        sigma2 = variance + np.where(plain, median_variance, np.float32(0))
        uneven = np.flatnonzero(~plain & (rate.kept >= 4))
        if uneven.size:
            sigma2[:, uneven] = unequal_interval_variance(
                variance[:, uneven], median_variance[uneven], rate.kept[uneven]
            )
        ratios = np.abs(rates - rate.median)
        ratios += shift * weights
        ratios /= np.sqrt(sigma2)
    return ratios


def unequal_interval_variance(
    variance: np.ndarray, median_variance: np.ndarray, kept: np.ndarray
) -> np.ndarray:
    """``sigma_i^2 + max(0, V - (pi/2) sigma_i^2 / K)`` for 4 to 9 differences.

    Evaluated in float64 and rounded once to float32.

    Parameters
    ----------
    variance : ndarray float32 [ndiff, npix]
        ``sigma_i^2``.
    median_variance : ndarray float32 [npix]
        ``V``.
    kept : ndarray int [npix]
        ``K``, the number of differences in the median.

    Returns
    -------
    ndarray float64 [ndiff, npix]
    """
    share = np.float64(_HALF_PI) / kept
    return variance + np.maximum(median_variance - variance * share, 0)


def largest_uniform_outliers(
    tested: Differences,
    rate: RobustRate,
    plain: np.ndarray,
    inverse_gain: np.ndarray,
    read_variance: np.ndarray,
) -> Outliers:
    """:func:`largest_outliers` when every difference spans the same interval.

    All ``sigma_i`` are equal, so the most deviant difference is the smallest or the
    largest rate; ``V = (pi/2) sigma^2 / N`` and ``delta = sqrt(pi/2) sigma / N``.
    """
    count, median, order = rate.count, rate.median, rate.order
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        floor, poisson = noise_terms(rate.median, inverse_gain, read_variance)
        interval = tested.intervals[0]
        sigma2 = (floor + poisson * interval) / (interval * interval)
        lowest = np.zeros_like(count)
        highest = np.maximum(count - 1, 0)
        below = median - value_at(tested.rates, order, lowest)
        above = value_at(tested.rates, order, highest) - median
        deviation = np.maximum(below, above)
        worst = np.where(above >= below, order[highest, np.arange(count.size)], order[0])
        share = np.where(plain, np.float32(1) / count, np.float32(0))
        deviation += np.sqrt(_HALF_PI * sigma2) * share
        sigma2 += _HALF_PI * sigma2 * share
        largest = deviation / np.sqrt(sigma2)
    largest[~(largest >= 0)] = -np.inf
    return Outliers(largest, worst_index=worst.astype(np.intp))


def largest_by_interval(
    tested: Differences,
    rate: RobustRate,
    plain: np.ndarray,
    inverse_gain: np.ndarray,
    read_variance: np.ndarray,
) -> np.ndarray:
    """Each pixel's largest ratio, one interval at a time.

    With intervals shared by all pixels, the differences of one interval have the
    same sigma and the same term ``delta_i`` (weight times shift; 0 outside the plain
    regime), so their ratio grows with ``|d_i - m|``: the largest ratio of each
    interval is that of its largest or smallest tested rate. Each of those ratios,
    and the sums ``sum(w / sigma)`` and ``sum(w^2)`` in difference order, are computed
    by the same float32 operations as in :func:`outlier_ratios`, so the result is
    identical, with two plane operations over the differences instead of about
    fifteen.

    Parameters
    ----------
    tested : Differences
        With shared intervals.
    rate : RobustRate
        With weights.
    plain : ndarray bool [npix]
    inverse_gain, read_variance : ndarray float32 [npix]

    Returns
    -------
    ndarray float32 [npix]
        The largest ratio; -inf where none can be tested.
    """
    intervals = tested.intervals[:, 0]
    values, classes = np.unique(intervals, return_inverse=True)
    highest, lowest = extremes_by_class(tested.rates, classes, values.size)
    median, kept = rate.median, rate.kept
    largest = np.full(median.shape, -np.inf, np.float32)
    interval = [values[c : c + 1] for c in range(values.size)]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        floor, poisson = noise_terms(median, inverse_gain, read_variance)
        variance = [(floor + poisson * dt) / (dt * dt) for dt in interval]
        spread, squares = median_sums(rate, intervals, classes, variance)
        median_variance = _HALF_PI * squares / (spread * spread)
        shift = np.where(plain, np.sqrt(_HALF_PI) / spread, np.float32(0))
        plain_extra = np.where(plain, median_variance, np.float32(0))
        uneven = np.flatnonzero(~plain & (kept >= 4))
        some = slice(None) if uneven.size == kept.size else uneven
        for c, dt in enumerate(interval):
            sigma2 = variance[c] + plain_extra
            if uneven.size:
                sigma2[some] = unequal_interval_variance(
                    variance[c][some], median_variance[some], kept[some]
                )
            deviation = np.fmax(highest[c] - median, median - lowest[c])
            deviation += shift * dt
            deviation /= np.sqrt(sigma2)
            np.fmax(largest, deviation, out=largest)
    return largest


def median_sums(
    rate: RobustRate, intervals: np.ndarray, classes: np.ndarray, variance: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``sum(w / sigma)`` and ``sum(w^2)`` over the differences, in their order.

    For the pixels whose every difference has its full weight (the interval) the
    terms are the same for all differences of one interval; the others (all pixels,
    when they are most) are summed difference by difference, with their weights, as in
    :func:`outlier_ratios`.

    Parameters
    ----------
    rate : RobustRate
    intervals : ndarray float32 [ndiff]
        The shared intervals.
    classes : ndarray int [ndiff]
        Index of each difference's interval in ``variance``.
    variance : list of ndarray float32 [npix]
        ``sigma^2`` of each distinct interval.

    Returns
    -------
    spread, squares : ndarray float32 [npix]
    """
    term = [intervals[classes == c][:1] / np.sqrt(v) for c, v in enumerate(variance)]
    spread = np.zeros_like(variance[0])
    squares = np.zeros(1, np.float32)
    for k, c in enumerate(classes):
        spread += term[c]
        squares += intervals[k : k + 1] * intervals[k : k + 1]
    squares = np.repeat(squares, spread.size)
    partial = np.flatnonzero((rate.count < classes.size) | (rate.dropped >= 0))
    if 2 * partial.size > spread.size:
        weights = rate.weights
        spread = sum_rows(weights / np.sqrt(np.stack([variance[c] for c in classes])))
        squares = sum_rows(weights * weights)
    elif partial.size:
        part = rate.select(partial)
        weights = median_weights(part.usable, part.intervals, part.dropped)
        partial_variance = np.stack([variance[c].take(partial) for c in classes])
        spread[partial] = sum_rows(weights / np.sqrt(partial_variance))
        squares[partial] = sum_rows(weights * weights)
    return spread, squares


def extremes_by_class(
    rates: np.ndarray, classes: np.ndarray, nclasses: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Largest and smallest rate of each pixel among the rows of each class.

    Parameters
    ----------
    rates : ndarray float32 [ndiff, npix]
    classes : ndarray int [ndiff]
        Class of each row, ``0 .. nclasses - 1``, each used at least once.
    nclasses : int

    Returns
    -------
    highest, lowest : list of ndarray float32 [npix]
        One per class, ignoring NaN (NaN where the class has no value).
    """
    highest: list[np.ndarray | None] = [None] * nclasses
    lowest: list[np.ndarray | None] = [None] * nclasses
    for row, c in zip(rates, classes, strict=True):
        if highest[c] is None:
            highest[c], lowest[c] = row.copy(), row.copy()
        else:
            np.fmax(highest[c], row, out=highest[c])
            np.fmin(lowest[c], row, out=lowest[c])
    return highest, lowest
