"""Non-linearity correction and saturation flagging (calwf3 ``nlincorr``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.dqflags import SATURATED, ZERO_READ_SIGNAL
from hstramp.core.noise import calib_area, calib_kernel, pixel_map
from hstramp.core.outputs import output_arrays
from hstramp.core.stats import science_slices

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
        poly *= s
        poly += c
    poly += 1.0
    return poly.astype(np.float32)


#: rows corrected at a time (float64 temporaries of a few hundred kB stay in cache)
_BLOCK_ROWS = 32


def _correct_read(read, dq, coeffs, node, extra_dq, zsig, zsig_bits) -> None:
    """Correct one read (or a band of it) in place: steps 1-3 of :func:`nonlinearity_correct`.

    ``zsig`` and ``zsig_bits`` are None for the zeroth read or without ZSIG.
    """
    flag = dq.dtype.type
    signal = read if zsig is None else read + zsig
    if zsig is not None:
        dq |= zsig_bits
    dq |= extra_dq
    free = (dq & flag(SATURATED)) == 0
    linear = free & (signal <= node)
    saturating = free & (signal > node)
    corrected = signal * linearity_factor(signal, coeffs)
    if zsig is not None:
        corrected -= zsig
    np.copyto(read, corrected, where=linear)
    np.bitwise_or(dq, flag(SATURATED), out=dq, where=saturating)


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
    out: tuple[np.ndarray, np.ndarray] | None = None,
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
    out : tuple of 2 ndarray, optional
        ``(data, groupdq)`` arrays to write the result into (float32 and the DQ dtype);
        they may be the inputs themselves. Default: new arrays.

    Returns
    -------
    NonlinearityCorrected
        Corrected data and DQ (``out`` when given).
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
    node = pixel_map(node, frame, "node")
    out, out_dq = output_arrays((data, groupdq), (np.float32, np.asarray(groupdq).dtype), out,
                                ("data", "groupdq"))
    extra_dq = np.zeros(frame, dtype=out_dq.dtype)
    if nlin_dq is not None:
        extra_dq |= pixel_map(nlin_dq, frame, "nlin_dq", out_dq.dtype)
    zsig_bits = None
    if zsig is not None:
        zsig = pixel_map(zsig, frame, "zsig")
        zsig_bits = pixel_map(zsig_dq, frame, "zsig_dq", out_dq.dtype) & out_dq.dtype.type(
            ZERO_READ_SIGNAL)
    rows, cols = science_slices(frame, trim)
    inputs = (np.ascontiguousarray(coeffs), np.ascontiguousarray(node), extra_dq,
              None if zsig is None else np.ascontiguousarray(zsig),
              None if zsig_bits is None else np.ascontiguousarray(zsig_bits))
    calib = calib_kernel((out, out_dq), inputs)
    if calib is not None:  # one pass: row by row, every read of the row (same bits)
        calib.nlin(out, out_dq, out_dq.itemsize, inputs[0], coeffs.shape[0], *inputs[1:],
                   data.shape[0], *calib_area(frame, trim))
        return NonlinearityCorrected(data=out, groupdq=out_dq)
    for block in range(0, frame[0], _BLOCK_ROWS):  # whole rows; the cut keeps temporaries small
        band = slice(block, min(block + _BLOCK_ROWS, frame[0]))
        inside = slice(max(band.start, rows.start), min(band.stop, rows.stop))
        science = (inside, cols) if inside.start < inside.stop else None
        for k in range(data.shape[0]):
            if science is not None:
                _correct_read(
                    out[k][science], out_dq[k][science], coeffs[(slice(None), *science)],
                    node[science], extra_dq[science],
                    zsig[science] if zsig is not None and k > 0 else None,
                    zsig_bits[science] if zsig is not None and k > 0 else None,
                )
            if k + 1 < data.shape[0]:  # saturation carries forward, over the whole frame
                out_dq[k + 1, band] |= out_dq[k, band] & out_dq.dtype.type(SATURATED)
    return NonlinearityCorrected(data=out, groupdq=out_dq)
