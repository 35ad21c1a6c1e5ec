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
    image_hdu,
    open_reference,
    science_cutout,
)

log = logging.getLogger(__name__)

__all__ = ["LinearityReference", "read_nlinfile"]

KEYWORD = "NLINFILE"
FILETYPE = "LINEARITY COEFFICIENTS"


@dataclass(frozen=True, eq=False)
class LinearityReference:
    """NLINFILE contents under one science image.

    calwf3 (NLINCORR) corrects a read ``r`` (DN after ZOFF) as: ``s = r + zsig``; where
    ``s <= node``: ``r' = s * (1 + sum_{k=0}^{ncoef-1} coeffs[k] * s**k) - zsig``, else flag
    256 (saturated). Note the sum starts at ``k = 0``.

    Attributes
    ----------
    path : Path
        The NLINFILE.
    coeffs : numpy.ndarray
        float32 ``[ncoef, ny, nx]`` from ``COEF,1..NCOEF``.
    errors : numpy.ndarray
        float32 ``[nerr, ny, nx]`` from ``ERR,1..NERR`` (not used by calwf3).
    dq : numpy.ndarray
        uint16 ``[ny, nx]`` from ``DQ,1`` (OR-ed into the science DQ).
    node : numpy.ndarray
        float32 ``[ny, nx]`` from ``NODE,1``: saturation level, DN above the super-zero.
    zsci : numpy.ndarray
        float32 ``[ny, nx]`` from ``ZSCI,1``: super-zero read in raw DN (bias included).
    zerr : numpy.ndarray
        float32 ``[ny, nx]`` from ``ZERR,1``: its uncertainty, DN.
    """

    path: Path
    coeffs: np.ndarray
    errors: np.ndarray
    dq: np.ndarray
    node: np.ndarray
    zsci: np.ndarray
    zerr: np.ndarray

    @property
    def ncoef(self) -> int:
        """Number of coefficient planes (NCOEF)."""
        return int(self.coeffs.shape[0])

    @property
    def nerr(self) -> int:
        """Number of error planes (NERR)."""
        return int(self.errors.shape[0])


def _count_keyword(header, name: str, path) -> int:
    if name not in header:
        raise ReferenceFileError(f"NLINFILE {path} has no {name} keyword in its primary header",
                                 keyword=KEYWORD, path=path)
    count = int(header[name])
    if count < 0 or (name == "NCOEF" and count == 0):
        raise ReferenceFileError(f"NLINFILE {path} has {name}={count}", keyword=KEYWORD,
                                 path=path)
    return count


def _stack(hdul, extname, count, geometry, path, ref_header) -> np.ndarray:
    planes = [science_cutout(hdul, extname, k, geometry, path, KEYWORD, ref_header)
              for k in range(1, count + 1)]
    if not planes:
        return np.zeros((0, *geometry.shape), dtype=np.float32)
    return np.stack(planes).astype(np.float32)


def read_nlinfile(path, geometry: ScienceGeometry, *, detector: str = "IR"
                  ) -> LinearityReference:
    """Read the NLINFILE and cut every plane to the science image.

    All planes are placed with the LTV of ``COEF,1`` (as calwf3's ``nlincorr``).

    Parameters
    ----------
    path : str or Path
        The NLINFILE (full frame 1024 x 1024).
    geometry : ScienceGeometry
        Shape and LTV of the science image.
    detector : str
        Expected DETECTOR.

    Returns
    -------
    LinearityReference

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, missing NCOEF/NERR or extension, or a science image that
        does not fit inside the reference image.
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        ncoef = _count_keyword(hdul[0].header, "NCOEF", path)
        nerr = _count_keyword(hdul[0].header, "NERR", path)
        ref_header = image_hdu(hdul, "COEF", 1, path, KEYWORD).header

        def plane(extname):
            return science_cutout(hdul, extname, 1, geometry, path, KEYWORD, ref_header)

        reference = LinearityReference(
            path=path,
            coeffs=_stack(hdul, "COEF", ncoef, geometry, path, ref_header),
            errors=_stack(hdul, "ERR", nerr, geometry, path, ref_header),
            dq=plane("DQ").astype(np.uint16),
            node=plane("NODE").astype(np.float32),
            zsci=plane("ZSCI").astype(np.float32),
            zerr=plane("ZERR").astype(np.float32),
        )
    log.debug("NLINFILE %s: NCOEF=%d NERR=%d cut to %s", path, ncoef, nerr, geometry.shape)
    return reference
