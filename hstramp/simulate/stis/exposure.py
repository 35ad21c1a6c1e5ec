"""Simulate a STIS CCD CR-SPLIT exposure, its reference files and its truth.

Per imset ``k`` (exposure time ``t_k``) and raw pixel::

    raw = Poisson((scene * flat + f_k * dark) * t_k) / gain  (charge summed over the bin)
          + cosmic rays / gain + bias image + bias level_k(row, column) + read noise

rounded to uint16, with ``f_k = 1 + DRK_VS_T (OCCDHTAV_k - REF_TEMP)`` the side-2 dark
temperature factor of calstis (the dark file has calstis's defaults, 18 deg C and 0.07;
``f_k = 1`` at the default OCCDHTAV of 18 deg C). The bias level drifts between imsets and
along rows and columns (``b0_k + a_k (row - ny/2) + c_k column``); the serial and virtual
overscans read only bias and read noise. A calstis-like calibration (BLEV, BIAS, CR
rejection, DARK, FLAT) gives back ``scene * T / gain`` in DN (``RATE_DN * EXPTIME`` in the
truth file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp import __version__
from hstramp.core.geometry import corner_from_lt
from hstramp.core.stis.darktemp import (
    dark_temperature_factor,
    dark_temperature_parameters,
    housing_temperature,
)
from hstramp.core.stis.dqflags import DETECTORPROB, HOTPIX, SDQFLAGS_DEFAULT
from hstramp.core.stis.geometry import CCD_NPIX, bin_reference, find_overscan, raw_shape
from hstramp.reference.stis import STISGeometry, read_stis_flats
from hstramp.simulate._fits import (
    constant_extension,
    image_extension,
    primary_header,
    write_hdulist,
)
from hstramp.simulate.scene import render_stars
from hstramp.simulate.stis import references as refs

log = logging.getLogger(__name__)

__all__ = ["SimulatedSTISExposure", "simulate_stis_exposure"]

#: cosmic-ray events per detector pixel per second
CR_RATE = 1.0e-5
#: STIS CCD plate scale, arcsec per unbinned pixel
PLATE_SCALE = 0.05078
_STREAMS = ("detector", "scene", "cosmic_rays", "poisson", "read_noise", "bias")
_SUFFIXES = {"CCDTAB": "ccd", "BPIXTAB": "bpx", "BIASFILE": "bia", "DARKFILE": "drk",
             "PFLTFILE": "pfl", "LFLTFILE": "lfl", "CRREJTAB": "crr"}
#: binning of the low-order flat
LFLAT_BIN = 8


@dataclass(frozen=True, eq=False)
class SimulatedSTISExposure:
    """What :func:`simulate_stis_exposure` wrote.

    Attributes
    ----------
    raw_path, truth_path : Path
        ``<rootname>_raw.fits`` and ``<rootname>_truth.fits``.
    reference_paths : dict
        Keyword -> file.
    oref : Path
        Directory for the ``oref`` environment variable.
    rootname : str
    science : STISGeometry
        Geometry of the trimmed (calibrated) image.
    exptimes : numpy.ndarray
        EXPTIME of each imset, s.
    seed : int
    """

    raw_path: Path
    truth_path: Path
    reference_paths: dict
    oref: Path
    rootname: str
    science: STISGeometry
    exptimes: np.ndarray
    seed: int


@dataclass(frozen=True, eq=False)
class _Layout:
    """Which detector pixels each raw pixel reads."""

    shape: tuple[int, int]
    xdet: np.ndarray     # [nx, binx] detector columns (outside 0..1023: overscan)
    ydet: np.ndarray     # [ny, biny] detector rows (outside: virtual overscan)
    binning: tuple[int, int]
    ltv: tuple[float, float]

    @property
    def ltm(self):
        return (1.0 / self.binning[0], 1.0 / self.binning[1])


def _layout(binning, ccdamp, subarray) -> _Layout:
    bx, by = binning
    if subarray is None:
        ny, nx = raw_shape(binning)
        offx = 19 if ccdamp in "AC" else nx * bx - (CCD_NPIX[1] + 19)
        offy = ny * by - CCD_NPIX[0] if ccdamp in "CD" else 0
    else:
        if binning != (1, 1):
            raise ValueError("simulated subarrays are unbinned")
        nrows, first_row = (int(v) for v in subarray)
        if not 0 < nrows <= CCD_NPIX[0] - first_row or first_row < 0:
            raise ValueError(f"subarray {subarray} does not fit on the detector")
        ny, nx, offx, offy = nrows, CCD_NPIX[1] + 36, 18, -first_row
    xdet = (np.arange(nx * bx) - offx).reshape(nx, bx)
    ydet = (np.arange(ny * by) - offy).reshape(ny, by)
    ltv = tuple(((b - 1) - float(d[0, 0])) / b for b, d in ((bx, xdet), (by, ydet)))
    return _Layout(shape=(ny, nx), xdet=xdet, ydet=ydet, binning=(bx, by), ltv=ltv)


def _bin_detector(image: np.ndarray, layout: _Layout, reduce=np.add) -> np.ndarray:
    """Sum (or ``reduce``) a detector image over the pixels each raw pixel reads (0 for
    overscan)."""
    out = np.zeros(layout.shape, dtype=image.dtype)
    for k in range(layout.binning[1]):
        ys = layout.ydet[:, k]
        vy = (ys >= 0) & (ys < CCD_NPIX[0])
        for m in range(layout.binning[0]):
            xs = layout.xdet[:, m]
            vx = (xs >= 0) & (xs < CCD_NPIX[1])
            block = image[np.clip(ys, 0, CCD_NPIX[0] - 1)][:, np.clip(xs, 0, CCD_NPIX[1] - 1)]
            out = reduce(out, np.where(vy[:, None] & vx[None, :], block, 0))
    return out


def _detector(rng, opt_elem):
    """Dark (e-/s), pixel flat, low-order flat, bad-pixel rows and hot pixels."""
    ny, nx = CCD_NPIX
    dark = np.full(CCD_NPIX, 0.004) + rng.exponential(0.001, CCD_NPIX)
    hot = rng.choice(ny * nx, 400, replace=False)
    dark.flat[hot] = rng.uniform(0.05, 0.5, hot.size)
    pflat = 1.0 + rng.normal(0.0, 0.01, CCD_NPIX)
    n = CCD_NPIX[0] // LFLAT_BIN
    yy, xx = np.mgrid[0:n, 0:n] / n
    lflat = 1.0 + 0.03 * (xx - 0.5) - 0.02 * (yy - 0.5) ** 2
    cols = rng.choice(np.arange(50, nx - 50), 3, replace=False)
    singles = hot[:20]
    bad = {"PIX1": np.concatenate([cols + 1, singles % nx + 1]).astype(np.int16),
           "PIX2": np.concatenate([np.ones(3), singles // nx + 1]).astype(np.int16),
           "LENGTH": np.concatenate([np.full(3, ny), np.ones(20)]).astype(np.int16),
           "AXIS": np.concatenate([np.full(3, 2), np.full(20, 1)]).astype(np.int16),
           "VALUE": np.concatenate([np.full(3, DETECTORPROB), np.full(20, HOTPIX)])
           .astype(np.int16),
           "OPT_ELEM": np.array(["ANY"] * 3 + [opt_elem] * 20)}
    return dark, pflat, lflat, bad


def _full_trimmed(layout_full: _Layout, ccdamp):
    """Shape and LTV of the trimmed full-detector readout with this binning."""
    regions = find_overscan(ccdamp, layout_full.shape[1], layout_full.shape[0],
                            layout_full.binning)
    x1, _x2, y1, _y2 = regions.trim
    return (regions.trimmed_shape(layout_full.shape),
            (layout_full.ltv[0] - x1, layout_full.ltv[1] - y1))


def _write_references(out_dir, rootname, rng, *, binning, ccdamp, ccdgain, opt_elem):
    def name(keyword):
        return out_dir / f"{rootname}_{_SUFFIXES[keyword]}.fits"

    dark, pflat, lflat, bad = _detector(rng, opt_elem)
    full = _layout(binning, ccdamp, None)
    bias_shape, bias_ltv = _full_trimmed(full, ccdamp)
    yy, xx = np.mgrid[0 : bias_shape[0], 0 : bias_shape[1]]
    bias = (0.5 * np.sin(xx / 37.0) + 0.3 * (yy / bias_shape[0])
            + rng.normal(0.0, 0.3, (1, bias_shape[1])) + rng.normal(0.0, 0.2, bias_shape))
    low_ltv = ((LFLAT_BIN - 1) / LFLAT_BIN,) * 2
    paths = {
        "CCDTAB": refs.write_ccdtab(name("CCDTAB")),
        "BPIXTAB": refs.write_bpixtab(name("BPIXTAB"), bad),
        "BIASFILE": refs.write_bias(name("BIASFILE"), bias, ltv=bias_ltv, ltm=full.ltm,
                                    ccdamp=ccdamp, ccdgain=ccdgain, binning=binning),
        "DARKFILE": refs.write_image_reference(name("DARKFILE"), "DARKFILE", dark,
                                               bunit="ELECTRONS/S"),
        "PFLTFILE": refs.write_image_reference(name("PFLTFILE"), "PFLTFILE", pflat,
                                               extra=[("OPT_ELEM", opt_elem, "")]),
        "LFLTFILE": refs.write_image_reference(
            name("LFLTFILE"), "LFLTFILE", lflat, ltv=low_ltv,
            ltm=(1.0 / LFLAT_BIN, 1.0 / LFLAT_BIN), extra=[("OPT_ELEM", opt_elem, "")]),
        "CRREJTAB": refs.write_crrejtab(name("CRREJTAB")),
    }
    return paths, dark, bias, bias_ltv


def _generators(seed):
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {n: np.random.default_rng(s) for n, s in zip(_STREAMS, children, strict=True)}


def _scene(rng, sky_rate, n_stars, t_max, saturate_e, binning):
    n_stars = 40 if n_stars is None else int(n_stars)
    sigma = 0.9
    peak_fraction = min(1.0, binning[0] * binning[1] / (2 * np.pi * sigma**2))
    flux_max = 0.4 * saturate_e / (t_max * peak_fraction)
    stars = {"x": rng.uniform(20, CCD_NPIX[1] - 20, n_stars),
             "y": rng.uniform(20, CCD_NPIX[0] - 20, n_stars),
             "flux": np.exp(rng.uniform(np.log(flux_max / 30), np.log(flux_max), n_stars)),
             "sigma": np.full(n_stars, sigma)}
    return render_stars(stars, CCD_NPIX) + sky_rate, stars


def _cosmic_rays(rng, nexp, exptimes, rate):
    """Events per imset: a central pixel and up to three weaker neighbours (e-), and a map
    of the event each detector pixel belongs to (0: none)."""
    deposits, id_maps = [], []
    table = {"EXPOSURE": [], "ID": [], "X": [], "Y": [], "AMPLITUDE": []}
    next_id = 1
    for k in range(nexp):
        image = np.zeros(CCD_NPIX)
        id_map = np.zeros(CCD_NPIX, np.int64)
        count = int(rng.poisson(rate * CCD_NPIX[0] * CCD_NPIX[1] * exptimes[k]))
        x = rng.integers(1, CCD_NPIX[1] - 1, count)
        y = rng.integers(1, CCD_NPIX[0] - 1, count)
        amp = np.exp(rng.uniform(np.log(300.0), np.log(20000.0), count))
        ids = np.arange(next_id, next_id + count)
        np.add.at(image, (y, x), amp)
        id_map[y, x] = ids
        for _ in range(3):
            tail = rng.random(count) < 0.5
            dy, dx = rng.integers(-1, 2, count), rng.integers(-1, 2, count)
            ty, tx = y[tail] + dy[tail], x[tail] + dx[tail]
            np.add.at(image, (ty, tx), amp[tail] * rng.uniform(0.05, 0.4, int(tail.sum())))
            id_map[ty, tx] = np.where(id_map[ty, tx] == 0, ids[tail], id_map[ty, tx])
        deposits.append(image)
        id_maps.append(id_map)
        next_id += count
        for key, values in (("EXPOSURE", np.full(count, k)), ("ID", ids), ("X", x), ("Y", y),
                            ("AMPLITUDE", amp)):
            table[key].append(values)
    return deposits, id_maps, {k: np.concatenate(v) if v else np.zeros(0)
                               for k, v in table.items()}


def _bias_levels(rng, nexp, ccdbias, drift):
    """``(b0, row slope, column slope)`` per imset, DN."""
    b0 = ccdbias + rng.normal(0.0, 3.0, nexp)
    if not drift:
        return b0, np.zeros(nexp), np.zeros(nexp)
    return b0, rng.normal(0.0, 0.002, nexp), rng.normal(0.0, 0.003, nexp)


def simulate_stis_exposure(out_dir, *, crsplit: int = 2, exptime: float = 600.0,
                           binning=1, subarray=None, ccdamp: str = "D", ccdgain: int = 1,
                           seed: int = 0, sky_rate: float = 0.3, n_stars: int | None = None,
                           cosmic_rays: bool = True, cr_rate: float = CR_RATE,
                           noise: bool = True, bias_drift: bool = True,
                           hot_overscan_column: bool = False, aper_fov: str = "50x50",
                           aperture: str = "50CCD", obstype: str = "IMAGING",
                           opt_elem: str = "MIRROR", expscorr: bool = False,
                           rootname: str | None = None,
                           expstart: float = 55000.25,
                           occdhtav=18.0) -> SimulatedSTISExposure:
    """Write a STIS CCD CR-SPLIT raw file, its reference files and a truth file.

    Parameters
    ----------
    out_dir : str or Path
        Directory for every file (created); it is the ``oref`` directory.
    crsplit : int
        Number of imsets (1..4).
    exptime : float
        Total exposure time, split equally between the imsets, s.
    binning : int or tuple of int
        1, 2 or 4 (or ``(BINAXIS1, BINAXIS2)``).
    subarray : tuple of int, optional
        ``(rows, first detector row)`` of an unbinned subarray (1060 columns, no virtual
        overscan); None for the full detector.
    ccdamp : str
        A, B, C or D.
    ccdgain : int
        1 or 4.
    seed : int
        Seed of everything (same seed, same bytes).
    sky_rate : float
        Sky, e-/s per unbinned pixel.
    n_stars : int, optional
        Stars (default 40).
    cosmic_rays : bool
        Inject cosmic rays (``cr_rate`` events per pixel per second).
    cr_rate : float
        Cosmic-ray rate.
    noise : bool
        Poisson and read noise (False: the expectation, rounded).
    bias_drift : bool
        Bias level varying along rows and columns (else constant per imset); the column
        slope is zero for subarrays, which have no virtual overscan to measure it.
    hot_overscan_column : bool
        A hot column reaching into the virtual overscan (BLEV must clip it).
    aper_fov, aperture, obstype, opt_elem : str
        Header values (APER_FOV ``'28x50'`` flags rows beyond the aperture).
    expscorr : bool
        Header EXPSCORR = PERFORM (the pipeline then also writes the ``_flt``).
    rootname : str, optional
        Default ``osim<seed>q``.
    expstart : float
        EXPSTART of the first imset, MJD.
    occdhtav : float, sequence of float or None
        CCD housing temperature of each imset (deg C; one value for all), written as
        OCCDHTAV with EXPNAME in each SCI header as side-2 raws have them (calstis
        ``cs1/getgrpinfo1.c``); the dark charge is scaled by calstis's factor. None writes
        no OCCDHTAV (calstis then makes no temperature correction, with a warning).

    Returns
    -------
    SimulatedSTISExposure
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    ccdamp = str(ccdamp).upper()
    binning = (binning, binning) if np.isscalar(binning) else tuple(binning)
    if not 1 <= int(crsplit) <= 4:
        raise ValueError(f"crsplit must be 1..4, got {crsplit}")
    if ccdgain not in refs.GAINS:
        raise ValueError(f"ccdgain must be one of {sorted(refs.GAINS)}, got {ccdgain}")
    rootname = rootname or f"osim{seed % 10000:04d}q"
    rng = _generators(seed)
    gain, readnse, ccdbias, saturate = refs.GAINS[ccdgain]
    layout = _layout(binning, ccdamp, subarray)
    regions = find_overscan(ccdamp, layout.shape[1], layout.shape[0], binning)
    x1, _x2, y1, _y2 = regions.trim
    science = STISGeometry(shape=regions.trimmed_shape(layout.shape),
                           ltv=(layout.ltv[0] - x1, layout.ltv[1] - y1), ltm=layout.ltm)
    paths, dark, bias_full, bias_ltv = _write_references(
        out_dir, rootname, rng["detector"], binning=binning, ccdamp=ccdamp, ccdgain=ccdgain,
        opt_elem=opt_elem)
    flat = read_stis_flats(paths["PFLTFILE"], None, paths["LFLTFILE"],
                           geometry=STISGeometry(CCD_NPIX)).data.astype(np.float64)
    nexp = int(crsplit)
    exptimes = np.full(nexp, float(exptime) / nexp)
    starts = expstart + np.concatenate([[0.0], np.cumsum(exptimes + 60.0)[:-1]]) / 86400.0
    temperatures = [None] * nexp if occdhtav is None else \
        [float(t) for t in np.broadcast_to(np.asarray(occdhtav, np.float64), (nexp,))]
    dark_factors = np.array([dark_temperature_factor(
        housing_temperature(t, start), dark_temperature_parameters())
        for t, start in zip(temperatures, starts, strict=True)])
    scene, stars = _scene(rng["scene"], sky_rate, n_stars, exptimes.max(), saturate * gain,
                          binning)
    deposits, id_maps, cr_table = _cosmic_rays(rng["cosmic_rays"], nexp, exptimes,
                                      cr_rate if cosmic_rays else 0.0)
    b0, row_slope, col_slope = _bias_levels(rng["bias"], nexp, ccdbias, bias_drift)
    if not regions.has_virtual_overscan:
        col_slope = np.zeros(nexp)  # nothing could measure it (subarrays)

    # the bias structure under the raw image: the BIASFILE cut to the trimmed region
    sci_corner = np.array(corner_from_lt(science.ltv, science.ltm))
    bias_corner = np.array(corner_from_lt(bias_ltv, layout.ltm))
    offset = (sci_corner - bias_corner) // np.array(binning)
    bias_image = np.zeros(layout.shape)
    bias_image[y1 : y1 + science.shape[0], x1 : x1 + science.shape[1]] = bias_reference = \
        bin_reference(bias_full, science.shape, offset, (1, 1), "sum")
    rows, cols = np.mgrid[0 : layout.shape[0], 0 : layout.shape[1]]
    hot_col = None
    if hot_overscan_column and regions.has_virtual_overscan:
        hot_col = (regions.vx[0] + regions.vx[1]) // 3
    data, cr_dn, cr_id = [], [], []
    for k in range(nexp):
        expected = (scene * flat + dark_factors[k] * dark) * exptimes[k]
        charge = rng["poisson"].poisson(expected).astype(np.float64) if noise else expected
        level = b0[k] + row_slope[k] * (rows - layout.shape[0] / 2) + col_slope[k] * cols
        dn = _bin_detector(charge + deposits[k], layout) / gain + bias_image + level
        if noise:
            dn += rng["read_noise"].normal(0.0, readnse / gain, layout.shape)
        if hot_col is not None:
            dn[regions.vy[0] : regions.vy[1] + 1, hot_col] += 400.0
        data.append(np.clip(np.rint(dn), 0, 65535).astype(np.uint16))
    trim_cut = (slice(y1, y1 + science.shape[0]), slice(x1, x1 + science.shape[1]))
    for k in range(nexp):
        cr_dn.append(_bin_detector(deposits[k], layout)[trim_cut] / gain)
        cr_id.append(_bin_detector(id_maps[k], layout, np.maximum)[trim_cut])
    binned_flux = _bin_detector(scene * flat, layout)[trim_cut]
    binned_flat = _bin_detector(flat, layout)[trim_cut] / (binning[0] * binning[1])
    out_rows = np.arange(science.shape[0]) + y1 - layout.shape[0] / 2
    zerocol = (regions.biassect[0] + regions.biassect[1]) / 2.0 - x1
    true_meanblev = (b0 + row_slope * out_rows.mean()
                     + col_slope * (x1 + zerocol + (science.shape[1] // 2 - zerocol)))
    references = {k: f"oref${p.name}" for k, p in paths.items()}
    raw_path = _write_raw(out_dir / f"{rootname}_raw.fits", data, layout, exptimes, references,
                          rootname=rootname, ccdamp=ccdamp, ccdgain=ccdgain, binning=binning,
                          aper_fov=aper_fov, aperture=aperture, obstype=obstype,
                          opt_elem=opt_elem, expscorr=expscorr, starts=starts,
                          temperatures=temperatures, seed=seed)
    truth_path = _write_truth(
        out_dir / f"{rootname}_truth.fits",
        images={"RATE_DN": binned_flux / binned_flat / gain,
                "DARK_DN": _bin_detector(dark, layout)[trim_cut] / gain,
                "FLAT": binned_flat, "BIAS": bias_reference},
        cubes={"CR_DN": np.stack(cr_dn).astype(np.float32),
               "CR_ID": np.stack(cr_id).astype(np.int32)},
        imsets={"EXPTIME": exptimes, "DARKFACT": dark_factors,
                "MEANBLEV": true_meanblev, "B0": b0,
                "ROWSLOPE": row_slope, "COLSLOPE": col_slope},
        crs=cr_table, stars={k.upper(): v for k, v in stars.items()},
        keywords=[("ROOTNAME", rootname, "simulated exposure"), ("SEED", int(seed), "seed"),
                  ("GAIN", gain, "e-/DN"), ("READNSE", readnse, "e-"),
                  ("SKYRATE", float(sky_rate), "e-/s per unbinned pixel"),
                  ("NOISE", bool(noise), "Poisson and read noise included")])
    log.info("simulated %s: %d imsets of %dx%d, %d cosmic rays", raw_path.name, nexp,
             layout.shape[1], layout.shape[0], cr_table["ID"].size)
    return SimulatedSTISExposure(raw_path=raw_path, truth_path=truth_path,
                                 reference_paths=paths, oref=out_dir, rootname=rootname,
                                 science=science, exptimes=exptimes, seed=seed)


_REFERENCE_KEYWORDS = ("BPIXTAB", "DARKFILE", "PFLTFILE", "DFLTFILE", "LFLTFILE", "PHOTTAB",
                       "APERTAB", "CCDTAB", "ATODTAB", "BIASFILE", "SHADFILE", "CRREJTAB",
                       "IMPHTTAB")
_PERFORM = ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR")
_OMIT = ("ATODCORR", "RPTCORR", "SHADCORR", "PHOTCORR")


def _write_raw(path, data, layout, exptimes, references, *, rootname, ccdamp, ccdgain, binning,
               aper_fov, aperture, obstype, opt_elem, expscorr, starts, temperatures, seed):
    nexp = len(data)
    ends = starts + exptimes / 86400.0
    switches = [(k, "PERFORM", "calibration switch") for k in _PERFORM]
    switches += [(k, "OMIT", "calibration switch") for k in _OMIT]
    switches.append(("EXPSCORR", "PERFORM" if expscorr else "OMIT", "calibration switch"))
    primary = primary_header([
        ("NEXTEND", 3 * nexp, "number of standard extensions"),
        ("FILENAME", path.name, "name of file"), ("FILETYPE", "SCI", "type of data"),
        ("TELESCOP", "HST", "telescope"), ("INSTRUME", "STIS", "instrument"),
        ("ROOTNAME", rootname, "rootname of the observation set"),
        ("TARGNAME", "HSTRAMP-SIMULATION", "proposer's target name"),
        ("RA_TARG", 150.1, "right ascension (deg)"), ("DEC_TARG", 2.2, "declination (deg)"),
        ("PROPOSID", 0, "proposal identifier"),
        ("OBSTYPE", obstype, "observation type"), ("OBSMODE", "ACCUM", "operating mode"),
        ("DETECTOR", "CCD", "detector in use"), ("OPT_ELEM", opt_elem, "optical element"),
        ("APERTURE", aperture, "aperture name"), ("PROPAPER", aperture, "proposed aperture"),
        ("FILTER", "Clear", "filter"), ("APER_FOV", aper_fov, "aperture field of view"),
        ("CRSPLIT", nexp, "number of cosmic ray split exposures"),
        ("NRPTEXP", 1, "number of repeat exposures"),
        ("TEXPTIME", float(np.sum(exptimes)), "total exposure time (s)"),
        ("TEXPSTRT", float(starts[0]), "start time of the first exposure (MJD)"),
        ("TEXPEND", float(ends[-1]), "end time of the last exposure (MJD)"),
        ("CCDAMP", ccdamp, "CCD amplifier"), ("CCDGAIN", int(ccdgain), "commanded gain"),
        ("CCDOFFST", refs.CCDOFFST, "commanded bias offset"),
        ("BINAXIS1", int(binning[0]), "binning along x"),
        ("BINAXIS2", int(binning[1]), "binning along y"),
        *switches,
        *[(k, references.get(k, "N/A"), "reference file") for k in _REFERENCE_KEYWORDS],
        ("OPUS_VER", f"hstramp {__version__}", "software that wrote this file"),
        ("HSTRSEED", int(seed), "hstramp simulation seed"),
    ])
    ny, nx = layout.shape
    bx, by = layout.binning
    lt = [("LTV1", float(layout.ltv[0]), "offset in X to subsection start"),
          ("LTV2", float(layout.ltv[1]), "offset in Y to subsection start"),
          ("LTM1_1", layout.ltm[0], "reciprocal of sampling rate in X"),
          ("LTM2_2", layout.ltm[1], "reciprocal of sampling rate in Y")]
    wcs = [("CRPIX1", (nx + 1) / 2.0, ""), ("CRPIX2", (ny + 1) / 2.0, ""),
           ("CRVAL1", 150.1, ""), ("CRVAL2", 2.2, ""),
           ("CD1_1", -PLATE_SCALE * bx / 3600.0, ""), ("CD1_2", 0.0, ""),
           ("CD2_1", 0.0, ""), ("CD2_2", PLATE_SCALE * by / 3600.0, "")]
    hdus = [fits.PrimaryHDU(header=primary)]
    for k in range(nexp):
        sci = [("BUNIT", "COUNTS", "brightness units"), *lt, *wcs,
               ("EXPTIME", float(exptimes[k]), "exposure duration (seconds)"),
               ("EXPSTART", float(starts[k]), "exposure start time (MJD)"),
               ("EXPEND", float(ends[k]), "exposure end time (MJD)"),
               ("NCOMBINE", 1, "number of image sets combined"),
               ("SDQFLAGS", SDQFLAGS_DEFAULT, "serious data quality flags")]
        if temperatures[k] is not None:
            sci += [("EXPNAME", f"{rootname[:8].lower()}j", "exposure identifier"),
                    ("OCCDHTAV", temperatures[k], "average CCD housing temperature (deg C)")]
        hdus += [image_extension("SCI", k + 1, data[k], sci),
                 constant_extension("ERR", k + 1, layout.shape, 0.0,
                                    [("BUNIT", "COUNTS", "brightness units"), *lt]),
                 constant_extension("DQ", k + 1, layout.shape, 0,
                                    [("BUNIT", "UNITLESS", "units"), *lt])]
    return write_hdulist(fits.HDUList(hdus), path)


def _table(name, columns):
    cols = []
    for key, values in columns.items():
        values = np.asarray(values)
        fmt = "K" if values.dtype.kind in "iu" else ("D" if values.dtype.kind == "f" else "8A")
        cols.append(fits.Column(name=key, format=fmt, array=values))
    return fits.BinTableHDU.from_columns(cols, name=name)


def _write_truth(path, *, images, cubes, imsets, crs, stars, keywords):
    """Truth: RATE_DN, DARK_DN (the dark file's rate, DN/s; imset k had DARKFACT_k times
    it), FLAT, BIAS images (trimmed science pixels), CR_DN [nexp, ny, nx] (cosmic-ray
    charge per imset, DN), CR_ID (the event under each pixel, 0: none), IMSETS (EXPTIME,
    DARKFACT, MEANBLEV ...), CRS and STARS tables."""
    hdus = [fits.PrimaryHDU(header=primary_header(keywords))]
    hdus += [image_extension(n, 1, np.asarray(a, np.float32)) for n, a in images.items()]
    hdus += [image_extension(n, 1, a) for n, a in cubes.items()]
    hdus += [_table("IMSETS", imsets), _table("CRS", crs), _table("STARS", stars)]
    return write_hdulist(fits.HDUList(hdus), path)
