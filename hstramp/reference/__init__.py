"""Readers for the CRDS reference files of WFC3/IR, with calwf3's selection rules.

Each reader checks FILETYPE and DETECTOR, applies calwf3's row selection or imset matching,
cuts full-frame images to the science geometry and returns a small frozen dataclass (the
bad-pixel reader returns the DQ array). Errors are :class:`ReferenceFileError` naming the
file and the keyword or column at fault. See ``docs/reference_files.md``.
"""

from hstramp.reference.bpix import read_bpixtab
from hstramp.reference.ccd import CCDParameters, read_ccdtab
from hstramp.reference.common import ReferenceFileError, is_dummy
from hstramp.reference.crrej import CRRejectParameters, parse_crsigmas, read_crrejtab
from hstramp.reference.dark import DarkReference, ImsetFrames, open_darkfile, read_darkfile
from hstramp.reference.flat import FlatField, read_flats
from hstramp.reference.linearity import LinearityReference, read_nlinfile
from hstramp.reference.overscan import OverscanParameters, read_oscntab
from hstramp.reference.photometry import PhotometryKeywords, read_imphttab
from hstramp.reference.resolve import resolve_reference_path

__all__ = [
    "CCDParameters",
    "CRRejectParameters",
    "DarkReference",
    "FlatField",
    "ImsetFrames",
    "LinearityReference",
    "OverscanParameters",
    "PhotometryKeywords",
    "ReferenceFileError",
    "is_dummy",
    "open_darkfile",
    "parse_crsigmas",
    "read_bpixtab",
    "read_ccdtab",
    "read_crrejtab",
    "read_darkfile",
    "read_flats",
    "read_imphttab",
    "read_nlinfile",
    "read_oscntab",
    "resolve_reference_path",
]
