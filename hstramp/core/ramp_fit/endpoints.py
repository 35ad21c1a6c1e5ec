"""Last-minus-first: a pixel's rate from its first and last usable reads.

What calwf3 gives with CRCORR=OMIT: ``(C_last - C_first) / (t_last - t_first)``, immune to a
time-variable background (it uses no read in between) but with cosmic rays left in. The
remedy of ``docs/tvb.md`` for exposures whose sky does not grow at a constant rate.
"""

from __future__ import annotations

import logging

import numpy as np

from hstramp.core.blocks import (
    DO_NOT_USE,
    checked_pixeldq,
    pixel_valid,
    ramp_inputs,
    usable_reads,
)
from hstramp.core.ramp_fit.result import RampFitResult, collapse_dq

__all__ = ["last_minus_first"]

log = logging.getLogger(__name__)


def last_minus_first(counts, groupdq, times, gain, read_noise, pixeldq=None) -> RampFitResult:
    """Rate from the first and last usable reads: ``(C_last - C_first) / (t_last - t_first)``.

    What calwf3 gives with CRCORR=OMIT: immune to a time-variable background, but cosmic rays
    stay in (``CR_RAMP`` flags are ignored). Saturated and DO_NOT_USE reads are not used, so a
    saturating pixel takes its last read before saturation.

    Parameters
    ----------
    counts : array_like float [ngroups, ny, nx]
        Counts since the zeroth read (DN), time order; not modified.
    groupdq : array_like uint16 [ngroups, ny, nx]
        Per-read DQ.
    times : array_like [ngroups]
        Seconds since the zeroth read.
    gain : float or array_like [ny, nx]
        Gain, e-/DN (for the Poisson variance).
    read_noise : float or array_like [ny, nx]
        Read noise of one read, DN.
    pixeldq : array_like uint16 [ny, nx], optional
        OR-ed into the output DQ; DO_NOT_USE bits exclude the pixel.

    Returns
    -------
    RampFitResult
        ``rate`` DN/s (NaN with ``NO_SLOPE`` where fewer than two usable reads),
        ``var_rnoise = 2 RN^2 / dt^2``, ``var_poisson = max(rate, 0) / (gain dt)``,
        ``samp`` 2 (the reads used), ``time`` ``dt``, DQ collapsed by calwf3's flt rules.
    """
    inputs = ramp_inputs(counts, groupdq, times, gain, read_noise)
    ngroups, ny, nx = inputs.shape
    valid = pixel_valid(inputs.gain, inputs.read_noise)
    pixeldq = checked_pixeldq(pixeldq, (ny, nx))
    if pixeldq is not None:
        valid &= (pixeldq & DO_NOT_USE) == 0
    usable = usable_reads(inputs.data, inputs.groupdq, valid)
    any_usable = usable.any(axis=0)
    first = np.argmax(usable, axis=0)
    last = ngroups - 1 - np.argmax(usable[::-1], axis=0)
    ok = any_usable & (last > first)
    rows, cols = np.indices((ny, nx))
    span = (inputs.times[last] - inputs.times[first]).astype(np.float64)
    span = np.where(ok, span, 1.0)
    difference = (inputs.data[last, rows, cols].astype(np.float64)
                  - inputs.data[first, rows, cols].astype(np.float64))
    rate = np.where(ok, difference / span, np.nan)
    var_rnoise = np.where(ok, 2.0 * inputs.read_noise.astype(np.float64) ** 2 / span**2, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_poisson = np.where(ok, np.maximum(rate, 0.0) / (inputs.gain * span), np.nan)
    dq = collapse_dq(inputs.groupdq.reshape(ngroups, -1),
                     None if pixeldq is None else pixeldq.reshape(-1),
                     ~ok.reshape(-1)).reshape(ny, nx)
    log.debug("last-minus-first: %d of %d pixels without a rate", np.count_nonzero(~ok), ok.size)
    return RampFitResult(
        rate=rate.astype(np.float32),
        err=np.sqrt(var_poisson + var_rnoise).astype(np.float32),
        var_poisson=var_poisson.astype(np.float32),
        var_rnoise=var_rnoise.astype(np.float32),
        dq=dq,
        samp=np.where(ok, 2, 0).astype(np.int16),
        time=np.where(ok, span, 0.0).astype(np.float32),
    )
