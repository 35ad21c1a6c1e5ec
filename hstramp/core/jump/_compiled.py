"""The compiled primary search (``hstramp/core/_native/jump.c``): buffers in, jumps out.

:func:`primary_jumps` gives the kernel C-contiguous buffers and the parameters, and
returns the same :class:`~hstramp.core.jump._batching.PrimaryJumps` as the NumPy search
(the reference, in :mod:`hstramp.core.jump.twopoint`); the flagging of neighbours and of
reads after large jumps is shared. A float32 C-contiguous cube goes to the kernel whole,
without a copy (the kernel applies ``read_scale`` and the pixel DQ itself); any other
layout or dtype is converted one block of rows at a time, as the NumPy path does.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from hstramp.core.blocks import UNUSABLE, RampInputs, block_view, plane_view, row_blocks
from hstramp.core.jump._batching import PrimaryJumps
from hstramp.core.jump._median import PLAIN_MEDIAN
from hstramp.core.jump._parameters import JumpParameters


def _flat(array: np.ndarray | None, dtype) -> np.ndarray | None:
    """A C-contiguous flat copy of ``array`` in ``dtype`` (no copy when it already is)."""
    return None if array is None else np.ascontiguousarray(array, dtype).reshape(-1)


def _pixel_map(array: np.ndarray) -> np.ndarray:
    """A gain or read-noise map for the kernel: one value when it is the same for every
    pixel (a scalar's broadcast view), else the flat map."""
    if array.size and not any(array.strides):
        return np.ascontiguousarray(array.reshape(-1)[:1], np.float32)
    return _flat(array, np.float32)


def primary_jumps(kernel: ModuleType, inputs: RampInputs,
                  params: JumpParameters) -> PrimaryJumps | None:
    """Every jump of the two-point search, found by the compiled kernel.

    Parameters
    ----------
    kernel : module
        ``hstramp.core.native.kernel("jump")``.
    inputs : RampInputs
        With at least 3 reads.
    params : JumpParameters

    Returns
    -------
    PrimaryJumps or None
        With frame pixel indices, in no particular order; None where a difference rate
        is beyond +-3e38 (reads near the float32 limit), which only the NumPy path
        decides (see ``_native/jump.c``).
    """
    ngroups, ny, nx = inputs.shape
    npix = ny * nx
    common = (
        _flat(inputs.read_scale, np.float32),
        _flat(inputs.times, np.float64),
    )
    thresholds = params.threshold_table(ngroups - 1)
    tail = (UNUSABLE, PLAIN_MEDIAN)
    data, groupdq = inputs.data, inputs.groupdq
    if data.dtype == np.float32 and data.flags.c_contiguous and groupdq.flags.c_contiguous:
        parts = [kernel.primary_jumps(
            data, groupdq, _flat(inputs.pixeldq, np.uint16), *common,
            _pixel_map(inputs.gain), _pixel_map(inputs.read_noise), thresholds,
            ngroups, npix, 0, npix, 0, *tail,
        )]
    else:
        parts = []
        for rows in row_blocks(ny, nx, ngroups, params.block_rows):
            block = np.ascontiguousarray(block_view(data, rows, np.float32))
            pixels = block.shape[1]
            parts.append(kernel.primary_jumps(
                block, np.ascontiguousarray(block_view(groupdq, rows)),
                None if inputs.pixeldq is None else plane_view(inputs.pixeldq, rows), *common,
                _pixel_map(inputs.gain[rows]), _pixel_map(inputs.read_noise[rows]), thresholds,
                ngroups, pixels, 0, pixels, rows.start * nx, *tail,
            ))
    if any(part is None for part in parts):
        return None
    columns = zip(*parts, strict=True)
    dtypes = (np.int64, np.int64, np.float32, np.float32)
    read, pixel, ratio, amplitude = (
        np.concatenate([np.frombuffer(part, dtype) for part in column])
        for column, dtype in zip(columns, dtypes, strict=True)
    )
    return PrimaryJumps(read.astype(np.intp), pixel.astype(np.intp), ratio, amplitude)
