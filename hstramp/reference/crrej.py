"""CRREJTAB (FILETYPE ``COSMIC RAY REJECTION``): the IR up-the-ramp rejection parameters."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.reference.common import (
    ReferenceFileError,
    cached_by_file,
    check_detector,
    check_filetype,
    check_finite,
    flag_column,
    integer_column,
    number_column,
    open_reference,
    parse_crsigmas,
    require_columns,
    table_hdu,
    text_column,
)

log = logging.getLogger(__name__)

__all__ = ["CRRejectParameters", "parse_crsigmas", "read_crrejtab"]

KEYWORD = "CRREJTAB"
FILETYPE = "COSMIC RAY REJECTION"
#: the columns calwf3's ``crrpar_in`` requires
_REQUIRED = ("CRSPLIT", "MEANEXP", "IRRAMP", "CRSIGMAS", "SKYSUB", "CRRADIUS", "CRTHRESH",
             "INITGUES", "SCALENSE", "BADINPDQ", "CRMASK")


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
        CRRADIUS, CRTHRESH, SCALENSE.
    badinpdq : int
        BADINPDQ: DQ bits that exclude a read from the fit.
    initgues, skysub : str
        INITGUES, SKYSUB.
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


@cached_by_file(maxsize=8)
def read_crrejtab(path, *, nsamp: int | None = None, exptime: float | None = None,
                  detector: str = "IR") -> CRRejectParameters:
    """Read the CRREJTAB row for an IR ramp.

    With ``nsamp`` and ``exptime`` the row is chosen as calwf3's ``crrpar_in`` does;
    without them the first row with IRRAMP true is used.
    A file version is read once per ``nsamp`` and ``exptime``
    (:func:`~hstramp.reference.common.cached_by_file`): the exposures of a batch worker share it.

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
        Wrong FILETYPE/DETECTOR, any of the columns calwf3's ``crrpar_in`` reads missing
        (CRSPLIT MEANEXP IRRAMP CRSIGMAS SKYSUB CRRADIUS CRTHRESH INITGUES SCALENSE
        BADINPDQ CRMASK, all named), non-whole CRSPLIT/BADINPDQ, no matching IR row, an
        unparsable CRSIGMAS (empty, not numbers, a value <= 0, more than 20 values), or a
        negative or undefined MEANEXP/CRRADIUS/CRTHRESH/SCALENSE in the row used.
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        table = table_hdu(hdul, path, KEYWORD)
        require_columns(table, _REQUIRED, path, KEYWORD)
        irramp = flag_column(table, "IRRAMP", path, KEYWORD)
        crsplit = integer_column(table, "CRSPLIT", path, KEYWORD)
        meanexp = number_column(table, "MEANEXP", path, KEYWORD)
        i = _select_row(irramp, crsplit, meanexp, nsamp, exptime, path)
        text = str(text_column(table, "CRSIGMAS", path, KEYWORD)[i])
        try:
            sigmas = parse_crsigmas(text)
        except ValueError as exc:
            raise ReferenceFileError(f"CRREJTAB {path} row {i + 1}: {exc}", keyword=KEYWORD,
                                     path=path) from exc
        params = CRRejectParameters(
            path=path, row=i + 1, crsigmas=sigmas, crsplit=int(crsplit[i]),
            meanexp=float(meanexp[i]),
            crradius=float(number_column(table, "CRRADIUS", path, KEYWORD)[i]),
            crthresh=float(number_column(table, "CRTHRESH", path, KEYWORD)[i]),
            scalense=float(number_column(table, "SCALENSE", path, KEYWORD)[i]),
            badinpdq=int(integer_column(table, "BADINPDQ", path, KEYWORD)[i]),
            initgues=str(text_column(table, "INITGUES", path, KEYWORD)[i]),
            skysub=str(text_column(table, "SKYSUB", path, KEYWORD)[i]),
            crmask=bool(flag_column(table, "CRMASK", path, KEYWORD)[i]),
        )
    check_finite({"MEANEXP": params.meanexp, "CRRADIUS": params.crradius,
                  "CRTHRESH": params.crthresh, "SCALENSE": params.scalense},
                 f"CRREJTAB {path} row {params.row}", KEYWORD, path, minimum=0.0)
    log.debug("CRREJTAB %s: row %d, CRSIGMAS %s", path, params.row, params.crsigmas)
    return params
