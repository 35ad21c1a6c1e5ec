"""WFC3/IR MultiAccum FITS files (raw, ima, flt) <-> hstramp datamodels.

Files store reads newest first: EXTVER 1 is the last read and EXTVER NSAMP the zeroth read.
Models hold them in time order (group 0 is the zeroth read). Only this module knows about
the reversed order.

ERR, DQ, SAMP and TIME extensions may be "constant" (NAXIS=0 with NPIX1, NPIX2, PIXVALUE);
raw SCI is uint16 stored as int16 with BZERO 32768; ima SCI is float32. Arrays handed to the
models are native-endian.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.datamodels.atomic import atomic_output
from hstramp.datamodels.models import ImageModel, RampModel
from hstramp.errors import InputFileError

__all__ = [
    "IMSET_EXTNAMES",
    "cards_to_header",
    "extension_array",
    "flt_hdulist",
    "header_to_cards",
    "ima_hdulist",
    "imset_index",
    "is_multiaccum",
    "open_hdulist",
    "read_flt",
    "read_multiaccum",
    "require_keyword",
    "write_flt",
    "write_hdulists",
    "write_ima",
]

log = logging.getLogger(__name__)

IMSET_EXTNAMES = ("SCI", "ERR", "DQ", "SAMP", "TIME")

_STRUCTURAL = {
    "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "XTENSION", "PCOUNT",
    "GCOUNT", "BZERO", "BSCALE", "EXTNAME", "EXTVER", "NPIX1", "NPIX2", "PIXVALUE", "CHECKSUM",
    "DATASUM", "INHERIT",
}
#: per-read and statistics keywords that the writers recompute, never carried over
_RECOMPUTED = {
    "SAMPNUM", "SAMPTIME", "DELTATIM", "ROUTTIME", "MEANBLEV", "MEANDARK", "BUNIT", "DATAMIN",
    "DATAMAX", "NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN", "SNRMIN", "SNRMAX", "SNRMEAN",
}

#: model metadata path -> (header, keyword); header "primary" or "sci"
_META_KEYWORDS = {
    "telescope": ("primary", "TELESCOP"),
    "instrument.name": ("primary", "INSTRUME"),
    "instrument.detector": ("primary", "DETECTOR"),
    "instrument.filter": ("primary", "FILTER"),
    "instrument.aperture": ("primary", "APERTURE"),
    "instrument.obstype": ("primary", "OBSTYPE"),
    "observation.rootname": ("primary", "ROOTNAME"),
    "observation.targname": ("primary", "TARGNAME"),
    "observation.proposid": ("primary", "PROPOSID"),
    "exposure.exptime": ("primary", "EXPTIME"),
    "exposure.expstart": ("primary", "EXPSTART"),
    "exposure.expend": ("primary", "EXPEND"),
    "exposure.nsamp": ("primary", "NSAMP"),
    "exposure.samp_seq": ("primary", "SAMP_SEQ"),
    "exposure.ccdgain": ("primary", "CCDGAIN"),
    "exposure.sdqflags": ("sci", "SDQFLAGS"),
    "subarray.subarray": ("primary", "SUBARRAY"),
    "subarray.subtype": ("primary", "SUBTYPE"),
    "subarray.ltv1": ("sci", "LTV1"),
    "subarray.ltv2": ("sci", "LTV2"),
    "photometry.photmode": ("primary", "PHOTMODE"),
    "photometry.photflam": ("primary", "PHOTFLAM"),
    "photometry.photfnu": ("primary", "PHOTFNU"),
    "photometry.photzpt": ("primary", "PHOTZPT"),
    "photometry.photplam": ("primary", "PHOTPLAM"),
    "photometry.photbw": ("primary", "PHOTBW"),
}
SWITCHES = ("dqicorr", "zsigcorr", "blevcorr", "zoffcorr", "noiscorr", "nlincorr", "darkcorr",
            "photcorr", "unitcorr", "crcorr", "flatcorr", "tvbcorr")
REFERENCE_KEYWORDS = ("ccdtab", "oscntab", "bpixtab", "nlinfile", "darkfile", "pfltfile",
                      "dfltfile", "lfltfile", "crrejtab", "imphttab")
_SWITCH_VALUES = {"PERFORM", "OMIT", "COMPLETE", "SKIPPED"}


# --------------------------------------------------------------------------- headers
def header_to_cards(header):
    """Return a header's non-structural cards as ``[keyword, value, comment]`` lists.

    Parameters
    ----------
    header : astropy.io.fits.Header

    Returns
    -------
    list of list
        Values that FITS leaves undefined become None.
    """
    cards = []
    for card in header.cards:
        if card.keyword in _STRUCTURAL:
            continue
        value = card.value
        if isinstance(value, fits.card.Undefined):
            value = None
        elif isinstance(value, np.generic):
            value = value.item()
        cards.append([card.keyword, value, card.comment])
    return cards


def cards_to_header(cards, skip=()):
    """Build an astropy header from ``[keyword, value, comment]`` cards.

    Parameters
    ----------
    cards : list of list
        As made by :func:`header_to_cards`.
    skip : collection of str
        Keywords to leave out.

    Returns
    -------
    astropy.io.fits.Header
    """
    header = fits.Header()
    for keyword, value, comment in cards or []:
        if keyword in skip or keyword in _STRUCTURAL:
            continue
        if keyword in ("COMMENT", "HISTORY", ""):
            header.append((keyword, value), bottom=True)
        else:
            header.append((keyword, value, comment), bottom=True)
    return header


# --------------------------------------------------------------------------- reading
def open_hdulist(path):
    """Open a FITS file fully into memory, turning every low-level failure into one error."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"input file {path} does not exist")
    hdulist = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # our own handle, closed even when astropy fails half way (a truncated file)
            with path.open("rb") as handle:
                hdulist = fits.open(handle, memmap=False, lazy_load_hdus=False)
                for hdu in hdulist:
                    _ = hdu.data  # read everything now, so truncation shows here
    except (OSError, ValueError, TypeError, IndexError, Warning) as exc:
        if hdulist is not None:
            hdulist.close()
        raise InputFileError(f"{path} is not a readable FITS file: {exc}") from exc
    return hdulist


def require_keyword(header, keyword, path, where="primary header"):
    if keyword not in header:
        raise InputFileError(f"{path}: keyword {keyword} is missing from the {where}")
    return header[keyword]


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


def imset_index(hdulist, path):
    """Map (EXTNAME, EXTVER) -> HDU and check every imset is complete."""
    index = {}
    for hdu in hdulist[1:]:
        name = str(hdu.header.get("EXTNAME", "")).strip().upper()
        index[(name, int(hdu.header.get("EXTVER", 1)))] = hdu
    return index


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


def extension_array(hdu, shape, dtype, path):
    """The array of an extension, expanding a constant one (NPIX1/NPIX2/PIXVALUE)."""
    out = np.empty(shape, dtype=dtype)
    read_extension_into(hdu, out, path)
    return out


def read_extension_into(hdu, out, path) -> None:
    """Fill ``out`` with an extension's image, expanding a constant one (NPIX1/NPIX2/PIXVALUE).

    Values are converted to ``out``'s dtype (a 16-bit signed DQ keeps its bits in uint16).
    The HDU's own copy of the data is released afterwards, so reading an exposure extension
    by extension never holds the file's data and the model's at once.

    Raises
    ------
    InputFileError
        No data and no PIXVALUE, or a shape other than ``out``'s (the extension named).
    """
    shape = out.shape
    name = f"{hdu.header.get('EXTNAME', '?')},{hdu.header.get('EXTVER', 1)}"
    if hdu.data is None:
        if "PIXVALUE" not in hdu.header:
            raise InputFileError(f"{path}: extension {name} has no data and no PIXVALUE")
        npix = (hdu.header.get("NPIX2", shape[0]), hdu.header.get("NPIX1", shape[1]))
        if tuple(npix) != tuple(shape):
            raise InputFileError(
                f"{path}: constant extension {name} is {npix[1]}x{npix[0]} (NPIX1 x NPIX2), "
                f"the SCI arrays are {shape[1]}x{shape[0]}"
            )
        out.fill(hdu.header["PIXVALUE"])
        return
    data = np.asarray(hdu.data)
    if data.shape != tuple(shape):
        raise InputFileError(
            f"{path}: extension {name} has shape {data.shape}, the SCI arrays {tuple(shape)}"
        )
    np.copyto(out, data, casting="unsafe")
    del hdu.data


def _read_times(index, nsamp, path):
    """SAMPTIME of each read in time order; must start at 0 and strictly increase."""
    times = np.array(
        [float(require_keyword(index[("SCI", nsamp - t)].header, "SAMPTIME", path,
                        f"SCI,{nsamp - t} header")) for t in range(nsamp)]
    )
    if not np.all(np.isfinite(times)):
        raise InputFileError(f"{path}: SAMPTIME has non-finite values {times.tolist()}")
    if nsamp > 1 and not np.all(np.diff(times) > 0):
        raise InputFileError(
            f"{path}: SAMPTIME does not increase from the zeroth read (SCI,{nsamp}) to the last "
            f"(SCI,1): {times.tolist()}"
        )
    return times


def _check_science_values(data, nsamp, path):
    """Refuse SCI arrays holding NaN or infinity, and an exposure whose reads are all zero.

    ``data`` is in time order, so read ``t`` is extension ``SCI,nsamp - t``.
    """
    for t in range(nsamp):
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


def _per_read_keyword(index, nsamp, keyword, default=0.0):
    return np.array(
        [float(index[("SCI", nsamp - t)].header.get(keyword, default)) for t in range(nsamp)]
    )


def _set_meta(model, primary, sci_header):
    headers = {"primary": primary, "sci": sci_header}
    for path, (which, keyword) in _META_KEYWORDS.items():
        value = headers[which].get(keyword)
        if value is None or isinstance(value, fits.card.Undefined):
            continue
        if isinstance(value, str):
            value = value.strip()
        node = model.meta
        *parents, leaf = path.split(".")
        for parent in parents:
            node = getattr(node, parent)
        setattr(node, leaf, value.item() if isinstance(value, np.generic) else value)
    for switch in SWITCHES:
        value = str(primary.get(switch.upper(), "")).strip().upper()
        if value in _SWITCH_VALUES:
            setattr(model.meta.cal_step, switch, value)
        elif value:
            raise InputFileError(
                f"{model.meta.filename}: switch {switch.upper()} = {value!r} is not one of "
                f"{sorted(_SWITCH_VALUES)}"
            )
    for keyword in REFERENCE_KEYWORDS:
        value = primary.get(keyword.upper())
        if value is not None:
            setattr(model.meta.ref_file, keyword, str(value).strip())
    bunit = sci_header.get("BUNIT")
    if bunit is not None:
        model.meta.bunit_data = str(bunit).strip()
    model.meta.headers.primary = header_to_cards(primary)
    model.meta.headers.sci = header_to_cards(sci_header)


def read_multiaccum(path):
    """Read a WFC3/IR ``_raw.fits`` or ``_ima.fits`` into a :class:`RampModel`.

    Parameters
    ----------
    path : str or Path
        The MultiAccum file. It is opened read-only and never modified.

    Returns
    -------
    RampModel
        Reads in time order, float32 native-endian SCI and ERR, uint16 DQ, read times in
        seconds since the zeroth read.

    Raises
    ------
    InputFileError
        Not FITS or truncated, not WFC3/IR, NSAMP disagreeing with the extensions, an
        incomplete imset, mismatched shapes, non-increasing SAMPTIME, NaN or infinity in a
        SCI extension, every read all zero, unknown switch values.
    """
    path = Path(path)
    with open_hdulist(path) as hdulist:
        primary = hdulist[0].header
        _check_wfc3_ir(primary, path)
        index = imset_index(hdulist, path)
        nsamp = _check_imsets(primary, index, hdulist, path)
        last_sci = index[("SCI", 1)]
        if last_sci.data is None or np.asarray(last_sci.data).ndim != 2:
            raise InputFileError(f"{path}: extension SCI,1 has no 2-D image")
        shape = last_sci.data.shape
        times = _read_times(index, nsamp, path)
        data = np.empty((nsamp, *shape), dtype=np.float32)
        err = np.empty_like(data)
        groupdq = np.empty((nsamp, *shape), dtype=np.uint16)
        for t in range(nsamp):
            ver = nsamp - t
            read_extension_into(index[("SCI", ver)], data[t], path)
            read_extension_into(index[("ERR", ver)], err[t], path)
            read_extension_into(index[("DQ", ver)], groupdq[t], path)
        _check_science_values(data, nsamp, path)
        model = RampModel(data=data, err=err, groupdq=groupdq, times=times)
        model.meta.filename = path.name
        model.deltatim = _per_read_keyword(index, nsamp, "DELTATIM")
        model.routtime = _per_read_keyword(index, nsamp, "ROUTTIME")
        model.meanblev = _per_read_keyword(index, nsamp, "MEANBLEV")
        model.meandark = _per_read_keyword(index, nsamp, "MEANDARK")
        _set_meta(model, primary, last_sci.header)
    log.debug("read %s: %d reads of %dx%d", path.name, nsamp, shape[1], shape[0])
    return model


def read_flt(path):
    """Read a WFC3/IR ``_flt.fits`` (SCI, ERR, DQ, SAMP, TIME) into an :class:`ImageModel`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ImageModel
    """
    path = Path(path)
    with open_hdulist(path) as hdulist:
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
        _set_meta(model, primary, sci.header)
    return model


def is_multiaccum(path):
    """True if ``path`` is a FITS file with NSAMP imsets (a raw or ima), without reading data."""
    try:
        with fits.open(path, memmap=False) as hdulist:
            return "NSAMP" in hdulist[0].header and len(hdulist) > 5
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- writing
def _primary_header(model, nextend, filename):
    """The product's primary header: the original one, updated from the model metadata."""
    header = cards_to_header(model.meta.headers.instance.get("primary"))
    flat = {}
    for path, (which, keyword) in _META_KEYWORDS.items():
        if which != "primary":
            continue
        node = model.meta
        for part in path.split("."):
            node = getattr(node, part, None)
            if node is None:
                break
        if node is not None:
            flat[keyword] = node
    for switch in SWITCHES:
        value = getattr(model.meta.cal_step, switch, None)
        if value is not None:
            flat[switch.upper()] = value
    for keyword in REFERENCE_KEYWORDS:
        value = getattr(model.meta.ref_file, keyword, None)
        if value is not None:
            flat[keyword.upper()] = value
    flat["NEXTEND"] = nextend
    flat["FILENAME"] = filename
    flat["HSTRAMPV"] = model.meta.calibration_software_version
    for keyword, value in flat.items():
        header[keyword] = value
    header["DATE"] = (datetime.now(UTC).strftime("%Y-%m-%d"),
                      "date this file was written (yyyy-mm-dd)")
    return header


@contextlib.contextmanager
def long_values_allowed():
    """A context in which a long value (a reference path) may shorten its card's comment.

    Nothing but the comment is lost, so astropy's warning about it is not passed on.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Card is too long, comment will be truncated")
        yield


def _primary_hdu(model, nextend, filename):
    """The product's primary HDU, its header verified (astropy's ``fix+ignore``)."""
    hdu = fits.PrimaryHDU(header=_primary_header(model, nextend, filename))
    with long_values_allowed():
        hdu.verify("fix+ignore")
    return hdu


def extension_template(model):
    """The SCI header the exposure came with, less what each product recomputes.

    Built, verified (astropy's ``fix+ignore``) and formatted once per product; every
    extension's header is a copy of it, which costs a fifth of building each header from
    the cards, and the product need not be verified again extension by extension when it
    is written.
    """
    hdu = fits.ImageHDU(header=cards_to_header(model.meta.headers.instance.get("sci"),
                                               skip=_RECOMPUTED))
    with long_values_allowed():
        hdu.verify("fix+ignore")
        hdu.header.tostring()  # format every card once; copies keep the formatted images
    return hdu.header


def _image_hdu(template, name, ver, data, extra=None):
    """An extension from the template header (astropy copies it into the HDU)."""
    hdu = fits.ImageHDU(data=data, header=template)
    header = hdu.header
    header["EXTNAME"] = name
    header["EXTVER"] = ver
    for keyword, value in (extra or {}).items():
        header[keyword] = value
    return hdu


def _constant_hdu(template, name, ver, shape, value, bunit):
    return _image_hdu(template, name, ver, None,
                      {"BUNIT": bunit, "NPIX1": shape[1], "NPIX2": shape[0], "PIXVALUE": value})


def read_dq(model, t):
    """DQ of read ``t`` as the ima holds it: the read's DQ OR the pixel DQ.

    The read's own array (no copy) when the pixel DQ adds nothing to it, as after the
    pipeline has OR-ed it in; a new array otherwise.
    """
    dq = model.groupdq[t]
    if np.any(model.pixeldq & ~dq):
        return dq | model.pixeldq
    return dq


def _dq_as_int16(dq):
    return np.ascontiguousarray(dq, dtype=np.uint16).view(np.int16)


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
    """
    model.check_arrays()
    nsamp, _ny, _nx = model.data.shape
    bunit = model.meta.bunit_data or "COUNTS"
    hdus = [_primary_hdu(model, 5 * nsamp, filename)]
    hdus[0].header["NSAMP"] = nsamp
    template = extension_template(model)
    for ver in range(1, nsamp + 1):
        hdus.extend(_imset_hdus(model, template, ver, bunit, statistics))
    return fits.HDUList(hdus)


def _imset_hdus(model, template, ver, bunit, statistics):
    """The five extensions of imset ``ver`` (EXTVER 1 is the last read)."""
    nsamp, ny, nx = model.data.shape
    t = nsamp - ver
    sci_keywords = {
        "BUNIT": bunit,
        "SAMPNUM": t,
        "SAMPTIME": float(model.times[t]),
        "DELTATIM": float(model.deltatim[t]),
        "ROUTTIME": float(model.routtime[t]),
        "MEANBLEV": float(model.meanblev[t]),
        "MEANDARK": float(model.meandark[t]),
    }
    read_stats = statistics[t] if statistics is not None else {}
    sci_keywords.update(read_stats.get("SCI", {}))
    dq = _dq_as_int16(read_dq(model, t))
    err_keywords = {"BUNIT": bunit, **read_stats.get("ERR", {})}
    return [
        _image_hdu(template, "SCI", ver, model.data[t], sci_keywords),
        _image_hdu(template, "ERR", ver, model.err[t], err_keywords),
        _image_hdu(template, "DQ", ver, dq, {"BUNIT": "UNITLESS"}),
        _constant_hdu(template, "SAMP", ver, (ny, nx), t + 1, "SAMPLES"),
        _constant_hdu(template, "TIME", ver, (ny, nx), float(model.times[t]), "SECONDS"),
    ]


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
    write_hdulists([(ima_hdulist(model, path.name, statistics), path)], overwrite,
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
    hdulist = flt_hdulist(model, path.name, include_variances, statistics)
    write_hdulists([(hdulist, path)], overwrite, output_verify="ignore")
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
    """
    model.check_arrays()
    bunit = model.meta.bunit_data or "ELECTRONS/S"
    statistics = statistics or {}
    arrays = [("SCI", model.data, {"BUNIT": bunit, **statistics.get("SCI", {})}),
              ("ERR", model.err, {"BUNIT": bunit, **statistics.get("ERR", {})}),
              ("DQ", _dq_as_int16(model.dq), {"BUNIT": "UNITLESS"}),
              ("SAMP", model.samp, {"BUNIT": "SAMPLES"}),
              ("TIME", model.time, {"BUNIT": "SECONDS"})]
    if include_variances:
        arrays += [("VAR_POISSON", model.var_poisson, {}), ("VAR_RNOISE", model.var_rnoise, {})]
    hdus = [_primary_hdu(model, len(arrays), filename)]
    template = extension_template(model)
    hdus += [_image_hdu(template, name, 1, data, extra) for name, data, extra in arrays]
    return fits.HDUList(hdus)


def write_hdulists(products, overwrite=False, output_verify="fix+ignore"):
    """Write several products all-or-nothing: temporary files first, renamed only if all worked.

    Parameters
    ----------
    products : list of (HDUList, path)
    overwrite : bool
        Replace existing files (refused otherwise, before anything is written).
    output_verify : str
        astropy's verification of every header while writing. :func:`ima_hdulist` and
        :func:`flt_hdulist` verify their headers as they build them, so their products
        are written with ``"ignore"``.
    """
    with contextlib.ExitStack() as stack, long_values_allowed():
        for hdulist, path in products:
            # each temporary stays unrenamed until every product is written
            tmp = stack.enter_context(atomic_output(path, overwrite=overwrite))
            hdulist.writeto(tmp, overwrite=True, output_verify=output_verify)
    for _hdulist, path in products:
        log.info("wrote %s", path)
