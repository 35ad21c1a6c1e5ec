"""Shutter-shading correction of STIS CCD images (calstis ``cs1/doshad.c``).

The shutter opens and closes across the field, so a short exposure's pixels are exposed
for slightly different times. The SHADFILE holds, per pixel, the extra exposure time
``s`` (seconds); calstis divides the image by ``1 + s / t``, with ``t = EXPTIME /
NCOMBINE`` the time of one exposure that went into the image:

    corrected = image * t / (t + s)

The division is calstis ``div2d`` (the flat-field division): the error of the divisor is
``err_s / t`` and enters in quadrature, the SHADFILE DQ is OR-ed in, a zero divisor
flags 512. With EXPTIME <= 0 calstis warns and skips the step (SHADCORR = SKIPPED).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.flat import flat_field
from hstramp.core.stis.dqflags import CALIBDEFECT

log = logging.getLogger(__name__)

__all__ = ["ShadingCorrected", "shading_divisor", "shutter_shading_correct"]

_NO_TRIM = (0, 0, 0, 0)


@dataclass(frozen=True)
class ShadingCorrected:
    """Result of :func:`shutter_shading_correct`.

    Attributes
    ----------
    data, err : ndarray, float32
        Corrected images and errors (copies of the input where not applied).
    dq : ndarray
        DQ with the SHADFILE DQ OR-ed in.
    applied : ndarray of bool [nimsets]
        False where EXPTIME <= 0 (calstis: warning, SHADCORR = SKIPPED).
    """

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    applied: np.ndarray


def shading_divisor(shading: np.ndarray, shading_err: np.ndarray | None, exptime: float,
                    ncombine: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``1 + s / t`` and its error ``err_s / t`` with ``t = EXPTIME / NCOMBINE``.

    Parameters
    ----------
    shading : ndarray [ny, nx]
        SHADFILE SCI under the image, seconds.
    shading_err : ndarray [ny, nx] or None
        Its error.
    exptime : float
        EXPTIME of the image (> 0).
    ncombine : int
        NCOMBINE (images summed into it; calstis resets values < 1 to 1).

    Returns
    -------
    tuple of ndarray, float32
    """
    t = float(exptime) / max(int(ncombine), 1)
    if not t > 0:
        raise ValueError(f"EXPTIME = {exptime!r} must be positive for SHADCORR")
    inverse = np.float32(1.0 / t)
    divisor = np.asarray(shading, np.float32) * inverse + np.float32(1.0)
    err = (np.zeros_like(divisor) if shading_err is None
           else np.asarray(shading_err, np.float32) * inverse)
    return divisor, err


def shutter_shading_correct(data: np.ndarray, err: np.ndarray, dq: np.ndarray,
                            shading: np.ndarray, shading_err: np.ndarray | None,
                            shading_dq: np.ndarray | None, *, exptime, ncombine=1
                            ) -> ShadingCorrected:
    """Divide each image by its shutter-shading divisor (calstis ``doShad``).

    Parameters
    ----------
    data, err : ndarray [nimsets, ny, nx] or [ny, nx]
        Images (DN) and errors, dark-subtracted and flat-fielded (not modified).
    dq : ndarray, same shape
        Data quality.
    shading, shading_err, shading_dq : ndarray [ny, nx]
        SHADFILE imset 1, averaged to the image (errors and DQ may be None).
    exptime : float or array_like [nimsets]
        EXPTIME of each image.
    ncombine : int or array_like [nimsets]
        NCOMBINE of each image.

    Returns
    -------
    ShadingCorrected

    Raises
    ------
    ValueError
        SHADFILE not the size of the image.
    """
    data = np.asarray(data)
    single = data.ndim == 2
    stack = [np.asarray(a)[None] if single else np.asarray(a) for a in (data, err, dq)]
    n = stack[0].shape[0]
    if np.shape(shading) != stack[0].shape[-2:]:
        raise ValueError(f"SHADFILE is {np.shape(shading)}, the image {stack[0].shape[-2:]}")
    exptimes = np.broadcast_to(np.asarray(exptime, np.float64), (n,))
    ncombines = np.broadcast_to(np.asarray(ncombine, np.int64), (n,))
    out = [np.array(a, dtype=t) for a, t in zip(stack, (np.float32, np.float32,
                                                       stack[2].dtype), strict=True)]
    applied = exptimes > 0
    for k in np.flatnonzero(~applied):
        log.warning("imset %d: EXPTIME = %g; EXPTIME must be positive for SHADCORR, "
                    "which is skipped", k + 1, exptimes[k])
    for k in np.flatnonzero(applied):
        divisor, divisor_err = shading_divisor(shading, shading_err, exptimes[k], ncombines[k])
        flat_field(out[0][k], out[1][k], out[2][k], divisor, divisor_err, shading_dq,
                   amp_gains=None, trim=_NO_TRIM, zero_flat_dq=CALIBDEFECT,
                   out=(out[0][k], out[1][k], out[2][k]))
    if single:
        out = [a[0] for a in out]
    return ShadingCorrected(data=out[0], err=out[1], dq=out[2], applied=applied)
