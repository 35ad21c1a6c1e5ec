"""Initial STIS CCD errors (calstis ``doNoise``), on the shared noise formula.

``ERR = sqrt(S * g + RN^2) / g`` (DN) where ``S * g > 0``, else ``RN / g``; only imsets
whose ERR is all zero get it (an earlier run's errors are kept). calstis evaluates it
after BLEVCORR and before the bias image is subtracted.
"""

from __future__ import annotations

import logging

import numpy as np

from hstramp.core.noise import pixel_error

log = logging.getLogger(__name__)

__all__ = ["initial_error"]


def initial_error(data: np.ndarray, err: np.ndarray | None, gain: float, readnoise: float,
                  bias: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Errors of each imset from read noise and Poisson noise.

    Parameters
    ----------
    data : ndarray [nexp, ny, nx]
        Science data, DN (bias level removed, unless ``bias`` is given).
    err : ndarray [nexp, ny, nx] or None
        Existing errors (None: all zero).
    gain : float
        ATODGAIN, e-/DN.
    readnoise : float
        READNSE, e-.
    bias : float
        Subtracted from the data first (calstis: CCDBIAS when BLEVCORR was not done).

    Returns
    -------
    tuple
        ``(err, computed)``: the new float32 errors and a bool per imset telling whether it
        was computed (False where ERR already held a non-zero value).
    """
    if not gain > 0:
        raise ValueError(f"gain must be > 0, got {gain}")
    data = np.asarray(data)
    out = np.zeros(data.shape, np.float32) if err is None else np.array(err, np.float32)
    if out.shape != data.shape:
        raise ValueError(f"err has shape {out.shape}, expected {data.shape}")
    computed = ~np.any(out.reshape(out.shape[0], -1) != 0, axis=1)
    for k in np.flatnonzero(computed):
        signal = np.asarray(data[k], np.float32) - np.float32(bias)
        out[k] = pixel_error(signal, gain, readnoise, nonpositive="readnoise")
    if not computed.all():
        log.debug("ERR already populated in imsets %s: kept", np.flatnonzero(~computed) + 1)
    return out, computed
