"""STIS CCD reference images: BIASFILE, DARKFILE and the flats (PFLTFILE, DFLTFILE,
LFLTFILE), cut and binned to a science image as calstis ``FindBin`` + ``bin2d``.

Reference images sit on the detector by their own LTV/LTM; the science image's corner
and binning give the offset and the bin ratio. Biases and darks are *summed* within a
bin (they are counts), flats *averaged*; errors follow in quadrature and DQ is OR-ed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hstramp.core.geometry import corner_from_lt
from hstramp.core.stis.geometry import bin_reference
from hstramp.reference.common import (
    ReferenceFileError,
    check_detector,
    open_reference,
    size_limit,
)
from hstramp.reference.images import (
    ImagePlanes,
    binned_shape,
    expand_binned,
    multiply_flats,
    read_imset,
)
from hstramp.reference.stis.common import STIS_FULL_FRAME, STISGeometry, check_stis_filetype

log = logging.getLogger(__name__)

__all__ = ["STISReferenceImage", "read_stis_flats", "read_stis_image"]


@dataclass(frozen=True, eq=False)
class STISReferenceImage:
    """A reference image under a science image.

    Attributes
    ----------
    data, err : numpy.ndarray
        float32 ``[ny, nx]``.
    dq : numpy.ndarray
        uint16 ``[ny, nx]``.
    header : dict
        Primary-header values a step may need (``REF_TEMP``, ``DRK_VS_T`` ...).
    """

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    header: dict


def _read_imset(path, keyword: str, geometry: STISGeometry) -> tuple[ImagePlanes, dict]:
    unbinned = tuple(n * b for n, b in zip(geometry.shape, geometry.binning[::-1], strict=True))
    with open_reference(path, keyword) as hdul:
        check_stis_filetype(hdul, path, keyword)
        check_detector(hdul, path, keyword, "CCD")
        image = read_imset(hdul, path, keyword, size_limit(unbinned, STIS_FULL_FRAME))
        header = {k: hdul[0].header[k] for k in ("REF_TEMP", "DRK_VS_T") if k in hdul[0].header}
    return image, header


def bin_to_science(image: ImagePlanes, geometry: STISGeometry, how: str, path, keyword: str):
    """calstis FindBin + bin2d: the offset and bin ratio from the corners and binnings."""
    sci_corner = corner_from_lt(geometry.ltv, geometry.ltm)
    ref_corner = corner_from_lt(image.ltv, image.ltm)
    sci_bin = geometry.binning
    ref_bin = tuple(max(1, round(1.0 / m)) for m in image.ltm)
    ratio = tuple(s // r for s, r in zip(sci_bin, ref_bin, strict=True))
    if any(r * b != s for r, b, s in zip(ratio, ref_bin, sci_bin, strict=True)):
        raise ReferenceFileError(
            f"{keyword} {path} is binned {ref_bin}, the science image {sci_bin}: the "
            "reference must be binned the same or less, by an integer factor",
            keyword=keyword, path=path)
    offset = tuple((s - r) // b for s, r, b in zip(sci_corner, ref_corner, ref_bin, strict=True))
    try:
        return (bin_reference(image.sci, geometry.shape, offset, ratio, how),
                bin_reference(image.err, geometry.shape, offset, ratio, f"quadrature-{how}"),
                bin_reference(image.dq, geometry.shape, offset, ratio, "or").astype(np.uint16))
    except ValueError as exc:
        raise ReferenceFileError(f"{keyword} {path} cannot be cut for the science image: "
                                 f"{exc}", keyword=keyword, path=path) from exc


def read_stis_image(path, keyword: str, geometry: STISGeometry) -> STISReferenceImage:
    """Read a BIASFILE or DARKFILE (imset 1) and cut/bin it to the science image (summed).

    Parameters
    ----------
    path : str or Path
        The reference file.
    keyword : str
        ``BIASFILE`` or ``DARKFILE``.
    geometry : STISGeometry
        Shape, LTV and LTM of the (trimmed) science image.

    Returns
    -------
    STISReferenceImage

    Raises
    ------
    ReferenceFileError
        Wrong FILETYPE/DETECTOR, missing extensions, a reference binned more than the
        science or not covering it.
    """
    path = Path(path)
    image, header = _read_imset(path, keyword, geometry)
    data, err, dq = bin_to_science(image, geometry, "sum", path, keyword)
    log.debug("%s %s binned to %s", keyword, path, geometry)
    return STISReferenceImage(data=data, err=err, dq=dq, header=header)


def read_stis_flats(pfltfile=None, dfltfile=None, lfltfile=None, *,
                    geometry: STISGeometry) -> STISReferenceImage:
    """The product P * D * L of the flats that exist, averaged to the science image.

    As calstis ``doFlat``: P and D must have the same size; L is expanded by linear
    interpolation (extrapolated at the edges) to their size; the product keeps the
    placement of the first flat and is binned (averaged) to the science image.

    Parameters
    ----------
    pfltfile, dfltfile, lfltfile : str or Path or None
        Resolved flats; None for 'N/A'. At least one is needed.
    geometry : STISGeometry
        The (trimmed) science image.

    Returns
    -------
    STISReferenceImage
    """
    paths = {"PFLTFILE": pfltfile, "DFLTFILE": dfltfile, "LFLTFILE": lfltfile}
    paths = {k: None if v is None else Path(v) for k, v in paths.items()}
    if all(v is None for v in paths.values()):
        raise ReferenceFileError("PFLTFILE, DFLTFILE and LFLTFILE are all N/A; no flat to "
                                 "apply", keyword="PFLTFILE")

    def read(keyword):
        return None if paths[keyword] is None else _read_imset(paths[keyword], keyword,
                                                               geometry)[0]

    # one flat at a time, each product written into the first factor where it may be:
    # two full-size flats alive at most
    flat, dflt = read("PFLTFILE"), read("DFLTFILE")
    if dflt is not None:
        if flat is not None and flat.sci.shape != dflt.sci.shape:
            raise ReferenceFileError(
                f"PFLTFILE {paths['PFLTFILE']} and DFLTFILE {paths['DFLTFILE']} differ in size",
                keyword="DFLTFILE", path=paths["DFLTFILE"])
        flat = dflt if flat is None else multiply_flats(flat, dflt, in_place=_writeable(flat))
    del dflt
    low = read("LFLTFILE")
    if low is not None:
        target = flat.sci.shape if flat is not None else binned_shape(low)
        expanded = expand_binned(low, target, paths["LFLTFILE"], extrapolate=True)
        del low
        flat = (expanded if flat is None else
                multiply_flats(flat, expanded, in_place=_writeable(flat)))
        del expanded
    keyword, first = next((k, v) for k, v in paths.items() if v is not None)
    data, err, dq = bin_to_science(flat, geometry, "mean", first, keyword)
    return STISReferenceImage(data=data, err=err, dq=dq, header={})


def _writeable(planes: ImagePlanes) -> bool:
    """True when a product may be written into ``planes`` (its own writeable arrays)."""
    return all(a.flags.writeable and a.flags.c_contiguous and a.base is None
               for a in (planes.sci, planes.err, planes.dq))
