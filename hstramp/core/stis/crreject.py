"""CR-SPLIT cosmic-ray rejection of STIS CCD imsets (calstis ``crrej``: cs2).

The imsets (bias-subtracted, DN) are combined pixel by pixel:

1. the sky of each imset is the mode of its histogram (1-DN bins) of pixels with DQ 0
   (SKYSUB ``mode``; ``none`` gives 0);
2. each imset is scaled to a rate ``pic = (SCI - sky) / EXPTIME``; the initial guess is
   their minimum or median (INITGUES);
3. for each sigma of CRSIGMAS, a pixel of an imset is rejected where
   ``(pic - guess)^2 > sigma^2 (rn^2 + val/gain + (SCALENSE/100 * (val - sky))^2) / t^2``
   with ``val = max(guess * t + sky, 0)`` (the first pass of a ``minimum`` guess uses the
   variance of the minimum imset); its neighbours within CRRADIUS are rejected too where
   ``(pic - guess)^2 > CRTHRESH^2 sigma^2 (rn^2 + val/gain) / t^2``; pixels with a
   BADINPDQ bit never count; the new guess is the exposure-weighted mean of what is left;
4. the output is ``guess * sum(t) + sum(sky)`` (the sky goes back in), its error
   ``sqrt(sum(rn^2 + val/gain + (SCALENSE/100 val)^2)) / sum(t_used) * sum(t)``; the output
   DQ is the OR of the inputs with 8192 only where every imset was rejected, and (CRMASK)
   each input gets 8192 where it was rejected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.native import kernel
from hstramp.core.stis.dqflags import DATAREJECT

log = logging.getLogger(__name__)

__all__ = ["CRRejectParameters", "CRRejection", "cr_reject", "disk_offsets", "sky_mode"]

#: lowest histogram edge of the sky mode, DN
_SKY_MINVAL = -1000
_INITGUES = ("minimum", "median")
_SKYSUB = ("mode", "none")


@dataclass(frozen=True)
class CRRejectParameters:
    """Parameters of the CR-SPLIT rejection (the CRREJTAB row, possibly overridden).

    Attributes
    ----------
    crsigmas : tuple of float
        Rejection thresholds, one iteration each (``'4,3'`` -> ``(4.0, 3.0)``).
    crradius : float
        Radius (pixels) within which neighbours of a rejected pixel are examined.
    crthresh : float
        Fraction of the threshold a neighbour must exceed to be rejected (<= 0: always).
    initgues : str
        ``minimum`` or ``median`` initial guess.
    skysub : str
        ``mode`` or ``none``.
    scalense : float
        Multiplicative noise, percent of the signal.
    badinpdq : int
        DQ bits that keep an input pixel out of the combination.
    crmask : bool
        Write 8192 into the inputs' DQ where they were rejected.
    fillval : float
        Rate given to pixels with no usable input (calstis: 0).
    """

    crsigmas: tuple[float, ...] = (4.0, 3.0)
    crradius: float = 1.5
    crthresh: float = 0.8
    initgues: str = "minimum"
    skysub: str = "mode"
    scalense: float = 0.0
    badinpdq: int = 0
    crmask: bool = True
    fillval: float = 0.0

    def __post_init__(self):
        sigmas = tuple(float(s) for s in np.atleast_1d(self.crsigmas))
        if not sigmas or any(not s > 0 for s in sigmas):
            raise ValueError(f"crsigmas must be positive numbers, got {self.crsigmas!r}")
        object.__setattr__(self, "crsigmas", sigmas)
        initgues = str(self.initgues).strip().lower()
        matches = [g for g in _INITGUES if g.startswith(initgues[:3])] if initgues else []
        if not matches:
            raise ValueError(f"initgues must be one of {_INITGUES}, got {self.initgues!r}")
        object.__setattr__(self, "initgues", matches[0])
        skysub = str(self.skysub).strip().lower()
        if skysub not in _SKYSUB:
            raise ValueError(f"skysub must be one of {_SKYSUB}, got {self.skysub!r}")
        object.__setattr__(self, "skysub", skysub)
        for name in ("crradius", "crthresh", "scalense", "fillval"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)}")
        if self.crradius < 0:
            raise ValueError(f"crradius must be >= 0, got {self.crradius}")
        if self.scalense < 0:
            raise ValueError(f"scalense must be >= 0 (percent), got {self.scalense}")
        if not 0 <= int(self.badinpdq) <= 65535:
            raise ValueError(f"badinpdq must be in 0..65535, got {self.badinpdq}")


@dataclass(frozen=True)
class CRRejection:
    """Result of :func:`cr_reject`.

    Attributes
    ----------
    data, err : ndarray, float32 [ny, nx]
        Combined image (DN, sky added back) and its error.
    dq : ndarray, uint16 [ny, nx]
        OR of the inputs' DQ (their 8192 cleared), 8192 where every input was rejected.
    input_dq : ndarray, uint16 [nexp, ny, nx]
        The inputs' DQ with 8192 where rejected (unchanged without CRMASK).
    rejected : ndarray of bool [nexp, ny, nx]
        Where each input was rejected (hit or spill) in the last iteration.
    sky : ndarray, float64 [nexp]
        Sky of each input, DN.
    exptime : float
        Total exposure time, s.
    nrej : int
        Number of rejected input pixels.
    """

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    input_dq: np.ndarray
    rejected: np.ndarray
    sky: np.ndarray
    exptime: float
    nrej: int


def _mode_from_histogram(hist: np.ndarray, hmin: float) -> float:
    """Peak of a 1-DN histogram refined by a parabola through the three highest bins."""
    nbins = hist.size
    if nbins == 1:
        return hmin + 0.5
    if nbins == 2:
        return hmin + (0.5 if hist[0] > hist[1] else 1.5 if hist[1] > hist[0] else 1.0)
    peak = int(np.argmax(hist))
    if peak == 0:
        return hmin + 0.5
    if peak == nbins - 1:
        return hmin + nbins - 0.5
    dh1 = float(hist[peak] - hist[peak - 1])
    dh2 = float(hist[peak] - hist[peak + 1])
    denom = dh1 + dh2
    if abs(denom) < 1e-20:
        return hmin + peak + 0.5
    return hmin + peak + 0.5 + 0.5 * (dh1 - dh2) / denom


def sky_mode(image: np.ndarray, dq: np.ndarray) -> float:
    """Sky level of one imset: the mode of the values of its DQ-0 pixels (calstis crrej_sky).

    The histogram has 1-DN bins of ``int(value)`` (truncated towards zero) from
    ``min(int(min) - 1, ...)`` (at least -1000) up to twice the mean plus one. The compiled
    kernel ``crreject`` counts float32 images with uint16 DQ (the same counts: its mean is
    NumPy's pairwise sum); other dtypes and non-finite values take the NumPy path.

    Parameters
    ----------
    image : ndarray [ny, nx]
        Bias-subtracted data, DN.
    dq : ndarray [ny, nx]
        Its DQ; only pixels with DQ 0 count.

    Returns
    -------
    float
        The sky, DN (0 when no pixel has DQ 0).
    """
    image, dq = np.asarray(image), np.asarray(dq)
    compiled = kernel("crreject")
    if compiled is not None and image.dtype == np.float32 and dq.dtype == np.uint16 \
            and image.shape == dq.shape:
        image, dq = np.ascontiguousarray(image), np.ascontiguousarray(dq)
        count, vmin, total = compiled.sky_stats(image, dq)
        if count and np.isfinite(vmin) and np.isfinite(total):
            low, nbins = _histogram_range(vmin, total / count)
            hist = np.zeros(nbins, np.int64)
            compiled.sky_histogram(image, dq, low, hist)
            return float(_mode_from_histogram(hist, float(low)))
    values = np.asarray(image, np.float64)[dq == 0]
    if values.size == 0:
        log.warning("no pixel with DQ 0: sky set to 0")
        return 0.0
    low, nbins = _histogram_range(float(values.min()), float(values.mean()))
    index = np.trunc(values).astype(np.int64) - low
    inside = (index >= 0) & (index < nbins)
    hist = np.bincount(index[inside], minlength=nbins)
    return float(_mode_from_histogram(hist, float(low)))


def _histogram_range(vmin: float, mean: float) -> tuple[int, int]:
    """The sky histogram's lowest bin and number of bins from the values' minimum and mean."""
    amin = min(0.0, vmin)
    low = _SKY_MINVAL if amin < _SKY_MINVAL else int(amin) - 1
    high = 1 if mean <= 0 else int(mean + 1.0) * 2
    return low, high - low + 1


def disk_offsets(radius: float) -> list[tuple[int, int]]:
    """``(dy, dx)`` offsets with ``dy^2 + dx^2 <= radius^2`` (the spill neighbourhood)."""
    width = int(radius + 1e-5)
    r2 = radius * radius
    return [(dy, dx) for dy in range(-width, width + 1) for dx in range(-width, width + 1)
            if dy * dy + dx * dx <= r2]


def dilate_mask(mask: np.ndarray, offsets) -> np.ndarray:
    """OR of ``mask`` shifted by each offset (pixels off the edge contribute nothing)."""
    ny, nx = mask.shape[-2:]
    out = np.zeros_like(mask)
    for dy, dx in offsets:
        src_y = slice(max(0, -dy), ny - max(0, dy))
        dst_y = slice(max(0, dy), ny - max(0, -dy))
        src_x = slice(max(0, -dx), nx - max(0, dx))
        dst_x = slice(max(0, dx), nx - max(0, -dx))
        out[..., dst_y, dst_x] |= mask[..., src_y, src_x]
    return out


def _exposure_factors(exptime: np.ndarray) -> np.ndarray:
    efac = np.asarray(exptime, np.float64)
    if np.any(efac < 0):
        raise ValueError(f"exposure times must be >= 0, got {efac.tolist()}")
    zero = efac == 0
    if zero.any() and not zero.all():
        raise ValueError(f"some but not all imsets have zero exposure time: {efac.tolist()}")
    return np.ones_like(efac) if zero.all() else efac


def _initial_guess(data, pic, efac, sky, rog2, gain, scale, method):
    """Initial rate image and (for ``minimum``) its variance."""
    if method == "median":
        return np.median(pic, axis=0).astype(np.float32), None
    k = np.argmin(pic, axis=0)  # the first imset in a tie, as calstis (strictly smaller)
    ave = np.take_along_axis(pic, k[None], axis=0)[0]
    raw = np.take_along_axis(np.asarray(data, np.float32), k[None], axis=0)[0]
    sky_k, t_k = sky[k], efac[k]
    var = (rog2 + np.maximum(raw, 0) / gain + (scale * np.maximum(raw - sky_k, 0)) ** 2)
    return ave, (var / (t_k * t_k)).astype(np.float32)


def _rates(data, s3, t3):
    """Each imset's sky-subtracted count rate, float32 (through one float64 temporary)."""
    rates = np.subtract(data, s3, dtype=np.float64)
    rates /= t3
    return rates.astype(np.float32)


def _thresholds(ave, t3, s3, sig2, rog2, gain, scale):
    """The squared-deviation limits of an iteration, float64 [nexp, ny, nx].

    ``spthresh`` (read and Poisson noise) and ``thresh`` (plus the scale noise) of the
    expected counts ``ave * t + sky``, built in place: two whole-stack arrays where the
    written-out expression makes six, with the same operations in the same order.
    """
    per_time2 = t3 * t3
    expected = ave[None] * t3
    expected += s3
    spthresh = np.maximum(expected, 0)
    spthresh /= gain
    spthresh += rog2
    spthresh *= sig2
    spthresh /= per_time2
    thresh = expected
    thresh -= s3
    np.maximum(thresh, 0, out=thresh)
    thresh *= scale
    np.square(thresh, out=thresh)
    thresh *= sig2
    thresh /= per_time2
    thresh += spthresh
    return spthresh, thresh


def _pixel_variance(pic, t3, s3, rog2, gain, scale):
    """Each imset's variance in DN^2: read noise, Poisson and scale noise of its counts."""
    counts = pic * t3
    counts += s3
    np.maximum(counts, 0, out=counts)
    variance = counts / gain
    variance += rog2
    counts *= scale
    np.square(counts, out=counts)
    variance += counts
    return variance


def _sum_used(values, use):
    """The sum over the imsets of ``values`` where ``use`` (``values`` is overwritten)."""
    values[~use] = 0.0
    return values.sum(axis=0)


def cr_reject(data: np.ndarray, dq: np.ndarray, exptime, *, readnoise: float, gain: float,
              params: CRRejectParameters | None = None) -> CRRejection:
    """Combine CR-SPLIT imsets rejecting cosmic rays (see the module docstring).

    Parameters
    ----------
    data : ndarray [nexp, ny, nx]
        Bias-subtracted imsets, DN (not modified).
    dq : ndarray [nexp, ny, nx]
        Their DQ (not modified).
    exptime : array_like [nexp]
        EXPTIME of each imset, s (all zero: equal weights).
    readnoise : float
        Read noise, DN (READNSE / ATODGAIN).
    gain : float
        ATODGAIN, e-/DN.
    params : CRRejectParameters, optional
        The rejection parameters.

    Returns
    -------
    CRRejection

    Raises
    ------
    ValueError
        Fewer than two imsets, mismatched shapes, negative or partly zero exposure times.
    """
    params = params or CRRejectParameters()
    data = np.asarray(data)
    dq = np.asarray(dq)
    if data.ndim != 3 or data.shape[0] < 2:
        raise ValueError(f"CR rejection needs at least two imsets [nexp, ny, nx], got shape "
                         f"{data.shape}")
    if dq.shape != data.shape:
        raise ValueError(f"dq has shape {dq.shape}, data {data.shape}")
    if not gain > 0:
        raise ValueError(f"gain must be > 0, got {gain}")
    nexp = data.shape[0]
    texp = np.asarray(exptime, np.float64)
    if texp.shape != (nexp,):
        raise ValueError(f"exptime needs {nexp} values, got {texp.shape}")
    efac = _exposure_factors(texp)
    sky = np.array([sky_mode(data[k], dq[k]) if params.skysub == "mode" else 0.0
                    for k in range(nexp)])
    compiled = kernel("crreject")
    if compiled is not None and data.dtype == np.float32 and dq.dtype == np.uint16:
        return _combine_compiled(compiled, data, dq, texp, efac, sky, readnoise, gain, params)
    return _combine(data, dq, texp, efac, sky, readnoise, gain, params)


def _combine(data, dq, texp, efac, sky, readnoise, gain, params) -> CRRejection:
    """The rejection iterations and the combination (the NumPy reference path)."""
    rog2, scale = float(readnoise) ** 2, params.scalense / 100.0
    t3, s3 = efac[:, None, None], sky[:, None, None]
    pic = _rates(data, s3, t3)
    ave, avevar = _initial_guess(data, pic, efac, sky, rog2, gain, scale, params.initgues)
    excluded = (dq & params.badinpdq) != 0
    offsets = disk_offsets(params.crradius)
    psig2 = params.crthresh ** 2 if params.crthresh > 0 else -1.0
    for iteration, sigma in enumerate(params.crsigmas):
        sig2 = sigma * sigma
        if avevar is not None and iteration == 0:
            thresh = np.broadcast_to(sig2 * avevar, pic.shape)
            spthresh = thresh
        else:
            spthresh, thresh = _thresholds(ave, t3, s3, sig2, rog2, gain, scale)
        dev2 = (pic - ave[None]) ** 2
        hit = (dev2 > thresh) & ~excluded
        spill = dilate_mask(hit, offsets) & (dev2 > psig2 * spthresh) & ~hit
        rejected = hit | spill
        use = ~rejected & ~excluded
        weight = np.where(use, t3, 0.0)
        efacsum = weight.sum(axis=0)
        total = _sum_used(pic * t3, use)
        last = iteration == len(params.crsigmas) - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            ave = np.where(efacsum > 0, total / efacsum,
                           params.fillval if last else ave).astype(np.float32)
        del spthresh, thresh, dev2  # not held while the next iteration builds its own
    sumvar = _sum_used(_pixel_variance(pic, t3, s3, rog2, gain, scale), use)
    texpt = float(efac.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.where(efacsum > 0, np.sqrt(sumvar) / efacsum, params.fillval) * texpt
    combined = ave * texpt + float(sky.sum())
    clean = (dq & ~np.uint16(DATAREJECT)).astype(np.uint16)
    out_dq = np.bitwise_or.reduce(clean, axis=0)
    out_dq |= np.where(rejected.all(axis=0), DATAREJECT, 0).astype(np.uint16)
    input_dq = (np.where(rejected, clean | DATAREJECT, clean).astype(np.uint16)
                if params.crmask else dq.astype(np.uint16, copy=True))
    nrej = int(np.count_nonzero(rejected))
    log.debug("sky %s DN, %d pixels rejected", sky, nrej)
    return CRRejection(data=combined.astype(np.float32), err=err.astype(np.float32),
                       dq=out_dq, input_dq=input_dq, rejected=rejected, sky=sky,
                       exptime=float(texp.sum()), nrej=nrej)


def _combine_compiled(compiled, data, dq, texp, efac, sky, readnoise, gain,
                      params) -> CRRejection:
    """:func:`_combine` in the compiled kernel ``crreject`` (float32 data, uint16 DQ).

    The same arithmetic in the same precision, one pass over the stack per iteration with
    no whole-stack temporaries: the results are the NumPy path's bit for bit (signed zeros
    aside), as ``tests/core/test_stis_crreject_native.py`` checks.
    """
    nexp, ny, nx = data.shape
    data = np.ascontiguousarray(data)
    dq = np.ascontiguousarray(dq)
    offsets = np.array(disk_offsets(params.crradius), dtype=np.int64).reshape(-1, 2)
    sig2 = np.array([sigma * sigma for sigma in params.crsigmas], dtype=np.float64)
    psig2 = params.crthresh ** 2 if params.crthresh > 0 else -1.0
    combined = np.empty((ny, nx), np.float32)
    err = np.empty((ny, nx), np.float32)
    out_dq = np.empty((ny, nx), np.uint16)
    input_dq = np.empty((nexp, ny, nx), np.uint16)
    rejected = np.empty((nexp, ny, nx), np.bool_)
    nrej = compiled.reject(
        data, dq, nexp, ny, nx, np.ascontiguousarray(efac, np.float64),
        np.ascontiguousarray(sky, np.float64), sig2, offsets, params.initgues == "median",
        psig2, float(readnoise) ** 2, float(gain), params.scalense / 100.0,
        float(params.fillval), float(efac.sum()), float(sky.sum()), int(params.badinpdq),
        bool(params.crmask), combined, err, out_dq, input_dq, rejected.view(np.uint8))
    log.debug("sky %s DN, %d pixels rejected (compiled)", sky, nrej)
    return CRRejection(data=combined, err=err, dq=out_dq, input_dq=input_dq,
                       rejected=rejected, sky=sky, exptime=float(texp.sum()), nrej=nrej)
