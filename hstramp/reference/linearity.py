"""NLINFILE (FILETYPE ``LINEARITY COEFFICIENTS``): non-linearity coefficients, saturation
node and the super-zero read, cut to the science image."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.core.geometry import ScienceGeometry
from hstramp.reference.common import (
    ReferenceFileError,
    check_detector,
    check_filetype,
    check_finite_image,
    image_hdu,
    open_reference,
    science_cutout,
)

log = logging.getLogger(__name__)

__all__ = ["NLIN_PLANES", "LinearityReference", "read_nlinfile"]

KEYWORD = "NLINFILE"
FILETYPE = "LINEARITY COEFFICIENTS"


@dataclass(frozen=True, eq=False)
class LinearityReference:
    """NLINFILE contents under one science image.

    calwf3 (NLINCORR) corrects a read ``r`` (DN after ZOFF) as: ``s = r + zsig``; where
    ``s <= node``: ``r' = s * (1 + sum_{k=0}^{ncoef-1} coeffs[k] * s**k) - zsig``, else flag
    256 (saturated). Note the sum starts at ``k = 0``.

    Each plane is None when it was not asked for (``planes`` of :func:`read_nlinfile`).

    Attributes
    ----------
    path : Path
        The NLINFILE.
    coeffs : numpy.ndarray or None
        float32 ``[ncoef, ny, nx]`` from ``COEF,1..NCOEF``.
    errors : numpy.ndarray or None
        float32 ``[nerr, ny, nx]`` from ``ERR,1..NERR`` (not used by calwf3).
    dq : numpy.ndarray or None
        uint16 ``[ny, nx]`` from ``DQ,1`` (OR-ed into the science DQ).
    node : numpy.ndarray or None
        float32 ``[ny, nx]`` from ``NODE,1``: saturation level, DN above the super-zero.
    zsci : numpy.ndarray or None
        float32 ``[ny, nx]`` from ``ZSCI,1``: super-zero read in raw DN (bias included).
    zerr : numpy.ndarray or None
        float32 ``[ny, nx]`` from ``ZERR,1``: its uncertainty, DN.
    ncoef, nerr : int
        NCOEF and NERR of the file.
    """

    path: Path
    coeffs: np.ndarray
    errors: np.ndarray
    dq: np.ndarray
    node: np.ndarray
    zsci: np.ndarray
    zerr: np.ndarray

    ncoef: int = 0
    nerr: int = 0


#: every plane of the NLINFILE, as :class:`LinearityReference` names them
NLIN_PLANES = ("coeffs", "errors", "dq", "node", "zsci", "zerr")


def _count_keyword(header, name: str, path) -> int:
    """NCOEF or NERR: a whole number (calwf3's ``getKeyI``), NCOEF >= 1, NERR >= 0."""
    if name not in header:
        raise ReferenceFileError(f"NLINFILE {path} has no {name} keyword in its primary header",
                                 keyword=KEYWORD, path=path)
    value = header[name]
    whole = (not isinstance(value, bool) and isinstance(value, (int, float))
             and np.isfinite(value) and value == int(value))
    if not whole or int(value) < (1 if name == "NCOEF" else 0):
        least = 1 if name == "NCOEF" else 0
        raise ReferenceFileError(f"NLINFILE {path} has {name}={value!r}; a whole number >= "
                                 f"{least} is needed", keyword=KEYWORD, path=path)
    return int(value)


#: the planes that must be finite, and their extension names (a NaN NODE would neither
#: correct nor flag a pixel in calwf3: ``s <= node`` and ``s > node`` are both false)
_FINITE_PLANES = {"coeffs": "COEF", "node": "NODE", "zsci": "ZSCI", "zerr": "ZERR"}


def _check_finite_planes(reference: LinearityReference, path) -> None:
    for name, extname in _FINITE_PLANES.items():
        plane = getattr(reference, name)
        if plane is not None:
            check_finite_image(plane, f"NLINFILE {path} extension {extname}", KEYWORD, path)


def _plane(hdul, extname, geometry, path, ref_header, dtype) -> np.ndarray:
    return science_cutout(hdul, extname, 1, geometry, path, KEYWORD, ref_header).astype(
        dtype, copy=False)


def _stack(hdul, extname, count, geometry, path, ref_header) -> np.ndarray:
    """Planes ``extname,1`` .. ``extname,count`` cut to the science image, float32
    ``[count, ny, nx]``, each written into the stack as it is read (no second stack)."""
    stack = np.empty((count, *geometry.shape), dtype=np.float32)
    for k in range(count):
        stack[k] = science_cutout(hdul, extname, k + 1, geometry, path, KEYWORD, ref_header)
    return stack


def read_nlinfile(path, geometry: ScienceGeometry, *, detector: str = "IR",
                  planes=NLIN_PLANES) -> LinearityReference:
    """Read the NLINFILE and cut every plane to the science image.

    All planes are placed with the LTV of ``COEF,1`` (as calwf3's ``nlincorr``). Any plane
    may be a constant extension (``NPIX1``/``NPIX2``/``PIXVALUE``; only the cut is
    allocated) or hold integer or real data.

    Parameters
    ----------
    path : str or Path
        The NLINFILE (full frame 1024 x 1024).
    geometry : ScienceGeometry
        Shape and LTV of the science image.
    detector : str
        Expected DETECTOR.
    planes : collection of str
        The planes to read (names from :data:`NLIN_PLANES`); the others are None. ZSIG
        needs ``zsci``, ``zerr`` and ``node``; NLIN ``coeffs``, ``node`` and ``dq``.

    Returns
    -------
    LinearityReference

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, NCOEF/NERR missing or not whole numbers (NCOEF >= 1,
        NERR >= 0), NaN or infinity in COEF, NODE, ZSCI or ZERR, a missing extension, a
        constant extension without NPIX1/PIXVALUE or claiming a size far beyond the science
        geometry, or a science image that does not fit inside the reference image.
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        ncoef = _count_keyword(hdul[0].header, "NCOEF", path)
        nerr = _count_keyword(hdul[0].header, "NERR", path)
        ref_header = image_hdu(hdul, "COEF", 1, path, KEYWORD).header

        readers = {
            "coeffs": lambda: _stack(hdul, "COEF", ncoef, geometry, path, ref_header),
            "errors": lambda: _stack(hdul, "ERR", nerr, geometry, path, ref_header),
            "dq": lambda: _plane(hdul, "DQ", geometry, path, ref_header, np.uint16),
            "node": lambda: _plane(hdul, "NODE", geometry, path, ref_header, np.float32),
            "zsci": lambda: _plane(hdul, "ZSCI", geometry, path, ref_header, np.float32),
            "zerr": lambda: _plane(hdul, "ZERR", geometry, path, ref_header, np.float32),
        }
        unknown = sorted(set(planes) - set(readers))
        if unknown:
            raise ValueError(f"unknown NLINFILE planes {unknown}; choose from {NLIN_PLANES}")
        reference = LinearityReference(
            path=path, ncoef=ncoef, nerr=nerr,
            **{name: (read() if name in planes else None) for name, read in readers.items()},
        )
        _check_finite_planes(reference, path)
    log.debug("NLINFILE %s: NCOEF=%d NERR=%d cut to %s", path, ncoef, nerr, geometry.shape)
    return reference
