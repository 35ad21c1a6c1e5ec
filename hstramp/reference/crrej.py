"""CRREJTAB (FILETYPE ``COSMIC RAY REJECTION``): the IR up-the-ramp rejection parameters."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.reference.common import (
    ReferenceFileError,
    check_detector,
    check_filetype,
    column,
    open_reference,
    table_hdu,
)

log = logging.getLogger(__name__)

__all__ = ["CRRejectParameters", "parse_crsigmas", "read_crrejtab"]

KEYWORD = "CRREJTAB"
FILETYPE = "COSMIC RAY REJECTION"
_SEPARATORS = re.compile(r"[,;/]")


@dataclass(frozen=True)
class CRRejectParameters:
    """The CRREJTAB row used for an IR ramp.

    Attributes
    ----------
    path : Path
        The CRREJTAB file.
    row : int
        One-indexed row used.
    crsigmas : tuple of float
        Rejection thresholds parsed from CRSIGMAS (``'4,3,3'`` -> ``(4.0, 3.0, 3.0)``).
    crsplit : int
        CRSPLIT of the row.
    meanexp : float
        MEANEXP of the row, s.
    crradius, crthresh, scalense : float
        CRRADIUS, CRTHRESH, SCALENSE (0 when the column is absent).
    badinpdq : int
        BADINPDQ: DQ bits that exclude a read from the fit.
    initgues, skysub : str
        INITGUES, SKYSUB ('' when absent).
    crmask : bool
        CRMASK.
    """

    path: Path
    row: int
    crsigmas: tuple[float, ...]
    crsplit: int
    meanexp: float
    crradius: float
    crthresh: float
    scalense: float
    badinpdq: int
    initgues: str
    skysub: str
    crmask: bool

    @property
    def threshold(self) -> float:
        """Rejection threshold in sigma: the first CRSIGMAS value (what IR CRCORR uses)."""
        return self.crsigmas[0]


def parse_crsigmas(text: str) -> tuple[float, ...]:
    """Parse a CRSIGMAS string (values separated by ``,`` ``;`` or ``/``).

    Parameters
    ----------
    text : str
        E.g. ``'4,3,3'`` or ``'4'``.

    Returns
    -------
    tuple of float

    Raises
    ------
    ValueError
        For an empty string, a non-numeric or a non-positive value.
    """
    parts = [p.strip() for p in _SEPARATORS.split(str(text).strip())]
    if not parts or parts == [""]:
        raise ValueError("CRSIGMAS is empty")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError as exc:
        raise ValueError(f"CRSIGMAS {text!r} is not a list of numbers") from exc
    if any(v <= 0 for v in values):
        raise ValueError(f"CRSIGMAS {text!r} has a value <= 0")
    return values


def _select_row(irramp, crsplit, meanexp, nsamp, exptime, path) -> int:
    """calwf3 ``crrpar_in`` for IR: IRRAMP rows; CRSPLIT = min(nsamp, max CRSPLIT); the
    smallest MEANEXP - exptime >= 0 (later rows win ties)."""
    ir_rows = np.flatnonzero(irramp)
    if ir_rows.size == 0:
        raise ReferenceFileError(f"CRREJTAB {path} has no row with IRRAMP true",
                                 keyword=KEYWORD, path=path)
    if nsamp is None or exptime is None:
        return int(ir_rows[0])
    wanted = min(int(nsamp), int(crsplit[ir_rows].max()))
    best, best_diff = None, None
    for i in ir_rows:
        diff = float(meanexp[i]) - float(exptime)
        if int(crsplit[i]) == wanted and diff >= 0 and (best is None or diff <= best_diff):
            best, best_diff = int(i), diff
    if best is None:
        raise ReferenceFileError(
            f"CRREJTAB {path} has no IRRAMP row with CRSPLIT={wanted} and MEANEXP >= "
            f"{float(exptime):g}", keyword=KEYWORD, path=path,
        )
    return best


def _optional(table, name, path, index, default, kind):
    values = column(table, name, path, KEYWORD, required=False)
    return default if values is None else kind(values[index])


def read_crrejtab(path, *, nsamp: int | None = None, exptime: float | None = None,
                  detector: str = "IR") -> CRRejectParameters:
    """Read the CRREJTAB row for an IR ramp.

    With ``nsamp`` and ``exptime`` the row is chosen as calwf3's ``crrpar_in`` does;
    without them the first row with IRRAMP true is used.

    Parameters
    ----------
    path : str or Path
        The CRREJTAB file.
    nsamp : int, optional
        NSAMP of the exposure.
    exptime : float, optional
        EXPTIME of the exposure, s.
    detector : str
        Expected DETECTOR.

    Returns
    -------
    CRRejectParameters

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, missing CRSIGMAS/IRRAMP column, no IR row, or an
        unparsable CRSIGMAS.
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        table = table_hdu(hdul, path, KEYWORD)
        irramp = column(table, "IRRAMP", path, KEYWORD).astype(bool)
        crsplit = column(table, "CRSPLIT", path, KEYWORD).astype(np.int64)
        meanexp = column(table, "MEANEXP", path, KEYWORD).astype(np.float64)
        i = _select_row(irramp, crsplit, meanexp, nsamp, exptime, path)
        text = str(column(table, "CRSIGMAS", path, KEYWORD)[i])
        try:
            sigmas = parse_crsigmas(text)
        except ValueError as exc:
            raise ReferenceFileError(f"CRREJTAB {path} row {i + 1}: {exc}", keyword=KEYWORD,
                                     path=path) from exc
        params = CRRejectParameters(
            path=path, row=i + 1, crsigmas=sigmas, crsplit=int(crsplit[i]),
            meanexp=float(meanexp[i]),
            crradius=_optional(table, "CRRADIUS", path, i, 0.0, float),
            crthresh=_optional(table, "CRTHRESH", path, i, 0.0, float),
            scalense=_optional(table, "SCALENSE", path, i, 0.0, float),
            badinpdq=_optional(table, "BADINPDQ", path, i, 0, int),
            initgues=_optional(table, "INITGUES", path, i, "", str),
            skysub=_optional(table, "SKYSUB", path, i, "", str),
            crmask=_optional(table, "CRMASK", path, i, False, bool),
        )
    log.debug("CRREJTAB %s: row %d, CRSIGMAS %s", path, params.row, params.crsigmas)
    return params
