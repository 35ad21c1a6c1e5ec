"""Dark subtraction (calwf3 ``darkcorr``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.stats import masked_mean, science_slices
from hstramp.datamodels.dqflags import (
    BAD_DETECTOR,
    BAD_FLAT,
    BAD_REFERENCE,
    DEVIANT_ZERO,
    HOT,
    SATURATED,
    UNSTABLE,
)

__all__ = ["MEANDARK_DQ_MASK", "DarkSubtracted", "dark_subtract"]

log = logging.getLogger(__name__)

#: dark-reference DQ bits that keep a pixel out of MEANDARK (calwf3: 4+8+16+32+128+256+512)
MEANDARK_DQ_MASK = (
    BAD_DETECTOR | DEVIANT_ZERO | HOT | UNSTABLE | BAD_REFERENCE | SATURATED | BAD_FLAT
)


@dataclass(frozen=True)
class DarkSubtracted:
    """Result of :func:`dark_subtract`.

    Attributes
    ----------
    data, err : ndarray, float32 [ngroups, ny, nx]
        Dark-subtracted reads and their errors.
    groupdq : ndarray [ngroups, ny, nx]
        Data quality with the dark DQ OR-ed in.
    meandark : ndarray, float64 [ngroups]
        MEANDARK of each read: mean of that read's dark image.
    """

    data: np.ndarray
    err: np.ndarray
    groupdq: np.ndarray
    meandark: np.ndarray


def _check_ramp(array, shape, name):
    """Raise ValueError unless ``array`` has the ramp shape."""
    if np.shape(array) != shape:
        raise ValueError(f"{name} has shape {np.shape(array)}, expected {shape}")


def dark_subtract(
    data: np.ndarray,
    err: np.ndarray,
    groupdq: np.ndarray,
    dark: np.ndarray,
    dark_err: np.ndarray | None,
    dark_dq: np.ndarray | None,
    *,
    trim: tuple[int, int, int, int],
) -> DarkSubtracted:
    """Subtract a dark image from every read, in the science area only.

    ``SCI -= dark``, ``ERR = sqrt(ERR^2 + dark_err^2)``, ``DQ |= dark_dq``, all
    only inside the trim (calwf3 ``asub_noref``): reference pixels keep their
    values. MEANDARK of a read is the mean of its *dark* image over the science
    area, skipping dark pixels flagged 4, 8, 16, 32, 128, 256 or 512 and
    non-finite values (0 when none is left).

    Parameters
    ----------
    data, err : ndarray [ngroups, ny, nx]
        Reads (DN, after NLIN) and their errors.
    groupdq : ndarray [ngroups, ny, nx]
        Data quality.
    dark : ndarray [ngroups, ny, nx]
        Dark of each read (DN accumulated since the zeroth read), already
        matched or interpolated to the read times.
    dark_err : ndarray [ngroups, ny, nx] or None
        Dark errors (None: zero).
    dark_dq : ndarray [ngroups, ny, nx] or None
        Dark DQ (None: zero).
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.

    Returns
    -------
    DarkSubtracted
        New data, err, DQ and MEANDARK per read.
    """
    data = np.asarray(data)
    shape = data.shape
    for name, array in (("err", err), ("groupdq", groupdq), ("dark", dark)):
        _check_ramp(array, shape, name)
    for name, array in (("dark_err", dark_err), ("dark_dq", dark_dq)):
        if array is not None:
            _check_ramp(array, shape, name)
    rows, cols = science_slices(shape, trim)
    out = np.array(data, dtype=np.float32)
    out_err = np.array(err, dtype=np.float32)
    out_dq = np.array(groupdq, copy=True)
    meandark = np.zeros(shape[0], dtype=np.float64)
    for k in range(shape[0]):  # one read at a time keeps the temporaries frame-sized
        dark_k = np.asarray(dark[k], dtype=np.float32)
        dq_k = None if dark_dq is None else np.asarray(dark_dq[k])
        out[k, rows, cols] -= dark_k[rows, cols]
        if dark_err is not None:
            derr = np.asarray(dark_err[k], dtype=np.float32)[rows, cols]
            e = out_err[k, rows, cols]
            out_err[k, rows, cols] = np.sqrt(e * e + derr * derr)
        if dq_k is not None:
            out_dq[k, rows, cols] |= dq_k[rows, cols].astype(out_dq.dtype, copy=False)
        meandark[k] = masked_mean(dark_k, dq_k, MEANDARK_DQ_MASK, trim=trim)
    log.debug("MEANDARK per read: %s", meandark)
    return DarkSubtracted(data=out, err=out_err, groupdq=out_dq, meandark=meandark)
