"""Shaping a fitted image into calwf3's flt conventions (pure numpy)."""

from __future__ import annotations

import numpy as np

from hstramp.core.dqflags import CR_RAMP
from hstramp.core.outputs import output_arrays
from hstramp.core.stats import science_slices

__all__ = ["CALWF3_INVALID_ERR", "apply_invalid_convention", "calwf3_cr_flags"]

#: calwf3's error for a pixel with no usable read (its science value is 0)
CALWF3_INVALID_ERR = 1.0e5


def apply_invalid_convention(rate: np.ndarray, err: np.ndarray, convention: str, *,
                             out=None):
    """Values for pixels without a rate (NaN from the fit): kept NaN, or calwf3's 0 / 1e5.

    Parameters
    ----------
    rate, err : ndarray
        Fitted rate and error, NaN where no usable data.
    convention : {"nan", "calwf3"}
        "nan" keeps NaN; "calwf3" writes SCI 0 and ERR 1e5 as calwf3 does. The DQ flags
        that say why are set by the fit either way.
    out : tuple of 2 ndarray, optional
        Where to write the rate and the error (may be ``rate`` and ``err`` themselves, as
        :func:`hstramp.core.outputs.output_arrays`); default new arrays.

    Returns
    -------
    tuple of ndarray
        The rate and error arrays: new ones, or ``out``.
    """
    if convention not in ("nan", "calwf3"):
        raise ValueError(f"invalid pixel convention must be 'nan' or 'calwf3', got {convention!r}")
    rate, err = output_arrays((rate, err), (np.asarray(rate).dtype, np.asarray(err).dtype),
                              out, ("rate", "err"))
    if convention == "calwf3":
        invalid = ~np.isfinite(rate)
        rate[invalid] = 0.0
        err[invalid] = CALWF3_INVALID_ERR
    return rate, err


def calwf3_cr_flags(groupdq: np.ndarray, trim: tuple[int, int, int, int], *,
                    out: np.ndarray | None = None) -> np.ndarray:
    """Per-read DQ with the cosmic-ray flag (8192) as calwf3's ima holds it.

    calwf3 (``cridcalc.c``) looks for jumps only inside the science area and flags the read
    of the jump and every later read. The jump detector flags only the read of the jump and
    looks at every pixel; this maps its flags to calwf3's meaning, one read at a time (no
    whole-cube temporaries).

    Parameters
    ----------
    groupdq : ndarray, uint16 [ngroups, ny, nx]
        Per-read DQ in time order, 8192 on the read of each jump.
    trim : tuple of 4 int
        Reference border ``(x1, x2, y1, y2)``.
    out : ndarray, uint16 [ngroups, ny, nx], optional
        Where to write the result (may be ``groupdq`` itself); default a new array.

    Returns
    -------
    ndarray
        Per-read DQ: 8192 from the first flagged read on inside the science area, none on
        the reference pixels; every other bit unchanged.
    """
    dq = np.array(groupdq, dtype=np.uint16, copy=True) if out is None else out
    if out is not None and out is not groupdq:
        np.copyto(out, groupdq)
    rows, cols = science_slices(dq.shape, trim)
    clear, flag = np.uint16(~CR_RAMP & 0xFFFF), np.uint16(CR_RAMP)
    jumped = np.zeros(dq[0, rows, cols].shape, dtype=np.uint16)  # CR_RAMP once a read had it
    this_read = np.empty_like(jumped)
    for read in dq:
        science = read[rows, cols]
        jumped |= np.bitwise_and(science, flag, out=this_read)
        read &= clear
        science |= jumped
    return dq
