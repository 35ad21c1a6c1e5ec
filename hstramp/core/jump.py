"""Jump (cosmic-ray) detection by two-point differences on real read times.

Per pixel, the first differences of consecutive usable reads are divided by their
time intervals (WFC3 reads are unevenly spaced) and a robust median of these rates,
weighted by the intervals, is taken as the pixel's rate. Each difference is compared
with the noise expected from read noise and Poisson noise over its own interval (and
from the noise of the median itself); the largest outlier above the threshold for the
number of usable differences is flagged on the read after the jump, masked, and the
search repeats until no difference is above its threshold. On evenly spaced reads
this is stcal's two-point difference; ``docs/maths.md`` has the derivation and the
differences.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, fields

import numpy as np

from hstramp.core.blocks import (
    RampInputs,
    block_view,
    check_block_rows,
    pixel_valid,
    plane_view,
    ramp_inputs,
    row_blocks,
    usable_reads,
)
from hstramp.datamodels import dqflags

__all__ = ["JumpParameters", "detect_jumps"]

log = logging.getLogger(__name__)

#: Sort key of unusable differences (finite, above any rate).
_LAST = np.float32(3e38)
_HALF_PI = np.float32(np.pi / 2)
#: From this many usable differences a pixel is tested on its signed differences with
#: a plain median (stcal's single pass); below, on absolute differences with a clipped
#: median (stcal's iterative search).
PLAIN_MEDIAN = 10


def _require(condition: bool, name: str, allowed: str, value) -> None:
    """Raise ``ValueError`` naming the parameter and its allowed range."""
    if not condition:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def _is_real(value) -> bool:
    """True for a real, non-boolean number that is not NaN."""
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and not math.isnan(value)
    )


@dataclass(frozen=True)
class JumpParameters:
    """Parameters of :func:`detect_jumps`.

    Attributes
    ----------
    rejection_threshold : float
        Threshold in sigma when a pixel has 4 or more usable differences (> 0).
    four_group_rejection_threshold : float
        Threshold in sigma with 3 usable differences (> 0).
    three_group_rejection_threshold : float
        Threshold in sigma with 2 usable differences (> 0).
    flag_4_neighbors : bool
        Also flag the 4 nearest neighbours of a jump whose ratio lies strictly
        between ``min_jump_to_flag_neighbors`` and ``max_jump_to_flag_neighbors``.
    max_jump_to_flag_neighbors, min_jump_to_flag_neighbors : float
        The ratio window (sigma) for neighbour flagging; ``0 <= min < max``.
    after_jump_flag_dn1, after_jump_flag_time1 : float
        After a jump of at least ``dn1`` DN, flag every later read taken within
        ``time1`` seconds of the flagged read. ``dn1 == 0`` or ``time1 == 0``
        disables the rule.
    after_jump_flag_dn2, after_jump_flag_time2 : float
        A second rule of the same kind.
    block_rows : int
        Rows per processing block; 0 chooses a size that bounds the memory.
        Results do not depend on it.
    """

    rejection_threshold: float = 4.0
    four_group_rejection_threshold: float = 5.0
    three_group_rejection_threshold: float = 6.0
    flag_4_neighbors: bool = True
    max_jump_to_flag_neighbors: float = 1000.0
    min_jump_to_flag_neighbors: float = 10.0
    after_jump_flag_dn1: float = 0.0
    after_jump_flag_time1: float = 0.0
    after_jump_flag_dn2: float = 0.0
    after_jump_flag_time2: float = 0.0
    block_rows: int = 0

    def __post_init__(self):
        for name in (
            "rejection_threshold",
            "four_group_rejection_threshold",
            "three_group_rejection_threshold",
        ):
            value = getattr(self, name)
            _require(_is_real(value) and 0 < value < math.inf, name, "a finite number > 0", value)
        _require(
            isinstance(self.flag_4_neighbors, bool | np.bool_),
            "flag_4_neighbors",
            "True or False",
            self.flag_4_neighbors,
        )
        low, high = self.min_jump_to_flag_neighbors, self.max_jump_to_flag_neighbors
        _require(
            _is_real(low) and 0 <= low < math.inf,
            "min_jump_to_flag_neighbors",
            "a finite number >= 0",
            low,
        )
        _require(
            _is_real(high) and high > low,
            "max_jump_to_flag_neighbors",
            f"a number > min_jump_to_flag_neighbors ({low})",
            high,
        )
        for name in (
            "after_jump_flag_dn1",
            "after_jump_flag_time1",
            "after_jump_flag_dn2",
            "after_jump_flag_time2",
        ):
            value = getattr(self, name)
            _require(_is_real(value) and 0 <= value < math.inf, name, "a finite number >= 0", value)
        check_block_rows(self.block_rows)

    def threshold_table(self, max_differences: int) -> np.ndarray:
        """Threshold (sigma) indexed by the number of usable differences.

        Parameters
        ----------
        max_differences : int
            The largest possible number of differences (ngroups - 1).

        Returns
        -------
        ndarray float32 [max_differences + 1]
            +inf for fewer than 2 differences (nothing can be detected).
        """
        table = np.full(max(max_differences, 4) + 1, self.rejection_threshold, np.float32)
        table[:2] = np.inf
        table[2] = self.three_group_rejection_threshold
        table[3] = self.four_group_rejection_threshold
        return table

    def after_jump_rules(self) -> tuple[tuple[float, float], ...]:
        """The enabled after-jump rules as ``(dn, time)`` pairs."""
        rules = (
            (self.after_jump_flag_dn1, self.after_jump_flag_time1),
            (self.after_jump_flag_dn2, self.after_jump_flag_time2),
        )
        return tuple((dn, time) for dn, time in rules if dn > 0 and time > 0)


@dataclass(frozen=True)
class PrimaryJumps:
    """Jumps found by the two-point test, one entry per jump.

    Attributes
    ----------
    read : ndarray intp
        Index of the read after the jump (the read that is flagged).
    pixel : ndarray intp
        Flat pixel index ``row * nx + col``.
    ratio : ndarray float32
        ``|difference - median| / sigma`` when the jump was found.
    amplitude : ndarray float32
        ``(difference - median) * dt``: the jump in DN.
    """

    read: np.ndarray
    pixel: np.ndarray
    ratio: np.ndarray
    amplitude: np.ndarray

    @classmethod
    def concatenate(cls, parts: list[PrimaryJumps]) -> PrimaryJumps:
        """Join several lists of jumps."""
        if not parts:
            empty_int, empty_float = np.empty(0, np.intp), np.empty(0, np.float32)
            return cls(empty_int, empty_int, empty_float, empty_float)
        columns = (field.name for field in fields(cls))
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in columns))


@dataclass(frozen=True)
class Differences:
    """First differences of consecutive usable reads, as rates.

    Attributes
    ----------
    rates : ndarray float32 [ndiff, npix]
        ``rates[k - 1] = (data[k] - data[j]) / (times[k] - times[j])`` for the
        previous usable read ``j``; NaN when read ``k`` or every earlier read is unusable.
    intervals : ndarray float32 [ndiff, npix] or [ndiff, 1]
        ``times[k] - times[j]``, seconds (one column when the same for all pixels).
    uniform : bool
        Every usable difference spans the same interval (evenly spaced reads and
        differences between consecutive reads): the median needs no weights.
    """

    rates: np.ndarray
    intervals: np.ndarray
    uniform: bool

    def interval(self, diff: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """Interval of difference ``diff[i]`` of pixel ``pixels[i]``."""
        return self.intervals[diff, pixels if self.intervals.shape[1] > 1 else 0]

    def select(self, pixels: np.ndarray) -> Differences:
        """Only the given pixels (a copy)."""
        intervals = self.intervals if self.intervals.shape[1] == 1 else self.intervals[:, pixels]
        return Differences(self.rates[:, pixels], intervals, self.uniform)

    def with_rates(self, rates: np.ndarray) -> Differences:
        """The same intervals with other rates."""
        return Differences(rates, self.intervals, self.uniform)


def difference_rates(data: np.ndarray, usable: np.ndarray, times: np.ndarray) -> Differences:
    """Rates between consecutive reads, NaN unless both are usable.

    For pixels without an unusable read between two usable ones (see
    :func:`has_gap` and :func:`bridged_differences` for the others).

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    usable : ndarray bool [ngroups, npix]
    times : ndarray float64 [ngroups]

    Returns
    -------
    Differences
        With one column of intervals; uniform when the reads are evenly spaced.
    """
    steps = np.diff(times)
    rates = np.diff(data, axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        rates /= steps.astype(np.float32)[:, None]
    np.copyto(rates, np.float32(np.nan), where=~(usable[1:] & usable[:-1]))
    uniform = bool(np.all(steps == steps[0]))
    return Differences(rates, steps.astype(np.float32)[:, None], uniform)


def has_gap(usable: np.ndarray) -> np.ndarray:
    """Pixels with an unusable read between two usable reads.

    Parameters
    ----------
    usable : ndarray bool [ngroups, npix]

    Returns
    -------
    ndarray bool [npix]
    """
    seen = usable[0].copy()
    closed = np.zeros_like(seen)
    gap = np.zeros_like(seen)
    for k in range(1, usable.shape[0]):
        closed |= seen & ~usable[k]
        gap |= closed & usable[k]
        seen |= usable[k]
    return gap


def bridged_differences(data: np.ndarray, usable: np.ndarray, times: np.ndarray) -> Differences:
    """Rates between each usable read and the previous usable read, across gaps.

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    usable : ndarray bool [ngroups, npix]
    times : ndarray float64 [ngroups]

    Returns
    -------
    Differences
        ``rates[k - 1] = (data[k] - data[j]) / (times[k] - times[j])`` for the previous
        usable read ``j`` (NaN when read ``k`` or every earlier read is unusable), with
        per-pixel intervals; never uniform.
    """
    ngroups, npix = data.shape
    rates = np.empty((ngroups - 1, npix), np.float32)
    intervals = np.empty((ngroups - 1, npix), np.float32)
    previous_value = data[0].copy()
    previous_read = np.zeros(npix, np.intp)
    seen = usable[0].copy()
    for k in range(1, ngroups):
        interval = (times[k] - times.take(previous_read)).astype(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            rate = (data[k] - previous_value) / interval
        rates[k - 1] = np.where(usable[k] & seen, rate, np.float32(np.nan))
        intervals[k - 1] = interval
        np.copyto(previous_value, data[k], where=usable[k])
        np.copyto(previous_read, k, where=usable[k])
        seen |= usable[k]
    return Differences(rates, intervals, False)


@functools.cache
def sorting_network(size: int) -> tuple[tuple[int, int], ...]:
    """Comparator pairs of Batcher's odd-even merge sort for ``size`` elements.

    Built for the next power of two; comparators touching an index >= ``size`` are
    dropped, which is exact when the missing elements are taken as +inf.
    """
    padded = 1 << max(0, (size - 1).bit_length())
    pairs = []
    p = 1
    while p < padded:
        k = p
        while k >= 1:
            for j in range(k % p, padded - k, 2 * k):
                for i in range(min(k, padded - j - k)):
                    low, high = i + j, i + j + k
                    if low // (2 * p) == high // (2 * p) and high < size:
                        pairs.append((low, high))
            k //= 2
        p *= 2
    return tuple(pairs)


def sort_along_axis0(ordered: np.ndarray) -> None:
    """Sort each column of ``ordered`` (no NaN) in place, with a network of plane-wide
    min/max operations.

    For the few values of a ramp this is several times faster than ``np.sort``
    along a strided axis.

    Parameters
    ----------
    ordered : ndarray [nvalues, npix]
        Sorted in place along axis 0.
    """
    low = np.empty_like(ordered[0])
    for i, j in sorting_network(ordered.shape[0]):
        np.minimum(ordered[i], ordered[j], out=low)
        np.maximum(ordered[i], ordered[j], out=ordered[j])
        ordered[i] = low


def sorted_order(rates: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Indices that sort each pixel's rates, unusable ones last.

    The difference index is written into the lowest mantissa bits of each rate and
    the keys are sorted with a sorting network; only rates equal to within a few
    units in the last place can change places.

    Parameters
    ----------
    rates : ndarray float32 [ndiff, npix]
    usable : ndarray bool [ndiff, npix]

    Returns
    -------
    ndarray int32 [ndiff, npix]
    """
    ndiff = rates.shape[0]
    mask = np.int32((1 << max(1, (ndiff - 1).bit_length())) - 1)
    keys = np.where(usable, rates, _LAST).view(np.int32)
    keys &= ~mask
    keys |= np.arange(ndiff, dtype=np.int32)[:, None]
    sort_along_axis0(keys.view(np.float32))
    keys &= mask
    return keys


def value_at(values: np.ndarray, order: np.ndarray, position: np.ndarray) -> np.ndarray:
    """``values[order[position[i], i], i]`` for every pixel ``i``."""
    return np.take_along_axis(values, np.take_along_axis(order, position[None], 0), 0)[0]


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
        From :func:`sorted_order`.
    count : ndarray int [npix]
        Number of rates with non-zero weight.

    Returns
    -------
    ndarray float32 [npix]
    """
    centres = np.empty_like(sorted_weights)
    total = np.zeros_like(sorted_weights[0])
    for k, weight in enumerate(sorted_weights):
        centres[k] = total + weight * np.float32(0.5)
        total += weight
    half = total * np.float32(0.5)
    last = np.maximum(count - 1, 0)
    low = np.minimum(np.maximum(np.count_nonzero(centres <= half, axis=0) - 1, 0), last)
    high = np.minimum(low + 1, last)
    centre_low = np.take_along_axis(centres, low[None], 0)[0]
    centre_high = np.take_along_axis(centres, high[None], 0)[0]
    value_low = value_at(rates, order, low)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip((half - centre_low) / (centre_high - centre_low), 0, 1)
    fraction[high == low] = 0
    return value_low + fraction * (value_at(rates, order, high) - value_low)


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
    weights : ndarray float32 [ndiff, npix] or None
        Weight of each difference in the median (0 where not used); None when the
        differences are uniform (equal weights).
    order : ndarray int32 [ndiff, npix]
        Indices that sort the tested rates (unusable ones last).
    """

    median: np.ndarray
    count: np.ndarray
    kept: np.ndarray
    weights: np.ndarray | None
    order: np.ndarray


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
    count = np.count_nonzero(usable, axis=0)
    order = sorted_order(rates, usable)
    drop = dropped_largest(count, plain)
    kept = count - drop
    if tested.uniform:
        with np.errstate(invalid="ignore"):
            median = (
                value_at(rates, order, np.maximum(kept - 1, 0) // 2)
                + value_at(rates, order, kept // 2)
            ) * np.float32(0.5)
        weights = None
    else:
        weights = np.where(usable, tested.intervals, np.float32(0))
        dropped = np.flatnonzero(drop)
        weights[order[count[dropped] - 1, dropped], dropped] = 0
        in_median = np.arange(rates.shape[0])[:, None] < kept
        if tested.intervals.shape[1] == 1:
            sorted_weights = tested.intervals[:, 0].take(order)
            sorted_weights *= in_median
        else:
            sorted_weights = np.take_along_axis(weights, order, 0)
        median = weighted_median(rates, sorted_weights, order, kept)
    median[kept < 1] = np.nan
    return RobustRate(median, count, kept, weights, order)


def noise_terms(rate: RobustRate, inverse_gain, read_variance) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel terms of ``sigma_i^2 = (floor + poisson * dt_i) / dt_i^2``.

    ``floor`` is ``2 RN^2``, NaN for a pixel with no noise at all (read noise and
    median 0), which cannot be tested (stcal: sigma 0 -> NaN); ``poisson`` is
    ``|m| / g``.
    """
    median = rate.median
    floor = np.where((read_variance == 0) & (median == 0), np.float32(np.nan), read_variance)
    return floor, np.abs(median) * inverse_gain


def largest_outliers(
    tested: Differences,
    rate: RobustRate,
    plain: np.ndarray,
    inverse_gain: np.ndarray,
    read_variance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
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

    Parameters
    ----------
    tested : Differences
    rate : RobustRate
    plain : ndarray bool [npix]
    inverse_gain : ndarray float32 [npix]
        1 / gain, DN/e-.
    read_variance : ndarray float32 [npix]
        Read-noise variance of a difference of two reads, ``2 RN^2`` (DN^2).

    Returns
    -------
    largest : ndarray float32 [npix]
        The largest ratio; -inf where nothing can be tested.
    worst : ndarray intp [npix]
        Index of that difference.
    """
    if rate.weights is None:
        return largest_uniform_outliers(tested, rate, plain, inverse_gain, read_variance)
    rates, intervals, median, weights = tested.rates, tested.intervals, rate.median, rate.weights
    npix = rates.shape[1]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        floor, poisson = noise_terms(rate, inverse_gain, read_variance)

        def variance(k: int) -> np.ndarray:
            """``sigma_k^2`` of difference ``k``."""
            return (floor + poisson * intervals[k]) / (intervals[k] * intervals[k])

        spread = np.zeros(npix, np.float32)
        for k in range(rates.shape[0]):
            spread += weights[k] / np.sqrt(variance(k))
        median_variance = _HALF_PI * np.sum(weights * weights, axis=0) / (spread * spread)
        shift = np.where(plain, np.sqrt(_HALF_PI) / spread, np.float32(0))
        plain_extra = np.where(plain, median_variance, np.float32(0))
        uneven = ~plain & (rate.kept >= 4)
        any_uneven = bool(uneven.any())
        largest = np.full(npix, -np.inf, np.float32)
        worst = np.zeros(npix, np.intp)
        for k in range(rates.shape[0]):
            sigma2 = variance(k)
            if any_uneven:
                excess = np.maximum(median_variance - sigma2 * (_HALF_PI / rate.kept), 0)
                sigma2 += np.where(uneven, excess, plain_extra)
            else:
                sigma2 += plain_extra
            ratio = (np.abs(rates[k] - median) + shift * weights[k]) / np.sqrt(sigma2)
            better = ratio > largest
            np.copyto(largest, ratio, where=better)
            worst[better] = k
    return largest, worst


def largest_uniform_outliers(
    tested: Differences,
    rate: RobustRate,
    plain: np.ndarray,
    inverse_gain: np.ndarray,
    read_variance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`largest_outliers` when every difference spans the same interval.

    All ``sigma_i`` are equal, so the most deviant difference is the smallest or the
    largest rate; ``V = (pi/2) sigma^2 / N`` and ``delta = sqrt(pi/2) sigma / N``.
    """
    count, median, order = rate.count, rate.median, rate.order
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        floor, poisson = noise_terms(rate, inverse_gain, read_variance)
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
    return largest, worst.astype(np.intp)


def find_primary_jumps(
    data: np.ndarray,
    groupdq: np.ndarray,
    times: np.ndarray,
    gain: np.ndarray,
    read_noise: np.ndarray,
    params: JumpParameters,
) -> PrimaryJumps:
    """Iterative two-point-difference search on one block of pixels.

    Pixels with an unusable read between usable ones are searched separately, on
    differences that span the gap, so that every pixel's result depends on its own
    data only.

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    groupdq : ndarray [ngroups, npix]
    times : ndarray float64 [ngroups]
    gain, read_noise : ndarray float32 [npix]
    params : JumpParameters

    Returns
    -------
    PrimaryJumps
        With pixel indices local to the block.
    """
    usable = usable_reads(data, groupdq, pixel_valid(gain, read_noise))
    gapped = has_gap(usable)
    if not gapped.any():
        groups = [(np.arange(data.shape[1]), difference_rates(data, usable, times))]
    else:
        whole, bridged = np.flatnonzero(~gapped), np.flatnonzero(gapped)
        groups = [
            (whole, difference_rates(data, usable, times).select(whole)),
            (bridged, bridged_differences(data[:, bridged], usable[:, bridged], times)),
        ]
    return PrimaryJumps.concatenate(
        [
            search_jumps(differences, pixels, gain[pixels], read_noise[pixels], params)
            for pixels, differences in groups
        ]
    )


def search_jumps(
    differences: Differences,
    pixels: np.ndarray,
    gain: np.ndarray,
    read_noise: np.ndarray,
    params: JumpParameters,
) -> PrimaryJumps:
    """Flag the largest outlier above threshold, mask it, repeat (see module doc).

    Parameters
    ----------
    differences : Differences
        Of the pixels searched.
    pixels : ndarray intp
        Their indices in the block.
    gain, read_noise : ndarray float32
        Of those pixels.
    params : JumpParameters

    Returns
    -------
    PrimaryJumps
    """
    thresholds = params.threshold_table(differences.rates.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse_gain = np.float32(1) / gain
    read_variance = 2 * read_noise * read_noise
    plain = np.count_nonzero(~np.isnan(differences.rates), axis=0) >= PLAIN_MEDIAN
    found = []
    while pixels.size:
        signed = differences.rates
        tested = (
            differences
            if plain.all()
            else differences.with_rates(np.where(plain, signed, np.abs(signed)))
        )
        rate = robust_rate(tested, plain)
        largest, worst = largest_outliers(tested, rate, plain, inverse_gain, read_variance)
        hit = np.flatnonzero(largest > thresholds[np.minimum(rate.count, thresholds.size - 1)])
        if hit.size == 0:
            break
        worst = worst[hit]
        amplitude = (signed[worst, hit] - rate.median[hit]) * differences.interval(worst, hit)
        found.append(PrimaryJumps(worst + 1, pixels[hit], largest[hit], amplitude))
        differences = differences.select(hit)
        differences.rates[worst, np.arange(hit.size)] = np.nan
        inverse_gain, read_variance = inverse_gain[hit], read_variance[hit]
        plain, pixels = plain[hit], pixels[hit]
    return PrimaryJumps.concatenate(found)


def read_is_usable(
    inputs: RampInputs, read: np.ndarray, row: np.ndarray, col: np.ndarray
) -> np.ndarray:
    """Whether each listed read (``read``, ``row``, ``col``) is usable.

    Parameters
    ----------
    inputs : RampInputs
    read, row, col : ndarray of int

    Returns
    -------
    ndarray of bool
    """
    valid = pixel_valid(inputs.gain[row, col], inputs.read_noise[row, col])
    return usable_reads(inputs.data[read, row, col], inputs.groupdq[read, row, col], valid)


def flag_reads(
    output: np.ndarray, inputs: RampInputs, read: np.ndarray, row: np.ndarray, col: np.ndarray
) -> None:
    """OR ``CR_RAMP`` into the listed reads of ``output`` that are usable."""
    ok = read_is_usable(inputs, read, row, col)
    output[read[ok], row[ok], col[ok]] |= np.uint16(dqflags.CR_RAMP)


def flag_neighbours(
    output: np.ndarray, inputs: RampInputs, jumps: PrimaryJumps, params: JumpParameters
) -> None:
    """Flag the same read in the 4 neighbours of jumps inside the ratio window.

    Works on the whole frame from the list of jumps, so block edges do not matter.
    """
    ny, nx = output.shape[1:]
    inside = (jumps.ratio > params.min_jump_to_flag_neighbors) & (
        jumps.ratio < params.max_jump_to_flag_neighbors
    )
    read = jumps.read[inside]
    row, col = np.divmod(jumps.pixel[inside], nx)
    for drow, dcol in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        nrow, ncol = row + drow, col + dcol
        on_frame = (nrow >= 0) & (nrow < ny) & (ncol >= 0) & (ncol < nx)
        flag_reads(output, inputs, read[on_frame], nrow[on_frame], ncol[on_frame])


def flag_after_jumps(
    output: np.ndarray, inputs: RampInputs, jumps: PrimaryJumps, params: JumpParameters
) -> None:
    """Flag the reads taken within the configured time after large jumps."""
    window = np.zeros(jumps.read.size)
    for dn, time in params.after_jump_rules():
        window = np.where(jumps.amplitude >= dn, np.maximum(window, time), window)
    chosen = window > 0
    first, window = jumps.read[chosen], window[chosen]
    row, col = np.divmod(jumps.pixel[chosen], output.shape[2])
    times = inputs.times
    ngroups = times.size
    for step in range(1, ngroups):
        later = first + step
        inside = later < ngroups
        inside[inside] = times[later[inside]] - times[first[inside]] <= window[inside]
        if not inside.any():
            break
        flag_reads(output, inputs, later[inside], row[inside], col[inside])


def detect_jumps(data, groupdq, times, gain, read_noise, params=JumpParameters()) -> np.ndarray:
    """Flag jumps (cosmic rays) by two-point differences on the real read times.

    Parameters
    ----------
    data : ndarray float32 [ngroups, ny, nx]
        The ramp in DN, time order (group 0 is the zeroth read).
    groupdq : ndarray uint16 [ngroups, ny, nx]
        Per-read DQ. Reads with a :data:`~hstramp.core.blocks.UNUSABLE` flag
        (saturated or do-not-use) and non-finite reads never take part.
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read (``times[0] == 0``, strictly increasing).
    gain : float or ndarray float32 [ny, nx]
        Gain, e-/DN.
    read_noise : float or ndarray float32 [ny, nx]
        Read noise of a single read, DN.
    params : JumpParameters, optional

    Returns
    -------
    ndarray uint16 [ngroups, ny, nx]
        A new array: ``groupdq`` with ``CR_RAMP`` OR-ed into the read after each
        jump, and into neighbours and after-jump reads as configured. The inputs
        are never modified.
    """
    inputs = ramp_inputs(data, groupdq, times, gain, read_noise)
    output = np.array(inputs.groupdq, dtype=np.uint16, order="C", copy=True)
    ngroups, ny, nx = inputs.shape
    if ngroups < 3:
        log.debug("fewer than 3 reads: no jump can be detected")
        return output
    parts = []
    for rows in row_blocks(ny, nx, ngroups, params.block_rows):
        jumps = find_primary_jumps(
            block_view(inputs.data, rows, np.float32),
            block_view(inputs.groupdq, rows),
            inputs.times,
            plane_view(inputs.gain, rows),
            plane_view(inputs.read_noise, rows),
            params,
        )
        parts.append(
            PrimaryJumps(jumps.read, jumps.pixel + rows.start * nx, jumps.ratio, jumps.amplitude)
        )
    jumps = PrimaryJumps.concatenate(parts)
    row, col = np.divmod(jumps.pixel, nx)
    output[jumps.read, row, col] |= np.uint16(dqflags.CR_RAMP)
    if params.flag_4_neighbors:
        flag_neighbours(output, inputs, jumps, params)
    if params.after_jump_rules():
        flag_after_jumps(output, inputs, jumps, params)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%d primary jumps in %d pixels", jumps.read.size, np.unique(jumps.pixel).size)
    return output
