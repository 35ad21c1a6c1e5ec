"""SHADFILE: the STIS CCD shutter-shading image (calstis ``cs1/doshad.c``).

Imset 1 (SCI, ERR, DQ; ERR and DQ optional) holds, per detector pixel, the extra
exposure time in seconds; it is cut and *averaged* to the science image by its LTV/LTM
(calstis ``FindBin`` + ``bin2d`` with averaging). calstis does not check FILETYPE; a
FILETYPE that names something else (a dark, a flat) is refused here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hstramp.reference.common import ReferenceFileError, open_reference
from hstramp.reference.images import read_imset
from hstramp.reference.stis.common import STIS_FILETYPES, STISGeometry
from hstramp.reference.stis.images import STISReferenceImage, bin_to_science

log = logging.getLogger(__name__)

__all__ = ["SHADFILE_FILETYPE", "read_stis_shadfile"]

KEYWORD = "SHADFILE"
#: FILETYPE the simulator writes; any FILETYPE containing SHAD or SHUTTER is accepted
SHADFILE_FILETYPE = STIS_FILETYPES["SHADFILE"][0]


def read_stis_shadfile(path, geometry: STISGeometry) -> STISReferenceImage:
    """Read a SHADFILE and average it to the (trimmed) science image.

    Parameters
    ----------
    path : str or Path
        The SHADFILE.
    geometry : STISGeometry
        Shape, LTV and LTM of the science image.

    Returns
    -------
    STISReferenceImage
        ``data`` in seconds; ``header`` empty.

    Raises
    ------
    ReferenceFileError
        Another FILETYPE, missing SCI,1, or a file that does not cover the science image
        (a shading file of the wrong size).
    """
    path = Path(path)
    with open_reference(path, KEYWORD) as hdul:
        filetype = str(hdul[0].header.get("FILETYPE", "")).strip().upper()
        if filetype and "SHAD" not in filetype and "SHUTTER" not in filetype:
            raise ReferenceFileError(f"{KEYWORD} {path} has FILETYPE={filetype!r}; expected "
                                     f"{SHADFILE_FILETYPE!r}", keyword=KEYWORD, path=path)
        image = read_imset(hdul, path, KEYWORD)
    data, err, dq = bin_to_science(image, geometry, "mean", path, KEYWORD)
    log.debug("%s %s averaged to %s", KEYWORD, path, geometry)
    return STISReferenceImage(data=data, err=err, dq=dq, header={})
