"""OSCNTAB (FILETYPE ``OVERSCAN``): reference-pixel trim widths and bias sections."""

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
    integer_column,
    open_reference,
    require_columns,
    same_int,
    same_string,
    table_hdu,
    text_column,
)

log = logging.getLogger(__name__)

__all__ = ["OverscanParameters", "read_oscntab"]

KEYWORD = "OSCNTAB"
FILETYPE = "OVERSCAN"
#: the columns calwf3's ``OpenOverTab`` requires (any case; extra columns are ignored)
_REQUIRED = ("CCDAMP", "CCDCHIP", "BINX", "BINY", "NX", "NY",
             *(f"TRIMX{k}" for k in (1, 2, 3, 4)), "TRIMY1", "TRIMY2",
             *(f"V{a}{k}" for a in "XY" for k in (1, 2, 3, 4)),
             *(f"BIASSECT{s}{k}" for s in "ABCD" for k in (1, 2)))


@dataclass(frozen=True)
class OverscanParameters:
    """The OSCNTAB row for an image size.

    Attributes
    ----------
    path : Path
        The OSCNTAB file.
    row : int
        One-indexed row used.
    nx, ny : int
        Image size the row is for (reference border included).
    trimx : tuple of int
        TRIMX1..TRIMX4 (columns trimmed at the start and end of each line; 3 and 4 are the
        UVIS virtual overscan, 0 for IR).
    trimy : tuple of int
        TRIMY1, TRIMY2 (rows trimmed at the bottom and top).
    biassect_a, biassect_b : slice
        Reference columns BIASSECTA1..A2 and BIASSECTB1..B2, converted from the table's
        one-indexed inclusive columns to 0-indexed python slices:
        ``slice(A1 - 1, A2)`` (full frame: A 2..5 -> ``slice(1, 5)``, B 1020..1023 ->
        ``slice(1019, 1023)``).
    """

    path: Path
    row: int
    nx: int
    ny: int
    trimx: tuple[int, int, int, int]
    trimy: tuple[int, int]
    biassect_a: slice
    biassect_b: slice

    @property
    def science_slices(self) -> tuple[slice, slice]:
        """``(rows, columns)`` of the illuminated area inside the trim."""
        return (slice(self.trimy[0], self.ny - self.trimy[1]),
                slice(self.trimx[0], self.nx - self.trimx[1]))


def _int_value(table, name, path, index) -> int:
    return int(integer_column(table, name, path, KEYWORD)[index])


def _bias_slice(table, section: str, path, index) -> slice:
    first = _int_value(table, f"BIASSECT{section}1", path, index)
    last = _int_value(table, f"BIASSECT{section}2", path, index)
    if first <= 0 or last < first:
        return slice(0, 0)
    return slice(first - 1, last)


def _check_row(params: OverscanParameters) -> None:
    """Refuse trims that are negative or leave no pixel, and bias sections outside the
    image (calwf3 would index outside its arrays)."""
    where = f"OSCNTAB {params.path} row {params.row}"
    names = ("TRIMX1", "TRIMX2", "TRIMX3", "TRIMX4", "TRIMY1", "TRIMY2")
    for name, value in zip(names, (*params.trimx, *params.trimy), strict=True):
        if value < 0:
            raise ReferenceFileError(f"{where} has {name} = {value}; trims cannot be negative",
                                     keyword=KEYWORD, path=params.path)
    if params.trimx[0] + params.trimx[1] >= params.nx or \
            params.trimy[0] + params.trimy[1] >= params.ny:
        raise ReferenceFileError(f"{where} trims {params.trimx[:2]} x {params.trimy} leave no "
                                 f"pixel of the {params.nx}x{params.ny} image",
                                 keyword=KEYWORD, path=params.path)
    for section, cut in (("A", params.biassect_a), ("B", params.biassect_b)):
        if cut.stop > params.nx:
            raise ReferenceFileError(
                f"{where} has BIASSECT{section} {cut.start + 1}..{cut.stop}, outside the "
                f"{params.nx} columns of the image", keyword=KEYWORD, path=params.path)


@cached_by_file(maxsize=8)
def read_oscntab(path, *, nx: int, ny: int, ccdamp: str = "ABCD", ccdchip: int = 1,
                 detector: str = "IR") -> OverscanParameters:
    """Read the OSCNTAB row for an IR image of ``nx`` x ``ny`` pixels.

    As calwf3's ``FindOverscan`` for IR: rows match on CCDAMP, CCDCHIP, NX and NY (BINX and
    BINY are not compared for IR), and the *last* matching row wins.

    Parameters
    ----------
    path : str or Path
        The OSCNTAB file.
    nx, ny : int
        Raw image size, reference border included (1024 full frame, 266 SQ256SUB).
    ccdamp : str
        CCDAMP of the exposure.
    ccdchip : int
        Chip (1 for IR).
    detector : str
        Expected DETECTOR.

    Returns
    -------
    OverscanParameters

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, missing columns (all those calwf3 requires, named at
        once), a column of non-whole numbers, no row for this size, or a selected row whose
        trims are negative or leave no pixel or whose bias sections leave the image.
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        table = table_hdu(hdul, path, KEYWORD)
        require_columns(table, _REQUIRED, path, KEYWORD)
        match = same_string(text_column(table, "CCDAMP", path, KEYWORD), ccdamp)
        match &= same_int(integer_column(table, "CCDCHIP", path, KEYWORD), ccdchip)
        match &= same_int(integer_column(table, "NX", path, KEYWORD), nx)
        match &= same_int(integer_column(table, "NY", path, KEYWORD), ny)
        rows = np.flatnonzero(match)
        if rows.size == 0:
            raise ReferenceFileError(
                f"no row of OSCNTAB {path} matches NX={nx}, NY={ny}, CCDAMP={ccdamp}, "
                f"CCDCHIP={ccdchip}", keyword=KEYWORD, path=path,
            )
        i = int(rows[-1])
        params = OverscanParameters(
            path=path,
            row=i + 1,
            nx=int(nx),
            ny=int(ny),
            trimx=tuple(_int_value(table, f"TRIMX{k}", path, i) for k in (1, 2, 3, 4)),
            trimy=(_int_value(table, "TRIMY1", path, i), _int_value(table, "TRIMY2", path, i)),
            biassect_a=_bias_slice(table, "A", path, i),
            biassect_b=_bias_slice(table, "B", path, i),
        )
    _check_row(params)
    log.debug("OSCNTAB %s: using row %d for %dx%d", path, params.row, nx, ny)
    return params
