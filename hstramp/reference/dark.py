"""DARKFILE (FILETYPE ``DARK``): dark imsets matched to the read times of an exposure."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hstramp.reference.common import (
    ReferenceFileError,
    check_detector,
    check_filetype,
    hdu_array,
    hdu_shape,
    image_hdu,
    open_reference,
)

log = logging.getLogger(__name__)

__all__ = ["DARK_TIME_TOLERANCE", "DarkReference", "ImsetFrames", "open_darkfile", "read_darkfile"]

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
    data : numpy.ndarray or ImsetFrames
        float32 ``[ngroups, ny, nx]`` dark DN accumulated since the zeroth read (from
        :func:`open_darkfile`: a lazy sequence of ``[ny, nx]`` frames, one per read).
    err : numpy.ndarray or ImsetFrames
        float32 ``[ngroups, ny, nx]`` its uncertainty, DN.
    dq : numpy.ndarray or ImsetFrames
        uint16 ``[ngroups, ny, nx]``.
    """

    path: Path
    samp_seq: str
    subtype: str
    times: np.ndarray
    extvers: tuple[int, ...]
    exposure_times: np.ndarray
    data: np.ndarray | ImsetFrames
    err: np.ndarray | ImsetFrames
    dq: np.ndarray | ImsetFrames


class ImsetFrames(Sequence):
    """One extension (SCI, ERR or DQ) of the dark imset of each read, read on demand.

    ``frames[k]`` reads the extension of read ``k``'s imset from the open file (a
    constant extension, or a missing ERR or DQ, gives a constant frame) and keeps
    nothing, so a step can subtract a dark of any number of reads holding one frame at
    a time. Valid while the file given by :func:`open_darkfile` is open.
    """

    def __init__(self, hdul, extname: str, extvers, shape, dtype, path):
        self._hdul, self._extname, self._extvers = hdul, extname, tuple(extvers)
        self._shape, self._dtype, self._path = tuple(shape), np.dtype(dtype), path
        # one pass over the file instead of a search by EXTNAME/EXTVER for every read; the
        # first of duplicates, as astropy's search
        self._hdus = {}
        for hdu in hdul[1:]:
            if hdu.name == extname:
                self._hdus.setdefault(hdu.ver, hdu)
        self._present = bool(self._hdus)

    def hdu(self, extver):
        """The extension of imset ``extver`` (ReferenceFileError when the file lacks it)."""
        return self._hdus.get(extver) or image_hdu(self._hdul, self._extname, extver,
                                                   self._path, KEYWORD)

    def __len__(self) -> int:
        return len(self._extvers)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if not self._present:  # an imset without ERR or DQ: zero
            return np.zeros(self._shape, self._dtype)
        hdu = self.hdu(self._extvers[k])
        found = hdu_shape(hdu, self._path, KEYWORD)  # from the header: nothing allocated yet
        if found != self._shape:
            raise ReferenceFileError(
                f"DARKFILE {self._path} imset {self._extvers[k]} {self._extname} is "
                f"{found[0]}x{found[1]} but the science image is "
                f"{self._shape[0]}x{self._shape[1]}; a matching subarray dark is needed",
                keyword=KEYWORD, path=self._path,
            )
        return hdu_array(hdu, self._path, KEYWORD).astype(self._dtype, copy=False)

    def stacked(self) -> np.ndarray:
        """Every frame, as one ``[ngroups, ny, nx]`` array (each imset read once)."""
        frames = {v: self[self._extvers.index(v)] for v in set(self._extvers)}
        return np.stack([frames[v] for v in self._extvers])


def _check_keyword_matches(header, name: str, science_value: str, path) -> str:
    """calwf3 ``checkKeyS``: the file's value must begin the science value (``strncmp`` over
    the file value's length); case is ignored here."""
    found = str(header.get(name, "")).strip()
    if not found:
        raise ReferenceFileError(f"DARKFILE {path} has no {name} keyword", keyword=KEYWORD,
                                 path=path)
    if not str(science_value).strip().upper().startswith(found.upper()):
        raise ReferenceFileError(
            f"DARKFILE {path} has {name}={found!r} but the science exposure has "
            f"{name}={str(science_value).strip()!r}", keyword=KEYWORD, path=path,
        )
    return found


def _header_number(header, name: str, path) -> float:
    value = header.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ReferenceFileError(f"DARKFILE {path} has {name} = {value!r}; a finite number is "
                                 "needed", keyword=KEYWORD, path=path)
    return float(value)


def _exposure_times(header, path) -> np.ndarray:
    if "NUMEXPOS" not in header:
        raise ReferenceFileError(f"DARKFILE {path} has no NUMEXPOS keyword", keyword=KEYWORD,
                                 path=path)
    count = _header_number(header, "NUMEXPOS", path)
    if count != int(count) or count < 1:
        raise ReferenceFileError(f"DARKFILE {path} has NUMEXPOS = {header['NUMEXPOS']!r}; a "
                                 "whole number >= 1 is needed", keyword=KEYWORD, path=path)
    missing = [f"EXPOS_{n}" for n in range(1, int(count) + 1) if f"EXPOS_{n}" not in header]
    if missing:
        raise ReferenceFileError(f"DARKFILE {path} lacks {', '.join(missing)}",
                                 keyword=KEYWORD, path=path)
    return np.array([_header_number(header, f"EXPOS_{n}", path)
                     for n in range(1, int(count) + 1)])


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
        Wrong FILETYPE/DETECTOR, SAMP_SEQ or SUBTYPE that does not begin the science value
        (both values named), NUMEXPOS not a whole number >= 1, an EXPOS_n missing or not a
        finite number, a read time with no imset within 0.01 s (the time named), or a dark
        imset of another size (from its header, before anything is read; constant
        extensions count by NPIX1/NPIX2).
    """
    with open_darkfile(path, times=times, shape=shape, samp_seq=samp_seq, subtype=subtype,
                       detector=detector) as dark:
        return replace(dark, data=dark.data.stacked(), err=dark.err.stacked(),
                       dq=dark.dq.stacked())


def _check_imset_shape(hdu, extver, shape, path) -> None:
    """Raise ReferenceFileError unless the (header) size of an imset's SCI is ``shape``."""
    found = hdu_shape(hdu, path, KEYWORD)
    if found != tuple(shape):
        raise ReferenceFileError(
            f"DARKFILE {path} imset {extver} is {found[0]}x{found[1]} but the science "
            f"image is {shape[0]}x{shape[1]}; a matching subarray dark is needed",
            keyword=KEYWORD, path=path,
        )


@contextlib.contextmanager
def open_darkfile(path, *, times, shape, samp_seq: str, subtype: str,
                  detector: str = "IR") -> Iterator[DarkReference]:
    """Open a DARKFILE and match its imsets to the read times, reading no image yet.

    The same checks and matching as :func:`read_darkfile`; the ``data``, ``err`` and
    ``dq`` of the :class:`DarkReference` are :class:`ImsetFrames`, which read one
    read's frame at a time while the file is open (inside the ``with`` block).

    Yields
    ------
    DarkReference
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
        frames = {name: ImsetFrames(hdul, name, extvers, shape, dtype, path)
                  for name, dtype in (("SCI", np.float32), ("ERR", np.float32),
                                      ("DQ", np.uint16))}
        for extver in sorted(set(extvers)):  # every imset present and of the right size
            _check_imset_shape(frames["SCI"].hdu(extver), extver, shape, path)
        log.debug("DARKFILE %s: imsets %s for read times %s", path, extvers, times)
        yield DarkReference(
            path=path, samp_seq=file_seq, subtype=file_subtype, times=times.copy(),
            extvers=extvers, exposure_times=exposure_times[np.array(extvers, int) - 1],
            data=frames["SCI"], err=frames["ERR"], dq=frames["DQ"],
        )
