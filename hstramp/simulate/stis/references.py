"""Write a STIS CCD reference-file set in the CRDS layouts calstis reads.

CCDTAB, BPIXTAB, CRREJTAB (tables in HDU 1), BIASFILE (per binning), DARKFILE (e-/s,
unbinned), PFLTFILE (unbinned) and LFLTFILE (binned, low order); every primary header has
FILETYPE, INSTRUME = STIS, DETECTOR = CCD, PEDIGREE, DESCRIP, USEAFTER.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.reference.stis.common import STIS_FILETYPES
from hstramp.simulate._fits import (
    binary_table,
    constant_extension,
    image_extension,
    primary_header,
)
from hstramp.simulate._fits import write_hdulist as _write

__all__ = [
    "GAINS",
    "write_bias",
    "write_bpixtab",
    "write_ccdtab",
    "write_crrejtab",
    "write_image_reference",
]

#: (ATODGAIN e-/DN, READNSE e-, CCDBIAS DN, SATURATE DN) per commanded CCDGAIN
GAINS = {1: (1.0, 5.4, 1350.0, 33000.0), 4: (4.016, 7.7, 1510.0, 65000.0)}
#: CCDOFFST the simulated exposures use
CCDOFFST = 3
BLEV_CLIP = 50.0


def _primary(keyword: str, descrip: str, nextend: int, extra=(), pedigree: str = "MODEL"):
    return primary_header([
        ("NEXTEND", nextend, "number of extensions"),
        ("FILETYPE", STIS_FILETYPES[keyword][0], "type of reference file"),
        ("TELESCOP", "HST", "telescope"), ("INSTRUME", "STIS", "instrument"),
        ("DETECTOR", "CCD", "detector"), ("PEDIGREE", pedigree, "origin of the data"),
        ("USEAFTER", "Jan 01 1997 00:00:00", "use after this date"),
        ("DESCRIP", descrip, "description"), *extra])


def _table_file(path, keyword, columns, descrip, table_cards=()):
    table = binary_table(columns, keyword)
    for key, value in table_cards:
        table.header[key] = value
    return _write(fits.HDUList([fits.PrimaryHDU(header=_primary(keyword, descrip, 1)), table]),
                  path)


def write_ccdtab(path) -> Path:
    """CCDTAB: a row per amplifier and commanded gain (BINAXIS wildcards -1), CCDOFFST 3.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Path
    """
    rows = [(amp, gain) for amp in "ABCD" for gain in sorted(GAINS)]
    n = len(rows)

    def per_row(k):
        return np.array([GAINS[g][k] for _a, g in rows], np.float32)

    columns = [
        ("CCDAMP", "1A", np.array([a for a, _g in rows])),
        ("CCDGAIN", "I", np.array([g for _a, g in rows], np.int16)),
        ("CCDOFFST", "I", np.full(n, CCDOFFST, np.int16)),
        ("BINAXIS1", "I", np.full(n, -1, np.int16)), ("BINAXIS2", "I", np.full(n, -1, np.int16)),
        ("ATODGAIN", "E", per_row(0)), ("READNSE", "E", per_row(1)),
        ("CCDBIAS", "E", per_row(2)), ("SATURATE", "E", per_row(3)),
        ("BLEV_CLIP", "E", np.full(n, BLEV_CLIP, np.float32)),
        ("PEDIGREE", "20A", np.full(n, "MODEL")),
        ("DESCRIP", "40A", np.full(n, "hstramp simulated STIS CCD parameters")),
    ]
    return _table_file(path, "CCDTAB", columns, "hstramp simulated STIS CCD parameters")


def write_bpixtab(path, rows: dict) -> Path:
    """BPIXTAB: PIX1 PIX2 LENGTH AXIS VALUE OPT_ELEM; SIZAXIS1/2 = 1024 in the table header.

    Parameters
    ----------
    path : str or Path
    rows : dict
        Column arrays (PIX1, PIX2, LENGTH, AXIS, VALUE, OPT_ELEM).

    Returns
    -------
    Path
    """
    formats = {"PIX1": "I", "PIX2": "I", "LENGTH": "I", "AXIS": "I", "VALUE": "I",
               "OPT_ELEM": "8A"}
    columns = [(name, fmt, rows[name]) for name, fmt in formats.items()]
    return _table_file(path, "BPIXTAB", columns, "hstramp simulated STIS bad pixels",
                       [("SIZAXIS1", 1024), ("SIZAXIS2", 1024)])


def write_crrejtab(path) -> Path:
    """CRREJTAB: rows for CRSPLIT 2..4 and two MEANEXP ranges (short and long exposures).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Path
    """
    splits = np.repeat([2, 3, 4], 2).astype(np.int16)
    meanexp = np.tile([200.0, 1.0e6], 3).astype(np.float32)
    n = splits.size
    columns = [
        ("CRSPLIT", "I", splits), ("MEANEXP", "E", meanexp),
        ("SCALENSE", "E", np.zeros(n, np.float32)),
        ("INITGUES", "8A", np.full(n, "minimum")), ("SKYSUB", "8A", np.full(n, "mode")),
        ("CRSIGMAS", "20A", np.tile(["4,3", "5,4,3"], 3)),
        ("CRRADIUS", "E", np.full(n, 1.5, np.float32)),
        ("CRTHRESH", "E", np.full(n, 0.8, np.float32)),
        ("BADINPDQ", "I", np.zeros(n, np.int16)), ("CRMASK", "L", np.ones(n, bool)),
    ]
    return _table_file(path, "CRREJTAB", columns, "hstramp simulated CR rejection parameters")


def _lt_cards(ltv, ltm, bunit=None):
    cards = [("BUNIT", bunit, "units")] if bunit else []
    return [*cards, ("LTV1", float(ltv[0]), "offset in X to subsection start"),
            ("LTV2", float(ltv[1]), "offset in Y to subsection start"),
            ("LTM1_1", float(ltm[0]), "reciprocal of sampling rate in X"),
            ("LTM2_2", float(ltm[1]), "reciprocal of sampling rate in Y")]


def write_image_reference(path, keyword: str, data, *, err=None, dq=None, ltv=(0.0, 0.0),
                          ltm=(1.0, 1.0), bunit=None, extra=(), descrip=None) -> Path:
    """An image reference (SCI, ERR, DQ imset 1; a zero ERR/DQ is a constant extension).

    Parameters
    ----------
    path : str or Path
    keyword : str
        ``BIASFILE``, ``DARKFILE``, ``PFLTFILE``, ``DFLTFILE`` or ``LFLTFILE``.
    data : numpy.ndarray
        The image.
    err, dq : numpy.ndarray, optional
        Its error and DQ (constant 0 when None).
    ltv, ltm : tuple of float
        Placement on the detector.
    bunit : str, optional
        BUNIT of SCI and ERR.
    extra : iterable of tuple
        Further primary cards.
    descrip : str, optional
        DESCRIP.

    Returns
    -------
    Path
    """
    cards = _lt_cards(ltv, ltm, bunit)
    shape = np.shape(data)
    hdus = [image_extension("SCI", 1, np.asarray(data, np.float32), cards)]
    hdus.append(constant_extension("ERR", 1, shape, 0.0, cards) if err is None
                else image_extension("ERR", 1, np.asarray(err, np.float32), cards))
    hdus.append(constant_extension("DQ", 1, shape, 0, _lt_cards(ltv, ltm)) if dq is None
                else image_extension("DQ", 1, np.asarray(dq).astype(np.int16),
                                     _lt_cards(ltv, ltm)))
    header = _primary(keyword, descrip or f"hstramp simulated {keyword.lower()}", 3, extra)
    return _write(fits.HDUList([fits.PrimaryHDU(header=header), *hdus]), path)


def write_bias(path, bias, *, ltv, ltm, ccdamp, ccdgain, binning) -> Path:
    """BIASFILE for one amplifier, gain and binning (DN per binned pixel).

    Parameters
    ----------
    path : str or Path
    bias : numpy.ndarray
        Bias structure under the trimmed image, DN.
    ltv, ltm : tuple of float
        Placement.
    ccdamp : str
    ccdgain : int
    binning : tuple of int

    Returns
    -------
    Path
    """
    extra = [("CCDAMP", ccdamp, "amplifier"), ("CCDGAIN", int(ccdgain), "commanded gain"),
             ("BINAXIS1", int(binning[0]), "binning in x"),
             ("BINAXIS2", int(binning[1]), "binning in y")]
    return write_image_reference(path, "BIASFILE", bias, ltv=ltv, ltm=ltm, bunit="COUNTS",
                                 extra=extra)
