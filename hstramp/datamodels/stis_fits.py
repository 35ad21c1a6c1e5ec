"""STIS CCD FITS files (raw, flt, crj) <-> hstramp datamodels.

A STIS CCD raw or flt file is a primary HDU without data followed by one ``SCI, ERR, DQ``
triple per CR-SPLIT exposure (imsets = NEXTEND / 3, found by EXTNAME and EXTVER); ERR and
DQ are often constant extensions (NPIX1, NPIX2, PIXVALUE). A crj holds one imset, the
combined image. Reading and writing use the helpers of :mod:`hstramp.datamodels.fits_io`
(whole file read first, every low-level failure one :class:`~hstramp.errors.InputFileError`
naming file and keyword, native-endian arrays, header cards kept, metadata keywords from the
schemas); writing is atomic. The per-imset SCI keywords (EXPTIME, EXPSTART, EXPEND, MEANBLEV,
MEANDARK, NCOMBINE, OCCDHTAV: NaN where absent) are arrays of the stack model, not metadata.
The writer gives every calibrated imset calstis's statistics keywords (NGOODPIX, GOODMIN ...,
declared under ``meta.stis.statistics`` of the STIS schema, computed by
:func:`hstramp.core.stats.calstis_statistics_keywords` unless STATFLAG = F) and every extension
INHERIT = T, as calstis writes them.
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.core.stats import calstis_statistics_keywords
from hstramp.datamodels.fits_io import (
    dq_as_int16,
    extension_template,
    image_hdu,
    imset_layout,
    meta_keywords,
    open_hdulist,
    primary_hdu,
    read_image_into,
    reference_history_lines,
    require_keyword,
    set_meta,
    write_hdulists,
)
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.errors import InputFileError
from hstramp.fitsimage import StoredImages

__all__ = [
    "UncalibratedImset",
    "calstis_history",
    "extension_keywords",
    "is_stis",
    "read_stis",
    "read_stis_crj",
    "read_stis_exposures",
    "statistics_keywords",
    "stis_crj_hdulist",
    "stis_flt_hdulist",
    "write_stis_crj",
    "write_stis_flt",
]

log = logging.getLogger(__name__)

STIS_EXTNAMES = ("SCI", "ERR", "DQ")
#: per-imset SCI keywords held as arrays by the stack model (keyword, attribute, default)
_PER_IMSET = (("EXPTIME", "exptime", None), ("EXPSTART", "expstart", 0.0),
              ("EXPEND", "expend", 0.0), ("MEANBLEV", "meanblev", 0.0),
              ("MEANDARK", "meandark", 0.0), ("NCOMBINE", "ncombine", 1),
              ("OCCDHTAV", "occdhtav", np.nan))


@functools.cache
def statistics_keywords():
    """calstis's statistics keywords, in its order: the STIS schema's ``meta.stis.statistics``.

    Also the module attribute ``STATISTICS_KEYWORDS``; computed on first use, since reading
    the schema makes the process's first datamodel (asdf's loading of every installed
    extension), which importing this module should not do.
    """
    return tuple(entry.keyword for entry in meta_keywords(STISCCDModel)
                 if entry.path[:2] == ("stis", "statistics"))


@functools.cache
def extension_keywords():
    """SCI keywords each extension gets from the writer (per imset), never carried over
    (also the module attribute ``EXTENSION_KEYWORDS``, computed on first use)."""
    return frozenset({"EXPTIME", "EXPSTART", "EXPEND", "MEANBLEV", "MEANDARK", "NCOMBINE",
                      "OCCDHTAV", "BUNIT", "LTV1", "LTV2", "DATAMIN", "DATAMAX",
                      *statistics_keywords()})


def __getattr__(name):
    lazy = {"STATISTICS_KEYWORDS": statistics_keywords, "EXTENSION_KEYWORDS": extension_keywords}
    if name in lazy:
        return lazy[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- reading
def _check_stis_ccd(primary, path):
    instrument = str(require_keyword(primary, "INSTRUME", path)).strip()
    if instrument != "STIS":
        raise InputFileError(f"{path}: INSTRUME is {instrument!r}; this reader takes STIS files")
    detector = str(require_keyword(primary, "DETECTOR", path)).strip()
    if detector != "CCD":
        raise InputFileError(
            f"{path}: DETECTOR is {detector!r}; hstramp calibrates STIS DETECTOR='CCD' "
            "exposures only (the MAMAs are not supported)")


def _count_imsets(primary, index, hdulist, path):
    nsci = sum(1 for name, _ver in index if name == "SCI")
    if nsci == 0:
        raise InputFileError(f"{path}: no SCI extension")
    nextend = primary.get("NEXTEND")
    if nextend is not None:
        if nextend != len(hdulist) - 1:
            raise InputFileError(
                f"{path}: NEXTEND = {nextend} but the file has {len(hdulist) - 1} extensions")
        if nextend % 3 or nextend // 3 != nsci:
            raise InputFileError(
                f"{path}: NEXTEND = {nextend} is not 3 x the {nsci} SCI extensions "
                "(imsets of SCI, ERR, DQ)")
    for ver in range(1, nsci + 1):
        for name in STIS_EXTNAMES:
            if (name, ver) not in index:
                raise InputFileError(
                    f"{path}: imset {ver} is incomplete: extension {name},{ver} is missing")
    return nsci


def _check_readout(model, path):
    stis = model.meta.stis
    amp = (stis.ccdamp or "").upper()
    if amp[:1] not in ("A", "B", "C", "D") or len(amp) != 1:
        raise InputFileError(f"{path}: CCDAMP = {stis.ccdamp!r}; expected one of A, B, C, D")
    for keyword in ("binaxis1", "binaxis2"):
        value = getattr(stis, keyword)
        if value is None:
            setattr(stis, keyword, 1)
        elif value not in (1, 2, 4):
            raise InputFileError(f"{path}: {keyword.upper()} = {value}; STIS CCD binning is "
                                 "1, 2 or 4")


def _per_imset_values(index, nsci, path):
    values = {}
    for keyword, attr, default in _PER_IMSET:
        column = []
        for ver in range(1, nsci + 1):
            header = index[("SCI", ver)].header
            if default is None:
                column.append(require_keyword(header, keyword, path, f"SCI,{ver} header"))
            else:
                column.append(header.get(keyword, default))
        try:
            numbers = np.asarray(column, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputFileError(f"{path}: {keyword} is not numeric in every SCI header: "
                                 f"{column}") from exc
        if attr == "ncombine" and not np.all(numbers == np.round(numbers)):
            raise InputFileError(f"{path}: NCOMBINE is not a whole number in every SCI "
                                 f"header: {column}")
        values[attr] = numbers.astype(np.int32) if attr == "ncombine" else numbers
    if not np.all(np.isfinite(values["exptime"])) or np.any(values["exptime"] < 0):
        raise InputFileError(f"{path}: EXPTIME must be finite and >= 0 in every imset, got "
                             f"{values['exptime'].tolist()}")
    return values


def _read_imset(images, index, ver, shape, path, out):
    """Read imset ``ver`` into ``out`` (its SCI, ERR and DQ planes), checked to be ``shape``."""
    sci = index[("SCI", ver)]
    found = getattr(sci, "shape", ())  # from the header: nothing read yet
    if len(found) != 2:
        raise InputFileError(f"{path}: extension SCI,{ver} has no 2-D image")
    if found != shape:
        raise InputFileError(f"{path}: SCI,{ver} is {found}, SCI,1 {shape}: every "
                             "imset must have the same size")
    for name, plane in zip(("SCI", "ERR", "DQ"), out, strict=True):
        read_image_into(images, index[(name, ver)], plane, path)


def read_stis_exposures(path):
    """Read a STIS CCD ``_raw.fits`` (or ``_flt.fits``) into a :class:`STISCCDModel`.

    Parameters
    ----------
    path : str or Path
        The file; opened read-only and never modified.

    Returns
    -------
    STISCCDModel
        One imset per CR-SPLIT exposure, in EXTVER order; float32 SCI/ERR, uint16 DQ.

    Raises
    ------
    InputFileError
        Not FITS or truncated, not STIS/CCD, NEXTEND disagreeing with the imsets, an
        incomplete or duplicated imset, imsets of different sizes or LTV, EXPTIME missing,
        DQ stored as floats, a bad CCDAMP, BINAXIS or switch value.
    """
    path = Path(path)
    with open_hdulist(path, read_data=False) as hdulist, StoredImages() as images:
        primary, index, nsci, shape = imset_layout(hdulist, path, _check_stis_ccd,
                                                   _count_imsets)
        first = index[("SCI", 1)]
        cubes = (np.empty((nsci, *shape), np.float32), np.empty((nsci, *shape), np.float32),
                 np.empty((nsci, *shape), np.uint16))
        for ver in range(1, nsci + 1):
            _read_imset(images, index, ver, shape, path, [cube[ver - 1] for cube in cubes])
        model = STISCCDModel(data=cubes[0], err=cubes[1], dq=cubes[2])
        model.meta.filename = path.name
        for attr, values in _per_imset_values(index, nsci, path).items():
            setattr(model, attr, values)
        set_meta(model, primary, first.header, path,
                 exclude={*(keyword for keyword, _attr, _default in _PER_IMSET),
                          *statistics_keywords()})
        _check_readout(model, path)
    log.debug("read %s: %d imsets of %dx%d", path.name, nsci, shape[1], shape[0])
    return model


def read_stis_crj(path):
    """Read a STIS CCD ``_crj.fits`` (one combined imset) into a :class:`STISImageModel`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    STISImageModel
    """
    stack = read_stis_exposures(path)
    if stack.nexp != 1:
        raise InputFileError(f"{path}: a crj holds one imset, this file has {stack.nexp}")
    image = STISImageModel(data=stack.data[0], err=stack.err[0], dq=stack.dq[0])
    image.take_metadata(stack)
    image.meta.stis.ncombine = int(stack.ncombine[0])
    image.meta.stis.meanblev = float(stack.meanblev[0])
    image.meta.stis.meandark = float(stack.meandark[0])
    if np.isfinite(stack.occdhtav[0]):
        image.meta.stis.occdhtav = float(stack.occdhtav[0])
    _set_exposure(image, stack.exptime[0], stack.expstart[0], stack.expend[0])
    return image


def _set_exposure(model, exptime, expstart, expend):
    model.meta.exposure.exptime = float(exptime)
    model.meta.exposure.expstart = float(expstart)
    model.meta.exposure.expend = float(expend)


def is_stis(path):
    """True if ``path`` is a FITS file whose primary header says INSTRUME = 'STIS'."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a damaged file is reported by the reader
            header = fits.getheader(path, 0)
    except (OSError, ValueError, IndexError):
        return False
    return str(header.get("INSTRUME", "")).strip() == "STIS"


def read_stis(path):
    """Read a STIS CCD file: a crj (by its ``_crj`` suffix) or a raw/flt stack."""
    if Path(path).stem.lower().endswith("_crj"):
        return read_stis_crj(path)
    return read_stis_exposures(path)


# --------------------------------------------------------------------------- writing
@dataclass(frozen=True)
class UncalibratedImset:
    """A raw imset calstis writes into the flt as it was read, with ``IMSET_OK = F`` (an
    imset with no exposure time or constant data, ``cs1/do2d.c``).

    Attributes
    ----------
    position : int
        Its place among the imsets of the file, 0-based.
    data, err, dq : ndarray [ny, nx]
        The raw arrays (overscan included).
    ltv : tuple of float
        The raw LTV1, LTV2.
    keywords : dict
        SCI keywords (EXPTIME, EXPSTART, EXPEND, NCOMBINE ...); IMSET_OK = F is added.
    """

    position: int
    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    ltv: tuple
    keywords: dict = field(default_factory=dict)


#: calstis's CCD HISTORY per switch (``cs1/history1.c``): the lines after "<SWITCH> complete
#: ..." and the reference files named; BLEVCORR is written apart (:func:`_switch_lines`)
CALSTIS_HISTORY = {
    "DQICORR": (("  values checked for saturation", "  DQ array initialized ..."),
                ("BPIXTAB",)),
    "ATODCORR": ((), ("ATODTAB",)),
    "BIASCORR": ((), ("BIASFILE",)),
    "DARKCORR": ((), ("DARKFILE",)),
    "FLATCORR": ((), ("PFLTFILE", "DFLTFILE", "LFLTFILE")),
    "SHADCORR": ((), ("SHADFILE",)),
    "PHOTCORR": ((), ("IMPHTTAB", "TDSTAB")),
}
#: the switches of calstis's first calstis1 pass, before CR rejection (``cs0``)
_BEFORE_CR = ("DQICORR", "ATODCORR", "BLEVCORR", "BIASCORR")
_TABLES = frozenset({"CCDTAB", "BPIXTAB", "ATODTAB", "IMPHTTAB", "TDSTAB", "CRREJTAB"})


def _switch_lines(record):
    """The HISTORY lines of one step record, as calstis's ``UpdateSwitch`` and the
    switch's history routine write them (a SKIPPED step: only when its reference is a
    dummy)."""
    switch, status = record["switch"], record["status"]
    if switch == "BLEVCORR":
        return ["BLEVCORR complete; bias level from overscan was subtracted.",
                "Uncertainty array initialized."] if status == "COMPLETE" else []
    if switch not in CALSTIS_HISTORY:
        return []                                  # CRCORR, RPTCORR: calstis writes none
    after, keywords = CALSTIS_HISTORY[switch]
    named = [ref for keyword in keywords for ref in record["references"]
             if ref["keyword"] == keyword and ref["name"].upper() != "N/A"]
    if status == "COMPLETE":
        lines = [f"{switch} complete ..."]
    elif any(ref["pedigree"].upper().startswith("DUMMY") for ref in record["references"]):
        lines = [f"{switch} skipped due to dummy reference file ..."]
    else:
        return []
    lines += after
    for reference in named:
        lines += reference_history_lines(reference, _TABLES)
    if switch == "PHOTCORR" and not any(ref["keyword"] == "TDSTAB" for ref in named):
        lines.append("  Note:  Time-dependent sensitivity was not included with PHOTCORR")
    return lines


def calstis_history(model):
    """The HISTORY lines calstis would write for the steps recorded in ``meta.provenance``.

    As calstis's ``cs0``, the 2-D steps run in one calstis1 pass, or in two around CR
    rejection (when a CRCORR or RPTCORR step completed): each pass begins with the CCD
    parameters table. Then each step's lines in the order the steps ran.

    Parameters
    ----------
    model : STISCCDModel or STISImageModel

    Returns
    -------
    list of str
    """
    records = list(model.meta.instance.get("provenance") or [])
    ccdtabs = [ref for record in records for ref in record["references"]
               if ref["keyword"] == "CCDTAB" and ref["name"].upper() != "N/A"]
    ccd_block = (["CCD parameters table ...", *reference_history_lines(ccdtabs[0], _TABLES)]
                 if ccdtabs else [])
    two_passes = any(record["switch"] in ("CRCORR", "RPTCORR")
                     and record["status"] == "COMPLETE" for record in records)
    passes = ([[r for r in records if r["switch"] in _BEFORE_CR],
               [r for r in records if r["switch"] not in _BEFORE_CR]] if two_passes
              else [records])
    lines = []
    for records_of_pass in passes:
        written = [line for record in records_of_pass for line in _switch_lines(record)]
        if written:
            lines += ccd_block + written
    return lines


def _extension_template(model, skip):
    """The extensions' common header: the input's SCI cards less ``skip``, with INHERIT = T
    after the structural cards, as calstis (hstio) writes it in every extension."""
    template = extension_template(model, skip=skip)
    template.insert("GCOUNT", ("INHERIT", True, "inherit the primary header"), after=True)
    return template


def _statistics(model, data, err, dq):
    """calstis's statistics keywords of one calibrated imset in its order, ``{"SCI": {...},
    "ERR": {...}}``; none when STATFLAG = F (calstis's ``statcorr`` OMIT)."""
    if model.meta.stis.statflag is False:
        return {"SCI": {}, "ERR": {}}
    found = calstis_statistics_keywords(data, err, dq, sdqflags=model.sdqflags)
    return {hdu: {keyword: found[hdu][keyword] for keyword in statistics_keywords()
                  if keyword in found[hdu]} for hdu in ("SCI", "ERR")}


def _imset_hdus(model, template, ver, data, err, dq, sci_keywords, *, ltv=None, bunit=None,
                statistics=True):
    """SCI, ERR and DQ of imset ``ver``: BUNIT, LTV1, LTV2 and ``sci_keywords`` (SCI only),
    then the statistics keywords unless ``statistics`` is False (an uncalibrated imset);
    ``ltv`` and ``bunit`` default to the model's."""
    if ltv is None:
        ltv = (model.meta.subarray.ltv1, model.meta.subarray.ltv2)
    ltv = {keyword: value for keyword, value in zip(("LTV1", "LTV2"), ltv, strict=True)
           if value is not None}
    bunit = bunit or model.meta.bunit_data or "COUNTS"
    stats = _statistics(model, data, err, dq) if statistics else {"SCI": {}, "ERR": {}}
    return [image_hdu(template, "SCI", ver, data,
                      {"BUNIT": bunit, **ltv, **sci_keywords, **stats["SCI"]}),
            image_hdu(template, "ERR", ver, err, {"BUNIT": bunit, **ltv, **stats["ERR"]}),
            image_hdu(template, "DQ", ver, dq_as_int16(dq), {"BUNIT": "UNITLESS", **ltv})]


def write_stis_crj(model, path, overwrite=False):
    """Write a :class:`STISImageModel` as a calstis-layout ``_crj.fits`` (one imset).

    Parameters
    ----------
    model : STISImageModel
    path : str or Path
        Output path; written atomically (temporary file, then rename).
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
    """
    path = Path(path)
    write_hdulists([(stis_crj_hdulist(model, path.name), path)], overwrite)
    return path


def stis_crj_hdulist(model, filename):
    """The calstis-layout crj of a :class:`STISImageModel` as an HDUList.

    Parameters
    ----------
    model : STISImageModel
    filename : str
        FILENAME keyword of the product.

    Returns
    -------
    astropy.io.fits.HDUList
    """
    model.check_arrays()
    stis, exposure = model.meta.stis, model.meta.exposure
    sci = {"EXPTIME": exposure.exptime, "EXPSTART": exposure.expstart,
           "EXPEND": exposure.expend, "NCOMBINE": stis.ncombine, "MEANBLEV": stis.meanblev,
           "MEANDARK": stis.meandark, "OCCDHTAV": stis.occdhtav}
    hdus = [primary_hdu(model, 3, filename, calstis_history(model))]
    hdus += _imset_hdus(model, _extension_template(model, extension_keywords()), 1, model.data,
                        model.err, model.dq, {k: v for k, v in sci.items() if v is not None})
    return fits.HDUList(hdus)


def write_stis_flt(model, path, overwrite=False):
    """Write a :class:`STISCCDModel` as a calstis-layout ``_flt.fits`` (one imset each).

    Parameters
    ----------
    model : STISCCDModel
    path : str or Path
        Output path; written atomically.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
    """
    path = Path(path)
    write_hdulists([(stis_flt_hdulist(model, path.name), path)], overwrite)
    return path


def stis_flt_hdulist(model, filename, uncalibrated=()):
    """The calstis-layout flt of a :class:`STISCCDModel` (one imset per exposure).

    Parameters
    ----------
    model : STISCCDModel
        The calibrated imsets.
    filename : str
        FILENAME keyword of the product.
    uncalibrated : sequence of UncalibratedImset
        Bad imsets written as read, at their places among the calibrated ones.

    Returns
    -------
    astropy.io.fits.HDUList
    """
    model.check_arrays()
    nimsets = model.nexp + len(uncalibrated)
    hdus = [primary_hdu(model, 3 * nimsets, filename, calstis_history(model))]
    template = _extension_template(model, extension_keywords() | {"IMSET_OK"})
    bad = {imset.position: imset for imset in uncalibrated}
    calibrated = iter(range(model.nexp))
    for ver in range(1, nimsets + 1):
        if ver - 1 in bad:
            imset = bad[ver - 1]
            hdus += _imset_hdus(model, template, ver, imset.data, imset.err, imset.dq,
                                {**imset.keywords, "IMSET_OK": False}, ltv=imset.ltv,
                                bunit="COUNTS", statistics=False)
            continue
        k = next(calibrated)
        sci = {"EXPTIME": float(model.exptime[k]), "EXPSTART": float(model.expstart[k]),
               "EXPEND": float(model.expend[k]), "NCOMBINE": int(model.ncombine[k]),
               "MEANBLEV": float(model.meanblev[k]), "MEANDARK": float(model.meandark[k])}
        if np.isfinite(model.occdhtav[k]):
            sci["OCCDHTAV"] = float(model.occdhtav[k])
        hdus += _imset_hdus(model, template, ver, model.data[k], model.err[k], model.dq[k], sci)
    return fits.HDUList(hdus)
