"""Conversion of reads to count rates (calwf3 ``unitcorr``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.outputs import output_arrays
from hstramp.core.stats import science_slices
from hstramp.errors import ParameterError

__all__ = [
    "ZERO_READ_OVERHEAD",
    "CountRates",
    "accumulated_counts",
    "count_rates",
    "effective_zero_read_time",
    "rate_unit",
]

#: seconds of the first read's SAMPTIME that the zeroth read does not integrate:
#: 20.48 ms TSM expose time + 55 us ADC warm-up (calwf3 ``sampzero``)
ZERO_READ_OVERHEAD = 0.020535

_RATE_UNITS = {"COUNTS": "COUNTS/S", "ELECTRONS": "ELECTRONS/S"}


@dataclass(frozen=True)
class CountRates:
    """Result of :func:`count_rates`.

    Attributes
    ----------
    data, err : ndarray, float32 [ngroups, ny, nx]
        Rates and their errors.
    bunit : str
        The new BUNIT (``COUNTS/S`` or ``ELECTRONS/S``).
    zero_read_time : float
        The effective exposure time the zeroth read was divided by.
    """

    data: np.ndarray
    err: np.ndarray
    bunit: str
    zero_read_time: float


def rate_unit(bunit: str) -> str:
    """The rate unit of a count unit: COUNTS -> COUNTS/S, ELECTRONS -> ELECTRONS/S.

    Raises
    ------
    ValueError
        If ``bunit`` is already a rate or unknown (calwf3 skips UNITCORR on
        rates: the caller decides).
    """
    key = bunit.strip().upper()
    if key not in _RATE_UNITS:
        raise ValueError(f"BUNIT {bunit!r} is not COUNTS or ELECTRONS; cannot convert to a rate")
    return _RATE_UNITS[key]


def effective_zero_read_time(times: np.ndarray) -> float:
    """Effective exposure time of the zeroth read: first read's SAMPTIME - 0.020535 s.

    Parameters
    ----------
    times : ndarray [ngroups]
        SAMPTIME of each read, seconds since the zeroth read (``times[0] == 0``).

    Returns
    -------
    float
        ``times[1] - ZERO_READ_OVERHEAD``.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size < 2:
        raise ValueError(f"times must list at least two reads, got shape {times.shape}")
    return float(times[1] - ZERO_READ_OVERHEAD)


def count_rates(
    data: np.ndarray,
    err: np.ndarray,
    times: np.ndarray,
    *,
    trim: tuple[int, int, int, int],
    bunit: str = "COUNTS",
    zero_read_time: float | None = None,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> CountRates:
    """Divide every read and its error by its exposure time, in the science area.

    Reads after the zeroth are divided by their TIME (seconds since the zeroth
    read); where TIME is 0 SCI and ERR become 0. The zeroth read is multiplied
    by ``1 / zero_read_time`` (float32), the effective zero-read time, because
    after ZSIG+ZOFF it holds the signal collected before the zeroth read. The
    reference-pixel border is left in counts, as calwf3 does.

    Parameters
    ----------
    data, err : ndarray [ngroups, ny, nx]
        Reads and their errors, counts.
    times : ndarray [ngroups]
        Seconds since the zeroth read (SAMPTIME).
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    bunit : str, optional
        Current BUNIT, ``COUNTS`` or ``ELECTRONS``.
    zero_read_time : float, optional
        Effective exposure time of the zeroth read; default
        :func:`effective_zero_read_time` of ``times``.
    out : tuple of 2 ndarray, optional
        ``(data, err)`` float32 arrays to write the result into; they may be the inputs
        themselves. Default: new arrays.

    Returns
    -------
    CountRates
        Rates, errors (``out`` when given), the new BUNIT and the zero-read time used.
    """
    data = np.asarray(data)
    times = np.asarray(times, dtype=np.float64)
    if data.ndim != 3 or np.shape(err) != data.shape or times.shape != data.shape[:1]:
        raise ValueError(
            f"data {data.shape}, err {np.shape(err)} and times {times.shape} "
            "must be [ngroups, ny, nx], [ngroups, ny, nx] and [ngroups]"
        )
    new_unit = rate_unit(bunit)
    if zero_read_time is None:
        zero_read_time = effective_zero_read_time(times)
    if not zero_read_time > 0:
        raise ParameterError(f"zero_read_time must be > 0 s, got {zero_read_time}")
    rows, cols = science_slices(data.shape, trim)

    read_times = times[1:].astype(np.float32)
    idle = read_times == 0
    divisor = np.where(idle, np.float32(1.0), read_times)[:, None, None]
    zero_read_factor = np.float32(1.0 / zero_read_time)

    out, out_err = output_arrays((data, err), (np.float32, np.float32), out, ("data", "err"))
    for array in (out, out_err):
        array[0, rows, cols] *= zero_read_factor
        array[1:, rows, cols] /= divisor
        array[1:][idle, rows, cols] = 0.0
    return CountRates(data=out, err=out_err, bunit=new_unit, zero_read_time=zero_read_time)


def count_scale(times: np.ndarray, *, in_rates: bool) -> np.ndarray:
    """The factor of each read that turns a calibrated ramp back into counts.

    The read times for rates (UNITCORR done), ones for counts. Jump detection and the ramp
    fit take it as ``read_scale`` and rebuild :func:`accumulated_counts` block by block.

    Parameters
    ----------
    times : ndarray [ngroups]
        Seconds since the zeroth read.
    in_rates : bool
        True if the ramp is in count rates.

    Returns
    -------
    ndarray, float32 [ngroups]
    """
    times = np.asarray(times, dtype=np.float64)
    return times.astype(np.float32) if in_rates else np.ones(times.shape, np.float32)


def accumulated_counts(data: np.ndarray, times: np.ndarray, *, in_rates: bool) -> np.ndarray:
    """Signal accumulated since the zeroth read, as the ramp fit and jump detection need it.

    After ZOFFCORR every read holds the signal since the zeroth read, except read 0 itself,
    which holds the zeroth-read signal estimate (ZSIGCORR) rather than 0. Fitting needs read 0
    at 0: its value is replaced by 0. Rates (after UNITCORR) are multiplied back by each read's
    time; the reference border, which UNITCORR leaves in counts, is multiplied too (it is not
    used by the fit and is trimmed from the flt).

    Parameters
    ----------
    data : ndarray [ngroups, ny, nx]
        Reads in time order, counts or count rates.
    times : ndarray [ngroups]
        Seconds since the zeroth read.
    in_rates : bool
        True if ``data`` are rates (UNITCORR done).

    Returns
    -------
    ndarray [ngroups, ny, nx]
        New float32 array of accumulated counts with read 0 equal to 0.
    """
    times = np.asarray(times, dtype=np.float64)
    if not in_rates:
        out = np.array(data, dtype=np.float32)
        out[0] = 0.0
        return out
    out = np.empty(np.shape(data), np.float32)
    out[0] = 0.0
    # read 0 is not multiplied (its time is 0: inf * 0 would warn); a product too large for
    # float32 is inf, an unusable read like any other (as RampInputs.data_block)
    with np.errstate(over="ignore"):
        np.multiply(data[1:], times[1:].astype(np.float32)[:, None, None], out=out[1:],
                    dtype=np.float32)
    return out
