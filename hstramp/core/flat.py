"""Flat fielding and conversion to electrons (calwf3 ``flatcorr``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hstramp.core.noise import calib_area, calib_kernel, pixel_map
from hstramp.core.outputs import output_arrays
from hstramp.core.stats import science_slices

__all__ = ["FlatFielded", "electron_unit", "flat_field", "mean_gain"]

_ELECTRON_UNITS = {"COUNTS": "ELECTRONS", "COUNTS/S": "ELECTRONS/S"}


@dataclass(frozen=True)
class FlatFielded:
    """Result of :func:`flat_field`.

    Attributes
    ----------
    data, err : ndarray, float32
        Flat-fielded data in electrons (or electrons/s) and their errors.
    dq : ndarray
        Data quality with the flat DQ OR-ed in.
    bunit : str
        The new BUNIT.
    """

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    bunit: str


def mean_gain(amp_gains: Sequence[float]) -> float:
    """The gain calwf3 multiplies by: the mean of the four CCDTAB ATODGN values.

    All four table values count, whichever amplifiers were used.

    Parameters
    ----------
    amp_gains : sequence of 4 float
        ATODGNA..D, e-/DN.

    Returns
    -------
    float
        Their mean (float32 precision).
    """
    gains = np.asarray(amp_gains, dtype=np.float32)
    if gains.shape != (4,) or not np.all(gains > 0):
        raise ValueError(f"amp_gains must be four positive gains (ATODGNA..D), got {amp_gains!r}")
    return float(np.float32(gains.sum(dtype=np.float32) / np.float32(4.0)))


def electron_unit(bunit: str) -> str:
    """The electron unit of a count unit: COUNTS -> ELECTRONS, COUNTS/S -> ELECTRONS/S."""
    key = bunit.strip().upper()
    if key not in _ELECTRON_UNITS:
        raise ValueError(f"BUNIT {bunit!r} is not COUNTS or COUNTS/S; cannot convert to electrons")
    return _ELECTRON_UNITS[key]


def _divide_by_flat(sci: np.ndarray, err: np.ndarray, f: np.ndarray, ef: np.ndarray,
                    f2: np.ndarray, f4: np.ndarray, unusable: np.ndarray) -> None:
    """In place: ``sci /= f``, ``err = sqrt(err^2/f^2 + sci^2 ef^2/f^4)``; both 0 where f == 0.

    ``f2 = f * f``, ``f4 = f2 * f2`` and ``unusable = f == 0`` are computed once per flat.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        term = sci * sci
        term *= ef
        term *= ef
        term /= f4
        np.multiply(err, err, out=err)
        err /= f2
        err += term
        np.sqrt(err, out=err)
        sci /= f
    np.copyto(err, np.float32(0.0), where=unusable)
    np.copyto(sci, np.float32(0.0), where=unusable)


def _kernel_planes(planes):
    """``(row stride, flat buffers)`` for the ``calib`` kernel, without copying a window.

    The flat planes are ``[ny, nx]`` arrays, often a window of a wider cached flat (the cut
    of a 1024 x 1024 flat for a 1014 x 1014 image): rows of ``nx`` contiguous values a fixed
    number of values apart. The kernel takes each as the one-dimensional run of memory from
    its first value to its last, and that row stride, so such a window is read in place.
    Planes of another layout, or of different strides, are copied C-contiguous (stride nx).
    """
    given = [p for p in planes if p is not None]
    strides = {_row_stride(p) for p in given}
    if len(strides) == 1 and None not in strides:
        stride = strides.pop()
        return stride, tuple(None if p is None else _memory_run(p, stride) for p in planes)
    nx = given[0].shape[1]
    return nx, tuple(None if p is None else np.ascontiguousarray(p).reshape(-1) for p in planes)


def _row_stride(plane: np.ndarray) -> int | None:
    """Values between the starts of two rows of a 2-D plane whose rows are contiguous and
    ascending; None otherwise (an empty plane included)."""
    ny, nx = plane.shape
    step_y, step_x = plane.strides
    item = plane.itemsize
    if plane.size == 0 or (nx > 1 and step_x != item):
        return None
    if ny == 1:
        return nx
    if step_y % item or step_y < nx * item:
        return None
    return step_y // item


def _memory_run(plane: np.ndarray, stride: int) -> np.ndarray:
    """The values from a plane's first to its last, one-dimensional (a view, no copy)."""
    ny, nx = plane.shape
    span = (ny - 1) * stride + nx if ny else 0
    return np.lib.stride_tricks.as_strided(plane, shape=(span,), strides=(plane.itemsize,),
                                           writeable=False)


def flat_field(
    data: np.ndarray,
    err: np.ndarray,
    dq: np.ndarray,
    flat: np.ndarray,
    flat_err: np.ndarray | None,
    flat_dq: np.ndarray | None,
    *,
    amp_gains: Sequence[float] | None,
    trim: tuple[int, int, int, int],
    bunit: str = "COUNTS/S",
    zero_flat_dq: int = 0,
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> FlatFielded:
    """Divide by the flat, then multiply by the mean gain, as calwf3.

    1. In the science area only (calwf3 ``adiv_noref``): ``SCI = S / F``,
       ``ERR = sqrt(E^2 / F^2 + S^2 EF^2 / F^4)``, ``DQ |= flat DQ``; where
       ``F == 0`` SCI and ERR become 0 (no flag, unless ``zero_flat_dq`` is given:
       calstis ``div2d`` flags 512 there).
    2. Over the whole frame, reference pixels included: SCI and ERR times
       :func:`mean_gain` of the four amplifier gains. With ``amp_gains=None`` (calstis)
       nothing is multiplied and BUNIT is kept.

    Works on a ramp ``[ngroups, ny, nx]`` (every read) or one image ``[ny, nx]``.

    Parameters
    ----------
    data, err : ndarray [..., ny, nx]
        Data and errors, counts or counts/s.
    dq : ndarray [..., ny, nx]
        Data quality.
    flat : ndarray [ny, nx]
        Combined flat (PFLT * DFLT * LFLT), cut to the frame.
    flat_err : ndarray [ny, nx] or None
        Its error (None: zero).
    flat_dq : ndarray [ny, nx] or None
        Its DQ (None: zero).
    amp_gains : sequence of 4 float or None
        ATODGNA..D from CCDTAB, e-/DN; None to stay in counts.
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    bunit : str, optional
        Current BUNIT (COUNTS/S after UNITCORR, COUNTS without it).
    zero_flat_dq : int, optional
        DQ bits OR-ed where the flat is 0 (0: none, as calwf3).
    out : tuple of 3 ndarray, optional
        ``(data, err, dq)`` arrays to write the result into (float32, float32 and the DQ
        dtype); they may be the inputs themselves. Default: new arrays.

    Returns
    -------
    FlatFielded
        New (or ``out``) data, err, DQ and BUNIT.
    """
    data = np.asarray(data)
    if np.shape(err) != data.shape or np.shape(dq) != data.shape:
        raise ValueError(
            f"data {data.shape}, err {np.shape(err)} and dq {np.shape(dq)} must have one shape"
        )
    new_unit = bunit if amp_gains is None else electron_unit(bunit)
    frame = data.shape[-2:]
    rows, cols = science_slices(frame, trim)
    f = pixel_map(flat, frame, "flat")[rows, cols]
    ef = pixel_map(0.0 if flat_err is None else flat_err, frame, "flat_err")[rows, cols]

    out, out_err, out_dq = output_arrays(
        (data, err, dq), (np.float32, np.float32, np.asarray(dq).dtype), out,
        ("data", "err", "dq"))
    planes = (pixel_map(flat, frame, "flat"),
              None if flat_err is None else pixel_map(flat_err, frame, "flat_err"),
              None if flat_dq is None else pixel_map(flat_dq, frame, "flat_dq", out_dq.dtype))
    stride, inputs = _kernel_planes(planes)
    calib = calib_kernel((out, out_err, out_dq), inputs)
    if calib is not None:  # one pass over every image (same bits)
        calib.flat(out, out_err, out_dq, out_dq.itemsize, int(np.prod(data.shape[:-2])), *inputs,
                   stride, int(np.asarray(zero_flat_dq).astype(out_dq.dtype)),
                   amp_gains is not None, 0.0 if amp_gains is None else mean_gain(amp_gains),
                   *calib_area(frame, trim))
        return FlatFielded(data=out, err=out_err, dq=out_dq, bunit=new_unit)
    f2 = f * f
    terms = (f, ef, f2, f2 * f2, f == 0)
    for image, error in zip(out.reshape(-1, *frame), out_err.reshape(-1, *frame), strict=True):
        _divide_by_flat(image[rows, cols], error[rows, cols], *terms)
    if amp_gains is not None:
        gain = np.float32(mean_gain(amp_gains))
        out *= gain
        out_err *= gain

    if flat_dq is not None:
        out_dq[..., rows, cols] |= pixel_map(flat_dq, frame, "flat_dq", out_dq.dtype)[rows, cols]
    if zero_flat_dq:
        out_dq[..., rows, cols] |= np.where(f == 0, zero_flat_dq, 0).astype(out_dq.dtype)
    return FlatFielded(data=out, err=out_err, dq=out_dq, bunit=new_unit)
