"""What a rate estimator returns: the rate image with its variances and the output DQ.

Both estimators of :mod:`hstramp.core.ramp_fit` (the optimally weighted fit and
last-minus-first) return a :class:`RampFitResult` and collapse the per-read DQ the same
way (:func:`collapse_dq`, calwf3's flt rules).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core import dqflags

__all__ = ["NO_SLOPE", "REMOVED", "RampFitResult", "RampSegments", "collapse_dq"]

#: Output flag of pixels with no slope (rate NaN): "data replaced by fill value".
NO_SLOPE = dqflags.FILL

#: Flags removed from the collapsed output DQ (calwf3 flt rules).
REMOVED = dqflags.SATURATED | dqflags.ZERO_READ_SIGNAL | dqflags.CR_RAMP


@dataclass
class RampSegments:
    """Per-segment fits, segment ``s`` of each pixel in plane ``s`` (time order).

    Only segments that enter the rate are listed (two or more reads, or the single
    read of a one-read ramp). Missing entries are NaN (floats) or -1 (reads).

    Attributes
    ----------
    slope : ndarray float32 [nseg, ny, nx]
        DN/s.
    var_poisson, var_rnoise : ndarray float32 [nseg, ny, nx]
        Variances of ``slope``, (DN/s)^2.
    first_read, last_read : ndarray int16 [nseg, ny, nx]
        Read indices the segment spans.
    power : ndarray float32 [nseg, ny, nx]
        The Fixsen exponent used.
    weight : ndarray float32 [nseg, ny, nx]
        Fraction of the rate that comes from the segment (sums to 1 over segments).
    """

    slope: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    first_read: np.ndarray
    last_read: np.ndarray
    power: np.ndarray
    weight: np.ndarray


@dataclass
class RampFitResult:
    """Output of a rate estimator, :func:`~hstramp.core.ramp_fit.fit_ramps` or
    :func:`~hstramp.core.ramp_fit.last_minus_first` (all arrays ``[ny, nx]``).

    Attributes
    ----------
    rate : ndarray float32
        Slope, DN/s; NaN where no slope could be measured.
    err : ndarray float32
        ``sqrt(var_poisson + var_rnoise)``, DN/s; NaN where ``rate`` is NaN.
    var_poisson, var_rnoise : ndarray float32
        (DN/s)^2; NaN where ``rate`` is NaN.
    dq : ndarray uint16
        Collapsed DQ (calwf3 flt rules; ``NO_SLOPE`` where ``rate`` is NaN).
    samp : ndarray int16
        Number of reads used.
    time : ndarray float32
        Time spanned by the used segments (sum over segments), seconds.
    segments : RampSegments or None
        Per-segment fits when ``save_segments``.
    """

    rate: np.ndarray
    err: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    dq: np.ndarray
    samp: np.ndarray
    time: np.ndarray
    segments: RampSegments | None = None

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> RampFitResult:
        """A result of ``shape`` with every array allocated (uninitialised), no segments.

        Parameters
        ----------
        shape : tuple of int
            ``(ny, nx)``.

        Returns
        -------
        RampFitResult
        """
        return cls(
            rate=np.empty(shape, np.float32),
            err=np.empty(shape, np.float32),
            var_poisson=np.empty(shape, np.float32),
            var_rnoise=np.empty(shape, np.float32),
            dq=np.empty(shape, np.uint16),
            samp=np.empty(shape, np.int16),
            time=np.empty(shape, np.float32),
        )


def collapse_dq(
    groupdq: np.ndarray, pixeldq: np.ndarray | None, no_slope: np.ndarray
) -> np.ndarray:
    """Output DQ of one block (calwf3 flt rules).

    The OR of the pixel DQ and every read's DQ, without ``SATURATED``,
    ``ZERO_READ_SIGNAL`` and ``CR_RAMP``, except that ``SATURATED`` stays where the
    zeroth or the first read is saturated; plus :data:`NO_SLOPE` where no slope.

    Parameters
    ----------
    groupdq : ndarray [ngroups, npix]
    pixeldq : ndarray [npix] or None
    no_slope : ndarray bool [npix]

    Returns
    -------
    ndarray uint16 [npix]
    """
    combined = np.bitwise_or.reduce(groupdq, axis=0).astype(np.uint16)
    if pixeldq is not None:
        combined |= pixeldq.astype(np.uint16)
    early = np.bitwise_or.reduce(groupdq[:2], axis=0).astype(np.uint16) & dqflags.SATURATED
    combined &= np.uint16(~REMOVED & 0xFFFF)
    combined |= early
    combined[no_slope] |= np.uint16(NO_SLOPE)
    return combined
