"""DARKFILE (FILETYPE ``DARK``): dark imsets matched to the read times of an exposure."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.reference.common import (
    ReferenceFileError,
    check_detector,
    check_filetype,
    image_array,
    open_reference,
)

log = logging.getLogger(__name__)

__all__ = ["DARK_TIME_TOLERANCE", "DarkReference", "read_darkfile"]

KEYWORD = "DARKFILE"
FILETYPE = "DARK"
#: largest |EXPOS_n - SAMPTIME| (s) accepted as a match (calwf3 ``ALLOWDIFF``)
DARK_TIME_TOLERANCE = 0.01


@dataclass(frozen=True, eq=False)
class DarkReference:
    """Dark imsets for each read of an exposure, in time order.

    Attributes
    ----------
    path : Path
        The DARKFILE.
    samp_seq, subtype : str
        SAMP_SEQ and SUBTYPE of the file.
    times : numpy.ndarray
        float64 ``[ngroups]`` science read times (s since the zeroth read) matched.
    extvers : tuple of int
        Imset (EXTVER) used for each read.
    exposure_times : numpy.ndarray
        float64 ``[ngroups]`` EXPOS_n of those imsets.
    data : numpy.ndarray
        float32 ``[ngroups, ny, nx]`` dark DN accumulated since the zeroth read.
    err : numpy.ndarray
        float32 ``[ngroups, ny, nx]`` its uncertainty, DN.
    dq : numpy.ndarray
        uint16 ``[ngroups, ny, nx]``.
    """

    path: Path
    samp_seq: str
    subtype: str
    times: np.ndarray
    extvers: tuple[int, ...]
    exposure_times: np.ndarray
    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray


def _check_keyword_matches(header, name: str, science_value: str, path) -> str:
    found = str(header.get(name, "")).strip()
    if not found:
        raise ReferenceFileError(f"DARKFILE {path} has no {name} keyword", keyword=KEYWORD,
                                 path=path)
    if found.upper() != str(science_value).strip().upper():
        raise ReferenceFileError(
            f"DARKFILE {path} has {name}={found!r} but the science exposure has "
            f"{name}={str(science_value).strip()!r}", keyword=KEYWORD, path=path,
        )
    return found


def _exposure_times(header, path) -> np.ndarray:
    if "NUMEXPOS" not in header:
        raise ReferenceFileError(f"DARKFILE {path} has no NUMEXPOS keyword", keyword=KEYWORD,
                                 path=path)
    count = int(header["NUMEXPOS"])
    missing = [f"EXPOS_{n}" for n in range(1, count + 1) if f"EXPOS_{n}" not in header]
    if missing:
        raise ReferenceFileError(f"DARKFILE {path} lacks {', '.join(missing)}",
                                 keyword=KEYWORD, path=path)
    return np.array([float(header[f"EXPOS_{n}"]) for n in range(1, count + 1)])


def _matching_imset(read_time: float, exposure_times: np.ndarray, path) -> int:
    """First imset (1-indexed) whose EXPOS is within the tolerance of ``read_time``."""
    close = np.flatnonzero(np.abs(exposure_times - read_time) <= DARK_TIME_TOLERANCE)
    if close.size == 0:
        raise ReferenceFileError(
            f"DARKFILE {path} has no imset for read time {read_time:.6f} s (within "
            f"{DARK_TIME_TOLERANCE} s); its EXPOS_n are "
            f"{', '.join(f'{t:.6f}' for t in exposure_times)}", keyword=KEYWORD, path=path,
        )
    return int(close[0]) + 1


def _imset(hdul, extver, shape, path):
    sci = image_array(hdul, "SCI", extver, path, KEYWORD)
    if sci.shape != tuple(shape):
        raise ReferenceFileError(
            f"DARKFILE {path} imset {extver} is {sci.shape[0]}x{sci.shape[1]} but the science "
            f"image is {shape[0]}x{shape[1]}; a matching subarray dark is needed",
            keyword=KEYWORD, path=path,
        )
    names = {hdu.name for hdu in hdul}
    err = (image_array(hdul, "ERR", extver, path, KEYWORD) if "ERR" in names
           else np.zeros(shape, np.float32))
    dq = (image_array(hdul, "DQ", extver, path, KEYWORD) if "DQ" in names
          else np.zeros(shape, np.uint16))
    return sci.astype(np.float32), err.astype(np.float32), dq.astype(np.uint16)


def read_darkfile(path, *, times, shape, samp_seq: str, subtype: str,
                  detector: str = "IR") -> DarkReference:
    """Read the dark imset matching each science read time, as calwf3's ``getDarkImage``.

    Parameters
    ----------
    path : str or Path
        The DARKFILE.
    times : array_like
        Science read times, seconds since the zeroth read (SAMPTIME), in time order.
    shape : tuple of int
        ``(ny, nx)`` of the science image; every dark imset must have this shape (calwf3
        does not cut darks: subarrays need their own dark).
    samp_seq : str
        SAMP_SEQ of the science exposure (must equal the file's).
    subtype : str
        SUBTYPE of the science exposure (must equal the file's).
    detector : str
        Expected DETECTOR.

    Returns
    -------
    DarkReference
        Arrays ``[ngroups, ny, nx]`` in time order.

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, SAMP_SEQ or SUBTYPE differing from the science (both
        values named), a read time with no imset within 0.01 s (the time named), or a dark
        imset of another size.
    """
    path = Path(path)
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"times must be a non-empty 1-D sequence, got shape {times.shape}")
    with open_reference(path, KEYWORD) as hdul:
        check_filetype(hdul, path, KEYWORD, FILETYPE)
        check_detector(hdul, path, KEYWORD, detector)
        header = hdul[0].header
        file_seq = _check_keyword_matches(header, "SAMP_SEQ", samp_seq, path)
        file_subtype = _check_keyword_matches(header, "SUBTYPE", subtype, path)
        exposure_times = _exposure_times(header, path)
        extvers = tuple(_matching_imset(t, exposure_times, path) for t in times)
        imsets = {v: _imset(hdul, v, shape, path) for v in sorted(set(extvers))}
    data, err, dq = (np.stack([imsets[v][k] for v in extvers]) for k in range(3))
    log.debug("DARKFILE %s: imsets %s for read times %s", path, extvers, times)
    return DarkReference(
        path=path, samp_seq=file_seq, subtype=file_subtype, times=times.copy(),
        extvers=extvers, exposure_times=exposure_times[np.array(extvers, int) - 1],
        data=data, err=err, dq=dq,
    )
