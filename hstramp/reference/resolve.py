"""Resolve reference-file header values (``iref$name.fits``) to paths."""

from __future__ import annotations

import gzip
import logging
import os
import re
from pathlib import Path

from hstramp.reference.common import ReferenceFileError

log = logging.getLogger(__name__)

__all__ = ["NOT_APPLICABLE", "resolve_reference_path"]

#: header values meaning "no reference file" (compared upper-case, stripped)
NOT_APPLICABLE = ("N/A", "NONE", "")

_ENV_PREFIX = re.compile(r"^(?P<var>[A-Za-z_][A-Za-z0-9_]*)\$(?P<name>.+)$")
_FITS_SIGNATURE = b"SIMPLE  ="
#: gzip's magic number: ``name.fits.gz`` is read as CFITSIO (and astropy) read it
_GZIP_SIGNATURE = b"\x1f\x8b"


def _environment_directory(var: str, keyword: str, value: str) -> str:
    """Value of the environment variable a ``var$`` prefix names (exact case, then lower)."""
    for candidate in (var, var.lower()):
        directory = os.environ.get(candidate)
        if directory:
            return directory
    raise ReferenceFileError(
        f"{keyword} = {value!r}: environment variable {var!r} is not set; set it to the "
        f"directory holding the reference files (export {var}=/path/to/refs/)",
        keyword=keyword,
    )


def _check_readable_fits(path: Path, keyword: str, value: str) -> None:
    """Raise ReferenceFileError unless ``path`` is a readable file that starts like FITS."""
    if not path.exists():
        raise ReferenceFileError(f"{keyword} = {value!r}: file {path} does not exist",
                                 keyword=keyword, path=path)
    if not path.is_file():
        raise ReferenceFileError(f"{keyword} = {value!r}: {path} is not a file",
                                 keyword=keyword, path=path)
    try:
        with path.open("rb") as handle:
            start = handle.read(len(_FITS_SIGNATURE))
    except OSError as exc:
        raise ReferenceFileError(f"{keyword} = {value!r}: cannot read {path}: {exc}",
                                 keyword=keyword, path=path) from exc
    if start.startswith(_GZIP_SIGNATURE):
        start = _gzip_start(path, keyword, value)
    if start != _FITS_SIGNATURE:
        raise ReferenceFileError(f"{keyword} = {value!r}: {path} is not a FITS file",
                                 keyword=keyword, path=path)


def _gzip_start(path: Path, keyword: str, value: str) -> bytes:
    """The first bytes of a gzip-compressed file, decompressed."""
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(len(_FITS_SIGNATURE))
    except (OSError, EOFError) as exc:
        raise ReferenceFileError(f"{keyword} = {value!r}: {path} is not a readable gzip "
                                 f"file: {exc}", keyword=keyword, path=path) from exc


def resolve_reference_path(value, keyword: str) -> Path | None:
    """Turn a reference-file header value into a path, or None for "not applicable".

    ``iref$name.fits`` becomes ``$iref/name.fits`` (the directory may end with a slash or
    not; calwf3 needs the slash, hstramp does not). Any ``<var>$name`` works the same way
    (``oref$`` for STIS). Plain paths are used as they are (``~`` expanded). ``N/A``,
    ``NONE`` and blank mean no file.

    Parameters
    ----------
    value : str or None
        The header value, e.g. ``'iref$t2c16200i_ccd.fits'``.
    keyword : str
        The header keyword (``CCDTAB``), for error messages.

    Returns
    -------
    pathlib.Path or None
        The file, checked to exist and to start like a FITS file (after decompression
        for a gzip file, ``name.fits.gz``); None for N/A.

    Raises
    ------
    ReferenceFileError
        If the environment variable is not set, the file is missing, unreadable or not
        FITS. The message names the keyword, the value and the path.
    """
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() in NOT_APPLICABLE:
        return None
    match = _ENV_PREFIX.match(text)
    if match:
        directory = _environment_directory(match["var"], keyword, text)
        path = Path(os.path.expanduser(directory)) / match["name"]
    else:
        path = Path(os.path.expanduser(text))
    _check_readable_fits(path, keyword, text)
    log.debug("%s = %r resolved to %s", keyword, text, path)
    return path
