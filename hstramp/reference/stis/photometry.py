"""STIS PHOTCORR references: the IMPHTTAB lookup with calstis's failure rule, and the
temperature columns of the TDSTAB (calstis ``cs1/dophot.c``, ``cs1/gettds1.c``).

The IMPHTTAB format is the one calwf3 reads, so the lookup is
:func:`hstramp.reference.photometry.read_imphttab`; STIS differs in what a failed lookup
means: calstis warns "photmode not found" and writes PHOTCORR = SKIPPED instead of
stopping (any GetPhotTab failure, an MJD outside the table included). A missing file
is still an error, as in calstis.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from hstramp.core.stis.photometry import TDSTemperature, imphttab_obsmode
from hstramp.reference.common import (
    ReferenceFileError,
    column,
    open_reference,
    same_string,
    table_hdu,
)
from hstramp.reference.photometry import read_imphttab
from hstramp.reference.stis.common import STIS_FILETYPES

log = logging.getLogger(__name__)

__all__ = ["TDSTAB_FILETYPE", "read_stis_imphttab", "read_stis_tdstab"]

#: FILETYPE the simulator writes (calstis checks none)
TDSTAB_FILETYPE = STIS_FILETYPES["TDSTAB"][0]


def read_stis_imphttab(path, photmode: str):
    """``(PHOTFLAM, PHOTPLAM, PHOTBW, PHOTZPT)`` for a STIS PHOTMODE, or None (SKIPPED).

    Parameters
    ----------
    path : str or Path
        The IMPHTTAB.
    photmode : str
        PHOTMODE from :func:`hstramp.core.stis.photometry.stis_photmode` (with A2D; it is
        removed for the lookup).

    Returns
    -------
    tuple of 4 float or None
        None when the obsmode cannot be looked up (logged as a warning).

    Raises
    ------
    ReferenceFileError
        The file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise ReferenceFileError(f"IMPHTTAB {path} not found", keyword="IMPHTTAB", path=path)
    obsmode = imphttab_obsmode(photmode)
    try:
        found = read_imphttab(path, obsmode, detector="CCD")
    except ReferenceFileError as exc:
        log.warning("photmode %r not found in IMPHTTAB %s (%s); PHOTCORR will be SKIPPED",
                    obsmode, path, exc)
        return None
    return found.photflam, found.photplam, found.photbw, found.photzpt


def read_stis_tdstab(path, opt_elem: str) -> TDSTemperature | None:
    """The temperature columns of the TDSTAB row for OPT_ELEM, as calstis ``GetTds1``.

    Columns OPT_ELEM, WAVELENGTH, NWL (required), REFTEMP and TEMPSENS (without them:
    no temperature correction), PEDIGREE (optional). The last matching row wins.

    Parameters
    ----------
    path : str or Path
        The TDSTAB.
    opt_elem : str
        OPT_ELEM of the exposure.

    Returns
    -------
    TDSTemperature or None
        None when the file's PEDIGREE is DUMMY (no TDS correction, as calstis).

    Raises
    ------
    ReferenceFileError
        A missing column, no row for OPT_ELEM or a DUMMY row (calstis stops on both),
        arrays shorter than NWL, or a WAVELENGTH that does not increase.
    """
    path = Path(path)
    keyword = "TDSTAB"
    with open_reference(path, keyword) as hdul:
        if str(hdul[0].header.get("PEDIGREE", "")).strip().upper().startswith("DUMMY"):
            log.info("TDSTAB %s is DUMMY: no temperature correction of PHOTFLAM", path)
            return None
        table = table_hdu(hdul, path, keyword)
        elem, wl, nwl = (column(table, n, path, keyword) for n in ("OPT_ELEM", "WAVELENGTH",
                                                                    "NWL"))
        ref_temp = column(table, "REFTEMP", path, keyword, required=False)
        sens = column(table, "TEMPSENS", path, keyword, required=False)
        pedigree = column(table, "PEDIGREE", path, keyword, required=False)
    rows = np.flatnonzero(same_string(elem, opt_elem))
    if rows.size == 0:
        raise ReferenceFileError(f"TDSTAB {path} has no row for OPT_ELEM {opt_elem}",
                                 keyword=keyword, path=path)
    i = int(rows[-1])
    if pedigree is not None and str(pedigree[i]).strip().upper().startswith("DUMMY"):
        raise ReferenceFileError(f"TDSTAB {path} row {i + 1} (OPT_ELEM {opt_elem}) is DUMMY",
                                 keyword=keyword, path=path)
    n = int(nwl[i])
    wavelength = np.ravel(np.asarray(wl[i], np.float64))
    if ref_temp is None or sens is None:
        log.warning("TDSTAB %s has no REFTEMP or TEMPSENS column; no temperature "
                    "correction applied to sensitivity", path)
        tempsens, reference = np.zeros(n), -1.0
    else:
        tempsens, reference = np.ravel(np.asarray(sens[i], np.float64)), float(ref_temp[i])
    if n < 1 or wavelength.size < n or tempsens.size < n:
        raise ReferenceFileError(f"TDSTAB {path} row {i + 1}: NWL = {n} but WAVELENGTH holds "
                                 f"{wavelength.size} and TEMPSENS {tempsens.size} values",
                                 keyword=keyword, path=path)
    if np.any(np.diff(wavelength[:n]) <= 0):
        raise ReferenceFileError(f"TDSTAB {path} row {i + 1}: WAVELENGTH must increase",
                                 keyword=keyword, path=path)
    return TDSTemperature(wavelength=wavelength[:n].copy(), tempsens=tempsens[:n].copy(),
                          ref_temp=reference)
