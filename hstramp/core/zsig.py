"""Signal in the zeroth read (calwf3 ``zsigcorr``), on raw DN before BLEV.

The zeroth read already holds the signal that arrived between the reset and the
read. calwf3 estimates it as the zeroth read minus the super-zero read ZSCI of
the NLINFILE. ZSCI is in raw DN *with* the bias, so this must run on the raw
zeroth read, before BLEV removes the bias from the science data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.dqflags import SATURATED, ZERO_READ_SIGNAL
from hstramp.core.noise import calib_area, calib_kernel, pixel_error, pixel_map
from hstramp.core.outputs import output_arrays
from hstramp.core.stats import science_slices
from hstramp.errors import ParameterError

__all__ = ["ZeroReadSignal", "zero_read_signal", "zero_read_signal_dq"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ZeroReadSignal:
    """Result of :func:`zero_read_signal`.

    Attributes
    ----------
    zsig : ndarray, float32 [ny, nx]
        Zeroth-read signal, DN: ``read0 - ZSCI`` where significant, else 0;
        0 on the reference-pixel border (calwf3 leaves the raw zeroth read
        there, but no stage ever reads it).
    dq : ndarray [ny, nx]
        DQ of the zsig image: the zeroth read's DQ plus 2048 where significant
        and 256+2048 where the zeroth or first read saturated. NLIN copies its
        2048 bits into every later read.
    groupdq : ndarray [ngroups, ny, nx]
        New data quality of the ramp.
    zeroth_read : ndarray, float32 [ny, nx]
        The zeroth read with zsig added in the science area, which calwf3
        writes back into the ramp (so after ZOFF read 0 holds zsig).
    """

    zsig: np.ndarray
    dq: np.ndarray
    groupdq: np.ndarray
    zeroth_read: np.ndarray


def zero_read_signal(
    data: np.ndarray,
    groupdq: np.ndarray,
    zsci: np.ndarray,
    zerr: np.ndarray,
    node: np.ndarray,
    gain: float | np.ndarray,
    readnoise: float | np.ndarray,
    *,
    trim: tuple[int, int, int, int],
    threshold: float = 4.0,
    out: np.ndarray | None = None,
) -> ZeroReadSignal:
    """Estimate the zeroth-read signal and flag saturation in reads 0 and 1.

    In the science area (calwf3 skips the reference pixels):

    - ``zsig = read0 - ZSCI``; its noise ``sigma = sqrt(ERRz^2 + ZERR^2)`` with
      ``ERRz = sqrt(RN^2 + |zsig * g|) / g``;
    - ``zsig >= threshold * sigma``: flag 2048 on read 0 (and on the zsig DQ),
      keep zsig; otherwise zsig = 0;
    - ``zsig > NODE`` (the zeroed zsig): 256+2048 on read 0 and the zsig DQ,
      256 on read 1;
    - else ``read1 - ZSCI > NODE``: 256 on read 1 and 256+2048 on the zsig DQ
      (not on read 0).

    Parameters
    ----------
    data : ndarray [ngroups, ny, nx]
        Raw ramp in time order, DN, bias included (after DQI, before BLEV).
        Only reads 0 and 1 are used.
    groupdq : ndarray [ngroups, ny, nx]
        Data quality of every read.
    zsci, zerr : ndarray [ny, nx]
        Super-zero read and its error from the NLINFILE, raw DN, cut to the frame.
    node : ndarray [ny, nx]
        Saturation level from the NLINFILE (DN above the super-zero read).
    gain : float or ndarray [ny, nx]
        Gain per pixel, e-/DN.
    readnoise : float or ndarray [ny, nx]
        Read noise per pixel, e-.
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    threshold : float, optional
        Significance threshold in sigma (calwf3 default 4).
    out : ndarray, optional
        Array of ``groupdq``'s shape and dtype to write the new ramp DQ into; it may be
        ``groupdq`` itself. Default: a new array.

    Returns
    -------
    ZeroReadSignal
        zsig image, its DQ, the new (or ``out``) ramp DQ and the new zeroth read.

    Raises
    ------
    ParameterError
        If ``threshold`` is not positive.
    ValueError
        If the ramp has fewer than two reads or a reference array has the wrong shape.
    """
    if not threshold > 0:
        raise ParameterError(f"threshold must be > 0 sigma, got {threshold}")
    data = np.asarray(data)
    if data.ndim != 3 or data.shape[0] < 2:
        raise ValueError(f"data must be a ramp [ngroups >= 2, ny, nx], got shape {data.shape}")
    if np.shape(groupdq) != data.shape:
        raise ValueError(f"groupdq has shape {np.shape(groupdq)}, expected {data.shape}")
    frame = data.shape[1:]
    rows, cols = science_slices(frame, trim)

    def science(value, name, positive=False):
        return pixel_map(value, frame, name, positive=positive)[rows, cols]

    (out_dq,) = output_arrays((groupdq,), (np.asarray(groupdq).dtype,),
                              None if out is None else (out,), ("groupdq",))
    native_result = _zero_read_signal_native(data, out_dq, zsci, zerr, node, gain, readnoise,
                                             trim, threshold)
    if native_result is not None:
        return native_result

    zsci_s, node_s = science(zsci, "zsci"), science(node, "node")
    zerr_s = science(zerr, "zerr")
    read0 = np.asarray(data[0], dtype=np.float32)
    signal = read0[rows, cols] - zsci_s
    errz = pixel_error(signal, science(gain, "gain", True), science(readnoise, "readnoise"))
    significant = signal >= np.float32(threshold) * np.sqrt(errz * errz + zerr_s * zerr_s)
    signal = np.where(significant, signal, np.float32(0.0))
    saturated0 = signal > node_s
    saturated1 = ~saturated0 & (np.asarray(data[1], dtype=np.float32)[rows, cols] - zsci_s > node_s)
    log.debug(
        "ZSIG: %d saturated pixels in read 0, %d in read 1",
        saturated0.sum(),
        saturated0.sum() + saturated1.sum(),
    )

    zsig_dq = np.array(groupdq[0], copy=True)
    flags = out_dq.dtype.type
    read0_flags = np.where(significant, flags(ZERO_READ_SIGNAL), flags(0))
    read0_flags |= np.where(saturated0, flags(SATURATED | ZERO_READ_SIGNAL), flags(0))
    out_dq[0, rows, cols] |= read0_flags
    out_dq[1, rows, cols] |= np.where(saturated0 | saturated1, flags(SATURATED), flags(0))
    zsig_dq[rows, cols] |= read0_flags
    zsig_dq[rows, cols] |= np.where(saturated1, flags(SATURATED | ZERO_READ_SIGNAL), flags(0))

    zsig = np.zeros(frame, dtype=np.float32)
    zsig[rows, cols] = signal
    zeroth_read = read0.copy()
    zeroth_read[rows, cols] += signal
    return ZeroReadSignal(zsig=zsig, dq=zsig_dq, groupdq=out_dq, zeroth_read=zeroth_read)


def _zero_read_signal_native(data, out_dq, zsci, zerr, node, gain, readnoise, trim,
                             threshold) -> ZeroReadSignal | None:
    """:func:`zero_read_signal` by the compiled kernel, in one pass (same bits).

    ``out_dq`` already holds the input DQ; it is updated in place. None: the kernel is not
    to be used, nothing done.
    """
    if calib_kernel((out_dq,)) is None:
        return None
    frame = data.shape[1:]

    def full(value, name, positive=False):
        return np.ascontiguousarray(pixel_map(value, frame, name, positive=positive))

    zsci, node, zerr = full(zsci, "zsci"), full(node, "node"), full(zerr, "zerr")  # as NumPy
    inputs = (np.ascontiguousarray(data[0], np.float32), np.ascontiguousarray(data[1], np.float32),
              zsci, zerr, node, full(gain, "gain", True), full(readnoise, "readnoise"))
    zeroth_read = np.array(data[0], dtype=np.float32, order="C", copy=True)
    zsig_dq = np.array(out_dq[0], order="C", copy=True)
    zsig = np.zeros(frame, dtype=np.float32)
    outputs = (out_dq[0], out_dq[1], zsig, zsig_dq, zeroth_read)
    calib = calib_kernel(outputs, inputs)
    if calib is None:
        return None
    calib.zsig(*inputs[:2], *outputs[:2], out_dq.itemsize, *inputs[2:], np.float32(threshold),
               *outputs[2:], *calib_area(frame, trim))
    return ZeroReadSignal(zsig=zsig, dq=zsig_dq, groupdq=out_dq, zeroth_read=zeroth_read)


def zero_read_signal_dq(groupdq: np.ndarray) -> np.ndarray:
    """Rebuild the ZERO_READ_SIGNAL bit of calwf3's zsig DQ image from a ramp's DQ.

    ZSIGCORR marks 2048 in its zsig DQ where the zeroth-read signal is significant (read 0
    carries 2048 there too) and where only read 1 saturates (read 1 carries 256 there, read 0
    does not get 2048). NLINCORR copies that bit into every later read. Both cases are visible
    in the ramp's DQ after ZSIGCORR, so the image need not be stored: exact as long as no
    other step put 256 on read 1 before NLINCORR (the bad-pixel table never holds 256).

    Parameters
    ----------
    groupdq : ndarray [ngroups, ny, nx]
        DQ of every read after ZSIGCORR (and ZOFFCORR).

    Returns
    -------
    ndarray [ny, nx]
        ZERO_READ_SIGNAL where the zsig DQ has it, else 0; same dtype as ``groupdq``.
    """
    groupdq = np.asarray(groupdq)
    flag = groupdq.dtype.type
    marked = (groupdq[0] & flag(ZERO_READ_SIGNAL)) != 0
    if groupdq.shape[0] > 1:
        marked |= (groupdq[1] & flag(SATURATED)) != 0
    return np.where(marked, flag(ZERO_READ_SIGNAL), flag(0))
