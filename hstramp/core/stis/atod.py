"""Analog-to-digital correction of raw STIS CCD data (calstis ``cs1/doatod.c``).

The ATODTAB row (selected by the reference reader: CCDAMP and CCDGAIN match, then the
row whose REF_KEY_VALUE is closest to the science header's REF_KEY value) holds a lookup
table ``ATOD[0 .. NELEM-1]``. Each raw pixel value, truncated to an integer ``i``, is
replaced by ``ATOD[i]``; values ``i >= NELEM`` get the last element and are flagged
saturated (256); negative values are left unchanged. It runs on raw data (before BLEVCORR,
after DQICORR) and is refused once images have been combined (NCOMBINE > 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.stis.dqflags import SATPIXEL

__all__ = ["AtoDCorrected", "atod_correct"]


@dataclass(frozen=True)
class AtoDCorrected:
    """Result of :func:`atod_correct`.

    Attributes
    ----------
    data : ndarray, float32
        Corrected raw values.
    dq : ndarray
        DQ with 256 where the value was beyond the table.
    nsaturated : int
        Pixels beyond the table.
    """

    data: np.ndarray
    dq: np.ndarray
    nsaturated: int


def atod_correct(data: np.ndarray, dq: np.ndarray, atod, *, ncombine: int = 1) -> AtoDCorrected:
    """Replace each raw value by its A-to-D table entry (calstis ``doAtoD``).

    Parameters
    ----------
    data : ndarray [..., ny, nx]
        Raw data, DN (not modified).
    dq : ndarray, same shape
        Data quality (not modified).
    atod : array_like [nelem]
        The ATOD array of the selected row (its first NELEM values).
    ncombine : int
        NCOMBINE of the image.

    Returns
    -------
    AtoDCorrected

    Raises
    ------
    ValueError
        NCOMBINE > 1 (calstis: "NCOMBINE is already > 1 before ATODCORR"), an empty table,
        or DQ of another shape.
    """
    if int(ncombine) > 1:
        raise ValueError(f"NCOMBINE = {ncombine} is already > 1 before ATODCORR; the A-to-D "
                         "correction applies to raw (uncombined) data only")
    table = np.asarray(atod, np.float32).ravel()
    if table.size == 0:
        raise ValueError("the ATOD array is empty (NELEM = 0)")
    data = np.asarray(data)
    if np.shape(dq) != data.shape:
        raise ValueError(f"dq {np.shape(dq)} and data {data.shape} differ in shape")
    # C's (int) cast truncates toward zero
    index = np.trunc(np.asarray(data, np.float64))
    beyond = index >= table.size
    inside = (index >= 0) & ~beyond
    out = np.array(data, dtype=np.float32)
    out[inside] = table[index[inside].astype(np.int64)]
    out[beyond] = table[-1]
    out_dq = np.array(dq, copy=True)
    out_dq[beyond] |= np.asarray(SATPIXEL, out_dq.dtype)
    return AtoDCorrected(data=out, dq=out_dq, nsaturated=int(np.count_nonzero(beyond)))
