"""What the STIS reference readers share: the image geometry and the FILETYPE check."""

from __future__ import annotations

from dataclasses import dataclass

from hstramp.reference.common import ReferenceFileError

__all__ = ["STIS_FILETYPES", "STIS_FULL_FRAME", "STISGeometry", "check_stis_filetype"]

#: ``(ny, nx)`` of an unbinned full-frame STIS CCD readout, overscan included
STIS_FULL_FRAME = (1044, 1062)

#: FILETYPE values accepted for each keyword (upper case; the first is what the simulator
#: writes, the others are spellings found in CRDS files)
STIS_FILETYPES = {
    "CCDTAB": ("CCD PARAMETERS",),
    "BPIXTAB": ("DATA QUALITY INITIALIZATION TABLE", "BAD PIXELS"),
    "BIASFILE": ("CCD BIAS IMAGE", "BIAS"),
    "DARKFILE": ("DARK IMAGE", "DARK"),
    "PFLTFILE": ("PIXEL-TO-PIXEL FLAT",),
    "DFLTFILE": ("DELTA FLAT",),
    "LFLTFILE": ("LOW ORDER FLAT", "LOW-ORDER FLAT", "LARGE SCALE FLAT"),
    "CRREJTAB": ("COSMIC RAY REJECTION TABLE", "COSMIC RAY REJECTION"),
    "SHADFILE": ("SHUTTER SHADING CORRECTION IMAGE",),
    "ATODTAB": ("A TO D CORRECTION TABLE",),
    "IMPHTTAB": ("IMAGE PHOTOMETRY TABLE",),
    "TDSTAB": ("TIME DEPENDENT SENSITIVITY TABLE",),
}


@dataclass(frozen=True)
class STISGeometry:
    """Shape and placement of a STIS CCD image on the detector.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)``.
    ltv : tuple of float
        ``(LTV1, LTV2)``.
    ltm : tuple of float
        ``(LTM1_1, LTM2_2)``: 1 / binning.
    """

    shape: tuple[int, int]
    ltv: tuple[float, float] = (0.0, 0.0)
    ltm: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(int(v) for v in self.shape))
        object.__setattr__(self, "ltv", tuple(float(v) for v in self.ltv))
        object.__setattr__(self, "ltm", tuple(float(v) for v in self.ltm))
        if min(self.shape) <= 0 or min(self.ltm) <= 0:
            raise ValueError(f"STISGeometry needs a positive shape and LTM, got {self}")

    @property
    def binning(self) -> tuple[int, int]:
        """``(binx, biny)`` from LTM."""
        return tuple(max(1, round(1.0 / m)) for m in self.ltm)


def check_stis_filetype(hdul, path, keyword: str) -> None:
    """Raise ReferenceFileError unless FILETYPE is one accepted for ``keyword``.

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
    path : str or Path
    keyword : str
        ``CCDTAB``, ``BIASFILE`` ...
    """
    found = str(hdul[0].header.get("FILETYPE", "")).strip().upper()
    # calstis compares over the length of the expected value (strncmp), as calwf3
    if not any(found.startswith(expected) for expected in STIS_FILETYPES[keyword]):
        raise ReferenceFileError(
            f"{keyword} {path} has FILETYPE={found!r}; expected "
            f"{' or '.join(repr(f) for f in STIS_FILETYPES[keyword])}", keyword=keyword,
            path=path)
