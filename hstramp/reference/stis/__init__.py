"""Readers for the STIS CCD reference files, with calstis's selection rules.

CCDTAB, BPIXTAB and CRREJTAB rows are chosen as calstis does; BIASFILE, DARKFILE and the
flats are cut and binned to the science image by LTV/LTM (``FindBin`` + ``bin2d``).
Header values ``oref$name.fits`` resolve through
:func:`hstramp.reference.resolve_reference_path`. Errors are
:class:`~hstramp.reference.ReferenceFileError` naming the file and keyword.
"""

from hstramp.reference.stis.common import STIS_FILETYPES, STISGeometry
from hstramp.reference.stis.images import STISReferenceImage, read_stis_flats, read_stis_image
from hstramp.reference.stis.tables import (
    STISCCDParameters,
    read_stis_bpixtab,
    read_stis_ccdtab,
    read_stis_crrejtab,
)

__all__ = [
    "STIS_FILETYPES",
    "STISCCDParameters",
    "STISGeometry",
    "STISReferenceImage",
    "read_stis_bpixtab",
    "read_stis_ccdtab",
    "read_stis_crrejtab",
    "read_stis_flats",
    "read_stis_image",
]
