"""Shaping a fitted image into calwf3's flt conventions (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["CALWF3_INVALID_ERR", "apply_invalid_convention"]

#: calwf3's error for a pixel with no usable read (its science value is 0)
CALWF3_INVALID_ERR = 1.0e5


def apply_invalid_convention(rate: np.ndarray, err: np.ndarray, convention: str):
    """Values for pixels without a rate (NaN from the fit): kept NaN, or calwf3's 0 / 1e5.

    Parameters
    ----------
    rate, err : ndarray
        Fitted rate and error, NaN where no usable data.
    convention : {"nan", "calwf3"}
        "nan" keeps NaN; "calwf3" writes SCI 0 and ERR 1e5 as calwf3 does. The DQ flags
        that say why are set by the fit either way.

    Returns
    -------
    tuple of ndarray
        New rate and error arrays.
    """
    if convention not in ("nan", "calwf3"):
        raise ValueError(f"invalid pixel convention must be 'nan' or 'calwf3', got {convention!r}")
    rate, err = np.array(rate, copy=True), np.array(err, copy=True)
    if convention == "calwf3":
        invalid = ~np.isfinite(rate)
        rate[invalid] = 0.0
        err[invalid] = CALWF3_INVALID_ERR
    return rate, err
