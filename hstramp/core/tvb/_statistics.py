"""Per-read statistics of a region of WFC3/IR reads (what wfc3tools ``pstat`` shows).

Clipped values, the statistics of one image (:func:`region_statistics`), of every read
(:func:`read_statistics`, on :func:`signal_since_zeroth_read` of raw or ima reads) and the
read-to-read noise of the reference pixels (:func:`reference_offset_noise`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.blev import reference_pixel_values
from hstramp.core.geometry import REFERENCE_BORDER
from hstramp.core.tvb._checks import check_region, require
from hstramp.core.tvb._parameters import SkyParameters
from hstramp.core.units import accumulated_counts

#: the statistics :func:`region_statistics` computes, in report order
STATISTICS = ("midpt", "mean", "median", "mode", "stddev", "min", "max")

#: standard error of a median over that of a mean, for normal noise (sqrt(pi / 2))
MEDIAN_EFFICIENCY = float(np.sqrt(np.pi / 2.0))

#: median absolute deviation -> standard deviation for normal noise
_MAD_TO_SIGMA = 1.482602218505602

#: clipping has converged when a pass rejects at most this fraction of the values
_CONVERGED = 1.0e-3

#: the clipping centre and scale, and the noise of a sky increment, are estimated from at most
#: this many values (a regular subset): plenty for a clip level or a standard error
_SAMPLE = 1 << 16

#: largest number of histogram bins for midpt and mode
_MAX_BINS = 100_000


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
    region = check_region(region)
    if region is None:
        return slice(0, ny), slice(0, nx)
    x1, x2, y1, y2 = region
    require(x2 <= nx and y2 <= ny, "region", f"inside the {ny}x{nx} frame (x2 <= {nx}, "
            f"y2 <= {ny})", region)
    return slice(y1, y2), slice(x1, x2)


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


def regular_sample(values: np.ndarray) -> np.ndarray:
    """Every k-th value, k chosen so that at most :data:`_SAMPLE` values remain (a view)."""
    return values[::-(-values.size // _SAMPLE)]


def robust_sigma(values: np.ndarray, centre) -> float:
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
        sample = regular_sample(kept)
        centre = np.median(sample)
        inside = np.abs(kept - centre) <= sigma * robust_sigma(sample, centre)
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


def exclusion_mask(dq, dq_mask: int, shape) -> np.ndarray | None:
    """True for pixels with a ``dq_mask`` bit in any read (dq 2-D or 3-D)."""
    if dq is None or dq_mask == 0:
        return None
    dq = np.asarray(dq)
    combined = np.bitwise_or.reduce(dq, axis=0) if dq.ndim == 3 else dq
    if combined.shape != tuple(shape):
        raise ValueError(f"dq has frame shape {combined.shape}, data {tuple(shape)}")
    return (combined & dq_mask) != 0


def read_statistics(data, times, *, in_rates: bool = False, units: str = "counts", dq=None,
                    params: SkyParameters = SkyParameters(),  # noqa: B008 (frozen dataclass)
                    ) -> ReadStatistics:
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
    require(units in ("counts", "rate"), "units", "'counts' or 'rate'", units)
    rows, cols = region_slices(data.shape, params.region)
    mask = exclusion_mask(dq, params.dq_mask, data.shape[1:])
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
    single = robust_sigma(steps, np.median(steps)) / np.sqrt(2.0)
    return float(MEDIAN_EFFICIENCY * single / np.sqrt(values.shape[-1]))
