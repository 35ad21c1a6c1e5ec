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
    median : ndarray, float64 [...], or None
        Median of each scaled reference image over its pixels with DQ 0 (MEANDARK); None
        when not asked for.
    """

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    median: np.ndarray


def median_unflagged(image: np.ndarray, dq: np.ndarray | None) -> float:
    """Median of the pixels with DQ 0 (all pixels without a DQ; 0 when none), as MedSciVal."""
    values = np.asarray(image) if dq is None else np.asarray(image)[np.asarray(dq) == 0]
    return float(np.median(values)) if values.size else 0.0


class _ScaledFrames:
    """``factor_k * reference`` (float32) for each factor, made when asked for: a lazy
    sequence of frames for :func:`~hstramp.core.dark.dark_subtract` (no stack of copies)."""

    def __init__(self, reference, factors, absolute=False):
        self.reference, self.factors, self.absolute = reference, factors, absolute

    def __len__(self):
        return len(self.factors)

    def __getitem__(self, k):
        scaled = self.reference * np.float32(self.factors[k])
        if self.absolute:
            np.abs(scaled, out=scaled)
        return scaled.astype(np.float32, copy=False)


def subtract_scaled(data: np.ndarray, err: np.ndarray, dq: np.ndarray, reference: np.ndarray,
                    reference_err: np.ndarray | None, reference_dq: np.ndarray | None,
                    factors, *, medians: bool = True,
                    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                    ) -> ReferenceSubtracted:
    """Subtract ``factor * reference`` from each image of a stack.

    Bias image: ``factor = NCOMBINE``; dark: ``factor = EXPTIME / ATODGAIN`` (the dark is
    in e-/s). The reference error is scaled by the same factor. The scaled reference is
    made one image at a time.

    Parameters
    ----------
    data, err : ndarray [nexp, ny, nx] or [ny, nx]
        Images (DN) and errors (not modified, unless they are ``out``).
    dq : ndarray, same shape
        Data quality.
    reference : ndarray [ny, nx]
        The reference image, already cut and binned to the science image.
    reference_err, reference_dq : ndarray [ny, nx] or None
        Its error and DQ.
    factors : float or array_like [nexp]
        Scale factor of each image.
    medians : bool, optional
        Compute the median of each scaled reference (MEANDARK); False: ``median`` is None.
    out : tuple of 3 ndarray, optional
        ``(data, err, dq)`` to write the result into (float32, float32, the DQ dtype;
        C-contiguous); they may be the inputs themselves. Default: new arrays.

    Returns
    -------
    ReferenceSubtracted
    """
    data = np.asarray(data)
    single = data.ndim == 2
    stack_shape = (1, *data.shape) if single else data.shape
    nexp = stack_shape[0]
    factors = np.broadcast_to(np.asarray(factors, np.float64), (nexp,))
    scaled = _ScaledFrames(reference, factors)
    scaled_err = None if reference_err is None else _ScaledFrames(reference_err, factors, True)
    scaled_dq = None if reference_dq is None else np.broadcast_to(reference_dq, stack_shape)
    inputs = (data, np.asarray(err), np.asarray(dq))
    stacks = tuple(np.reshape(a, stack_shape) for a in inputs)
    if out is not None:  # an output that is its input stays the same view: updated in place
        if not all(isinstance(a, np.ndarray) and a.flags.c_contiguous for a in out):
            raise ValueError("out must be three C-contiguous arrays (data, err, dq)")
        out = tuple(view if target is given else np.reshape(target, stack_shape)
                    for target, given, view in zip(out, inputs, stacks, strict=True))
    result = dark_subtract(*stacks, scaled, scaled_err, scaled_dq, trim=_NO_TRIM, out=out)
    median = None
    if medians:
        median = np.array([median_unflagged(scaled[k], reference_dq) for k in range(nexp)])
        median = median[0] if single else median
    shape = data.shape
    return ReferenceSubtracted(data=result.data.reshape(shape), err=result.err.reshape(shape),
                               dq=result.groupdq.reshape(shape), median=median)
