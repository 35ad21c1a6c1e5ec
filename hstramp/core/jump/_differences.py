"""First differences of the usable reads of each pixel, divided by their time intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.jump._columns import count_true


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
    with np.errstate(invalid="ignore", over="ignore"):  # reads near the float32 limit
        rates = np.diff(data, axis=0)
        rates /= steps.astype(np.float32)[:, None]
    np.copyto(rates, np.float32(np.nan), where=~(usable[1:] & usable[:-1]))
    uniform = bool(np.all(steps == steps[0]))
    return Differences(rates, steps.astype(np.float32)[:, None], uniform)


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
