"""ATODTAB: the STIS CCD analog-to-digital correction table (calstis ``cs1/doatod.c``).

Columns CCDAMP, CCDGAIN, REF_KEY, REF_KEY_VALUE, NELEM, ATOD (an array), optional
PEDIGREE and DESCRIP. Among the rows whose CCDAMP and CCDGAIN match (``ANY`` / -1
wildcards), calstis takes the one whose REF_KEY_VALUE is closest to the value of the
science header keyword named in REF_KEY (the first on a tie). A row whose PEDIGREE starts
with DUMMY makes ATODCORR SKIPPED.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.errors import InputFileError
from hstramp.reference.common import (
    ReferenceFileError,
    column,
    open_reference,
    same_int,
    same_string,
    table_hdu,
)
from hstramp.reference.stis.common import STIS_FILETYPES

log = logging.getLogger(__name__)

__all__ = ["ATODTAB_FILETYPE", "AtoDTable", "read_stis_atodtab"]

KEYWORD = "ATODTAB"
#: FILETYPE the simulator writes (calstis checks none)
ATODTAB_FILETYPE = STIS_FILETYPES["ATODTAB"][0]


@dataclass(frozen=True, eq=False)
class AtoDTable:
    """The ATODTAB row calstis uses.

    Attributes
    ----------
    path : Path
    row : int
        One-indexed row.
    ref_key : str
        Science keyword compared (e.g. ``CCDTEMP``).
    ref_key_value : float
        The row's value of it.
    atod : numpy.ndarray
        float32 ``[NELEM]`` lookup table (pass to :func:`hstramp.core.stis.atod.atod_correct`).
    dummy : bool
        The row's PEDIGREE is DUMMY (ATODCORR = SKIPPED, nothing applied).
    """

    path: Path
    row: int
    ref_key: str
    ref_key_value: float
    atod: np.ndarray
    dummy: bool


def _header_value(header, key: str, path) -> float:
    if key not in header:
        raise InputFileError(f"the science SCI header has no keyword {key}, which "
                             f"{KEYWORD} {path} needs (REF_KEY) to select its row")
    try:
        value = float(header[key])
    except (TypeError, ValueError) as exc:
        raise InputFileError(f"science keyword {key} = {header[key]!r} is not a number "
                             f"({KEYWORD} {path} REF_KEY)") from exc
    if not math.isfinite(value):
        raise InputFileError(f"science keyword {key} = {value!r} is not finite")
    return value


def read_stis_atodtab(path, *, ccdamp: str, ccdgain: int, header) -> AtoDTable:
    """Select and read the ATODTAB row for an exposure, as calstis ``doAtoD``.

    Parameters
    ----------
    path : str or Path
        The ATODTAB.
    ccdamp : str
        CCDAMP.
    ccdgain : int
        CCDGAIN.
    header : mapping
        The science SCI-extension header (calstis reads REF_KEY from it).

    Returns
    -------
    AtoDTable

    Raises
    ------
    ReferenceFileError
        A missing column, no row for CCDAMP/CCDGAIN, or an ATOD array shorter than NELEM.
    InputFileError
        The REF_KEY keyword missing from the science header (fatal in calstis too).
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        table = table_hdu(hdul, path, KEYWORD)
        amp, gain, key, keyval, nelem, atod = (
            column(table, n, path, KEYWORD) for n in
            ("CCDAMP", "CCDGAIN", "REF_KEY", "REF_KEY_VALUE", "NELEM", "ATOD"))
        pedigree = column(table, "PEDIGREE", path, KEYWORD, required=False)
    rows = np.flatnonzero(same_string(amp, ccdamp) & same_int(gain.astype(np.int64), ccdgain))
    if rows.size == 0:
        raise ReferenceFileError(f"CCD amp {ccdamp}, gain {ccdgain} not found in {KEYWORD} "
                                 f"{path}", keyword=KEYWORD, path=path)
    distance = [abs(_header_value(header, str(key[i]), path) - float(keyval[i])) for i in rows]
    i = int(rows[int(np.argmin(distance))])
    n = int(nelem[i])
    values = np.ravel(np.asarray(atod[i], np.float32))
    if n < 1 or values.size < n:
        raise ReferenceFileError(f"{KEYWORD} {path} row {i + 1}: NELEM = {n} but the ATOD "
                                 f"array holds {values.size} values", keyword=KEYWORD,
                                 path=path)
    dummy = pedigree is not None and str(pedigree[i]).strip().upper().startswith("DUMMY")
    log.debug("%s %s: row %d (%s = %g)", KEYWORD, path, i + 1, key[i], float(keyval[i]))
    return AtoDTable(path=path, row=i + 1, ref_key=str(key[i]), ref_key_value=float(keyval[i]),
                     atod=values[:n].copy(), dummy=dummy)
