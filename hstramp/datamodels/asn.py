"""HST association tables (``_asn.fits``): which exposures to calibrate together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.errors import InputFileError

__all__ = ["association_members", "is_association"]


def is_association(path):
    """True if ``path`` names an HST association table (``*_asn.fits``)."""
    return isinstance(path, (str, Path)) and str(path).lower().endswith("_asn.fits")


def association_members(path, suffix="raw"):
    """Paths of the exposures an association lists (MEMTYPE ``EXP-*``, present members).

    Parameters
    ----------
    path : str or Path
        The ``_asn.fits`` table (HDU 1 with columns MEMNAME, MEMTYPE and optionally MEMPRSNT).
    suffix : str
        Product suffix of the member files to use (``raw`` or ``ima``).

    Returns
    -------
    list of Path
        ``<dir>/<memname>_<suffix>.fits`` for every exposure member, in table order.

    Raises
    ------
    InputFileError
        Unreadable table, missing columns, no exposure member, or a member file missing.
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
    members = [path.parent / f"{name}_{suffix}.fits"
               for name, kind, here in zip(names, types, present, strict=True)
               if kind.startswith("EXP") and here]
    if not members:
        raise InputFileError(f"{path}: the association lists no exposure (MEMTYPE EXP-*)")
    missing = [str(m) for m in members if not m.is_file()]
    if missing:
        raise InputFileError(f"{path}: member files missing: {', '.join(missing)}")
    return members
