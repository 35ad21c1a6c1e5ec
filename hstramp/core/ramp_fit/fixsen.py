"""Up-the-ramp slope fitting with optimal (Fixsen) weights on the real read times.

Each pixel's ramp is cut into segments (runs of consecutive usable reads; a read
flagged ``CR_RAMP`` starts a new segment). Each segment of two or more reads gets a
weighted least-squares slope with the Fixsen et al. (2000) weights
``|t - t_mid|^P`` evaluated at the real read times, ``P`` set by the segment's
signal-to-noise ratio as in stcal. The segment slopes are combined with weights equal
to their read-noise information, as stcal's OLS_C does. Read-noise and Poisson
variances are the exact variances of the estimator used. On evenly spaced reads the
slopes are stcal's. Everything a segment needs (coefficients, variances) depends only
on its first and last read and on ``P``, so it is tabulated from the times once per
call, for the segments present in the data only (:class:`SegmentCache`): time and
memory grow linearly in reads and in pixels. The derivation is in ``docs/maths.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core import dqflags, native
from hstramp.core.blocks import (
    DO_NOT_USE,
    RampInputs,
    auto_block_rows,
    block_view,
    check_block_rows,
    checked_pixeldq,
    pixel_valid,
    plane_view,
    ramp_inputs,
    row_blocks,
    usable_reads,
)
from hstramp.core.ramp_fit import compiled
from hstramp.core.ramp_fit.result import RampFitResult, RampSegments, collapse_dq

__all__ = ["POWERS", "SNR_EDGES", "RampFitParameters", "fit_ramps"]

log = logging.getLogger(__name__)

#: Fixsen exponents P and the segment S/N at which each starts (stcal's table).
POWERS = (0.0, 0.4, 1.0, 3.0, 6.0, 10.0)
SNR_EDGES = (5.0, 10.0, 20.0, 50.0, 100.0)

_WEIGHTINGS = ("optimal", "unweighted")

#: Fewest pixels in an automatic block (16 reads x 2**14 pixels = 2**18 values, the
#: shared block size): the per-read loops then work on rows of at least this many
#: pixels, so their overhead stays proportional to the data whatever the number of
#: reads; the block's memory grows linearly with the reads beyond 16.
MIN_BLOCK_PIXELS = 1 << 14


@dataclass(frozen=True)
class RampFitParameters:
    """Parameters of :func:`fit_ramps`.

    Attributes
    ----------
    weighting : {"optimal", "unweighted"}
        "optimal": Fixsen weights ``|t - t_mid|^P`` with ``P`` from the segment's
        S/N; "unweighted": ordinary least squares (``P = 0``).
    suppress_one_group : bool
        When True, a ramp without any segment of two or more usable reads gets no
        slope. When False, such a ramp gets ``data / time`` from its first usable read
        if that read comes after the zeroth read and does not follow a jump.
    block_rows : int
        Rows per processing block; 0 chooses a size that bounds the memory. Results
        do not depend on it.
    save_segments : bool
        Also return the per-segment fits (:class:`RampSegments`).
    """

    weighting: str = "optimal"
    suppress_one_group: bool = True
    block_rows: int = 0
    save_segments: bool = False

    def __post_init__(self):
        if self.weighting not in _WEIGHTINGS:
            raise ValueError(f"weighting must be one of {_WEIGHTINGS}, got {self.weighting!r}")
        for name in ("suppress_one_group", "save_segments"):
            value = getattr(self, name)
            if not isinstance(value, bool | np.bool_):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        check_block_rows(self.block_rows)






@dataclass(frozen=True)
class SegmentTables:
    """Everything about a list of segments that depends only on the read times.

    Segment ``j`` runs from read ``first[j]`` to read ``last[j]`` with exponent
    ``POWERS[power_index[j]]``; a segment with ``last <= first`` is "no segment" and
    every entry is 0 there. With ``a_k`` the coefficients of the weighted
    least-squares slope (``slope = sum_k a_k y_k``, 0 outside the segment) and ``W``
    the segment's read-noise information ``sum_k (t_k - mean t)^2`` (its weight in
    the rate):

    Attributes
    ----------
    weighted_coefficients : ndarray float64 [ngroups, nseg]
        ``W a_k``.
    information : ndarray float64 [nseg]
        ``W``.
    weighted_rnoise : ndarray float64 [nseg]
        ``W^2 sum_k a_k^2``: read-noise variance times ``W^2 / RN^2``.
    weighted_poisson : ndarray float64 [nseg]
        ``W^2 sum_m dt_m (sum_{k >= m} a_k)^2``: Poisson variance times
        ``W^2 gain / rate``.
    coefficients : ndarray float64 [ngroups, nseg]
        ``a_k``.
    span : ndarray float64 [nseg]
        ``t_l - t_f``.
    length : ndarray int16 [nseg]
        ``l - f + 1``.
    power : ndarray float32 [nseg]
        ``POWERS[p]``.
    """

    weighted_coefficients: np.ndarray
    information: np.ndarray
    weighted_rnoise: np.ndarray
    weighted_poisson: np.ndarray
    coefficients: np.ndarray
    span: np.ndarray
    length: np.ndarray
    power: np.ndarray


def segment_tables(
    times: np.ndarray, first: np.ndarray, last: np.ndarray, power_index: np.ndarray
) -> SegmentTables:
    """Coefficients and variances of the segments ``first..last`` with ``POWERS[p]``.

    Every segment is computed on its own (row by row), so an entry does not depend
    on which other segments are in the list.

    Parameters
    ----------
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read.
    first, last, power_index : array_like int [nseg]
        First and last read of each segment and the index of its exponent in
        :data:`POWERS`.

    Returns
    -------
    SegmentTables
    """
    first, last, power_index = (
        np.atleast_1d(np.asarray(a, np.intp)) for a in (first, last, power_index)
    )
    reads = np.arange(times.size)
    valid = last > first
    inside = (reads >= first[:, None]) & (reads <= last[:, None]) & valid[:, None]  # [j, k]
    half_span = np.where(valid, (times[last] - times[first]) / 2, 1.0)
    middle = (times[last] + times[first]) / 2
    distance = np.abs(times - middle[:, None]) / half_span[:, None]
    exponent = np.asarray(POWERS)[power_index][:, None]
    weights = np.where(inside, distance**exponent, 0.0)
    tiny = np.finfo(np.float64).tiny
    centre = (weights * times).sum(-1) / np.maximum(weights.sum(-1), tiny)
    offset = np.where(inside, times - centre[:, None], 0.0)
    curvature = np.maximum((weights * offset**2).sum(-1), tiny)
    coefficients = weights * offset / curvature[:, None]
    tail = np.cumsum(coefficients[:, ::-1], axis=-1)[:, ::-1]
    step = np.concatenate([[0.0], np.diff(times)])
    after_first = (reads > first[:, None]) & inside
    poisson = (np.where(after_first, tail, 0.0) ** 2 * step).sum(-1)
    rnoise = (coefficients**2).sum(-1)
    count = inside.sum(-1)
    mean_time = (times * inside).sum(-1) / np.maximum(count, 1)
    information = (np.where(inside, times - mean_time[:, None], 0.0) ** 2).sum(-1)
    return SegmentTables(
        weighted_coefficients=(coefficients * information[:, None]).T,
        information=information,
        weighted_rnoise=information**2 * rnoise,
        weighted_poisson=information**2 * poisson,
        coefficients=coefficients.T,
        span=np.where(valid, times[last] - times[first], 0.0),
        length=np.where(valid, count, 0).astype(np.int16),
        power=np.where(valid, exponent[:, 0], 0.0).astype(np.float32),
    )


class SegmentCache:
    """The :class:`SegmentTables` of the segments met so far in one call.

    Segments get a row the first time they are met (:meth:`rows`); row 0 is "no
    segment" (all zero). Only the segments present in the data are tabulated, each
    once, in chunks of bounded size, so the work is at most ``ngroups`` values per
    distinct segment, not per possible one. A segment's row does not depend on
    which segments came before it. The map from segment to row holds
    ``6 ngroups^2`` int32 (6 kB for 16 reads, 240 kB for 100).

    Parameters
    ----------
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read.
    """

    #: Most segments tabulated at once is this over ``ngroups``.
    _CHUNK_ELEMENTS = 1 << 16

    def __init__(self, times: np.ndarray):
        self.times = times
        self._row_of_key = np.zeros(times.size**2 * len(POWERS), np.int32)
        self._count = 1
        self._store = segment_tables(times, [0], [0], [0])

    @property
    def ngroups(self) -> int:
        """Number of reads."""
        return self.times.size

    @property
    def tables(self) -> SegmentTables:
        """Tables of the rows built so far (views)."""
        return SegmentTables(
            **{name: value[..., : self._count] for name, value in vars(self._store).items()}
        )

    @property
    def storage(self) -> SegmentTables:
        """The tables with their spare capacity: arrays of ``capacity`` columns (the rows
        built so far and zeros), C-contiguous; replaced when the cache grows."""
        return self._store

    @property
    def row_of_key(self) -> np.ndarray:
        """Row of each segment key (:meth:`key`), 0 where not built yet: int32
        ``[ngroups^2 len(POWERS)]``, updated in place as rows are built."""
        return self._row_of_key

    def tabulate(self, keys: np.ndarray) -> None:
        """Build the rows of the segments numbered ``keys`` (:meth:`key`) not built yet.

        Parameters
        ----------
        keys : ndarray int
        """
        keys = np.asarray(keys, np.intp)
        new = np.unique(keys[self._row_of_key.take(keys) == 0])
        if new.size:
            self._add(new)

    def key(self, first: np.ndarray, last: np.ndarray, power_index: np.ndarray) -> np.ndarray:
        """Number of the segment ``first..last`` with ``POWERS[power_index]``."""
        return (np.asarray(first, np.intp) * self.ngroups + last) * len(POWERS) + power_index

    def rows(self, first: np.ndarray, last: np.ndarray, power_index: np.ndarray) -> np.ndarray:
        """Rows of the segments ``first..last`` (``last > first``), built if new.

        Parameters
        ----------
        first, last, power_index : ndarray int [nseg]

        Returns
        -------
        ndarray int32 [nseg]
        """
        key = self.key(first, last, power_index)
        row = self._row_of_key.take(key)
        new = np.unique(key[row == 0])
        if new.size:
            self._add(new)
            row = self._row_of_key.take(key)
        return row

    def _add(self, keys: np.ndarray) -> None:
        """Tabulate the segments ``keys`` and give them the next rows."""
        pair, power_index = np.divmod(keys, len(POWERS))
        first, last = np.divmod(pair, self.ngroups)
        chunk = max(1, self._CHUNK_ELEMENTS // self.ngroups)
        parts = [
            segment_tables(self.times, *(a[i : i + chunk] for a in (first, last, power_index)))
            for i in range(0, keys.size, chunk)
        ]
        end = self._count + keys.size
        self._reserve(end)
        for name, value in vars(self._store).items():
            value[..., self._count : end] = np.concatenate(
                [getattr(part, name) for part in parts], axis=-1
            )
        self._row_of_key[keys] = np.arange(self._count, end, dtype=np.int32)
        self._count = end

    def _reserve(self, rows: int) -> None:
        """Make room for ``rows`` rows (at least doubling, so that growth is linear)."""
        capacity = self._store.information.size
        if rows <= capacity:
            return
        capacity = max(rows, 2 * capacity)
        grown = {}
        for name, value in vars(self._store).items():
            array = np.zeros((*value.shape[:-1], capacity), value.dtype)
            array[..., : self._count] = value[..., : self._count]
            grown[name] = array
        self._store = SegmentTables(**grown)


def snr_power_index(signal: np.ndarray, gain: np.ndarray, read_noise: np.ndarray) -> np.ndarray:
    """Index into :data:`POWERS` from a segment's signal (as stcal).

    ``S/N = S g / sqrt((RN g)^2 + S g)`` in electrons, with ``S`` the segment's last
    minus first read (DN) and ``RN`` the read noise of one read; 0 when ``S <= 0``.

    Parameters
    ----------
    signal, gain, read_noise : ndarray [nseg]

    Returns
    -------
    ndarray intp [nseg]
    """
    electrons = signal.astype(np.float64) * gain
    noise = (read_noise.astype(np.float64) * gain) ** 2 + electrons
    with np.errstate(invalid="ignore", divide="ignore"):
        snr = np.where((electrons > 0) & (noise > 0), electrons / np.sqrt(noise), 0.0)
        # the number of edges not above the S/N (NaN counts as above every edge):
        # searchsorted(SNR_EDGES, snr, side="right") without its per-value search
        below = sum((snr < edge).astype(np.intp) for edge in SNR_EDGES)
    return len(SNR_EDGES) - below


@dataclass
class SegmentPass:
    """Result of :func:`segment_rows` for one block.

    Attributes
    ----------
    code : ndarray int32 [ngroups, npix]
        Row (:class:`SegmentCache`) of the segment each read belongs to; 0 for
        reads in no fitted segment.
    offset : ndarray float32 [ngroups, npix]
        Each read minus the first read of its segment (0 for unusable reads).
    information, weighted_rnoise, weighted_poisson, time : ndarray float64 [npix]
        Sums over the pixel's fitted segments of the tables of the same names and of
        the span.
    samp : ndarray int16 [npix]
        Reads in fitted segments.
    pixel, first, last, row : ndarray [nseg]
        The fitted segments, by last read then pixel: pixel, first and last read,
        and row.
    """

    code: np.ndarray
    offset: np.ndarray
    information: np.ndarray
    weighted_rnoise: np.ndarray
    weighted_poisson: np.ndarray
    time: np.ndarray
    samp: np.ndarray
    pixel: np.ndarray
    first: np.ndarray
    last: np.ndarray
    row: np.ndarray


def segment_starts(usable: np.ndarray, jump: np.ndarray) -> np.ndarray:
    """Reads that start a segment: usable, and the first read, or after an unusable
    read, or flagged as a jump.

    Parameters
    ----------
    usable, jump : ndarray bool [ngroups, npix]

    Returns
    -------
    ndarray bool [ngroups, npix]
    """
    start = usable.copy()
    start[1:] &= ~usable[:-1] | jump[1:]
    return start


def segment_ends(usable: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Reads that end a segment: usable, and the last read, or before an unusable
    read or a read that starts a segment.

    Parameters
    ----------
    usable, start : ndarray bool [ngroups, npix]

    Returns
    -------
    ndarray bool [ngroups, npix]
    """
    end = usable.copy()
    end[:-1] &= ~usable[1:] | start[1:]
    return end


def segment_offsets(
    data: np.ndarray, usable: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First read of each read's segment, and the read minus that first read.

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    usable, start : ndarray bool [ngroups, npix]

    Returns
    -------
    first : ndarray int16 [ngroups, npix]
        Index of the first read of the segment (meaningful for usable reads).
    offset : ndarray float32 [ngroups, npix]
        ``data[k] - data[first]``; 0 for unusable reads.
    """
    ngroups, npix = data.shape
    first = np.empty((ngroups, npix), np.int16)
    offset = np.empty((ngroups, npix), np.float32)
    first_value = data[0].copy()
    current = np.zeros(npix, np.int16)
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(ngroups):
            np.copyto(current, k, where=start[k])
            np.copyto(first_value, data[k], where=start[k])
            first[k] = current
            np.subtract(data[k], first_value, out=offset[k])
    np.copyto(offset, np.float32(0), where=~usable)
    return first, offset


def label_reads(usable: np.ndarray, end: np.ndarray, row_at_end: np.ndarray) -> np.ndarray:
    """Give every read the row of the segment it belongs to (0 if unusable).

    Parameters
    ----------
    usable, end : ndarray bool [ngroups, npix]
    row_at_end : ndarray int32 [ngroups, npix]
        The segment's row at its last read (0 for segments not fitted).

    Returns
    -------
    ndarray int32 [ngroups, npix]
    """
    code = np.empty(row_at_end.shape, np.int32)
    following = np.zeros(row_at_end.shape[1], np.int32)
    for k in range(row_at_end.shape[0] - 1, -1, -1):
        np.copyto(following, row_at_end[k], where=end[k])
        np.multiply(following, usable[k], out=code[k])
    return code


def per_pixel_sum(pixel: np.ndarray, values: np.ndarray, npix: int) -> np.ndarray:
    """Sum of ``values`` per pixel, in the order given (float64 [npix], 0 where none)."""
    return np.bincount(pixel, values, npix).astype(np.float64, copy=False)


def segment_rows(
    data: np.ndarray,
    usable: np.ndarray,
    start: np.ndarray,
    gain: np.ndarray,
    read_noise: np.ndarray,
    cache: SegmentCache,
    optimal: bool,
) -> SegmentPass:
    """Find each pixel's segments, their Fixsen exponents and table rows.

    A segment of two or more reads gets ``P`` from its S/N (last minus first read)
    and the row of ``(first, last, P)`` in ``cache``, which labels its reads.
    Segments of one read get row 0 (not fitted; see :func:`one_read_slopes`).

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    usable, start : ndarray bool [ngroups, npix]
    gain, read_noise : ndarray float32 [npix]
    cache : SegmentCache
    optimal : bool
        Choose ``P`` from the S/N (else ``P = 0``).

    Returns
    -------
    SegmentPass
    """
    ngroups, npix = data.shape
    first, offset = segment_offsets(data, usable, start)
    end = segment_ends(usable, start)
    reads = np.arange(ngroups, dtype=np.int16)[:, None]
    flat_ends = np.flatnonzero(end & (first < reads))
    last, pixel = np.divmod(flat_ends, npix)
    segment_first = first.reshape(-1)[flat_ends]
    if optimal:
        signal = offset.reshape(-1)[flat_ends]
        power = snr_power_index(signal, gain[pixel], read_noise[pixel])
    else:
        power = np.zeros(flat_ends.size, np.intp)
    row = cache.rows(segment_first, last, power)
    row_at_end = np.zeros((ngroups, npix), np.int32)
    row_at_end.reshape(-1)[flat_ends] = row
    tables = cache.tables
    # each pixel's segments summed from its last one back
    backwards = pixel[::-1], row[::-1]
    names = ("information", "weighted_rnoise", "weighted_poisson", "span", "length")
    totals = [
        per_pixel_sum(backwards[0], getattr(tables, name).take(backwards[1]), npix)
        for name in names
    ]
    return SegmentPass(
        label_reads(usable, end, row_at_end),
        offset,
        *totals[:4],
        totals[4].astype(np.int16),
        pixel,
        segment_first,
        last,
        row,
    )


@dataclass
class BlockFit:
    """Fit of one block of pixels (flat ``[npix]`` arrays, float64 where computed)."""

    rate: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    samp: np.ndarray
    time: np.ndarray
    segments: dict[str, np.ndarray] | None = None


def combined_rate(fitted: SegmentPass, tables: SegmentTables) -> np.ndarray:
    """Rate: the segment slopes averaged with weights ``W`` (NaN without segments).

    ``rate = sum_s W_s b_s / sum_s W_s = sum_k (W a_k)(code_k) offset_k / sum_s W_s``.
    """
    numerator = np.zeros(fitted.offset.shape[1])
    term = np.empty_like(numerator)
    for k, (code, offset) in enumerate(zip(fitted.code, fitted.offset, strict=True)):
        # codes are rows of the tables: "clip" only spares numpy a bounds-checked copy
        tables.weighted_coefficients[k].take(code, out=term, mode="clip")
        np.multiply(term, offset, out=term)
        numerator += term
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / np.where(fitted.information > 0, fitted.information, np.nan)


def one_read_slopes(
    data: np.ndarray,
    usable: np.ndarray,
    jump: np.ndarray,
    times: np.ndarray,
    candidates: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slopes of ramps whose only fitted read is a single read.

    ``rate = y_k / t_k`` from the first usable read ``k``: a two-point difference
    against the zeroth read, which ZOFF has subtracted. Only where ``k > 0`` (the
    zeroth read alone has no time base) and read ``k`` does not follow a jump.

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    usable, jump : ndarray bool [ngroups, npix]
    times : ndarray float64 [ngroups]
    candidates : ndarray intp
        Pixels without a fitted segment and with at least one usable read.

    Returns
    -------
    pixels : ndarray intp
        The candidates that get a slope.
    read : ndarray intp
        The read used.
    rate : ndarray float64
    """
    read = np.argmax(usable[:, candidates], axis=0)
    ok = (read > 0) & ~jump[read, candidates]
    pixels, read = candidates[ok], read[ok]
    return pixels, read, data[read, pixels] / times[read]


def fit_block(
    data: np.ndarray,
    groupdq: np.ndarray,
    valid: np.ndarray,
    gain: np.ndarray,
    read_noise: np.ndarray,
    times: np.ndarray,
    cache: SegmentCache,
    params: RampFitParameters,
) -> BlockFit:
    """Fit the ramps of one block of pixels.

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    groupdq : ndarray [ngroups, npix]
    valid : ndarray bool [npix]
        Pixels whose gain, read noise and pixel DQ allow a fit.
    gain, read_noise : ndarray float32 [npix]
    times : ndarray float64 [ngroups]
    cache : SegmentCache
        The call's segment tables; gains the block's new segments.
    params : RampFitParameters

    Returns
    -------
    BlockFit
    """
    usable = usable_reads(data, groupdq, valid)
    jump = (groupdq & dqflags.CR_RAMP) != 0
    start = segment_starts(usable, jump)
    fitted = segment_rows(
        data, usable, start, gain, read_noise, cache, params.weighting == "optimal"
    )
    tables = cache.tables
    rate = combined_rate(fitted, tables)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = 1.0 / (fitted.information * fitted.information)
        var_rnoise = read_noise.astype(np.float64) ** 2 * fitted.weighted_rnoise * scale
        var_poisson = np.maximum(rate, 0) / gain * fitted.weighted_poisson * scale
    samp, time = fitted.samp, fitted.time
    pixels = read = np.empty(0, np.intp)
    if not params.suppress_one_group:
        candidates = np.flatnonzero((fitted.information == 0) & usable.any(axis=0))
        pixels, read, single = one_read_slopes(data, usable, jump, times, candidates)
        rate[pixels] = single
        var_rnoise[pixels] = 2.0 * read_noise[pixels].astype(np.float64) ** 2 / times[read] ** 2
        var_poisson[pixels] = np.maximum(single, 0) / gain[pixels] / times[read]
        samp[pixels] = 1
        time[pixels] = times[read]
    result = BlockFit(rate, var_poisson, var_rnoise, samp, time)
    if params.save_segments:
        result.segments = block_segments(fitted, result, gain, read_noise, tables, pixels, read)
    return result


def segment_slopes(fitted: SegmentPass, tables: SegmentTables) -> np.ndarray:
    """Slope ``sum_k a_k offset_k`` of each fitted segment (order of ``fitted.row``).

    Walks the reads keeping each pixel's running sum over its current segment.
    """
    ngroups, npix = fitted.code.shape
    running = np.zeros(npix)
    sums = np.empty((ngroups, npix))
    previous = np.zeros(npix, np.int32)
    for k, code in enumerate(fitted.code):
        contribution = tables.coefficients[k].take(code) * fitted.offset[k]
        running = np.where(code != previous, contribution, running + contribution)
        sums[k] = running
        previous = code
    return sums.reshape(-1)[fitted.last * npix + fitted.pixel]


def segment_ordinals(pixel: np.ndarray) -> np.ndarray:
    """Number of each segment among its pixel's segments, for segments in time order."""
    order = np.argsort(pixel, kind="stable")
    grouped = pixel[order]
    ordinal = np.empty(pixel.size, np.int16)
    ordinal[order] = np.arange(pixel.size) - np.searchsorted(grouped, grouped)
    return ordinal


def block_segments(
    fitted: SegmentPass,
    result: BlockFit,
    gain: np.ndarray,
    read_noise: np.ndarray,
    tables: SegmentTables,
    single_pixels: np.ndarray,
    single_reads: np.ndarray,
) -> dict[str, np.ndarray]:
    """The block's segments as flat lists (one entry per segment).

    Returns
    -------
    dict of str to ndarray
        ``ordinal`` (segment number in time order), ``pixel``, ``slope``,
        ``var_poisson``, ``var_rnoise``, ``first_read``, ``last_read``, ``power``,
        ``weight``.
    """
    pixel, row = fitted.pixel, fitted.row
    information = tables.information.take(row)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = 1.0 / information**2
        rate = np.maximum(result.rate[pixel], 0)
        segments = {
            "ordinal": segment_ordinals(pixel),
            "pixel": pixel,
            "slope": segment_slopes(fitted, tables),
            "var_poisson": rate / gain[pixel] * tables.weighted_poisson.take(row) * scale,
            "var_rnoise": read_noise[pixel].astype(np.float64) ** 2
            * tables.weighted_rnoise.take(row)
            * scale,
            "first_read": fitted.first,
            "last_read": fitted.last,
            "power": tables.power.take(row),
            "weight": information / fitted.information[pixel],
        }
    single = {
        "ordinal": np.zeros(single_pixels.size, np.int16),
        "pixel": single_pixels,
        "slope": result.rate[single_pixels],
        "var_poisson": result.var_poisson[single_pixels],
        "var_rnoise": result.var_rnoise[single_pixels],
        "first_read": single_reads,
        "last_read": single_reads,
        "power": np.zeros(single_pixels.size, np.float32),
        "weight": np.ones(single_pixels.size),
    }
    return {name: np.concatenate([segments[name], single[name]]) for name in segments}




def assemble_segments(parts: list[dict], shape: tuple[int, int]) -> RampSegments:
    """Build :class:`RampSegments` from the blocks' flat segment lists (none for a frame
    without pixels)."""
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]} if parts else {}
    nseg = int(columns["ordinal"].max()) + 1 if columns and columns["ordinal"].size else 0
    size = (nseg, *shape)

    def plane(name: str, dtype, fill) -> np.ndarray:
        array = np.full(size, fill, dtype)
        if nseg:
            array[(columns["ordinal"], *np.divmod(columns["pixel"], shape[1]))] = columns[name]
        return array

    return RampSegments(
        slope=plane("slope", np.float32, np.nan),
        var_poisson=plane("var_poisson", np.float32, np.nan),
        var_rnoise=plane("var_rnoise", np.float32, np.nan),
        first_read=plane("first_read", np.int16, -1),
        last_read=plane("last_read", np.int16, -1),
        power=plane("power", np.float32, np.nan),
        weight=plane("weight", np.float32, np.nan),
    )


def fit_block_rows(ngroups: int, nx: int, block_rows: int) -> int:
    """Rows per block: ``block_rows``, or if 0 the shared automatic size raised to
    at least :data:`MIN_BLOCK_PIXELS` pixels.

    Parameters
    ----------
    ngroups, nx : int
        Reads per pixel and pixels per row.
    block_rows : int
        Requested rows per block (0: automatic).

    Returns
    -------
    int
    """
    if block_rows > 0:
        return block_rows
    return max(auto_block_rows(ngroups, nx), -(-MIN_BLOCK_PIXELS // max(nx, 1)))


def fit_ramps(
    data, groupdq, times, gain, read_noise, params=RampFitParameters(), pixeldq=None,
    read_scale=None,
) -> RampFitResult:
    """Fit a slope to every pixel's ramp, on the real read times.

    Parameters
    ----------
    data : ndarray float32 [ngroups, ny, nx]
        The ramp in DN, time order (group 0 is the zeroth read).
    groupdq : ndarray uint16 [ngroups, ny, nx]
        Per-read DQ. Reads with a :data:`~hstramp.core.blocks.UNUSABLE` flag and
        non-finite reads are not used; a read flagged ``CR_RAMP`` starts a segment.
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read (``times[0] == 0``, strictly increasing).
    gain : float or ndarray float32 [ny, nx]
        Gain, e-/DN.
    read_noise : float or ndarray float32 [ny, nx]
        Read noise of a single read, DN.
    params : RampFitParameters, optional
    pixeldq : ndarray uint16 [ny, nx], optional
        Pixel DQ: OR-ed into the output; a :data:`~hstramp.core.blocks.DO_NOT_USE`
        flag excludes the pixel.
    read_scale : array_like [ngroups], optional
        Fit a ramp as the calibration steps leave it (count rates after UNITCORR: the read
        times; counts: ones): see :func:`hstramp.core.blocks.ramp_inputs`. The conversion
        is done block by block, without a second cube.

    Returns
    -------
    RampFitResult
        New arrays; the inputs are never modified.
    """
    inputs = ramp_inputs(data, groupdq, times, gain, read_noise, read_scale)
    ngroups, ny, nx = inputs.shape
    pixeldq = checked_pixeldq(pixeldq, (ny, nx))
    cache = SegmentCache(inputs.times)
    result = RampFitResult.empty((ny, nx))
    kernel = native.kernel("rampfit")
    parts = []
    for rows in row_blocks(ny, nx, ngroups, fit_block_rows(ngroups, nx, params.block_rows)):
        if kernel is None:
            segments = fit_rows(inputs, pixeldq, rows, cache, params, result)
        else:
            segments = compiled.fit_rows(kernel, inputs, pixeldq, rows, cache, params, result,
                                         SNR_EDGES)
        if segments is not None:
            parts.append(segments)
    rate = result.rate
    log.debug("%d of %d pixels without a slope", np.count_nonzero(np.isnan(rate)), rate.size)
    if params.save_segments:
        result.segments = assemble_segments(parts, (ny, nx))
    return result


def fit_rows(
    inputs: RampInputs,
    pixeldq: np.ndarray | None,
    rows: slice,
    cache: SegmentCache,
    params: RampFitParameters,
    result: RampFitResult,
) -> dict[str, np.ndarray] | None:
    """Fit the ramps of rows ``rows`` into ``result`` (the NumPy reference path).

    :func:`hstramp.core.ramp_fit.compiled.fit_rows` is the compiled twin of this function,
    with the same arguments and the same results.

    Parameters
    ----------
    inputs : RampInputs
        The whole exposure.
    pixeldq : ndarray uint16 [ny, nx] or None
    rows : slice
        The rows of the block.
    cache : SegmentCache
        The call's segment tables; gains the block's new segments.
    params : RampFitParameters
    result : RampFitResult
        The call's result (``[ny, nx]`` arrays); rows ``rows`` are written.

    Returns
    -------
    dict of str to ndarray or None
        The block's segments as flat lists (:func:`block_segments`, ``pixel`` a flat
        index into the frame) when ``params.save_segments``, else None.
    """
    nx = inputs.shape[2]
    gain_block = plane_view(inputs.gain, rows)
    noise_block = plane_view(inputs.read_noise, rows)
    groupdq_block = block_view(inputs.groupdq, rows)
    pixeldq_block = None if pixeldq is None else plane_view(pixeldq, rows)
    valid = pixel_valid(gain_block, noise_block)
    if pixeldq_block is not None:
        valid &= (pixeldq_block & DO_NOT_USE) == 0
    fit = fit_block(
        inputs.data_block(rows),
        groupdq_block,
        valid,
        gain_block,
        noise_block,
        inputs.times,
        cache,
        params,
    )
    shape = (rows.stop - rows.start, nx)
    result.rate[rows] = fit.rate.reshape(shape)
    result.var_poisson[rows] = fit.var_poisson.reshape(shape)
    result.var_rnoise[rows] = fit.var_rnoise.reshape(shape)
    result.err[rows] = np.sqrt(fit.var_poisson + fit.var_rnoise).reshape(shape)
    result.samp[rows] = fit.samp.reshape(shape)
    result.time[rows] = fit.time.reshape(shape)
    result.dq[rows] = collapse_dq(groupdq_block, pixeldq_block, np.isnan(fit.rate)).reshape(shape)
    if fit.segments is None:
        return None
    fit.segments["pixel"] = fit.segments["pixel"] + rows.start * nx
    return fit.segments
