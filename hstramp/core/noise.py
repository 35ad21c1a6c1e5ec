"""Initial error arrays from read noise and Poisson noise (calwf3 ``noiscalc``).

Gain (e-/DN) and read noise (e-, of a CDS pair, as in CCDTAB) come in per pixel,
so the amplifier quadrants are the caller's business (``hstramp.core.geometry``
builds the maps); a scalar stands for a uniform map.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from hstramp.core import native
from hstramp.core.outputs import output_arrays
from hstramp.core.stats import science_slices

__all__ = ["InitialError", "calib_area", "calib_kernel", "initial_error", "pixel_error",
           "pixel_map"]

log = logging.getLogger(__name__)

#: DQ dtypes the compiled ``calib`` kernel handles (any other takes the NumPy path)
_CALIB_DQ = (np.dtype(np.uint16), np.dtype(np.uint32))


def calib_kernel(outputs: Sequence[np.ndarray],
                 inputs: Sequence[np.ndarray | None] = ()) -> ModuleType | None:
    """The compiled ``calib`` kernel, when it is to be used and can write these outputs.

    The per-read calibration arithmetic of :mod:`hstramp.core.noise`, ``zsig``, ``nlin``,
    ``dark`` and ``flat`` has a fused compiled form (``hstramp/core/_native/calib.c``) that
    gives the same bits as the NumPy code; this is the one place that decides which runs.

    Parameters
    ----------
    outputs : sequence of ndarray
        The arrays the kernel would write. It writes C-contiguous arrays only (a given ``out``
        always is; the copy of a non-contiguous input may not be), and DQ (any integer
        output) of native uint16 or uint32.
    inputs : sequence of ndarray or None
        The arrays it would read besides the outputs (None: not given). No output may share
        memory with another output or with an input (the NumPy path reads and writes in
        another order, so overlapping arrays would give other results).

    Returns
    -------
    module or None
        The kernel, or None for the NumPy reference path (``HSTRAMP_KERNELS=numpy``, not
        built, or arrays it does not handle).

    Raises
    ------
    hstramp.core.native.NativeKernelMissing
        ``HSTRAMP_KERNELS=native`` and the kernel is not built.
    """
    calib = native.kernel("calib")
    if calib is None or not all(
            a.flags.c_contiguous and (a.dtype.kind == "f" or a.dtype in _CALIB_DQ)
            for a in outputs):
        return None
    others = [*outputs, *(a for a in inputs if a is not None)]
    for i, output in enumerate(outputs):
        if any(np.may_share_memory(output, other) for other in others[i + 1:]):
            return None
    return calib


def calib_area(shape: tuple[int, ...], trim: tuple[int, int, int, int]) -> tuple[int, ...]:
    """``(ny, nx, x1, x2, y1, y2)``: a frame and its trim as the ``calib`` kernel takes them.

    Raises
    ------
    hstramp.errors.ParameterError
        As :func:`hstramp.core.stats.science_slices` (a bad trim).
    """
    rows, cols = science_slices(shape, trim)
    ny, nx = shape[-2], shape[-1]
    return ny, nx, cols.start, nx - cols.stop, rows.start, ny - rows.stop


def pixel_map(
    value: float | np.ndarray,
    shape: tuple[int, int],
    name: str,
    dtype: type = np.float32,
    *,
    positive: bool = False,
) -> np.ndarray:
    """A read-only ``[ny, nx]`` map from a scalar or an array of that shape.

    Parameters
    ----------
    value : float or array_like
        A scalar, or an array of exactly ``shape``.
    shape : tuple of int
        The frame shape ``(ny, nx)``.
    name : str
        Name of the input, for the error message.
    dtype : numpy dtype, optional
        dtype of the map.
    positive : bool, optional
        Require every value to be > 0 (a gain).

    Returns
    -------
    ndarray
        The map (a broadcast view for a scalar; never a copy of a matching array
        of the right dtype). Callers must not write to it.

    Raises
    ------
    ValueError
        If ``value`` is neither a scalar nor an array of ``shape``, or
        ``positive`` is set and a value is not > 0.
    """
    array = np.asarray(value, dtype=dtype)
    if array.ndim != 0 and array.shape != tuple(shape):
        raise ValueError(f"{name} has shape {array.shape}, expected a scalar or {tuple(shape)}")
    if positive and not np.all(array > 0):
        raise ValueError(f"{name} must be > 0 everywhere")
    return np.broadcast_to(array, shape) if array.ndim == 0 else array


def pixel_error(signal: np.ndarray, gain: np.ndarray, readnoise: np.ndarray, *,
                nonpositive: str = "absolute", out: np.ndarray | None = None) -> np.ndarray:
    """Error in DN of a signal in DN: ``sqrt(RN^2 + |S * g|) / g``.

    Parameters
    ----------
    signal : ndarray
        Signal, DN.
    gain : ndarray or float
        Gain, e-/DN (broadcast against ``signal``).
    readnoise : ndarray or float
        Read noise, e- (broadcast against ``signal``).
    nonpositive : {'absolute', 'readnoise'}, optional
        What a signal ``S * g <= 0`` contributes: its absolute value (calwf3 ``noiscalc``,
        the default) or nothing, i.e. the error is ``RN / g`` there (calstis ``doNoise``).
    out : ndarray, float32, optional
        Where to write the error (a view into a ramp will do); default a new array.

    Returns
    -------
    ndarray, float32
        The error, DN (``out`` when given).
    """
    if nonpositive not in ("absolute", "readnoise"):
        raise ValueError(f"nonpositive must be 'absolute' or 'readnoise', got {nonpositive!r}")
    signal = np.asarray(signal, dtype=np.float32)
    gain = np.asarray(gain, dtype=np.float32)
    readnoise = np.asarray(readnoise, dtype=np.float32)
    error = np.asarray(np.multiply(signal, gain, out=out))  # electrons, then the error
    if nonpositive == "absolute":
        np.abs(error, out=error)
    else:
        np.maximum(error, np.float32(0.0), out=error)
    error += readnoise * readnoise
    np.sqrt(error, out=error)
    error /= gain
    return error


@dataclass(frozen=True)
class InitialError:
    """Result of :func:`initial_error`.

    Attributes
    ----------
    err : ndarray, float32 [ngroups, ny, nx]
        The new error array.
    ncomputed : int
        Number of reads (from the zeroth read on) whose error was computed;
        less than ngroups means calwf3 would report NOISCORR SKIPPED.
    """

    err: np.ndarray
    ncomputed: int


def initial_error(
    data: np.ndarray,
    err: np.ndarray | None,
    gain: float | np.ndarray,
    readnoise: float | np.ndarray,
    *,
    trim: tuple[int, int, int, int],
    out: np.ndarray | None = None,
) -> InitialError:
    """Populate the error of every read from read noise and Poisson noise.

    In the science area ERR = sqrt(RN^2 + |S*g|)/g (DN); the reference-pixel
    border keeps its input ERR. Re-entrant rule (calwf3 ``doNoisIR``): reads are
    taken in time order and the first read whose science-area ERR holds any
    non-zero value stops the step, leaving that read and every later one
    unchanged (the earlier reads keep their new errors).

    Parameters
    ----------
    data : ndarray [ngroups, ny, nx]
        Science data, DN.
    err : ndarray [ngroups, ny, nx] or None
        Existing errors; None means all zero (a raw file).
    gain : float or ndarray [ny, nx]
        Gain per pixel, e-/DN.
    readnoise : float or ndarray [ny, nx]
        Read noise per pixel, e-.
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    out : ndarray, optional
        float32 array of ``data``'s shape to write the errors into; it may be ``err``
        itself. Default: a new array.

    Returns
    -------
    InitialError
        New (or ``out``) error array and the number of reads computed.
    """
    data = np.asarray(data)
    rows, cols = science_slices(data.shape, trim)
    frame = data.shape[-2:]
    gain_map = pixel_map(gain, frame, "gain", positive=True)
    readnoise_map = pixel_map(readnoise, frame, "readnoise")
    gain, readnoise = gain_map[rows, cols], readnoise_map[rows, cols]
    if err is not None and np.shape(err) != data.shape:
        raise ValueError(f"err has shape {np.shape(err)}, expected {data.shape}")
    start = np.broadcast_to(np.float32(0.0), data.shape) if err is None else err
    (out,) = output_arrays((start,), (np.float32,), None if out is None else (out,), ("err",))
    inputs = (np.ascontiguousarray(data, np.float32), np.ascontiguousarray(gain_map),
              np.ascontiguousarray(readnoise_map))
    calib = calib_kernel((out,), inputs)
    if calib is not None:  # one pass per read, the zero check first (same bits)
        ncomputed = calib.noise(inputs[0], out, *inputs[1:], data.shape[0],
                                *calib_area(frame, trim))
    else:
        populated = [k for k in range(data.shape[0]) if np.any(out[k, rows, cols])]
        ncomputed = populated[0] if populated else data.shape[0]
        for k in range(ncomputed):  # one read at a time keeps the temporaries frame-sized
            pixel_error(data[k, rows, cols], gain, readnoise, out=out[k, rows, cols])
    if ncomputed < data.shape[0]:
        log.debug("ERR of read %d already populated: noise skipped from there on", ncomputed)
    return InitialError(err=out, ncomputed=ncomputed)
