"""STIS CCD reference tables: CCDTAB, BPIXTAB and CRREJTAB, with calstis's row selection.

Each reader reads a file version once per set of arguments
(:func:`~hstramp.reference.common.cached_by_file`: keyed by path, inode, size and
modification times, so a changed file is read again): the steps of an exposure and the
exposures of a batch share them (the BPIXTAB's rows; its mask is made for each image).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.core.geometry import flag_runs
from hstramp.core.stis.crreject import CRRejectParameters
from hstramp.core.stis.dqinit import bin_bad_pixels
from hstramp.reference.common import (
    ReferenceFileError,
    cached_by_file,
    check_bad_pixel_runs,
    check_detector,
    check_finite,
    flag_column,
    integer_column,
    number_column,
    open_reference,
    parse_crsigmas,
    require_columns,
    same_int,
    same_string,
    table_hdu,
    text_column,
)
from hstramp.reference.stis.common import STISGeometry, check_stis_filetype

log = logging.getLogger(__name__)

__all__ = ["STISCCDParameters", "read_stis_bpixtab", "read_stis_ccdtab", "read_stis_crrejtab"]

#: calstis's default BLEV_CLIP when the CCDTAB has no such column
DEFAULT_BLEV_CLIP = 50.0
#: the columns calstis's ``o_cal2_in`` reads from the CRREJTAB
_CRREJ_COLUMNS = ("CRSPLIT", "MEANEXP", "CRSIGMAS", "SKYSUB", "CRRADIUS", "CRTHRESH",
                  "INITGUES", "SCALENSE", "BADINPDQ", "CRMASK")


@dataclass(frozen=True)
class STISCCDParameters:
    """The CCDTAB row matching a STIS CCD exposure.

    Attributes
    ----------
    path : Path
    row : int
        One-indexed row used.
    atodgain : float
        Gain, e-/DN.
    ccdbias : float
        Typical bias, DN (subtracted when the overscan cannot be used).
    readnse : float
        Read noise, e-.
    saturate : float
        Saturation threshold, DN.
    blev_clip : float
        Clip level for hot values in the virtual overscan.
    """

    path: Path
    row: int
    atodgain: float
    ccdbias: float
    readnse: float
    saturate: float
    blev_clip: float

    @property
    def readnoise_dn(self) -> float:
        """Read noise in DN (READNSE / ATODGAIN), as the CR rejection uses it."""
        return self.readnse / self.atodgain


@cached_by_file(maxsize=8)
def read_stis_ccdtab(path, *, ccdamp: str, ccdgain: int, ccdoffst: int,
                     binaxis=(1, 1)) -> STISCCDParameters:
    """Read the first CCDTAB row matching CCDAMP, CCDGAIN, CCDOFFST and BINAXIS1/2.

    As calstis ``GetCCDTab``: strings match case-insensitively or ``ANY``; numbers match
    or hold -1 / -999. BLEV_CLIP is optional (default 50).

    Parameters
    ----------
    path : str or Path
        The CCDTAB.
    ccdamp : str
        CCDAMP of the exposure (``D``).
    ccdgain, ccdoffst : int
        CCDGAIN and CCDOFFST of the exposure.
    binaxis : tuple of int
        ``(BINAXIS1, BINAXIS2)``.

    Returns
    -------
    STISCCDParameters

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, a missing column, or no matching row (the message names
        the values looked for).
    """
    path = Path(path)
    keyword = "CCDTAB"
    with open_reference(path, keyword) as hdul:
        check_stis_filetype(hdul, path, keyword)
        check_detector(hdul, path, keyword, "CCD")
        table = table_hdu(hdul, path, keyword)
        require_columns(table, ("CCDAMP", "CCDGAIN", "BINAXIS1", "BINAXIS2", "CCDOFFST",
                                "ATODGAIN", "CCDBIAS", "READNSE", "SATURATE"), path, keyword)
        match = same_string(text_column(table, "CCDAMP", path, keyword), ccdamp)
        for name, value in (("CCDGAIN", ccdgain), ("CCDOFFST", ccdoffst),
                            ("BINAXIS1", binaxis[0]), ("BINAXIS2", binaxis[1])):
            match &= same_int(integer_column(table, name, path, keyword), value)
        rows = np.flatnonzero(match)
        if rows.size == 0:
            raise ReferenceFileError(
                f"no row of CCDTAB {path} matches CCDAMP={ccdamp}, CCDGAIN={ccdgain}, "
                f"CCDOFFST={ccdoffst}, BINAXIS={tuple(binaxis)}", keyword=keyword, path=path)
        i = int(rows[0])
        clip = number_column(table, "BLEV_CLIP", path, keyword, required=False)
        params = STISCCDParameters(
            path=path, row=i + 1,
            atodgain=float(number_column(table, "ATODGAIN", path, keyword)[i]),
            ccdbias=float(number_column(table, "CCDBIAS", path, keyword)[i]),
            readnse=float(number_column(table, "READNSE", path, keyword)[i]),
            saturate=float(number_column(table, "SATURATE", path, keyword)[i]),
            blev_clip=DEFAULT_BLEV_CLIP if clip is None else float(clip[i]))
    where = f"CCDTAB {path} row {params.row}"
    check_finite({"ATODGAIN": params.atodgain}, where, keyword, path, minimum=0.0,
                 strictly=True)
    check_finite({"READNSE": params.readnse}, where, keyword, path, minimum=0.0)
    check_finite({"CCDBIAS": params.ccdbias, "SATURATE": params.saturate,
                  "BLEV_CLIP": params.blev_clip}, where, keyword, path)
    log.debug("CCDTAB %s: row %d", path, params.row)
    return params


@dataclass(frozen=True)
class _BadPixelRuns:
    """The BPIXTAB rows an exposure uses: detector size and the runs (one-indexed starts)."""

    size: tuple[int, int]
    pix1: np.ndarray
    pix2: np.ndarray
    length: np.ndarray
    axis: np.ndarray
    value: np.ndarray


@cached_by_file(maxsize=8)
def _bad_pixel_runs(path, opt_elem: str) -> _BadPixelRuns:
    """The rows of a BPIXTAB selected on OPT_ELEM and starting inside SIZAXIS1 x SIZAXIS2
    (read once per file version: a small table, where the mask is image-sized)."""
    keyword = "BPIXTAB"
    with open_reference(path, keyword) as hdul:
        check_stis_filetype(hdul, path, keyword)
        check_detector(hdul, path, keyword, "CCD")
        table = table_hdu(hdul, path, keyword)
        size = (int(table.header.get("SIZAXIS2", 1024)), int(table.header.get("SIZAXIS1", 1024)))
        pix1, pix2, length, axis, value = (integer_column(table, n, path, keyword) for n in
                                           ("PIX1", "PIX2", "LENGTH", "AXIS", "VALUE"))
        elem = text_column(table, "OPT_ELEM", path, keyword, required=False)
    check_bad_pixel_runs(length, axis, value, path, keyword)
    selected = np.ones(pix1.size, bool) if elem is None else same_string(elem, opt_elem)
    inside = (pix1 >= 1) & (pix1 <= size[1]) & (pix2 >= 1) & (pix2 <= size[0])
    if np.any(selected & ~inside):
        log.warning("BPIXTAB %s: %d rows start outside %dx%d and are ignored", path,
                    int(np.sum(selected & ~inside)), size[1], size[0])
    use = selected & inside
    return _BadPixelRuns(size, pix1[use], pix2[use], length[use], axis[use], value[use])


def read_stis_bpixtab(path, geometry: STISGeometry, *, opt_elem: str = "ANY") -> np.ndarray:
    """Rasterize the STIS bad-pixel table for one (raw) image, as calstis ``doDQI``.

    Rows are selected on OPT_ELEM (optional column; ``ANY`` matches); rows whose start lies
    outside SIZAXIS1 x SIZAXIS2 are ignored. Each row ORs VALUE into LENGTH detector pixels
    along AXIS from the one-indexed ``(PIX1, PIX2)``; an unbinned image places them at
    ``PIX - 1 + LTV``, a binned one ORs every detector pixel under a binned pixel. The
    table is read once per file version; the mask is made anew for each call.

    Parameters
    ----------
    path : str or Path
        The BPIXTAB.
    geometry : STISGeometry
        Shape, LTV and LTM of the image.
    opt_elem : str
        OPT_ELEM of the exposure.

    Returns
    -------
    numpy.ndarray
        uint16 ``[ny, nx]``.
    """
    table = _bad_pixel_runs(Path(path), opt_elem)
    runs = (table.pix1, table.pix2, table.length, table.axis, table.value)
    if geometry.binning == (1, 1):
        ltv = tuple(round(v) for v in geometry.ltv)
        return flag_runs(geometry.shape, ltv, *runs)
    detector = flag_runs(table.size, (0, 0), *runs)
    return bin_bad_pixels(detector, geometry.shape, geometry.ltv, geometry.ltm)


def _row_for(crsplit, meanexp, nimages, exptime_total, path):
    """calstis ``o_cal2_in``: CRSPLIT = min(n, max CRSPLIT) and the smallest MEANEXP >= the
    mean exposure time (a later row wins a tie)."""
    wanted = min(int(nimages), int(crsplit.max()))
    mean_exposure = float(exptime_total) / int(nimages)
    best, best_diff = None, None
    for i in range(crsplit.size):
        diff = float(meanexp[i]) - mean_exposure
        if int(crsplit[i]) == wanted and diff >= 0 and (best is None or diff <= best_diff):
            best, best_diff = i, diff
    if best is None:
        raise ReferenceFileError(
            f"CRREJTAB {path} has no row with CRSPLIT={wanted} and MEANEXP >= "
            f"{mean_exposure:g}", keyword="CRREJTAB", path=path)
    return best


@cached_by_file(maxsize=8)
def read_stis_crrejtab(path, *, nimages: int, exptime_total: float,
                       obstype: str = "IMAGING") -> tuple[CRRejectParameters, int]:
    """The CR-rejection parameters of the CRREJTAB row calstis would use.

    Parameters
    ----------
    path : str or Path
        The CRREJTAB.
    nimages : int
        Number of imsets combined.
    exptime_total : float
        Sum of their exposure times, s.
    obstype : str
        OBSTYPE; SPECTROSCOPIC data get SKYSUB ``none`` whatever the table says.

    Returns
    -------
    tuple
        ``(CRRejectParameters, row)`` with the one-indexed row number.

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE, a missing column, no matching row or an unusable value.
    """
    path = Path(path)
    keyword = "CRREJTAB"
    with open_reference(path, keyword) as hdul:
        check_stis_filetype(hdul, path, keyword)
        table = table_hdu(hdul, path, keyword)
        require_columns(table, _CRREJ_COLUMNS, path, keyword)
        crsplit = integer_column(table, "CRSPLIT", path, keyword)
        meanexp = number_column(table, "MEANEXP", path, keyword)
        i = _row_for(crsplit, meanexp, nimages, exptime_total, path)
        values = {name: read(table, name, path, keyword)[i] for name, read in
                  (("CRSIGMAS", text_column), ("SKYSUB", text_column),
                   ("CRRADIUS", number_column), ("CRTHRESH", number_column),
                   ("INITGUES", text_column), ("SCALENSE", number_column),
                   ("BADINPDQ", integer_column), ("CRMASK", flag_column))}
    check_finite({k: float(values[k]) for k in ("CRRADIUS", "CRTHRESH", "SCALENSE")},
                 f"CRREJTAB {path} row {i + 1}", keyword, path, minimum=0.0)
    skysub = "none" if str(obstype).strip().upper() == "SPECTROSCOPIC" else values["SKYSUB"]
    try:
        params = CRRejectParameters(
            crsigmas=parse_crsigmas(str(values["CRSIGMAS"])), crradius=float(values["CRRADIUS"]),
            crthresh=float(values["CRTHRESH"]), initgues=str(values["INITGUES"]),
            skysub=str(skysub), scalense=float(values["SCALENSE"]),
            badinpdq=int(values["BADINPDQ"]), crmask=bool(values["CRMASK"]))
    except ValueError as exc:
        raise ReferenceFileError(f"CRREJTAB {path} row {i + 1}: {exc}", keyword=keyword,
                                 path=path) from exc
    log.debug("CRREJTAB %s: row %d", path, i + 1)
    return params, i + 1
