"""Write a complete, mutually consistent WFC3/IR reference-file set in the real CRDS formats.

Files (``<prefix>_ccd.fits`` ...): CCDTAB, OSCNTAB, BPIXTAB, NLINFILE, DARKFILE, PFLTFILE,
DFLTFILE (optional), LFLTFILE, CRREJTAB, IMPHTTAB. Images are full frame (1024 x 1024,
``LTV = +5``) so that subarrays are cut by LTV as with real data, except the dark, which
is written for the science subarray and sample sequence (as calwf3 requires).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.core.geometry import (
    FULL_FRAME_LTV,
    FULL_FRAME_SHAPE,
    REFERENCE_BORDER,
    ScienceGeometry,
)
from hstramp.datamodels import dqflags
from hstramp.simulate._fits import (
    binary_table,
    constant_extension,
    image_extension,
    primary_header,
    write_hdulist,
)
from hstramp.simulate.detector import (
    AMPX,
    AMPY,
    GAIN,
    LFLAT_BIN,
    NOMINAL_CCDGAIN,
    READ_NOISE,
    DetectorModel,
)

log = logging.getLogger(__name__)

__all__ = [
    "REFERENCE_SUFFIXES",
    "binary_table",
    "dark_quality",
    "lflat_placement",
    "reference_primary",
    "write_bpixtab",
    "write_ccdtab",
    "write_crrejtab",
    "write_darkfile",
    "write_flat",
    "write_imphttab",
    "write_nlinfile",
    "write_oscntab",
]

#: file-name suffix of each reference keyword (CRDS style)
REFERENCE_SUFFIXES = {
    "CCDTAB": "ccd", "OSCNTAB": "osc", "BPIXTAB": "bpx", "NLINFILE": "lin",
    "DARKFILE": "drk", "PFLTFILE": "pfl", "DFLTFILE": "dfl", "LFLTFILE": "lfl",
    "CRREJTAB": "crr", "IMPHTTAB": "imp",
}
_USEAFTER = "Jan 01 2009 00:00:00"
_PEDIGREE = "MODEL"
#: dark-current thresholds (e-/s) above which the dark DQ says warm / hot
WARM_DARK_RATE = 0.15
HOT_DARK_RATE = 1.0
#: approximate WFC3/IR photometry (PHOTFLAM erg/cm2/A/e-, PHOTPLAM A, PHOTBW A)
_PHOTOMETRY = {
    "F098M": (6.05e-20, 9864.7, 469.0), "F105W": (3.038e-20, 10551.0, 865.0),
    "F110W": (1.52e-20, 11534.0, 1428.0), "F125W": (2.25e-20, 12486.0, 866.0),
    "F126N": (3.94e-19, 12585.0, 39.0), "F140W": (1.474e-20, 13923.0, 1132.0),
    "F153M": (1.30e-19, 15322.0, 379.0), "F160W": (1.924e-20, 15370.0, 826.0),
    # grisms: G141 from calwf3's header of ibh726meq_ima.fits; G102 of the same order
    "G102": (2.5e-20, 9990.0, 1350.0), "G141": (1.2561e-20, 13886.7, 1666.7),
}
_MJD_GRID = np.array([54900.0, 56000.0, 57500.0, 59000.0, 60500.0, 62000.0])
#: relative PHOTFLAM change per day along the MJD grid (a slow sensitivity loss)
_PHOTFLAM_DRIFT = 2.0e-7


def reference_primary(filetype: str, descrip: str, nextend: int, extra=(), *,
                      detector: str = "IR", pedigree: str = _PEDIGREE) -> fits.Header:
    """Primary header of a WFC3 reference file (FILETYPE, DETECTOR, PEDIGREE, DESCRIP ...).

    Parameters
    ----------
    filetype : str
        FILETYPE.
    descrip : str
        DESCRIP.
    nextend : int
        NEXTEND.
    extra : iterable of tuple
        Further ``(keyword, value, comment)`` cards.
    detector : str
        DETECTOR.
    pedigree : str
        PEDIGREE (``DUMMY`` makes calwf3 skip the step).

    Returns
    -------
    astropy.io.fits.Header
    """
    return primary_header([
        ("NEXTEND", nextend, "number of extensions"),
        ("FILETYPE", filetype, "type of reference file"),
        ("TELESCOP", "HST", "telescope"),
        ("INSTRUME", "WFC3", "instrument"),
        ("DETECTOR", detector, "detector"),
        ("PEDIGREE", pedigree, "origin of the data"),
        ("USEAFTER", _USEAFTER, "use after this date"),
        ("DESCRIP", descrip, "description"),
        *extra,
    ])


def _image_cards(ltv=FULL_FRAME_LTV, ltm=(1.0, 1.0), bunit=None):
    cards = [("BUNIT", bunit, "brightness units")] if bunit else []
    return [
        *cards,
        ("LTV1", float(ltv[0]), "offset in X to subsection start"),
        ("LTV2", float(ltv[1]), "offset in Y to subsection start"),
        ("LTM1_1", float(ltm[0]), "reciprocal of sampling rate in X"),
        ("LTM2_2", float(ltm[1]), "reciprocal of sampling rate in Y"),
    ]


def write_ccdtab(path) -> Path:
    """CCDTAB: rows for each commanded gain; the 2.5 row holds the model's gains.

    Parameters
    ----------
    path : str or Path
        Destination.

    Returns
    -------
    Path
    """
    gains = [2.0, 2.5, 3.0, 4.0]
    n = len(gains)
    scale = np.asarray(gains)[:, None] / NOMINAL_CCDGAIN
    atod = np.asarray(GAIN)[None, :] * scale
    columns = [
        ("CCDAMP", "4A", np.full(n, "ABCD")), ("CCDCHIP", "I", np.ones(n, np.int16)),
        ("CCDGAIN", "E", np.asarray(gains, np.float32)),
        ("BINAXIS1", "I", np.ones(n, np.int16)), ("BINAXIS2", "I", np.ones(n, np.int16)),
        # IR rows have offset 0: calwf3 (getkeys.c) reads CCDOFSTx only for UVIS, leaves 0
        # for IR and selects the row whose CCDOFSTx equal it (or are the wildcard -1)
        *[(f"CCDOFST{a}", "I", np.zeros(n, np.int16)) for a in "ABCD"],
        *[(f"CCDBIAS{a}", "E", np.full(n, 10720.0, np.float32)) for a in "ABCD"],
        *[(f"ATODGN{a}", "E", atod[:, k].astype(np.float32)) for k, a in enumerate("ABCD")],
        *[(f"READNSE{a}", "E", np.full(n, READ_NOISE[k], np.float32))
          for k, a in enumerate("ABCD")],
        ("AMPX", "I", np.full(n, AMPX, np.int16)), ("AMPY", "I", np.full(n, AMPY, np.int16)),
        ("SATURATE", "E", np.full(n, 77500.0, np.float32)),
    ]
    header = reference_primary("CCD PARAMETERS", "hstramp simulated CCD parameters", 1)
    return write_hdulist(fits.HDUList([fits.PrimaryHDU(header=header),
                                       binary_table(columns, "CCDTAB")]), path)


def write_oscntab(path) -> Path:
    """OSCNTAB: one row per IR readout size (full frame and the four subarrays).

    Bias sections are the four reference columns next to the science area on each side
    (one-indexed 2..5 and nx-4..nx-1), trims 5.

    Parameters
    ----------
    path : str or Path
        Destination.

    Returns
    -------
    Path
    """
    sizes = np.array([1024, 522, 266, 138, 74])
    n = sizes.size
    zero = np.zeros(n, np.int16)
    five = np.full(n, REFERENCE_BORDER, np.int16)
    columns = [
        ("CCDAMP", "4A", np.full(n, "ABCD")), ("CCDCHIP", "I", np.ones(n, np.int16)),
        ("BINX", "I", np.ones(n, np.int16)), ("BINY", "I", np.ones(n, np.int16)),
        ("NX", "I", sizes.astype(np.int16)), ("NY", "I", sizes.astype(np.int16)),
        ("TRIMX1", "I", five), ("TRIMX2", "I", five), ("TRIMX3", "I", zero),
        ("TRIMX4", "I", zero), ("TRIMY1", "I", five), ("TRIMY2", "I", five),
        *[(name, "I", zero) for name in ("VX1", "VX2", "VY1", "VY2", "VX3", "VX4", "VY3",
                                         "VY4")],
        ("BIASSECTA1", "I", np.full(n, 2, np.int16)), ("BIASSECTA2", "I", five),
        ("BIASSECTB1", "I", (sizes - 4).astype(np.int16)),
        ("BIASSECTB2", "I", (sizes - 1).astype(np.int16)),
        *[(name, "I", zero) for name in ("BIASSECTC1", "BIASSECTC2", "BIASSECTD1",
                                         "BIASSECTD2")],
    ]
    header = reference_primary("OVERSCAN", "hstramp simulated overscan table", 1)
    return write_hdulist(fits.HDUList([fits.PrimaryHDU(header=header),
                                       binary_table(columns, "OSCNTAB")]), path)


def write_bpixtab(path, rows: dict) -> Path:
    """BPIXTAB with the columns and types of the real IR table (VALUE is a float column).

    Parameters
    ----------
    path : str or Path
        Destination.
    rows : dict
        Columns from :attr:`DetectorModel.bad_pixels`.

    Returns
    -------
    Path
    """
    formats = {"CCDAMP": "4A", "CCDCHIP": "I", "CCDGAIN": "E", "PIX1": "J", "PIX2": "J",
               "LENGTH": "I", "VALUE": "E", "AXIS": "I"}
    table = binary_table([(name, fmt, rows[name]) for name, fmt in formats.items()], "BPIX")
    table.header["SIZAXIS1"] = FULL_FRAME_SHAPE[1]
    table.header["SIZAXIS2"] = FULL_FRAME_SHAPE[0]
    header = reference_primary("BAD PIXELS", "hstramp simulated bad pixel table", 1,
                                [("CCDGAIN", NOMINAL_CCDGAIN, "commanded gain"),
                                 ("CCDAMP", "ABCD", "amplifier configuration")])
    return write_hdulist(fits.HDUList([fits.PrimaryHDU(header=header), table]), path)


def write_nlinfile(path, model: DetectorModel) -> Path:
    """NLINFILE: COEF,1..4; ERR,1..4 (constant); DQ,1; NODE,1; ZSCI,1; ZERR,1 (full frame).

    Parameters
    ----------
    path : str or Path
        Destination.
    model : DetectorModel
        The detector.

    Returns
    -------
    Path
    """
    ncoef = model.coeffs.shape[0]
    cards = _image_cards()
    hdus = [image_extension("COEF", k + 1, model.coeffs[k], cards) for k in range(ncoef)]
    hdus += [constant_extension("ERR", k + 1, FULL_FRAME_SHAPE, 0.0, cards)
             for k in range(ncoef)]
    hdus += [
        image_extension("DQ", 1, np.zeros(FULL_FRAME_SHAPE, np.int16), cards),
        image_extension("NODE", 1, model.node, _image_cards(bunit="COUNTS")),
        image_extension("ZSCI", 1, model.zsci, _image_cards(bunit="COUNTS")),
        image_extension("ZERR", 1, model.zerr, _image_cards(bunit="COUNTS")),
    ]
    header = reference_primary(
        "LINEARITY COEFFICIENTS", "hstramp simulated non-linearity and super-zero", len(hdus),
        [("NCOEF", ncoef, "number of coefficient arrays"),
         ("NERR", ncoef, "number of error arrays")])
    return write_hdulist(fits.HDUList([fits.PrimaryHDU(header=header), *hdus]), path)


def dark_quality(dark_rate: np.ndarray) -> np.ndarray:
    """Dark DQ: HOT (16) above 1 e-/s, WARM (64) above 0.15 e-/s.

    Parameters
    ----------
    dark_rate : numpy.ndarray
        Dark current, e-/s.

    Returns
    -------
    numpy.ndarray
        uint16 DQ.
    """
    dq = np.zeros(dark_rate.shape, np.uint16)
    dq[dark_rate > WARM_DARK_RATE] = dqflags.WARM
    dq[dark_rate > HOT_DARK_RATE] = dqflags.HOT
    return dq


def write_darkfile(path, *, dark_dn_rate: np.ndarray, dq: np.ndarray, times,
                   geometry: ScienceGeometry, samp_seq: str, subtype: str) -> Path:
    """DARKFILE for one SAMP_SEQ and SUBTYPE: one imset per read of the whole sequence.

    Imsets are stored like the science (EXTVER 1 = longest time); ``EXPOS_n`` is the time
    of imset ``n`` and ``SCI,n = dark_dn_rate * EXPOS_n`` (DN since the zeroth read).

    Parameters
    ----------
    path : str or Path
        Destination.
    dark_dn_rate : numpy.ndarray
        ``[ny, nx]`` dark current in DN/s under the science image.
    dq : numpy.ndarray
        ``[ny, nx]`` dark DQ.
    times : array_like
        All read times of the sequence (s since the zeroth read), time order.
    geometry : ScienceGeometry
        Science geometry (the dark has its shape and LTV).
    samp_seq, subtype : str
        SAMP_SEQ and SUBTYPE written to the header.

    Returns
    -------
    Path
    """
    times = np.asarray(times, dtype=np.float64)
    newest_first = times[::-1]
    cards = _image_cards(geometry.ltv, geometry.ltm)
    hdus = []
    for extver, t in enumerate(newest_first, start=1):
        sci = (dark_dn_rate * t).astype(np.float32)
        hdus += [
            image_extension("SCI", extver, sci, [("BUNIT", "COUNTS", "units"), *cards]),
            constant_extension("ERR", extver, geometry.shape, 0.0,
                               [("BUNIT", "COUNTS", "units"), *cards]),
            image_extension("DQ", extver, dq.astype(np.int16),
                            [("BUNIT", "UNITLESS", "units"), *cards]),
            constant_extension("SAMP", extver, geometry.shape, times.size,
                               [("BUNIT", "SAMPLES", "units")]),
            constant_extension("TIME", extver, geometry.shape, float(t),
                               [("BUNIT", "SECONDS", "units")]),
        ]
    expos = [(f"EXPOS_{k}", float(t), f"exposure time of imset {k}")
             for k, t in enumerate(newest_first, start=1)]
    header = reference_primary(
        "DARK", f"hstramp simulated {subtype} {samp_seq} dark", len(hdus),
        [("SAMP_SEQ", samp_seq, "MultiAccum sequence"), ("SUBTYPE", subtype, "subarray type"),
         ("NUMEXPOS", int(times.size), "number of dark imsets"), *expos])
    return write_hdulist(fits.HDUList([fits.PrimaryHDU(header=header), *hdus]), path)


def write_flat(path, *, filetype: str, data: np.ndarray, err: np.ndarray, filter: str,
               ltv=FULL_FRAME_LTV, ltm=(1.0, 1.0), dq=None) -> Path:
    """A flat (PFLT, DFLT or LFLT): one imset SCI, ERR, DQ, SAMP, TIME.

    Parameters
    ----------
    path : str or Path
        Destination.
    filetype : str
        ``PIXEL-TO-PIXEL FLAT``, ``DELTA FLAT`` or ``LARGE SCALE FLAT``.
    data, err : numpy.ndarray
        Flat and its error.
    filter : str
        FILTER keyword.
    ltv, ltm : tuple of float
        Placement (a binned large-scale flat has ``LTM = 1/bin``).
    dq : numpy.ndarray, optional
        DQ (zeros if None).

    Returns
    -------
    Path
    """
    dq = np.zeros(data.shape, np.int16) if dq is None else dq.astype(np.int16)
    cards = _image_cards(ltv, ltm)
    hdus = [
        image_extension("SCI", 1, data.astype(np.float32), cards),
        image_extension("ERR", 1, err.astype(np.float32), cards),
        image_extension("DQ", 1, dq, cards),
        constant_extension("SAMP", 1, data.shape, 0, cards),
        constant_extension("TIME", 1, data.shape, 0.0, cards),
    ]
    header = reference_primary(filetype, f"hstramp simulated {filter} {filetype.lower()}",
                                len(hdus), [("FILTER", filter, "filter")])
    return write_hdulist(fits.HDUList([fits.PrimaryHDU(header=header), *hdus]), path)


def lflat_placement() -> tuple[tuple[float, float], tuple[float, float]]:
    """LTV and LTM of the binned large-scale flat, so that it expands to full frame (LTV 5).

    Returns
    -------
    tuple
        ``((LTV1, LTV2), (LTM1_1, LTM2_2))``.
    """
    ltm = 1.0 / LFLAT_BIN
    # corner of the expanded image = (bin - 1) - bin * LTV = -FULL_FRAME_LTV
    ltv = (FULL_FRAME_LTV[0] + LFLAT_BIN - 1) / LFLAT_BIN
    return (ltv, ltv), (ltm, ltm)


def write_crrejtab(path) -> Path:
    """CRREJTAB: two UVIS rows and one IR up-the-ramp row (IRRAMP true, CRSIGMAS '4').

    Parameters
    ----------
    path : str or Path
        Destination.

    Returns
    -------
    Path
    """
    columns = [
        ("CRSPLIT", "I", np.array([2, 3, 1], np.int16)),
        ("MEANEXP", "E", np.array([0.0, 0.0, 10000.0], np.float32)),
        ("SCALENSE", "E", np.array([30.0, 30.0, 0.0], np.float32)),
        ("INITGUES", "3A", np.array(["med", "med", "med"])),
        ("SKYSUB", "4A", np.array(["mode", "mode", "none"])),
        ("CRSIGMAS", "15A", np.array(["6.5,5.5,4.5", "6.5,5.5,4.5", "4"])),
        ("CRRADIUS", "E", np.array([2.1, 2.1, 0.0], np.float32)),
        ("CRTHRESH", "E", np.array([0.5556, 0.5556, 0.0], np.float32)),
        ("BADINPDQ", "I", np.array([39, 39, 0], np.int16)),
        ("CRMASK", "L", np.array([True, True, False])),
        ("IRRAMP", "L", np.array([False, False, True])),
    ]
    header = reference_primary("COSMIC RAY REJECTION", "hstramp simulated CR rejection", 1)
    return write_hdulist(fits.HDUList([fits.PrimaryHDU(header=header),
                                       binary_table(columns, "CRREJTAB")]), path)


def _imphttab_extension(name: str, index: int) -> fits.BinTableHDU:
    filters = sorted(_PHOTOMETRY)
    n, m = len(filters), _MJD_GRID.size
    drift = 1.0 + _PHOTFLAM_DRIFT * (_MJD_GRID - _MJD_GRID[0]) if index == 0 else np.ones(m)
    values = np.array([_PHOTOMETRY[f][index] * drift for f in filters])
    columns = [
        ("OBSMODE", "40A", np.array([f"wfc3,ir,{f.lower()},mjd#" for f in filters])),
        ("DATACOL", "12A", np.full(n, f"{name}1")),
        (name, "D", values[:, 0]),
        (f"{name}1", f"{m}D", values),
        ("PEDIGREE", "30A", np.full(n, _PEDIGREE)),
        ("DESCRIP", "67A", np.full(n, "hstramp simulated photometry")),
        ("PAR1NAMES", "12A", np.full(n, "MJD#")),
        ("NELEM1", "J", np.full(n, m, np.int32)),
        ("PAR1VALUES", f"{m}D", np.tile(_MJD_GRID, (n, 1))),
    ]
    return binary_table(columns, name)


def write_imphttab(path) -> Path:
    """IMPHTTAB: extensions PHOTFLAM, PHOTPLAM, PHOTBW with ``wfc3,ir,<filter>,mjd#`` rows.

    Parameters
    ----------
    path : str or Path
        Destination.

    Returns
    -------
    Path
    """
    hdus = [_imphttab_extension(name, k) for k, name in enumerate(("PHOTFLAM", "PHOTPLAM",
                                                                    "PHOTBW"))]
    header = reference_primary("IMAGE PHOTOMETRY TABLE", "hstramp simulated photometry",
                                len(hdus), [("PHOTZPT", -21.1, "ST magnitude zero point"),
                                            ("PARNUM", 1, "number of parameterized variables")])
    return write_hdulist(fits.HDUList([fits.PrimaryHDU(header=header), *hdus]), path)
