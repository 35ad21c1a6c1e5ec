"""Simulated reference files for a real exposure, under the names its header asks for.

The real CRDS files a raw names (``iref$t2c16200i_ccd.fits`` ...) are not always at hand.
:func:`simulate_references` writes files of the same types and geometry (subarray and LTV,
sample sequence, filter; for STIS amplifier, gain, binning and optical element) under
exactly those names, so ``iref=DIR strun wfc3ir_pipeline RAW`` (``oref`` for STIS) runs with
no overrides. The values are the simulator's, not the detector's: every file carries
``SIMULATD = T`` in its primary header, and a pipeline that uses one marks its products
``SIMREFS = T`` and warns (:mod:`hstramp.reference.provenance`).

One value is taken from the exposure itself: the WFC3/IR super-zero read (NLINFILE ZSCI)
under the exposure is the exposure's own zeroth read. The real detector's bias differs by
up to ~2,000 DN between quadrants and by ~600 DN (rms) from pixel to pixel, and the
simulated super-zero knows neither, so ZSIG would flag half the pixels ZERO_READ_SIGNAL.
With the exposure's zeroth read as super-zero, ZSIG finds no zero-read signal (the signal
collected before the zeroth read is not restored by NLIN) and flags nothing.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from astropy.io import fits

from hstramp.errors import InputFileError, OutputFileError
from hstramp.reference.provenance import REFERENCE_KEYWORD

__all__ = ["references_for", "simulate_references"]

log = logging.getLogger(__name__)

#: WFC3/IR readout size (with the reference border) -> simulator science size
_SIZES = {138: 128, 266: 256, 74: 64, 522: 512, 1024: 1014}
_NOT_APPLICABLE = ("N/A", "NONE", "")


def _named_references(header, path, keywords) -> dict:
    """Keyword -> file name the header asks for (``iref$x_ccd.fits`` -> ``x_ccd.fits``)."""
    named = {}
    for keyword in keywords:
        value = str(header.get(keyword, "")).strip()
        if value.upper() in _NOT_APPLICABLE:
            continue
        named[keyword] = Path(value.split("$", 1)[-1]).name
    if not named:
        raise InputFileError(f"{path}: the header names no reference file "
                             f"({', '.join(keywords)} are all absent or N/A)")
    return named


def _simulate_wfc3(raw_path, stage: Path, named: dict, seed: int) -> dict:
    """Simulate the WFC3/IR set for the raw's geometry; ZSCI from its zeroth read."""
    from hstramp.datamodels import read_multiaccum
    from hstramp.simulate.exposure import simulate_exposure

    model = read_multiaccum(raw_path)
    ny = model.data.shape[1]
    if ny not in _SIZES:
        raise InputFileError(f"{raw_path}: no simulated geometry for a {ny}-pixel readout")
    sim = simulate_exposure(stage, size=_SIZES[ny], samp_seq=model.meta.exposure.samp_seq,
                            nsamp=model.ngroups, seed=seed, filter=model.meta.instrument.filter,
                            expstart=model.meta.exposure.expstart, cosmic_rays=False,
                            noise=False, delta_flat="DFLTFILE" in named)
    if "NLINFILE" in sim.reference_paths:
        ltv = (model.meta.subarray.ltv1, model.meta.subarray.ltv2)
        _zeroth_read_as_super_zero(sim.reference_paths["NLINFILE"], model.data[0], ltv)
    return sim.reference_paths


def _zeroth_read_as_super_zero(nlinfile, zeroth_read, ltv) -> None:
    """Put the exposure's zeroth read (science pixels) into the NLINFILE's ZSCI."""
    from hstramp.core.geometry import REFERENCE_BORDER, reference_offset

    b = REFERENCE_BORDER
    with fits.open(nlinfile, mode="update") as hdul:
        hdu = hdul["ZSCI", 1]
        x0, y0 = reference_offset(ltv, (hdu.header["LTV1"], hdu.header["LTV2"]))
        ny, nx = zeroth_read.shape
        zsci = hdu.data.copy()
        zsci[y0 + b:y0 + ny - b, x0 + b:x0 + nx - b] = zeroth_read[b:-b, b:-b]
        hdu.data = zsci


def _simulate_stis(raw_path, stage: Path, header, seed: int) -> dict:
    """Simulate the STIS CCD set for the raw's amplifier, gain, binning and element."""
    from hstramp.simulate.stis import simulate_stis_exposure

    try:
        sim = simulate_stis_exposure(
            stage, crsplit=1, exptime=1.0, seed=seed, cosmic_rays=False, noise=False,
            binning=(int(header.get("BINAXIS1", 1)), int(header.get("BINAXIS2", 1))),
            ccdamp=str(header.get("CCDAMP", "D")).strip(), ccdgain=int(header.get("CCDGAIN", 1)),
            opt_elem=str(header.get("OPT_ELEM", "MIRROR")).strip())
    except (ValueError, KeyError) as exc:
        raise InputFileError(f"{raw_path}: no simulated STIS reference set for this "
                             f"exposure: {exc}") from exc
    return sim.reference_paths


def _mark_simulated(path: Path, raw_name: str) -> None:
    with fits.open(path, mode="update") as hdul:
        hdul[0].header[REFERENCE_KEYWORD] = (True, "simulated by hstramp, not a real reference")
        hdul[0].header.add_history(f"hstramp simulated reference file for {raw_name}; the "
                                   "values are the simulator's, not the detector's")


def simulate_references(raw_path, out_dir, seed: int = 0, *, overwrite: bool = False) -> dict:
    """Write simulated reference files for a WFC3/IR or STIS CCD raw, named as its header asks.

    Parameters
    ----------
    raw_path : str or Path
        The exposure (``_raw.fits``, or a WFC3 ``_ima.fits``).
    out_dir : str or Path
        Directory for the files (created); point ``iref`` (WFC3) or ``oref`` (STIS) at it.
    seed : int
        Simulator seed.
    overwrite : bool
        Replace files of the same names already in ``out_dir``.

    Returns
    -------
    dict
        Header keyword (``CCDTAB`` ...) -> path written. Keywords that are 'N/A', and
        types hstramp does not use (IDCTAB ...), get no file.

    Raises
    ------
    InputFileError
        Not a WFC3 or STIS exposure, no reference keyword in the header, or a geometry the
        simulator cannot make.
    OutputFileError
        A file exists and ``overwrite`` is False; nothing is written then.
    """
    from hstramp.pipeline import pipeline_reference_types
    from hstramp.reference.crds import INSTRUMENT_PREFIX

    raw_path = Path(raw_path)
    try:
        header = fits.getheader(raw_path, 0)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{raw_path} is not a readable FITS file: {exc}") from exc
    instrument = str(header.get("INSTRUME", "")).strip().upper()
    if instrument not in INSTRUMENT_PREFIX:
        raise InputFileError(f"{raw_path}: INSTRUME = {instrument!r}; hstramp simulates "
                             "reference files for WFC3 and STIS exposures only")
    keywords = [t.upper() for t in pipeline_reference_types(instrument)]
    named = _named_references(header, raw_path, keywords)
    out_dir = Path(out_dir)
    clashes = [name for name in named.values() if (out_dir / name).exists()]
    if clashes and not overwrite:
        raise OutputFileError(f"{out_dir}: {', '.join(clashes)} exist already; remove them "
                              "or allow overwriting")
    with tempfile.TemporaryDirectory(prefix="hstramp-simulating-") as tmp:
        stage = Path(tmp)
        if instrument == "WFC3":
            made = _simulate_wfc3(raw_path, stage, named, seed)
        else:
            made = _simulate_stis(raw_path, stage, header, seed)
        lacking = sorted(set(named) - set(made))
        if lacking:
            raise InputFileError(f"{raw_path}: the simulator makes no {', '.join(lacking)} "
                                 "for this exposure")
        for keyword in named:
            _mark_simulated(made[keyword], raw_path.name)
        written = {}
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for keyword, name in named.items():
                written[keyword] = Path(shutil.move(made[keyword], out_dir / name))
        except OSError as exc:
            for path in written.values():
                path.unlink(missing_ok=True)
            raise OutputFileError(f"cannot write simulated references to {out_dir}: {exc}"
                                  ) from exc
    log.info("%s: %d simulated reference files in %s", raw_path.name, len(written), out_dir)
    return written


def references_for(raw_path, out_dir, seed: int = 0) -> dict:
    """:func:`simulate_references`, keyed for ``override_<keyword>`` step parameters.

    Returns
    -------
    dict
        Lower-case keyword (``darkfile`` ...) -> path.
    """
    written = simulate_references(raw_path, out_dir, seed, overwrite=True)
    return {keyword.lower(): path for keyword, path in written.items()}

