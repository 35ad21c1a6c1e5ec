"""Simulate a WFC3/IR MultiAccum exposure, its reference files and its truth.

Per read ``i`` (time order) and science pixel::

    raw_i = ZSCI + drift_i + M(Q_i) + read noise            (rounded to uint16)
    Q_i   = charge since reset (DN): Poisson in electrons of
            (RATE_E * FLAT / mean_gain + DARK_E / gain) * (t_i + T_RESET) + TVB + CRs
    M(Q)  = the signal whose calwf3 non-linearity correction is Q, capped at full well

so that calwf3's ZSIG, BLEV, ZOFF, NLIN, DARK, UNIT, CR and FLAT steps give back RATE_E
(e-/s). Reference pixels read ``ZSCI + drift_i + read noise``; for subarrays they are the
detector's own reference pixels in the same rows and columns (as on WFC3).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.core.geometry import (
    FULL_FRAME_LTV,
    FULL_FRAME_SHAPE,
    REFERENCE_BORDER,
    ScienceGeometry,
    amplifier_map,
    cut_to_science,
    flag_runs,
    per_amp_values,
    reference_offset,
)
from hstramp.reference.flat import read_flats
from hstramp.simulate import references as refs
from hstramp.simulate.detector import (
    AMPX,
    AMPY,
    GAIN,
    NOMINAL_CCDGAIN,
    READ_NOISE,
    DetectorModel,
    make_detector_model,
)
from hstramp.simulate.ramp import (
    collect_charge,
    invert_linearity,
    quantize_reads,
    reported_signal,
)
from hstramp.simulate.rawfile import RawExposure, write_raw
from hstramp.simulate.scene import (
    CR_RATE,
    CosmicRays,
    ScanProfile,
    TVBProfile,
    make_cosmic_rays,
    make_scene,
)
from hstramp.simulate.timing import (
    MAX_NSAMP,
    aperture_for_size,
    read_times,
    sample_intervals,
    subtype_for_size,
    zero_read_time,
)
from hstramp.simulate.truth import Truth, write_truth

log = logging.getLogger(__name__)

__all__ = [
    "SimulatedExposure",
    "detector_pixel_indices",
    "simulate_exposure",
    "simulate_tvb_twins",
]

#: standard deviation of the per-read bias drift steps, DN
DRIFT_STEP = 2.0
_STREAMS = ("detector", "scene", "cosmic_rays", "poisson", "read_noise", "drift")


@dataclass(frozen=True, eq=False)
class SimulatedExposure:
    """What :func:`simulate_exposure` wrote.

    Attributes
    ----------
    raw_path : Path
        ``<rootname>_raw.fits``.
    truth_path : Path
        ``<rootname>_truth.fits``.
    reference_paths : dict
        Reference keyword -> file (DFLTFILE only when a delta flat was simulated).
    iref : Path
        Directory to put in the ``iref`` environment variable (the raw header says
        ``iref$<name>.fits``).
    rootname : str
        ROOTNAME.
    geometry : ScienceGeometry
        Shape and LTV of the raw image.
    samp_seq, subtype : str
        SAMP_SEQ and SUBTYPE.
    times : numpy.ndarray
        Read times, s since the zeroth read.
    t_reset : float
        Time from reset to the zeroth read, s.
    seed : int
        The seed.
    """

    raw_path: Path
    truth_path: Path
    reference_paths: dict
    iref: Path
    rootname: str
    geometry: ScienceGeometry
    samp_seq: str
    subtype: str
    times: np.ndarray
    t_reset: float
    seed: int


def _tvb_profile(tvb) -> TVBProfile | None:
    if tvb is None or tvb is False:
        return None
    if tvb is True:
        return TVBProfile()
    if isinstance(tvb, TVBProfile):
        return tvb
    if isinstance(tvb, int | float):
        return TVBProfile(amplitude=float(tvb))
    raise TypeError(f"tvb must be None, True, an amplitude in e-/s or a TVBProfile, got {tvb!r}")


def _default_rootname(seed: int) -> str:
    return f"isim{seed % 10000:04d}q"


def detector_pixel_indices(geometry: ScienceGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the 1024 x 1024 detector each image row / column reads.

    Science pixels sit at ``index + offset``; the 5-pixel borders of a subarray are the
    detector's own reference rows and columns (0..4 and 1019..1023).

    Parameters
    ----------
    geometry : ScienceGeometry
        Image geometry.

    Returns
    -------
    tuple of numpy.ndarray
        ``(rows, cols)``.
    """
    offset = reference_offset(geometry.ltv, FULL_FRAME_LTV)
    b, n_full = REFERENCE_BORDER, FULL_FRAME_SHAPE[0]
    indices = []
    for size, shift in zip(geometry.shape, offset[::-1], strict=True):
        i = np.arange(size)
        indices.append(np.where(i < b, i, np.where(i >= size - b, i - size + n_full,
                                                   i + shift)))
    return indices[0], indices[1]


@dataclass(frozen=True, eq=False)
class _Maps:
    """Detector maps under the image."""

    zsci: np.ndarray       # raw bias of each image pixel (border: reference-pixel level)
    node: np.ndarray
    coeffs: np.ndarray
    dark_e: np.ndarray
    gain: np.ndarray
    read_noise_dn: np.ndarray
    science: np.ndarray    # bool, inside the trim


def _maps_under(model: DetectorModel, geometry: ScienceGeometry) -> _Maps:
    offset = reference_offset(geometry.ltv, FULL_FRAME_LTV)
    rows, cols = detector_pixel_indices(geometry)
    ampmap = amplifier_map(geometry.shape, geometry.ltv, AMPX, AMPY, REFERENCE_BORDER,
                           REFERENCE_BORDER)
    gain = per_amp_values(GAIN, ampmap).astype(np.float64)
    science = np.zeros(geometry.shape, dtype=bool)
    b = REFERENCE_BORDER
    science[b:-b, b:-b] = True
    dark = np.where(science, cut_to_science(model.dark_rate, geometry.shape, offset), 0.0)
    return _Maps(
        zsci=model.zsci[np.ix_(rows, cols)].astype(np.float64),
        node=cut_to_science(model.node, geometry.shape, offset).astype(np.float64),
        coeffs=cut_to_science(model.coeffs, geometry.shape, offset).astype(np.float64),
        dark_e=dark, gain=gain,
        read_noise_dn=per_amp_values(READ_NOISE, ampmap) / (gain * np.sqrt(2.0)),
        science=science,
    )


def _write_references(out_dir: Path, rootname: str, model: DetectorModel, maps: _Maps,
                      geometry: ScienceGeometry, samp_seq: str, subtype: str,
                      filter: str) -> dict:
    def name(keyword):
        return out_dir / f"{rootname}_{refs.REFERENCE_SUFFIXES[keyword]}.fits"

    ltv_low, ltm_low = refs.lflat_placement()
    paths = {
        "CCDTAB": refs.write_ccdtab(name("CCDTAB")),
        "OSCNTAB": refs.write_oscntab(name("OSCNTAB")),
        "BPIXTAB": refs.write_bpixtab(name("BPIXTAB"), model.bad_pixels),
        "NLINFILE": refs.write_nlinfile(name("NLINFILE"), model),
        "DARKFILE": refs.write_darkfile(
            name("DARKFILE"), dark_dn_rate=maps.dark_e / maps.gain,
            dq=refs.dark_quality(maps.dark_e), geometry=geometry, samp_seq=samp_seq,
            subtype=subtype, times=read_times(samp_seq, MAX_NSAMP, subtype)),
        "PFLTFILE": refs.write_flat(name("PFLTFILE"), filetype="PIXEL-TO-PIXEL FLAT",
                                    data=model.pflat, err=model.pflat_err, filter=filter),
        "LFLTFILE": refs.write_flat(name("LFLTFILE"), filetype="LARGE SCALE FLAT",
                                    data=model.lflat, err=model.lflat_err, filter=filter,
                                    ltv=ltv_low, ltm=ltm_low),
        "CRREJTAB": refs.write_crrejtab(name("CRREJTAB")),
        "IMPHTTAB": refs.write_imphttab(name("IMPHTTAB")),
    }
    if model.dflat is not None:
        paths["DFLTFILE"] = refs.write_flat(name("DFLTFILE"), filetype="DELTA FLAT",
                                            data=model.dflat, err=model.dflat_err,
                                            filter=filter)
    return paths


def _applied_bad_pixels(model: DetectorModel, geometry: ScienceGeometry) -> np.ndarray:
    """BPIXTAB rows that apply to CCDGAIN 2.5, chip 1 (-999 is a wildcard), rasterized."""
    rows = model.bad_pixels
    applies = np.isin(rows["CCDGAIN"], [NOMINAL_CCDGAIN, -999.0])
    applies &= np.isin(rows["CCDCHIP"], [1, -999])
    return flag_runs(geometry.shape, geometry.ltv, rows["PIX1"][applies],
                     rows["PIX2"][applies], rows["LENGTH"][applies], rows["AXIS"][applies],
                     rows["VALUE"][applies])


def _tvb_series(profile: TVBProfile | None, times: np.ndarray):
    """Extra background rate (e-/s) at each read and charge (e-) collected up to it."""
    if profile is None:
        return np.zeros(times.size), np.zeros(times.size)
    exptime = float(times[-1])
    return profile.rate(times, exptime), profile.accumulated(times, exptime)


@dataclass(frozen=True, eq=False)
class _Illumination:
    """What a pixel collects: ``rate * interval + background * increment`` + cosmic rays."""

    rate: np.ndarray                   # DN/s [ny, nx] (sources, sky and dark)
    intervals: np.ndarray              # s [nsamp]: reset -> read 0, then read to read
    background: np.ndarray             # DN per e- of the time-variable background [ny, nx]
    background_increments: np.ndarray  # e- [nsamp] of time-variable background per interval
    cosmic_rays: CosmicRays
    scan: Callable[[int], np.ndarray] | None = None  # e- of a spatial scan in interval k

    def mean_increment(self, k: int) -> np.ndarray:
        """Expected DN collected in interval ``k`` (cosmic rays excluded)."""
        mean = self.rate * self.intervals[k] + self.background * self.background_increments[k]
        return mean if self.scan is None else mean + self.background * self.scan(k)

    def deposits(self, k: int, shape) -> np.ndarray:
        """DN the cosmic rays of interval ``k`` add."""
        crs = self.cosmic_rays
        hit = crs.read == k
        deposit = np.zeros(shape)
        np.add.at(deposit, (crs.y[hit], crs.x[hit]), crs.amplitude[hit])
        return deposit


@dataclass(frozen=True, eq=False)
class _Ramp:
    reads: np.ndarray             # uint16 [nsamp, ny, nx], time order
    first_saturated: np.ndarray   # int16 [ny, nx]
    zero_signal: np.ndarray       # linear charge at the zeroth read, DN


def _simulate_reads(maps: _Maps, light: _Illumination, drift: np.ndarray,
                    poisson: np.random.Generator | None,
                    read_noise: np.random.Generator | None) -> _Ramp:
    """Accumulate charge read by read, apply the non-linearity, full well, bias and noise."""
    nsamp, shape = light.intervals.size, maps.zsci.shape
    charge = np.zeros(shape)
    first = np.full(shape, -1, dtype=np.int16)
    reads = np.empty((nsamp, *shape), dtype=np.uint16)
    zero_signal = None
    for k in range(nsamp):
        charge += collect_charge(light.mean_increment(k), maps.gain, poisson)
        charge += light.deposits(k, shape)
        signal = invert_linearity(charge, maps.coeffs, maps.node)
        first = np.where((first < 0) & (signal > maps.node), np.int16(k), first)
        value = maps.zsci + drift[k] + reported_signal(signal, maps.node)
        if read_noise is not None:
            value += read_noise.standard_normal(shape) * maps.read_noise_dn
        reads[k] = quantize_reads(value)
        if k == 0:
            zero_signal = charge.copy()
    return _Ramp(reads=reads, first_saturated=first, zero_signal=zero_signal)


def _scan_charge(scan: ScanProfile | None, geometry: ScienceGeometry, times: np.ndarray):
    """e- of the scan in interval k (k = 0: reset to the zeroth read, before the scan)."""
    if scan is None:
        return None
    starts = np.concatenate([[0.0], times[:-1]])
    return lambda k: scan.charge_between(geometry.shape, REFERENCE_BORDER, starts[k],
                                         times[k], float(times[-1]))


def _generators(seed: int) -> dict:
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(_STREAMS, children, strict=True)}


def _bias_drift(rng: np.random.Generator, nsamp: int) -> np.ndarray:
    """Per-read bias drift (a random walk, DN); the zeroth read has none."""
    steps = rng.normal(0.0, DRIFT_STEP, nsamp)
    steps[0] = 0.0
    return np.cumsum(steps)


def simulate_exposure(out_dir, *, size: int = 64, samp_seq: str = "SPARS10", nsamp: int = 9,
                      seed: int = 0, filter: str = "F160W", tvb=None,
                      rootname: str | None = None, cosmic_rays: bool = True,
                      noise: bool = True, sky_rate: float = 1.0, n_stars: int | None = None,
                      delta_flat: bool = False, expstart: float = 55834.3928,
                      scan: ScanProfile | None = None,
                      staring_scan_type: str | None = "N") -> SimulatedExposure:
    """Write a raw WFC3/IR exposure, its ten reference files and a truth file.

    Parameters
    ----------
    out_dir : str or Path
        Directory for every file (created if missing); it is the ``iref`` directory.
    size : int
        Science pixels per side: 64, 128, 256, 512 (subarrays) or 1014 (full frame).
    samp_seq : str
        RAPID, SPARS10/25/50/100/200 or STEP25/50/100/200/400.
    nsamp : int
        Reads including the zeroth read (2..16).
    seed : int
        Seed of everything; the same seed gives byte-identical files.
    filter : str
        FILTER (the flats and IMPHTTAB are written for it).
    tvb : None, True, float or TVBProfile
        Time-variable background: None for none, True for the default He I-like rise to
        1 e-/s, a number for that amplitude (e-/s), or a :class:`TVBProfile`.
    rootname : str, optional
        ROOTNAME; default ``isim<seed>q``. Reference files are ``<rootname>_<suffix>.fits``.
    cosmic_rays : bool
        Inject cosmic rays.
    noise : bool
        Poisson and read noise; False gives the noiseless expectation (rounded to DN).
    sky_rate : float
        Sky, e-/s.
    n_stars : int, optional
        Number of stars (default about one per 300 pixels, at least 5).
    delta_flat : bool
        Write a delta flat; otherwise DFLTFILE is 'N/A'.
    expstart : float
        EXPSTART, MJD.
    scan : ScanProfile, optional
        A spatial scan added to the scene (and its SCAN_TYP to the header); None: none.
    staring_scan_type : str or None
        SCAN_TYP of an exposure without ``scan``: 'N', the archive's value for a staring
        exposure (the steps then skip the search for a scan in the ramps); None writes no
        SCAN_TYP (as OPUS headers before 2013; the steps search the ramps).

    Returns
    -------
    SimulatedExposure
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    rootname = rootname or _default_rootname(seed)
    profile = _tvb_profile(tvb)
    geometry = ScienceGeometry.for_science_size(size)
    subtype, samp_seq = subtype_for_size(size), str(samp_seq).strip().upper()
    times = read_times(samp_seq, nsamp, subtype)
    t_reset = zero_read_time(times)
    rng = _generators(seed)

    model = make_detector_model(rng["detector"], delta_flat=delta_flat)
    maps = _maps_under(model, geometry)
    paths = _write_references(out_dir, rootname, model, maps, geometry, samp_seq, subtype,
                              filter)
    flat = read_flats(paths["PFLTFILE"], paths.get("DFLTFILE"), paths["LFLTFILE"],
                      geometry=geometry, filter=filter).data.astype(np.float64)

    scene = make_scene(rng["scene"], geometry, sky_rate=sky_rate, n_stars=n_stars)
    crs = make_cosmic_rays(rng["cosmic_rays"], geometry, times,
                           rate=CR_RATE if cosmic_rays else 0.0)
    drift = _bias_drift(rng["drift"], times.size)
    mean_gain = model.mean_gain
    rate_dn = scene.rate * flat / mean_gain
    dark_dn = maps.dark_e / maps.gain
    tvb_rate, tvb_charge = _tvb_series(profile, times)
    ramp = _simulate_reads(
        maps, _Illumination(
            rate=rate_dn + dark_dn,
            # intervals of charge collection; the first runs from the reset to the zeroth read
            intervals=np.diff(np.concatenate([[-t_reset], times])),
            background=np.where(maps.science, flat / mean_gain, 0.0),
            background_increments=np.diff(np.concatenate([[0.0], tvb_charge])),
            cosmic_rays=crs, scan=_scan_charge(scan, geometry, times)),
        drift, rng["poisson"] if noise else None, rng["read_noise"] if noise else None)

    references = {k: f"iref${p.name}" for k, p in paths.items()}
    raw_path = write_raw(out_dir / f"{rootname}_raw.fits", RawExposure(
        reads=ramp.reads, times=times, intervals=sample_intervals(samp_seq, nsamp, subtype),
        geometry=geometry, rootname=rootname, filter=filter,
        samp_seq=samp_seq, subtype=subtype, aperture=aperture_for_size(size),
        expstart=expstart, sampzero=t_reset, references=references, seed=seed,
        scan_type=scan.scan_type if scan is not None else staring_scan_type))
    truth = Truth(
        images={
            "RATE_E": scene.rate.astype(np.float32), "RATE_DN": rate_dn.astype(np.float32),
            "DARK_E": maps.dark_e.astype(np.float32), "DARK_DN": dark_dn.astype(np.float32),
            "FLAT": flat.astype(np.float32), "GAIN": maps.gain.astype(np.float32),
            "BIAS": maps.zsci.astype(np.float32),
            "ZEROSIG": ramp.zero_signal.astype(np.float32), "FIRSTSAT": ramp.first_saturated,
            "BADPIX": _applied_bad_pixels(model, geometry),
        },
        times=times, drift=drift, tvb_rate=tvb_rate, tvb_charge=tvb_charge,
        cosmic_rays={"X": crs.x, "Y": crs.y, "READ": crs.read, "TIME": crs.time,
                     "AMPLITUDE": crs.amplitude},
        stars={k.upper(): v for k, v in scene.stars.items()},
        keywords=_truth_keywords(rootname, seed, size, subtype, samp_seq, times, t_reset,
                                 mean_gain, sky_rate, noise, profile, crs, filter),
    )
    truth_path = write_truth(out_dir / f"{rootname}_truth.fits", truth)
    log.info("simulated %s: %s %s NSAMP=%d, %d cosmic rays", raw_path.name, subtype,
             samp_seq, times.size, crs.count)
    return SimulatedExposure(raw_path=raw_path, truth_path=truth_path, reference_paths=paths,
                             iref=out_dir, rootname=rootname, geometry=geometry,
                             samp_seq=samp_seq, subtype=subtype, times=times,
                             t_reset=t_reset, seed=seed)


def _truth_keywords(rootname, seed, size, subtype, samp_seq, times, t_reset, mean_gain,
                    sky_rate, noise, profile, crs, filter) -> list:
    tvb = profile or TVBProfile(amplitude=0.0)
    return [
        ("ROOTNAME", rootname, "simulated exposure"),
        ("SEED", int(seed), "simulation seed"),
        ("SIZE", int(size), "science pixels per side"),
        ("SUBTYPE", subtype, "subarray type"),
        ("SAMP_SEQ", samp_seq, "sample sequence"),
        ("NSAMP", int(times.size), "reads incl. the zeroth read"),
        ("FILTER", filter, "filter"),
        ("T_RESET", float(t_reset), "s from reset to the zeroth read"),
        ("MEANGAIN", float(mean_gain), "mean amplifier gain, e-/DN"),
        ("SKYRATE", float(sky_rate), "sky, e-/s"),
        ("NOISE", bool(noise), "Poisson and read noise included"),
        ("TVB", profile is not None, "time-variable background present"),
        ("TVBAMP", float(tvb.amplitude), "TVB rate after the rise, e-/s"),
        ("TVBON", float(tvb.onset), "TVB rise start, fraction of EXPTIME"),
        ("TVBDUR", float(tvb.duration), "TVB rise length, fraction of EXPTIME"),
        ("NCR", crs.count, "number of cosmic rays"),
    ]


def simulate_tvb_twins(out_dir, seed: int = 0, *, tvb=True, **kwargs
                       ) -> tuple[SimulatedExposure, SimulatedExposure]:
    """Two exposures with the same detector, sources, cosmic rays and seed: one steady and
    one with a He I-like time-variable background.

    Parameters
    ----------
    out_dir : str or Path
        Directory for both sets of files.
    seed : int
        Seed shared by both.
    tvb : True, float or TVBProfile
        The background of the affected twin (default: rise to 1 e-/s mid-exposure).
    **kwargs
        Passed to :func:`simulate_exposure` (``size``, ``samp_seq``, ``nsamp`` ...).

    Returns
    -------
    tuple of SimulatedExposure
        ``(steady, affected)``, rootnames ``itvs<seed>q`` and ``itva<seed>q``.
    """
    if tvb is None or tvb is False:
        raise ValueError("simulate_tvb_twins needs a time-variable background (tvb)")
    tag = f"{seed % 10000:04d}"
    steady = simulate_exposure(out_dir, seed=seed, tvb=None, rootname=f"itvs{tag}q", **kwargs)
    affected = simulate_exposure(out_dir, seed=seed, tvb=tvb, rootname=f"itva{tag}q",
                                 **kwargs)
    return steady, affected
