"""HST association tables (``_asn.fits``): which exposures to calibrate together."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.errors import InputFileError
from hstramp.names import is_association  # here too: the association's API in one place

__all__ = ["association_members", "is_association"]


#: a MEMNAME is a rootname: letters, digits, ``_``, ``-``, ``.`` (not first), nothing else
_PLAIN_MEMNAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")


def _check_plain_member(name, path):
    """Refuse a MEMNAME that is not a plain name inside the association's directory."""
    if not _PLAIN_MEMNAME.match(name) or ".." in name:
        raise InputFileError(
            f"{path}: member {name!r} is not a plain name in the association's directory "
            f"({path.parent}); members outside it are read only when asked "
            "(the pipeline parameter allow_outside_members=True)")


def association_members(path, suffix="raw", *, allow_outside=False):
    """Paths of the exposures an association lists (MEMTYPE ``EXP-*``, present members).

    A member is a file of the association's own directory: a MEMNAME holding a path (``/``,
    ``\\``, ``..``, a leading dot, an absolute path) or a NUL is refused unless
    ``allow_outside`` is True, so an association table cannot make hstramp read files
    elsewhere. A member file that is a symbolic link is followed (a directory of links to a
    data cache stays usable).

    Parameters
    ----------
    path : str or Path
        The ``_asn.fits`` table (HDU 1 with columns MEMNAME, MEMTYPE and optionally MEMPRSNT).
    suffix : str
        Product suffix of the member files to use (``raw`` or ``ima``).
    allow_outside : bool
        Accept MEMNAMEs that are paths, relative to the association's directory (or
        absolute).

    Returns
    -------
    list of Path
        ``<dir>/<memname>_<suffix>.fits`` for every exposure member, in table order.

    Raises
    ------
    InputFileError
        Unreadable table, missing columns, no exposure member, a MEMNAME that leads outside
        the association's directory, or a member file missing.
    """
    path = Path(path)
    try:
        with fits.open(path, memmap=False) as hdul:
            table = hdul[1].data
            columns = [c.upper() for c in table.columns.names]
            if "MEMNAME" not in columns or "MEMTYPE" not in columns:
                raise InputFileError(f"{path}: association table lacks MEMNAME/MEMTYPE columns")
            names = [str(n).strip().lower() for n in table["MEMNAME"]]
            types = [str(t).strip().upper() for t in table["MEMTYPE"]]
            present = (np.asarray(table["MEMPRSNT"], dtype=bool) if "MEMPRSNT" in columns
                       else np.ones(len(names), dtype=bool))
    except (OSError, IndexError, AttributeError) as exc:
        raise InputFileError(f"{path} is not a readable association table: {exc}") from exc
    exposures = [name for name, kind, here in zip(names, types, present, strict=True)
                 if kind.startswith("EXP") and here]
    if not allow_outside:
        for name in exposures:
            _check_plain_member(name, path)
    members = [path.parent / f"{name}_{suffix}.fits" for name in exposures]
    if not members:
        raise InputFileError(f"{path}: the association lists no exposure (MEMTYPE EXP-*)")
    missing = [str(m) for m in members if not m.is_file()]
    if missing:
        raise InputFileError(f"{path}: member files missing: {', '.join(missing)}")
    return members
