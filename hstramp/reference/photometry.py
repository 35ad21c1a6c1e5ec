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
    cached_by_file,
    integer_column,
    number_column,
    open_reference,
    require_columns,
    row_vector,
    text_column,
)

log = logging.getLogger(__name__)

__all__ = ["PhotometryKeywords", "read_imphttab"]

KEYWORD = "IMPHTTAB"
#: FILETYPE of IMPHTTAB files (when present it must contain PHOTOMETRY)
FILETYPE = "IMAGE PHOTOMETRY TABLE"
#: ST magnitude zero point used when the primary header has no PHOTZPT
DEFAULT_PHOTZPT = -21.10
_EXTENSIONS = ("PHOTFLAM", "PHOTPLAM", "PHOTBW")
#: the only parameter getphttab.c extrapolates (when the primary header says EXTRAP = T)
_EXTRAPOLATED_PARAMETER = "mjd#"


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
    """``'wfc3,ir,f160w,mjd#55000'`` -> ``('wfc3,ir,f160w,mjd#', {'mjd#': 55000.0})``
    (getphttab.c ``InterpretPhotmode``)."""
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


def _same_obsmode(table_mode: str, obsmode: str) -> bool:
    """getphttab.c ``CompareObsModes``: same length and the same comma-separated
    components in any order, ignoring case."""
    table_mode = table_mode.strip().lower()
    return (len(table_mode) == len(obsmode)
            and sorted(table_mode.split(",")) == sorted(obsmode.split(",")))


def _parameter_count(datacol: str, extname: str, where: str, path) -> int:
    """How many parameters a row interpolates in: the number DATACOL carries after the
    extension name (``PHOTFLAM1`` -> 1, ``PHOTPLAM`` -> 0), as ``ReadPhotArray``."""
    suffix = datacol.strip()[len(extname):]
    if len(datacol.strip()) <= len(extname):
        return 0
    if not suffix.isdigit():
        raise ReferenceFileError(f"{where} has DATACOL={datacol!r}; expected {extname} or "
                                 f"{extname}<n>", keyword=KEYWORD, path=path)
    return int(suffix)


def _bounds(grid: np.ndarray, x: float) -> tuple[int, int]:
    """getphttab.c ``computebounds``: the grid pair around ``x`` (the end pair outside)."""
    upper = int(np.clip(np.searchsorted(grid, x, side="right"), 1, grid.size - 1))
    return upper - 1, upper


def _parameter_grid(table, n: int, row: int, where: str, path) -> tuple[str, np.ndarray]:
    """``(PARnNAMES, PARnVALUES[:NELEMn])`` of a row, checked usable for interpolation."""
    name = str(text_column(table, f"PAR{n}NAMES", path, KEYWORD)[row]).strip().lower()
    nelem = int(integer_column(table, f"NELEM{n}", path, KEYWORD)[row])
    grid = row_vector(table, f"PAR{n}VALUES", row, path, KEYWORD)
    if nelem < 2 or grid.size < nelem:
        raise ReferenceFileError(f"{where} has NELEM{n}={nelem} with {grid.size} PAR{n}VALUES; "
                                 "at least 2 grid values, all present, are needed",
                                 keyword=KEYWORD, path=path)
    grid = grid[:nelem]
    if not (np.all(np.isfinite(grid)) and np.all(np.diff(grid) > 0)):
        raise ReferenceFileError(f"{where} PAR{n}VALUES are not finite and increasing",
                                 keyword=KEYWORD, path=path)
    return name, grid


def _interpolate(values: np.ndarray, grids, xs) -> float:
    """Multilinear interpolation as getphttab.c ``ComputeValue``: ``values`` holds the
    first parameter fastest; each axis in turn by ``linterp`` between its bounding pair."""
    cube = values.reshape(tuple(grid.size for grid in reversed(grids)))
    for grid, x in zip(grids, xs, strict=True):  # the first parameter is the last axis
        i0, i1 = _bounds(grid, x)
        slope = (cube[..., i1] - cube[..., i0]) / (grid[i1] - grid[i0])
        cube = slope * (x - grid[i0]) + cube[..., i0]
    return float(cube)


def _row_value(table, row: int, pars: dict[str, float], path, extname: str,
               extrapolate: bool) -> float:
    """Value of one IMPHTTAB row, interpolated in its parameters (getphttab.c
    ``ReadPhotArray`` + ``ComputeValue``)."""
    where = f"IMPHTTAB {path} extension {extname} row {row + 1}"
    datacol = str(text_column(table, "DATACOL", path, KEYWORD)[row])
    count = _parameter_count(datacol, extname, where, path)
    if count == 0:
        value = float(number_column(table, extname, path, KEYWORD)[row])
    else:
        grids, xs = [], []
        for n in range(1, count + 1):
            name, grid = _parameter_grid(table, n, row, where, path)
            x = next((v for key, v in pars.items() if key.startswith(name)), None)
            if x is None:
                raise ReferenceFileError(f"{where} needs parameter {name!r}, absent from the "
                                         "obsmode", keyword=KEYWORD, path=path)
            if not grid[0] <= x <= grid[-1] and not (
                    extrapolate and name == _EXTRAPOLATED_PARAMETER):
                raise ReferenceFileError(
                    f"{where}: {name}{x:g} is outside the table range {grid[0]:g}..{grid[-1]:g}"
                    " (calwf3 would write -9999; EXTRAP = T allows MJD extrapolation)",
                    keyword=KEYWORD, path=path)
            grids.append(grid)
            xs.append(x)
        values = row_vector(table, f"{extname}{count}", row, path, KEYWORD)
        needed = int(np.prod([grid.size for grid in grids]))
        if values.size < needed:
            raise ReferenceFileError(f"{where} column {extname}{count} holds {values.size} "
                                     f"values; the parameter grid needs {needed}",
                                     keyword=KEYWORD, path=path)
        value = _interpolate(values[:needed], grids, xs)
    if not np.isfinite(value):
        raise ReferenceFileError(f"{where} gives {extname} = {value!r}; a finite number is "
                                 "needed", keyword=KEYWORD, path=path)
    return value


def _parnum(header, path) -> int | None:
    """PARNUM of the primary header (calwf3 requires it; hstramp accepts its absence)."""
    if "PARNUM" not in header:
        return None
    value = header["PARNUM"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReferenceFileError(f"IMPHTTAB {path} has PARNUM = {value!r}; a whole number "
                                 ">= 0 is needed", keyword=KEYWORD, path=path)
    return value


def _extension_value(hdul, extname: str, obsmode: str, path, parnum, extrapolate) -> float:
    try:
        table = hdul[extname]
    except KeyError as exc:
        raise ReferenceFileError(f"IMPHTTAB {path} has no {extname} extension",
                                 keyword=KEYWORD, path=path) from exc
    require_columns(table, ("OBSMODE", "DATACOL",
                            *(f"{extname}{n}" for n in range(1, (parnum or 0) + 1))),
                    path, KEYWORD)
    stripped, pars = _split_parameters(obsmode)
    modes = text_column(table, "OBSMODE", path, KEYWORD)
    rows = [i for i, mode in enumerate(modes) if _same_obsmode(str(mode), stripped)]
    if not rows:
        raise ReferenceFileError(f"IMPHTTAB {path} {extname} does not contain obsmode "
                                 f"{stripped!r}", keyword=KEYWORD, path=path)
    return _row_value(table, rows[0], pars, path, extname, extrapolate)


def _check_primary(header, path, detector: str) -> None:
    """FILETYPE and DETECTOR, when present, must suit (calwf3 checks neither)."""
    found = str(header.get("FILETYPE", FILETYPE)).strip()
    if "PHOTOMETRY" not in found.upper():
        raise ReferenceFileError(f"IMPHTTAB {path} has FILETYPE={found!r}; expected "
                                 f"{FILETYPE!r}", keyword=KEYWORD, path=path)
    found = str(header.get("DETECTOR", detector)).strip()
    if found.upper() != detector.upper():
        raise ReferenceFileError(f"IMPHTTAB {path} has DETECTOR={found!r}; expected "
                                 f"{detector!r}", keyword=KEYWORD, path=path)


@cached_by_file(maxsize=8)
def read_imphttab(path, photmode: str, *, detector: str = "IR") -> PhotometryKeywords:
    """Photometric keywords for ``photmode`` from an IMPHTTAB, as calwf3's ``photcalc``.

    Each of the PHOTFLAM, PHOTPLAM and PHOTBW extensions is searched for the first row
    whose OBSMODE has the components of the obsmode with parameter values removed
    (``wfc3,ir,f160w,mjd#``), in any order and case. The number DATACOL carries after the
    extension name says how many parameters the row has: none (``PHOTPLAM``) reads the
    scalar column named like the extension; ``n`` (``PHOTFLAM1``) interpolates the vector
    column ``<NAME><n>`` multilinearly over PAR1VALUES..PARnVALUES (first NELEMk values
    each; the first parameter varies fastest), the parameters named by PARkNAMES.
    A value outside a grid is an error (calwf3 would write -9999), unless the primary
    header says ``EXTRAP = T`` and the parameter is ``mjd#``: then the end pair extrapolates.
    A file version is read once per photmode (:func:`~hstramp.reference.common.cached_by_file`):
    the exposures of a batch worker share it.

    Parameters
    ----------
    path : str or Path
        The IMPHTTAB file.
    photmode : str
        PHOTMODE (``WFC3 IR F160W MJD#55834.39``) or obsmode (``wfc3,ir,f160w,mjd#55834.39``);
        see :func:`hstramp.core.phot.photmode`.
    detector : str
        Expected DETECTOR (checked when the primary header has one).

    Returns
    -------
    PhotometryKeywords

    Raises
    ------
    ReferenceFileError
        FILETYPE without PHOTOMETRY or another DETECTOR (when present), PARNUM not a whole
        number, a missing extension or column (OBSMODE, DATACOL, ``<NAME>1..<NAME>PARNUM``,
        and what the matched row needs), no row for the obsmode, a DATACOL that is not
        ``<NAME>`` or ``<NAME><n>``, a grid of fewer than 2 or non-increasing values, a
        parameter absent from the obsmode or outside the grid, too few values for the
        grid, or a non-finite result.
    """
    path = Path(path)
    obsmode = to_obsmode(photmode)
    with open_reference(path, KEYWORD) as hdul:
        header = hdul[0].header
        _check_primary(header, path, detector)
        parnum = _parnum(header, path)
        extrapolate = bool(header.get("EXTRAP", False))
        flam, plam, bw = (_extension_value(hdul, ext, obsmode, path, parnum, extrapolate)
                          for ext in _EXTENSIONS)
        zpt = float(header.get("PHOTZPT", DEFAULT_PHOTZPT))
    keywords = PhotometryKeywords(
        path=path, photmode=str(photmode), obsmode=obsmode, photflam=flam, photplam=plam,
        photbw=bw, photfnu=FNU_PER_FLAM_ANGSTROM2 * flam * plam * plam, photzpt=zpt,
    )
    log.debug("IMPHTTAB %s: %s -> PHOTFLAM %.6g", path, obsmode, flam)
    return keywords
