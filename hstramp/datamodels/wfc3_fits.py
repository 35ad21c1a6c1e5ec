"""WFC3/IR MultiAccum FITS files (raw, ima, flt) <-> hstramp datamodels.

Files store reads newest first: EXTVER 1 is the last read and EXTVER NSAMP the zeroth read.
Models hold them in time order (group 0 is the zeroth read). Only this module knows about
the reversed order.

ERR, DQ, SAMP and TIME extensions may be "constant" (NAXIS=0 with NPIX1, NPIX2, PIXVALUE);
raw SCI is uint16 stored as int16 with BZERO 32768; ima SCI is float32. Arrays handed to the
models are native-endian.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.datamodels.fits_io import (
    dq_as_int16,
    extension_array,
    extension_template,
    imset_index,
    imset_layout,
    meta_keywords,
    meta_value,
    number_keyword,
    open_hdulist,
    primary_hdu,
    read_image_into,
    reference_history_lines,
    require_keyword,
    set_meta,
    write_hdulists,
)
from hstramp.datamodels.fits_writer import FitsProduct
from hstramp.datamodels.models import ImageModel, RampModel
from hstramp.errors import InputFileError
from hstramp.fitsimage import StoredImages

__all__ = [
    "CALWF3_HISTORY",
    "IMSET_EXTNAMES",
    "STATISTICS_KEYWORDS",
    "calwf3_history",
    "extension_keywords",
    "flt_hdulist",
    "flt_product",
    "ima_hdulist",
    "ima_product",
    "is_multiaccum",
    "keep_last_read",
    "per_read_arrays",
    "read_dq",
    "read_flt",
    "read_keywords",
    "read_multiaccum",
    "write_flt",
    "write_ima",
]

log = logging.getLogger(__name__)

IMSET_EXTNAMES = ("SCI", "ERR", "DQ", "SAMP", "TIME")


@functools.cache
def per_read_arrays():
    """``(attribute, keyword)`` of every per-read array of :class:`RampModel`, in schema
    order, from the ``fits_read_keyword`` of its schema (SAMPTIME, DELTATIM ...)."""
    properties = RampModel().schema["properties"]
    return tuple((name, node["fits_read_keyword"]) for name, node in properties.items()
                 if "fits_read_keyword" in node)


#: the read's index (0 for the zeroth read), which the writer numbers itself
SAMPNUM = "SAMPNUM"
#: calwf3's statistics keywords (``hstramp.core.stats.statistics_keywords``)
STATISTICS_KEYWORDS = ("NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN", "SNRMIN", "SNRMAX",
                       "SNRMEAN")


@functools.cache
def extension_keywords():
    """Keywords each extension gets from the writer, never carried over from the input's SCI
    header: the per-read keywords (the ramp's schema), the statistics, BUNIT, DATAMIN/MAX.

    Also the module attribute ``EXTENSION_KEYWORDS``; computed on first use, since reading
    the schema makes the process's first datamodel (asdf's loading of every installed
    extension, 0.7 s), which importing this module should not do.
    """
    return frozenset({SAMPNUM, *(keyword for _name, keyword in per_read_arrays()),
                      *STATISTICS_KEYWORDS, "BUNIT", "DATAMIN", "DATAMAX"})


def __getattr__(name):
    if name == "EXTENSION_KEYWORDS":
        return extension_keywords()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- reading
def _check_wfc3_ir(primary, path):
    instrument = str(require_keyword(primary, "INSTRUME", path)).strip()
    if instrument != "WFC3":
        raise InputFileError(
            f"{path}: INSTRUME is {instrument!r}; hstramp calibrates WFC3/IR exposures only"
        )
    detector = str(require_keyword(primary, "DETECTOR", path)).strip()
    if detector != "IR":
        raise InputFileError(
            f"{path}: DETECTOR is {detector!r} (a {detector} exposure); this reader takes "
            "WFC3 DETECTOR='IR' MultiAccum files only"
        )


def _check_imsets(primary, index, hdulist, path):
    nsamp = require_keyword(primary, "NSAMP", path)
    if not isinstance(nsamp, (int, np.integer)) or not 1 <= nsamp <= 26:
        raise InputFileError(f"{path}: NSAMP = {nsamp!r} is not a read count between 1 and 26")
    nsci = sum(1 for (name, _ver) in index if name == "SCI")
    if nsci != nsamp:
        raise InputFileError(
            f"{path}: NSAMP = {nsamp} but the file has {nsci} SCI extensions"
        )
    for ver in range(1, nsamp + 1):
        for name in IMSET_EXTNAMES:
            if (name, ver) not in index:
                raise InputFileError(
                    f"{path}: imset {ver} is incomplete: extension {name},{ver} is missing"
                )
    nextend = primary.get("NEXTEND")
    if nextend is not None and nextend != len(hdulist) - 1:
        raise InputFileError(
            f"{path}: NEXTEND = {nextend} but the file has {len(hdulist) - 1} extensions"
        )
    return int(nsamp)


def _read_times(index, nsamp, path):
    """SAMPTIME of each read in time order: numbers >= 0 (calwf3's ``getExpTime`` refuses a
    negative one) that strictly increase."""
    times = np.array(
        [number_keyword(index[("SCI", nsamp - t)].header, "SAMPTIME", path,
                        f"SCI,{nsamp - t} header") for t in range(nsamp)]
    )
    if np.any(times < 0):
        raise InputFileError(f"{path}: SAMPTIME is negative in SCI,{nsamp - np.argmax(times < 0)} "
                             f"({times.tolist()}); read times count from the zeroth read")
    if nsamp > 1 and not np.all(np.diff(times) > 0):
        raise InputFileError(
            f"{path}: SAMPTIME does not increase from the zeroth read (SCI,{nsamp}) to the last "
            f"(SCI,1): {times.tolist()}"
        )
    return times


def _check_science_values(data, nsamp, path, stored_as_float):
    """Refuse SCI arrays holding NaN or infinity, and an exposure whose reads are all zero.

    ``data`` is in time order, so read ``t`` is extension ``SCI,nsamp - t``;
    ``stored_as_float[t]`` is False for a read the file stores as integers (a raw's), which
    cannot hold NaN or infinity and is not searched for them.
    """
    for t in range(nsamp):
        if not stored_as_float[t]:
            continue
        bad = ~np.isfinite(data[t])
        if bad.any():
            y, x = (int(i) for i in np.argwhere(bad)[0])
            kinds = " and ".join(
                name for name, found in (("NaN", np.isnan(data[t]).any()),
                                         ("infinite", np.isinf(data[t]).any())) if found)
            raise InputFileError(
                f"{path}: extension SCI,{nsamp - t} has {int(bad.sum())} {kinds} pixel value(s) "
                f"(first at x={x}, y={y}); SCI must hold finite numbers"
            )
    if not data.any():
        raise InputFileError(
            f"{path}: every pixel of all {nsamp} SCI extensions is zero; the exposure holds "
            "no data (a failed readout?)"
        )


def _per_read_keyword(index, nsamp, keyword, path, default=0.0):
    return np.array(
        [number_keyword(index[("SCI", nsamp - t)].header, keyword, path,
                        f"SCI,{nsamp - t} header", default) for t in range(nsamp)]
    )


def _check_exposure_keywords(model, path):
    """EXPTIME >= 0 (calwf3's ``GetKeys`` stops on a negative one) and whole-pixel LTV1/2
    (a WFC3/IR subarray starts on a pixel; calwf3 would truncate a fraction)."""
    exptime = model.meta.exposure.exptime
    if exptime is not None and exptime < 0:
        raise InputFileError(f"{path}: EXPTIME = {exptime!r} in the primary header is negative")
    for keyword in ("ltv1", "ltv2"):
        value = getattr(model.meta.subarray, keyword)
        if value is not None and value != int(value):
            raise InputFileError(f"{path}: {keyword.upper()} = {value!r} in the SCI,1 header is "
                                 "not a whole number of pixels")


def read_multiaccum(path, hdulist=None):
    """Read a WFC3/IR ``_raw.fits`` or ``_ima.fits`` into a :class:`RampModel`.

    Parameters
    ----------
    path : str or Path
        The MultiAccum file. It is opened read-only and never modified.
    hdulist : astropy.io.fits.HDUList, optional
        The file opened by :func:`~hstramp.datamodels.fits_io.open_hdulist` (a caller that
        looked at it first need not read it twice); the images are read from the file
        (:class:`~hstramp.fitsimage.StoredImages`), so the caller must not
        have replaced them in memory. The caller closes it.

    Returns
    -------
    RampModel
        Reads in time order, float32 native-endian SCI and ERR, uint16 DQ, read times in
        seconds since the zeroth read.

    Raises
    ------
    InputFileError
        Not FITS or truncated, not WFC3/IR, NSAMP disagreeing with the extensions, an
        incomplete or duplicated imset, mismatched shapes, DQ stored as floats, reads of
        different LTV, SAMPTIME not a number, negative or not increasing, NaN or infinity in
        a SCI extension, every read all zero, unknown switch values, a header value of the
        wrong type (``LTV1 = 'left'``), a fractional LTV or a negative EXPTIME.
    """
    return _from_hdulist(_ramp_from_hdulist, Path(path), hdulist)


def _from_hdulist(reader, path, hdulist):
    """``reader(hdulist, path)`` on ``hdulist``, or on the file opened here if None."""
    if hdulist is not None:
        return reader(hdulist, path)
    with open_hdulist(path, read_data=False) as opened:  # the data read as the reader needs
        return reader(opened, path)


def _ramp_from_hdulist(hdulist, path):
    """The :class:`RampModel` of a MultiAccum file read by ``open_hdulist`` (checked)."""
    primary, index, nsamp, shape = imset_layout(hdulist, path, _check_wfc3_ir, _check_imsets)
    last_sci = index[("SCI", 1)]  # the last read
    times = _read_times(index, nsamp, path)
    data = np.empty((nsamp, *shape), dtype=np.float32)
    err = np.empty_like(data)
    groupdq = np.empty((nsamp, *shape), dtype=np.uint16)
    stored_as_float = []
    with StoredImages() as images:
        for t in range(nsamp):
            ver = nsamp - t
            # integers (BZERO-scaled too) cannot hold NaN; a constant's PIXVALUE is checked
            stored_as_float.append(read_image_into(images, index[("SCI", ver)], data[t], path))
            read_image_into(images, index[("ERR", ver)], err[t], path)
            read_image_into(images, index[("DQ", ver)], groupdq[t], path)
    _check_science_values(data, nsamp, path, stored_as_float)
    model = RampModel(data=data, err=err, groupdq=groupdq, times=times)
    model.meta.filename = path.name
    for name, keyword in per_read_arrays():
        if name != "times":  # read and checked above
            setattr(model, name, _per_read_keyword(index, nsamp, keyword, path))
    set_meta(model, primary, last_sci.header, path)
    _check_exposure_keywords(model, path)
    log.debug("read %s: %d reads of %dx%d", path.name, nsamp, shape[1], shape[0])
    return model


def read_flt(path, hdulist=None):
    """Read a WFC3/IR ``_flt.fits`` (SCI, ERR, DQ, SAMP, TIME) into an :class:`ImageModel`.

    Parameters
    ----------
    path : str or Path
    hdulist : astropy.io.fits.HDUList, optional
        The file already read by :func:`~hstramp.datamodels.fits_io.open_hdulist`, as for
        :func:`read_multiaccum`.

    Returns
    -------
    ImageModel
    """
    return _from_hdulist(_image_from_hdulist, Path(path), hdulist)


def _image_from_hdulist(hdulist, path):
    """The :class:`ImageModel` of an flt read by ``open_hdulist`` (checked)."""
    primary = hdulist[0].header
    _check_wfc3_ir(primary, path)
    index = imset_index(hdulist, path)
    for name in IMSET_EXTNAMES:
        if (name, 1) not in index:
            raise InputFileError(f"{path}: extension {name},1 is missing")
    sci = index[("SCI", 1)]
    shape = sci.data.shape
    model = ImageModel(data=extension_array(sci, shape, np.float32, path))
    model.err = extension_array(index[("ERR", 1)], shape, np.float32, path)
    model.dq = extension_array(index[("DQ", 1)], shape, np.uint16, path)
    model.samp = extension_array(index[("SAMP", 1)], shape, np.int16, path)
    model.time = extension_array(index[("TIME", 1)], shape, np.float32, path)
    for name, attr in (("VAR_POISSON", "var_poisson"), ("VAR_RNOISE", "var_rnoise")):
        if (name, 1) in index:
            setattr(model, attr, extension_array(index[(name, 1)], shape, np.float32, path))
    model.meta.filename = path.name
    set_meta(model, primary, sci.header, path)
    _check_exposure_keywords(model, path)
    return model


def is_multiaccum(path):
    """True if ``path`` is a FITS file with NSAMP imsets (a raw or ima), without reading data."""
    try:
        with fits.open(path, memmap=False) as hdulist:
            return "NSAMP" in hdulist[0].header and len(hdulist) > 5
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- writing
def read_dq(model, t):
    """DQ of read ``t`` as the ima holds it: the read's DQ OR the pixel DQ.

    The read's own array (no copy) when the pixel DQ adds nothing to it, as after the
    pipeline has OR-ed it in; a new array otherwise.
    """
    dq = model.groupdq[t]
    if np.any(model.pixeldq & ~dq):
        return dq | model.pixeldq
    return dq


def ima_hdulist(model, filename, statistics=None):
    """The calwf3-layout ima of a :class:`RampModel` as an HDUList (reads newest first).

    Parameters
    ----------
    model : RampModel
    filename : str
        FILENAME keyword of the product.
    statistics : list of dict, optional
        Per-read statistics keywords in time order, each ``{"SCI": {...}, "ERR": {...}}``.

    Returns
    -------
    astropy.io.fits.HDUList
        :func:`ima_product` as an HDUList (what is written is the same, byte for byte).
    """
    return ima_product(model, filename, statistics).to_hdulist()


def ima_product(model, filename, statistics=None, *, merged_dq=False):
    """The calwf3-layout ima of a :class:`RampModel` as a :class:`FitsProduct` (arguments of
    :func:`ima_hdulist`); its arrays are the model's own (the DQ as int16 views).

    ``merged_dq``: the caller has OR-ed the pixel DQ into every read's DQ (as the pipeline
    does before writing), so each read's DQ is written as it is, without
    :func:`read_dq`'s check.
    """
    model.check_arrays()
    nsamp, _ny, _nx = model.data.shape
    bunit = model.meta.bunit_data or "COUNTS"
    product = FitsProduct(primary_hdu(model, 5 * nsamp, filename,
                                      history=calwf3_history(model)))
    product.primary.header["NSAMP"] = nsamp
    template = _extension_template(model)
    for ver in range(1, nsamp + 1):
        _add_imset(product, model, template, ver, bunit, statistics, merged_dq)
    return product


def read_keywords(model, t):
    """The per-read keywords of read ``t`` (time order) that calwf3 writes in its SCI header:
    SAMPNUM, then one per :func:`per_read_arrays` entry (SAMPTIME, DELTATIM ...)."""
    return {SAMPNUM: t, **{keyword: float(getattr(model, name)[t])
                           for name, keyword in per_read_arrays()}}


def keep_last_read(image, ramp):
    """Give the flt image the per-read keywords of the ramp's last read (``meta.last_read``).

    calwf3's flt keeps them in its SCI header; drizzlepac requires MEANDARK in a WFC3 flt.
    """
    values = read_keywords(ramp, ramp.ngroups - 1)
    for entry in meta_keywords(ImageModel):
        if entry.path[0] == "last_read":
            setattr(image.meta.last_read, entry.path[-1], values[entry.keyword])


def _last_read_keywords(image):
    """The ``meta.last_read`` keywords of an flt image that have a value."""
    found = ((entry.keyword, meta_value(image, entry)) for entry in meta_keywords(ImageModel)
             if entry.path[0] == "last_read")
    return {keyword: value for keyword, value in found if value is not None}


#: calwf3's IR HISTORY lines (``irhist.c``), per switch: how the switch is reported
#: ("update": ``UpdateSwitch``, which also reports a skipped step; "put": only "complete."),
#: the line after it, and the reference files named (tables and images as calwf3 names them)
CALWF3_HISTORY = {
    "DQICORR": ("update", "  DQ array initialized ...", ("BPIXTAB",)),
    "ZSIGCORR": ("put", None, ()),
    "BLEVCORR": ("put", "  Overscan region table: ", ("OSCNTAB",)),
    "ZOFFCORR": ("put", None, ()),
    "NOISCORR": ("noise", None, ()),
    "NLINCORR": ("update", None, ("NLINFILE",)),
    "DARKCORR": ("update", None, ("DARKFILE",)),
    "PHOTCORR": ("update", None, ("IMPHTTAB",)),
    "UNITCORR": ("put", None, ()),
    "TVBCORR": ("put", None, ()),
    "CRCORR": ("put", None, ()),
    "FLATCORR": ("update", None, ("PFLTFILE", "DFLTFILE", "LFLTFILE")),
}
_TABLES = frozenset({"CCDTAB", "OSCNTAB", "BPIXTAB", "IMPHTTAB", "CRREJTAB"})


def _switch_lines(record):
    """The HISTORY lines of one step record, as calwf3 writes them for its switch."""
    switch, status = record["switch"], record["status"]
    kind, after, keywords = CALWF3_HISTORY.get(switch, ("put", None, ()))
    named = [ref for keyword in keywords for ref in record["references"]
             if ref["keyword"] == keyword and ref["name"].upper() != "N/A"]
    if kind == "noise":
        return ["Uncertainty array initialized."] if status == "COMPLETE" else []
    if kind == "put":
        if status != "COMPLETE":
            return []
        lines = [f"{switch} complete."]
    elif status == "COMPLETE":
        lines = [f"{switch} complete ..."]
    elif any(ref["pedigree"].upper().startswith("DUMMY") for ref in record["references"]):
        lines = [f"{switch} skipped due to dummy reference file ..."]
    else:
        lines = [f"{switch} not performed ..."]
    if after is not None:
        lines.append(after)
    for reference in named:
        lines += reference_history_lines(reference, _TABLES)
    return lines


def calwf3_history(model):
    """The HISTORY lines calwf3 would write for the steps recorded in ``meta.provenance``.

    The CCD parameters table comes first (calwf3 names it before any step), from the first
    step that used a CCDTAB; then each step's lines in the order the steps ran.

    Parameters
    ----------
    model : RampModel or ImageModel

    Returns
    -------
    list of str
    """
    records = list(model.meta.instance.get("provenance") or [])
    lines = []
    ccdtabs = [ref for record in records for ref in record["references"]
               if ref["keyword"] == "CCDTAB" and ref["name"].upper() != "N/A"]
    if ccdtabs:
        lines += ["CCD parameters table: ", *reference_history_lines(ccdtabs[0], _TABLES)]
    for record in records:
        lines += _switch_lines(record)
    return lines


def _extension_template(model):
    """The extensions' common header: the input's SCI cards less :func:`extension_keywords`,
    with INHERIT = T as calwf3 (hstio) writes it (tools that merge headers read it)."""
    template = extension_template(model, skip=extension_keywords())
    template.insert(0, ("INHERIT", True, "inherit the primary header"))
    return template


def _add_imset(product, model, template, ver, bunit, statistics, merged_dq=False):
    """Add the five extensions of imset ``ver`` (EXTVER 1 is the last read)."""
    nsamp, ny, nx = model.data.shape
    t = nsamp - ver
    sci_keywords = {"BUNIT": bunit, **read_keywords(model, t)}
    read_stats = statistics[t] if statistics is not None else {}
    sci_keywords.update(read_stats.get("SCI", {}))
    dq = dq_as_int16(model.groupdq[t] if merged_dq else read_dq(model, t))
    err_keywords = {"BUNIT": bunit, **read_stats.get("ERR", {})}
    product.add_image(template, "SCI", ver, model.data[t], sci_keywords)
    product.add_image(template, "ERR", ver, model.err[t], err_keywords)
    product.add_image(template, "DQ", ver, dq, {"BUNIT": "UNITLESS"})
    product.add_constant(template, "SAMP", ver, (ny, nx), t + 1, "SAMPLES")
    product.add_constant(template, "TIME", ver, (ny, nx), float(model.times[t]), "SECONDS")


def write_ima(model, path, overwrite=False, statistics=None):
    """Write a :class:`RampModel` as a calwf3-layout ``_ima.fits`` (reads newest first).

    Parameters
    ----------
    model : RampModel
    path : str or Path
        Output path; written atomically (temporary file, then rename).
    overwrite : bool
        Replace an existing file.
    statistics : list of dict, optional
        Per-read statistics keywords in time order, each ``{"SCI": {...}, "ERR": {...}}``
        (NGOODPIX, GOODMEAN ...).

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    write_hdulists([(ima_product(model, path.name, statistics), path)], overwrite,
                   output_verify="ignore")
    return path


def write_flt(model, path, overwrite=False, include_variances=False, statistics=None):
    """Write an :class:`ImageModel` as a calwf3-layout ``_flt.fits``.

    The model is expected to hold the science area only (the ramp-fit step trims the
    reference border and shifts LTV and CRPIX). Extensions SCI, ERR, DQ, SAMP, TIME;
    VAR_POISSON and VAR_RNOISE follow only when ``include_variances`` is True.

    Parameters
    ----------
    model : ImageModel
    path : str or Path
        Output path; written atomically.
    overwrite : bool
        Replace an existing file.
    include_variances : bool
        Append the Poisson and read-noise variance extensions.
    statistics : dict, optional
        ``{"SCI": {...}, "ERR": {...}}`` statistics keywords.

    Returns
    -------
    Path
    """
    path = Path(path)
    product = flt_product(model, path.name, include_variances, statistics)
    write_hdulists([(product, path)], overwrite, output_verify="ignore")
    return path


def flt_hdulist(model, filename, include_variances=False, statistics=None):
    """The calwf3-layout flt of an :class:`ImageModel` as an HDUList.

    Parameters
    ----------
    model : ImageModel
    filename : str
        FILENAME keyword of the product.
    include_variances : bool
        Append VAR_POISSON and VAR_RNOISE.
    statistics : dict, optional
        ``{"SCI": {...}, "ERR": {...}}`` statistics keywords.

    Returns
    -------
    astropy.io.fits.HDUList
        :func:`flt_product` as an HDUList (what is written is the same, byte for byte).
    """
    return flt_product(model, filename, include_variances, statistics).to_hdulist()


def flt_product(model, filename, include_variances=False, statistics=None):
    """The calwf3-layout flt of an :class:`ImageModel` as a :class:`FitsProduct` (arguments
    of :func:`flt_hdulist`)."""
    model.check_arrays()
    bunit = model.meta.bunit_data or "ELECTRONS/S"
    statistics = statistics or {}
    sci_keywords = {"BUNIT": bunit, **_last_read_keywords(model), **statistics.get("SCI", {})}
    arrays = [("SCI", model.data, sci_keywords),
              ("ERR", model.err, {"BUNIT": bunit, **statistics.get("ERR", {})}),
              ("DQ", dq_as_int16(model.dq), {"BUNIT": "UNITLESS"}),
              ("SAMP", model.samp, {"BUNIT": "SAMPLES"}),
              ("TIME", model.time, {"BUNIT": "SECONDS"})]
    if include_variances:
        arrays += [("VAR_POISSON", model.var_poisson, {}), ("VAR_RNOISE", model.var_rnoise, {})]
    product = FitsProduct(primary_hdu(model, len(arrays), filename,
                                      history=calwf3_history(model)))
    template = _extension_template(model)
    for name, data, extra in arrays:
        product.add_image(template, name, 1, data, extra)
    return product
