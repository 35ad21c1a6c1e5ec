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
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from hstramp.core import dqflags
from hstramp.core.blocks import (
    RampInputs,
    auto_block_rows,
    check_block_rows,
    gather,
    pixel_valid,
    plane_view,
    ramp_inputs,
    row_blocks,
    usable_reads,
)
from hstramp.core.outputs import output_arrays

__all__ = ["JumpParameters", "detect_jumps"]

log = logging.getLogger(__name__)

#: Sort key of unusable differences (finite, above any rate).
_LAST = np.float32(3e38)
_HALF_PI = np.float32(np.pi / 2)
#: From this many usable differences a pixel is tested on its signed differences with
#: a plain median (stcal's single pass); below, on absolute differences with a clipped
#: median (stcal's iterative search).
PLAIN_MEDIAN = 10
#: From this many values :func:`sorted_along_axis0` uses ``np.sort``, not a network.
NETWORK_LIMIT = 40
#: From this many pixels :func:`largest_by_interval` is used (fewer plane operations,
#: more calls).
BY_INTERVAL_PIXELS = 256


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
        """Only the given pixels (a C-ordered copy, so that rows stay contiguous)."""
        intervals = self.intervals
        if intervals.shape[1] > 1:
            intervals = intervals.take(pixels, axis=1)
        return Differences(self.rates.take(pixels, axis=1), intervals, self.uniform)

    def with_rates(self, rates: np.ndarray) -> Differences:
        """The same intervals with other rates."""
        return Differences(rates, self.intervals, self.uniform)

    @property
    def shared(self) -> bool:
        """One column of intervals serves every pixel."""
        return self.intervals.shape[1] == 1

    @classmethod
    def concatenate(cls, parts: list[Differences]) -> Differences:
        """The pixels of several parts, side by side (all uniform or all not).

        One column of intervals stays shared when every part has that same column;
        otherwise each pixel gets its own.
        """
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        rates = np.concatenate([part.rates for part in parts], axis=1)
        if all(part.shared and np.array_equal(part.intervals, first.intervals) for part in parts):
            intervals = first.intervals
        else:
            intervals = np.concatenate(
                [np.broadcast_to(part.intervals, part.rates.shape) for part in parts], axis=1
            )
        return cls(rates, intervals, first.uniform)


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


def has_gap(usable: np.ndarray) -> np.ndarray:
    """Pixels with an unusable read between two usable reads (two runs of usable reads
    or more).

    Parameters
    ----------
    usable : ndarray bool [ngroups, npix]

    Returns
    -------
    ndarray bool [npix]
    """
    starts = usable[1:] & ~usable[:-1]
    return usable[0] + count_true(starts) >= 2


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


def sorted_along_axis0(values: np.ndarray) -> np.ndarray:
    """Each column of ``values`` (no NaN) sorted, with a network of plane-wide
    min/max operations.

    For the few values of a ramp this is several times faster than ``np.sort``
    along a strided axis; from :data:`NETWORK_LIMIT` values, whose network grows as
    ``n log^2 n``, ``np.sort`` is used (the same result when no two values are equal).
    The rows are never copied inside the network: each comparator writes its minimum
    into a spare row and the rows are renamed.

    Parameters
    ----------
    values : ndarray [nvalues, npix]
        Used as scratch space (overwritten).

    Returns
    -------
    ndarray [nvalues, npix]
    """
    if values.shape[0] >= NETWORK_LIMIT and not np.isnan(values).any():
        return np.sort(values, axis=0)
    rows = list(values)
    spare = np.empty_like(values[0])
    for i, j in sorting_network(values.shape[0]):
        np.minimum(rows[i], rows[j], out=spare)
        np.maximum(rows[i], rows[j], out=rows[j])
        rows[i], spare = spare, rows[i]
    return np.stack(rows)


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
    ndarray intp [ndiff, npix]
    """
    ndiff = rates.shape[0]
    mask = np.int32((1 << max(1, (ndiff - 1).bit_length())) - 1)
    if (rates > _LAST).any():
        keys = np.where(usable, rates, _LAST).view(np.int32)
    else:  # the same keys: _LAST in place of NaN (unusable), without a masked copy
        keys = np.fmin(rates, _LAST).view(np.int32)
    keys &= ~mask
    keys |= np.arange(ndiff, dtype=np.int32)[:, None]
    keys = sorted_along_axis0(keys.view(np.float32)).view(np.int32)
    return np.bitwise_and(keys, mask, dtype=np.intp)


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
        with np.errstate(invalid="ignore"):
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


def noise_terms(median: np.ndarray, inverse_gain, read_variance) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel terms of ``sigma_i^2 = (floor + poisson * dt_i) / dt_i^2``.

    ``floor`` is ``2 RN^2``, NaN for a pixel with no noise at all (read noise and
    median 0), which cannot be tested (stcal: sigma 0 -> NaN); ``poisson`` is
    ``|m| / g``.
    """
    floor = np.where((read_variance == 0) & (median == 0), np.float32(np.nan), read_variance)
    return floor, np.abs(median) * inverse_gain


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


def column_largest(ratios: np.ndarray) -> np.ndarray:
    """The largest of each column, ignoring NaN; -inf where all are NaN."""
    largest = np.fmax.reduce(ratios, axis=0)
    largest[np.isnan(largest)] = -np.inf
    return largest


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


@dataclass(frozen=True)
class Search:
    """Pixels still being searched for jumps, with what the search needs of each.

    Attributes
    ----------
    differences : Differences
        Their difference rates, jumps found so far masked (NaN).
    pixels : ndarray intp
        Flat frame index ``row * nx + col`` of each.
    inverse_gain : ndarray float32
        1 / gain, DN/e-.
    read_variance : ndarray float32
        ``2 RN^2``, DN^2.
    plain : ndarray bool
        In the plain regime (decided on the differences usable before any jump).
    bridged : bool
        The differences span gaps (:func:`bridged_differences`).
    """

    differences: Differences
    pixels: np.ndarray
    inverse_gain: np.ndarray
    read_variance: np.ndarray
    plain: np.ndarray
    bridged: bool

    @classmethod
    def start(
        cls,
        differences: Differences,
        pixels: np.ndarray,
        gain: np.ndarray,
        read_noise: np.ndarray,
        bridged: bool,
    ) -> Search:
        """A search of ``pixels`` (frame indices) with their gain and read noise."""
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse_gain = np.float32(1) / gain
        read_variance = 2 * read_noise * read_noise
        plain = count_true(~np.isnan(differences.rates)) >= PLAIN_MEDIAN
        return cls(differences, pixels, inverse_gain, read_variance, plain, bridged)

    @property
    def size(self) -> int:
        """Number of pixels."""
        return self.pixels.size

    @property
    def kind(self) -> tuple[bool, bool]:
        """Searches of the same kind are joined: ``(uniform, bridged)``."""
        return self.differences.uniform, self.bridged

    def select(self, chosen: np.ndarray) -> Search:
        """Only the ``chosen`` pixels (positions in this search; a copy)."""
        return Search(
            self.differences.select(chosen),
            self.pixels[chosen],
            self.inverse_gain[chosen],
            self.read_variance[chosen],
            self.plain[chosen],
            self.bridged,
        )

    @classmethod
    def concatenate(cls, parts: list[Search]) -> Search:
        """The pixels of several searches of one kind."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            Differences.concatenate([part.differences for part in parts]),
            *(
                np.concatenate([getattr(part, name) for part in parts])
                for name in ("pixels", "inverse_gain", "read_variance", "plain")
            ),
            parts[0].bridged,
        )


def columns(chosen: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """The ``chosen`` columns of each 2-D array, as C-ordered copies."""
    return [array.take(chosen, axis=1) for array in arrays]


def block_searches(
    data: np.ndarray,
    groupdq: np.ndarray,
    times: np.ndarray,
    gain: np.ndarray,
    read_noise: np.ndarray,
    first_pixel: int,
) -> list[Search]:
    """The searches of one block of pixels.

    Pixels with an unusable read between usable ones are searched separately, on
    differences that span the gap, so that every pixel's result depends on its own
    data only.

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    groupdq : ndarray [ngroups, npix]
    times : ndarray float64 [ngroups]
    gain, read_noise : ndarray float32 [npix]
    first_pixel : int
        Frame index of the block's first pixel.

    Returns
    -------
    list of Search
        With frame pixel indices.
    """
    usable = usable_reads(data, groupdq, pixel_valid(gain, read_noise))
    gapped = has_gap(usable)
    if not gapped.any():
        pixels = np.arange(first_pixel, first_pixel + data.shape[1])
        differences = difference_rates(data, usable, times)
        return [Search.start(differences, pixels, gain, read_noise, bridged=False)]
    whole, bridged = np.flatnonzero(~gapped), np.flatnonzero(gapped)
    groups = [
        (whole, difference_rates(data, usable, times).select(whole), False),
        (bridged, bridged_differences(*columns(bridged, data, usable), times), True),
    ]
    return [
        Search.start(differences, pixels + first_pixel, gain[pixels], read_noise[pixels], gaps)
        for pixels, differences, gaps in groups
        if pixels.size
    ]


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


def search_round(
    search: Search, thresholds: np.ndarray, first: bool = False
) -> tuple[PrimaryJumps, Search]:
    """One round of the search: each pixel's largest outlier, if above its threshold.

    Parameters
    ----------
    search : Search
    thresholds : ndarray float32
        From :meth:`JumpParameters.threshold_table`.
    first : bool, optional
        The first round of these pixels, where few have a jump (a choice of method
        only: the result is the same).

    Returns
    -------
    jumps : PrimaryJumps
        The jumps found in this round (at most one per pixel).
    remaining : Search
        The pixels that had one, with it masked: only they can have another.
    """
    differences, plain = search.differences, search.plain
    signed = differences.rates
    tested = differences.with_rates(tested_rates(signed, plain))
    rate = robust_rate(tested, plain)
    outliers = largest_outliers(
        tested, rate, plain, search.inverse_gain, search.read_variance, by_interval=first
    )
    largest = outliers.largest
    hit = np.flatnonzero(largest > thresholds[np.minimum(rate.count, thresholds.size - 1)])
    worst = outliers.worst(hit)
    amplitude = (signed[worst, hit] - rate.median[hit]) * differences.interval(worst, hit)
    jumps = PrimaryJumps(worst + 1, search.pixels[hit], largest[hit], amplitude)
    remaining = search.select(hit)
    remaining.differences.rates[worst, np.arange(hit.size)] = np.nan
    return jumps, remaining


def finish_search(search: Search, thresholds: np.ndarray) -> list[PrimaryJumps]:
    """Repeat :func:`search_round` until no pixel has another jump."""
    found = []
    while search.size:
        jumps, search = search_round(search, thresholds)
        found.append(jumps)
    return found


class PendingSearches:
    """Pixels left after the first round of their block, searched together.

    After the first round only the few pixels that had a jump are searched again;
    searching them block by block would spend most of the time in the overhead of
    many small rounds. They are gathered (by kind) from consecutive blocks and
    searched once at least ``capacity`` pixels wait, so the memory they hold stays
    about that of one block. Every value is computed per pixel: grouping does not
    change the results.

    Parameters
    ----------
    thresholds : ndarray float32
        From :meth:`JumpParameters.threshold_table`.
    capacity : int
        Pixels gathered before they are searched.
    """

    def __init__(self, thresholds: np.ndarray, capacity: int):
        self.thresholds = thresholds
        self.capacity = capacity
        self.waiting: dict[tuple[bool, bool], list[Search]] = {}
        self.size = 0

    def add(self, search: Search) -> list[PrimaryJumps]:
        """Queue ``search``; the jumps found if the queue was full (else none)."""
        if search.size:
            self.waiting.setdefault(search.kind, []).append(search)
            self.size += search.size
        return self.finish() if self.size >= self.capacity else []

    def finish(self) -> list[PrimaryJumps]:
        """Search every waiting pixel to the end; the jumps found."""
        found = []
        for parts in self.waiting.values():
            found += finish_search(Search.concatenate(parts), self.thresholds)
        self.waiting, self.size = {}, 0
        return found


def find_primary_jumps(inputs: RampInputs, params: JumpParameters) -> PrimaryJumps:
    """Every jump found by the two-point test, block by block.

    Each block's pixels have their first round in the block; the pixels that had a
    jump go on in :class:`PendingSearches`.

    Parameters
    ----------
    inputs : RampInputs
    params : JumpParameters

    Returns
    -------
    PrimaryJumps
        With frame pixel indices, in no particular order.
    """
    ngroups, ny, nx = inputs.shape
    thresholds = params.threshold_table(ngroups - 1)
    block_pixels = (params.block_rows or auto_block_rows(ngroups, nx)) * nx
    pending = PendingSearches(thresholds, capacity=block_pixels)
    found = []
    for rows in row_blocks(ny, nx, ngroups, params.block_rows):
        searches = block_searches(
            inputs.data_block(rows),
            inputs.dq_block(rows),
            inputs.times,
            plane_view(inputs.gain, rows),
            plane_view(inputs.read_noise, rows),
            rows.start * nx,
        )
        for search in searches:
            jumps, remaining = search_round(search, thresholds, first=True)
            found.append(jumps)
            found += pending.add(remaining)
    found += pending.finish()
    return PrimaryJumps.concatenate(found)


def read_is_usable(
    inputs: RampInputs, valid: np.ndarray, index: np.ndarray, pixel: np.ndarray
) -> np.ndarray:
    """Whether each listed read is usable.

    Parameters
    ----------
    inputs : RampInputs
    valid : ndarray bool [ny, nx]
        :func:`~hstramp.core.blocks.pixel_valid` of the frame.
    index : ndarray of int
        Flat cube index ``read * ny * nx + pixel`` of each read.
    pixel : ndarray of int
        Its flat frame index ``row * nx + col``.

    Returns
    -------
    ndarray of bool
    """
    return usable_reads(
        inputs.values_at(index), inputs.dq_at(index), gather(valid, pixel)
    )


def flag_reads(
    output: np.ndarray, inputs: RampInputs, valid: np.ndarray, index: np.ndarray, pixel: np.ndarray
) -> None:
    """OR ``CR_RAMP`` into the listed reads of ``output`` (C-ordered) that are usable.

    Parameters
    ----------
    output : ndarray uint16 [ngroups, ny, nx]
    inputs : RampInputs
    valid, index, pixel
        As for :func:`read_is_usable`.
    """
    flat = output.reshape(-1)
    flat[index[read_is_usable(inputs, valid, index, pixel)]] |= np.uint16(dqflags.CR_RAMP)


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
    pixel = jumps.pixel[inside]
    index = jumps.read[inside] * (ny * nx) + pixel
    col = pixel % nx
    valid = pixel_valid(inputs.gain, inputs.read_noise)
    for step, on_frame in (
        (-nx, pixel >= nx),
        (nx, pixel < (ny - 1) * nx),
        (-1, col > 0),
        (1, col < nx - 1),
    ):
        flag_reads(output, inputs, valid, index[on_frame] + step, pixel[on_frame] + step)


def flag_after_jumps(
    output: np.ndarray, inputs: RampInputs, jumps: PrimaryJumps, params: JumpParameters
) -> None:
    """Flag the reads taken within the configured time after large jumps."""
    window = np.zeros(jumps.read.size)
    for dn, time in params.after_jump_rules():
        window = np.where(jumps.amplitude >= dn, np.maximum(window, time), window)
    chosen = window > 0
    first, window, pixel = jumps.read[chosen], window[chosen], jumps.pixel[chosen]
    frame = output.shape[1] * output.shape[2]
    valid = pixel_valid(inputs.gain, inputs.read_noise)
    times = inputs.times
    ngroups = times.size
    for step in range(1, ngroups):
        later = first + step
        inside = later < ngroups
        inside[inside] = times[later[inside]] - times[first[inside]] <= window[inside]
        if not inside.any():
            break
        index = later[inside] * frame + pixel[inside]
        flag_reads(output, inputs, valid, index, pixel[inside])


def detect_jumps(data, groupdq, times, gain, read_noise, params=JumpParameters(), *,
                 pixeldq=None, read_scale=None, out=None) -> np.ndarray:
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
    pixeldq : ndarray [ny, nx], optional
        Pixel DQ, OR-ed into every read (the result holds it too).
    read_scale : array_like [ngroups], optional
        Work on a ramp as the calibration steps leave it (count rates after UNITCORR: the
        read times; counts: ones): see :func:`hstramp.core.blocks.ramp_inputs`. The
        conversion is done block by block, without a second cube.
    out : ndarray uint16 [ngroups, ny, nx], optional
        Where to write the result; it may be ``groupdq`` itself (the flags this adds never
        make a read unusable, so the search is not affected). Default: a new array.

    Returns
    -------
    ndarray uint16 [ngroups, ny, nx]
        ``groupdq`` (OR ``pixeldq``) with ``CR_RAMP`` OR-ed into the read after each
        jump, and into neighbours and after-jump reads as configured; a new array unless
        ``out`` is given. The inputs are never modified (other than ``out``).
    """
    inputs = ramp_inputs(data, groupdq, times, gain, read_noise, read_scale, pixeldq)
    (output,) = output_arrays((inputs.groupdq,), (np.uint16,), None if out is None else (out,),
                              ("groupdq",))
    if inputs.pixeldq is not None:
        output |= inputs.pixeldq
    ngroups, ny, nx = inputs.shape
    if ngroups < 3:
        log.debug("fewer than 3 reads: no jump can be detected")
        return output
    jumps = find_primary_jumps(inputs, params)
    output.reshape(-1)[jumps.read * (ny * nx) + jumps.pixel] |= np.uint16(dqflags.CR_RAMP)
    if params.flag_4_neighbors:
        flag_neighbours(output, inputs, jumps, params)
    if params.after_jump_rules():
        flag_after_jumps(output, inputs, jumps, params)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%d primary jumps in %d pixels", jumps.read.size, np.unique(jumps.pixel).size)
    return output
