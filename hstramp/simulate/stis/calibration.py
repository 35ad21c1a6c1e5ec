"""Simulated inputs for the rest of calstis's CCD 2-D stage, in the formats calstis reads.

* side-2 raws: OCCDHTAV (CCD housing temperature, deg C) in each SCI header
  (calstis ``cs1/getgrpinfo1.c``); repeated-exposure raws (RPTCORR = PERFORM, CRCORR = OMIT,
  CRSPLIT = 1, NRPTEXP = imsets); other switches and reference names: :func:`derive_fits`;
* a DARKFILE with REF_TEMP and DRK_VS_T in its primary header (``cs1/dodark.c``);
* a SHADFILE: SCI/ERR/DQ imset 1, the extra exposure time in seconds (``cs1/doshad.c``);
* an ATODTAB: CCDAMP CCDGAIN REF_KEY REF_KEY_VALUE NELEM ATOD (``cs1/doatod.c``);
* an IMPHTTAB: primary PARNUM, PHOTZPT, NEXTEND; PHOTFLAM/PHOTPLAM/PHOTBW extensions with
  OBSMODE DATACOL <name> <name>1 NELEM1 PAR1NAMES PAR1VALUES (``lib/getphttab.c``);
* a TDSTAB: OPT_ELEM WAVELENGTH NWL REFTEMP TEMPSENS (``cs1/gettds1.c``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.reference.stis.atod import ATODTAB_FILETYPE
from hstramp.reference.stis.photometry import TDSTAB_FILETYPE
from hstramp.reference.stis.shading import SHADFILE_FILETYPE
from hstramp.simulate._fits import binary_table, constant_extension, image_extension, primary_header
from hstramp.simulate._fits import write_hdulist as _write
from hstramp.simulate.stis.references import write_image_reference

__all__ = [
    "IMPHTTAB_FILETYPE",
    "derive_fits",
    "repeated_exposure_raw",
    "side2_raw",
    "write_atodtab",
    "write_shadfile",
    "write_stis_imphttab",
    "write_tdstab",
    "write_temperature_dark",
]

IMPHTTAB_FILETYPE = "IMAGE PHOTOMETRY TABLE"
_PHOT_EXTENSIONS = ("PHOTFLAM", "PHOTPLAM", "PHOTBW")


def _primary(filetype, descrip, nextend, extra=(), pedigree="MODEL"):
    return primary_header([
        ("NEXTEND", nextend, "number of extensions"),
        ("FILETYPE", filetype, "type of reference file"),
        ("TELESCOP", "HST", "telescope"), ("INSTRUME", "STIS", "instrument"),
        ("DETECTOR", "CCD", "detector"), ("PEDIGREE", pedigree, "origin of the data"),
        ("USEAFTER", "Jan 01 1997 00:00:00", "use after this date"),
        ("DESCRIP", descrip, "description"), *extra])


def derive_fits(source, destination, *, primary=None, sci=None) -> Path:
    """Copy a FITS file with primary keywords and per-imset SCI keywords set.

    Parameters
    ----------
    source, destination : str or Path
        Input (not modified) and output.
    primary : mapping, optional
        Primary-header keyword -> value (None deletes the keyword).
    sci : sequence of mapping, optional
        For imset k+1, SCI-header keyword -> value (None deletes).

    Returns
    -------
    Path
    """
    with fits.open(source) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    for key, value in dict(primary or {}).items():
        _set(hdul[0].header, key, value)
    for k, cards in enumerate(sci or ()):
        header = hdul["SCI", k + 1].header
        for key, value in dict(cards).items():
            _set(header, key, value)
    return _write(hdul, destination)


def _set(header, key, value):
    if value is None:
        header.remove(key, ignore_missing=True)
    else:
        header[key] = value


def side2_raw(source, destination, temperatures) -> Path:
    """A raw with OCCDHTAV (deg C, one per imset; None leaves it out) in its SCI headers.

    EXPNAME (``<rootname[:8]>j``) is added too: calstis requires it wherever OCCDHTAV is
    present, to name the engineering (EPC) temperature table it looks for.
    """
    with fits.open(source) as hdul:
        expname = str(hdul[0].header["ROOTNAME"])[:8].lower() + "j"
    return derive_fits(source, destination, sci=[
        {"OCCDHTAV": None if t is None else float(t), "EXPNAME": expname}
        for t in temperatures])


def repeated_exposure_raw(source, destination) -> Path:
    """A raw turned into a repeated exposure: RPTCORR = PERFORM, CRCORR = OMIT, CRSPLIT = 1,
    NRPTEXP = number of imsets (calstis combines it as if CR-split, ``cs0/sciflags.c``)."""
    with fits.open(source) as hdul:
        nimsets = int(hdul[0].header["NEXTEND"]) // 3
    return derive_fits(source, destination, primary={
        "RPTCORR": "PERFORM", "CRCORR": "OMIT", "CRSPLIT": 1, "NRPTEXP": nimsets})


def write_temperature_dark(path, dark, *, ref_temp=18.0, drk_vs_t=0.07, ltv=(0.0, 0.0),
                           ltm=(1.0, 1.0), err=None, dq=None) -> Path:
    """A side-2 DARKFILE (e-/s) with REF_TEMP and DRK_VS_T (None leaves a keyword out).

    Parameters
    ----------
    path : str or Path
    dark : numpy.ndarray
        Dark rate, e-/s per pixel.
    ref_temp, drk_vs_t : float or None
        Reference temperature (deg C) and fractional slope per deg C.
    ltv, ltm : tuple of float
        Placement on the detector.
    err, dq : numpy.ndarray, optional

    Returns
    -------
    Path
    """
    extra = [(k, float(v), c) for k, v, c in (
        ("REF_TEMP", ref_temp, "reference CCD housing temperature (deg C)"),
        ("DRK_VS_T", drk_vs_t, "dark rate change per deg C (fraction)")) if v is not None]
    return write_image_reference(path, "DARKFILE", dark, err=err, dq=dq, ltv=ltv, ltm=ltm,
                                 bunit="ELECTRONS/S", extra=extra,
                                 descrip="hstramp simulated side-2 dark")


def write_shadfile(path, shading, *, err=None, ltv=(0.0, 0.0), ltm=(1.0, 1.0),
                   pedigree="MODEL") -> Path:
    """A SHADFILE: the extra exposure time per pixel (s) as SCI, ERR, DQ imset 1.

    Parameters
    ----------
    path : str or Path
    shading : numpy.ndarray
        Seconds, ``[ny, nx]`` detector pixels (1024 x 1024 unbinned for the full CCD).
    err : numpy.ndarray, optional
        Its error (constant 0 when None).
    ltv, ltm : tuple of float
    pedigree : str

    Returns
    -------
    Path
    """
    shape = np.shape(shading)
    lt = [("LTV1", float(ltv[0]), ""), ("LTV2", float(ltv[1]), ""),
          ("LTM1_1", float(ltm[0]), ""), ("LTM2_2", float(ltm[1]), "")]
    sci_cards = [("BUNIT", "SECONDS", "units"), *lt]
    hdus = [image_extension("SCI", 1, np.asarray(shading, np.float32), sci_cards),
            constant_extension("ERR", 1, shape, 0.0, sci_cards) if err is None
            else image_extension("ERR", 1, np.asarray(err, np.float32), sci_cards),
            constant_extension("DQ", 1, shape, 0, lt)]
    header = _primary(SHADFILE_FILETYPE, "hstramp simulated shutter shading", 3,
                      pedigree=pedigree)
    return _write(fits.HDUList([fits.PrimaryHDU(header=header), *hdus]), path)


def write_atodtab(path, rows) -> Path:
    """An ATODTAB; each row a mapping with ccdamp, ccdgain, ref_key, ref_key_value, atod
    (array; NELEM = its length) and optionally pedigree.

    Returns
    -------
    Path
    """
    rows = list(rows)
    width = max(len(r["atod"]) for r in rows)
    atod = np.zeros((len(rows), width), np.float32)
    for i, r in enumerate(rows):
        atod[i, :len(r["atod"])] = r["atod"]
    columns = [
        ("CCDAMP", "4A", np.array([r["ccdamp"] for r in rows])),
        ("CCDGAIN", "J", np.array([r["ccdgain"] for r in rows], np.int32)),
        ("REF_KEY", "8A", np.array([r["ref_key"] for r in rows])),
        ("REF_KEY_VALUE", "D", np.array([r["ref_key_value"] for r in rows], np.float64)),
        ("NELEM", "J", np.array([len(r["atod"]) for r in rows], np.int32)),
        ("ATOD", f"{width}E", atod),
        ("PEDIGREE", "30A", np.array([r.get("pedigree", "MODEL") for r in rows])),
        ("DESCRIP", "67A", np.full(len(rows), "hstramp simulated A-to-D correction")),
    ]
    header = _primary(ATODTAB_FILETYPE, "hstramp simulated A-to-D correction", 1)
    return _write(fits.HDUList([fits.PrimaryHDU(header=header),
                                binary_table(columns, "ATODTAB")]), path)


def _imphttab_extension(name, index, modes):
    obsmodes = sorted(modes)
    width = max(len(modes[m][0]) for m in obsmodes)
    grid = np.zeros((len(obsmodes), width))
    values = np.zeros((len(obsmodes), width))
    for i, m in enumerate(obsmodes):
        mjd, flam, plam, bw = modes[m]
        series = [np.asarray(flam, float), np.full(len(mjd), float(plam)),
                  np.full(len(mjd), float(bw))][index]
        grid[i, :len(mjd)] = mjd
        values[i, :len(mjd)] = series
    n = len(obsmodes)
    columns = [
        ("OBSMODE", "40A", np.array(obsmodes)), ("DATACOL", "12A", np.full(n, f"{name}1")),
        (name, "D", values[:, 0]), (f"{name}1", f"{width}D", values),
        ("NELEM1", "J", np.array([len(modes[m][0]) for m in obsmodes], np.int32)),
        ("PAR1NAMES", "12A", np.full(n, "MJD#")), ("PAR1VALUES", f"{width}D", grid),
        ("PEDIGREE", "30A", np.full(n, "MODEL")),
        ("DESCRIP", "67A", np.full(n, "hstramp simulated photometry")),
    ]
    return binary_table(columns, name)


def write_stis_imphttab(path, modes, *, photzpt=-21.10) -> Path:
    """A STIS IMPHTTAB parameterized in MJD.

    Parameters
    ----------
    path : str or Path
    modes : mapping
        obsmode with its ``mjd#`` placeholder (``'stis,50ccd,mirror,ccd,mjd#'``) ->
        ``(mjd grid, PHOTFLAM per grid point, PHOTPLAM, PHOTBW)``.
    photzpt : float
        PHOTZPT of the primary header.

    Returns
    -------
    Path
    """
    hdus = [_imphttab_extension(name, k, modes) for k, name in enumerate(_PHOT_EXTENSIONS)]
    header = _primary(IMPHTTAB_FILETYPE, "hstramp simulated STIS photometry", len(hdus), [
        ("PARNUM", 1, "number of parameterized variables"),
        ("PHOTZPT", float(photzpt), "ST magnitude zero point")])
    return _write(fits.HDUList([fits.PrimaryHDU(header=header), *hdus]), path)


def write_tdstab(path, rows) -> Path:
    """A TDSTAB with the temperature columns calstis cs1 reads.

    Parameters
    ----------
    path : str or Path
    rows : mapping
        OPT_ELEM -> ``(wavelength, tempsens, reftemp)``.

    Returns
    -------
    Path
    """
    names = list(rows)
    width = max(len(rows[n][0]) for n in names)
    wl = np.zeros((len(names), width))
    sens = np.zeros((len(names), width))
    for i, n in enumerate(names):
        wl[i, :len(rows[n][0])] = rows[n][0]
        sens[i, :len(rows[n][1])] = rows[n][1]
    columns = [
        ("OPT_ELEM", "8A", np.array(names)),
        ("NWL", "J", np.array([len(rows[n][0]) for n in names], np.int32)),
        ("WAVELENGTH", f"{width}D", wl), ("TEMPSENS", f"{width}D", sens),
        ("REFTEMP", "D", np.array([rows[n][2] for n in names], np.float64)),
        ("PEDIGREE", "30A", np.full(len(names), "MODEL")),
        ("DESCRIP", "67A", np.full(len(names), "hstramp simulated TDS temperature terms")),
    ]
    header = _primary(TDSTAB_FILETYPE, "hstramp simulated TDS", 1)
    return _write(fits.HDUList([fits.PrimaryHDU(header=header),
                                binary_table(columns, "TDSTAB")]), path)
