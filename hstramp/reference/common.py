"""Shared helpers of the reference-file readers: errors, header checks, table rows,
constant extensions and calwf3's row-selection wildcards."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

from hstramp.core.geometry import ScienceGeometry, cut_to_science, reference_offset
from hstramp.errors import HstrampError

log = logging.getLogger(__name__)

__all__ = [
    "ReadOnlyCache",
    "ReferenceFileError",
    "cached_by_file",
    "check_detector",
    "check_filetype",
    "column",
    "file_identity",
    "hdu_array",
    "header_ltv",
    "image_array",
    "image_hdu",
    "is_dummy",
    "open_reference",
    "same_float",
    "same_int",
    "same_string",
    "science_cutout",
    "table_hdu",
]

#: calwf3 wildcard values in reference-table selection columns
STRING_WILDCARDS = ("ANY",)
NUMBER_WILDCARDS = (-1, -999)


class ReferenceFileError(HstrampError, ValueError):
    """A reference file is missing, unreadable, of the wrong type or has no usable row.

    Parameters
    ----------
    message : str
        What went wrong; it names the file and the keyword or column at fault.
    keyword : str, optional
        Header keyword naming the reference file (``DARKFILE``), if known.
    path : str or Path, optional
        The file concerned, if known.
    """

    def __init__(self, message: str, *, keyword: str | None = None, path=None):
        super().__init__(message)
        self.keyword = keyword
        self.path = None if path is None else Path(path)


def file_identity(path) -> tuple:
    """What identifies a file's contents for a cache: path, inode, size, mtime and ctime.

    A file rewritten or replaced in place gets a new identity, so a cache never serves
    stale data. A missing file has no identity: its reader raises the usual error.
    """
    path = Path(path).resolve()
    try:
        status = os.stat(path)
    except OSError:
        return (str(path), None)
    return (str(path), status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


class ReadOnlyCache:
    """A small least-recently-used cache of reference data, made read-only when stored.

    The arrays of a cached value (a NumPy array, or a dataclass whose fields are arrays)
    are flagged non-writeable, so no caller can change what the next caller gets; the core
    functions never write into their inputs, so they work on it unchanged.

    Parameters
    ----------
    maxsize : int
        Entries kept; the least recently used goes first.
    """

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The value stored under ``key`` (now the most recent), or None."""
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key, value):
        """Store ``value`` (its arrays made read-only) and return it."""
        _freeze_arrays(value)
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def cached_by_file(maxsize: int):
    """Decorator: a reader ``reader(path, *args, **kwargs)`` reads each file version once.

    Results are cached per :func:`file_identity` of ``path`` and the other arguments (which
    must be hashable), in a :class:`ReadOnlyCache` of ``maxsize`` entries; a reader that
    raises caches nothing, so a bad file gives its error every time. The steps of one
    exposure (and the exposures of a batch worker) share the small tables and header
    checks this way instead of parsing them again and again.

    Parameters
    ----------
    maxsize : int
        Entries kept.
    """
    def decorate(reader):
        cache = ReadOnlyCache(maxsize)

        @functools.wraps(reader)
        def cached(path, *args, **kwargs):
            key = (file_identity(path), args, tuple(sorted(kwargs.items())))
            value = cache.get(key)
            if value is None:
                value = cache.put(key, reader(path, *args, **kwargs))
            return value

        cached.cache = cache
        return cached

    return decorate


def _freeze_arrays(value) -> None:
    """Flag the arrays of ``value`` (an array or a dataclass of arrays) non-writeable."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _freeze_arrays(getattr(value, field.name))


@contextlib.contextmanager
def open_reference(path, keyword: str | None = None):
    """Open a reference FITS file read-only, turning I/O errors into ReferenceFileError.

    Parameters
    ----------
    path : str or Path
        The reference file.
    keyword : str, optional
        Keyword that named it, for the error message.

    Yields
    ------
    astropy.io.fits.HDUList
    """
    path = Path(path)
    what = f"{keyword} file" if keyword else "reference file"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hdul = fits.open(path, mode="readonly", memmap=False, lazy_load_hdus=False)
    except FileNotFoundError as exc:
        raise ReferenceFileError(f"{what} {path} does not exist", keyword=keyword,
                                 path=path) from exc
    except (OSError, ValueError, TypeError) as exc:
        raise ReferenceFileError(f"{what} {path} is not a readable FITS file: {exc}",
                                 keyword=keyword, path=path) from exc
    for warning in caught:
        # a truncated file only warns on opening, then fails later with a bare numpy error
        if issubclass(warning.category, AstropyUserWarning) and "truncated" in str(
                warning.message):
            hdul.close()
            raise ReferenceFileError(f"{what} {path} is not a readable FITS file: "
                                     f"{warning.message}", keyword=keyword, path=path)
        warnings.warn(warning.message, warning.category, stacklevel=3)
    try:
        yield hdul
    finally:
        hdul.close()


@cached_by_file(maxsize=32)
def is_dummy(path, keyword: str | None = None) -> bool:
    """True if a reference file's PEDIGREE starts with DUMMY (calwf3 then skips the step).

    Parameters
    ----------
    path : str or Path
        The reference file.
    keyword : str, optional
        Its header keyword (``DARKFILE``), named in the error if the file cannot be read.

    Returns
    -------
    bool
    """
    with open_reference(path, keyword) as hdul:
        pedigree = str(hdul[0].header.get("PEDIGREE", "")).strip().upper()
    return pedigree.startswith("DUMMY")


def _header_string(header, key: str) -> str:
    return str(header.get(key, "")).strip()


def check_filetype(hdul, path, keyword: str, expected: str) -> None:
    """Raise ReferenceFileError unless the primary FILETYPE is ``expected`` (case-insensitive).

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        The open file.
    path : str or Path
        Its path, for the message.
    keyword : str
        Header keyword that named the file (``CCDTAB``).
    expected : str
        Expected FILETYPE (``CCD PARAMETERS``).
    """
    found = _header_string(hdul[0].header, "FILETYPE")
    if found.upper() != expected.upper():
        raise ReferenceFileError(
            f"{keyword} {path} has FILETYPE={found!r}; expected {expected!r}",
            keyword=keyword, path=path,
        )


def check_detector(hdul, path, keyword: str, detector: str = "IR") -> None:
    """Raise ReferenceFileError unless the primary DETECTOR is ``detector``.

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        The open file.
    path : str or Path
        Its path, for the message.
    keyword : str
        Header keyword that named the file.
    detector : str
        Expected DETECTOR (``IR``).
    """
    found = _header_string(hdul[0].header, "DETECTOR")
    if found.upper() != detector.upper():
        raise ReferenceFileError(
            f"{keyword} {path} has DETECTOR={found!r}; expected {detector!r}",
            keyword=keyword, path=path,
        )


def table_hdu(hdul, path, keyword: str):
    """The first binary-table extension (reference tables keep their rows in HDU 1).

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        The open file.
    path : str or Path
        Its path, for the message.
    keyword : str
        Header keyword that named the file.

    Returns
    -------
    astropy.io.fits.BinTableHDU
    """
    if len(hdul) < 2 or not isinstance(hdul[1], fits.BinTableHDU):
        raise ReferenceFileError(f"{keyword} {path} has no table in extension 1",
                                 keyword=keyword, path=path)
    return hdul[1]


def column(table, name: str, path, keyword: str, *, required: bool = True):
    """One table column by case-insensitive name; strings are stripped.

    Parameters
    ----------
    table : astropy.io.fits.BinTableHDU
        The table.
    name : str
        Column name, any case.
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.
    required : bool
        If False, a missing column gives None instead of an error.

    Returns
    -------
    numpy.ndarray or None
    """
    names = {n.upper(): n for n in table.columns.names}
    actual = names.get(name.upper())
    if actual is None:
        if required:
            raise ReferenceFileError(
                f"{keyword} {path} has no column {name.upper()} (columns: "
                f"{', '.join(table.columns.names)})", keyword=keyword, path=path,
            )
        return None
    values = np.array(table.data[actual])  # a copy: the file may be closed afterwards
    if values.dtype.kind in "SU":
        values = np.char.strip(values.astype(str))
    return values


def image_array(hdul, extname: str, extver: int, path, keyword: str) -> np.ndarray:
    """Data of one image extension, as a native-endian array.

    Constant extensions (``NAXIS = 0`` with ``NPIX1``, ``NPIX2``, ``PIXVALUE``) are
    expanded to full arrays.

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        The open file.
    extname : str
        EXTNAME (``SCI``).
    extver : int
        EXTVER.
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.

    Returns
    -------
    numpy.ndarray
        ``[ny, nx]`` in the file's numeric type (native byte order); a constant extension
        gives float32 for a real PIXVALUE and int32 for an integer one.
    """
    return hdu_array(image_hdu(hdul, extname, extver, path, keyword), path, keyword)


def hdu_array(hdu, path, keyword: str) -> np.ndarray:
    """The data of an image HDU as :func:`image_array` gives it (constant ones expanded).

    Parameters
    ----------
    hdu : astropy.io.fits.ImageHDU
        The extension (its own copy of the data is released afterwards).
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.

    Returns
    -------
    numpy.ndarray
    """
    if hdu.data is None:
        header = hdu.header
        missing = [k for k in ("NPIX1", "NPIX2", "PIXVALUE") if k not in header]
        if missing:
            raise ReferenceFileError(
                f"{keyword} {path} extension {hdu.name},{hdu.ver} has no data and no "
                f"{', '.join(missing)}", keyword=keyword, path=path,
            )
        # BITPIX of a constant extension says nothing (STScI writes 16 for ERR and TIME)
        value = header["PIXVALUE"]
        dtype = np.float32 if isinstance(value, float) else np.int32
        return np.full((header["NPIX2"], header["NPIX1"]), value, dtype=dtype)
    data = np.asarray(hdu.data)
    native = data.astype(data.dtype.newbyteorder("="), copy=True)
    del hdu.data  # the file's own (big-endian) copy: read again if asked again
    return native


def image_hdu(hdul, extname: str, extver: int, path, keyword: str):
    """The HDU with EXTNAME/EXTVER, or ReferenceFileError naming both.

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        The open file.
    extname : str
        EXTNAME.
    extver : int
        EXTVER.
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.

    Returns
    -------
    astropy.io.fits.ImageHDU
    """
    try:
        return hdul[extname, extver]
    except KeyError as exc:
        raise ReferenceFileError(f"{keyword} {path} has no extension {extname},{extver}",
                                 keyword=keyword, path=path) from exc


def header_ltv(header) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((LTV1, LTV2), (LTM1_1, LTM2_2))`` with calwf3's defaults (0 and 1).

    Parameters
    ----------
    header : astropy.io.fits.Header
        An extension header.

    Returns
    -------
    tuple
    """
    ltv = (float(header.get("LTV1", 0.0)), float(header.get("LTV2", 0.0)))
    ltm = (float(header.get("LTM1_1", 1.0)), float(header.get("LTM2_2", 1.0)))
    return ltv, ltm


def same_string(row_value, value) -> np.ndarray:
    """calwf3 SameString: equal (case-insensitive here) or the row holds ``ANY``.

    Parameters
    ----------
    row_value : array_like of str
        Column values.
    value : str
        Value from the science header.

    Returns
    -------
    numpy.ndarray of bool
    """
    rows = np.char.upper(np.asarray(row_value, dtype=str))
    wildcard = np.isin(rows, STRING_WILDCARDS)
    return wildcard | (rows == str(value).strip().upper())


def same_int(row_value, value) -> np.ndarray:
    """calwf3 SameInt: equal, or the row holds a wildcard (-1 or -999).

    Parameters
    ----------
    row_value : array_like of int
        Column values.
    value : int
        Value from the science header.

    Returns
    -------
    numpy.ndarray of bool
    """
    rows = np.asarray(row_value).astype(np.int64)
    return np.isin(rows, NUMBER_WILDCARDS) | (rows == int(value))


def same_float(row_value, value) -> np.ndarray:
    """calwf3 SameFlt: equal (to float32 precision), or the row holds -1 or -999.

    Parameters
    ----------
    row_value : array_like of float
        Column values.
    value : float
        Value from the science header.

    Returns
    -------
    numpy.ndarray of bool
    """
    rows = np.asarray(row_value, dtype=np.float32)
    return np.isin(rows, np.asarray(NUMBER_WILDCARDS, dtype=np.float32)) | (
        rows == np.float32(value)
    )


def science_cutout(hdul, extname: str, extver: int, geometry: ScienceGeometry, path,
                   keyword: str, ref_header=None) -> np.ndarray:
    """The part of a reference image extension under a science image.

    The offset is ``sci_corner - ref_corner`` from the LTV/LTM of the science geometry and
    of ``ref_header`` (default: the extension's own header), as calwf3 (``GetCorner``).

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        The open reference file.
    extname : str
        EXTNAME.
    extver : int
        EXTVER.
    geometry : ScienceGeometry
        Shape and LTV of the science image.
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.
    ref_header : astropy.io.fits.Header, optional
        Header whose LTV/LTM place the reference image (calwf3 uses ``COEF,1`` for the
        whole NLINFILE, the first flat for the flats).

    Returns
    -------
    numpy.ndarray
        ``[ny, nx]`` array of its own, in the file's numeric type.
    """
    hdu = image_hdu(hdul, extname, extver, path, keyword)
    ref_ltv, ref_ltm = header_ltv(hdu.header if ref_header is None else ref_header)
    data = image_array(hdul, extname, extver, path, keyword)
    try:
        offset = reference_offset(geometry.ltv, ref_ltv, geometry.ltm, ref_ltm)
        # ``data`` is this function's own array: a cut of all of it need not be copied
        whole = data.shape == tuple(geometry.shape)
        return cut_to_science(data, geometry.shape, offset, copy=not whole)
    except ValueError as exc:
        raise ReferenceFileError(
            f"{keyword} {path} extension {extname},{extver} ({data.shape[0]}x{data.shape[1]}, "
            f"LTV={ref_ltv}) cannot be cut for the science image {geometry.shape[0]}x"
            f"{geometry.shape[1]} with LTV={geometry.ltv}: {exc}", keyword=keyword, path=path,
        ) from exc
