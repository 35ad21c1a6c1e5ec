"""The compiled ramp fit: :func:`fit_rows` hands a block to the C kernel ``rampfit``.

The twin of :func:`hstramp.core.ramp_fit.fixsen.fit_rows` (the NumPy reference path), with
the same arguments and the same results, bit for bit: the kernel (``core/_native/rampfit.c``)
does per pixel the float operations NumPy does per block, in the same order, and takes the
segment tables (coefficients and variances, functions of the read times only) from the
call's :class:`~hstramp.core.ramp_fit.fixsen.SegmentCache`. Which path runs is
:func:`hstramp.core.native.kernel`'s choice (``HSTRAMP_KERNELS``).

This module only prepares buffers: C-contiguous arrays of the kernel's dtypes (views of the
caller's arrays where they already are, else per-block copies) and the flag masks; and when
the kernel meets segments the cache has not tabulated yet (it then leaves their pixels
unfitted), it has the cache tabulate them and the kernel fit those pixels again.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from hstramp.core import dqflags
from hstramp.core.blocks import DO_NOT_USE, UNUSABLE, RampInputs, plane_view
from hstramp.core.ramp_fit.result import NO_SLOPE, REMOVED, RampFitResult

__all__ = ["fit_rows"]

#: The kernel's per-segment lists and their dtypes (see ``block_segments``).
SEGMENT_COLUMNS = (
    ("ordinal", np.int16),
    ("pixel", np.int64),
    ("slope", np.float64),
    ("var_poisson", np.float64),
    ("var_rnoise", np.float64),
    ("first_read", np.int16),
    ("last_read", np.int16),
    ("power", np.float32),
    ("weight", np.float64),
)


#: The segment tables the kernel reads, in its order.
TABLES = ("weighted_coefficients", "coefficients", "information", "weighted_rnoise",
          "weighted_poisson", "span", "length", "power")


#: Up to this many reads (WFC3/IR has at most 16), the first block tabulates every possible
#: segment at once (720 for 16 reads, a few ms) rather than those met, block by block.
ALL_SEGMENTS_UP_TO = 16


def every_segment(cache, npowers: int) -> np.ndarray:
    """The keys of every segment of two or more reads, with every exponent."""
    first, last, power = np.meshgrid(np.arange(cache.ngroups), np.arange(cache.ngroups),
                                     np.arange(npowers), indexing="ij")
    longer = first < last
    return cache.key(first[longer], last[longer], power[longer])


def cube_buffer(array: np.ndarray, dtype, rows: slice) -> tuple[np.ndarray, int, int]:
    """Rows ``rows`` of a cube ``[ngroups, ny, nx]`` as the kernel reads them.

    Returns
    -------
    buffer : ndarray
        C-contiguous, of ``dtype``: the cube itself when it already is, else a copy of the
        block.
    offset : int
        Index in each read's plane of the block's first pixel.
    stride : int
        Elements from one read to the next.
    """
    ny, nx = array.shape[1:]
    if array.dtype == dtype and array.flags.c_contiguous:
        return array, rows.start * nx, ny * nx
    block = np.ascontiguousarray(array[:, rows], dtype=dtype)
    return block, 0, block.shape[1] * nx


def fit_rows(
    kernel: ModuleType,
    inputs: RampInputs,
    pixeldq: np.ndarray | None,
    rows: slice,
    cache,
    params,
    result: RampFitResult,
    snr_edges,
) -> dict[str, np.ndarray] | None:
    """Fit the ramps of rows ``rows`` into ``result`` with the compiled kernel.

    Parameters
    ----------
    kernel : module
        ``hstramp.core.native.kernel("rampfit")``.
    inputs : RampInputs
        The whole exposure.
    pixeldq : ndarray uint16 [ny, nx] or None
    rows : slice
    cache : SegmentCache
        The call's segment tables; gains the block's new segments.
    params : RampFitParameters
    result : RampFitResult
        The call's result (C-contiguous ``[ny, nx]`` arrays); rows ``rows`` are written.
    snr_edges : sequence of float
        :data:`~hstramp.core.ramp_fit.fixsen.SNR_EDGES`.

    Returns
    -------
    dict of str to ndarray or None
        The block's segments as flat lists (``pixel`` a flat index into the frame) when
        ``params.save_segments``, else None.
    """
    ngroups, ny, nx = inputs.shape
    npix = (rows.stop - rows.start) * nx
    data, data_offset, data_stride = cube_buffer(inputs.data, np.float32, rows)
    dq, dq_offset, dq_stride = cube_buffer(inputs.groupdq, np.uint16, rows)
    arguments = (
        data, data_offset, data_stride, dq, dq_offset, dq_stride,
        plane_view(inputs.gain, rows).astype(np.float32, copy=False),
        plane_view(inputs.read_noise, rows).astype(np.float32, copy=False),
        None if pixeldq is None else plane_view(pixeldq, rows),
        inputs.read_scale,
        np.ascontiguousarray(inputs.times, np.float64),
        ngroups, npix,
    )
    flags = (
        DO_NOT_USE, UNUSABLE, dqflags.CR_RAMP, dqflags.SATURATED, REMOVED, NO_SLOPE,
        np.asarray(snr_edges, np.float64), params.weighting == "optimal",
        bool(params.suppress_one_group),
    )
    missing = np.empty(cache.row_of_key.size, np.int32)
    failed = np.empty(npix, np.int64)
    outputs = (result.rate, result.err, result.var_poisson, result.var_rnoise, result.dq,
               result.samp, result.time, rows.start * nx, ny * nx, missing, failed)
    segments = None
    if params.save_segments:
        capacity = npix * max(1, ngroups // 2)
        segments = {name: np.empty(capacity, dtype) for name, dtype in SEGMENT_COLUMNS}
    if rows.start == 0 and ngroups <= ALL_SEGMENTS_UP_TO:
        cache.tabulate(every_segment(cache, len(snr_edges) + 1))
    pixels, count = None, 0
    while True:
        store = cache.storage
        tables = (cache.row_of_key,
                  *(np.ascontiguousarray(getattr(store, name)) for name in TABLES),
                  store.information.size)
        lists = None
        if segments is not None:
            lists = (*segments.values(), count, capacity, rows.start * nx)
        nfailed, nmissing, count = kernel.fit(arguments, flags, tables, outputs, lists, pixels)
        if nfailed == 0:
            break
        if nmissing == 0:
            raise RuntimeError("rampfit kernel: pixels failed without a missing segment")
        # the segments met for the first time: tabulate them, fit those pixels again
        cache.tabulate(missing[:nmissing])
        pixels = failed[:nfailed].copy()
    if segments is None:
        return None
    return {name: values[:count] for name, values in segments.items()}
