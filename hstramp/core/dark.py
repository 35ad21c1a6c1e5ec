"""Dark subtraction (calwf3 ``darkcorr``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hstramp.core.dqflags import (
    BAD_DETECTOR,
    BAD_FLAT,
    BAD_REFERENCE,
    DEVIANT_ZERO,
    HOT,
    SATURATED,
    UNSTABLE,
)
from hstramp.core.noise import calib_area, calib_kernel
from hstramp.core.outputs import output_arrays
from hstramp.core.stats import _mean32, masked_mean, science_slices

__all__ = ["MEANDARK_DQ_MASK", "DarkSubtracted", "add_in_quadrature", "dark_subtract"]

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


def _check_count(frames, shape, name):
    """Raise ValueError unless ``frames`` holds one frame per read."""
    if len(frames) != shape[0]:
        raise ValueError(f"{name} must hold {shape[0]} frames, got {len(frames)}")


def _frame(frames, k, shape, name, dtype=None):
    """Frame ``k`` of ``frames`` as an array, checked to be ``shape``."""
    frame = np.asarray(frames[k], dtype=dtype)
    if frame.shape != shape:
        raise ValueError(f"{name}[{k}] has shape {frame.shape}, expected {shape}")
    return frame


def dark_subtract(
    data: np.ndarray,
    err: np.ndarray,
    groupdq: np.ndarray,
    dark: Sequence[np.ndarray],
    dark_err: Sequence[np.ndarray] | None,
    dark_dq: Sequence[np.ndarray] | None,
    *,
    trim: tuple[int, int, int, int],
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> DarkSubtracted:
    """Subtract a dark image from every read, in the science area only.

    ``SCI -= dark``, ``ERR = sqrt(ERR^2 + dark_err^2)``, ``DQ |= dark_dq``, all
    only inside the trim (calwf3 ``asub_noref``): reference pixels keep their
    values. MEANDARK of a read is the mean of its *dark* image over the science
    area, skipping dark pixels flagged 4, 8, 16, 32, 128, 256 or 512 and
    non-finite values (0 when none is left).

    The dark is used one read at a time (``dark[k]`` is fetched once per read), so a
    lazy sequence, such as the one :func:`hstramp.reference.open_darkfile` gives,
    streams a reference file with frame-sized memory.

    Parameters
    ----------
    data, err : ndarray [ngroups, ny, nx]
        Reads (DN, after NLIN) and their errors.
    groupdq : ndarray [ngroups, ny, nx]
        Data quality.
    dark : sequence of ngroups ndarray [ny, nx]
        Dark of each read (DN accumulated since the zeroth read), already
        matched or interpolated to the read times; a ``[ngroups, ny, nx]`` array will do.
    dark_err : sequence of ngroups ndarray [ny, nx], or None
        Dark errors (None: zero).
    dark_dq : sequence of ngroups ndarray [ny, nx], or None
        Dark DQ (None: zero).
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    out : tuple of 3 ndarray, optional
        ``(data, err, groupdq)`` arrays to write the result into (float32, float32 and
        the DQ dtype); they may be the inputs themselves. Default: new arrays.

    Returns
    -------
    DarkSubtracted
        New (or ``out``) data, err, DQ and MEANDARK per read.
    """
    data = np.asarray(data)
    shape = data.shape
    for name, array in (("err", err), ("groupdq", groupdq)):
        if np.shape(array) != shape:
            raise ValueError(f"{name} has shape {np.shape(array)}, expected {shape}")
    for name, frames in (("dark", dark), ("dark_err", dark_err), ("dark_dq", dark_dq)):
        if frames is not None:
            _check_count(frames, shape, name)
    out_data, out_err, out_dq = output_arrays(
        (data, err, groupdq), (np.float32, np.float32, np.asarray(groupdq).dtype), out,
        ("data", "err", "groupdq"))
    rows, cols = science_slices(shape, trim)
    meandark = np.zeros(shape[0], dtype=np.float64)
    native_path = calib_kernel((out_data, out_err, out_dq)) is not None
    kept = np.empty(shape[1] * shape[2], np.float32) if native_path else None
    for k in range(shape[0]):  # one read at a time keeps the temporaries frame-sized
        dark_k = _frame(dark, k, shape[1:], "dark", np.float32)
        dq_k = None if dark_dq is None else _frame(dark_dq, k, shape[1:], "dark_dq")
        if native_path and (dq_k is None or _native_dq(dq_k)):
            err_k = None if dark_err is None else _frame(dark_err, k, shape[1:], "dark_err",
                                                         np.float32)
            mean = _subtract_native(out_data[k], out_err[k], out_dq[k], dark_k, err_k, dq_k,
                                    kept, trim)
            if mean is not None:
                meandark[k] = mean
                continue
        out_data[k, rows, cols] -= dark_k[rows, cols]
        if dark_err is not None:
            add_in_quadrature(out_err[k, rows, cols],
                              _frame(dark_err, k, shape[1:], "dark_err", np.float32)[rows, cols])
        if dq_k is not None:
            out_dq[k, rows, cols] |= dq_k[rows, cols].astype(out_dq.dtype, copy=False)
        meandark[k] = masked_mean(dark_k, dq_k, MEANDARK_DQ_MASK, trim=trim)
    log.debug("MEANDARK per read: %s", meandark)
    return DarkSubtracted(data=out_data, err=out_err, groupdq=out_dq, meandark=meandark)


def _native_dq(dq: np.ndarray) -> bool:
    """Whether the compiled kernel takes this dark DQ: integers of 16 bits or more, whose cast
    to the ramp's DQ dtype keeps every MEANDARK mask bit (the NumPy path tests the uncast DQ)."""
    return dq.dtype.kind in "ui" and dq.dtype.itemsize >= 2


def _subtract_native(data, err, dq, dark, dark_err, dark_dq, kept, trim) -> float | None:
    """One read of :func:`dark_subtract` by the compiled kernel, in one pass; its MEANDARK.

    ``data``, ``err`` and ``dq`` are the read's output frames, updated in place. The kernel
    copies the dark values that count into ``kept`` in row order, so MEANDARK is the sum of
    the same values in the same order as :func:`hstramp.core.stats.masked_mean` (same bits).
    None: the kernel is not to be used for these frames, nothing done.
    """
    inputs = (np.ascontiguousarray(dark),
              None if dark_err is None else np.ascontiguousarray(dark_err),
              None if dark_dq is None else np.ascontiguousarray(dark_dq, dq.dtype))
    calib = calib_kernel((data, err, dq, kept), inputs)
    if calib is None:
        return None
    count = calib.dark(data, err, dq, dq.itemsize, *inputs, MEANDARK_DQ_MASK, kept,
                       *calib_area(data.shape, trim))
    return 0.0 if count == 0 else float(_mean32(kept[:count]))


def add_in_quadrature(err: np.ndarray, other: np.ndarray) -> None:
    """``err = sqrt(err^2 + other^2)``, in place, without a temporary beyond ``other^2``.

    Parameters
    ----------
    err : ndarray, float32
        Errors, updated in place (a view into a larger array will do).
    other : ndarray
        The error to add, broadcastable to ``err``.
    """
    np.multiply(err, err, out=err)
    err += np.square(other, dtype=np.float32)
    np.sqrt(err, out=err)
