"""CCDTAB (FILETYPE ``CCD PARAMETERS``): gain, read noise, bias and amplifier boundaries."""

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

__all__ = ["CCDParameters", "read_ccdtab"]

KEYWORD = "CCDTAB"
FILETYPE = "CCD PARAMETERS"
_AMPS = "ABCD"
#: the columns calwf3's ``OpenCCDTab`` requires (any case; extra columns are ignored)
_REQUIRED = ("CCDAMP", "CCDCHIP", "CCDGAIN", "BINAXIS1", "BINAXIS2",
             *(f"{p}{a}" for p in ("CCDOFST", "CCDBIAS", "ATODGN", "READNSE") for a in _AMPS),
             "AMPX", "AMPY", "SATURATE")


@dataclass(frozen=True)
class CCDParameters:
    """The CCDTAB row that matches an exposure.

    Attributes
    ----------
    path : Path
        The CCDTAB file.
    row : int
        One-indexed row number used.
    ccdamp : str
        CCDAMP of the row (may be the wildcard ``ANY``).
    gain : tuple of float
        ATODGNA..D, e-/DN, for amplifiers A, B, C, D.
    read_noise : tuple of float
        READNSEA..D, e- (noise of a correlated double sample, as calwf3 uses it).
    bias : tuple of float
        CCDBIASA..D, DN.
    ccdofst : tuple of int
        CCDOFSTA..D (commanded bias offsets).
    ampx, ampy : int
        First column / row read by the second amplifier (calwf3 splits at
        ``AMPX + LTV1 - TRIMX1``; see :func:`hstramp.core.geometry.amplifier_map`).
    saturate : float
        SATURATE column.
    """

    path: Path
    row: int
    ccdamp: str
    gain: tuple[float, float, float, float]
    read_noise: tuple[float, float, float, float]
    bias: tuple[float, float, float, float]
    ccdofst: tuple[int, int, int, int]
    ampx: int
    ampy: int
    saturate: float

    @property
    def mean_gain(self) -> float:
        """Mean of the four amplifier gains (what calwf3's FLATCORR multiplies by)."""
        return float(np.mean(self.gain))


def _per_amp(table, prefix: str, path, index: int, read=number_column) -> tuple:
    return tuple(read(table, f"{prefix}{amp}", path, KEYWORD)[index].item() for amp in _AMPS)


def _matching_rows(table, path, ccdamp, ccdgain, ccdchip, binaxis, ccdofst) -> np.ndarray:
    match = same_string(text_column(table, "CCDAMP", path, KEYWORD), ccdamp)
    match &= same_float(number_column(table, "CCDGAIN", path, KEYWORD), ccdgain)
    match &= same_int(integer_column(table, "CCDCHIP", path, KEYWORD), ccdchip)
    match &= same_int(integer_column(table, "BINAXIS1", path, KEYWORD), binaxis[0])
    match &= same_int(integer_column(table, "BINAXIS2", path, KEYWORD), binaxis[1])
    offsets = [integer_column(table, f"CCDOFST{amp}", path, KEYWORD) for amp in _AMPS]
    if ccdofst is not None:
        for column_values, offset in zip(offsets, ccdofst, strict=True):
            match &= same_int(column_values, offset)
    return np.flatnonzero(match)


@cached_by_file(maxsize=8)
def read_ccdtab(path, *, ccdamp: str = "ABCD", ccdgain: float = 2.5, ccdchip: int = 1,
                binaxis=(1, 1), ccdofst=None, detector: str = "IR") -> CCDParameters:
    """Read the first CCDTAB row matching the exposure, as calwf3's ``GetCCDTab``.

    A row matches when CCDAMP equals ``ccdamp`` (or is ``ANY``), CCDGAIN equals ``ccdgain``,
    CCDCHIP equals ``ccdchip`` and BINAXIS1/2 equal ``binaxis`` (numbers -1 and -999 are
    wildcards); CCDOFSTA..D are compared too when ``ccdofst`` is given.

    Parameters
    ----------
    path : str or Path
        The CCDTAB file.
    ccdamp : str
        CCDAMP of the exposure (``ABCD`` for WFC3/IR).
    ccdgain : float
        CCDGAIN of the exposure (2.5).
    ccdchip : int
        Chip (1 for IR).
    binaxis : tuple of int
        ``(BINAXIS1, BINAXIS2)``.
    ccdofst : tuple of int, optional
        Commanded offsets for A, B, C, D; not compared if None.
    detector : str
        Expected DETECTOR.

    Returns
    -------
    CCDParameters

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, missing columns (all named), a selection column holding
        something other than whole numbers, no matching row (the message names the file
        and the CCDGAIN, CCDAMP, CCDCHIP and BINAXIS looked for), or a selected row with a
        gain ATODGNA..D that is zero, negative or not finite, a negative or undefined read
        noise, an undefined bias or SATURATE, or a negative AMPX/AMPY.
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        table = table_hdu(hdul, path, KEYWORD)
        require_columns(table, _REQUIRED, path, KEYWORD)
        rows = _matching_rows(table, path, ccdamp, ccdgain, ccdchip, binaxis, ccdofst)
        if rows.size == 0:
            raise ReferenceFileError(
                f"no row of CCDTAB {path} matches CCDGAIN={ccdgain:g}, CCDAMP={ccdamp}, "
                f"CCDCHIP={ccdchip}, BINAXIS={tuple(binaxis)}"
                + ("" if ccdofst is None else f", CCDOFST={tuple(ccdofst)}"),
                keyword=KEYWORD, path=path,
            )
        i = int(rows[0])
        params = CCDParameters(
            path=path,
            row=i + 1,
            ccdamp=str(text_column(table, "CCDAMP", path, KEYWORD)[i]),
            gain=_per_amp(table, "ATODGN", path, i),
            read_noise=_per_amp(table, "READNSE", path, i),
            bias=_per_amp(table, "CCDBIAS", path, i),
            ccdofst=_per_amp(table, "CCDOFST", path, i, integer_column),
            ampx=int(integer_column(table, "AMPX", path, KEYWORD)[i]),
            ampy=int(integer_column(table, "AMPY", path, KEYWORD)[i]),
            saturate=float(number_column(table, "SATURATE", path, KEYWORD)[i]),
        )
    _check_values(params)
    log.debug("CCDTAB %s: using row %d", path, params.row)
    return params


def _check_values(params: CCDParameters) -> None:
    """Refuse a selected row calwf3 would compute nonsense from: a gain that is zero,
    negative or not a number (it divides by it), a negative or undefined read noise, an
    undefined bias or saturation, or a negative amplifier boundary."""
    where = f"CCDTAB {params.path} row {params.row}"
    for amp, gain in zip(_AMPS, params.gain, strict=True):
        if not (np.isfinite(gain) and gain > 0):
            raise ReferenceFileError(
                f"{where} has ATODGN{amp} = {gain:g}; a gain must be a positive number of "
                "e-/DN", keyword=KEYWORD, path=params.path,
            )
    check_finite({f"READNSE{a}": v for a, v in zip(_AMPS, params.read_noise, strict=True)},
                 where, KEYWORD, params.path, minimum=0.0)
    check_finite({**{f"CCDBIAS{a}": v for a, v in zip(_AMPS, params.bias, strict=True)},
                  "SATURATE": params.saturate}, where, KEYWORD, params.path)
    check_finite({"AMPX": params.ampx, "AMPY": params.ampy}, where, KEYWORD, params.path,
                 minimum=0)
