"""PFLTFILE, DFLTFILE and LFLTFILE: the combined flat field under a science image."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.core.geometry import (
    ScienceGeometry,
    corner_from_lt,
    cut_to_science,
    reference_offset,
    unbin_dq,
    unbin_error,
    unbin_linear,
)
from hstramp.reference.common import (
    ReadOnlyCache,
    ReferenceFileError,
    check_detector,
    check_filetype,
    file_identity,
    header_ltv,
    image_array,
    image_hdu,
    open_reference,
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


@dataclass(frozen=True, eq=False)
class FlatImage:
    sci: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    ltv: tuple[float, float]
    ltm: tuple[float, float]


def _check_filter(header, path, keyword: str, science_filter) -> None:
    if science_filter is None:
        return
    found = str(header.get("FILTER", "")).strip()
    if found.upper() != str(science_filter).strip().upper():
        raise ReferenceFileError(
            f"{keyword} {path} has FILTER={found!r} but the science exposure has "
            f"FILTER={str(science_filter).strip()!r}", keyword=keyword, path=path,
        )


def _read_flat(path, keyword: str, science_filter, detector: str) -> FlatImage:
    path = Path(path)
    with open_reference(path, keyword) as hdul:
        check_filetype(hdul, path, keyword, FLAT_FILETYPES[keyword])
        check_detector(hdul, path, keyword, detector)
        _check_filter(hdul[0].header, path, keyword, science_filter)
        ltv, ltm = header_ltv(image_hdu(hdul, "SCI", 1, path, keyword).header)
        sci = image_array(hdul, "SCI", 1, path, keyword).astype(np.float32, copy=False)
        names = {hdu.name for hdu in hdul}
        err = (image_array(hdul, "ERR", 1, path, keyword).astype(np.float32, copy=False)
               if "ERR" in names else np.zeros_like(sci))
        dq = (image_array(hdul, "DQ", 1, path, keyword).astype(np.uint16, copy=False)
              if "DQ" in names else np.zeros(sci.shape, np.uint16))
    return FlatImage(sci=sci, err=err, dq=dq, ltv=ltv, ltm=ltm)


#: rows multiplied at a time (bounds the float64 temporaries of :func:`multiply_flats`)
_BAND_ROWS = 64


def multiply_flats(a: FlatImage, b: FlatImage, *, in_place: bool = False) -> FlatImage:
    """calwf3 ``amul``: product, errors in quadrature of the cross terms, DQ OR.

    Computed in float64, a band of rows at a time; with ``in_place`` the product is
    written into ``a``'s arrays (each band is read before it is overwritten).
    """
    sci = a.sci if in_place else np.empty(a.sci.shape, np.float32)
    err = a.err if in_place else np.empty(a.sci.shape, np.float32)
    for start in range(0, sci.shape[0], _BAND_ROWS):
        band = slice(start, start + _BAND_ROWS)
        a_sci, b_sci = a.sci[band].astype(np.float64), b.sci[band].astype(np.float64)
        a_eb = a_sci * b.err[band]
        b_ea = b_sci * a.err[band]
        sci[band] = a_sci * b_sci
        err[band] = np.sqrt(a_eb * a_eb + b_ea * b_ea)
    dq = np.bitwise_or(a.dq, b.dq, out=a.dq if in_place else None)
    return FlatImage(sci=sci, err=err, dq=dq, ltv=a.ltv, ltm=a.ltm)


def _expand(low: FlatImage, target_shape, path) -> FlatImage:
    """Expand a binned large-scale flat to ``target_shape`` (calwf3 ``unbin2d_ir``)."""
    ny, nx = low.sci.shape
    biny, binx = target_shape[0] // ny, target_shape[1] // nx
    if biny * ny != target_shape[0] or binx * nx != target_shape[1]:
        raise ReferenceFileError(
            f"LFLTFILE {path} is {ny}x{nx}, which does not expand by an integer factor to "
            f"{target_shape[0]}x{target_shape[1]}", keyword="LFLTFILE", path=path,
        )
    # the expanded image keeps the corner of the binned one (calwf3 BinCoords)
    cx, cy = corner_from_lt(low.ltv, low.ltm)
    return FlatImage(
        sci=unbin_linear(low.sci, binx, biny), err=unbin_error(low.err, binx, biny),
        dq=unbin_dq(low.dq, binx, biny), ltv=(-float(cx), -float(cy)), ltm=(1.0, 1.0),
    )


def _binned_shape(low: FlatImage) -> tuple[int, int]:
    """Full-resolution shape of a binned flat from its LTM (used when it is alone)."""
    bins = [max(1, round(1.0 / m)) for m in low.ltm]
    return low.sci.shape[0] * bins[1], low.sci.shape[1] * bins[0]


def _combine(p: FlatImage | None, d: FlatImage | None, paths) -> FlatImage | None:
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


def _combined_flat(paths, filter, detector) -> FlatImage:
    """P * D * L (L expanded), before the cut to a science image."""
    images = {k: (None if v is None else _read_flat(v, k, filter, detector))
              for k, v in paths.items()}
    flat = _combine(images["PFLTFILE"], images["DFLTFILE"], paths)
    low = images["LFLTFILE"]
    if low is not None:
        target = flat.sci.shape if flat is not None else _binned_shape(low)
        expanded = _expand(low, target, paths["LFLTFILE"])
        flat = expanded if flat is None else multiply_flats(flat, expanded, in_place=True)
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
        FILTER of the exposure; each flat's FILTER must equal it (as calwf3's CheckFilter).
    detector : str
        Expected DETECTOR.

    Returns
    -------
    FlatField

    Raises
    ------
    ReferenceFileError
        No flat at all, wrong FILETYPE/DETECTOR/FILTER, P and D of different sizes, an L
        that does not expand by an integer factor, or a science image outside the flat.
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
