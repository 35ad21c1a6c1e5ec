"""FITS reading and writing shared by the WFC3 and STIS readers and writers.

Reading: a file opened with every low-level failure one
:class:`~hstramp.errors.InputFileError` (:func:`open_hdulist`), extensions found by EXTNAME
and EXTVER (:func:`imset_index`), images read from the file into the model's arrays
(:func:`read_image_into`) and constant extensions (NPIX1, NPIX2, PIXVALUE) expanded
(:func:`extension_array`), header cards kept as ``[keyword, value, comment]`` lists
(:func:`header_to_cards`). Writing: a primary header rebuilt from those cards and the model's
metadata (:func:`primary_header`), extensions from one verified template
(:func:`extension_template`, :func:`image_hdu`), products written all or nothing
(:func:`write_hdulists`).

Metadata and header keywords meet in one place: :func:`meta_keywords` walks a model's schema
and lists every ``fits_keyword`` (with its ``fits_hdu``); :func:`set_meta` reads those keywords
into the model and :func:`primary_header` writes the primary ones back. No module keeps its
own keyword table.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import string
import sys
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.datamodels.atomic import staged_outputs
from hstramp.errors import InputFileError, OutputFileError
from hstramp.fitsimage import FITS_START

__all__ = [
    "STRUCTURAL_KEYWORDS",
    "SWITCH_VALUES",
    "WRITER_KEYWORDS",
    "MetaKeyword",
    "add_checksums",
    "calibration_version",
    "cards_to_header",
    "check_same_keywords",
    "checksum_stamp",
    "constant_hdu",
    "constant_keywords",
    "datasum_covers",
    "dq_as_int16",
    "extension_array",
    "extension_template",
    "fits_datasum",
    "fold_datasum",
    "header_checksum",
    "header_to_cards",
    "header_value",
    "image_hdu",
    "imset_index",
    "imset_layout",
    "long_values_allowed",
    "meta_keywords",
    "meta_value",
    "number_keyword",
    "open_hdulist",
    "primary_hdu",
    "primary_header",
    "read_extension_into",
    "reference_history_lines",
    "require_keyword",
    "set_meta",
    "wide_datasum",
    "write_hdulists",
]

log = logging.getLogger(__name__)

#: keywords astropy (or the FITS layout) owns; never carried over from an input header
STRUCTURAL_KEYWORDS = frozenset({
    "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "XTENSION", "PCOUNT",
    "GCOUNT", "BZERO", "BSCALE", "EXTNAME", "EXTVER", "NPIX1", "NPIX2", "PIXVALUE", "CHECKSUM",
    "DATASUM", "INHERIT",
})
#: primary keywords the writer sets itself, last, whatever the metadata say
WRITER_KEYWORDS = ("NEXTEND", "FILENAME", "HSTRAMPV", "CAL_VER", "DATE")
#: the values a calibration switch may take
SWITCH_VALUES = ("PERFORM", "OMIT", "COMPLETE", "SKIPPED")


# --------------------------------------------------------------------------- cards
def header_value(header, keyword):
    """A keyword's value as Python: strings stripped, NumPy scalars unwrapped.

    Returns
    -------
    object or None
        None when the keyword is missing or its value is undefined.
    """
    value = header.get(keyword)
    if value is None or isinstance(value, fits.card.Undefined):
        return None
    if isinstance(value, str):
        return value.strip()
    return value.item() if isinstance(value, np.generic) else value


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
        if card.keyword in STRUCTURAL_KEYWORDS:
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
        if keyword in skip or keyword in STRUCTURAL_KEYWORDS:
            continue
        if keyword in ("COMMENT", "HISTORY", ""):
            header.append((keyword, value), bottom=True)
        else:
            header.append((keyword, value, comment), bottom=True)
    return header


# --------------------------------------------------------------------------- reading
def open_hdulist(path, read_data=True):
    """Open a FITS file, turning every low-level failure into one error.

    Parameters
    ----------
    path : str or Path
    read_data : bool
        Read every HDU's data now (the file is then closed). False: only the headers are
        read, the file stays open for the data until the HDUList is closed (use it as a
        context manager; a compressed file is read whole all the same), for a reader that
        reads the images itself
        (:class:`~hstramp.fitsimage.StoredImages`). A file shorter than its
        headers say fails here either way (astropy's warning on opening it).

    Returns
    -------
    astropy.io.fits.HDUList

    Raises
    ------
    InputFileError
        The file is missing, not FITS, truncated or otherwise unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"input file {path} does not exist")
    hdulist = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # our own handle, closed even when astropy fails half way (a truncated file)
            handle = path.open("rb")
            try:
                # a compressed file is read whole: its decompressing reader would not close ours
                read_data = read_data or handle.read(len(FITS_START)) != FITS_START
                handle.seek(0)
                hdulist = fits.open(handle, memmap=False, lazy_load_hdus=False)
                if read_data:
                    for hdu in hdulist:
                        _ = hdu.data  # read everything now, so truncation shows here
            finally:
                if read_data or hdulist is None:
                    handle.close()
    except (OSError, ValueError, TypeError, IndexError, Warning) as exc:
        if hdulist is not None:
            hdulist.close()
        raise InputFileError(f"{path} is not a readable FITS file: {exc}") from exc
    return hdulist


def require_keyword(header, keyword, path, where="primary header"):
    """The value of a keyword that must be present.

    Raises
    ------
    InputFileError
        Naming the file, the keyword and the header it is missing from.
    """
    if keyword not in header:
        raise InputFileError(f"{path}: keyword {keyword} is missing from the {where}")
    return header[keyword]


def number_keyword(header, keyword, path, where="primary header", default=None):
    """The value of a numeric keyword as a float, or an error naming file, header and keyword.

    Parameters
    ----------
    header : astropy.io.fits.Header
    keyword : str
    path : str or Path
        The file, for the message.
    where : str
        The header, for the message (``"SCI,3 header"``).
    default : float, optional
        The value of a missing keyword; None: the keyword is required.

    Raises
    ------
    InputFileError
        The keyword is missing (without a default), or its value is not a finite number
        (a string such as ``'abc'``, a boolean, an undefined value).
    """
    if default is not None and keyword not in header:
        return float(default)
    value = header_value(header, keyword) if keyword in header else require_keyword(
        header, keyword, path, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise InputFileError(f"{path}: {keyword} = {value!r} in the {where} is not a number")


def imset_index(hdulist, path="input"):
    """Map (EXTNAME, EXTVER) -> HDU for every extension (EXTVER 1 when it has none).

    Whether every imset is complete is each reader's own check, since an imset's extensions
    differ by instrument (WFC3: SCI, ERR, DQ, SAMP, TIME; STIS: SCI, ERR, DQ). EXTNAME is
    compared upper-case and stripped.

    Raises
    ------
    InputFileError
        An EXTVER that is not a whole number, or two extensions with one EXTNAME and
        EXTVER (a duplicated imset: neither copy is chosen).
    """
    index, where = {}, {}
    for number, hdu in enumerate(hdulist[1:], start=1):
        name = str(hdu.header.get("EXTNAME", "")).strip().upper()
        ver = hdu.header.get("EXTVER", 1)
        if isinstance(ver, bool) or not isinstance(ver, (int, np.integer)):
            raise InputFileError(f"{path}: extension {number} ({name}) has EXTVER = {ver!r}; "
                                 "a whole number is needed")
        key = (name, int(ver))
        if key in index:
            raise InputFileError(
                f"{path}: extension {name},{int(ver)} appears twice (HDUs {where[key]} and "
                f"{number}); a duplicated imset is refused, neither copy is used")
        index[key], where[key] = hdu, number
    return index


def imset_layout(hdulist, path, check_instrument, count_imsets):
    """The checked layout of a file of imsets: primary header, index, imset count, SCI shape.

    Parameters
    ----------
    hdulist : astropy.io.fits.HDUList
        From :func:`open_hdulist`.
    path : str or Path
    check_instrument : callable
        ``check_instrument(primary, path)`` raises unless the file is the instrument's.
    count_imsets : callable
        ``count_imsets(primary, index, hdulist, path)`` -> the number of complete imsets (it
        raises for an incomplete or inconsistent set).

    Returns
    -------
    tuple
        ``(primary, index, count, shape)``: the primary header, :func:`imset_index`, the
        count, and the ``(ny, nx)`` of ``SCI,1``.

    Raises
    ------
    InputFileError
        From the two callables; imsets of different LTV (:func:`check_same_keywords`);
        ``SCI,1`` without a 2-D image.
    """
    primary = hdulist[0].header
    check_instrument(primary, path)
    index = imset_index(hdulist, path)
    count = count_imsets(primary, index, hdulist, path)
    check_same_keywords(index, "SCI", count, ("LTV1", "LTV2"), path)
    shape = getattr(index[("SCI", 1)], "shape", ())  # from the header: no data read
    if len(shape) != 2:
        raise InputFileError(f"{path}: extension SCI,1 has no 2-D image")
    return primary, index, count, shape


def check_same_keywords(index, extname, count, keywords, path):
    """Refuse extensions ``extname,1..count`` whose headers disagree on ``keywords``.

    Parameters
    ----------
    index : dict
        From :func:`imset_index`.
    extname : str
        ``"SCI"``.
    count : int
        Number of imsets.
    keywords : sequence of str
        ``("LTV1", "LTV2")``: values every imset must share (a missing keyword counts as a
        value of its own).
    path : str or Path

    Raises
    ------
    InputFileError
        Naming the keyword and the first extension that differs from ``extname,1``.
    """
    for keyword in keywords:
        first = header_value(index[(extname, 1)].header, keyword)
        for ver in range(2, count + 1):
            value = header_value(index[(extname, ver)].header, keyword)
            if value != first:
                raise InputFileError(
                    f"{path}: {keyword} = {value!r} in the {extname},{ver} header but "
                    f"{first!r} in {extname},1; imsets of other subarrays cannot be combined")


def extension_array(hdu, shape, dtype, path):
    """The array of an extension, expanding a constant one (NPIX1/NPIX2/PIXVALUE)."""
    out = np.empty(shape, dtype=dtype)
    read_extension_into(hdu, out, path)
    return out


def read_extension_into(hdu, out, path) -> bool:
    """Fill ``out`` with an extension's image, expanding a constant one (NPIX1/NPIX2/PIXVALUE).

    Values are converted to ``out``'s dtype (a 16-bit signed DQ keeps its bits in uint16).
    The HDU's own copy of the data is released afterwards, so reading an exposure extension
    by extension never holds the file's data and the model's at once.

    Returns
    -------
    bool
        Whether the file stores the image as floating-point values (False for integers,
        BZERO-scaled or not, and for a constant extension).

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
        if tuple(npix) != tuple(shape):  # checked before anything of that size exists
            raise InputFileError(
                f"{path}: constant extension {name} is {npix[1]}x{npix[0]} (NPIX1 x NPIX2), "
                f"the SCI arrays are {shape[1]}x{shape[0]}"
            )
        value = number_keyword(hdu.header, "PIXVALUE", path, f"{name} header")
        if out.dtype.kind in "iu" and value != int(value):
            raise InputFileError(f"{path}: PIXVALUE = {value!r} in the {name} header is not a "
                                 "whole number, and the extension holds integers")
        out.fill(value)
        return False
    data = np.asarray(hdu.data)
    if data.shape != tuple(shape):
        raise InputFileError(
            f"{path}: extension {name} has shape {data.shape}, the SCI arrays {tuple(shape)}"
        )
    if out.dtype.kind in "iu" and data.dtype.kind not in "iub":
        raise InputFileError(
            f"{path}: extension {name} is stored as {data.dtype.name} (BITPIX "
            f"{hdu.header.get('BITPIX')}); it holds flags or counts and must be stored as "
            "integers (a float array would lose NaN and fractions silently)")
    np.copyto(out, data, casting="unsafe")
    del hdu.data
    return data.dtype.kind not in "iub"


def read_image_into(images, hdu, out, path) -> bool:
    """:func:`read_extension_into`, the bytes read from the file when they can be
    (:class:`~hstramp.fitsimage.StoredImages` ``images``: one pass instead of astropy's
    two or three; the same values).

    Returns
    -------
    bool
        Whether the file stores the image as floating-point values.
    """
    stored = images.read_into(hdu, out, path, InputFileError)
    return read_extension_into(hdu, out, path) if stored is None else stored


# --------------------------------------------------------------------------- metadata
@dataclass(frozen=True)
class MetaKeyword:
    """One header keyword of a model's metadata, as its schema declares it.

    Attributes
    ----------
    path : tuple of str
        Attribute path under ``model.meta`` (``("exposure", "exptime")``).
    keyword : str
        ``fits_keyword``.
    hdu : str
        ``"PRIMARY"``, or the ``fits_hdu`` it lives in (``"SCI"``: the first SCI header).
    type : str or None
        JSON-schema type (``"string"``, ``"integer"``, ``"number"``, ``"boolean"``).
    switch : bool
        A calibration switch (its ``enum`` is :data:`SWITCH_VALUES`).
    comment : str or None
        ``fits_comment``: the comment of a card of hstramp's own; may name other values of
        the same node in braces.
    """

    path: tuple[str, ...]
    keyword: str
    hdu: str = "PRIMARY"
    type: str | None = None
    switch: bool = False
    comment: str | None = None

    @property
    def group(self):
        """Writing order: 0 hstramp's own cards, 1 values, 2 switches, 3 reference files."""
        if self.comment is not None:
            return 0
        if self.switch:
            return 2
        return 3 if self.path[0] == "ref_file" else 1


@functools.cache
def meta_keywords(model_class):
    """Every header keyword of a model class's metadata, from its schema.

    The schema is the one stdatamodels merges for the class (``allOf`` fragments combined;
    a fragment listed later overrides an earlier one's entry for the same path). A keyword
    claimed by two paths belongs to the later one in that order (an instrument fragment's
    entry wins over core's, e.g. STIS ``meta.stis.ccdgain`` over ``meta.exposure.ccdgain``).

    Parameters
    ----------
    model_class : type
        An :class:`~hstramp.datamodels.models.HstrampModel` subclass.

    Returns
    -------
    tuple of MetaKeyword
        In schema order.
    """
    schema = model_class().schema["properties"]["meta"]
    found = {}
    for entry in _walk_meta(schema, ()):
        found.pop(entry.keyword, None)
        found[entry.keyword] = entry
    order = {entry: k for k, entry in enumerate(_walk_meta(schema, ()))}
    return tuple(sorted(found.values(), key=order.__getitem__))


def _walk_meta(schema, path):
    """Yield a :class:`MetaKeyword` for every ``fits_keyword`` under ``schema``."""
    for name, sub in schema.get("properties", {}).items():
        here = (*path, name)
        if "fits_keyword" in sub:
            yield MetaKeyword(path=here, keyword=sub["fits_keyword"],
                              hdu=str(sub.get("fits_hdu", "PRIMARY")).upper(),
                              type=sub.get("type"),
                              switch=sub.get("enum") == list(SWITCH_VALUES),
                              comment=sub.get("fits_comment"))
        yield from _walk_meta(sub, here)


def _meta_node(model, path):
    """The metadata node holding ``path``'s leaf, created if the model has none yet."""
    node = model.meta
    for part in path[:-1]:
        node = getattr(node, part)
    return node


def _stored_node(model, path):
    """The stored metadata dict holding ``path``'s leaf, or {} (nothing is created)."""
    node = model.meta.instance
    for part in path[:-1]:
        node = node.get(part) or {}
    return node


def meta_value(model, entry):
    """The model's value for one :class:`MetaKeyword` (None if not set)."""
    return _stored_node(model, entry.path).get(entry.path[-1])


def set_meta(model, primary, sci_header, path, exclude=()):
    """Set a model's metadata from a file's primary and first SCI headers.

    Every keyword of :func:`meta_keywords` found in its header is stored: strings
    stripped, integers checked, switches upper-cased and checked against
    :data:`SWITCH_VALUES`. The writer-owned keywords (:data:`WRITER_KEYWORDS`) are not read.
    Both headers are kept as cards (``meta.headers``) for the products.

    Parameters
    ----------
    model : HstrampModel
    primary, sci_header : astropy.io.fits.Header
    path : str or Path
        The file, for error messages.
    exclude : collection of str
        Keywords the reader keeps elsewhere (per-imset arrays).

    Raises
    ------
    InputFileError
        A switch value outside :data:`SWITCH_VALUES`, an integer keyword that is not a whole
        number, or a number keyword that is not a finite number (``LTV1 = 'left'``); the
        file, the header and the keyword are named.
    """
    headers = {"PRIMARY": primary, "SCI": sci_header}
    for entry in meta_keywords(type(model)):
        if entry.keyword in exclude or entry.keyword in WRITER_KEYWORDS:
            continue
        value = header_value(headers[entry.hdu], entry.keyword)
        if value is None or (entry.switch and value == ""):
            continue  # an empty switch is no instruction
        setattr(_meta_node(model, entry.path), entry.path[-1],
                _checked_value(entry, value, path))
    model.meta.headers.primary = header_to_cards(primary)
    model.meta.headers.sci = header_to_cards(sci_header)


def _checked_value(entry, value, path):
    """A header value as the schema wants it, or an error naming file, header and keyword."""
    header = "primary" if entry.hdu == "PRIMARY" else f"{entry.hdu},1"  # the readers' SCI,1
    where = f"{path}: {entry.keyword} = {value!r} in the {header} header"
    if entry.switch:
        text = str(value).upper()
        if text not in SWITCH_VALUES:
            raise InputFileError(f"{path}: switch {entry.keyword} = {text!r} is not one of "
                                 f"{sorted(SWITCH_VALUES)}")
        return text
    if entry.type == "string":
        return str(value).strip()
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if entry.type == "integer":
        if not (numeric and math.isfinite(value) and value == int(value)):
            raise InputFileError(f"{where} is not a whole number")
        return int(value)
    if entry.type == "number":
        if not (numeric and math.isfinite(value)):
            raise InputFileError(f"{where} is not a number")
        return float(value)
    return value


def _card_comment(model, entry, current):
    """The comment of a card of hstramp's own, filled in from its node; else ``current``."""
    names = [field for _text, field, _spec, _conv in string.Formatter().parse(entry.comment)
             if field]
    node = _stored_node(model, entry.path)
    values = {name: node.get(name) for name in names}
    if any(value is None for value in values.values()):
        return current
    return entry.comment.format(**values)


def _write_keyword(header, keyword, value, comment):
    """Set one card; a new card of hstramp's own (with a comment) goes at the very bottom."""
    if isinstance(value, float) and not math.isfinite(value):
        value = None  # FITS has no NaN: the card is written with an undefined value
    if comment is None:
        header[keyword] = value
    elif keyword in header:
        header[keyword] = (value, comment)
    else:
        header.append((keyword, value, comment), bottom=True)


def calibration_version(model):
    """CAL_VER of hstramp's products: ``"hstramp <version>"``, naming hstramp, not calwf3."""
    return f"hstramp {model.meta.calibration_software_version}"


def reference_history_lines(reference, tables):
    """The HISTORY lines of one reference file, as hstcal's ``TabHistory`` / ``ImgHistory``
    write them (calwf3 and calstis alike): its name, then PEDIGREE and DESCRIP where set.

    Parameters
    ----------
    reference : mapping
        The provenance record: ``keyword``, ``name``, ``pedigree``, ``descrip``.
    tables : collection of str
        The reference keywords of this instrument that name tables (the rest are images).

    Returns
    -------
    list of str
    """
    kind = "table" if reference["keyword"] in tables else "image"
    return [f"  reference {kind} {reference['name']}",
            *(f"    {reference[key]}" for key in ("pedigree", "descrip") if reference[key])]


def primary_header(model, nextend, filename, history=()):
    """A product's primary header: the input's cards, updated from the model's metadata.

    Every primary keyword of :func:`meta_keywords` with a value is written: hstramp's own
    cards first (appended at the bottom when new, with their ``fits_comment``), then the
    other values, the switches and the reference files (in schema order; a card already in
    the header keeps its place and comment), then NEXTEND, FILENAME, HSTRAMPV, CAL_VER
    (:func:`calibration_version`) and DATE; last the ``history`` lines, after any HISTORY
    the input had.

    Parameters
    ----------
    model : HstrampModel
    nextend : int
        Number of extensions of the product.
    filename : str
        FILENAME of the product.
    history : sequence of str
        HISTORY lines of this run (the instrument's writer formats them).

    Returns
    -------
    astropy.io.fits.Header
    """
    header = cards_to_header(model.meta.headers.instance.get("primary"))
    entries = [entry for entry in meta_keywords(type(model))
               if entry.hdu == "PRIMARY" and entry.keyword not in WRITER_KEYWORDS]
    for entry in sorted(entries, key=lambda entry: entry.group):
        value = meta_value(model, entry)
        if value is None:
            continue
        comment = None
        if entry.comment is not None:
            current = header.comments[entry.keyword] if entry.keyword in header else None
            comment = _card_comment(model, entry, current)
        _write_keyword(header, entry.keyword, value, comment)
    header["NEXTEND"] = nextend
    header["FILENAME"] = filename
    header["HSTRAMPV"] = model.meta.calibration_software_version
    header["CAL_VER"] = (calibration_version(model), "hstramp version (not CALWF3/CALSTIS)")
    header["DATE"] = (datetime.now(UTC).strftime("%Y-%m-%d"),
                      "date this file was written (yyyy-mm-dd)")
    for line in history:
        header.add_history(line)
    return header


# --------------------------------------------------------------------------- writing
@contextlib.contextmanager
def long_values_allowed():
    """A context in which a long value (a reference path) may shorten its card's comment.

    Nothing but the comment is lost, so astropy's warning about it is not passed on.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Card is too long, comment will be truncated")
        yield


def primary_hdu(model, nextend, filename, history=()):
    """The product's primary HDU (:func:`primary_header`), verified (``fix+ignore``)."""
    hdu = fits.PrimaryHDU(header=primary_header(model, nextend, filename, history))
    with long_values_allowed():
        hdu.verify("fix+ignore")
    return hdu


def extension_template(model, skip=()):
    """The SCI header the exposure came with, less the keywords each product recomputes.

    Built, verified (astropy's ``fix+ignore``) and formatted once per product; every
    extension's header is a copy of it, which costs a fifth of building each header from
    the cards, and the product need not be verified again extension by extension when it
    is written.

    Parameters
    ----------
    model : HstrampModel
    skip : collection of str
        Keywords left out (each writer's per-extension keywords).
    """
    hdu = fits.ImageHDU(header=cards_to_header(model.meta.headers.instance.get("sci"),
                                               skip=skip))
    with long_values_allowed():
        hdu.verify("fix+ignore")
        hdu.header.tostring()  # format every card once; copies keep the formatted images
    return hdu.header


def image_hdu(template, name, ver, data, extra=None):
    """An image extension: a copy of ``template`` with EXTNAME, EXTVER and ``extra`` set."""
    hdu = fits.ImageHDU(data=data, header=template)
    header = hdu.header
    header["EXTNAME"] = name
    header["EXTVER"] = ver
    for keyword, value in (extra or {}).items():
        header[keyword] = value
    return hdu


def constant_keywords(shape, value, bunit):
    """The keywords of a constant extension of ``shape`` [ny, nx]: BUNIT, NPIX1, NPIX2,
    PIXVALUE, in that order."""
    return {"BUNIT": bunit, "NPIX1": shape[1], "NPIX2": shape[0], "PIXVALUE": value}


def constant_hdu(template, name, ver, shape, value, bunit):
    """A constant extension (no data; NPIX1, NPIX2 and PIXVALUE) of ``shape`` [ny, nx]."""
    return image_hdu(template, name, ver, None, constant_keywords(shape, value, bunit))


def dq_as_int16(dq):
    """A uint16 DQ array as the int16 the HST products store (same bits, no copy if C order)."""
    return np.ascontiguousarray(dq, dtype=np.uint16).view(np.int16)


def write_hdulists(products, overwrite=False, output_verify="fix+ignore"):
    """Write several products all-or-nothing: temporary files first, renamed only if all worked.

    Parameters
    ----------
    products : list of (HDUList or FitsProduct, path)
        A :class:`~hstramp.datamodels.fits_writer.FitsProduct` is written by its own
        ``write`` (the same bytes as its HDUList, without astropy's copies).
    overwrite : bool
        Replace existing files (refused otherwise, before anything is written).
    output_verify : str
        astropy's verification of every header while writing. Products whose headers were
        verified as they were built (:func:`primary_hdu`, :func:`extension_template`) are
        written with ``"ignore"``.
    """
    with staged_outputs([path for _hdulist, path in products], overwrite) as temporaries, \
            long_values_allowed():
        for (hdulist, path), tmp in zip(products, temporaries, strict=True):
            try:
                if hasattr(hdulist, "to_hdulist"):  # a FitsProduct
                    hdulist.write(tmp, output_verify=output_verify)
                    continue
                # DATASUM/CHECKSUM let a later run verify the product by content
                hdulist.verify(option=output_verify)
                hdulist.update_extend()
                add_checksums(hdulist)
                hdulist.writeto(tmp, overwrite=True, output_verify=output_verify)
            except OSError as exc:
                raise OutputFileError(f"writing {path} failed: {exc.strerror or exc}; "
                                      "nothing was written") from exc
    for _hdulist, path in products:
        log.info("wrote %s", path)


# --------------------------------------------------------------------------- checksums
_WORD = 0xFFFFFFFF
# ASCII punctuation between the digits and the letters, never used by the CHECKSUM encoding
_PUNCTUATION = frozenset(range(0x3A, 0x41)) | frozenset(range(0x5B, 0x61))


def checksum_stamp() -> str:
    """The time in the DATASUM and CHECKSUM comments (local time, to the second, as astropy)."""
    return datetime.now().isoformat()[:19]


def add_checksums(hdulist, stamp=None) -> None:
    """Set every HDU's DATASUM and CHECKSUM cards as ``writeto(checksum=True)`` would.

    The values, comments and card positions are astropy's; only the data sum is computed
    differently: straight from the native little-endian array (:func:`fits_datasum`), with
    no big-endian copy and no byte swap in place, at a tenth of astropy's cost. An HDU that
    sum does not cover (tables, scaled or unsigned data) gets astropy's own
    ``add_checksum``. Call it after the headers are final (verified, ``update_extend``):
    the CHECKSUM covers every header byte.

    Parameters
    ----------
    hdulist : iterable of astropy HDUs
    stamp : str, optional
        The time in the comments (default :func:`checksum_stamp`).
    """
    stamp = stamp or checksum_stamp()
    for hdu in hdulist:
        datasum = _image_datasum(hdu)
        if datasum is None:
            hdu.add_checksum()
            continue
        header = hdu.header
        header["DATASUM"] = (str(datasum), f"data unit checksum updated {stamp}")
        header.set("CHECKSUM", "0" * 16, f"HDU checksum updated {stamp}", before="DATASUM")
        header["CHECKSUM"] = header_checksum(header.tostring(), datasum)


def header_checksum(text, datasum) -> str:
    """The CHECKSUM value of a header whose text (CHECKSUM = 16 zeros, END, padding) is
    ``text`` (str or ASCII bytes), for data whose DATASUM is ``datasum``."""
    raw = text.encode("ascii") if isinstance(text, str) else text
    header_sum = _ones_complement_sum(np.frombuffer(raw, dtype=">u4"))
    return checksum_string(~_add32(header_sum, datasum) & _WORD)


def _image_datasum(hdu):
    """The DATASUM of an image HDU written as it is, or None when astropy must compute it."""
    if not isinstance(hdu, fits.PrimaryHDU | fits.ImageHDU):
        return None
    hdu.update_header()
    if "BZERO" in hdu.header or "BSCALE" in hdu.header:
        return None
    return fits_datasum(hdu.data)


def fits_datasum(data):
    """The FITS DATASUM of ``data`` as written (big-endian, zero-padded), or None.

    The ones' complement sum of the data's 32-bit big-endian words. For 4- and 8-byte items
    in native little-endian order, the big-endian words are the array's own little-endian
    32-bit words (in another order for 8-byte items, which a sum ignores); for 2-byte items
    the even items are the high halves, the odd ones the low halves. One pass over the
    array's memory, no copy. None for what this does not cover (1-byte or unsigned items,
    non-contiguous or big-endian arrays, a big-endian machine).
    """
    if data is None:
        return 0
    array = np.asarray(data)
    if not datasum_covers(array):
        return None
    return fold_datasum(wide_datasum(array.reshape(-1)))


def wide_datasum(flat) -> int:
    """The DATASUM of a 1-D run of items :func:`datasum_covers`, before its carries are folded
    (:func:`fold_datasum`): the sum of the 32-bit little-endian words for 4- and 8-byte
    items; for 2-byte items (the run starting at an even item of the array), the even
    items' sum shifted 16 bits up plus the odd items' sum. Sums of consecutive runs add up
    to the whole array's."""
    if flat.dtype.itemsize == 2:
        halves = flat.view("<u2")
        return ((int(np.add.reduce(halves[0::2], dtype=np.uint64)) << 16)
                + int(np.add.reduce(halves[1::2], dtype=np.uint64)))
    return int(np.add.reduce(flat.view("<u4"), dtype=np.uint64))


def fold_datasum(total: int) -> int:
    """A wide sum (:func:`wide_datasum`) as the 32-bit ones' complement DATASUM."""
    return _fold32(total)


def datasum_covers(array) -> bool:
    """True if :func:`fits_datasum` sums ``array`` itself (no sum computed here)."""
    dtype = array.dtype
    return (sys.byteorder == "little" and array.flags.c_contiguous and dtype.kind in "if"
            and dtype.itemsize in (2, 4, 8) and dtype.byteorder != ">")


def _ones_complement_sum(words) -> int:
    """The 32-bit ones' complement sum of big-endian 32-bit words."""
    return _fold32(int(np.add.reduce(words, dtype=np.uint64)))


def _fold32(total: int) -> int:
    """A wide sum folded to 32 bits, the carries added back at the bottom (end-around)."""
    while total >> 32:
        total = (total & _WORD) + (total >> 32)
    return total


def _add32(first: int, second: int) -> int:
    """Ones' complement addition of two 32-bit sums."""
    return _fold32(first + second)


def checksum_string(value: int) -> str:
    """The 16-character CHECKSUM encoding of a 32-bit value (the FITS checksum convention).

    Each byte, most significant first, becomes four characters of quarter value (the first
    one carrying the remainder), pairs nudged apart (one up, one down, same sum) until no
    character is ASCII punctuation; character ``j`` of byte ``i`` goes to place
    ``4 * j + i``, and the whole string is rotated right by one.
    """
    places = [0] * 16
    for byte_index, shift in enumerate((24, 16, 8, 0)):
        quarter, remainder = divmod((value >> shift) & 0xFF, 4)
        characters = [quarter + 0x30] * 4
        characters[0] += remainder
        while any(characters[j] in _PUNCTUATION or characters[j + 1] in _PUNCTUATION
                  for j in (0, 2)):
            for j in (0, 2):
                if characters[j] in _PUNCTUATION or characters[j + 1] in _PUNCTUATION:
                    characters[j] += 1
                    characters[j + 1] -= 1
        for j, character in enumerate(characters):
            places[4 * j + byte_index] = character
    text = bytes(places).decode("ascii")
    return text[-1] + text[:-1]
