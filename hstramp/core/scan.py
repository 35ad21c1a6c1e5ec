"""Spatial scans: recognise them from the header's SCAN_TYP or, without it, from the ramps.

In a spatial scan the telescope moves during the exposure, so a source (a grism spectrum, a
star) sweeps across the detector. A pixel it passes over collects the source's light in one
read interval (or two), before and after that only sky: its ramp **jumps, then stays flat**.
Neighbouring pixels along the scan are passed over at neighbouring times, so the read of the
jump changes steadily along a stripe of many pixels. Cosmic rays also make single-interval
jumps, but in isolated pixels at random reads; a time-variable sky raises every pixel in the
same intervals; a satellite trail lights a line of pixels all in one interval; a steady
source has no jump at all.

The detector (:func:`detect_scan`) works on those differences:

1. **Bursts.** For every pixel, the signal of each read interval (counts, from the reads
   times ``read_scale``) less what the pixel's mean rate over the exposure would give in that
   interval; saturated reads (and intervals ending on one) take no part. Each interval's
   excesses are centred on their median over the image (a sky common to all pixels drops
   out) and divided by their robust spread over the image (1.4826 MAD, from at most 65,536
   evenly spread pixels). A pixel bursts when its largest excess exceeds ``burst_sigma``
   (10); the interval of that excess is its **burst read** (the read ending it).
2. **Tracks.** Along every column and every row, runs of consecutive burst pixels whose burst
   reads differ by at most one from pixel to pixel. A run of at least ``min_track`` (20)
   pixels whose burst reads span at least two reads is a stretch of a moving source.
3. **Verdict.** A scan when the tracks hold at least ``min_pixels`` (100) pixels.

Cost: one pass over the ramp. The NumPy path (the reference) goes in blocks of rows (each read
converted to counts once; the excesses and ratios of all intervals of one block, float32,
2 x 15 x 64 x 1014 values for a 16-read full frame, 8 MB), then integer work on two
``[ny, nx]`` maps: about 0.12 s on a 16-read full frame. Where the compiled kernel is built
(``hstramp/core/_native/scan.c``, :mod:`hstramp.core.native`) it does the same arithmetic
in one pass per block of a few rows, without the cube-sized temporaries, and takes the
medians' order statistics by radix selection: about 0.02 s, the same detection.

:func:`scan_verdict` puts the header first: SCAN_TYP 'C' (continuous) or 'D' (discrete, with
dwells) is a scan, 'N' is not; only a file without SCAN_TYP (OPUS headers before 2013) is
looked at. Arrays are in time order (read 0 is the zeroth read); nothing here modifies its
inputs. See ``docs/scans.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from hstramp.core import native
from hstramp.core.dqflags import SATURATED
from hstramp.core.geometry import REFERENCE_BORDER

__all__ = [
    "SCAN_TYPES",
    "ScanDetection",
    "ScanParameters",
    "ScanVerdict",
    "detect_scan",
    "scan_verdict",
]

#: SCAN_TYP values of the archive's headers and what they mean
SCAN_TYPES = {"C": "continuous scan", "D": "discrete scan (with dwells)", "N": "no scan"}

#: evenly spread pixels the per-interval spread is measured on, at most
_SAMPLE = 65536

#: robust standard deviation of a normal sample from its median absolute deviation
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class ScanParameters:
    """Thresholds of the scan detector (see the module docstring).

    Attributes
    ----------
    burst_sigma : float
        A pixel bursts when one interval's excess over its mean rate exceeds this many robust
        standard deviations of that interval's excesses over the image.
    min_share : float
        ... and when that excess is at least this fraction of all the signal the pixel
        collected (a source passing over, not a steady one bending near saturation).
    min_track : int
        Pixels in a run (along a column or a row) of linked bursts for the run to count.
    min_pixels : int
        Pixels in counted runs for the exposure to be a scan.
    saturated : int
        DQ bits of a read that keep it (and the interval ending on it) out.
    border : int
        Reference border left out on every side (5 for WFC3/IR; 0 for an array without one).
    block_rows : int
        Rows per block of the pass over the ramp (memory only; results do not depend on it).
    """

    burst_sigma: float = 10.0
    min_share: float = 0.3
    min_track: int = 20
    min_pixels: int = 100
    saturated: int = SATURATED
    border: int = REFERENCE_BORDER
    block_rows: int = 64

    def __post_init__(self):
        checks = {"burst_sigma": self.burst_sigma > 0, "min_share": 0 <= self.min_share <= 1,
                  "min_track": self.min_track >= 2,
                  "min_pixels": self.min_pixels >= 1, "saturated": self.saturated >= 0,
                  "border": self.border >= 0, "block_rows": self.block_rows >= 1}
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"ScanParameters.{name} = {getattr(self, name)!r} is out of "
                                 "range")


@dataclass(frozen=True)
class ScanDetection:
    """What the ramps say about a scan.

    Attributes
    ----------
    is_scan : bool
        The tracks hold at least ``min_pixels`` pixels.
    track_pixels : int
        Pixels in runs of linked bursts spanning two reads or more.
    burst_pixels : int
        Pixels with a burst (cosmic rays included).
    first_read, last_read : int
        Burst reads of the track pixels (SAMPNUM, time order); -1 without tracks.
    measured_pixels : int
        Pixels looked at (the array without its border).
    reason : str
        Why the ramps could not tell (too few reads or pixels); empty otherwise.
    """

    is_scan: bool
    track_pixels: int
    burst_pixels: int
    first_read: int
    last_read: int
    measured_pixels: int
    reason: str = ""

    def describe(self) -> str:
        """One line: what was found."""
        if self.reason:
            return f"not measurable from the ramps ({self.reason})"
        if not self.track_pixels:
            return (f"no pixel tracks in the ramps ({self.burst_pixels} pixels with a "
                    "single-interval jump)")
        return (f"{self.track_pixels} pixels along tracks whose jump moves from read "
                f"{self.first_read} to read {self.last_read}")


@dataclass(frozen=True)
class ScanVerdict:
    """Is the exposure a spatial scan, and how do we know.

    Attributes
    ----------
    is_scan : bool
    scan_type : str
        SCAN_TYP as found ('C', 'D', 'N'), or '' when the header has none.
    detection : ScanDetection or None
        The ramps' evidence, when the header did not decide.
    """

    is_scan: bool
    scan_type: str
    detection: ScanDetection | None = None

    def describe(self) -> str:
        """Why this is (or is not) a scan, for a log line."""
        if self.detection is None:
            meaning = SCAN_TYPES.get(self.scan_type, "no scan")
            return f"SCAN_TYP = '{self.scan_type}' ({meaning})"
        verdict = "a spatial scan" if self.is_scan else "no scan"
        return f"no SCAN_TYP; from the ramps: {verdict} ({self.detection.describe()})"


def scan_verdict(scan_type, data, times, *, read_scale=None, groupdq=None,
                 params: ScanParameters = ScanParameters(),
                 ) -> ScanVerdict:
    """Decide whether an exposure is a spatial scan: the header first, else the ramps.

    Parameters
    ----------
    scan_type : str or None
        SCAN_TYP of the primary header: 'C' or 'D' is a scan, 'N' is not (the ramps are not
        looked at); None, '' or another value: :func:`detect_scan` decides.
    data, times, read_scale, groupdq, params
        As :func:`detect_scan`.

    Returns
    -------
    ScanVerdict
    """
    code = str(scan_type or "").strip().upper()
    if code in SCAN_TYPES:
        return ScanVerdict(is_scan=code != "N", scan_type=code)
    detection = detect_scan(data, times, read_scale=read_scale, groupdq=groupdq, params=params)
    return ScanVerdict(is_scan=detection.is_scan, scan_type="", detection=detection)


def detect_scan(data, times, *, read_scale=None, groupdq=None,
                params: ScanParameters = ScanParameters(),
                ) -> ScanDetection:
    """Look for a source sweeping across the detector in the ramps.

    Parameters
    ----------
    data : array_like [ngroups, ny, nx]
        The reads, time order: raw DN, calibrated counts, or rates with ``read_scale``.
    times : array_like [ngroups]
        Seconds since the zeroth read, strictly increasing.
    read_scale : array_like [ngroups], optional
        Factor turning each read into counts (the read times for a ramp in rates,
        :func:`hstramp.core.units.count_scale`); None: the data are counts.
    groupdq : array_like [ngroups, ny, nx], optional
        DQ of the reads; reads with a ``params.saturated`` bit are left out.
    params : ScanParameters, optional

    Returns
    -------
    ScanDetection
    """
    data = np.asarray(data)
    times = np.asarray(times, dtype=np.float64)
    if data.ndim != 3 or times.shape != (data.shape[0],):
        raise ValueError(f"data {data.shape} must be [ngroups, ny, nx] with one time per "
                         f"read, got times {times.shape}")
    if not np.all(np.diff(times) > 0):
        raise ValueError("times must be strictly increasing")
    scale = (np.ones(times.size, np.float32) if read_scale is None
             else np.asarray(read_scale, dtype=np.float32))
    b = params.border
    science = data[:, b:data.shape[1] - b, b:data.shape[2] - b]
    dq = None if groupdq is None else np.asarray(groupdq)[:, b:data.shape[1] - b,
                                                           b:data.shape[2] - b]
    measured = science.shape[1] * science.shape[2]
    reason = _unmeasurable(science.shape, params)
    if reason:
        return ScanDetection(False, 0, 0, -1, -1, measured, reason)
    intervals = np.diff(times).astype(np.float32)
    kernel = _compiled(science, dq, params)
    centre, spread = _interval_spread(science, scale, intervals, dq, params, kernel)
    if kernel is None:
        burst_read = _burst_reads(science, scale, intervals, dq, centre, spread, params)
        track_pixels, burst_pixels, first, last = _tracks(burst_read, params.min_track)
    else:
        burst_read = _compiled_bursts(kernel, science, scale, intervals, dq, centre, spread,
                                      params)
        track_pixels, burst_pixels, first, last = kernel.tracks(burst_read, *burst_read.shape,
                                                                params.min_track)
    return ScanDetection(
        is_scan=track_pixels >= params.min_pixels, track_pixels=track_pixels,
        burst_pixels=burst_pixels, first_read=first, last_read=last, measured_pixels=measured)


def _unmeasurable(shape, params) -> str:
    """Why a ramp of this shape cannot show a scan ('' if it can)."""
    ngroups, ny, nx = shape
    if ngroups < 4:
        return f"{ngroups} reads; at least 4 are needed"
    if max(ny, nx) < params.min_track:
        return f"{ny} x {nx} pixels, fewer than min_track = {params.min_track} in a line"
    return ""


class _Block:
    """The read intervals of a block of rows: their counts and the pixels' mean rate.

    A pixel uses the intervals before its first saturated read (saturation is flagged on
    that read and every later one); its mean rate is the signal collected over them divided
    by their time.
    """

    def __init__(self, science, scale, intervals, dq, rows, saturated):
        self.science, self.scale, self.intervals, self.rows = science, scale, intervals, rows
        ngroups = intervals.size + 1
        if dq is None:
            self.usable = np.full(science[0, rows].shape, ngroups - 1, np.int16)
        else:
            flagged = (dq[:, rows] & saturated) != 0
            first = np.full(flagged.shape[1:], ngroups, np.intp)  # the first flagged read
            for k in range(ngroups - 1, -1, -1):
                np.copyto(first, k, where=flagged[k])
            self.usable = (first - 1).clip(0).astype(np.int16)  # intervals 0 .. usable - 1
        last = np.take_along_axis(science[:, rows], self.usable[None].astype(np.intp), 0)[0]
        self.signal = (last.astype(np.float32) * scale[self.usable]
                       - science[0, rows].astype(np.float32) * scale[0])
        elapsed = _elapsed(intervals)[self.usable]
        self.rate = np.divide(self.signal, elapsed, out=np.zeros_like(elapsed),
                              where=elapsed > 0)
        self._read = (-1, None)  # the last read converted, kept for the next interval

    def counts(self, k) -> np.ndarray:
        """Read ``k`` of the block in counts (float32); intervals in turn reuse their reads."""
        index, counts = self._read
        if index != k:
            counts = np.multiply(self.science[k, self.rows], self.scale[k], dtype=np.float32)
            self._read = (k, counts)
        return counts

    def excess(self, k, out=None) -> np.ndarray:
        """Interval ``k``'s counts less the mean rate's; NaN where the interval is unusable
        (into ``out`` if given)."""
        earlier = self.counts(k)
        value = np.subtract(self.counts(k + 1), earlier, out=out)
        value -= self.rate * self.intervals[k]
        np.copyto(value, np.float32(np.nan), where=self.usable <= k)
        return value


def _elapsed(intervals) -> np.ndarray:
    """Seconds from the zeroth read to each read (float32, the running sum of the
    intervals in float32)."""
    return np.concatenate(([0.0], np.cumsum(intervals))).astype(np.float32)


def _sample_rows(ny: int, nx: int) -> slice:
    """Evenly spread rows, at most ``_SAMPLE`` pixels: those the spreads are measured on."""
    return slice(0, ny, max(1, int(np.ceil(ny * nx / _SAMPLE))))


def _interval_spread(science, scale, intervals, dq, params, kernel=None):
    """Median and robust standard deviation of every interval's excesses over the image.

    The excesses are those of the rows of :func:`_sample_rows`; with the compiled
    ``kernel`` they and the medians are computed there (the same values).
    """
    rows = _sample_rows(*science.shape[1:])
    if kernel is None:
        block = _Block(science, scale, intervals, dq, rows, params.saturated)
        sample = np.empty((intervals.size, *block.signal.shape), np.float32)
        for k in range(intervals.size):
            block.excess(k, out=sample[k])
    else:
        sample = _compiled_excesses(kernel, science, scale, intervals, dq, rows, params)
    centre = np.zeros(intervals.size, np.float32)
    spread = np.full(intervals.size, np.inf, np.float32)
    for k in range(intervals.size):
        if kernel is None:
            centre[k], spread[k] = _robust_spread(sample[k])
        else:
            centre[k], spread[k] = _compiled_robust_spread(kernel, sample[k])
    return centre, spread


def _robust_spread(excess: np.ndarray) -> tuple:
    """Median and robust standard deviation (1.4826 MAD; inf where the MAD is 0) of the
    finite ``excess`` values; 0 and inf without any."""
    values = excess[np.isfinite(excess)]
    if not values.size:
        return 0.0, np.inf
    centre = np.median(values)
    return centre, _sigma(np.median(np.abs(values - centre)))


def _sigma(mad: np.float32) -> np.float32 | float:
    """The robust standard deviation of a median absolute deviation (inf for 0)."""
    return _MAD_TO_SIGMA * mad if mad > 0 else np.inf


def _burst_reads(science, scale, intervals, dq, centre, spread, params) -> np.ndarray:
    """The read ending each pixel's burst interval (int16 ``[ny, nx]``; -1: no burst).

    A pixel's burst interval is its first interval of largest ratio (excess less the
    interval's centre, over its spread); unusable intervals (NaN) are never chosen, and a
    pixel without a usable interval has no burst.
    """
    ny, nx = science.shape[1:]
    burst = np.full((ny, nx), -1, np.int16)
    for start in range(0, ny, params.block_rows):
        rows = slice(start, min(ny, start + params.block_rows))
        block = _Block(science, scale, intervals, dq, rows, params.saturated)
        excess = np.empty((intervals.size, *block.signal.shape), np.float32)
        ratio = np.empty_like(excess)
        for k in range(intervals.size):
            block.excess(k, out=excess[k])
            np.subtract(excess[k], centre[k], out=ratio[k])
            ratio[k] /= spread[k]
        peak = np.fmax.reduce(ratio, axis=0)  # NaN only where no interval is usable
        largest = np.zeros(peak.shape, np.intp)
        for k in range(intervals.size - 1, -1, -1):  # the first of equal ratios
            np.copyto(largest, k, where=ratio[k] == peak)
        share = (np.take_along_axis(excess, largest[None], 0)[0]
                 >= params.min_share * np.abs(block.signal))
        burst[rows] = np.where((peak > params.burst_sigma) & share, largest + 1, -1)
    return burst


def _tracks(burst_read: np.ndarray, min_track: int) -> tuple[int, int, int, int]:
    """Pixels in tracks (runs along rows or columns, :func:`_along_rows`), pixels with a
    burst, and the first and last burst read of the track pixels (-1 without tracks)."""
    tracks = _along_rows(burst_read, min_track) | _along_rows(burst_read.T, min_track).T
    reads = burst_read[tracks]
    if not reads.size:
        return 0, int((burst_read >= 0).sum()), -1, -1
    return reads.size, int((burst_read >= 0).sum()), int(reads.min()), int(reads.max())


def _along_rows(burst_read: np.ndarray, min_track: int) -> np.ndarray:
    """Pixels of runs along each row: linked bursts, ``min_track`` long, two reads or more.

    Two neighbours are linked when both burst and their burst reads differ by at most one.
    """
    ny, nx = burst_read.shape
    reads = burst_read.astype(np.int32)
    link = np.zeros((ny, nx), bool)  # link[:, j]: pixel j and j + 1; the last column stays
    link[:, :-1] = ((reads[:, :-1] >= 0) & (reads[:, 1:] >= 0)  # False and ends every row
                    & (np.abs(np.diff(reads, axis=1)) <= 1))
    edges = np.diff(np.concatenate(([0], link.ravel().view(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # the run's last pixel (one past its last link)
    flat = np.append(reads.ravel(), 0)
    bounds = np.column_stack([starts, ends + 1]).ravel()
    low = np.minimum.reduceat(flat, bounds)[::2] if starts.size else starts
    high = np.maximum.reduceat(flat, bounds)[::2] if starts.size else starts
    keep = (ends - starts + 1 >= min_track) & (high > low)
    marks = np.zeros(ny * nx + 1, np.int32)
    np.add.at(marks, starts[keep], 1)
    np.add.at(marks, ends[keep] + 1, -1)
    return (np.cumsum(marks[:-1]) > 0).reshape(ny, nx)


# ------------------------------------------------------------------ the compiled path

#: item types the compiled kernel reads (NumPy's one-character codes, native byte order)
_KERNEL_DATA = frozenset("fdBbHhIiLlQq")
_KERNEL_DQ = frozenset("BbHhIiLlQq")


def _compiled(science, dq, params) -> ModuleType | None:
    """The compiled scan kernel (``hstramp/core/_native/scan.c``), or None for the NumPy
    path: ``HSTRAMP_KERNELS=numpy``, not built, or arrays it does not read (a float16 or
    byte-swapped ramp, a DQ type that cannot hold ``params.saturated``).

    The kernel computes what the NumPy functions above do, in their float32 operations and
    order, so the detection is the same (``tests/core/test_scan_native.py``).
    """
    kernel = native.kernel("scan")
    if kernel is None or not science.dtype.isnative or science.dtype.char not in _KERNEL_DATA:
        return None
    if dq is not None and not (dq.dtype.isnative and dq.dtype.char in _KERNEL_DQ
                               and params.saturated <= np.iinfo(dq.dtype).max):
        return None
    return kernel


def _ramp_arguments(science, scale, intervals, dq, params) -> tuple:
    """The arguments every kernel function over the ramp starts with."""
    return (science, dq, params.saturated, np.ascontiguousarray(scale, np.float32),
            np.ascontiguousarray(intervals, np.float32), _elapsed(intervals))


def _compiled_excesses(kernel, science, scale, intervals, dq, rows, params) -> np.ndarray:
    """:meth:`_Block.excess` of every interval on ``rows`` (``[nint, nrows, nx]``)."""
    ny, nx = science.shape[1:]
    out = np.empty((intervals.size, len(range(ny)[rows]), nx), np.float32)
    kernel.excesses(*_ramp_arguments(science, scale, intervals, dq, params), rows.step, out)
    return out


def _compiled_robust_spread(kernel, excess: np.ndarray) -> tuple:
    """:func:`_robust_spread` from the kernel's middle order statistics (their mean is
    ``np.median``'s value; a zero's sign aside, which no result depends on)."""
    middle = kernel.middle(excess)
    if not middle:
        return 0.0, np.inf
    centre = _mean(middle)
    return centre, _sigma(_mean(kernel.middle(excess, centre)))


def _mean(middle: tuple) -> np.float32:
    """The median from its middle order statistics, as ``np.median`` takes it (their float32
    mean)."""
    return np.mean(np.array(middle, np.float32), axis=0)


def _compiled_bursts(kernel, science, scale, intervals, dq, centre, spread,
                     params) -> np.ndarray:
    """:func:`_burst_reads` by the kernel (int16 ``[ny, nx]``, C-contiguous)."""
    out = np.empty(science.shape[1:], np.int16)
    kernel.bursts(*_ramp_arguments(science, scale, intervals, dq, params),
                  np.ascontiguousarray(centre, np.float32),
                  np.ascontiguousarray(spread, np.float32),
                  np.float32(params.min_share), np.float32(params.burst_sigma), out)
    return out
