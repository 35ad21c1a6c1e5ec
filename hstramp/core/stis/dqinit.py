"""STIS CCD data-quality initialisation (calstis ``doDQI`` + ``FlagFilter``).

Three sources of flags, OR-ed into the DQ of each imset before the overscan is removed:
saturation (``int(raw) > SATURATE``, 256), the detector outside the aperture (4, from
APER_FOV, imaging also left and right of it) and the bad-pixel table (rasterized by the
reference layer; binned images OR every detector pixel under a binned pixel).
"""

from __future__ import annotations

import logging
import math
import re

import numpy as np

from hstramp.core.geometry import corner_from_lt, nearest_int
from hstramp.core.stis.dqflags import DETECTORPROB, SATPIXEL
from hstramp.core.stis.geometry import CCD_NPIX, bin_reference

log = logging.getLogger(__name__)

__all__ = [
    "APERTURE_BORDER",
    "aperture_edge_flags",
    "bin_bad_pixels",
    "parse_aper_fov",
    "pixel_scale_from_cd",
    "saturation_flags",
]

#: rows of raw data compared in float64 at a time by :func:`saturation_flags`
_BAND_ROWS = 256
#: margin added around the aperture, detector pixels (calstis STIS_APERTURE_BORDER)
APERTURE_BORDER = 10
#: apertures shorter than this or longer than that (arcsec) flag nothing
SHORT_SLIT, LONG_SLIT = 5.0, 45.0
_FOV = re.compile(r"^\s*([0-9.]+)\s*[xX]\s*([0-9.]+)")


def saturation_flags(raw: np.ndarray, saturate: float) -> np.ndarray:
    """SATPIXEL (256) where the raw value, truncated to an integer, exceeds SATURATE.

    Parameters
    ----------
    raw : ndarray [..., ny, nx]
        Raw data, DN (the whole frame, overscan included).
    saturate : float
        SATURATE from the CCDTAB row.

    Returns
    -------
    ndarray, uint16
        256 where saturated, else 0.
    """
    raw = np.asarray(raw)
    flags = np.zeros(raw.shape, np.uint16)
    rows = raw.reshape(-1, raw.shape[-1]) if raw.ndim else raw.reshape(1, 1)
    out = flags.reshape(rows.shape)
    for start in range(0, rows.shape[0], _BAND_ROWS):  # float64 a band at a time
        band = rows[start : start + _BAND_ROWS].astype(np.float64)
        np.trunc(band, out=band)
        out[start : start + _BAND_ROWS][band > saturate] = SATPIXEL
    return flags


def parse_aper_fov(aper_fov: str) -> tuple[float, float] | None:
    """``(height, width)`` in arcsec from APER_FOV (``'28x50'``), or None if unreadable."""
    match = _FOV.match(str(aper_fov or ""))
    if match is None:
        return None
    height, width = float(match[1]), float(match[2])
    return (height, width) if height > 0 and width > 0 else None


def aperture_edge_flags(shape, *, aper_fov: str, obstype: str, ltv, ltm,
                        pixel_scale) -> np.ndarray:
    """DETECTORPROB (4) on the illuminated detector outside the aperture (calstis FlagFilter).

    The aperture (APER_FOV ``height x width``, arcsec, widened by 10 detector pixels on
    each side) is centred on the detector; whole lines below and above it are flagged,
    and for imaging the columns left and right of it too. Nothing is flagged for an
    unreadable APER_FOV, an aperture shorter than 5 or longer than 45 arcsec, or an
    image that lies outside the aperture.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the image (raw, overscan included).
    aper_fov : str
        APER_FOV, e.g. ``'28x50'``.
    obstype : str
        OBSTYPE (``IMAGING`` also flags left and right).
    ltv, ltm : tuple of float
        ``(LTV1, LTV2)``, ``(LTM1_1, LTM2_2)`` of the image.
    pixel_scale : tuple of float
        Arcsec per *image* pixel along x and y (from the CD matrix).

    Returns
    -------
    ndarray, uint16 [ny, nx]
    """
    ny, nx = (int(v) for v in shape)
    dq = np.zeros((ny, nx), np.uint16)
    fov = parse_aper_fov(aper_fov)
    if fov is None:
        log.warning("cannot interpret APER_FOV = %r; regions beyond the aperture are not "
                    "flagged", aper_fov)
        return dq
    height, width = fov
    if height < SHORT_SLIT or height > LONG_SLIT:
        return dq
    m = [float(v) for v in ltm]
    v = [float(ltv[k]) + (m[k] - 1.0) for k in range(2)]  # zero-indexed (GetLT0)

    def to_image(ref, k):
        return nearest_int(ref * m[k] + v[k])

    det = [(to_image(0.0, k), to_image(CCD_NPIX[1 - k] - 1.0, k)) for k in range(2)]
    half = []
    for k, size in enumerate((width, height)):
        scale = abs(float(pixel_scale[k]) * m[k])  # arcsec per detector pixel
        centre = CCD_NPIX[1 - k] / 2.0
        half.append((to_image(centre - size / scale / 2.0 - APERTURE_BORDER, k),
                     to_image(centre + size / scale / 2.0 + APERTURE_BORDER, k)))
    (xlow, xhigh), (ylow, yhigh) = half
    imaging = str(obstype).strip().upper() == "IMAGING"
    outside = ylow > ny - 1 or yhigh < 0 or (imaging and (xlow > nx - 1 or xhigh < 0))
    if outside:
        log.warning("the image appears to be outside the aperture; nothing flagged")
        return dq
    dx0, dx1 = max(det[0][0], 0), min(det[0][1], nx - 1)
    dy0, dy1 = max(det[1][0], 0), min(det[1][1], ny - 1)
    xlow, xhigh = max(xlow, 0), min(xhigh, nx - 1)
    ylow, yhigh = max(ylow, 0), min(yhigh, ny - 1)
    dq[dy0:ylow, dx0 : dx1 + 1] |= DETECTORPROB
    dq[yhigh + 1 : dy1 + 1, dx0 : dx1 + 1] |= DETECTORPROB
    if imaging:
        dq[ylow : yhigh + 1, dx0:xlow] |= DETECTORPROB
        dq[ylow : yhigh + 1, xhigh + 1 : dx1 + 1] |= DETECTORPROB
    return dq


def bin_bad_pixels(detector_dq: np.ndarray, shape, ltv, ltm) -> np.ndarray:
    """OR a detector-pixel DQ map into a (binned) image's pixels (calstis scratch + bin).

    Parameters
    ----------
    detector_dq : ndarray [ny_det, nx_det]
        Flags in unbinned detector pixels (the bad-pixel table rasterized with LTV 0).
    shape : tuple of int
        ``(ny, nx)`` of the image.
    ltv, ltm : tuple of float
        LTV and LTM of the image.

    Returns
    -------
    ndarray, uint16 [ny, nx]
    """
    bins = [max(1, round(1.0 / float(m))) for m in ltm]
    corner = corner_from_lt(ltv, ltm)
    binned = bin_reference(detector_dq, shape, corner, bins, "or")
    return binned.astype(np.uint16)


def pixel_scale_from_cd(cd1_1, cd1_2, cd2_1, cd2_2, default=0.05078) -> tuple[float, float]:
    """Arcsec per image pixel along x and y from the CD matrix (``default`` if missing).

    Parameters
    ----------
    cd1_1, cd1_2, cd2_1, cd2_2 : float or None
        CD matrix elements, degrees per pixel.
    default : float
        STIS CCD plate scale, arcsec per unbinned pixel.

    Returns
    -------
    tuple of float
    """
    values = [0.0 if c is None else float(c) for c in (cd1_1, cd1_2, cd2_1, cd2_2)]
    sx = math.hypot(values[0], values[2]) * 3600.0
    sy = math.hypot(values[1], values[3]) * 3600.0
    return (sx if sx > 0 else default, sy if sy > 0 else default)
