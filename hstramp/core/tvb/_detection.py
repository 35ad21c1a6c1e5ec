"""TVB detection: the sky level of every read and how far it strays from a constant rate.

:func:`sky_levels` measures the sky of every read and its noise; :func:`detect_tvb` gives
the detection metric: how far the accumulated sky departs from a constant rate, as a
fraction of the exposure's sky, and which reads carry extra background.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from hstramp.core.tvb._parameters import DetectionParameters, SkyParameters
from hstramp.core.tvb._statistics import (
    MEDIAN_EFFICIENCY,
    ReadStatistics,
    exclusion_mask,
    read_statistics,
    region_slices,
    regular_sample,
    robust_sigma,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkyLevels:
    """The sky of every read of a ramp.

    Attributes
    ----------
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read.
    sky : ndarray float64 [ngroups]
        Sky accumulated since the zeroth read, counts (the chosen statistic of the region).
    noise : ndarray float64 [ngroups]
        Standard error of the sky collected in the interval ending at each read, counts:
        ``sqrt(pi/2)`` times the robust standard deviation (1.4826 MAD) of the difference of
        the read and the one before, over the square root of the number of pixels; NaN for
        read 0 (the deviation is measured on at most 65,536 evenly spread pixels). Per-read
        bias residuals common to all pixels are not in it.
    npix : ndarray int [ngroups]
        Pixels used for each read.
    statistics : ReadStatistics
        Every statistic of every read, in counts.
    """

    times: np.ndarray
    sky: np.ndarray
    noise: np.ndarray
    npix: np.ndarray
    statistics: ReadStatistics


def sky_levels(counts, times, *, dq=None,
               params: SkyParameters = SkyParameters(),  # noqa: B008 (frozen dataclass)
               ) -> SkyLevels:
    """Measure the sky of every read and the noise of each read-to-read increment.

    Parameters
    ----------
    counts : array_like [ngroups, ny, nx]
        Counts since the zeroth read
        (:func:`~hstramp.core.tvb.signal_since_zeroth_read`); not modified.
    times : array_like [ngroups]
        Seconds since the zeroth read.
    dq : array_like, optional
        DQ of the reads (see :func:`read_statistics`).
    params : SkyParameters, optional

    Returns
    -------
    SkyLevels
    """
    counts = np.asarray(counts)
    stats = read_statistics(counts, times, in_rates=False, units="counts", dq=dq, params=params)
    rows, cols = region_slices(counts.shape, params.region)
    mask = exclusion_mask(dq, params.dq_mask, counts.shape[1:])
    mask = None if mask is None else mask[rows, cols]
    noise = np.full(stats.times.size, np.nan)
    for k in range(1, stats.times.size):
        step = np.subtract(counts[k, rows, cols], counts[k - 1, rows, cols], dtype=np.float32)
        step = step[np.isfinite(step) if mask is None else ~mask & np.isfinite(step)]
        if step.size > 1:
            sample = regular_sample(step)
            sigma = robust_sigma(sample, np.median(sample))
            noise[k] = MEDIAN_EFFICIENCY * sigma / np.sqrt(step.size)
    return SkyLevels(times=stats.times, sky=getattr(stats, params.statistic), noise=noise,
                     npix=stats.npix, statistics=stats)


@dataclass(frozen=True)
class TVBDetection:
    """How far the sky of an exposure departs from a constant rate, and where.

    Attributes
    ----------
    metric : float
        ``max_i |D_i| / (R T)`` with ``D_i = S_i - R t_i``: the largest departure of the
        accumulated sky ``S_i`` from the constant-rate line, as a fraction of the exposure's
        sky ``R T`` (``T`` the last read's time). NaN when the sky rate ``R`` is not positive.
    significance : float
        ``|D_i| / sigma(D_i)`` at the read where ``|D_i|`` is largest.
    threshold : float
        The detection threshold used.
    affected : bool
        Some read departs by more than ``threshold`` (as a fraction of ``R T``) *and* by more
        than ``nsigma`` standard errors: noise alone (a short exposure with little sky) is
        never reported as a time-variable background.
    sky_rate : float
        ``R = S_last / T``, the exposure's mean sky rate (counts/s): what a flattened ramp
        keeps.
    quiet_rate : float
        The quiet sky rate: among the intervals precise enough to show an excess of
        ``read_threshold`` at ``nsigma`` (standard error at most
        ``read_threshold * R / nsigma``), the rate with the lowest upper bound (rate + 1
        sigma). NaN when no interval is that precise.
    deviation : ndarray [ngroups]
        ``D_i / (R T)`` for every read (0 for read 0 and the last read).
    deviation_error : ndarray [ngroups]
        Standard error of ``deviation`` from the sky noise.
    interval_rate, interval_error : ndarray [ngroups]
        Sky rate in the interval ending at each read and its standard error (NaN for read 0).
    excess : ndarray [ngroups]
        ``(interval_rate - quiet_rate) / R`` (NaN for read 0).
    measurable : ndarray of bool [ngroups]
        Intervals precise enough to show an excess of ``read_threshold`` at ``nsigma``
        (standard error at most ``read_threshold * R / nsigma``).
    affected_reads : ndarray of bool [ngroups]
        Reads whose interval has extra background: excess above ``read_threshold`` and above
        ``nsigma`` standard errors. Intervals too short or too noisy to show an excess of
        ``read_threshold`` at ``nsigma`` (such as the 0.1 to 3 s between the zeroth and the
        first read) are never reported: their error leaves out per-read bias residuals.
    times : ndarray [ngroups]
    sky : ndarray [ngroups]
        ``S_i``, counts.
    parameters : DetectionParameters
    """

    metric: float
    significance: float
    threshold: float
    affected: bool
    sky_rate: float
    quiet_rate: float
    deviation: np.ndarray
    deviation_error: np.ndarray
    interval_rate: np.ndarray
    interval_error: np.ndarray
    excess: np.ndarray
    measurable: np.ndarray
    affected_reads: np.ndarray
    times: np.ndarray
    sky: np.ndarray
    parameters: DetectionParameters = field(default_factory=DetectionParameters)

    @property
    def affected_read_indices(self) -> list[int]:
        """Indices (time order, 0 = zeroth read, as SAMPNUM) of the affected reads."""
        return [int(k) for k in np.flatnonzero(self.affected_reads)]


def _deviation_variance(times: np.ndarray, noise: np.ndarray, offset: float) -> np.ndarray:
    """Variance of ``D_i = S_i - (t_i / T) S_last``.

    From independent increment noises ``noise`` (a random walk) and an independent error
    ``offset`` on the level of every read (read 0 included, which every ``S_i`` is measured
    from).
    """
    variance = noise**2
    variance[0] = 0.0
    before = np.cumsum(variance)
    after = before[-1] - before
    fraction = (times - times[0]) / (times[-1] - times[0])
    walk = (1.0 - fraction) ** 2 * before + fraction**2 * after
    levels = offset**2 * (1.0 + fraction**2 + (1.0 - fraction) ** 2)
    levels[0] = levels[-1] = 0.0
    return walk + levels


def _precise(rate, error, mean_rate, params) -> np.ndarray:
    """Intervals whose error lets an excess of ``read_threshold`` show at ``nsigma``."""
    limit = params.read_threshold * mean_rate / params.nsigma if params.nsigma > 0 else np.inf
    return np.isfinite(rate) & (error <= limit)


def detect_tvb(times, sky, noise=None,
               params: DetectionParameters = DetectionParameters(),  # noqa: B008 (frozen)
               *, offset: float = 0.0) -> TVBDetection:
    """Measure how far the accumulated sky departs from a constant rate.

    Parameters
    ----------
    times : array_like [ngroups]
        Seconds since the zeroth read (at least 2 reads, strictly increasing).
    sky : array_like [ngroups]
        Sky accumulated since the zeroth read, counts (``SkyLevels.sky``).
    noise : array_like [ngroups], optional
        Standard error of each read-to-read sky increment, counts (``SkyLevels.noise``);
        None or NaN counts as 0.
    params : DetectionParameters, optional
    offset : float, optional
        Standard error of the level of every read, common to all its pixels, counts
        (:func:`~hstramp.core.tvb.reference_offset_noise`).

    Returns
    -------
    TVBDetection
    """
    times = np.asarray(times, dtype=np.float64)
    sky = np.asarray(sky, dtype=np.float64)
    if times.ndim != 1 or times.size < 2 or sky.shape != times.shape:
        raise ValueError(f"times {times.shape} and sky {sky.shape} must be equal 1-D arrays of "
                         "at least 2 reads")
    if not np.all(np.diff(times) > 0) or not np.all(np.isfinite(sky)):
        raise ValueError("times must be strictly increasing and the sky finite")
    noise = np.zeros_like(sky) if noise is None else np.nan_to_num(
        np.asarray(noise, dtype=np.float64), nan=0.0)
    elapsed = times - times[0]
    accumulated = sky - sky[0]
    total = elapsed[-1]
    rate = float(accumulated[-1] / total)
    nan = np.full(times.size, np.nan)
    interval_rate, interval_error = nan.copy(), nan.copy()
    interval_rate[1:] = np.diff(accumulated) / np.diff(elapsed)
    interval_error[1:] = np.sqrt(noise[1:] ** 2 + 2.0 * offset**2) / np.diff(elapsed)
    common = {"threshold": params.threshold, "sky_rate": rate, "interval_rate": interval_rate,
              "interval_error": interval_error, "times": times, "sky": sky,
              "parameters": params}
    if not rate > 0:
        log.debug("sky rate %.4g is not positive: no TVB metric", rate)
        return TVBDetection(metric=np.nan, significance=np.nan, affected=False,
                            quiet_rate=np.nan, deviation=nan.copy(),
                            deviation_error=nan.copy(), excess=nan.copy(),
                            measurable=np.zeros(times.size, bool),
                            affected_reads=np.zeros(times.size, bool), **common)
    scale = rate * total
    deviation = (accumulated - rate * elapsed) / scale
    deviation_error = np.sqrt(_deviation_variance(elapsed, noise, float(offset))) / scale
    size = np.abs(deviation)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigmas = np.where(deviation_error > 0, size / deviation_error, np.inf)
    sigmas[size == 0] = 0.0
    departs = (size > params.threshold) & (sigmas > params.nsigma)
    worst = int(np.argmax(size))
    measurable = _precise(interval_rate, interval_error, rate, params)
    if measurable.any():
        quiet = int(np.argmin(np.where(measurable, interval_rate + interval_error, np.inf)))
        quiet_rate = float(interval_rate[quiet])
        excess = (interval_rate - quiet_rate) / rate
        needed = np.hypot(interval_error, interval_error[quiet]) * params.nsigma / rate
        affected_reads = measurable & (excess > params.read_threshold) & (excess > needed)
    else:
        quiet_rate, excess = np.nan, nan.copy()
        affected_reads = np.zeros(times.size, bool)
    return TVBDetection(metric=float(size.max()), significance=float(sigmas[worst]),
                        affected=bool(departs.any()), quiet_rate=quiet_rate,
                        deviation=deviation, deviation_error=deviation_error, excess=excess,
                        measurable=measurable, affected_reads=affected_reads, **common)
