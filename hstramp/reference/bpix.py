"""BPIXTAB (FILETYPE ``BAD PIXELS``): the static bad-pixel table rasterized to a DQ array."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from hstramp.core.geometry import ScienceGeometry, flag_runs
from hstramp.reference.common import (
    ReferenceFileError,
    check_bad_pixel_runs,
    check_detector,
    check_filetype,
    integer_column,
    number_column,
    open_reference,
    require_columns,
    same_float,
    same_int,
    same_string,
    table_hdu,
    text_column,
)

log = logging.getLogger(__name__)

__all__ = ["read_bpixtab"]

KEYWORD = "BPIXTAB"
FILETYPE = "BAD PIXELS"
#: calwf3's BPIXTAB wildcards: CCDAMP 'N/A' (or a missing column), CCDGAIN/CCDCHIP -999
_AMP_WILDCARD = "N/A"
_NUMBER_WILDCARD = -999
#: the columns calwf3's ``OpenBpixTab`` requires (CCDAMP and CCDGAIN are optional)
_REQUIRED = ("PIX1", "PIX2", "LENGTH", "AXIS", "VALUE", "CCDCHIP")


def _selected_rows(table, path, ccdamp, ccdgain, ccdchip) -> np.ndarray:
    """Rows applied by calwf3's DQICORR (``doDQIIR`` selection rules)."""
    chip = integer_column(table, "CCDCHIP", path, KEYWORD)
    match = (chip == _NUMBER_WILDCARD) | same_int(chip, ccdchip)
    amp = text_column(table, "CCDAMP", path, KEYWORD, required=False)
    if amp is not None:
        match &= (np.char.upper(amp) == _AMP_WILDCARD) | same_string(amp, ccdamp)
    gain = number_column(table, "CCDGAIN", path, KEYWORD, required=False)
    if gain is not None:
        match &= (gain == _NUMBER_WILDCARD) | same_float(gain, ccdgain)
    return match


def _check_size_keywords(table, path) -> None:
    """calwf3 requires SIZAXIS1 and SIZAXIS2 in the table header (it does not use them for
    IR; a table without them is refused all the same)."""
    missing = [k for k in ("SIZAXIS1", "SIZAXIS2") if k not in table.header]
    if missing:
        raise ReferenceFileError(f"BPIXTAB {path} table header lacks {', '.join(missing)}",
                                 keyword=KEYWORD, path=path)


def read_bpixtab(path, geometry: ScienceGeometry, *, ccdamp: str = "ABCD",
                 ccdgain: float = 2.5, ccdchip: int = 1, detector: str = "IR") -> np.ndarray:
    """Rasterize the bad-pixel table for one science image, as calwf3's DQICORR.

    Rows are selected on CCDCHIP (-999 matches all), CCDAMP (``N/A`` or a missing column
    matches all) and CCDGAIN (-999 or a missing column matches all). Each row ORs VALUE into
    LENGTH pixels along AXIS (1 = x, 2 = y) from the one-indexed full-frame science pixel
    ``(PIX1, PIX2)``, placed at ``index0 = PIX - 1 + LTV``. Columns may be integer, real or
    text, scalar or vector (the first element counts), in any case.

    Parameters
    ----------
    path : str or Path
        The BPIXTAB file.
    geometry : ScienceGeometry
        Shape and LTV of the science image (reference border included).
    ccdamp, ccdgain, ccdchip : str, float, int
        Values of the exposure.
    detector : str
        Expected DETECTOR.

    Returns
    -------
    numpy.ndarray
        uint16 ``[ny, nx]`` DQ, to be OR-ed into every read.

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, missing PIX1/PIX2/LENGTH/AXIS/VALUE/CCDCHIP columns (all
        named), no SIZAXIS1/SIZAXIS2 in the table header, a column of non-whole numbers, or
        a row with AXIS not 1/2, LENGTH <= 0 or VALUE outside 0..65535 (the message names
        the row). A table with no rows flags nothing (as calwf3).
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        table = table_hdu(hdul, path, KEYWORD)
        if int(table.header.get("NAXIS2", 0)) == 0:  # calwf3 returns before reading columns
            log.warning("BPIXTAB %s has no rows; nothing to flag", path)
            return np.zeros(geometry.shape, np.uint16)
        require_columns(table, _REQUIRED, path, KEYWORD)
        _check_size_keywords(table, path)
        pix1, pix2, length, axis, value = (
            integer_column(table, name, path, KEYWORD) for name in ("PIX1", "PIX2", "LENGTH",
                                                                    "AXIS", "VALUE")
        )
        selected = _selected_rows(table, path, ccdamp, ccdgain, ccdchip)
    check_bad_pixel_runs(length, axis, value, path, KEYWORD)
    if not selected.any():
        log.warning("no row of BPIXTAB %s applies (CCDAMP=%s, CCDGAIN=%g, CCDCHIP=%d)",
                    path, ccdamp, ccdgain, ccdchip)
    dq = flag_runs(geometry.shape, geometry.ltv, pix1[selected], pix2[selected],
                   length[selected], axis[selected], value[selected])
    log.debug("BPIXTAB %s: %d rows applied, %d pixels flagged", path, int(selected.sum()),
              int(np.count_nonzero(dq)))
    return dq
