"""WFC3/IR detector geometry: subarray corners from LTV, reference-file cutting, amplifier
quadrants, bad-pixel runs and calwf3's bilinear expansion of binned reference images.

Everything here follows calwf3 (hstcal ``pkg/wfc3/lib``: ``getlt.c``, ``fromlt.c``,
``findbin.c``, ``wf3ir/noiscalc.c``, ``wf3ir/dqicorr.c`` + ``dodqi.c``, ``unbin2d.c``).

Coordinates
-----------
All arrays are numpy ``[y, x]`` (``[..., ny, nx]``), 0-indexed. ``LTV1/LTV2`` are the FITS
keywords, for 1-indexed pixels; with ``LTM = 1`` the zero-indexed offset is the same number.
WFC3/IR ``LTV`` is measured from the first *science* pixel of the full detector:

* full-frame raw/ima (1024 x 1024 with the 5-pixel reference border): ``LTV = +5``;
* a centred ``n``-pixel subarray (``n + 10`` pixels with its border): ``LTV = -(502 - n/2)``
  (SQ256SUB -374, SQ128SUB -438);
* full-frame reference images (1024 x 1024) carry ``LTV = +5`` as well.

The "corner" of an image (``FromLT``) is ``-LTV`` for ``LTM = 1``, and a reference image is
cut for a science image at ``ref index = sci index + (sci_corner - ref_corner)``
(SQ256SUB: ``+379``). See ``docs/reference_files.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "FULL_FRAME_LTV",
    "FULL_FRAME_SHAPE",
    "REFERENCE_BORDER",
    "ScienceGeometry",
    "amplifier_map",
    "corner_from_lt",
    "cut_to_science",
    "flag_runs",
    "per_amp_values",
    "reference_offset",
    "subarray_ltv",
    "unbin_dq",
    "unbin_error",
    "unbin_linear",
]

#: (ny, nx) of a full-frame WFC3/IR readout, reference border included
FULL_FRAME_SHAPE = (1024, 1024)
#: width of the reference-pixel border on each side
REFERENCE_BORDER = 5
#: (LTV1, LTV2) of full-frame raw/ima files and of full-frame reference images
FULL_FRAME_LTV = (5.0, 5.0)
_FULL_SCIENCE = FULL_FRAME_SHAPE[0] - 2 * REFERENCE_BORDER  # 1014


@dataclass(frozen=True)
class ScienceGeometry:
    """Shape and position of a science image on the detector.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the image, reference border included (266 x 266 for SQ256SUB).
    ltv : tuple of float
        ``(LTV1, LTV2)`` from the SCI header.
    ltm : tuple of float
        ``(LTM1_1, LTM2_2)`` from the SCI header (1 for unbinned WFC3/IR data).
    """

    shape: tuple[int, int]
    ltv: tuple[float, float]
    ltm: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self):
        ny, nx = (int(v) for v in self.shape)
        if ny <= 0 or nx <= 0:
            raise ValueError(f"ScienceGeometry.shape must be positive, got {self.shape}")
        if self.ltm[0] <= 0 or self.ltm[1] <= 0:
            raise ValueError(f"ScienceGeometry.ltm must be positive, got {self.ltm}")
        object.__setattr__(self, "shape", (ny, nx))
        object.__setattr__(self, "ltv", (float(self.ltv[0]), float(self.ltv[1])))
        object.__setattr__(self, "ltm", (float(self.ltm[0]), float(self.ltm[1])))

    @property
    def corner(self) -> tuple[int, int]:
        """``(x, y)`` corner in unbinned detector-science pixels (calwf3 ``GetCorner``)."""
        return corner_from_lt(self.ltv, self.ltm)

    @classmethod
    def for_science_size(cls, n_science: int) -> ScienceGeometry:
        """Geometry of a centred WFC3/IR readout with ``n_science`` science pixels a side.

        Parameters
        ----------
        n_science : int
            64, 128, 256, 512 (subarrays) or 1014 (full frame).

        Returns
        -------
        ScienceGeometry
        """
        ltv = subarray_ltv(n_science)
        n = n_science + 2 * REFERENCE_BORDER
        return cls(shape=(n, n), ltv=(ltv, ltv))


def nearest_int(value: float) -> int:
    """Round half away from zero, as calwf3's ``NINT`` macro."""
    return int(value + 0.5) if value >= 0 else int(value - 0.5)


def subarray_ltv(n_science: int) -> float:
    """LTV of a centred WFC3/IR readout with ``n_science`` science pixels a side.

    Parameters
    ----------
    n_science : int
        Science pixels per side: 1014 for full frame, else an even subarray size.

    Returns
    -------
    float
        ``+5`` for full frame, ``-(502 - n/2)`` for a subarray (SQ256SUB -374).
    """
    n_science = int(n_science)
    if n_science == _FULL_SCIENCE:
        return FULL_FRAME_LTV[0]
    if n_science <= 0 or n_science % 2 or n_science > _FULL_SCIENCE:
        raise ValueError(f"n_science must be 1014 or an even subarray size, got {n_science}")
    # first science pixel of the centred subarray, as a 0-indexed column of the 1024 frame
    first_science = FULL_FRAME_SHAPE[0] // 2 - n_science // 2
    # LTV counts from the first science pixel of the detector (column 5 of the 1024 frame),
    # and the subarray's own 5-pixel border comes before its first science pixel
    return -float(first_science - REFERENCE_BORDER - FULL_FRAME_LTV[0])


def corner_from_lt(ltv, ltm=(1.0, 1.0), rsize: int = 1) -> tuple[int, int]:
    """Corner of an image in unbinned detector pixels, as calwf3 ``FromLT``.

    Parameters
    ----------
    ltv : tuple of float
        ``(LTV1, LTV2)`` as in the header (one-indexed convention).
    ltm : tuple of float
        ``(LTM1_1, LTM2_2)``.
    rsize : int
        Reference pixel size in high-resolution pixels (1 for WFC3).

    Returns
    -------
    tuple of int
        ``(x, y)`` corner: ``NINT((bin - rsize) - bin * LTV)`` with ``bin = rsize / LTM``.
    """
    corner = []
    for v, m in zip(ltv, ltm, strict=True):
        if m <= 0:
            raise ValueError(f"LTM must be positive, got {m}")
        binning = rsize / m
        corner.append(nearest_int((binning - rsize) - binning * v))
    return corner[0], corner[1]


def reference_offset(sci_ltv, ref_ltv, sci_ltm=(1.0, 1.0), ref_ltm=(1.0, 1.0)) -> tuple[int, int]:
    """Offset ``(x0, y0)`` of a science image inside a reference image (calwf3 FindBinIR).

    ``ref index = sci index + offset``; unbinned data only.

    Parameters
    ----------
    sci_ltv, ref_ltv : tuple of float
        ``(LTV1, LTV2)`` of the science and reference SCI headers.
    sci_ltm, ref_ltm : tuple of float
        ``(LTM1_1, LTM2_2)``; both images must have the same binning.

    Returns
    -------
    tuple of int
        ``sci_corner - ref_corner`` per axis.
    """
    sx, sy = corner_from_lt(sci_ltv, sci_ltm)
    rx, ry = corner_from_lt(ref_ltv, ref_ltm)
    if tuple(sci_ltm) != tuple(ref_ltm):
        raise ValueError(
            f"science LTM {tuple(sci_ltm)} and reference LTM {tuple(ref_ltm)} differ; "
            "binned WFC3/IR data are not supported"
        )
    return sx - rx, sy - ry


def cut_to_science(reference: np.ndarray, sci_shape, offset, *, copy: bool = True
                   ) -> np.ndarray:
    """Cut the part of a reference image that lies under a science image.

    Parameters
    ----------
    reference : numpy.ndarray
        ``[..., ny_ref, nx_ref]`` reference array (not modified).
    sci_shape : tuple of int
        ``(ny, nx)`` of the science image.
    offset : tuple of int
        ``(x0, y0)`` from :func:`reference_offset`.
    copy : bool, optional
        True (default): a new array; False: a view of ``reference``.

    Returns
    -------
    numpy.ndarray
        ``[..., ny, nx]``, a copy or a view.

    Raises
    ------
    ValueError
        If the science image does not lie entirely inside the reference image.
    """
    ny, nx = (int(v) for v in sci_shape)
    x0, y0 = (int(v) for v in offset)
    ref_ny, ref_nx = reference.shape[-2:]
    if x0 < 0 or y0 < 0 or x0 + nx > ref_nx or y0 + ny > ref_ny:
        raise ValueError(
            f"science image {ny}x{nx} at offset (x0={x0}, y0={y0}) does not fit inside the "
            f"{ref_ny}x{ref_nx} reference image"
        )
    cut = reference[..., y0 : y0 + ny, x0 : x0 + nx]
    return np.array(cut, copy=True) if copy else cut


def amplifier_map(shape, ltv, ampx: int, ampy: int, trimx1: int, trimy1: int) -> np.ndarray:
    """Amplifier of each pixel, split where calwf3's ``noiscalc`` splits the quadrants.

    The split column is ``AMPX + LTV1 - TRIMX1`` and the split row ``AMPY + LTV2 - TRIMY1``
    (array indices of the untrimmed image): 512 for full frame (LTV +5, AMPX 512, trim 5),
    133 for SQ256SUB (LTV -374) -- the physical middle of the detector in both cases.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the image.
    ltv : tuple of float
        ``(LTV1, LTV2)``.
    ampx, ampy : int
        ``AMPX``, ``AMPY`` from the CCDTAB row.
    trimx1, trimy1 : int
        ``TRIMX1``, ``TRIMY1`` from the OSCNTAB row.

    Returns
    -------
    numpy.ndarray
        int8 ``[ny, nx]``: 0 = A (upper left), 1 = B (lower left), 2 = C (lower right),
        3 = D (upper right).
    """
    ny, nx = (int(v) for v in shape)
    split_x = int(ampx + ltv[0] - trimx1)  # C assigns a double to an int: truncation
    split_y = int(ampy + ltv[1] - trimy1)
    # columns >= split_x are right of the split, rows >= split_y above it (a split outside
    # the image puts every pixel on one side)
    column, row = min(max(split_x, 0), nx), min(max(split_y, 0), ny)
    ampmap = np.empty((ny, nx), dtype=np.int8)
    ampmap[:row, :column] = 1  # B: lower left
    ampmap[:row, column:] = 2  # C: lower right
    ampmap[row:, :column] = 0  # A: upper left
    ampmap[row:, column:] = 3  # D: upper right
    return ampmap


def per_amp_values(values_abcd, ampmap: np.ndarray) -> np.ndarray:
    """Spread one value per amplifier over the pixels it reads.

    Parameters
    ----------
    values_abcd : sequence of float
        Values for amplifiers A, B, C, D (e.g. ``ATODGNA..D``).
    ampmap : numpy.ndarray
        int ``[ny, nx]`` map from :func:`amplifier_map`.

    Returns
    -------
    numpy.ndarray
        float32 ``[ny, nx]``.
    """
    values = np.asarray(values_abcd, dtype=np.float32)
    if values.shape != (4,):
        raise ValueError(f"values_abcd needs 4 values (A, B, C, D), got {values.shape}")
    return np.take(values, np.asarray(ampmap))  # as values[ampmap], without fancy indexing


def flag_runs(shape, ltv, pix1, pix2, length, axis, value) -> np.ndarray:
    """Rasterize bad-pixel-table rows into a DQ array, as calwf3's ``DQINormal``.

    Each row flags ``length`` pixels starting at the one-indexed full-frame science pixel
    ``(pix1, pix2)`` along ``axis`` (1 = x, 2 = y), OR-ing ``value``. The zero-indexed image
    position is ``pix - 1 + LTV``; parts of runs outside the image are dropped.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the image.
    ltv : tuple of float
        ``(LTV1, LTV2)`` of the image.
    pix1, pix2, length, axis, value : array_like
        Table columns (one element per applied row).

    Returns
    -------
    numpy.ndarray
        uint16 ``[ny, nx]``.
    """
    ny, nx = (int(v) for v in shape)
    pix1 = np.asarray(pix1, dtype=np.int64)
    pix2 = np.asarray(pix2, dtype=np.int64)
    length = np.asarray(length, dtype=np.int64)
    axis = np.asarray(axis, dtype=np.int64)
    value = np.asarray(value).astype(np.int64).astype(np.uint16)
    if np.any(length <= 0):
        raise ValueError("bad-pixel run LENGTH must be positive")
    if np.any((axis != 1) & (axis != 2)):
        raise ValueError("bad-pixel run AXIS must be 1 (x) or 2 (y)")
    x0 = pix1 - 1 + int(ltv[0])
    y0 = pix2 - 1 + int(ltv[1])
    row = np.repeat(np.arange(length.size), length)
    step = np.arange(row.size) - np.repeat(np.cumsum(length) - length, length)
    along_x = axis[row] == 1
    xs = x0[row] + np.where(along_x, step, 0)
    ys = y0[row] + np.where(along_x, 0, step)
    inside = (xs >= 0) & (xs < nx) & (ys >= 0) & (ys < ny)
    dq = np.zeros((ny, nx), dtype=np.uint16)
    np.bitwise_or.at(dq, (ys[inside], xs[inside]), value[row][inside])
    return dq


def _interp_weights(n_out: int, n_in: int, binning: int, extrapolate: bool = False):
    """Index and weights of calwf3's ``InterpInfo`` for each output pixel along one axis.

    calstis's ``InterpInfo`` does not clip the weight, so beyond the outermost input pixel
    centres it extrapolates linearly (``extrapolate=True``).
    """
    if binning == 1:
        idx = np.arange(n_out)
        return idx, np.ones(n_out), np.zeros(n_out)
    if n_in < 2:
        raise ValueError("linear expansion needs at least 2 input pixels along each axis")
    pos = (np.arange(n_out) - (binning - 1) / 2.0) / binning
    idx = np.trunc(pos).astype(np.int64)  # C cast truncates towards zero
    idx = np.clip(idx, 0, n_in - 2)
    q = pos - idx if extrapolate else np.clip(pos - idx, 0.0, 1.0)
    return idx, 1.0 - q, q


def _dq_neighbours(n_out: int, n_in: int, binning: int):
    """First and (optional) second input index OR-ed into each output pixel (InterpDQInfo)."""
    if binning == 1:
        idx = np.arange(n_out)
        return idx, np.zeros(n_out, dtype=bool), idx
    pos = (np.arange(n_out) - (binning - 1) / 2.0) / binning
    first = np.trunc(pos).astype(np.int64)
    two = pos != first
    two &= first > 0
    two &= first < n_in - 1
    first = np.clip(first, 0, n_in - 1)
    second = np.clip(first + 1, 0, n_in - 1)
    return first, two, second


def _expansion_factors(shape_in, binx: int, biny: int):
    binx, biny = int(binx), int(biny)
    if binx < 1 or biny < 1:
        raise ValueError(f"expansion factors must be >= 1, got ({binx}, {biny})")
    ny, nx = shape_in[-2:]
    return ny * biny, nx * binx, binx, biny


#: output rows expanded at a time (bounds the float64 temporaries of the unbinning)
_EXPAND_ROWS = 64


def _separable_expand(data: np.ndarray, binx: int, biny: int, extrapolate: bool,
                      finish=None, rows: slice | None = None) -> np.ndarray:
    """Interpolate along y, then along x in bands of output rows, in float64; float32 out.

    ``finish`` (float64 band -> values) is applied to each band before it is stored. With
    ``rows`` (a slice of the output rows) only those rows are made: every output row is
    computed from its own weights alone, so they are the whole expansion's values.
    """
    ny_out, nx_out, binx, biny = _expansion_factors(data.shape, binx, biny)
    ny, nx = data.shape[-2:]
    jy, ry, sy = _interp_weights(ny_out, ny, biny, extrapolate)
    if rows is not None:
        jy, ry, sy = jy[rows], ry[rows], sy[rows]
    ix, px, qx = _interp_weights(nx_out, nx, binx, extrapolate)
    data = np.asarray(data, dtype=np.float64)
    along_y = ry[:, None] * data[..., jy, :]
    if biny > 1:
        along_y = along_y + sy[:, None] * data[..., jy + 1, :]
    out = np.empty((*data.shape[:-2], jy.size, nx_out), np.float32)
    for start in range(0, jy.size, _EXPAND_ROWS):
        band = along_y[..., start:start + _EXPAND_ROWS, :]
        values = px * band[..., ix]
        if binx > 1:
            values = values + qx * band[..., ix + 1]
        out[..., start:start + _EXPAND_ROWS, :] = values if finish is None else finish(values)
    return out


def unbin_linear(data: np.ndarray, binx: int, biny: int, *, extrapolate: bool = False,
                 rows: slice | None = None) -> np.ndarray:
    """Expand a binned image by linear interpolation, as calwf3's ``unbin2d``.

    Output pixel ``m`` samples input position ``(m - (bin - 1)/2) / bin``; beyond the
    outermost input pixel centres the edge value is held (no extrapolation), unless
    ``extrapolate`` is True (calstis's ``unbin2d`` extends the edge slopes).

    Parameters
    ----------
    data : numpy.ndarray
        ``[..., ny, nx]`` binned image (not modified).
    binx, biny : int
        Integer expansion factors.
    extrapolate : bool, optional
        Extrapolate linearly beyond the outermost pixel centres (calstis).
    rows : slice, optional
        Only these output rows (a band of the expanded image: its values, not a new
        interpolation).

    Returns
    -------
    numpy.ndarray
        float32 ``[..., ny*biny, nx*binx]`` (the ``rows`` of it).
    """
    return _separable_expand(data, binx, biny, extrapolate, rows=rows)


def unbin_error(err: np.ndarray, binx: int, biny: int, *, extrapolate: bool = False,
                rows: slice | None = None) -> np.ndarray:
    """Expand a binned error image as calwf3: ``sqrt(sum w * err**2)`` with the same weights.

    Parameters
    ----------
    err : numpy.ndarray
        ``[..., ny, nx]`` binned errors (not modified).
    binx, biny : int
        Integer expansion factors.
    extrapolate : bool, optional
        Use calstis's unclipped weights; a negative weighted sum (possible only beyond the
        edge) gives 0 instead of calstis's NaN.
    rows : slice, optional
        Only these output rows, as :func:`unbin_linear`.

    Returns
    -------
    numpy.ndarray
        float32 ``[..., ny*biny, nx*binx]`` (the ``rows`` of it).
    """
    err = np.asarray(err, dtype=np.float64)
    return _separable_expand(err * err, binx, biny, extrapolate,
                             lambda variance: np.sqrt(np.maximum(variance, 0.0)), rows=rows)


def unbin_dq(dq: np.ndarray, binx: int, biny: int, *, rows: slice | None = None) -> np.ndarray:
    """Expand a binned DQ image: each output pixel ORs the input pixels it interpolates from.

    Follows calwf3's ``InterpDQInfo`` per axis (one neighbour on an exact pixel centre or off
    the edges, two otherwise). calwf3's 2-D branch reuses a stale row position for every row
    (a bug); this function applies the per-row rule that the 1-D branches use.

    Parameters
    ----------
    dq : numpy.ndarray
        ``[..., ny, nx]`` integer DQ (not modified).
    binx, biny : int
        Integer expansion factors.
    rows : slice, optional
        Only these output rows, as :func:`unbin_linear`.

    Returns
    -------
    numpy.ndarray
        ``[..., ny*biny, nx*binx]`` (the ``rows`` of it) with the dtype of ``dq``.
    """
    dq = np.asarray(dq)
    ny_out, nx_out, binx, biny = _expansion_factors(dq.shape, binx, biny)
    ny, nx = dq.shape[-2:]
    j1, jtwo, j2 = _dq_neighbours(ny_out, ny, biny)
    if rows is not None:
        j1, jtwo, j2 = j1[rows], jtwo[rows], j2[rows]
    i1, itwo, i2 = _dq_neighbours(nx_out, nx, binx)
    zero = np.zeros((), dtype=dq.dtype)
    rows = dq[..., j1, :] | np.where(jtwo[:, None], dq[..., j2, :], zero)
    return rows[..., i1] | np.where(itwo, rows[..., i2], zero)
