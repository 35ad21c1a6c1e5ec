"""STIS CCD geometry: overscan regions by amplifier and binning, and binning reference
images down to a science image (calstis ``FindOverscan``, ``FindBin``, ``bin2d``).

Coordinates are numpy ``[y, x]`` and 0-indexed. The unbinned full-frame readout is
1062 x 1044: 19 leading + 1024 illuminated + 19 trailing serial-overscan columns and
1024 illuminated + 20 virtual-overscan rows (at the top for amplifiers A/B, at the bottom
for C/D). Reference images and the bad-pixel table are in unbinned illuminated-detector
pixels; an image pixel's *corner* (calwf3/calstis ``GetCorner``, here
:func:`hstramp.core.geometry.corner_from_lt`) is the detector pixel under its first pixel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.geometry import corner_from_lt

log = logging.getLogger(__name__)

__all__ = [
    "AMPLIFIERS",
    "CCD_NPIX",
    "OverscanRegions",
    "bin_reference",
    "binned_corner",
    "find_overscan",
    "raw_shape",
]

#: (ny, nx) of the illuminated CCD
CCD_NPIX = (1024, 1024)
#: serial overscan columns before and after a line, and virtual-overscan rows (amp A)
OVERSCAN_LEFT, OVERSCAN_RIGHT, OVERSCAN_TOP = 19, 19, 20
#: pixels lost all around the edge of a subarray
SUBARRAY_BORDER = 1
#: columns (0-indexed, inclusive, amp A) whose median is each line's bias level
_BIASSECT = {"full": (1046, 1060), 1: (1046, 1052), 2: (524, 530), 4: (263, 269)}
AMPLIFIERS = ("A", "B", "C", "D")
_BINNINGS = (1, 2, 4)


@dataclass(frozen=True)
class OverscanRegions:
    """Where the overscan of a STIS CCD readout is (calstis ``FindOverscan``).

    Attributes
    ----------
    trim : tuple of 4 int
        ``(x1, x2, y1, y2)``: columns removed at the start and end of a line, rows removed
        at the bottom and top.
    biassect : tuple of 2 int
        First and last column (0-indexed, inclusive) whose median is a line's bias level.
    vx, vy : tuple of 2 int
        Columns and rows (inclusive) of the virtual overscan over the illuminated columns;
        ``vx[1] <= vx[0]`` or ``vy[1] <= vy[0]`` means there is none.
    """

    trim: tuple[int, int, int, int]
    biassect: tuple[int, int]
    vx: tuple[int, int]
    vy: tuple[int, int]

    @property
    def has_virtual_overscan(self) -> bool:
        """True if the readout has virtual-overscan rows to measure the column slope."""
        return self.vx[1] > self.vx[0] and self.vy[1] > self.vy[0]

    def trimmed_shape(self, shape) -> tuple[int, int]:
        """``(ny, nx)`` after removing the overscan from an image of ``shape``."""
        x1, x2, y1, y2 = self.trim
        return shape[-2] - y1 - y2, shape[-1] - x1 - x2


def _check_binning(binning) -> tuple[int, int]:
    bx, by = (int(b) for b in binning)
    if bx not in _BINNINGS or by not in _BINNINGS:
        raise ValueError(f"STIS CCD binning must be 1, 2 or 4 on each axis, got {tuple(binning)}")
    return bx, by


def find_overscan(ccdamp: str, nx: int, ny: int, binning=(1, 1)) -> OverscanRegions | None:
    """Overscan regions of a raw STIS CCD image, as calstis ``FindOverscan``.

    Full frame (unbinned, ``ny > 1024``): 19 + 19 serial columns and 20 virtual rows;
    subarray (unbinned, ``ny <= 1024``): 18 + 18 serial columns, no virtual rows;
    binned: one mixed overscan/illuminated pixel is counted with the overscan on each side.
    The amplifier decides which side is leading and where the virtual rows are (top for
    A/B, bottom for C/D); the bias section is mirrored for B and D.

    Parameters
    ----------
    ccdamp : str
        CCDAMP, ``A`` .. ``D`` (only the first letter counts).
    nx, ny : int
        Size of the raw image.
    binning : tuple of int
        ``(BINAXIS1, BINAXIS2)``, each 1, 2 or 4.

    Returns
    -------
    OverscanRegions or None
        None when the image is too small to hold its overscan (calstis then subtracts the
        CCDTAB bias instead of fitting the overscan).

    Raises
    ------
    ValueError
        For an unknown amplifier or binning.
    """
    amp = str(ccdamp).strip().upper()[:1]
    if amp not in AMPLIFIERS:
        raise ValueError(f"CCDAMP must start with one of A, B, C, D, got {ccdamp!r}")
    bx, by = _check_binning(binning)
    if bx == 1 and by == 1:
        full = ny > CCD_NPIX[0]
        border = 0 if full else SUBARRAY_BORDER
        a_left, a_right = OVERSCAN_LEFT - border, OVERSCAN_RIGHT - border
        a_top = OVERSCAN_TOP if full else 0
        a_sect = (_BIASSECT["full"][0], _BIASSECT["full"][1] - border)
    else:
        full = None
        a_left = OVERSCAN_LEFT if bx == 1 else (OVERSCAN_LEFT + 1) // bx
        a_right = nx - (CCD_NPIX[1] if bx == 1 else CCD_NPIX[1] // bx - 1) - a_left
        a_top = ny - CCD_NPIX[0] // by
        a_sect = _BIASSECT[bx]
    mirrored = amp in ("B", "D")
    left, right = (a_right, a_left) if mirrored else (a_left, a_right)
    bottom, top = (a_top, 0) if amp in ("C", "D") else (0, a_top)
    sect = (nx - a_sect[1] - 1, nx - a_sect[0] - 1) if mirrored else a_sect
    too_small = min(left, right, bottom, top) < 0
    if full is True:
        too_small |= nx - left - right < CCD_NPIX[1] or ny - top - bottom < CCD_NPIX[0]
    elif full is False:
        too_small |= nx - left - right < CCD_NPIX[1]
    if too_small:
        log.debug("image %dx%d too small for its overscan (amp %s, bin %s)", nx, ny, amp,
                  (bx, by))
        return None
    vy = (ny - top, ny - 1) if amp in ("A", "B") else (0, bottom - 1)
    return OverscanRegions(trim=(left, right, bottom, top), biassect=sect,
                           vx=(left, nx - 1 - right), vy=vy)


def raw_shape(binning=(1, 1), ccdamp: str = "D") -> tuple[int, int]:
    """``(ny, nx)`` of a full-detector raw readout with the given binning.

    Unbinned 1044 x 1062; binned readouts keep 19 + 1 (binx 1: 11 trailing columns) or
    one mixed pixel plus 9.5 binned overscan pixels, as calstis's ``FindOverscan`` expects
    (2 x 2: 522 x 531; 4 x 4: 261 x 270).

    Parameters
    ----------
    binning : tuple of int
        ``(BINAXIS1, BINAXIS2)``.
    ccdamp : str
        Amplifier (the shape does not depend on it; checked only).

    Returns
    -------
    tuple of int
    """
    bx, by = _check_binning(binning)
    if bx == 1 and by == 1:
        return CCD_NPIX[0] + OVERSCAN_TOP, CCD_NPIX[1] + OVERSCAN_LEFT + OVERSCAN_RIGHT
    nx = (CCD_NPIX[1] + OVERSCAN_LEFT + 11 if bx == 1
          else (CCD_NPIX[1] + OVERSCAN_LEFT + OVERSCAN_RIGHT) // bx + (bx == 4) * 5)
    ny = (CCD_NPIX[0] + OVERSCAN_TOP) // by
    if find_overscan(ccdamp, nx, ny, (bx, by)) is None:  # pragma: no cover - table above
        raise ValueError(f"no raw shape for binning {(bx, by)}")
    return ny, nx


def binned_corner(ltv, ltm) -> tuple[int, int]:
    """``(x, y)`` detector pixel under an image's first pixel, and its ``(binx, biny)``.

    Parameters
    ----------
    ltv, ltm : tuple of float
        ``(LTV1, LTV2)`` and ``(LTM1_1, LTM2_2)`` of the image.

    Returns
    -------
    tuple
        ``((x, y), (binx, biny))``.
    """
    bins = tuple(max(1, round(1.0 / m)) for m in ltm)
    return corner_from_lt(ltv, ltm), bins


def bin_reference(reference: np.ndarray, shape, offset, ratio, how: str) -> np.ndarray:
    """Cut and bin a reference image down to a science image, as calstis ``bin2d``.

    Science pixel ``(j, i)`` covers reference pixels ``offset + ratio * (j, i)`` to
    ``+ ratio - 1`` on each axis.

    Parameters
    ----------
    reference : numpy.ndarray
        ``[ny_ref, nx_ref]`` reference image (not modified).
    shape : tuple of int
        ``(ny, nx)`` of the science image.
    offset : tuple of int
        ``(x0, y0)``: reference pixel under the science image's first pixel.
    ratio : tuple of int
        ``(rx, ry)``: science bin size over reference bin size.
    how : {'sum', 'mean', 'or', 'quadrature-sum', 'quadrature-mean'}
        ``sum`` for counts (bias, dark), ``mean`` for a flat, ``or`` for DQ (reference
        pixels outside the image are ignored), ``quadrature-*`` for the matching errors.

    Returns
    -------
    numpy.ndarray
        ``[ny, nx]``: float32 for data and errors, the reference dtype for ``or``.

    Raises
    ------
    ValueError
        If the science image needs reference pixels outside the reference image (except
        for ``or``).
    """
    ny, nx = (int(v) for v in shape)
    x0, y0 = (int(v) for v in offset)
    rx, ry = (int(v) for v in ratio)
    ref = np.asarray(reference)
    ref_ny, ref_nx = ref.shape[-2:]
    need = (y0, x0, y0 + ny * ry, x0 + nx * rx)
    if how == "or":
        pad = [(max(0, -need[0]), max(0, need[2] - ref_ny)),
               (max(0, -need[1]), max(0, need[3] - ref_nx))]
        if any(width for side in pad for width in side):
            ref = np.pad(ref, pad)
            y0, x0 = y0 + pad[0][0], x0 + pad[1][0]
    elif need[0] < 0 or need[1] < 0 or need[2] > ref_ny or need[3] > ref_nx:
        raise ValueError(
            f"science image {ny}x{nx} binned {rx}x{ry} at reference offset (x0={x0}, "
            f"y0={y0}) does not fit inside the {ref_ny}x{ref_nx} reference image")
    if rx == ry == 1 and (how == "or" or ref.dtype == np.float32):
        return _cut_unbinned(ref[y0 : y0 + ny, x0 : x0 + nx], how)
    return _bin_blocks(ref[y0 : y0 + ny * ry, x0 : x0 + nx * rx], ry, rx, how)


def _bin_blocks(cut: np.ndarray, ry: int, rx: int, how: str) -> np.ndarray:
    """Sum, mean, OR or quadrature of the ``ry`` x ``rx`` blocks of ``cut`` (in float64)."""
    ny, nx = cut.shape[0] // ry, cut.shape[1] // rx
    block = cut.reshape(ny, ry, nx, rx)
    if how == "or":
        return np.bitwise_or.reduce(np.bitwise_or.reduce(block, axis=3), axis=1)
    values = block.astype(np.float64)
    if how.startswith("quadrature"):
        values = values * values
    total = values.sum(axis=(1, 3))
    if how.endswith("mean"):
        total /= rx * ry
    if how.startswith("quadrature"):
        total = np.sqrt(total)
    return total.astype(np.float32)


def _cut_unbinned(cut: np.ndarray, how: str) -> np.ndarray:
    """:func:`bin_reference` with a bin ratio of 1 (a float32 or DQ reference): the
    same values without the float64 blocks, bit for bit. A sum or mean over one pixel is
    the value plus 0 (``-0.0`` becomes ``0.0``, as in the sum), the root of a square is the
    absolute value (exact: a float32 square is exact in float64)."""
    if how == "or":
        return cut.copy()
    if how.startswith("quadrature"):
        return np.abs(cut).astype(np.float32, copy=False)
    out = cut.astype(np.float32)
    out += np.float32(0)
    return out
