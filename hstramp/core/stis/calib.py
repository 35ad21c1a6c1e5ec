"""Bias-image and dark subtraction of STIS CCD images (calstis ``doBias``, ``doDark``).

Both subtract a scaled reference image, add its (scaled) error in quadrature and OR its
DQ: the arithmetic of calwf3's dark subtraction, :func:`hstramp.core.dark.dark_subtract`,
applied over the whole (already trimmed) image. Flat fielding is
:func:`hstramp.core.flat.flat_field` with ``amp_gains=None`` and ``zero_flat_dq=512``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.dark import dark_subtract

log = logging.getLogger(__name__)

__all__ = ["ReferenceSubtracted", "median_unflagged", "subtract_scaled"]

_NO_TRIM = (0, 0, 0, 0)


@dataclass(frozen=True)
class ReferenceSubtracted:
    """Result of :func:`subtract_scaled`.

    Attributes
    ----------
    data, err : ndarray, float32 [..., ny, nx]
        Corrected data and errors.
    dq : ndarray [..., ny, nx]
        DQ with the reference DQ OR-ed in.
    median : ndarray, float64 [...]
        Median of each scaled reference image over its pixels with DQ 0 (MEANDARK).
    """

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    median: np.ndarray


def median_unflagged(image: np.ndarray, dq: np.ndarray | None) -> float:
    """Median of the pixels with DQ 0 (all pixels without a DQ; 0 when none), as MedSciVal."""
    values = np.asarray(image) if dq is None else np.asarray(image)[np.asarray(dq) == 0]
    return float(np.median(values)) if values.size else 0.0


def subtract_scaled(data: np.ndarray, err: np.ndarray, dq: np.ndarray, reference: np.ndarray,
                    reference_err: np.ndarray | None, reference_dq: np.ndarray | None,
                    factors) -> ReferenceSubtracted:
    """Subtract ``factor * reference`` from each image of a stack.

    Bias image: ``factor = NCOMBINE``; dark: ``factor = EXPTIME / ATODGAIN`` (the dark is
    in e-/s). The reference error is scaled by the same factor.

    Parameters
    ----------
    data, err : ndarray [nexp, ny, nx] or [ny, nx]
        Images (DN) and errors (not modified).
    dq : ndarray, same shape
        Data quality.
    reference : ndarray [ny, nx]
        The reference image, already cut and binned to the science image.
    reference_err, reference_dq : ndarray [ny, nx] or None
        Its error and DQ.
    factors : float or array_like [nexp]
        Scale factor of each image.

    Returns
    -------
    ReferenceSubtracted
    """
    data = np.asarray(data)
    single = data.ndim == 2
    stack = data[None] if single else data
    nexp = stack.shape[0]
    factors = np.broadcast_to(np.asarray(factors, np.float64), (nexp,))
    scaled = np.stack([reference * np.float32(f) for f in factors]).astype(np.float32)
    scaled_err = (None if reference_err is None else
                  np.stack([np.abs(reference_err * np.float32(f)) for f in factors])
                  .astype(np.float32))
    scaled_dq = None if reference_dq is None else np.broadcast_to(reference_dq, stack.shape)
    result = dark_subtract(stack, np.asarray(err).reshape(stack.shape),
                           np.asarray(dq).reshape(stack.shape), scaled, scaled_err, scaled_dq,
                           trim=_NO_TRIM)
    medians = np.array([median_unflagged(s, reference_dq) for s in scaled])
    shape = data.shape
    return ReferenceSubtracted(data=result.data.reshape(shape), err=result.err.reshape(shape),
                               dq=result.groupdq.reshape(shape),
                               median=medians[0] if single else medians)
