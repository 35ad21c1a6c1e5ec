"""Row blocks and per-read helpers shared by jump detection and ramp fitting.

Both algorithms walk the cube ``[ngroups, ny, nx]`` in blocks of whole rows, so the
working memory is bounded whatever the frame size, and flatten each block to
``[ngroups, npix]`` so that every operation is a plane operation over pixels
(loops run over reads, never over pixels). Nothing here depends on the block
size: every value is computed per pixel, so results are bit-identical for any
``block_rows``.

Which reads are usable (see ``docs/maths.md``):

- a read is *unusable* when its DQ has a bit of :data:`UNUSABLE`
  (:data:`DO_NOT_USE` or ``SATURATED``), when its value is not finite
  (NaN or inf), or when the pixel's gain or read noise is invalid;
- ``CR_RAMP`` is *not* in the set: a read flagged as a jump is good data that
  starts a new ramp segment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from hstramp.core import dqflags
from hstramp.core.noise import pixel_map

__all__ = [
    "DO_NOT_USE",
    "UNUSABLE",
    "RampInputs",
    "auto_block_rows",
    "block_view",
    "check_block_rows",
    "checked_pixeldq",
    "gather",
    "pixel_valid",
    "plane_view",
    "ramp_inputs",
    "row_blocks",
    "usable_reads",
]

log = logging.getLogger(__name__)

#: Read-level flags that make a read unusable for slopes and jump detection:
#: Reed-Solomon decoding error, fill data and bad detector pixel. Informational
#: flags (HOT, WARM, UNSTABLE, DEVIANT_ZERO, ZERO_READ_SIGNAL, ...) are not in it.
DO_NOT_USE = dqflags.REED_SOLOMON | dqflags.FILL | dqflags.BAD_DETECTOR

#: Every flag that excludes a read: :data:`DO_NOT_USE` and full-well saturation.
UNUSABLE = DO_NOT_USE | dqflags.SATURATED

#: Target number of cube elements (reads x pixels) per automatic block.
_BLOCK_ELEMENTS = 1 << 18


@dataclass(frozen=True)
class RampInputs:
    """Validated inputs common to :func:`detect_jumps` and :func:`fit_ramps`.

    Attributes
    ----------
    data : ndarray [ngroups, ny, nx]
        The ramp, as given (never written to).
    groupdq : ndarray uint16 [ngroups, ny, nx]
        Per-read DQ, as given if uint16 (never written to), else converted.
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read.
    gain, read_noise : ndarray float32 [ny, nx]
        Per-pixel maps (read-only views for scalars).
    read_scale : ndarray float32 [ngroups] or None
        Factor of each read (see :func:`ramp_inputs`); None: the data are the ramp.
    pixeldq : ndarray uint16 [ny, nx] or None
        Pixel DQ OR-ed into every read's DQ (see :func:`ramp_inputs`).
    """

    data: np.ndarray
    groupdq: np.ndarray
    times: np.ndarray
    gain: np.ndarray
    read_noise: np.ndarray
    read_scale: np.ndarray | None = None
    pixeldq: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(ngroups, ny, nx)``."""
        return self.data.shape

    def data_block(self, rows: slice) -> np.ndarray:
        """The ramp of rows ``rows`` as float32 ``[ngroups, npix]`` (read_scale applied).

        With a ``read_scale``, a new array: read ``k`` times ``read_scale[k]``, read 0 set to
        0; exactly what :func:`hstramp.core.units.accumulated_counts` gives for the whole
        cube, one block at a time. Without, a view where possible; never to be written to.
        """
        block = block_view(self.data, rows, np.float32)
        if self.read_scale is None:
            return block
        scaled = np.empty(block.shape, np.float32)
        scaled[0] = 0.0
        # read 0 is not multiplied (its scale is a time of 0: inf * 0 would warn); a product
        # too large for float32 is inf, an unusable read like any other
        with np.errstate(over="ignore"):
            np.multiply(block[1:], self.read_scale[1:, None], out=scaled[1:])
        return scaled

    def dq_block(self, rows: slice) -> np.ndarray:
        """The DQ of rows ``rows`` as uint16 ``[ngroups, npix]``, the pixel DQ OR-ed in."""
        block = block_view(self.groupdq, rows)
        if self.pixeldq is None:
            return block
        return block | plane_view(self.pixeldq, rows)

    def values_at(self, index: np.ndarray) -> np.ndarray:
        """Ramp values (as :meth:`data_block` gives them) at flat cube indices, float32."""
        values = gather(self.data, index).astype(np.float32, copy=False)
        if self.read_scale is None:
            return values
        read = index // (self.shape[1] * self.shape[2])
        scale = self.read_scale[read]
        later = read > 0
        scaled = np.zeros(values.shape, np.float32)
        with np.errstate(over="ignore"):
            np.multiply(values, scale, out=scaled, where=later)
        return scaled

    def dq_at(self, index: np.ndarray) -> np.ndarray:
        """DQ (as :meth:`dq_block` gives it) at flat cube indices."""
        dq = gather(self.groupdq, index)
        if self.pixeldq is None:
            return dq
        return dq | gather(self.pixeldq, index % (self.shape[1] * self.shape[2]))


def ramp_inputs(data, groupdq, times, gain, read_noise, read_scale=None,
                pixeldq=None) -> RampInputs:
    """Check the shapes and the read times and build per-pixel gain and read-noise maps.

    Parameters
    ----------
    data : array_like [ngroups, ny, nx]
        The ramp in DN, time order.
    groupdq : array_like [ngroups, ny, nx]
        Per-read DQ flags (unsigned integers).
    times : array_like [ngroups]
        Seconds since the zeroth read: ``times[0] == 0``, strictly increasing.
    gain : float or array_like [ny, nx]
        Gain, e-/DN.
    read_noise : float or array_like [ny, nx]
        Read noise of a single read, DN.
    read_scale : array_like [ngroups], optional
        For a ramp as the calibration steps leave it: the ramp is read ``k`` of ``data``
        times ``read_scale[k]``, and read 0, which then holds the zeroth-read signal
        (ZSIGCORR), counts as 0. The read times for data in count rates (after UNITCORR),
        ones for data in counts. None (default): ``data`` are the ramp, used as given.
    pixeldq : array_like [ny, nx], optional
        Pixel DQ (unsigned integers), OR-ed into every read's DQ as blocks are read.

    Returns
    -------
    RampInputs

    Raises
    ------
    ValueError
        If a shape does not match, the times are not as described, or a scalar gain
        or read noise is invalid (gain must be > 0, read noise >= 0, both finite).
    """
    data = np.asarray(data)
    groupdq = np.asarray(groupdq)
    if data.ndim != 3:
        raise ValueError(f"data must be 3-D [ngroups, ny, nx], got shape {data.shape}")
    if not np.issubdtype(data.dtype, np.floating):
        raise ValueError(f"data must be a floating-point array, got {data.dtype}")
    if groupdq.shape != data.shape:
        raise ValueError(f"groupdq has shape {groupdq.shape}, expected {data.shape}")
    if not np.issubdtype(groupdq.dtype, np.unsignedinteger):
        raise ValueError(f"groupdq must be an unsigned integer array, got {groupdq.dtype}")
    if groupdq.dtype != np.uint16:
        if groupdq.dtype.itemsize > 2 and groupdq.size and groupdq.max() > 0xFFFF:
            raise ValueError("groupdq has flags above 16 bits; WFC3 IR flags fit in uint16")
        groupdq = groupdq.astype(np.uint16)
    times = np.asarray(times, dtype=np.float64)
    ngroups = data.shape[0]
    if times.shape != (ngroups,):
        raise ValueError(f"times has shape {times.shape}, expected ({ngroups},)")
    if not np.all(np.isfinite(times)) or times[0] != 0.0 or np.any(np.diff(times) <= 0):
        raise ValueError("times must be finite, start at 0 and be strictly increasing")
    frame = data.shape[1:]
    gain_map = pixel_map(gain, frame, "gain")
    noise_map = pixel_map(read_noise, frame, "read_noise")
    if np.ndim(gain) == 0 and not (np.isfinite(gain) and gain > 0):
        raise ValueError(f"gain must be finite and > 0, got {gain}")
    if np.ndim(read_noise) == 0 and not (np.isfinite(read_noise) and read_noise >= 0):
        raise ValueError(f"read_noise must be finite and >= 0, got {read_noise}")
    if read_scale is not None:
        read_scale = np.asarray(read_scale, dtype=np.float32)
        if read_scale.shape != (ngroups,) or not np.all(np.isfinite(read_scale)):
            raise ValueError(f"read_scale must hold {ngroups} finite numbers, got "
                             f"{read_scale.tolist()}")
    return RampInputs(data, groupdq, times, gain_map, noise_map, read_scale,
                      checked_pixeldq(pixeldq, frame))


def checked_pixeldq(pixeldq, frame: tuple[int, int]) -> np.ndarray | None:
    """A pixel DQ as uint16 ``[ny, nx]``, or None.

    Parameters
    ----------
    pixeldq : array_like [ny, nx] or None
        Unsigned integer flags.
    frame : tuple of int
        ``(ny, nx)``.

    Returns
    -------
    ndarray uint16 [ny, nx] or None

    Raises
    ------
    ValueError
        Not an unsigned integer array of shape ``frame``.
    """
    if pixeldq is None:
        return None
    pixeldq = np.asarray(pixeldq)
    if pixeldq.shape != tuple(frame) or not np.issubdtype(pixeldq.dtype, np.unsignedinteger):
        raise ValueError(f"pixeldq must be an unsigned integer array of shape {tuple(frame)}")
    return pixeldq.astype(np.uint16, copy=False)


def check_block_rows(block_rows: int) -> None:
    """Raise ``ValueError`` unless ``block_rows`` is an integer >= 0 (0 = automatic).

    Parameters
    ----------
    block_rows : int
        The requested number of rows per block.
    """
    if isinstance(block_rows, bool) or not isinstance(block_rows, int | np.integer):
        raise ValueError(f"block_rows must be an integer >= 0 (0 = automatic), got {block_rows!r}")
    if block_rows < 0:
        raise ValueError(f"block_rows must be an integer >= 0 (0 = automatic), got {block_rows}")


def auto_block_rows(ngroups: int, nx: int) -> int:
    """Rows per block so that a block holds about 2**18 cube elements (>= 1 row).

    Parameters
    ----------
    ngroups, nx : int
        Reads per pixel and pixels per row.

    Returns
    -------
    int
    """
    return max(1, _BLOCK_ELEMENTS // max(1, ngroups * nx))


def row_blocks(ny: int, nx: int, ngroups: int, block_rows: int) -> Iterator[slice]:
    """Yield consecutive row slices covering ``range(ny)``.

    Parameters
    ----------
    ny, nx, ngroups : int
        The cube shape.
    block_rows : int
        Rows per block; 0 chooses :func:`auto_block_rows`.

    Yields
    ------
    slice
    """
    rows = block_rows if block_rows > 0 else auto_block_rows(ngroups, nx)
    for start in range(0, ny, rows):
        yield slice(start, min(ny, start + rows))


def pixel_valid(gain: np.ndarray, read_noise: np.ndarray) -> np.ndarray:
    """Pixels whose gain is finite and > 0 and whose read noise is finite and >= 0.

    Parameters
    ----------
    gain, read_noise : ndarray [npix]

    Returns
    -------
    ndarray of bool [npix]
    """
    with np.errstate(invalid="ignore"):
        return (gain > 0) & np.isfinite(gain) & (read_noise >= 0) & np.isfinite(read_noise)


def usable_reads(data: np.ndarray, groupdq: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Reads that take part in jump detection and slopes.

    Parameters
    ----------
    data : ndarray [ngroups, npix]
        Read values.
    groupdq : ndarray [ngroups, npix]
        Read DQ (already OR-ed with any pixel DQ).
    valid : ndarray of bool [npix]
        Pixels with a usable gain and read noise.

    Returns
    -------
    ndarray of bool [ngroups, npix]
        True where the read has no :data:`UNUSABLE` flag, a finite value, and the
        pixel is valid.
    """
    usable = (groupdq & UNUSABLE) == 0
    usable &= np.isfinite(data)
    usable &= valid
    return usable


def block_view(array: np.ndarray, rows: slice, dtype=None) -> np.ndarray:
    """Rows ``rows`` of a cube ``[ngroups, ny, nx]`` as ``[ngroups, npix]``.

    A view when the layout allows, else a copy; never written to by callers.

    Parameters
    ----------
    array : ndarray [ngroups, ny, nx]
    rows : slice
    dtype : numpy dtype, optional
        Convert to this dtype (a copy only if needed).

    Returns
    -------
    ndarray [ngroups, (rows) * nx]
    """
    part = array[:, rows]
    if dtype is not None:
        part = part.astype(dtype, copy=False)
    return part.reshape(part.shape[0], -1)


def gather(array: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``array.flat[index]``, without copying a non-contiguous ``array`` first.

    Parameters
    ----------
    array : ndarray
    index : ndarray of int
        Flat (C-order) indices.

    Returns
    -------
    ndarray
    """
    if array.flags.c_contiguous:
        return array.reshape(-1).take(index)
    return array[np.unravel_index(index, array.shape)]


def plane_view(array: np.ndarray, rows: slice) -> np.ndarray:
    """Rows ``rows`` of a frame ``[ny, nx]`` as a flat ``[npix]`` array.

    Parameters
    ----------
    array : ndarray [ny, nx]
    rows : slice

    Returns
    -------
    ndarray [(rows) * nx]
    """
    return np.ascontiguousarray(array[rows]).reshape(-1)
