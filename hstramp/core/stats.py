"""Science-area regions, the calwf3 resistant mean, and image statistics keywords.

The statistics keywords (NGOODPIX, GOODMEAN, GOODMIN, GOODMAX, SNRMEAN ...) come in two
flavours over one summary of the good pixels: calwf3's (``qstats``: science area only,
ERR > 0) in :func:`statistics_keywords`, calstis's (``doStat``: the whole image, a pixel
with ERR <= 0 counts when its SCI <= 0, with S/N 0) in :func:`calstis_statistics_keywords`.
The summary is made by the compiled kernel ``stats`` (``hstramp/core/_native/stats.c``: one
pass, no temporary arrays) where it is built and takes the arrays, else by the NumPy code
here, the reference (``HSTRAMP_KERNELS``, :mod:`hstramp.core.native`). Both give the same
NGOODPIX, minima and maxima; the kernel sums in double one value at a time (as calwf3 and
calstis do), NumPy pairwise, so a mean, rounded to float32, can differ by one float32 ulp.

calwf3 restricts most IR stages to the *science area*: the image without its
reference-pixel border, whose widths come from the OSCNTAB trim columns. Here a
trim is the tuple ``(x1, x2, y1, y2)`` of border widths: columns trimmed at the
start and end of each row, then rows trimmed at the bottom and top (calwf3's
``trimx[0], trimx[1], trimy[0], trimy[1]``; ``(5, 5, 5, 5)`` for WFC3/IR).
"""

from __future__ import annotations

import logging
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from hstramp.core import native
from hstramp.core.dqflags import SDQFLAGS_DEFAULT
from hstramp.errors import ParameterError

__all__ = [
    "ImageStatistics",
    "ResistantMean",
    "calstis_statistics",
    "calstis_statistics_keywords",
    "image_statistics",
    "masked_mean",
    "resistant_mean",
    "science_slices",
    "statistics_keywords",
]

log = logging.getLogger(__name__)

#: calwf3 resistmean: MAD -> sigma for a normal distribution
_MAD_TO_SIGMA = 0.6745
#: calwf3 resistmean: mean absolute deviation -> sigma, used when the MAD is ~0
_MEAN_ABSDEV_TO_SIGMA = 0.8
#: calwf3 resistmean: MAD below this counts as zero
_TINY_MAD = 1.0e-24
#: calwf3 resistmean: truncation correction applies up to this clip level
_TRUNCATION_LIMIT = 4.5
#: the largest float32, calwf3's FLT_MAX bounds in stats()
_FLT_MAX = float(np.finfo(np.float32).max)
#: DQ dtypes the compiled ``stats`` kernel takes (any other takes the NumPy path)
_KERNEL_DQ = (np.dtype(np.uint16), np.dtype(np.uint32))


def science_slices(shape: tuple[int, ...], trim: tuple[int, int, int, int]) -> tuple[slice, slice]:
    """Return the (row, column) slices of the science area of a frame.

    Parameters
    ----------
    shape : tuple of int
        Shape of the array; the last two axes are (ny, nx).
    trim : tuple of 4 int
        Border widths ``(x1, x2, y1, y2)``: columns at the start and end of each
        row, rows at the bottom and top.

    Returns
    -------
    tuple of slice
        ``(rows, columns)``, to index ``array[..., rows, columns]``.

    Raises
    ------
    ParameterError
        If a width is negative or not an integer, or the trim leaves no pixel.
    """
    try:
        x1, x2, y1, y2 = (int(v) for v in trim)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"trim must be four integers (x1, x2, y1, y2), got {trim!r}") from exc
    if any(int(v) != v for v in trim) or min(x1, x2, y1, y2) < 0:
        raise ParameterError(f"trim widths must be non-negative integers, got {tuple(trim)}")
    ny, nx = shape[-2], shape[-1]
    if x1 + x2 >= nx or y1 + y2 >= ny:
        raise ParameterError(f"trim {tuple(trim)} leaves no science pixel in a {ny}x{nx} frame")
    return slice(y1, ny - y2), slice(x1, nx - x2)


@dataclass(frozen=True)
class ResistantMean:
    """Result of :func:`resistant_mean`.

    Attributes
    ----------
    mean : float
        Mean of the values kept (float32 precision, as calwf3).
    stddev : float
        Their standard deviation, corrected for the truncation of the clip.
    npix : int
        Number of values kept.
    """

    mean: float
    stddev: float
    npix: int


def _mean32(values: np.ndarray) -> np.float32:
    """Mean summed in double and rounded to float32 (calwf3 ``findMean``)."""
    return np.float32(np.sum(values, dtype=np.float64) / values.size)


def _stddev32(values: np.ndarray, mean: np.float32) -> np.float32:
    """Sample standard deviation as calwf3 ``findSigma`` computes it.

    One pass over the float32 squares with the float32-rounded mean, so the
    result inherits calwf3's cancellation error for large offsets.
    """
    n = values.size
    if n <= 1:
        return np.float32(0.0)
    sum2 = np.sum(values * values, dtype=np.float64)
    var = n / (n - 1.0) * (sum2 / n - float(mean) ** 2)
    return np.float32(np.sqrt(float(np.float32(var)))) if var >= 0.0 else np.float32(0.0)


def _clipped_stddev(values: np.ndarray, mean: np.float32, sigma: float) -> np.float32:
    """Standard deviation of clipped values, corrected for the clip (calwf3 resistmean).

    Below a clip level of 4.5 the deviation is divided by
    ``-0.15405 + 0.90723 s - 0.23584 s^2 + 0.020142 s^3``.
    """
    stddev = _stddev32(values, mean)
    if sigma > _TRUNCATION_LIMIT:
        return stddev
    factor = -0.15405 + 0.90723 * sigma - 0.23584 * sigma**2 + 0.020142 * sigma**3
    return np.float32(stddev / factor)


def _robust_scale(absdev: np.ndarray) -> np.float32:
    """Sigma estimated from absolute deviations: MAD/0.6745, else mean/0.8."""
    mad = np.float32(np.median(absdev) / _MAD_TO_SIGMA)
    if mad < _TINY_MAD:
        mad = np.float32(_mean32(absdev) / _MEAN_ABSDEV_TO_SIGMA)
    return mad


def _keep_within(values: np.ndarray, cutoff: float) -> np.ndarray:
    """Values whose distance from their median is at most ``cutoff``.

    Raises ValueError when none is left, which only a clip level far below 1 can cause.
    """
    absdev = np.abs(values - np.median(values))
    kept = values[absdev <= np.float32(cutoff)]
    if kept.size == 0:
        raise ValueError(f"resistant mean rejected every value (cutoff {float(cutoff):.3g})")
    return kept


def resistant_mean(values: np.ndarray, sigma: float = 3.0) -> ResistantMean:
    """Clipped mean of a set of values, as calwf3's ``resistmean``.

    The procedure is fixed (not iterated to convergence):

    1. keep values within ``sigma * MAD / 0.6745`` of the median (the mean
       absolute deviation / 0.8 replaces the MAD when the MAD is below 1e-24);
    2. standard deviation of those, divided by the truncation correction
       ``-0.15405 + 0.90723 s - 0.23584 s^2 + 0.020142 s^3`` (``s = sigma <= 4.5``);
    3. keep the survivors within ``sigma`` times that deviation of *their median*;
    4. mean and corrected standard deviation of what is left.

    Arithmetic follows calwf3's float32 rounding.

    Parameters
    ----------
    values : array_like
        Values of any shape (flattened); not modified.
    sigma : float, optional
        Clip level in standard deviations (calwf3 uses 3).

    Returns
    -------
    ResistantMean
        Mean, standard deviation and number of values kept.

    Raises
    ------
    ParameterError
        If ``sigma`` is not positive.
    ValueError
        If ``values`` is empty or every value is rejected.
    """
    if not sigma > 0:
        raise ParameterError(f"sigma must be > 0, got {sigma}")
    data = np.asarray(values, dtype=np.float32).ravel()
    if data.size == 0:
        raise ValueError("resistant_mean needs at least one value")
    first = _keep_within(data, sigma * _robust_scale(np.abs(data - np.median(data))))
    final = _keep_within(first, sigma * _clipped_stddev(first, _mean32(first), sigma))
    mean = _mean32(final)
    stddev = _clipped_stddev(final, mean, sigma)
    return ResistantMean(mean=float(mean), stddev=float(stddev), npix=int(final.size))


def masked_mean(
    image: np.ndarray, dq: np.ndarray | None, dqmask: int, *, trim: tuple[int, int, int, int]
) -> float:
    """Mean of the unflagged pixels of the science area (calwf3 ``stats`` mean).

    A pixel counts when ``dq & dqmask == 0`` and ``-FLT_MAX < value < FLT_MAX``
    (so NaN and infinities never count). calwf3 uses this for MEANDARK.

    Parameters
    ----------
    image : ndarray [ny, nx]
        Values.
    dq : ndarray [ny, nx] or None
        Data quality of ``image``; None means all zero.
    dqmask : int
        Bits that exclude a pixel.
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.

    Returns
    -------
    float
        The mean (float32 precision), or 0.0 when no pixel counts.
    """
    rows, cols = science_slices(image.shape, trim)
    values = np.asarray(image)[rows, cols]
    good = (values > -_FLT_MAX) & (values < _FLT_MAX)
    if dq is not None:
        good &= (np.asarray(dq)[rows, cols] & dqmask) == 0
    if not good.any():
        return 0.0
    return float(_mean32(values[good]))


@dataclass(frozen=True)
class ImageStatistics:
    """Statistics of the good pixels of one image (calwf3 ``qstats``).

    The value fields are None when no pixel is good.

    Attributes
    ----------
    ngoodpix : int
        Number of good pixels.
    goodmean, goodmin, goodmax : float or None
        Of the science values.
    errmean, errmin, errmax : float or None
        Of the error values.
    snrmean, snrmin, snrmax : float or None
        Of science / error.
    """

    ngoodpix: int
    goodmean: float | None = None
    goodmin: float | None = None
    goodmax: float | None = None
    errmean: float | None = None
    errmin: float | None = None
    errmax: float | None = None
    snrmean: float | None = None
    snrmin: float | None = None
    snrmax: float | None = None


def image_statistics(
    data: np.ndarray,
    err: np.ndarray,
    dq: np.ndarray,
    *,
    trim: tuple[int, int, int, int],
    sdqflags: int = SDQFLAGS_DEFAULT,
) -> ImageStatistics:
    """Statistics of the good pixels of one image, as calwf3 ``qstats``.

    Good pixels lie in the science area, have no ``sdqflags`` bit set and have
    ERR > 0 (calwf3 silently drops ERR <= 0, so they are not in NGOODPIX either).
    A pixel whose SCI or ERR is NaN or infinite is not good either: calwf3's ``qstats``
    would sum it into a NaN mean (and FITS headers cannot hold NaN); hstramp follows the
    rule of calwf3's own ``stats`` (MEANDARK), which counts only finite values.

    Parameters
    ----------
    data, err : ndarray [ny, nx]
        Science and error values.
    dq : ndarray [ny, nx]
        Data quality.
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    sdqflags : int, optional
        Serious-DQ bits (SDQFLAGS; calwf3 default 31743).

    Returns
    -------
    ImageStatistics
        Count, mean, minimum and maximum of SCI, ERR and SCI/ERR.

    Notes
    -----
    The compiled kernel ``stats`` (see the module's docstring) gives the same count, minima
    and maxima as the NumPy path; its means, summed in double one value at a time as calwf3
    does, can differ from NumPy's pairwise sums by one float32 ulp.
    """
    rows, cols = science_slices(np.shape(data), trim)
    summary = _kernel_summary(data, err, dq, (rows, cols), sdqflags, calstis=False)
    if summary is not None:
        if summary[0] == 0:
            log.debug("no good pixel for image statistics")
        return _summary_statistics(summary)
    sci = np.asarray(data, dtype=np.float32)[rows, cols]
    errs = np.asarray(err, dtype=np.float32)[rows, cols]
    good = (((np.asarray(dq)[rows, cols] & sdqflags) == 0) & (errs > 0.0)
            & np.isfinite(sci) & np.isfinite(errs))
    npix = int(np.count_nonzero(good))
    if npix == 0:
        log.debug("no good pixel for image statistics")
        return ImageStatistics(ngoodpix=0)
    sci, errs = sci[good], errs[good]
    return _good_statistics(sci, errs, np.divide(sci, errs, dtype=np.float64))


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _keyword_float(value: float) -> float:
    """``value`` rounded to float32 (what calwf3's and calstis's float keywords hold), or
    kept in double beyond float32's range (a finite S/N such as 3e38 / 1e-30, which float32
    would turn into an infinity no FITS header can hold)."""
    value = float(value)
    return float(np.float32(value)) if abs(value) <= _FLOAT32_MAX else value


def _rounded(total: float, count: int, low: float, high: float) -> tuple[float, float, float]:
    """Mean ``total / count``, minimum and maximum, each as :func:`_keyword_float`."""
    return _keyword_float(total / count), _keyword_float(low), _keyword_float(high)


def _mean_min_max(values: np.ndarray) -> tuple[float, float, float]:
    """Mean, minimum and maximum of a non-empty 1-D array, each rounded to float32.

    The sum is in float64 (pairwise over the whole array; calwf3 and calstis, and the
    compiled kernel, sum in double one value at a time, which can differ in the last bits
    of the double and so, rarely, by one ulp in the float32 the keywords hold); the
    extremes of float32 values are float32 already, so they need no float64 copy.
    """
    return _rounded(values.astype(np.float64, copy=False).sum(), values.size, values.min(),
                    values.max())


def _good_statistics(sci: np.ndarray, errs: np.ndarray, snr: np.ndarray) -> ImageStatistics:
    """:class:`ImageStatistics` of the good pixels' SCI, ERR and S/N values (1-D, not empty)."""
    return ImageStatistics(sci.size, *_mean_min_max(sci), *_mean_min_max(errs),
                           *_mean_min_max(snr))


def _kernel_summary(data, err, dq, window: tuple[slice, slice], sdqflags,
                    *, calstis: bool) -> tuple | None:
    """The compiled kernel's summary of the good pixels of ``window``, or None for the NumPy
    path (``HSTRAMP_KERNELS=numpy``, not built, or arrays the kernel does not take).

    The kernel takes three 2-D arrays of one shape, SCI and ERR native float32, DQ native
    uint16 or uint32, of any strides (no copy), and SDQFLAGS an integer that fits the DQ
    dtype (the NumPy path decides what any other means). It returns ``(n, bad_err, sum,
    min, max of SCI, of ERR, of S/N)``; ``bad_err`` counts the unflagged finite pixels with
    ERR <= 0 (``_native/stats.c`` says more).
    """
    stats = native.kernel("stats")
    if stats is None:
        return None
    sci, errs, flags = np.asarray(data), np.asarray(err), np.asarray(dq)
    try:
        sdqflags = operator.index(sdqflags)
    except TypeError:
        return None
    if not (sci.ndim == 2 and sci.shape == errs.shape == flags.shape
            and sci.dtype == errs.dtype == np.float32 and flags.dtype in _KERNEL_DQ
            and 0 <= sdqflags <= np.iinfo(flags.dtype).max):
        return None
    rows, cols = window
    return stats.summary(sci, errs, flags, rows.start, rows.stop, cols.start, cols.stop,
                         sdqflags, calstis)


def _summary_statistics(summary: tuple) -> ImageStatistics:
    """:class:`ImageStatistics` from the compiled kernel's summary."""
    npix, _, *values = summary
    if npix == 0:
        return ImageStatistics(ngoodpix=0)
    return ImageStatistics(npix, *_rounded(values[0], npix, *values[1:3]),
                           *_rounded(values[3], npix, *values[4:6]),
                           *_rounded(values[6], npix, *values[7:9]))


def calstis_statistics(
    data: np.ndarray, err: np.ndarray, dq: np.ndarray, *, sdqflags: int
) -> ImageStatistics:
    """Statistics of the good pixels of one image, as calstis ``doStat``.

    calstis's rule (hstcal ``pkg/stis/lib/dostat.c``) differs from calwf3's: it takes
    the whole image (a STIS flt or crj holds no overscan), and a pixel with no
    ``sdqflags`` bit counts

    * with S/N = SCI / ERR where ERR > 0;
    * with S/N = 0 where ERR <= 0 and SCI <= 0 (its ERR counts in the ERR statistics);
    * not at all where ERR <= 0 and SCI > 0.

    A pixel whose SCI or ERR is NaN or infinite does not count either: calstis would sum it
    into a NaN mean, which a FITS header cannot hold. calstis holds SDQFLAGS in a C
    ``short``, so only its low 16 bits matter.

    Parameters
    ----------
    data, err : ndarray [ny, nx]
        Science and error values.
    dq : ndarray [ny, nx]
        Data quality.
    sdqflags : int
        Serious-DQ bits (SDQFLAGS).

    Returns
    -------
    ImageStatistics
        Count, mean, minimum and maximum of SCI, ERR and S/N (values None when no pixel
        counts; a warning then says why, in calstis's words).

    Notes
    -----
    As :func:`image_statistics`, the compiled kernel gives the same count, minima and
    maxima, and means within one float32 ulp of the NumPy path's.
    """
    shape = np.shape(data)
    window = (slice(0, shape[0]), slice(0, shape[1])) if len(shape) == 2 else None
    summary = (None if window is None else
               _kernel_summary(data, err, dq, window, int(sdqflags) & 0xFFFF, calstis=True))
    if summary is not None:
        if summary[0] == 0:
            _warn_no_good_pixel(shape[0] * shape[1], summary[1])
        return _summary_statistics(summary)
    sci = np.asarray(data, dtype=np.float32)
    errs = np.asarray(err, dtype=np.float32)
    unflagged = (np.asarray(dq) & (int(sdqflags) & 0xFFFF)) == 0
    finite = np.isfinite(sci) & np.isfinite(errs)
    positive_err = errs > 0.0
    good = unflagged & finite & (positive_err | (sci <= 0.0))
    npix = int(np.count_nonzero(good))
    if npix == 0:
        _warn_no_good_pixel(sci.size, np.count_nonzero(unflagged & finite & ~positive_err))
        return ImageStatistics(ngoodpix=0)
    sci, errs, positive_err = sci[good], errs[good], positive_err[good]
    snr = np.divide(sci, errs, out=np.zeros(npix, np.float64), where=positive_err,
                    dtype=np.float64)
    return _good_statistics(sci, errs, snr)


def _warn_no_good_pixel(area: int, bad_err: int) -> None:
    """calstis's warning when no pixel is good (``doStat``)."""
    if area == 0:
        log.warning("Output image size is zero.")
    elif bad_err == area:
        log.warning("No ERR values > 0.")
    elif bad_err > 0:
        log.warning("All output pixels either flagged as bad or ERR <= 0.")
    else:
        log.warning("All output pixels flagged as bad.")


def calstis_statistics_keywords(
    data: np.ndarray, err: np.ndarray, dq: np.ndarray, *, sdqflags: int
) -> dict[str, dict[str, Any]]:
    """The statistics keywords calstis writes on the SCI and ERR headers of one imset.

    SCI: NGOODPIX, GOODMIN, GOODMAX, GOODMEAN of the science values and SNRMIN, SNRMAX,
    SNRMEAN of S/N; ERR: NGOODPIX and GOODMIN, GOODMAX, GOODMEAN of the errors (each under
    its documented name: calstis has no calwf3's swap). When no pixel counts only NGOODPIX
    = 0 is written, as calstis. See :func:`calstis_statistics` for which pixels count.

    Parameters
    ----------
    data, err : ndarray [ny, nx]
        Science and error values.
    dq : ndarray [ny, nx]
        Data quality.
    sdqflags : int
        Serious-DQ bits (SDQFLAGS).

    Returns
    -------
    dict
        ``{"SCI": {keyword: value}, "ERR": {keyword: value}}``.
    """
    st = calstis_statistics(data, err, dq, sdqflags=sdqflags)
    return _keywords(st, snr=(st.snrmean, st.snrmin, st.snrmax),
                     err_good=(st.errmean, st.errmin, st.errmax))


def _keywords(st: ImageStatistics, *, snr: tuple, err_good: tuple) -> dict[str, dict[str, Any]]:
    """The SCI and ERR statistics keywords: SNR* of the SCI header and GOOD* of the ERR
    header from ``snr`` and ``err_good`` (mean, min, max); only NGOODPIX when it is 0."""
    if st.ngoodpix == 0:
        return {"SCI": {"NGOODPIX": 0}, "ERR": {"NGOODPIX": 0}}
    return {
        "SCI": {
            "NGOODPIX": st.ngoodpix,
            "GOODMEAN": st.goodmean,
            "GOODMIN": st.goodmin,
            "GOODMAX": st.goodmax,
            **dict(zip(("SNRMEAN", "SNRMIN", "SNRMAX"), snr, strict=True)),
        },
        "ERR": {
            "NGOODPIX": st.ngoodpix,
            **dict(zip(("GOODMEAN", "GOODMIN", "GOODMAX"), err_good, strict=True)),
        },
    }


def statistics_keywords(
    data: np.ndarray,
    err: np.ndarray,
    dq: np.ndarray,
    *,
    trim: tuple[int, int, int, int],
    sdqflags: int = SDQFLAGS_DEFAULT,
    calwf3_placement: bool = True,
) -> dict[str, dict[str, Any]]:
    """The statistics keywords calwf3 writes on the SCI and ERR headers of one image.

    calwf3 (``statcalc``) hands its ``qstats`` outputs over in the wrong order,
    so in every real product the SCI header's SNRMEAN/SNRMIN/SNRMAX hold the
    *ERR* statistics and the ERR header's GOODMEAN/GOODMIN/GOODMAX hold the
    *signal-to-noise* statistics. ``calwf3_placement=True`` (the default)
    reproduces that, so products match calwf3's; False puts each quantity
    under its documented name. When no pixel is good only NGOODPIX is written.

    Parameters
    ----------
    data, err : ndarray [ny, nx]
        Science and error values.
    dq : ndarray [ny, nx]
        Data quality.
    trim : tuple of 4 int
        Reference-pixel border widths ``(x1, x2, y1, y2)``.
    sdqflags : int, optional
        Serious-DQ bits (SDQFLAGS).
    calwf3_placement : bool, optional
        Reproduce calwf3's swapped keyword contents.

    Returns
    -------
    dict
        ``{"SCI": {keyword: value}, "ERR": {keyword: value}}``.
    """
    st = image_statistics(data, err, dq, trim=trim, sdqflags=sdqflags)
    snr = (st.snrmean, st.snrmin, st.snrmax)
    errs = (st.errmean, st.errmin, st.errmax)
    sci_snr, err_good = (errs, snr) if calwf3_placement else (snr, errs)
    return _keywords(st, snr=sci_snr, err_good=err_good)
