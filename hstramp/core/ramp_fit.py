"""Up-the-ramp slope fitting with optimal weights on the real read times.

Each pixel's ramp is cut into segments (runs of consecutive usable reads; a read
flagged ``CR_RAMP`` starts a new segment). Each segment of two or more reads gets a
weighted least-squares slope with the Fixsen et al. (2000) weights
``|t - t_mid|^P`` evaluated at the real read times, ``P`` set by the segment's
signal-to-noise ratio as in stcal. The segment slopes are combined with weights equal
to their read-noise information, as stcal's OLS_C does. Read-noise and Poisson
variances are the exact variances of the estimator used. On evenly spaced reads the
slopes are stcal's. Everything a segment needs (coefficients, variances) depends only
on its first and last read and on ``P``, so it is tabulated once per call from the
times. The derivation is in ``docs/maths.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.blocks import (
    DO_NOT_USE,
    block_view,
    check_block_rows,
    pixel_valid,
    plane_view,
    ramp_inputs,
    row_blocks,
    usable_reads,
)
from hstramp.datamodels import dqflags

__all__ = [
    "NO_SLOPE",
    "POWERS",
    "SNR_EDGES",
    "RampFitParameters",
    "RampFitResult",
    "RampSegments",
    "collapse_dq",
    "fit_ramps",
]

log = logging.getLogger(__name__)

#: Fixsen exponents P and the segment S/N at which each starts (stcal's table).
POWERS = (0.0, 0.4, 1.0, 3.0, 6.0, 10.0)
SNR_EDGES = (5.0, 10.0, 20.0, 50.0, 100.0)

#: Output flag of pixels with no slope (rate NaN): "data replaced by fill value".
NO_SLOPE = dqflags.FILL

#: Flags removed from the collapsed output DQ (calwf3 flt rules).
_REMOVED = dqflags.SATURATED | dqflags.ZERO_READ_SIGNAL | dqflags.CR_RAMP

_WEIGHTINGS = ("optimal", "unweighted")


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


@dataclass
class RampSegments:
    """Per-segment fits, segment ``s`` of each pixel in plane ``s`` (time order).

    Only segments that enter the rate are listed (two or more reads, or the single
    read of a one-read ramp). Missing entries are NaN (floats) or -1 (reads).

    Attributes
    ----------
    slope : ndarray float32 [nseg, ny, nx]
        DN/s.
    var_poisson, var_rnoise : ndarray float32 [nseg, ny, nx]
        Variances of ``slope``, (DN/s)^2.
    first_read, last_read : ndarray int16 [nseg, ny, nx]
        Read indices the segment spans.
    power : ndarray float32 [nseg, ny, nx]
        The Fixsen exponent used.
    weight : ndarray float32 [nseg, ny, nx]
        Fraction of the rate that comes from the segment (sums to 1 over segments).
    """

    slope: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    first_read: np.ndarray
    last_read: np.ndarray
    power: np.ndarray
    weight: np.ndarray


@dataclass
class RampFitResult:
    """Output of :func:`fit_ramps` (all arrays ``[ny, nx]``).

    Attributes
    ----------
    rate : ndarray float32
        Slope, DN/s; NaN where no slope could be measured.
    err : ndarray float32
        ``sqrt(var_poisson + var_rnoise)``, DN/s; NaN where ``rate`` is NaN.
    var_poisson, var_rnoise : ndarray float32
        (DN/s)^2; NaN where ``rate`` is NaN.
    dq : ndarray uint16
        Collapsed DQ (calwf3 flt rules; ``NO_SLOPE`` where ``rate`` is NaN).
    samp : ndarray int16
        Number of reads used.
    time : ndarray float32
        Time spanned by the used segments (sum over segments), seconds.
    segments : RampSegments or None
        Per-segment fits when ``save_segments``.
    """

    rate: np.ndarray
    err: np.ndarray
    var_poisson: np.ndarray
    var_rnoise: np.ndarray
    dq: np.ndarray
    samp: np.ndarray
    time: np.ndarray
    segments: RampSegments | None = None


@dataclass(frozen=True)
class SegmentTables:
    """Everything about a segment that depends only on the read times.

    A segment from read ``f`` to read ``l > f`` with exponent ``POWERS[p]`` has code
    ``1 + (f * ngroups + l) * len(POWERS) + p``; code 0 means "no segment" and every
    table is 0 there (and for ``f >= l``). With ``a_k`` the coefficients of the
    weighted least-squares slope (``slope = sum_k a_k y_k``) and ``W`` the segment's
    read-noise information ``sum_k (t_k - mean t)^2`` (its weight in the rate):

    Attributes
    ----------
    weighted_coefficients : ndarray float64 [ngroups, ncodes]
        ``W a_k``.
    information : ndarray float64 [ncodes]
        ``W``.
    weighted_rnoise : ndarray float64 [ncodes]
        ``W^2 sum_k a_k^2``: read-noise variance times ``W^2 / RN^2``.
    weighted_poisson : ndarray float64 [ncodes]
        ``W^2 sum_m dt_m (sum_{k >= m} a_k)^2``: Poisson variance times
        ``W^2 gain / rate``.
    coefficients : ndarray float64 [ngroups, ncodes]
        ``a_k``.
    span : ndarray float64 [ncodes]
        ``t_l - t_f``.
    length : ndarray int16 [ncodes]
        ``l - f + 1``.
    power : ndarray float32 [ncodes]
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

    @property
    def ngroups(self) -> int:
        """Number of reads the tables were built for."""
        return self.coefficients.shape[0]

    def code(self, first: np.ndarray, last: np.ndarray, power_index: np.ndarray) -> np.ndarray:
        """Code of the segment ``first..last`` with exponent ``POWERS[power_index]``."""
        return 1 + (first * self.ngroups + last) * len(POWERS) + power_index

    def first_read(self, code: np.ndarray) -> np.ndarray:
        """First read of coded segments (code > 0)."""
        return (code - 1) // len(POWERS) // self.ngroups


def segment_tables(times: np.ndarray) -> SegmentTables:
    """Tabulate the coefficients and variances of every possible segment.

    Parameters
    ----------
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read.

    Returns
    -------
    SegmentTables
    """
    n, npow = times.size, len(POWERS)
    first, last = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    valid = last > first
    inside = (
        (np.arange(n) >= first[..., None]) & (np.arange(n) <= last[..., None]) & valid[..., None]
    )
    half_span = np.where(valid, (times[last] - times[first]) / 2, 1.0)
    middle = (times[last] + times[first]) / 2
    distance = np.abs(times - middle[..., None]) / half_span[..., None]  # [f, l, k]
    exponent = np.asarray(POWERS)[:, None]
    weights = np.where(inside[:, :, None], distance[:, :, None] ** exponent, 0.0)  # [f, l, p, k]
    tiny = np.finfo(np.float64).tiny
    centre = (weights * times).sum(-1) / np.maximum(weights.sum(-1), tiny)
    offset = np.where(inside[:, :, None], times - centre[..., None], 0.0)
    curvature = np.maximum((weights * offset**2).sum(-1), tiny)
    coefficients = weights * offset / curvature[..., None]
    tail = np.cumsum(coefficients[..., ::-1], axis=-1)[..., ::-1]
    step = np.concatenate([[0.0], np.diff(times)])
    after_first = (np.arange(n) > first[..., None]) & inside
    poisson = (np.where(after_first[:, :, None], tail, 0.0) ** 2 * step).sum(-1)
    rnoise = (coefficients**2).sum(-1)
    count = inside.sum(-1)
    mean_time = (times * inside).sum(-1) / np.maximum(count, 1)
    information = np.broadcast_to(
        (np.where(inside, times - mean_time[..., None], 0.0) ** 2).sum(-1)[..., None], (n, n, npow)
    )

    def per_code(table: np.ndarray, dtype=np.float64) -> np.ndarray:
        """``[f, l, p]`` -> ``[ncodes]`` with code 0 first."""
        flat = np.broadcast_to(table, (n, n, npow)).reshape(-1).astype(dtype)
        return np.concatenate([np.zeros(1, dtype), flat])

    coefficient_table = np.concatenate([np.zeros((n, 1)), coefficients.reshape(-1, n).T], axis=1)
    information_table = per_code(information)
    return SegmentTables(
        weighted_coefficients=coefficient_table * information_table,
        information=information_table,
        weighted_rnoise=per_code(information**2 * rnoise),
        weighted_poisson=per_code(information**2 * poisson),
        coefficients=coefficient_table,
        span=per_code(np.where(valid, times[last] - times[first], 0.0)[..., None]),
        length=per_code(np.where(valid, count, 0)[..., None], np.int16),
        power=per_code(np.where(valid[..., None], np.asarray(POWERS), 0.0), np.float32),
    )


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
    return np.searchsorted(np.asarray(SNR_EDGES), snr, side="right")


@dataclass
class SegmentPass:
    """Result of :func:`segment_codes` for one block.

    Attributes
    ----------
    code : ndarray int32 [ngroups, npix]
        Code (:class:`SegmentTables`) of the segment each read belongs to; 0 for
        reads in no fitted segment.
    offset : ndarray float32 [ngroups, npix]
        Each read minus the first read of its segment (0 for unusable reads).
    information, weighted_rnoise, weighted_poisson, time : ndarray float64 [npix]
        Sums over the pixel's fitted segments of the tables of the same names and of
        the span.
    samp : ndarray int16 [npix]
        Reads in fitted segments.
    """

    code: np.ndarray
    offset: np.ndarray
    information: np.ndarray
    weighted_rnoise: np.ndarray
    weighted_poisson: np.ndarray
    time: np.ndarray
    samp: np.ndarray


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
    for k in range(ngroups):
        np.copyto(current, k, where=start[k])
        np.copyto(first_value, data[k], where=start[k])
        first[k] = current
        with np.errstate(invalid="ignore", over="ignore"):
            offset[k] = np.where(usable[k], data[k] - first_value, np.float32(0))
    return first, offset


def segment_codes(
    data: np.ndarray,
    usable: np.ndarray,
    start: np.ndarray,
    gain: np.ndarray,
    read_noise: np.ndarray,
    tables: SegmentTables,
    optimal: bool,
) -> SegmentPass:
    """Find each pixel's segments, their Fixsen exponents and codes.

    Walks the reads backwards: at the last read of a segment of two or more reads
    the S/N (last minus first read) gives ``P`` and the code, which then labels the
    segment's earlier reads. Segments of one read get code 0 (not fitted; see
    :func:`one_read_slopes`).

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    usable, start : ndarray bool [ngroups, npix]
    gain, read_noise : ndarray float32 [npix]
    tables : SegmentTables
    optimal : bool
        Choose ``P`` from the S/N (else ``P = 0``).

    Returns
    -------
    SegmentPass
    """
    ngroups, npix = data.shape
    first, offset = segment_offsets(data, usable, start)
    code = np.empty((ngroups, npix), np.int32)
    following = np.zeros(npix, np.int32)
    names = ("information", "weighted_rnoise", "weighted_poisson", "span")
    totals = {name: np.zeros(npix) for name in names}
    samp = np.zeros(npix, np.int16)
    for k in range(ngroups - 1, -1, -1):
        ends = usable[k] & (~usable[k + 1] | start[k + 1]) if k + 1 < ngroups else usable[k]
        following[ends] = 0
        fitted = np.flatnonzero(ends & (first[k] < k))
        if fitted.size:
            power = (
                snr_power_index(offset[k, fitted], gain[fitted], read_noise[fitted])
                if optimal
                else 0
            )
            segment = tables.code(first[k, fitted].astype(np.int32), k, power).astype(np.int32)
            for name, total in totals.items():
                total[fitted] += getattr(tables, name).take(segment)
            samp[fitted] += tables.length.take(segment)
            following[fitted] = segment
        code[k] = np.where(usable[k], following, 0)
    return SegmentPass(code, offset, *(totals[name] for name in names), samp)


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
    for k, (code, offset) in enumerate(zip(fitted.code, fitted.offset, strict=True)):
        numerator += tables.weighted_coefficients[k].take(code) * offset
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
    tables: SegmentTables,
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
    tables : SegmentTables
    params : RampFitParameters

    Returns
    -------
    BlockFit
    """
    usable = usable_reads(data, groupdq, valid)
    jump = (groupdq & dqflags.CR_RAMP) != 0
    start = segment_starts(usable, jump)
    fitted = segment_codes(
        data, usable, start, gain, read_noise, tables, params.weighting == "optimal"
    )
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
    ngroups, npix = fitted.code.shape
    running = np.zeros(npix)
    ordinal = np.zeros(npix, np.int16)
    parts = []
    previous = np.zeros(npix, np.int32)
    for k, code in enumerate(fitted.code):
        contribution = tables.coefficients[k].take(code) * fitted.offset[k]
        running = np.where(code != previous, contribution, running + contribution)
        following = fitted.code[k + 1] if k + 1 < ngroups else np.zeros_like(code)
        ends = np.flatnonzero((code > 0) & (following != code))
        parts.append((ordinal[ends].copy(), ends, running[ends], code[ends], np.full(ends.size, k)))
        ordinal[ends] += 1
        previous = code
    order, pixel, slope, code, last = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    information = tables.information.take(code)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = 1.0 / information**2
        rate = np.maximum(result.rate[pixel], 0)
        segments = {
            "ordinal": order,
            "pixel": pixel,
            "slope": slope,
            "var_poisson": rate / gain[pixel] * tables.weighted_poisson.take(code) * scale,
            "var_rnoise": read_noise[pixel].astype(np.float64) ** 2
            * tables.weighted_rnoise.take(code)
            * scale,
            "first_read": tables.first_read(code),
            "last_read": last,
            "power": tables.power.take(code),
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


def collapse_dq(
    groupdq: np.ndarray, pixeldq: np.ndarray | None, no_slope: np.ndarray
) -> np.ndarray:
    """Output DQ of one block (calwf3 flt rules).

    The OR of the pixel DQ and every read's DQ, without ``SATURATED``,
    ``ZERO_READ_SIGNAL`` and ``CR_RAMP``, except that ``SATURATED`` stays where the
    zeroth or the first read is saturated; plus :data:`NO_SLOPE` where no slope.

    Parameters
    ----------
    groupdq : ndarray [ngroups, npix]
    pixeldq : ndarray [npix] or None
    no_slope : ndarray bool [npix]

    Returns
    -------
    ndarray uint16 [npix]
    """
    combined = np.bitwise_or.reduce(groupdq, axis=0).astype(np.uint16)
    if pixeldq is not None:
        combined |= pixeldq.astype(np.uint16)
    early = np.bitwise_or.reduce(groupdq[:2], axis=0).astype(np.uint16) & dqflags.SATURATED
    combined &= np.uint16(~_REMOVED & 0xFFFF)
    combined |= early
    combined[no_slope] |= np.uint16(NO_SLOPE)
    return combined


def assemble_segments(parts: list[dict], shape: tuple[int, int]) -> RampSegments:
    """Build :class:`RampSegments` from the blocks' flat segment lists."""
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    nseg = int(columns["ordinal"].max()) + 1 if columns["ordinal"].size else 0
    size = (nseg, *shape)
    where = (columns["ordinal"], *np.divmod(columns["pixel"], shape[1]))

    def plane(name: str, dtype, fill) -> np.ndarray:
        array = np.full(size, fill, dtype)
        array[where] = columns[name]
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


def fit_ramps(
    data, groupdq, times, gain, read_noise, params=RampFitParameters(), pixeldq=None
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

    Returns
    -------
    RampFitResult
        New arrays; the inputs are never modified.
    """
    inputs = ramp_inputs(data, groupdq, times, gain, read_noise)
    ngroups, ny, nx = inputs.shape
    if pixeldq is not None:
        pixeldq = np.asarray(pixeldq)
        if pixeldq.shape != (ny, nx) or not np.issubdtype(pixeldq.dtype, np.unsignedinteger):
            raise ValueError(f"pixeldq must be an unsigned integer array of shape {(ny, nx)}")
    tables = segment_tables(inputs.times)
    rate = np.empty((ny, nx), np.float32)
    err, var_poisson, var_rnoise = np.empty_like(rate), np.empty_like(rate), np.empty_like(rate)
    dq = np.empty((ny, nx), np.uint16)
    samp = np.empty((ny, nx), np.int16)
    time = np.empty((ny, nx), np.float32)
    parts = []
    for rows in row_blocks(ny, nx, ngroups, params.block_rows):
        gain_block = plane_view(inputs.gain, rows)
        noise_block = plane_view(inputs.read_noise, rows)
        groupdq_block = block_view(inputs.groupdq, rows)
        pixeldq_block = None if pixeldq is None else plane_view(pixeldq, rows)
        valid = pixel_valid(gain_block, noise_block)
        if pixeldq_block is not None:
            valid &= (pixeldq_block & DO_NOT_USE) == 0
        fit = fit_block(
            block_view(inputs.data, rows, np.float32),
            groupdq_block,
            valid,
            gain_block,
            noise_block,
            inputs.times,
            tables,
            params,
        )
        shape = (rows.stop - rows.start, nx)
        rate[rows] = fit.rate.reshape(shape)
        var_poisson[rows] = fit.var_poisson.reshape(shape)
        var_rnoise[rows] = fit.var_rnoise.reshape(shape)
        err[rows] = np.sqrt(fit.var_poisson + fit.var_rnoise).reshape(shape)
        samp[rows] = fit.samp.reshape(shape)
        time[rows] = fit.time.reshape(shape)
        dq[rows] = collapse_dq(groupdq_block, pixeldq_block, np.isnan(fit.rate)).reshape(shape)
        if fit.segments is not None:
            fit.segments["pixel"] = fit.segments["pixel"] + rows.start * nx
            parts.append(fit.segments)
    log.debug("%d of %d pixels without a slope", np.count_nonzero(np.isnan(rate)), rate.size)
    return RampFitResult(
        rate=rate,
        err=err,
        var_poisson=var_poisson,
        var_rnoise=var_rnoise,
        dq=dq,
        samp=samp,
        time=time,
        segments=assemble_segments(parts, (ny, nx)) if params.save_segments else None,
    )
