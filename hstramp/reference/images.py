"""What the image readers of both instruments share: the SCI/ERR/DQ planes of one imset,
their product (calwf3 and calstis ``amul``) and the expansion of a binned flat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.geometry import corner_from_lt, unbin_dq, unbin_error, unbin_linear
from hstramp.reference.common import (
    ReferenceFileError,
    header_ltv,
    image_array,
    image_hdu,
)

__all__ = ["ImagePlanes", "binned_shape", "expand_binned", "multiply_by_binned", "multiply_flats",
           "read_imset"]

#: rows multiplied at a time (bounds the float64 temporaries of :func:`multiply_flats`)
_BAND_ROWS = 64


@dataclass(frozen=True, eq=False)
class ImagePlanes:
    """SCI, ERR and DQ of one reference imset and where it sits on the detector.

    Attributes
    ----------
    sci, err : numpy.ndarray
        float32 ``[ny, nx]``.
    dq : numpy.ndarray
        uint16 ``[ny, nx]``.
    ltv, ltm : tuple of float
        ``(LTV1, LTV2)`` and ``(LTM1_1, LTM2_2)`` of SCI.
    """

    sci: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    ltv: tuple[float, float]
    ltm: tuple[float, float]


def read_imset(hdul, path, keyword: str, limit=None) -> ImagePlanes:
    """Imset 1 of an image reference: SCI (required), ERR and DQ (zero when absent).

    Each plane may be a constant extension or hold integer or real data (hstio's
    ``getFloatData``/``getShortData`` convert); the planes must have one size.

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        The open file.
    path : str or Path
        Its path, for messages.
    keyword : str
        Header keyword that named it (``PFLTFILE``).
    limit : tuple of int, optional
        Largest size a constant extension may claim (:func:`~hstramp.reference.common.size_limit`).

    Returns
    -------
    ImagePlanes
    """
    ltv, ltm = header_ltv(image_hdu(hdul, "SCI", 1, path, keyword).header, path, keyword)
    sci = image_array(hdul, "SCI", 1, path, keyword, limit).astype(np.float32, copy=False)
    names = {(hdu.name, hdu.ver) for hdu in hdul[1:]}
    err = (image_array(hdul, "ERR", 1, path, keyword, limit).astype(np.float32, copy=False)
           if ("ERR", 1) in names else np.zeros_like(sci))
    dq = (image_array(hdul, "DQ", 1, path, keyword, limit).astype(np.uint16, copy=False)
          if ("DQ", 1) in names else np.zeros(sci.shape, np.uint16))
    for name, array in (("ERR", err), ("DQ", dq)):
        if array.shape != sci.shape:
            raise ReferenceFileError(f"{keyword} {path}: {name},1 is {array.shape[0]}x"
                                     f"{array.shape[1]} but SCI,1 is {sci.shape[0]}x"
                                     f"{sci.shape[1]}", keyword=keyword, path=path)
    return ImagePlanes(sci=sci, err=err, dq=dq, ltv=ltv, ltm=ltm)


def multiply_flats(a: ImagePlanes, b: ImagePlanes, *, in_place: bool = False) -> ImagePlanes:
    """calwf3/calstis ``amul``: product, errors in quadrature of the cross terms, DQ OR.

    Computed in float64, a band of rows at a time; with ``in_place`` the product is
    written into ``a``'s arrays (each band is read before it is overwritten).

    Parameters
    ----------
    a, b : ImagePlanes
        Factors of one size; the product keeps ``a``'s placement.
    in_place : bool
        Overwrite ``a``'s arrays.

    Returns
    -------
    ImagePlanes
    """
    sci = a.sci if in_place else np.empty(a.sci.shape, np.float32)
    err = a.err if in_place else np.empty(a.sci.shape, np.float32)
    for start in range(0, sci.shape[0], _BAND_ROWS):
        band = slice(start, start + _BAND_ROWS)
        _multiply_band(a, b.sci[band], b.err[band], band, sci, err)
    dq = np.bitwise_or(a.dq, b.dq, out=a.dq if in_place else None)
    return ImagePlanes(sci=sci, err=err, dq=dq, ltv=a.ltv, ltm=a.ltm)


def _multiply_band(a: ImagePlanes, b_sci, b_err, band: slice, sci, err) -> None:
    """Rows ``band`` of ``a`` times the factor rows ``b_sci``, ``b_err``, into ``sci`` and
    ``err`` (``amul``, in float64; each band is read before it is overwritten)."""
    a_sci, b_sci = a.sci[band].astype(np.float64), b_sci.astype(np.float64)
    a_eb = a_sci * b_err
    b_ea = b_sci * a.err[band]
    sci[band] = a_sci * b_sci
    err[band] = np.sqrt(a_eb * a_eb + b_ea * b_ea)


def multiply_by_binned(a: ImagePlanes, low: ImagePlanes, path, *, extrapolate: bool,
                       keyword: str = "LFLTFILE") -> ImagePlanes:
    """``a`` times a binned flat expanded to ``a``'s size, written into ``a``'s arrays.

    The values of ``multiply_flats(a, expand_binned(low, a.sci.shape, ...), in_place=True)``,
    bit for bit, made a band of rows at a time: the expanded flat never exists whole (10 MB
    for a WFC3/IR full frame).

    Parameters
    ----------
    a : ImagePlanes
        The full-resolution factor (overwritten; the product keeps its placement).
    low : ImagePlanes
        The binned flat.
    path : str or Path
        Its file, for the message.
    extrapolate : bool
        As :func:`expand_binned`.
    keyword : str
        Header keyword that named the file.

    Returns
    -------
    ImagePlanes
        ``a``'s arrays, holding the product.
    """
    binx, biny = _binning(low, a.sci.shape, path, keyword)
    for start in range(0, a.sci.shape[0], _BAND_ROWS):
        band = slice(start, start + _BAND_ROWS)
        _multiply_band(a, unbin_linear(low.sci, binx, biny, extrapolate=extrapolate, rows=band),
                       unbin_error(low.err, binx, biny, extrapolate=extrapolate, rows=band),
                       band, a.sci, a.err)
        a.dq[band] |= unbin_dq(low.dq, binx, biny, rows=band)
    return ImagePlanes(sci=a.sci, err=a.err, dq=a.dq, ltv=a.ltv, ltm=a.ltm)


def binned_shape(low: ImagePlanes) -> tuple[int, int]:
    """Full-resolution ``(ny, nx)`` of a binned image from its LTM (``bin = 1 / LTM``).

    Parameters
    ----------
    low : ImagePlanes
        The binned image.

    Returns
    -------
    tuple of int
    """
    bins = [max(1, round(1.0 / m)) for m in low.ltm]
    return low.sci.shape[0] * bins[1], low.sci.shape[1] * bins[0]


def _binning(low: ImagePlanes, target_shape, path, keyword: str) -> tuple[int, int]:
    """``(binx, biny)``: the whole factors expanding ``low`` to ``target_shape``, or
    ReferenceFileError."""
    ny, nx = low.sci.shape
    biny, binx = target_shape[0] // ny, target_shape[1] // nx
    if biny < 1 or binx < 1 or biny * ny != target_shape[0] or binx * nx != target_shape[1]:
        raise ReferenceFileError(
            f"{keyword} {path} is {ny}x{nx}, which does not expand by an integer factor to "
            f"{target_shape[0]}x{target_shape[1]}", keyword=keyword, path=path,
        )
    return binx, biny


def expand_binned(low: ImagePlanes, target_shape, path, *, extrapolate: bool,
                  keyword: str = "LFLTFILE") -> ImagePlanes:
    """Expand a binned (large-scale or low-order) flat to ``target_shape`` by linear
    interpolation (``unbin2d``); the expanded image keeps the binned one's corner
    (``BinCoords``).

    Parameters
    ----------
    low : ImagePlanes
        The binned flat.
    target_shape : tuple of int
        ``(ny, nx)``; each a whole multiple of the binned size.
    path : str or Path
        The file, for the message.
    extrapolate : bool
        Extrapolate beyond the outer pixel centres (calstis) instead of holding (calwf3).
    keyword : str
        Header keyword that named the file.

    Returns
    -------
    ImagePlanes
    """
    binx, biny = _binning(low, target_shape, path, keyword)
    cx, cy = corner_from_lt(low.ltv, low.ltm)
    return ImagePlanes(
        sci=unbin_linear(low.sci, binx, biny, extrapolate=extrapolate),
        err=unbin_error(low.err, binx, biny, extrapolate=extrapolate),
        dq=unbin_dq(low.dq, binx, biny), ltv=(-float(cx), -float(cy)), ltm=(1.0, 1.0),
    )
