"""IMPHTTAB: photometric keywords (PHOTFLAM, PHOTPLAM, PHOTBW, PHOTFNU, PHOTZPT) for an
observing mode, with parameterized (``mjd#``) rows interpolated linearly."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.core.phot import FNU_PER_FLAM_ANGSTROM2
from hstramp.core.phot import obsmode as to_obsmode
from hstramp.reference.common import (
    ReferenceFileError,
    check_detector,
    column,
    open_reference,
)

log = logging.getLogger(__name__)

__all__ = ["PhotometryKeywords", "read_imphttab"]

KEYWORD = "IMPHTTAB"
#: FILETYPE of IMPHTTAB files (any FILETYPE containing PHOTOMETRY is accepted)
FILETYPE = "IMAGE PHOTOMETRY TABLE"
#: ST magnitude zero point used when the primary header has no PHOTZPT
DEFAULT_PHOTZPT = -21.10
_EXTENSIONS = ("PHOTFLAM", "PHOTPLAM", "PHOTBW")


@dataclass(frozen=True)
class PhotometryKeywords:
    """Photometric keyword values for one observing mode.

    Attributes
    ----------
    path : Path
        The IMPHTTAB file.
    photmode : str
        PHOTMODE as written in headers (``WFC3 IR F160W MJD#55834.3928``).
    obsmode : str
        Its synphot form (``wfc3,ir,f160w,mjd#55834.3928``).
    photflam : float
        Inverse sensitivity, erg/cm2/A/electron.
    photplam : float
        Pivot wavelength, A.
    photbw : float
        RMS bandwidth, A.
    photfnu : float
        ``3.33564e4 * PHOTFLAM * PHOTPLAM**2``, Jy s/electron.
    photzpt : float
        ST magnitude zero point (-21.10).
    """

    path: Path
    photmode: str
    obsmode: str
    photflam: float
    photplam: float
    photbw: float
    photfnu: float
    photzpt: float


def _split_parameters(obsmode: str) -> tuple[str, dict[str, float]]:
    """``'wfc3,ir,f160w,mjd#55000'`` -> ``('wfc3,ir,f160w,mjd#', {'mjd#': 55000.0})``."""
    stripped, pars = [], {}
    for part in obsmode.split(","):
        if "#" in part:
            name, value = part.split("#", 1)
            key = f"{name}#"
            stripped.append(key)
            try:
                pars[key] = float(value)
            except ValueError as exc:
                raise ValueError(f"obsmode parameter {part!r} has no numeric value") from exc
        else:
            stripped.append(part)
    return ",".join(stripped), pars


def _row_value(table, row: int, pars: dict[str, float], path, extname: str) -> float:
    """Value of one IMPHTTAB row, interpolated linearly in its parameter (one parameter)."""
    datacol = str(column(table, "DATACOL", path, KEYWORD)[row]).strip()
    nelem = column(table, "NELEM1", path, KEYWORD, required=False)
    if nelem is None or int(nelem[row]) == 0:
        return float(np.ravel(column(table, datacol, path, KEYWORD)[row])[0])
    parname = str(column(table, "PAR1NAMES", path, KEYWORD)[row]).strip().lower()
    if parname not in pars:
        raise ReferenceFileError(f"IMPHTTAB {path} {extname} row {row + 1} needs parameter "
                                 f"{parname!r}, absent from the obsmode", keyword=KEYWORD,
                                 path=path)
    n = int(nelem[row])
    grid = np.asarray(column(table, "PAR1VALUES", path, KEYWORD)[row], dtype=float)[:n]
    values = np.asarray(column(table, datacol, path, KEYWORD)[row], dtype=float)[:n]
    x = pars[parname]
    if x < grid[0] or x > grid[-1]:
        raise ReferenceFileError(
            f"IMPHTTAB {path} {extname}: {parname}{x:g} is outside the table range "
            f"{grid[0]:g}..{grid[-1]:g}", keyword=KEYWORD, path=path,
        )
    return float(np.interp(x, grid, values))


def _extension_value(hdul, extname: str, obsmode: str, path) -> float:
    try:
        table = hdul[extname]
    except KeyError as exc:
        raise ReferenceFileError(f"IMPHTTAB {path} has no {extname} extension",
                                 keyword=KEYWORD, path=path) from exc
    stripped, pars = _split_parameters(obsmode)
    modes = np.char.lower(column(table, "OBSMODE", path, KEYWORD).astype(str))
    rows = np.flatnonzero(modes == stripped)
    if rows.size != 1:
        problem = "does not contain" if rows.size == 0 else "contains several rows for"
        raise ReferenceFileError(f"IMPHTTAB {path} {extname} {problem} obsmode {stripped!r}",
                                 keyword=KEYWORD, path=path)
    return _row_value(table, int(rows[0]), pars, path, extname)


def _check_photometry_filetype(header, path) -> None:
    found = str(header.get("FILETYPE", "")).strip()
    if "PHOTOMETRY" not in found.upper():
        raise ReferenceFileError(f"IMPHTTAB {path} has FILETYPE={found!r}; expected "
                                 f"{FILETYPE!r}", keyword=KEYWORD, path=path)


def read_imphttab(path, photmode: str, *, detector: str = "IR") -> PhotometryKeywords:
    """Photometric keywords for ``photmode`` from an IMPHTTAB, as calwf3's ``photcalc``.

    Each of the PHOTFLAM, PHOTPLAM and PHOTBW extensions is searched for the row whose
    OBSMODE equals the obsmode with parameter values removed (``wfc3,ir,f160w,mjd#``); a
    parameterized row (NELEM1 > 0) is interpolated linearly in PAR1VALUES (MJD). A value
    outside the tabulated range is an error (calwf3 would write -9999).

    Parameters
    ----------
    path : str or Path
        The IMPHTTAB file.
    photmode : str
        PHOTMODE (``WFC3 IR F160W MJD#55834.39``) or obsmode (``wfc3,ir,f160w,mjd#55834.39``);
        see :func:`hstramp.core.phot.photmode`.
    detector : str
        Expected DETECTOR.

    Returns
    -------
    PhotometryKeywords

    Raises
    ------
    ReferenceFileError
        FILETYPE without PHOTOMETRY, wrong DETECTOR, missing extension or column, no (or
        several) rows for the obsmode, or an MJD outside the table.
    """
    path = Path(path)
    obsmode = to_obsmode(photmode)
    with open_reference(path, KEYWORD) as hdul:
        _check_photometry_filetype(hdul[0].header, path)
        check_detector(hdul, path, KEYWORD, detector)
        flam, plam, bw = (_extension_value(hdul, ext, obsmode, path) for ext in _EXTENSIONS)
        zpt = float(hdul[0].header.get("PHOTZPT", DEFAULT_PHOTZPT))
    keywords = PhotometryKeywords(
        path=path, photmode=str(photmode), obsmode=obsmode, photflam=flam, photplam=plam,
        photbw=bw, photfnu=FNU_PER_FLAM_ANGSTROM2 * flam * plam * plam, photzpt=zpt,
    )
    log.debug("IMPHTTAB %s: %s -> PHOTFLAM %.6g", path, obsmode, flam)
    return keywords
