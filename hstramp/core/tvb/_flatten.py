"""The flatten-ramp remedy: each read's sky replaced by the whole-exposure rate times its time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.tvb._statistics import region_slices


@dataclass(frozen=True)
class FlattenedRamp:
    """Result of :func:`flatten_ramp`.

    Attributes
    ----------
    data : ndarray float32 [ngroups, ny, nx]
        The flattened reads, in the units of the input.
    correction : ndarray float64 [ngroups]
        Counts subtracted from each read: ``S_i - R t_i``.
    sky_rate : float
        ``R``, the whole-exposure sky rate kept, counts/s.
    """

    data: np.ndarray
    correction: np.ndarray
    sky_rate: float


def flatten_ramp(data, times, sky, *, in_rates: bool, region=None) -> FlattenedRamp:
    """Replace the sky of every read by the whole-exposure sky rate times the read's time.

    Each read loses its measured sky ``S_i`` (counts since the zeroth read) and gains
    ``R t_i`` with ``R = S_last / t_last``: the sky then accumulates at a constant rate, the
    rate the exposure collected on average, and sources are untouched.

    Parameters
    ----------
    data : array_like [ngroups, ny, nx]
        Reads in time order (counts since the zeroth read, or rates); not modified.
    times : array_like [ngroups]
        Seconds since the zeroth read.
    sky : array_like [ngroups]
        Sky accumulated since the zeroth read, counts (``SkyLevels.sky``).
    in_rates : bool
        True if ``data`` are rates: read ``i`` then changes by ``-(S_i - R t_i) / t_i``.
        Read 0 is never changed.
    region : tuple of 4 int, optional
        Where to apply the correction (the science area; the reference border, which holds
        no sky, is left alone); None for the whole frame.

    Returns
    -------
    FlattenedRamp
    """
    data = np.asarray(data)
    times = np.asarray(times, dtype=np.float64)
    sky = np.asarray(sky, dtype=np.float64)
    if data.ndim != 3 or times.shape != data.shape[:1] or sky.shape != times.shape:
        raise ValueError(f"data {data.shape}, times {times.shape} and sky {sky.shape} must be "
                         "[ngroups, ny, nx], [ngroups], [ngroups]")
    if times.size < 2 or not np.all(np.diff(times) > 0) or not np.all(np.isfinite(sky)):
        raise ValueError("flatten_ramp needs >= 2 reads, increasing times and a finite sky")
    elapsed = times - times[0]
    accumulated = sky - sky[0]
    rate = float(accumulated[-1] / elapsed[-1])
    correction = accumulated - rate * elapsed
    correction[0] = 0.0
    per_read = correction.copy()
    if in_rates:
        per_read[1:] /= elapsed[1:]
    rows, cols = region_slices(data.shape, region)
    out = np.array(data, dtype=np.float32, copy=True)
    out[:, rows, cols] -= per_read.astype(np.float32)[:, None, None]
    return FlattenedRamp(data=out, correction=correction, sky_rate=rate)
