"""Shared helpers of the reference-file readers: errors, header checks, table rows,
constant extensions and calwf3's row-selection wildcards."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import re
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

from hstramp.core.geometry import (
    FULL_FRAME_SHAPE,
    ScienceGeometry,
    cut_to_science,
    reference_offset,
)
from hstramp.errors import HstrampError
from hstramp.fitsimage import StoredImages

log = logging.getLogger(__name__)

__all__ = [
    "ReadOnlyCache",
    "ReferenceFileError",
    "cached_by_file",
    "check_bad_pixel_runs",
    "check_detector",
    "check_filetype",
    "check_finite",
    "check_finite_image",
    "column",
    "constant_view",
    "file_identity",
    "flag_column",
    "hdu_array",
    "hdu_shape",
    "header_ltv",
    "image_array",
    "image_hdu",
    "integer_column",
    "is_dummy",
    "number_column",
    "open_reference",
    "parse_crsigmas",
    "primary_header",
    "require_columns",
    "row_vector",
    "same_float",
    "same_int",
    "same_string",
    "science_cutout",
    "size_limit",
    "table_hdu",
    "text_column",
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
def open_reference(path, keyword: str | None = None, *, primary_only: bool = False):
    """Open a reference FITS file read-only, turning I/O errors into ReferenceFileError.

    Parameters
    ----------
    path : str or Path
        The reference file.
    keyword : str, optional
        Keyword that named it, for the error message.
    primary_only : bool
        Parse only the primary HDU on opening (astropy's lazy loading), for a caller that
        reads the primary header alone: a 16-read dark has 81 HDUs. By default every HDU is
        parsed on opening, so that a truncated file is an error here.

    Yields
    ------
    astropy.io.fits.HDUList
    """
    path = Path(path)
    what = f"{keyword} file" if keyword else "reference file"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hdul = fits.open(path, mode="readonly", memmap=False,
                             lazy_load_hdus=primary_only)
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


_PRIMARY_HEADERS = ReadOnlyCache(64)


def primary_header(path, keyword: str | None = None) -> fits.Header:
    """The primary header of a reference file, read once per file version.

    The checks that look only at the primary header (:func:`is_dummy`, the simulated-file
    mark) share this one read of each file, whatever keyword names it. Callers must not
    modify the header.

    Parameters
    ----------
    path : str or Path
        The reference file.
    keyword : str, optional
        Its header keyword, named in the error if the file cannot be read (an error is
        never cached).

    Returns
    -------
    astropy.io.fits.Header
    """
    key = file_identity(path)
    header = _PRIMARY_HEADERS.get(key)
    if header is None:
        with open_reference(path, keyword, primary_only=True) as hdul:
            header = _PRIMARY_HEADERS.put(key, hdul[0].header.copy())
    return header


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
    pedigree = str(primary_header(path, keyword).get("PEDIGREE", "")).strip().upper()
    return pedigree.startswith("DUMMY")


def _header_string(header, key: str) -> str:
    return str(header.get(key, "")).strip()


def check_filetype(hdul, path, keyword: str, expected: str) -> None:
    """Raise ReferenceFileError unless the primary FILETYPE starts with ``expected``.

    As calwf3's ``CheckImgType``/``CheckTabType`` (``strncmp`` over the length of the
    expected value, so ``DARK IMAGE`` is a ``DARK``); the comparison ignores case.

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
    if not found.upper().startswith(expected.upper()):
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
    """The table in HDU 1, where calwf3's ``c_tbtopn`` looks (binary or ASCII).

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
    astropy.io.fits.BinTableHDU or astropy.io.fits.TableHDU
    """
    if len(hdul) < 2 or not isinstance(hdul[1], (fits.BinTableHDU, fits.TableHDU)):
        raise ReferenceFileError(f"{keyword} {path} has no table in extension 1",
                                 keyword=keyword, path=path)
    return hdul[1]


def _where(table, path, keyword: str) -> str:
    """``CCDTAB /x/y_ccd.fits`` or ``IMPHTTAB /x/y_imp.fits extension PHOTPLAM``."""
    name = str(getattr(table, "name", "") or "").strip()
    return f"{keyword} {path}" + (f" extension {name}" if name else "")


def column(table, name: str, path, keyword: str, *, required: bool = True):
    """One table column by case-insensitive name (as ``c_tbcfnd1``); strings are stripped.

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
        The cells as stored: ``[nrows]`` for scalar columns, ``[nrows, n]`` for vector
        columns, an object array of arrays for variable-length ones.
    """
    names = {n.upper(): n for n in table.columns.names}
    actual = names.get(name.upper())
    if actual is None:
        if required:
            raise ReferenceFileError(
                f"{_where(table, path, keyword)} has no column {name.upper()} (columns: "
                f"{', '.join(table.columns.names)})", keyword=keyword, path=path,
            )
        return None
    values = np.array(table.data[actual])  # a copy: the file may be closed afterwards
    if values.dtype.kind in "SU":
        values = np.char.strip(values.astype(str))
    return values


def require_columns(table, names, path, keyword: str) -> None:
    """Raise ReferenceFileError naming every one of ``names`` the table lacks (any case).

    Parameters
    ----------
    table : astropy.io.fits.BinTableHDU
        The table.
    names : iterable of str
        Columns the calwf3 reader requires.
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.
    """
    present = {n.upper() for n in table.columns.names}
    missing = [n.upper() for n in names if n.upper() not in present]
    if missing:
        raise ReferenceFileError(f"{_where(table, path, keyword)} lacks column(s) "
                                 f"{', '.join(missing)}", keyword=keyword, path=path)


def _first_elements(values: np.ndarray, table, name: str, path, keyword: str) -> np.ndarray:
    """The first element of each cell, as calwf3's scalar reads (``c_tbegt*``) take it."""
    if values.dtype == object:  # variable-length arrays
        empty = [i for i, cell in enumerate(values) if np.size(cell) == 0]
        if empty:
            raise ReferenceFileError(f"{_where(table, path, keyword)} column {name.upper()} "
                                     f"row {empty[0] + 1} is empty", keyword=keyword, path=path)
        return np.array([np.ravel(cell)[0] for cell in values])
    if values.ndim > 1:
        if values.shape[1] == 0:
            raise ReferenceFileError(f"{_where(table, path, keyword)} column {name.upper()} "
                                     "has no elements", keyword=keyword, path=path)
        return values.reshape(values.shape[0], -1)[:, 0]
    return values


def _parse_numbers(texts, table, name: str, path, keyword: str) -> np.ndarray:
    """Numbers written as text (calwf3 reads them with ``atof``; ``INDEF`` is undefined)."""
    numbers = np.empty(len(texts), np.float64)
    for i, text in enumerate(texts):
        text = str(text).strip()
        try:
            numbers[i] = np.nan if text.upper() == "INDEF" else float(text)
        except ValueError as exc:
            raise ReferenceFileError(
                f"{_where(table, path, keyword)} column {name.upper()} row {i + 1} holds "
                f"{text!r}, not a number", keyword=keyword, path=path) from exc
    return numbers


def number_column(table, name: str, path, keyword: str, *, required: bool = True):
    """A column read as calwf3 reads a number from every row: float64, one per row.

    Integer, real, logical or text columns are accepted (text is parsed, ``INDEF`` gives
    NaN); a vector or variable-length column gives its first element.

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
        If False, a missing column gives None.

    Returns
    -------
    numpy.ndarray or None
        float64 ``[nrows]``.
    """
    values = column(table, name, path, keyword, required=required)
    if values is None:
        return None
    values = _first_elements(values, table, name, path, keyword)
    if values.dtype.kind in "SUO":
        return _parse_numbers(values, table, name, path, keyword)
    return values.astype(np.float64)


def integer_column(table, name: str, path, keyword: str, *, required: bool = True):
    """A column read as whole numbers (:func:`number_column`, then checked integral).

    A value that is not a finite whole number (which calwf3 would silently truncate) is
    an error naming the column and the row.

    Returns
    -------
    numpy.ndarray or None
        int64 ``[nrows]``.
    """
    values = number_column(table, name, path, keyword, required=required)
    if values is None:
        return None
    bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
    if bad.size:
        raise ReferenceFileError(
            f"{_where(table, path, keyword)} column {name.upper()} row {int(bad[0]) + 1} holds "
            f"{float(values[bad[0]])!r}; a whole number is needed", keyword=keyword, path=path)
    return values.astype(np.int64)


def text_column(table, name: str, path, keyword: str, *, required: bool = True):
    """A column read as text (first element of vector cells; numbers formatted), stripped.

    Returns
    -------
    numpy.ndarray or None
        str ``[nrows]``.
    """
    values = column(table, name, path, keyword, required=required)
    if values is None:
        return None
    values = _first_elements(values, table, name, path, keyword)
    if values.dtype.kind == "f":
        return np.array([f"{v:g}" for v in values], dtype=str)
    return np.char.strip(values.astype(str))


def flag_column(table, name: str, path, keyword: str, *, required: bool = True):
    """A yes/no column as calwf3 reads it with ``c_tbegti``: logical, or a number (non-zero
    is true), or text holding a whole number.

    Returns
    -------
    numpy.ndarray or None
        bool ``[nrows]``.
    """
    values = column(table, name, path, keyword, required=required)
    if values is None:
        return None
    first = _first_elements(values, table, name, path, keyword)
    if first.dtype == bool:
        return first
    return integer_column(table, name, path, keyword) != 0


def row_vector(table, name: str, row: int, path, keyword: str) -> np.ndarray:
    """The cell of one row as a float64 vector (a scalar cell gives one element).

    Parameters
    ----------
    table : astropy.io.fits.BinTableHDU
        The table.
    name : str
        Column name, any case.
    row : int
        Zero-indexed row.
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.

    Returns
    -------
    numpy.ndarray
        float64 ``[n]``.
    """
    cell = column(table, name, path, keyword)[row]
    try:
        return np.atleast_1d(np.asarray(cell, dtype=np.float64)).ravel()
    except ValueError as exc:
        raise ReferenceFileError(f"{_where(table, path, keyword)} column {name.upper()} row "
                                 f"{row + 1} holds {cell!r}, not numbers", keyword=keyword,
                                 path=path) from exc


#: DQ values are 16-bit
_MAX_DQ = 0xFFFF


def check_bad_pixel_runs(length, axis, value, path, keyword: str) -> None:
    """Refuse bad-pixel rows calwf3's ``ReadBpixTab`` and calstis's ``doDQI`` reject
    (AXIS not 1 or 2, LENGTH <= 0) and VALUEs that do not fit a 16-bit DQ; the message
    names the first such row.

    Parameters
    ----------
    length, axis, value : numpy.ndarray
        int64 columns of every row.
    path : str or Path
        The file, for the message.
    keyword : str
        Header keyword that named it.
    """
    problems = (("AXIS", axis, (axis != 1) & (axis != 2), "must be 1 or 2"),
                ("LENGTH", length, length <= 0, "must be positive"),
                ("VALUE", value, (value < 0) | (value > _MAX_DQ),
                 f"must be a DQ value 0..{_MAX_DQ}"))
    for name, values, bad, rule in problems:
        rows = np.flatnonzero(bad)
        if rows.size:
            raise ReferenceFileError(f"{keyword} {path} row {int(rows[0]) + 1}: {name}="
                                     f"{int(values[rows[0]])}, {rule}", keyword=keyword,
                                     path=path)


def check_finite(values: dict, where: str, keyword: str, path, *, minimum=None,
                 strictly: bool = False) -> None:
    """Raise ReferenceFileError unless every value is finite (and above ``minimum``).

    Parameters
    ----------
    values : dict
        ``{name: value}`` of the quantities read (``READNSEA``...).
    where : str
        ``CCDTAB /path row 2``, for the message.
    keyword : str
        Header keyword that named the file.
    path : str or Path
        The file.
    minimum : float, optional
        Lower bound; with ``strictly`` the value must exceed it, else reach it.
    strictly : bool
        See ``minimum``.
    """
    for name, value in values.items():
        ok = np.isfinite(value)
        if ok and minimum is not None:
            ok = value > minimum if strictly else value >= minimum
        if not ok:
            bound = "" if minimum is None else (f" {'>' if strictly else '>='} {minimum:g}")
            raise ReferenceFileError(f"{where} has {name} = {float(value)!r}; it must be a finite "
                                     f"number{bound}", keyword=keyword, path=path)


def check_finite_image(image, where: str, keyword: str, path) -> None:
    """Raise ReferenceFileError if a reference image (its science cut) holds NaN or infinity.

    Parameters
    ----------
    image : numpy.ndarray
        The plane as read (``NODE,1`` of an NLINFILE cut to the science image).
    where : str
        ``NLINFILE /path extension NODE,1``, for the message.
    keyword : str
        Header keyword that named the file.
    path : str or Path
        The file.
    """
    bad = ~np.isfinite(image)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ReferenceFileError(
            f"{where} has {int(bad.sum())} NaN or infinite value(s) under the science image "
            f"(first at index {index}); it must hold finite numbers", keyword=keyword, path=path)


#: a constant extension may claim at most this many times the larger of the science
#: image and the detector's full frame along each axis (calwf3 would allocate whatever
#: NPIX1 x NPIX2 says; a corrupt header asks for gigabytes)
OVERSIZE_FACTOR = 4


def size_limit(*shapes) -> tuple[int, int]:
    """Largest ``(ny, nx)`` a reference image may claim: :data:`OVERSIZE_FACTOR` times the
    largest of ``shapes`` (the science image, the detector's full frame) along each axis.

    Parameters
    ----------
    *shapes : tuple of int
        ``(ny, nx)`` shapes.

    Returns
    -------
    tuple of int
    """
    return tuple(OVERSIZE_FACTOR * max(int(shape[k]) for shape in shapes) for k in (0, 1))


def _keyword_int(header, key: str, where: str, keyword: str, path, default=None) -> int:
    value = header.get(key, default)
    if value is None:
        raise ReferenceFileError(f"{where} has no data and no {key}", keyword=keyword,
                                 path=path)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ReferenceFileError(f"{where} has {key} = {value!r}; a whole number is needed",
                                 keyword=keyword, path=path)
    return int(value)


def hdu_shape(hdu, path, keyword: str, limit=None) -> tuple[int, int]:
    """``(ny, nx)`` an image HDU holds or, for a constant extension, claims; nothing is read.

    As hstio's ``getFloatData``: ``NAXIS`` 2 gives ``(NAXIS2, NAXIS1)``, ``NAXIS`` 1 one
    row; ``NAXIS = 0`` needs ``NPIX1`` and ``PIXVALUE`` (``NPIX2`` missing means one row);
    more axes are an error.

    Parameters
    ----------
    hdu : astropy.io.fits.ImageHDU
        The extension.
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.
    limit : tuple of int, optional
        ``(ny, nx)`` no constant extension may exceed (:func:`size_limit`).

    Returns
    -------
    tuple of int
    """
    header = hdu.header
    where = f"{keyword} {path} extension {hdu.name},{hdu.ver}"
    naxis = int(header.get("NAXIS", 0))
    if naxis > 2:
        raise ReferenceFileError(f"{where} has NAXIS={naxis}; an image of 1 or 2 axes or a "
                                 "constant extension is needed", keyword=keyword, path=path)
    if naxis:
        return (int(header["NAXIS2"]) if naxis == 2 else 1, int(header["NAXIS1"]))
    if "PIXVALUE" not in header:
        raise ReferenceFileError(f"{where} has no data and no PIXVALUE", keyword=keyword,
                                 path=path)
    shape = (_keyword_int(header, "NPIX2", where, keyword, path, default=1),
             _keyword_int(header, "NPIX1", where, keyword, path))
    if min(shape) < 1:
        raise ReferenceFileError(f"{where} claims {shape[0]}x{shape[1]} pixels (NPIX2 x "
                                 "NPIX1); sizes must be positive", keyword=keyword, path=path)
    if limit is not None and (shape[0] > limit[0] or shape[1] > limit[1]):
        raise ReferenceFileError(
            f"{where} claims {shape[0]}x{shape[1]} pixels (NPIX2 x NPIX1), far beyond the "
            f"science geometry (at most {limit[0]}x{limit[1]} is accepted)",
            keyword=keyword, path=path)
    return shape


def _pixvalue(hdu, path, keyword: str):
    """PIXVALUE of a constant extension: a finite number, as a NumPy scalar."""
    value = hdu.header["PIXVALUE"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ReferenceFileError(f"{keyword} {path} extension {hdu.name},{hdu.ver} has "
                                 f"PIXVALUE = {value!r}; a finite number is needed",
                                 keyword=keyword, path=path)
    # BITPIX of a constant extension says nothing (STScI writes 16 for ERR and TIME)
    return np.float32(value) if isinstance(value, float) else np.int32(value)


def constant_view(hdu, path, keyword: str, limit=None) -> np.ndarray | None:
    """A read-only, zero-memory view of a constant extension at its claimed size, or None
    for an HDU with data.

    Parameters
    ----------
    hdu : astropy.io.fits.ImageHDU
        The extension.
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.
    limit : tuple of int, optional
        See :func:`hdu_shape`.

    Returns
    -------
    numpy.ndarray or None
    """
    if int(hdu.header.get("NAXIS", 0)) != 0:
        return None
    shape = hdu_shape(hdu, path, keyword, limit)
    return np.broadcast_to(_pixvalue(hdu, path, keyword), shape)


def image_array(hdul, extname: str, extver: int, path, keyword: str, limit=None) -> np.ndarray:
    """Data of one image extension, as a native-endian array.

    Constant extensions (``NAXIS = 0`` with ``NPIX1``, ``NPIX2``, ``PIXVALUE``) are
    expanded to full arrays; a one-axis image is one row.

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
    limit : tuple of int, optional
        Largest size a constant extension may claim (checked before allocating).

    Returns
    -------
    numpy.ndarray
        ``[ny, nx]`` in the file's numeric type (native byte order); a constant extension
        gives float32 for a real PIXVALUE and int32 for an integer one.
    """
    return hdu_array(image_hdu(hdul, extname, extver, path, keyword), path, keyword, limit)


def hdu_array(hdu, path, keyword: str, limit=None) -> np.ndarray:
    """The data of an image HDU as :func:`image_array` gives it (constant ones expanded).

    Parameters
    ----------
    hdu : astropy.io.fits.ImageHDU
        The extension (its own copy of the data is released afterwards).
    path : str or Path
        File path, for the message.
    keyword : str
        Header keyword that named the file.
    limit : tuple of int, optional
        Largest size a constant extension may claim (checked before allocating).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ReferenceFileError
        A DQ extension stored as floating point (its NaN would become an arbitrary flag).
    """
    constant = constant_view(hdu, path, keyword, limit)
    if constant is not None:
        return constant.copy()
    shape = hdu_shape(hdu, path, keyword)
    with StoredImages() as images:  # straight from the file when the bytes are the values
        data = images.read(hdu, path, lambda message: ReferenceFileError(
            message, keyword=keyword, path=path))
    stored = data is not None
    data = np.asarray(hdu.data) if not stored else data
    if str(hdu.name).upper() == "DQ" and data.dtype.kind == "f":
        raise ReferenceFileError(
            f"{keyword} {path} extension DQ,{hdu.ver} is stored as {data.dtype.name}; DQ "
            "flags must be stored as integers", keyword=keyword, path=path)
    if stored:
        return data.reshape(shape)
    native = _in_native_order(data).reshape(shape)
    del hdu.data  # the HDU lets go of its array, now ours: read again if asked again
    return native


def _in_native_order(data: np.ndarray) -> np.ndarray:
    """``data`` in native byte order: swapped in place when it is the HDU's own writeable
    array (what astropy reads without a memory map), else a native copy; as it is when
    already native (a BZERO-scaled array astropy made)."""
    if data.dtype.isnative:
        return data
    if data.flags.writeable and data.flags.c_contiguous:
        return data.byteswap(inplace=True).view(data.dtype.newbyteorder("="))
    return data.astype(data.dtype.newbyteorder("="))


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


def header_ltv(header, path="reference file", keyword: str = "reference"
               ) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((LTV1, LTV2), (LTM1_1, LTM2_2))`` with calwf3's defaults (0 and 1).

    Parameters
    ----------
    header : astropy.io.fits.Header
        An extension header.
    path : str or Path
        The file, for the message.
    keyword : str
        Header keyword that named the file.

    Returns
    -------
    tuple

    Raises
    ------
    ReferenceFileError
        A value that is not a finite number, or an LTM that is not positive.
    """
    values = []
    for key, default in (("LTV1", 0.0), ("LTV2", 0.0), ("LTM1_1", 1.0), ("LTM2_2", 1.0)):
        value = header.get(key, default)
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and np.isfinite(value) and (value > 0 or key.startswith("LTV")))
        if not ok:
            where = f"{header.get('EXTNAME', '?')},{header.get('EXTVER', 1)}"
            need = "a finite number" + ("" if key.startswith("LTV") else " > 0")
            raise ReferenceFileError(f"{keyword} {path} extension {where} has {key} = "
                                     f"{value!r}; {need} is needed", keyword=keyword, path=path)
        values.append(float(value))
    return (values[0], values[1]), (values[2], values[3])


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
    ref_ltv, ref_ltm = header_ltv(hdu.header if ref_header is None else ref_header, path,
                                  keyword)
    # a constant extension is cut from a zero-memory view: only the cut is allocated
    data = constant_view(hdu, path, keyword, size_limit(geometry.shape, FULL_FRAME_SHAPE))
    if data is None:
        data = hdu_array(hdu, path, keyword)
    try:
        offset = reference_offset(geometry.ltv, ref_ltv, geometry.ltm, ref_ltm)
        # an array read here is this function's own: a cut of all of it need not be copied
        whole = data.shape == tuple(geometry.shape) and data.flags.writeable
        return cut_to_science(data, geometry.shape, offset, copy=not whole)
    except ValueError as exc:
        raise ReferenceFileError(
            f"{keyword} {path} extension {extname},{extver} ({data.shape[0]}x{data.shape[1]}, "
            f"LTV={ref_ltv}) cannot be cut for the science image {geometry.shape[0]}x"
            f"{geometry.shape[1]} with LTV={geometry.ltv}: {exc}", keyword=keyword, path=path,
        ) from exc


_SEPARATORS = re.compile(r"[,;/]")
#: most CRSIGMAS values calwf3 and calstis accept (``MAX_ITER``)
MAX_CRSIGMAS = 20


def parse_crsigmas(text: str) -> tuple[float, ...]:
    """Parse a CRSIGMAS string (values separated by ``,`` ``;`` or ``/``), as ``strtor``.

    Parameters
    ----------
    text : str
        E.g. ``'4,3,3'`` or ``'4'``.

    Returns
    -------
    tuple of float

    Raises
    ------
    ValueError
        For an empty string, a non-numeric, non-finite or non-positive value, or more than
        :data:`MAX_CRSIGMAS` values.
    """
    parts = [p.strip() for p in _SEPARATORS.split(str(text).strip())]
    if not parts or parts == [""]:
        raise ValueError("CRSIGMAS is empty")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError as exc:
        raise ValueError(f"CRSIGMAS {text!r} is not a list of numbers") from exc
    if any(not (np.isfinite(v) and v > 0) for v in values):
        raise ValueError(f"CRSIGMAS {text!r} has a value that is not a finite number > 0")
    if len(values) > MAX_CRSIGMAS:
        raise ValueError(f"CRSIGMAS {text!r} has {len(values)} values; at most "
                         f"{MAX_CRSIGMAS} are allowed")
    return values
