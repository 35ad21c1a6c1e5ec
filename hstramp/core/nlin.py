"""Non-linearity correction and saturation flagging (calwf3 ``nlincorr``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.noise import pixel_map
from hstramp.core.stats import science_slices
from hstramp.datamodels.dqflags import SATURATED, ZERO_READ_SIGNAL

__all__ = ["NonlinearityCorrected", "linearity_factor", "nonlinearity_correct"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NonlinearityCorrected:
    """Result of :func:`nonlinearity_correct`.

    Attributes
    ----------
    data : ndarray, float32 [ngroups, ny, nx]
        Corrected reads.
    groupdq : ndarray [ngroups, ny, nx]
        New data quality.
    """

    data: np.ndarray
    groupdq: np.ndarray


def linearity_factor(signal: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """The factor ``1 + sum_k c_k s^k`` (k = 0 .. ncoef-1) that linearises a signal.

    Parameters
    ----------
    signal : ndarray [...]
        Signal, DN above the super-zero read.
    coeffs : ndarray [ncoef, ...]
        Coefficients, broadcast against ``signal`` after the first axis.

    Returns
    -------
    ndarray, float32
        The factor (evaluated by Horner's rule in float64).
    """
    s = np.asarray(signal, dtype=np.float64)
    poly = np.zeros_like(s)
    for c in coeffs[::-1]:
        poly = poly * s + c
    return (1.0 + poly).astype(np.float32)


def nonlinearity_correct(
    data: np.ndarray,
    groupdq: np.ndarray,
    coeffs: np.ndarray,
    node: np.ndarray,
    nlin_dq: np.ndarray | None,
    *,
    trim: tuple[int, int, int, int],
    zsig: np.ndarray | None = None,
    zsig_dq: np.ndarray | None = None,
) -> NonlinearityCorrected:
    """Correct every read for non-linearity and flag saturation, as calwf3.

    In the science area of each read, in time order:

    1. ``s = read + zsig`` (reads after the zeroth, and only when ZSIG ran);
       the zsig DQ's 2048 bit is OR-ed into those reads;
    2. the NLINFILE DQ is OR-ed in;
    3. a pixel already flagged 256 is left alone; where ``s <= NODE``,
       ``read = s * (1 + sum_k c_k s^k) - zsig``; where ``s > NODE`` it is
       flagged 256 and its value kept;
    4. then, over the whole frame, every 256 of this read is copied into the
       next read, so saturation carries forward to every later read.

    The reference-pixel border is not corrected. ERR is unchanged (calwf3
    does not propagate the NLIN errors).

    Parameters
    ----------
    data : ndarray [ngroups, ny, nx]
        Reads after ZOFF and noise, DN, time order.
    groupdq : ndarray [ngroups, ny, nx]
        Data quality.
    coeffs : ndarray [ncoef, ny, nx]
        NLINFILE coefficients c_0 .. c_{ncoef-1}.
    node : ndarray [ny, nx]
        Saturation level, DN above the super-zero read.
    nlin_dq : ndarray [ny, nx] or None
        NLINFILE DQ (None: nothing to OR).
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    zsig : ndarray [ny, nx], optional
        The ZSIG image; None when ZSIG was not performed.
    zsig_dq : ndarray [ny, nx], optional
        The ZSIG image's DQ (required with ``zsig``).

    Returns
    -------
    NonlinearityCorrected
        Corrected data and DQ.
    """
    data = np.asarray(data)
    if data.ndim != 3 or np.shape(groupdq) != data.shape:
        raise ValueError(
            f"data and groupdq must be ramps of one shape, got {data.shape} and {np.shape(groupdq)}"
        )
    if (zsig is None) != (zsig_dq is None):
        raise ValueError("zsig and zsig_dq go together: give both or neither")
    frame = data.shape[1:]
    coeffs = np.asarray(coeffs, dtype=np.float32)
    if coeffs.ndim != 3 or coeffs.shape[1:] != frame:
        raise ValueError(f"coeffs has shape {coeffs.shape}, expected [ncoef, *{frame}]")
    rows, cols = science_slices(frame, trim)
    coeffs = coeffs[:, rows, cols]
    node = pixel_map(node, frame, "node")[rows, cols]

    out = np.array(data, dtype=np.float32)
    out_dq = np.array(groupdq, copy=True)
    flag = out_dq.dtype.type
    extra_dq = np.zeros(node.shape, dtype=out_dq.dtype)
    if nlin_dq is not None:
        extra_dq |= pixel_map(nlin_dq, frame, "nlin_dq", out_dq.dtype)[rows, cols]
    if zsig is not None:
        zsig = pixel_map(zsig, frame, "zsig")[rows, cols]
        zsig_bits = pixel_map(zsig_dq, frame, "zsig_dq", out_dq.dtype)[rows, cols]
        zsig_bits = zsig_bits & flag(ZERO_READ_SIGNAL)

    for k in range(data.shape[0]):
        read = out[k, rows, cols]
        dq = out_dq[k, rows, cols]
        with_zsig = zsig is not None and k > 0
        signal = read + zsig if with_zsig else read
        if with_zsig:
            dq |= zsig_bits
        dq |= extra_dq
        free = (dq & flag(SATURATED)) == 0
        linear = free & (signal <= node)
        saturating = free & (signal > node)
        corrected = signal * linearity_factor(signal, coeffs)
        if with_zsig:
            corrected -= zsig
        read[linear] = corrected[linear]
        dq[saturating] |= flag(SATURATED)
        log.debug("NLIN read %d: %d pixels newly saturated", k, np.count_nonzero(saturating))
        if k + 1 < data.shape[0]:
            out_dq[k + 1] |= out_dq[k] & flag(SATURATED)
    return NonlinearityCorrected(data=out, groupdq=out_dq)
