"""BPIXTAB (FILETYPE ``BAD PIXELS``): the static bad-pixel table rasterized to a DQ array."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from hstramp.core.geometry import ScienceGeometry, flag_runs
from hstramp.reference.common import (
    ReferenceFileError,
    check_detector,
    check_filetype,
    column,
    open_reference,
    same_float,
    same_int,
    same_string,
    table_hdu,
)

log = logging.getLogger(__name__)

__all__ = ["read_bpixtab"]

KEYWORD = "BPIXTAB"
FILETYPE = "BAD PIXELS"
#: calwf3's BPIXTAB wildcards: CCDAMP 'N/A' (or a missing column), CCDGAIN/CCDCHIP -999
_AMP_WILDCARD = "N/A"
_NUMBER_WILDCARD = -999


def _selected_rows(table, path, ccdamp, ccdgain, ccdchip) -> np.ndarray:
    """Rows applied by calwf3's DQICORR (``doDQIIR`` selection rules)."""
    chip = column(table, "CCDCHIP", path, KEYWORD)
    match = (chip.astype(np.int64) == _NUMBER_WILDCARD) | same_int(chip, ccdchip)
    amp = column(table, "CCDAMP", path, KEYWORD, required=False)
    if amp is not None:
        match &= (np.char.upper(amp.astype(str)) == _AMP_WILDCARD) | same_string(amp, ccdamp)
    gain = column(table, "CCDGAIN", path, KEYWORD, required=False)
    if gain is not None:
        match &= (gain.astype(np.float64) == _NUMBER_WILDCARD) | same_float(gain, ccdgain)
    return match


def _check_runs(length, axis, path) -> None:
    bad_axis = np.flatnonzero((axis != 1) & (axis != 2))
    if bad_axis.size:
        row = int(bad_axis[0]) + 1
        raise ReferenceFileError(
            f"BPIXTAB {path} row {row}: AXIS={int(axis[bad_axis[0]])}, must be 1 or 2",
            keyword=KEYWORD, path=path)
    bad_length = np.flatnonzero(length <= 0)
    if bad_length.size:
        row = int(bad_length[0]) + 1
        raise ReferenceFileError(
            f"BPIXTAB {path} row {row}: LENGTH={int(length[bad_length[0]])}, must be positive",
            keyword=KEYWORD, path=path)


def read_bpixtab(path, geometry: ScienceGeometry, *, ccdamp: str = "ABCD",
                 ccdgain: float = 2.5, ccdchip: int = 1, detector: str = "IR") -> np.ndarray:
    """Rasterize the bad-pixel table for one science image, as calwf3's DQICORR.

    Rows are selected on CCDCHIP (-999 matches all), CCDAMP (``N/A`` or a missing column
    matches all) and CCDGAIN (-999 or a missing column matches all). Each row ORs VALUE into
    LENGTH pixels along AXIS (1 = x, 2 = y) from the one-indexed full-frame science pixel
    ``(PIX1, PIX2)``, placed at ``index0 = PIX - 1 + LTV``.

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
        Wrong FILETYPE/DETECTOR, missing PIX1/PIX2/LENGTH/AXIS/VALUE/CCDCHIP column, or a
        row with AXIS not 1/2 or LENGTH <= 0 (the message names the row).
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        table = table_hdu(hdul, path, KEYWORD)
        pix1, pix2, length, axis, value = (
            column(table, name, path, KEYWORD) for name in ("PIX1", "PIX2", "LENGTH",
                                                            "AXIS", "VALUE")
        )
        selected = _selected_rows(table, path, ccdamp, ccdgain, ccdchip)
    length = length.astype(np.int64)
    axis = axis.astype(np.int64)
    _check_runs(length, axis, path)
    if not selected.any():
        log.warning("no row of BPIXTAB %s applies (CCDAMP=%s, CCDGAIN=%g, CCDCHIP=%d)",
                    path, ccdamp, ccdgain, ccdchip)
    dq = flag_runs(geometry.shape, geometry.ltv, pix1[selected], pix2[selected],
                   length[selected], axis[selected], value[selected])
    log.debug("BPIXTAB %s: %d rows applied, %d pixels flagged", path, int(selected.sum()),
              int(np.count_nonzero(dq)))
    return dq
