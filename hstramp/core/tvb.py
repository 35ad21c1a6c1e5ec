"""Time-variable background (TVB): per-read sky statistics, detection and the two remedies.

Helium 1.083 um airglow and scattered Earth light raise the WFC3/IR sky during part of an
exposure. The sky then no longer accumulates at a constant rate, and a constant-rate ramp fit
(with its cosmic-ray rejection) gives a noisy, non-Gaussian background. This module holds:

- per-read statistics of a region (what wfc3tools ``pstat`` shows): :func:`region_statistics`,
  :func:`read_statistics`, on :func:`signal_since_zeroth_read` of raw or ima reads;
- the sky level of every read and its noise (:func:`sky_levels`) and the detection metric
  (:func:`detect_tvb`): how far the accumulated sky strays from a constant rate, as a fraction
  of the exposure's sky, and which reads carry extra background;
- the remedies: :func:`flatten_ramp` (subtract each read's sky, add back the whole-exposure
  rate, so that a normal fit with jump detection can follow) and :func:`last_minus_first`
  (rate from the first and last usable reads, cosmic rays left in: calwf3's CRCORR=OMIT).

Arrays are in time order (read 0 is the zeroth read); ``times`` are seconds since the zeroth
read. Nothing here modifies its inputs. See ``docs/tvb.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from hstramp.core.blev import reference_pixel_values
from hstramp.core.blocks import (
    DO_NOT_USE,
    checked_pixeldq,
    pixel_valid,
    ramp_inputs,
    usable_reads,
)
from hstramp.core.dqflags import SDQFLAGS_DEFAULT
from hstramp.core.geometry import REFERENCE_BORDER
from hstramp.core.ramp_fit import RampFitResult, collapse_dq
from hstramp.core.units import accumulated_counts

__all__ = [
    "FLATTEN_MODES",
    "SKY_STATISTICS",
    "STATISTICS",
    "DetectionParameters",
    "FlattenRampParameters",
    "FlattenedRamp",
    "ReadStatistics",
    "RegionStatistics",
    "SkyLevels",
    "SkyParameters",
    "TVBDetection",
    "clipped_values",
    "detect_tvb",
    "flatten_ramp",
    "last_minus_first",
    "read_statistics",
    "reference_offset_noise",
    "region_slices",
    "region_statistics",
    "science_region",
    "signal_since_zeroth_read",
    "sky_levels",
]

log = logging.getLogger(__name__)

#: the statistics :func:`region_statistics` computes, in report order
STATISTICS = ("midpt", "mean", "median", "mode", "stddev", "min", "max")
#: the statistics that can stand for the sky level of a read
SKY_STATISTICS = ("midpt", "median", "mode", "mean")
#: what the flatten-ramp step does: nothing, only on detected exposures, on every exposure
FLATTEN_MODES = ("off", "auto", "always")

#: standard error of a median over that of a mean, for normal noise (sqrt(pi / 2))
_MEDIAN_EFFICIENCY = float(np.sqrt(np.pi / 2.0))
#: median absolute deviation -> standard deviation for normal noise
_MAD_TO_SIGMA = 1.482602218505602
#: clipping has converged when a pass rejects at most this fraction of the values
_CONVERGED = 1.0e-3
#: the clipping centre and scale, and the noise of a sky increment, are estimated from at most
#: this many values (a regular subset): plenty for a clip level or a standard error
_SAMPLE = 1 << 16
#: largest number of histogram bins for midpt and mode
_MAX_BINS = 100_000


# --------------------------------------------------------------------------- parameters
def _require(condition, name, allowed, value):
    if not condition:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_)


def _check_region(region):
    """Region as a tuple of 4 ints ``(x1, x2, y1, y2)`` (or None), validated for order."""
    if region is None:
        return None
    try:
        values = tuple(region)
    except TypeError:
        values = ()
    _require(len(values) == 4 and all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                                       for v in values),
             "region", "None or four integers (x1, x2, y1, y2)", region)
    x1, x2, y1, y2 = (int(v) for v in values)
    _require(0 <= x1 < x2 and 0 <= y1 < y2, "region",
             "0-based half-open bounds with 0 <= x1 < x2 and 0 <= y1 < y2", region)
    return (x1, x2, y1, y2)


@dataclass(frozen=True)
class SkyParameters:
    """How the sky level of each read is measured.

    Attributes
    ----------
    region : tuple of 4 int or None
        ``(x1, x2, y1, y2)``: 0-based, half-open column and row bounds in the array's own
        pixel coordinates (``array[..., y1:y2, x1:x2]``). None: the whole array given (the
        steps and the command line pass the science area).
    statistic : {"midpt", "median", "mode", "mean"}
        The statistic that stands for the sky. The default, ``midpt``, is the median
        interpolated inside its histogram bin: on raw reads, whole DN, the plain median moves
        in whole-DN steps, which is a large error on a read 0.1 s after the zeroth read.
    clip_sigma : float
        Iterative clipping about the median at this many standard deviations (0: none).
    clip_iterations : int
        At most this many clipping passes (0: none).
    dq_mask : int
        DQ bits that exclude a pixel; a pixel flagged in any read is excluded from every read,
        so the sky of every read comes from the same pixels (default SDQFLAGS, 31743).
    binwidth : float
        Histogram bin width for ``midpt`` and ``mode``, in standard deviations (IRAF's 0.1).
    """

    region: tuple | None = None
    statistic: str = "midpt"
    clip_sigma: float = 3.0
    clip_iterations: int = 5
    dq_mask: int = SDQFLAGS_DEFAULT
    binwidth: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, "region", _check_region(self.region))
        _require(self.statistic in SKY_STATISTICS, "statistic", f"one of {SKY_STATISTICS}",
                 self.statistic)
        _require(_is_number(self.clip_sigma) and self.clip_sigma >= 0, "clip_sigma",
                 "a number >= 0", self.clip_sigma)
        _require(isinstance(self.clip_iterations, int | np.integer)
                 and not isinstance(self.clip_iterations, bool) and self.clip_iterations >= 0,
                 "clip_iterations", "an integer >= 0", self.clip_iterations)
        _require(isinstance(self.dq_mask, int | np.integer) and not isinstance(self.dq_mask, bool)
                 and 0 <= self.dq_mask <= 0xFFFF, "dq_mask", "an integer in 0..65535",
                 self.dq_mask)
        _require(_is_number(self.binwidth) and self.binwidth > 0, "binwidth", "a number > 0",
                 self.binwidth)


@dataclass(frozen=True)
class DetectionParameters:
    """When an exposure and a read count as affected by a time-variable background.

    Attributes
    ----------
    threshold : float
        The exposure is affected when the accumulated sky departs from a constant rate by
        more than this fraction of the exposure's sky (:attr:`TVBDetection.metric`) at a
        read where the departure is also larger than ``nsigma`` standard errors.
    read_threshold : float
        A read is affected when the sky rate of the interval ending at it exceeds the quiet
        sky rate by more than this fraction of the exposure's mean sky rate ...
    nsigma : float
        ... and by more than this many standard errors (for reads and for the exposure).
    """

    threshold: float = 0.03
    read_threshold: float = 0.1
    nsigma: float = 3.0

    def __post_init__(self):
        for name in ("threshold", "read_threshold", "nsigma"):
            value = getattr(self, name)
            _require(_is_number(value) and value >= 0 and np.isfinite(value), name,
                     "a finite number >= 0", value)


@dataclass(frozen=True)
class FlattenRampParameters:
    """Parameters of the flatten-ramp step (``hstramp.steps.tvb.FlattenRampStep``).

    Attributes
    ----------
    mode : {"off", "auto", "always"}
        "off": leave every ramp alone; "auto": flatten exposures whose detection metric
        exceeds ``threshold``; "always": flatten every exposure.
    region, statistic, clip_sigma, clip_iterations, dq_mask, binwidth
        The sky measurement (:class:`SkyParameters`); region None means the science area.
    threshold, read_threshold, nsigma
        The detection (:class:`DetectionParameters`).
    """

    mode: str = "off"
    region: tuple | None = None
    statistic: str = "midpt"
    clip_sigma: float = 3.0
    clip_iterations: int = 5
    dq_mask: int = SDQFLAGS_DEFAULT
    binwidth: float = 0.1
    threshold: float = 0.03
    read_threshold: float = 0.1
    nsigma: float = 3.0

    def __post_init__(self):
        _require(self.mode in FLATTEN_MODES, "mode", f"one of {FLATTEN_MODES}", self.mode)
        object.__setattr__(self, "region", _check_region(self.region))
        self.sky  # noqa: B018  (validates)
        self.detection  # noqa: B018

    @property
    def sky(self) -> SkyParameters:
        """The sky-measurement part."""
        return SkyParameters(region=self.region, statistic=self.statistic,
                             clip_sigma=self.clip_sigma, clip_iterations=self.clip_iterations,
                             dq_mask=self.dq_mask, binwidth=self.binwidth)

    @property
    def detection(self) -> DetectionParameters:
        """The detection part."""
        return DetectionParameters(threshold=self.threshold, read_threshold=self.read_threshold,
                                   nsigma=self.nsigma)


# --------------------------------------------------------------------------- regions
def science_region(shape, border: int = REFERENCE_BORDER) -> tuple[int, int, int, int]:
    """The science area of a frame as a region ``(x1, x2, y1, y2)``.

    Parameters
    ----------
    shape : tuple of int
        Array shape; the last two axes are (ny, nx).
    border : int, optional
        Reference-pixel border width (5 for WFC3/IR raw and ima; 0 for an flt).

    Returns
    -------
    tuple of 4 int
    """
    ny, nx = shape[-2], shape[-1]
    if 2 * border >= min(nx, ny):
        raise ValueError(f"a {border}-pixel border leaves no science pixel in {ny}x{nx}")
    return (border, nx - border, border, ny - border)


def region_slices(shape, region) -> tuple[slice, slice]:
    """Row and column slices of a region, checked against the frame.

    Parameters
    ----------
    shape : tuple of int
        Array shape; the last two axes are (ny, nx).
    region : tuple of 4 int or None
        ``(x1, x2, y1, y2)``, 0-based half-open; None for the whole frame.

    Returns
    -------
    tuple of slice
        ``(rows, columns)``.

    Raises
    ------
    ValueError
        If the region is malformed or reaches outside the frame.
    """
    ny, nx = shape[-2], shape[-1]
    region = _check_region(region)
    if region is None:
        return slice(0, ny), slice(0, nx)
    x1, x2, y1, y2 = region
    _require(x2 <= nx and y2 <= ny, "region", f"inside the {ny}x{nx} frame (x2 <= {nx}, "
             f"y2 <= {ny})", region)
    return slice(y1, y2), slice(x1, x2)


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class RegionStatistics:
    """Statistics of the pixels of one image that survive masking and clipping.

    Attributes
    ----------
    npix : int
        Number of pixels used (after clipping); 0 leaves every value NaN.
    midpt : float
        Median estimated from a histogram by linear interpolation in the bin holding the
        middle value (IRAF ``imstatistics`` midpt). Quantized values (whole or half DN) get
        bins centred on the quanta, so midpt is not stuck to them as the median is.
    mean, median, stddev, min, max : float
        Of the pixels used (``stddev`` with ``ddof=1``).
    mode : float
        Peak of the histogram (bins of ``binwidth`` standard deviations), refined by a
        parabola through the peak bin and its neighbours.
    """

    npix: int
    midpt: float = np.nan
    mean: float = np.nan
    median: float = np.nan
    mode: float = np.nan
    stddev: float = np.nan
    min: float = np.nan
    max: float = np.nan


def _regular_sample(values: np.ndarray) -> np.ndarray:
    """Every k-th value, k chosen so that at most :data:`_SAMPLE` values remain (a view)."""
    return values[::-(-values.size // _SAMPLE)]


def _robust_sigma(values: np.ndarray, centre) -> float:
    """1.4826 x the median absolute deviation from ``centre`` (the plain std where that is 0)."""
    spread = _MAD_TO_SIGMA * float(np.median(np.abs(values - centre)))
    return spread if spread > 0 else float(values.std())


def clipped_values(values, sigma: float = 3.0, iterations: int = 5) -> np.ndarray:
    """Iteratively clip values about their median at ``sigma`` robust standard deviations.

    The standard deviation is estimated as 1.4826 times the median absolute deviation (the
    plain standard deviation where that is 0), so that bright sources covering a large part
    of the region (a grism spectrum, a spatial scan) cannot inflate it and escape the clip.
    The passes stop when one rejects at most 1 value in 1,000 (normal noise alone keeps
    losing a few tail values to a MAD-based clip; the sources go in the first pass). The
    centre and scale of a pass come from at most 65,536 evenly spread values.

    Parameters
    ----------
    values : array_like
        Values of any shape (flattened); non-finite values are dropped first. Not modified.
    sigma : float, optional
        Clip level; 0 disables clipping.
    iterations : int, optional
        Largest number of passes.

    Returns
    -------
    ndarray
        The values kept (a new float32 array for float32 input, else float64).
    """
    kept = np.asarray(values).ravel()
    kept = kept.astype(np.float32 if kept.dtype == np.float32 else np.float64, copy=False)
    kept = kept[np.isfinite(kept)]
    if sigma <= 0:
        return kept
    for _ in range(int(iterations)):
        if kept.size < 3:
            break
        sample = _regular_sample(kept)
        centre = np.median(sample)
        inside = np.abs(kept - centre) <= sigma * _robust_sigma(sample, centre)
        rejected = kept.size - np.count_nonzero(inside)
        kept = kept[inside]
        if rejected <= _CONVERGED * (kept.size + rejected):
            break
    return kept


def _lattice_step(values: np.ndarray) -> float | None:
    """1 or 0.5 if every value is a multiple of it (raw DN and their medians), else None."""
    doubled = 2.0 * values
    if not np.all(doubled == np.round(doubled)):
        return None
    return 1.0 if np.all(values == np.round(values)) else 0.5


def _histogram(values: np.ndarray, width: float):
    """Counts and edges of a histogram of ``values`` with bins of about ``width``.

    Quantized values (whole or half DN) get bins that are a whole number of quanta wide and
    centred on them, so that interpolating inside a bin does not alias with the quantization.
    """
    low, high = float(values.min()), float(values.max())
    step = _lattice_step(values)
    if step is not None:
        width = step * max(1.0, np.round(width / step))
        low, high = low - 0.5 * step, high + 0.5 * step
        nbins = int(np.ceil((high - low) / width - 1e-9))
        if nbins <= _MAX_BINS:
            return np.histogram(values, bins=nbins, range=(low, low + nbins * width))
    nbins = int(np.clip(np.ceil((high - low) / width), 1, _MAX_BINS))
    return np.histogram(values, bins=nbins, range=(low, high))


def _histogram_midpt(counts: np.ndarray, edges: np.ndarray) -> float:
    """Median by linear interpolation inside the bin that holds the middle value."""
    cumulative = np.cumsum(counts)
    half = cumulative[-1] / 2.0
    k = int(np.searchsorted(cumulative, half))
    before = cumulative[k - 1] if k > 0 else 0
    fraction = (half - before) / counts[k] if counts[k] else 0.5
    return float(edges[k] + fraction * (edges[k + 1] - edges[k]))


def _histogram_mode(counts: np.ndarray, edges: np.ndarray) -> float:
    """Centre of the fullest bin, refined by a parabola through it and its neighbours."""
    k = int(np.argmax(counts))
    step = edges[1] - edges[0]
    centre = edges[k] + 0.5 * step
    if 0 < k < counts.size - 1:
        left, peak, right = (float(c) for c in counts[k - 1:k + 2])
        curvature = left - 2.0 * peak + right
        if curvature < 0:
            centre += 0.5 * (left - right) / curvature * step
    return float(centre)


def region_statistics(image, mask=None, *, clip_sigma: float = 3.0, clip_iterations: int = 5,
                      binwidth: float = 0.1) -> RegionStatistics:
    """Statistics of the unmasked pixels of an image (or any array), after clipping.

    Parameters
    ----------
    image : array_like
        Values; not modified.
    mask : array_like of bool, optional
        True where a pixel is excluded; same shape as ``image``.
    clip_sigma, clip_iterations : float, int, optional
        See :func:`clipped_values`.
    binwidth : float, optional
        Histogram bin width for ``midpt`` and ``mode``, in standard deviations.

    Returns
    -------
    RegionStatistics
    """
    values = np.asarray(image)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != values.shape:
            raise ValueError(f"mask has shape {mask.shape}, image {values.shape}")
        values = values[~mask]
    kept = clipped_values(values, clip_sigma, clip_iterations)
    if kept.size == 0:
        return RegionStatistics(npix=0)
    stddev = float(kept.std(ddof=1, dtype=np.float64)) if kept.size > 1 else 0.0
    median = float(np.median(kept))
    if stddev > 0:
        counts, edges = _histogram(kept, binwidth * stddev)
        midpt, mode = _histogram_midpt(counts, edges), _histogram_mode(counts, edges)
    else:
        midpt = mode = median
    return RegionStatistics(npix=int(kept.size), midpt=midpt,
                            mean=float(kept.mean(dtype=np.float64)),
                            median=median, mode=mode, stddev=stddev, min=float(kept.min()),
                            max=float(kept.max()))


@dataclass(frozen=True)
class ReadStatistics:
    """Per-read statistics of a region (time order).

    Attributes
    ----------
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read.
    units : {"counts", "rate"}
        Units of the statistics (counts, or counts per second of each read's time).
    npix : ndarray int [ngroups]
        Pixels used in each read.
    midpt, mean, median, mode, stddev, min, max : ndarray float64 [ngroups]
        NaN where undefined (no pixel, or a rate at time 0).
    """

    times: np.ndarray
    units: str
    npix: np.ndarray
    midpt: np.ndarray
    mean: np.ndarray
    median: np.ndarray
    mode: np.ndarray
    stddev: np.ndarray
    min: np.ndarray
    max: np.ndarray

    def rows(self):
        """One dict per read: ``read``, ``time``, ``npix`` and every statistic."""
        return [{"read": k, "time": float(self.times[k]), "npix": int(self.npix[k]),
                 **{name: float(getattr(self, name)[k]) for name in STATISTICS}}
                for k in range(self.times.size)]


def _exclusion_mask(dq, dq_mask: int, shape) -> np.ndarray | None:
    """True for pixels with a ``dq_mask`` bit in any read (dq 2-D or 3-D)."""
    if dq is None or dq_mask == 0:
        return None
    dq = np.asarray(dq)
    combined = np.bitwise_or.reduce(dq, axis=0) if dq.ndim == 3 else dq
    if combined.shape != tuple(shape):
        raise ValueError(f"dq has frame shape {combined.shape}, data {tuple(shape)}")
    return (combined & dq_mask) != 0


def read_statistics(data, times, *, in_rates: bool = False, units: str = "counts", dq=None,
                    params: SkyParameters = SkyParameters()) -> ReadStatistics:
    """Statistics of a region of every read, as counts or as rates.

    Parameters
    ----------
    data : array_like [ngroups, ny, nx]
        Reads in time order; not modified.
    times : array_like [ngroups]
        Seconds since the zeroth read.
    in_rates : bool, optional
        True if ``data`` are rates (counts / time), False if counts.
    units : {"counts", "rate"}, optional
        Units of the result. Statistics are computed on the data as given and scaled by each
        read's time (every statistic scales exactly); a rate at time 0 is NaN.
    dq : array_like [ngroups, ny, nx] or [ny, nx], optional
        Pixels with a ``params.dq_mask`` bit in any read are left out of every read.
    params : SkyParameters, optional
        Region, clipping, mask and histogram bin width (``statistic`` is not used here).

    Returns
    -------
    ReadStatistics
    """
    data = np.asarray(data)
    times = np.asarray(times, dtype=np.float64)
    if data.ndim != 3 or times.shape != data.shape[:1]:
        raise ValueError(f"data {data.shape} and times {times.shape} must be [ngroups, ny, nx] "
                         "and [ngroups]")
    _require(units in ("counts", "rate"), "units", "'counts' or 'rate'", units)
    rows, cols = region_slices(data.shape, params.region)
    mask = _exclusion_mask(dq, params.dq_mask, data.shape[1:])
    mask = None if mask is None else mask[rows, cols]
    table = {name: np.full(times.size, np.nan) for name in STATISTICS}
    npix = np.zeros(times.size, dtype=np.int64)
    for k in range(times.size):
        st = region_statistics(data[k, rows, cols], mask, clip_sigma=params.clip_sigma,
                               clip_iterations=params.clip_iterations, binwidth=params.binwidth)
        npix[k] = st.npix
        for name in STATISTICS:
            table[name][k] = getattr(st, name)
    scale = np.ones(times.size)
    with np.errstate(divide="ignore"):
        if in_rates and units == "counts":
            scale = times.copy()
        elif not in_rates and units == "rate":
            scale = np.where(times > 0, 1.0 / np.where(times > 0, times, 1.0), np.nan)
    return ReadStatistics(times=times, units=units, npix=npix,
                          **{name: table[name] * scale for name in STATISTICS})


def signal_since_zeroth_read(data, times, *, in_rates: bool, zero_subtracted: bool,
                             border: int = REFERENCE_BORDER) -> np.ndarray:
    """Counts accumulated since the zeroth read, from raw reads or a calibrated ramp.

    Parameters
    ----------
    data : array_like [ngroups, ny, nx]
        Reads in time order; not modified.
    times : array_like [ngroups]
        Seconds since the zeroth read.
    in_rates : bool
        True if ``data`` are rates (UNITCORR done): they are multiplied by the read times.
    zero_subtracted : bool
        True if the zeroth read was already subtracted (ZOFFCORR done). Otherwise (a raw
        file) the zeroth read is subtracted here, and so is the drift of the bias between
        reads: the median change of the reference-pixel columns 1..4 and nx-5..nx-2 of the
        rows inside the ``border``.
    border : int, optional
        Reference-pixel border width (0: no reference pixels, no drift correction).

    Returns
    -------
    ndarray float32 [ngroups, ny, nx]
        A new array; read 0 is 0.
    """
    if in_rates or zero_subtracted:
        return accumulated_counts(data, times, in_rates=in_rates)
    data = np.asarray(data)
    counts = np.subtract(data, data[0], dtype=np.float32)
    nx = data.shape[-1]
    if border >= 5 and nx > 2 * border:
        values = reference_pixel_values(counts, trim=(border,) * 4, biassect_a=(1, 4),
                                        biassect_b=(nx - 5, nx - 2))
        counts -= np.median(values, axis=-1).astype(np.float32)[:, None, None]
    counts[0] = 0.0
    return counts


def reference_offset_noise(data, border: int = REFERENCE_BORDER) -> float:
    """Standard error of the bias level of one read, as the reference pixels give it.

    The bias of every read is taken from the reference-pixel columns (calwf3 BLEVCORR, or
    :func:`signal_since_zeroth_read` for a raw file), so the sky of every read carries an
    error common to all its pixels: the noise of one reference pixel over the square root of
    their number. The noise of one pixel is the robust standard deviation of the read-to-read
    differences of the reference columns 1..4 and nx-5..nx-2 (rows inside the border) over
    sqrt(2); the result is multiplied by sqrt(pi/2), the efficiency of a median.

    Parameters
    ----------
    data : array_like [ngroups, ny, nx]
        Reads in time order with their reference border (raw DN, or a calibrated ramp whose
        border is in counts as UNITCORR leaves it); not modified.
    border : int, optional
        Reference-pixel border width; below 5 (no reference columns) the result is 0.

    Returns
    -------
    float
        Counts; 0 without reference pixels or with fewer than two reads.
    """
    data = np.asarray(data)
    nx = data.shape[-1]
    if border < 5 or nx <= 2 * border or data.shape[0] < 2:
        return 0.0
    values = reference_pixel_values(data, trim=(border,) * 4, biassect_a=(1, 4),
                                    biassect_b=(nx - 5, nx - 2)).astype(np.float64)
    steps = np.diff(values, axis=0).ravel()
    steps = steps[np.isfinite(steps)]
    if steps.size < 2:
        return 0.0
    single = _robust_sigma(steps, np.median(steps)) / np.sqrt(2.0)
    return float(_MEDIAN_EFFICIENCY * single / np.sqrt(values.shape[-1]))


# --------------------------------------------------------------------------- sky and detection
@dataclass(frozen=True)
class SkyLevels:
    """The sky of every read of a ramp.

    Attributes
    ----------
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read.
    sky : ndarray float64 [ngroups]
        Sky accumulated since the zeroth read, counts (the chosen statistic of the region).
    noise : ndarray float64 [ngroups]
        Standard error of the sky collected in the interval ending at each read, counts:
        ``sqrt(pi/2)`` times the robust standard deviation (1.4826 MAD) of the difference of
        the read and the one before, over the square root of the number of pixels; NaN for
        read 0 (the deviation is measured on at most 65,536 evenly spread pixels). Per-read
        bias residuals common to all pixels are not in it.
    npix : ndarray int [ngroups]
        Pixels used for each read.
    statistics : ReadStatistics
        Every statistic of every read, in counts.
    """

    times: np.ndarray
    sky: np.ndarray
    noise: np.ndarray
    npix: np.ndarray
    statistics: ReadStatistics


def sky_levels(counts, times, *, dq=None, params: SkyParameters = SkyParameters()) -> SkyLevels:
    """Measure the sky of every read and the noise of each read-to-read increment.

    Parameters
    ----------
    counts : array_like [ngroups, ny, nx]
        Counts since the zeroth read (:func:`signal_since_zeroth_read`); not modified.
    times : array_like [ngroups]
        Seconds since the zeroth read.
    dq : array_like, optional
        DQ of the reads (see :func:`read_statistics`).
    params : SkyParameters, optional

    Returns
    -------
    SkyLevels
    """
    counts = np.asarray(counts)
    stats = read_statistics(counts, times, in_rates=False, units="counts", dq=dq, params=params)
    rows, cols = region_slices(counts.shape, params.region)
    mask = _exclusion_mask(dq, params.dq_mask, counts.shape[1:])
    mask = None if mask is None else mask[rows, cols]
    noise = np.full(stats.times.size, np.nan)
    for k in range(1, stats.times.size):
        step = np.subtract(counts[k, rows, cols], counts[k - 1, rows, cols], dtype=np.float32)
        step = step[np.isfinite(step) if mask is None else ~mask & np.isfinite(step)]
        if step.size > 1:
            sample = _regular_sample(step)
            sigma = _robust_sigma(sample, np.median(sample))
            noise[k] = _MEDIAN_EFFICIENCY * sigma / np.sqrt(step.size)
    return SkyLevels(times=stats.times, sky=getattr(stats, params.statistic), noise=noise,
                     npix=stats.npix, statistics=stats)


@dataclass(frozen=True)
class TVBDetection:
    """How far the sky of an exposure departs from a constant rate, and where.

    Attributes
    ----------
    metric : float
        ``max_i |D_i| / (R T)`` with ``D_i = S_i - R t_i``: the largest departure of the
        accumulated sky ``S_i`` from the constant-rate line, as a fraction of the exposure's
        sky ``R T`` (``T`` the last read's time). NaN when the sky rate ``R`` is not positive.
    significance : float
        ``|D_i| / sigma(D_i)`` at the read where ``|D_i|`` is largest.
    threshold : float
        The detection threshold used.
    affected : bool
        Some read departs by more than ``threshold`` (as a fraction of ``R T``) *and* by more
        than ``nsigma`` standard errors: noise alone (a short exposure with little sky) is
        never reported as a time-variable background.
    sky_rate : float
        ``R = S_last / T``, the exposure's mean sky rate (counts/s): what a flattened ramp
        keeps.
    quiet_rate : float
        The quiet sky rate: among the intervals precise enough to show an excess of
        ``read_threshold`` at ``nsigma`` (standard error at most
        ``read_threshold * R / nsigma``), the rate with the lowest upper bound (rate + 1
        sigma). NaN when no interval is that precise.
    deviation : ndarray [ngroups]
        ``D_i / (R T)`` for every read (0 for read 0 and the last read).
    deviation_error : ndarray [ngroups]
        Standard error of ``deviation`` from the sky noise.
    interval_rate, interval_error : ndarray [ngroups]
        Sky rate in the interval ending at each read and its standard error (NaN for read 0).
    excess : ndarray [ngroups]
        ``(interval_rate - quiet_rate) / R`` (NaN for read 0).
    measurable : ndarray of bool [ngroups]
        Intervals precise enough to show an excess of ``read_threshold`` at ``nsigma``
        (standard error at most ``read_threshold * R / nsigma``).
    affected_reads : ndarray of bool [ngroups]
        Reads whose interval has extra background: excess above ``read_threshold`` and above
        ``nsigma`` standard errors. Intervals too short or too noisy to show an excess of
        ``read_threshold`` at ``nsigma`` (such as the 0.1 to 3 s between the zeroth and the
        first read) are never reported: their error leaves out per-read bias residuals.
    times : ndarray [ngroups]
    sky : ndarray [ngroups]
        ``S_i``, counts.
    parameters : DetectionParameters
    """

    metric: float
    significance: float
    threshold: float
    affected: bool
    sky_rate: float
    quiet_rate: float
    deviation: np.ndarray
    deviation_error: np.ndarray
    interval_rate: np.ndarray
    interval_error: np.ndarray
    excess: np.ndarray
    measurable: np.ndarray
    affected_reads: np.ndarray
    times: np.ndarray
    sky: np.ndarray
    parameters: DetectionParameters = field(default_factory=DetectionParameters)

    @property
    def affected_read_indices(self) -> list[int]:
        """Indices (time order, 0 = zeroth read, as SAMPNUM) of the affected reads."""
        return [int(k) for k in np.flatnonzero(self.affected_reads)]


def _deviation_variance(times: np.ndarray, noise: np.ndarray, offset: float) -> np.ndarray:
    """Variance of ``D_i = S_i - (t_i / T) S_last``.

    From independent increment noises ``noise`` (a random walk) and an independent error
    ``offset`` on the level of every read (read 0 included, which every ``S_i`` is measured
    from).
    """
    variance = noise**2
    variance[0] = 0.0
    before = np.cumsum(variance)
    after = before[-1] - before
    fraction = (times - times[0]) / (times[-1] - times[0])
    walk = (1.0 - fraction) ** 2 * before + fraction**2 * after
    levels = offset**2 * (1.0 + fraction**2 + (1.0 - fraction) ** 2)
    levels[0] = levels[-1] = 0.0
    return walk + levels


def _precise(rate, error, mean_rate, params) -> np.ndarray:
    """Intervals whose error lets an excess of ``read_threshold`` show at ``nsigma``."""
    limit = params.read_threshold * mean_rate / params.nsigma if params.nsigma > 0 else np.inf
    return np.isfinite(rate) & (error <= limit)


def detect_tvb(times, sky, noise=None, params: DetectionParameters = DetectionParameters(),
               *, offset: float = 0.0) -> TVBDetection:
    """Measure how far the accumulated sky departs from a constant rate.

    Parameters
    ----------
    times : array_like [ngroups]
        Seconds since the zeroth read (at least 2 reads, strictly increasing).
    sky : array_like [ngroups]
        Sky accumulated since the zeroth read, counts (``SkyLevels.sky``).
    noise : array_like [ngroups], optional
        Standard error of each read-to-read sky increment, counts (``SkyLevels.noise``);
        None or NaN counts as 0.
    params : DetectionParameters, optional
    offset : float, optional
        Standard error of the level of every read, common to all its pixels, counts
        (:func:`reference_offset_noise`).

    Returns
    -------
    TVBDetection
    """
    times = np.asarray(times, dtype=np.float64)
    sky = np.asarray(sky, dtype=np.float64)
    if times.ndim != 1 or times.size < 2 or sky.shape != times.shape:
        raise ValueError(f"times {times.shape} and sky {sky.shape} must be equal 1-D arrays of "
                         "at least 2 reads")
    if not np.all(np.diff(times) > 0) or not np.all(np.isfinite(sky)):
        raise ValueError("times must be strictly increasing and the sky finite")
    noise = np.zeros_like(sky) if noise is None else np.nan_to_num(
        np.asarray(noise, dtype=np.float64), nan=0.0)
    elapsed = times - times[0]
    accumulated = sky - sky[0]
    total = elapsed[-1]
    rate = float(accumulated[-1] / total)
    nan = np.full(times.size, np.nan)
    interval_rate, interval_error = nan.copy(), nan.copy()
    interval_rate[1:] = np.diff(accumulated) / np.diff(elapsed)
    interval_error[1:] = np.sqrt(noise[1:] ** 2 + 2.0 * offset**2) / np.diff(elapsed)
    common = {"threshold": params.threshold, "sky_rate": rate, "interval_rate": interval_rate,
              "interval_error": interval_error, "times": times, "sky": sky,
              "parameters": params}
    if not rate > 0:
        log.debug("sky rate %.4g is not positive: no TVB metric", rate)
        return TVBDetection(metric=np.nan, significance=np.nan, affected=False,
                            quiet_rate=np.nan, deviation=nan.copy(),
                            deviation_error=nan.copy(), excess=nan.copy(),
                            measurable=np.zeros(times.size, bool),
                            affected_reads=np.zeros(times.size, bool), **common)
    scale = rate * total
    deviation = (accumulated - rate * elapsed) / scale
    deviation_error = np.sqrt(_deviation_variance(elapsed, noise, float(offset))) / scale
    size = np.abs(deviation)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigmas = np.where(deviation_error > 0, size / deviation_error, np.inf)
    sigmas[size == 0] = 0.0
    departs = (size > params.threshold) & (sigmas > params.nsigma)
    worst = int(np.argmax(size))
    measurable = _precise(interval_rate, interval_error, rate, params)
    if measurable.any():
        quiet = int(np.argmin(np.where(measurable, interval_rate + interval_error, np.inf)))
        quiet_rate = float(interval_rate[quiet])
        excess = (interval_rate - quiet_rate) / rate
        needed = np.hypot(interval_error, interval_error[quiet]) * params.nsigma / rate
        affected_reads = measurable & (excess > params.read_threshold) & (excess > needed)
    else:
        quiet_rate, excess = np.nan, nan.copy()
        affected_reads = np.zeros(times.size, bool)
    return TVBDetection(metric=float(size.max()), significance=float(sigmas[worst]),
                        affected=bool(departs.any()), quiet_rate=quiet_rate,
                        deviation=deviation, deviation_error=deviation_error, excess=excess,
                        measurable=measurable, affected_reads=affected_reads, **common)


# --------------------------------------------------------------------------- remedies
@dataclass(frozen=True)
class FlattenedRamp:
    """Result of :func:`flatten_ramp`.

    Attributes
    ----------
    data : ndarray float32 [ngroups, ny, nx]
        The flattened reads, in the units of the input.
    correction : ndarray float64 [ngroups]
        Counts subtracted from each read: ``S_i - R t_i``.
    sky_rate : float
        ``R``, the whole-exposure sky rate kept, counts/s.
    """

    data: np.ndarray
    correction: np.ndarray
    sky_rate: float


def flatten_ramp(data, times, sky, *, in_rates: bool, region=None) -> FlattenedRamp:
    """Replace the sky of every read by the whole-exposure sky rate times the read's time.

    Each read loses its measured sky ``S_i`` (counts since the zeroth read) and gains
    ``R t_i`` with ``R = S_last / t_last``: the sky then accumulates at a constant rate, the
    rate the exposure collected on average, and sources are untouched.

    Parameters
    ----------
    data : array_like [ngroups, ny, nx]
        Reads in time order (counts since the zeroth read, or rates); not modified.
    times : array_like [ngroups]
        Seconds since the zeroth read.
    sky : array_like [ngroups]
        Sky accumulated since the zeroth read, counts (``SkyLevels.sky``).
    in_rates : bool
        True if ``data`` are rates: read ``i`` then changes by ``-(S_i - R t_i) / t_i``.
        Read 0 is never changed.
    region : tuple of 4 int, optional
        Where to apply the correction (the science area; the reference border, which holds
        no sky, is left alone); None for the whole frame.

    Returns
    -------
    FlattenedRamp
    """
    data = np.asarray(data)
    times = np.asarray(times, dtype=np.float64)
    sky = np.asarray(sky, dtype=np.float64)
    if data.ndim != 3 or times.shape != data.shape[:1] or sky.shape != times.shape:
        raise ValueError(f"data {data.shape}, times {times.shape} and sky {sky.shape} must be "
                         "[ngroups, ny, nx], [ngroups], [ngroups]")
    if times.size < 2 or not np.all(np.diff(times) > 0) or not np.all(np.isfinite(sky)):
        raise ValueError("flatten_ramp needs >= 2 reads, increasing times and a finite sky")
    elapsed = times - times[0]
    accumulated = sky - sky[0]
    rate = float(accumulated[-1] / elapsed[-1])
    correction = accumulated - rate * elapsed
    correction[0] = 0.0
    per_read = correction.copy()
    if in_rates:
        per_read[1:] /= elapsed[1:]
    rows, cols = region_slices(data.shape, region)
    out = np.array(data, dtype=np.float32, copy=True)
    out[:, rows, cols] -= per_read.astype(np.float32)[:, None, None]
    return FlattenedRamp(data=out, correction=correction, sky_rate=rate)


def last_minus_first(counts, groupdq, times, gain, read_noise, pixeldq=None) -> RampFitResult:
    """Rate from the first and last usable reads: ``(C_last - C_first) / (t_last - t_first)``.

    What calwf3 gives with CRCORR=OMIT: immune to a time-variable background, but cosmic rays
    stay in (``CR_RAMP`` flags are ignored). Saturated and DO_NOT_USE reads are not used, so a
    saturating pixel takes its last read before saturation.

    Parameters
    ----------
    counts : array_like float [ngroups, ny, nx]
        Counts since the zeroth read (DN), time order; not modified.
    groupdq : array_like uint16 [ngroups, ny, nx]
        Per-read DQ.
    times : array_like [ngroups]
        Seconds since the zeroth read.
    gain : float or array_like [ny, nx]
        Gain, e-/DN (for the Poisson variance).
    read_noise : float or array_like [ny, nx]
        Read noise of one read, DN.
    pixeldq : array_like uint16 [ny, nx], optional
        OR-ed into the output DQ; DO_NOT_USE bits exclude the pixel.

    Returns
    -------
    RampFitResult
        ``rate`` DN/s (NaN with ``NO_SLOPE`` where fewer than two usable reads),
        ``var_rnoise = 2 RN^2 / dt^2``, ``var_poisson = max(rate, 0) / (gain dt)``,
        ``samp`` 2 (the reads used), ``time`` ``dt``, DQ collapsed by calwf3's flt rules.
    """
    inputs = ramp_inputs(counts, groupdq, times, gain, read_noise)
    ngroups, ny, nx = inputs.shape
    valid = pixel_valid(inputs.gain, inputs.read_noise)
    pixeldq = checked_pixeldq(pixeldq, (ny, nx))
    if pixeldq is not None:
        valid &= (pixeldq & DO_NOT_USE) == 0
    usable = usable_reads(inputs.data, inputs.groupdq, valid)
    any_usable = usable.any(axis=0)
    first = np.argmax(usable, axis=0)
    last = ngroups - 1 - np.argmax(usable[::-1], axis=0)
    ok = any_usable & (last > first)
    rows, cols = np.indices((ny, nx))
    span = (inputs.times[last] - inputs.times[first]).astype(np.float64)
    span = np.where(ok, span, 1.0)
    difference = (inputs.data[last, rows, cols].astype(np.float64)
                  - inputs.data[first, rows, cols].astype(np.float64))
    rate = np.where(ok, difference / span, np.nan)
    var_rnoise = np.where(ok, 2.0 * inputs.read_noise.astype(np.float64) ** 2 / span**2, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_poisson = np.where(ok, np.maximum(rate, 0.0) / (inputs.gain * span), np.nan)
    dq = collapse_dq(inputs.groupdq.reshape(ngroups, -1),
                     None if pixeldq is None else pixeldq.reshape(-1),
                     ~ok.reshape(-1)).reshape(ny, nx)
    log.debug("last-minus-first: %d of %d pixels without a rate", np.count_nonzero(~ok), ok.size)
    return RampFitResult(
        rate=rate.astype(np.float32),
        err=np.sqrt(var_poisson + var_rnoise).astype(np.float32),
        var_poisson=var_poisson.astype(np.float32),
        var_rnoise=var_rnoise.astype(np.float32),
        dq=dq,
        samp=np.where(ok, 2, 0).astype(np.int16),
        time=np.where(ok, span, 0.0).astype(np.float32),
    )
