"""Bias level from the STIS CCD overscan (calstis ``doBlev``, ``FindBlev``, ``BlevDrift``).

For each imset:

1. each line's bias level is the median of the bias-section columns of the serial
   overscan (pixels without an SDQFLAGS bit); a straight line is fitted to these levels
   against line number (unweighted, lines without good pixels left out);
2. where there is a virtual overscan, extreme values in it (above ``median +
   BLEV_CLIP * sigma``) are replaced by the median of their 21-column neighbourhood, each
   column's median over the virtual rows is taken, and a straight line is fitted to the
   medians against column: only its *slope* is used, with zero at the bias section;
3. the image is trimmed to the illuminated area and ``level(line) + slope * (column -
   zerocol)`` is subtracted; MEANBLEV is the mean over lines of the level plus the drift at
   the middle column.

When the image is too small to hold its overscan, the CCDTAB bias (CCDBIAS) is subtracted
instead and nothing is trimmed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.stis.dqflags import SDQFLAGS_DEFAULT
from hstramp.core.stis.geometry import OverscanRegions, find_overscan

log = logging.getLogger(__name__)

__all__ = [
    "BlevParameters",
    "OverscanBias",
    "fit_line",
    "line_bias_levels",
    "masked_row_medians",
    "overscan_bias_correct",
    "virtual_overscan_slope",
]

#: half-width of the window whose median replaces a hot virtual-overscan value
_REPLACE_HALF_WIDTH = 10
#: |deviation| <= this many MADs enter the sigma of the virtual overscan (about 3 sigma)
_MAD_CLIP = 4.5


@dataclass(frozen=True)
class BlevParameters:
    """Parameters of the overscan bias fit.

    Attributes
    ----------
    blev_clip : float
        Clip level (sigma) for hot values in the virtual overscan (CCDTAB BLEV_CLIP, 50).
    sdqflags : int
        DQ bits that keep an overscan pixel out of the medians (SDQFLAGS).
    drift : bool
        Apply the column slope measured in the virtual overscan.
    """

    blev_clip: float = 50.0
    sdqflags: int = SDQFLAGS_DEFAULT
    drift: bool = True

    def __post_init__(self):
        if not self.blev_clip > 0:
            raise ValueError(f"blev_clip must be > 0, got {self.blev_clip}")
        if not 0 <= int(self.sdqflags) <= 65535:
            raise ValueError(f"sdqflags must be in 0..65535, got {self.sdqflags}")


@dataclass(frozen=True)
class OverscanBias:
    """Result of :func:`overscan_bias_correct`.

    Attributes
    ----------
    data, err : ndarray, float32 [..., ny', nx']
        Bias-subtracted data and the errors, trimmed to the illuminated area.
    dq : ndarray [..., ny', nx']
        Data quality, trimmed.
    meanblev : ndarray, float64 [...]
        Mean bias level subtracted from each image (MEANBLEV).
    line_fit : ndarray, float64 [..., 2]
        ``(intercept, slope)`` of the line fit per image (level at the middle line).
    drift_slope : ndarray, float64 [...]
        Slope along lines from the virtual overscan (0 where not measured).
    trim : tuple of 4 int
        ``(x1, x2, y1, y2)`` removed (zeros when the overscan was not used).
    regions : OverscanRegions or None
        The overscan geometry (None: too small; the CCDTAB bias was subtracted).
    """

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    meanblev: np.ndarray
    line_fit: np.ndarray
    drift_slope: np.ndarray
    trim: tuple[int, int, int, int]
    regions: OverscanRegions | None


def masked_row_medians(values: np.ndarray, good: np.ndarray) -> np.ndarray:
    """Median of the good values of each row (NaN for a row without any).

    Parameters
    ----------
    values : ndarray [nrows, ncols]
    good : ndarray of bool [nrows, ncols]

    Returns
    -------
    ndarray, float64 [nrows]
        The median (mean of the two middle values for an even count).
    """
    ordered = np.sort(np.where(good, np.asarray(values, np.float64), np.inf), axis=1)
    n = good.sum(axis=1)
    rows = np.arange(ordered.shape[0])
    last = max(ordered.shape[1] - 1, 0)
    lo = ordered[rows, np.clip((n - 1) // 2, 0, last)]
    hi = ordered[rows, np.clip(n // 2, 0, last)]
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, 0.5 * (lo + hi), np.nan)


def fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Unweighted least-squares line ``y = a + b x`` (calstis ``BlevFit``/``DriftFit``).

    Parameters
    ----------
    x, y : ndarray
        Points; non-finite ``y`` are left out.

    Returns
    -------
    tuple of float or None
        ``(a, b)``, or None with no point or a singular fit.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    use = np.isfinite(y)
    x, y = x[use], y[use]
    if x.size == 0:
        return None
    d = np.sum(x * x) - np.sum(x) ** 2 / x.size
    if d == 0:
        return None
    xmean, ymean = x.mean(), y.mean()
    slope = (np.sum(x * y) - xmean * ymean * x.size) / d
    return float(ymean - slope * xmean), float(slope)


def line_bias_levels(image: np.ndarray, dq: np.ndarray, regions: OverscanRegions,
                     sdqflags: int) -> np.ndarray:
    """Median of the bias section for each output line (NaN where no pixel is good).

    Parameters
    ----------
    image, dq : ndarray [ny, nx]
        Raw image and its DQ.
    regions : OverscanRegions
        Overscan geometry.
    sdqflags : int
        Bits that exclude a pixel.

    Returns
    -------
    ndarray, float64 [ny']
        One level per line of the trimmed image.
    """
    _x1, _x2, y1, y2 = regions.trim
    b0, b1 = regions.biassect
    rows = slice(y1, image.shape[0] - y2)
    section = image[rows, b0 : b1 + 1]
    good = (dq[rows, b0 : b1 + 1] & sdqflags) == 0
    return masked_row_medians(section, good)


def _replace_hot_values(region: np.ndarray, clip: float) -> np.ndarray:
    """Hot values of the virtual overscan replaced by a 21-column running median (a copy).

    Replacements are made one at a time in row order, each window seeing the earlier
    replacements, as calstis ``rejectHighValues``.
    """
    region = np.array(region, dtype=np.float64)
    median = np.median(region)
    absdev = np.abs(region - median)
    mad = np.median(absdev)
    kept = absdev[absdev <= _MAD_CLIP * mad]
    sigma = np.sqrt(np.mean(kept * kept)) if kept.size else 0.0
    ncols = region.shape[1]
    width = 2 * _REPLACE_HALF_WIDTH
    for r, c in np.argwhere(region > median + clip * sigma):
        i0 = max(c - _REPLACE_HALF_WIDTH, 0)
        i1 = i0 + width
        if i1 > ncols - 1:
            i1 = ncols - 1
            i0 = max(i1 - width, 0)
        region[r, c] = np.float32(np.median(region[r, i0 : i1 + 1]))
    return region


def virtual_overscan_slope(image: np.ndarray, dq: np.ndarray, regions: OverscanRegions,
                           params: BlevParameters) -> float | None:
    """Slope of the bias along a line, from the virtual overscan (calstis ``BlevDrift``).

    Parameters
    ----------
    image, dq : ndarray [ny, nx]
        Raw image and its DQ (not modified).
    regions : OverscanRegions
        Overscan geometry.
    params : BlevParameters
        ``blev_clip`` and ``sdqflags``.

    Returns
    -------
    float or None
        DN per column, or None when there is no virtual overscan or the fit is singular.
    """
    if not regions.has_virtual_overscan:
        return None
    (vx0, vx1), (vy0, vy1) = regions.vx, regions.vy
    region = _replace_hot_values(image[vy0 : vy1 + 1, vx0 : vx1 + 1], params.blev_clip)
    good = (dq[vy0 : vy1 + 1, vx0 : vx1 + 1] & params.sdqflags) == 0
    medians = masked_row_medians(region.T, good.T)
    columns = np.arange(vx0, vx1 + 1) - (vx0 + vx1) // 2
    fit = fit_line(columns, medians)
    return None if fit is None else fit[1]


def _correct_image(image, err, dq, regions, params, ccdbias):
    """One image: trimmed data, err, dq, MEANBLEV, line fit, drift slope."""
    x1, x2, y1, y2 = regions.trim
    ny, nx = image.shape
    out_ny, out_nx = ny - y1 - y2, nx - x1 - x2
    levels = line_bias_levels(image, dq, regions, params.sdqflags)
    missing = int(np.count_nonzero(~np.isfinite(levels)))
    if missing:
        log.warning("%d image line(s) have too few good overscan pixels", missing)
    lines = np.arange(out_ny) - out_ny // 2
    fit = fit_line(lines, levels)
    if fit is None:
        log.warning("no bias level data or singular fit; subtracting CCDBIAS %g", ccdbias)
        fit = (float(ccdbias), 0.0)
    slope = virtual_overscan_slope(image, dq, regions, params) if params.drift else None
    slope = 0.0 if slope is None else slope
    zerocol = (regions.biassect[0] + regions.biassect[1]) / 2.0 - x1
    level = fit[0] + fit[1] * lines
    drift = slope * (np.arange(out_nx) - zerocol)
    rows, cols = slice(y1, ny - y2), slice(x1, nx - x2)
    out = (image[rows, cols] - level[:, None] - drift[None, :]).astype(np.float32)
    meanblev = float(np.mean(level + slope * (out_nx // 2 - zerocol)))
    return out, err[rows, cols], dq[rows, cols], meanblev, fit, slope


def overscan_bias_correct(data: np.ndarray, err: np.ndarray, dq: np.ndarray, *,
                          ccdamp: str, binning=(1, 1), ccdbias: float = 0.0,
                          params: BlevParameters | None = None) -> OverscanBias:
    """Subtract the overscan bias level of each image and trim the overscan away.

    Parameters
    ----------
    data, err : ndarray [..., ny, nx]
        Raw images (DN) and their errors (not modified).
    dq : ndarray [..., ny, nx]
        Data quality (saturation already flagged, so saturated overscan is skipped).
    ccdamp : str
        CCDAMP.
    binning : tuple of int
        ``(BINAXIS1, BINAXIS2)``.
    ccdbias : float
        CCDTAB CCDBIAS, subtracted when the overscan cannot be used.
    params : BlevParameters, optional
        Clip level, SDQFLAGS and whether to correct the drift along lines.

    Returns
    -------
    OverscanBias
    """
    params = params or BlevParameters()
    data = np.asarray(data)
    lead, (ny, nx) = data.shape[:-2], data.shape[-2:]
    regions = find_overscan(ccdamp, nx, ny, binning)
    nimg = int(np.prod(lead, dtype=np.int64))
    if regions is None:
        log.warning("image %dx%d too small for BLEVCORR; subtracting CCDBIAS %g", nx, ny,
                    ccdbias)
        return OverscanBias(
            data=(data - np.float32(ccdbias)).astype(np.float32),
            err=np.array(err, np.float32), dq=np.array(dq, copy=True),
            meanblev=np.full(lead, float(ccdbias)), line_fit=np.tile([ccdbias, 0.0],
                                                                     (*lead, 1)),
            drift_slope=np.zeros(lead), trim=(0, 0, 0, 0), regions=None)
    out_shape = regions.trimmed_shape((ny, nx))
    flat = [a.reshape(nimg, ny, nx) for a in (data, np.asarray(err), np.asarray(dq))]
    out = np.empty((nimg, *out_shape), np.float32)
    out_err = np.empty((nimg, *out_shape), np.float32)
    out_dq = np.empty((nimg, *out_shape), flat[2].dtype)
    meanblev, fits, slopes = np.empty(nimg), np.empty((nimg, 2)), np.empty(nimg)
    for k in range(nimg):
        (out[k], out_err[k], out_dq[k], meanblev[k], fits[k],
         slopes[k]) = _correct_image(flat[0][k], flat[1][k], flat[2][k], regions, params,
                                     ccdbias)
    log.debug("MEANBLEV %s, drift slopes %s", meanblev, slopes)
    return OverscanBias(
        data=out.reshape(*lead, *out_shape), err=out_err.reshape(*lead, *out_shape),
        dq=out_dq.reshape(*lead, *out_shape), meanblev=meanblev.reshape(lead),
        line_fit=fits.reshape(*lead, 2), drift_slope=slopes.reshape(lead),
        trim=regions.trim, regions=regions)
