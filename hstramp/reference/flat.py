"""PFLTFILE, DFLTFILE and LFLTFILE: the combined flat field under a science image."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.core.geometry import (
    FULL_FRAME_SHAPE,
    ScienceGeometry,
    cut_to_science,
    reference_offset,
)
from hstramp.reference.common import (
    ReadOnlyCache,
    ReferenceFileError,
    check_detector,
    check_filetype,
    file_identity,
    open_reference,
    size_limit,
)
from hstramp.reference.images import (
    ImagePlanes,
    binned_shape,
    expand_binned,
    multiply_by_binned,
    multiply_flats,
    read_imset,
)

log = logging.getLogger(__name__)

__all__ = ["FLAT_FILETYPES", "FlatField", "read_flats"]

#: FILETYPE expected for each flat keyword
FLAT_FILETYPES = {
    "PFLTFILE": "PIXEL-TO-PIXEL FLAT",
    "DFLTFILE": "DELTA FLAT",
    "LFLTFILE": "LARGE SCALE FLAT",
}


@dataclass(frozen=True, eq=False)
class FlatField:
    """The product P * D * L of the flats that exist, cut to a science image.

    The arrays are read-only views of a cached flat (the flats of a run are read once).

    Attributes
    ----------
    pfltfile, dfltfile, lfltfile : Path or None
        The files used (None for 'N/A').
    data : numpy.ndarray
        float32 ``[ny, nx]`` combined flat (1 on the reference pixels of real flats).
    err : numpy.ndarray
        float32 ``[ny, nx]`` its uncertainty, combined as calwf3's ``amul``:
        ``err(a*b) = sqrt((a*err_b)**2 + (b*err_a)**2)``.
    dq : numpy.ndarray
        uint16 ``[ny, nx]`` OR of the flats' DQ.
    """

    pfltfile: Path | None
    dfltfile: Path | None
    lfltfile: Path | None
    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray


def _check_filter(header, path, keyword: str, science_filter) -> None:
    """calwf3 ``CheckFilter``: FILTER must be present and be ``ANY`` or begin the science
    FILTER (``strncmp`` over the file value's length); case is ignored here."""
    if science_filter is None:
        return
    if "FILTER" not in header:
        raise ReferenceFileError(f"{keyword} {path} has no FILTER keyword", keyword=keyword,
                                 path=path)
    found = str(header["FILTER"]).strip().upper()
    science = str(science_filter).strip().upper()
    if found != "ANY" and not (found and science.startswith(found)):
        raise ReferenceFileError(
            f"{keyword} {path} has FILTER={found!r} but the science exposure has "
            f"FILTER={str(science_filter).strip()!r}", keyword=keyword, path=path,
        )


def _read_flat(path, keyword: str, science_filter, detector: str) -> ImagePlanes:
    path = Path(path)
    with open_reference(path, keyword) as hdul:
        check_filetype(hdul, path, keyword, FLAT_FILETYPES[keyword])
        check_detector(hdul, path, keyword, detector)
        _check_filter(hdul[0].header, path, keyword, science_filter)
        return read_imset(hdul, path, keyword, size_limit(FULL_FRAME_SHAPE))


def _combine(p: ImagePlanes | None, d: ImagePlanes | None, paths) -> ImagePlanes | None:
    if p is not None and d is not None:
        if p.sci.shape != d.sci.shape:
            raise ReferenceFileError(
                f"PFLTFILE {paths['PFLTFILE']} ({p.sci.shape[0]}x{p.sci.shape[1]}) and "
                f"DFLTFILE {paths['DFLTFILE']} ({d.sci.shape[0]}x{d.sci.shape[1]}) differ in "
                "size", keyword="DFLTFILE", path=paths["DFLTFILE"],
            )
        return multiply_flats(p, d, in_place=True)  # P was just read: ours to overwrite
    return p if p is not None else d


#: combined, uncut flats of the last few flat sets read (the ramp and the flt of an
#: exposure, and every exposure of a batch worker, share one)
_COMBINED = ReadOnlyCache(maxsize=2)


def _combined_flat(paths, filter, detector) -> ImagePlanes:
    """P * D * L (L expanded), before the cut to a science image."""
    images = {k: (None if v is None else _read_flat(v, k, filter, detector))
              for k, v in paths.items()}
    # popped: D is freed once multiplied into P, before L is expanded to full size
    flat = _combine(images.pop("PFLTFILE"), images.pop("DFLTFILE"), paths)
    low = images.pop("LFLTFILE")
    if low is not None and flat is None:
        flat = expand_binned(low, binned_shape(low), paths["LFLTFILE"], extrapolate=False)
    elif low is not None:  # expanded a band at a time into P * D
        flat = multiply_by_binned(flat, low, paths["LFLTFILE"], extrapolate=False)
    return flat


def read_flats(pfltfile=None, dfltfile=None, lfltfile=None, *, geometry: ScienceGeometry,
               filter: str | None = None, detector: str = "IR") -> FlatField:
    """Combine the flats that exist (P * D * L) and cut the product to a science image.

    As calwf3's ``getFlats`` + ``RebinRef``: P and D must have the same size; the binned
    L is expanded by linear interpolation (:func:`hstramp.core.geometry.unbin_linear`) to
    the size of P (or D) before multiplying; the product is placed with the LTV of the
    first flat and cut at ``sci_corner - ref_corner``.

    Parameters
    ----------
    pfltfile, dfltfile, lfltfile : str or Path or None
        Resolved flat files; None for 'N/A'. At least one is needed.
    geometry : ScienceGeometry
        Shape and LTV of the science image.
    filter : str, optional
        FILTER of the exposure; each flat's FILTER must be ``ANY`` or begin it (as calwf3's
        CheckFilter).
    detector : str
        Expected DETECTOR.

    Returns
    -------
    FlatField

    Raises
    ------
    ReferenceFileError
        No flat at all, wrong FILETYPE/DETECTOR/FILTER (or FILTER missing), P and D of
        different sizes, ERR or DQ of another size than SCI, a constant extension without
        NPIX1/PIXVALUE or claiming more than 4 times the full frame, an L that does not
        expand by an integer factor, or a science image outside the flat.
    """
    paths = {"PFLTFILE": pfltfile, "DFLTFILE": dfltfile, "LFLTFILE": lfltfile}
    paths = {k: (None if v is None else Path(v)) for k, v in paths.items()}
    if all(v is None for v in paths.values()):
        raise ReferenceFileError("PFLTFILE, DFLTFILE and LFLTFILE are all N/A; no flat to "
                                 "apply", keyword="PFLTFILE")
    key = (tuple(None if v is None else file_identity(v) for v in paths.values()), filter,
           detector)
    flat = _COMBINED.get(key)
    if flat is None:
        flat = _COMBINED.put(key, _combined_flat(paths, filter, detector))
    offset = reference_offset(geometry.ltv, flat.ltv, geometry.ltm, flat.ltm)
    try:
        # views of the cached, read-only flat: nothing is copied per exposure
        cut = [cut_to_science(a, geometry.shape, offset, copy=False)
               for a in (flat.sci, flat.err, flat.dq)]
    except ValueError as exc:
        keyword, first = next((k, v) for k, v in paths.items() if v is not None)
        raise ReferenceFileError(f"{keyword} {first} cannot be cut for the science image: "
                                 f"{exc}", keyword=keyword, path=first) from exc
    log.debug("flat from %s cut at offset %s", {k: str(v) for k, v in paths.items()}, offset)
    return FlatField(pfltfile=paths["PFLTFILE"], dfltfile=paths["DFLTFILE"],
                     lfltfile=paths["LFLTFILE"], data=cut[0], err=cut[1], dq=cut[2])
