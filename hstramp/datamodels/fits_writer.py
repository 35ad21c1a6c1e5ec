"""Image products written straight to FITS: the bytes of astropy's ``writeto``, at less cost.

A :class:`FitsProduct` is a product as a recipe: the primary HDU (built and verified by
:func:`~hstramp.datamodels.fits_io.primary_hdu`) and its image extensions, each a header
template, EXTNAME, EXTVER, the keywords it adds and its array (or a constant extension's
NPIX1, NPIX2 and PIXVALUE). :meth:`FitsProduct.to_hdulist` turns the recipe into the astropy
HDUList the products were always made of (:func:`~hstramp.datamodels.fits_io.image_hdu` for
every extension); :meth:`FitsProduct.write` writes the same file without it:

* **Headers**: astropy builds, verifies and checksums the header of the *first* extension
  of each kind (same template, EXTNAME, array type and shape, same added keywords); every
  other extension of that kind has the same cards in the same places and differs only in
  values, so its header is that card list with the changed values' cards formatted anew by
  astropy's :class:`~astropy.io.fits.Card` (which is how ``header[keyword] = value``
  formats them). No header copy per extension (85 of them for a 16-read ima, 0.1-0.2 s).
* **Data**: each array is converted to big-endian once, a megabyte at a time into a reused
  buffer, and written from there (astropy swaps the model's own array in place,
  writes it and swaps it back: two passes and a write that mutates the model meanwhile).
  The compiled ``fitsdata`` kernel sums the DATASUM in the same pass, so an extension's
  data are written first, behind room left for its header, and the header after them.
* **Checksums**: DATASUM from the native array while it is converted
  (:func:`~hstramp.datamodels.fits_io.wide_datasum` on the NumPy path), CHECKSUM over the
  header text, the cards and comments of :func:`~hstramp.datamodels.fits_io.add_checksums`.

The file is byte for byte the one ``write_hdulists`` writes from :meth:`to_hdulist`
(``tests/datamodels/test_fits_writer.py``). What this fast path does not cover (data that
FITS stores scaled, such as unsigned integers, or a big-endian machine) is written through
the HDUList. Writing goes through :func:`~hstramp.datamodels.fits_io.write_hdulists`, which
takes a :class:`FitsProduct` wherever it takes an HDUList: all or nothing, as before.
"""

from __future__ import annotations

import functools
import io
import logging
import sys
from dataclasses import dataclass, field

import numpy as np
from astropy.io import fits

from hstramp.core import native
from hstramp.datamodels.fits_io import (
    add_checksums,
    checksum_stamp,
    constant_keywords,
    datasum_covers,
    fold_datasum,
    header_checksum,
    image_hdu,
    long_values_allowed,
    wide_datasum,
)

__all__ = ["BLOCK", "CHUNK_BYTES", "Extension", "FitsProduct"]

log = logging.getLogger(__name__)

#: the FITS block: headers and data are padded to a multiple of it
BLOCK = 2880
_END = "END".ljust(80)
#: bytes converted to big-endian at a time (the buffer :meth:`FitsProduct.write` holds)
CHUNK_BYTES = 1 << 20
#: keywords that make astropy scale the data it writes (left to the HDUList)
_SCALING = frozenset({"BZERO", "BSCALE"})


@dataclass
class Extension:
    """One image extension of a :class:`FitsProduct`, as :func:`image_hdu` would make it.

    Attributes
    ----------
    template : astropy.io.fits.Header
        The common header (:func:`~hstramp.datamodels.fits_io.extension_template`).
    name : str
        EXTNAME.
    ver : int
        EXTVER.
    data : numpy.ndarray or None
        The image; None for a constant extension (its NPIX1, NPIX2, PIXVALUE in ``extra``).
    extra : dict
        Keywords set after EXTNAME and EXTVER, in this order.
    """

    template: fits.Header
    name: str
    ver: int
    data: np.ndarray | None
    extra: dict = field(default_factory=dict)

    def keywords(self):
        """Every keyword this extension sets on its template copy, in order, with its value."""
        return {"EXTNAME": self.name, "EXTVER": self.ver, **self.extra}

    def kind(self):
        """What extensions sharing one header layout have in common."""
        data = self.data
        array = None if data is None else (data.dtype.str, data.shape)
        return id(self.template), self.name, array, tuple(self.extra)

    def hdu(self):
        """The astropy HDU (:func:`~hstramp.datamodels.fits_io.image_hdu`)."""
        return image_hdu(self.template, self.name, self.ver, self.data, self.extra)


class FitsProduct:
    """A FITS image product: a primary header and image extensions, written without astropy's
    HDUList (see the module docstring).

    Parameters
    ----------
    primary : astropy.io.fits.PrimaryHDU
        Header only (no data), e.g. from :func:`~hstramp.datamodels.fits_io.primary_hdu`.
    """

    def __init__(self, primary):
        self.primary = primary
        self.extensions: list[Extension] = []

    def __len__(self):
        return 1 + len(self.extensions)

    def add_image(self, template, name, ver, data, extra=None):
        """Add an image extension (arguments of :func:`~hstramp.datamodels.fits_io.image_hdu`).

        The array is not copied: it must not change until the product is written.
        """
        self.extensions.append(Extension(template, name, ver, data, dict(extra or {})))

    def add_constant(self, template, name, ver, shape, value, bunit):
        """Add a constant extension (no data; NPIX1, NPIX2, PIXVALUE) of ``shape`` [ny, nx]."""
        self.add_image(template, name, ver, None, constant_keywords(shape, value, bunit))

    def to_hdulist(self):
        """The product as an astropy HDUList (every extension an HDU of its own)."""
        return fits.HDUList([self.primary, *(extension.hdu() for extension in self.extensions)])

    def fast_path(self):
        """True when :meth:`write` writes the bytes itself (else through the HDUList)."""
        return self.primary.data is None and sys.byteorder == "little" and all(
            _writes_directly(extension.data) and not _SCALING & set(extension.extra)
            for extension in self.extensions)

    def write(self, path, output_verify="fix+ignore"):
        """Write the product to ``path`` (a new file) with DATASUM and CHECKSUM everywhere.

        The bytes are those of ``add_checksums`` and ``writeto`` on :meth:`to_hdulist`
        after ``verify(output_verify)`` and ``update_extend``. The caller makes it atomic
        (:func:`~hstramp.datamodels.fits_io.write_hdulists`).
        """
        if not self.fast_path():
            hdulist = self.to_hdulist()
            hdulist.verify(option=output_verify)
            hdulist.update_extend()
            add_checksums(hdulist)
            hdulist.writeto(path, overwrite=True, output_verify=output_verify)
            return
        stamp = checksum_stamp()
        headers = _Headers(output_verify, stamp)
        with open(path, "wb") as handle:
            handle.write(self._primary_bytes(output_verify, stamp))
            buffers = {}
            for extension in self.extensions:
                if extension.data is None:
                    handle.write(headers.header(extension, 0))
                    continue
                # the data go first, behind room for the header, which needs their DATASUM
                cards = headers.cards(extension)
                start = handle.tell()
                handle.seek(headers.size(extension, cards), io.SEEK_CUR)
                datasum = _write_big_endian(handle, extension.data, buffers)
                end = handle.tell()
                handle.seek(start)
                handle.write(headers.finish(extension, cards, datasum))
                handle.seek(end)

    def _primary_bytes(self, output_verify, stamp):
        """The primary header as ``writeto`` writes it (verified, EXTEND, checksums)."""
        hdulist = fits.HDUList([self.primary, *([fits.ImageHDU()] if self.extensions else [])])
        hdulist.verify(option=output_verify)
        hdulist.update_extend()
        add_checksums(hdulist[:1], stamp)
        return self.primary.header.tostring().encode("ascii")


def _writes_directly(data):
    """True for what :meth:`FitsProduct.write` writes itself: no data, or an array FITS
    stores as it is (signed integers of 2, 4, 8 bytes, floats of 4 or 8) whose DATASUM
    :func:`~hstramp.datamodels.fits_io.wide_datasum` (or the ``fitsdata`` kernel) sums
    (:func:`datasum_covers`)."""
    if data is None:
        return True
    return isinstance(data, np.ndarray) and data.size > 0 and datasum_covers(data)


class _Headers:
    """Extension headers by kind: astropy's for the first of a kind, its cards for the rest."""

    def __init__(self, output_verify, stamp):
        self.output_verify, self.stamp = output_verify, stamp
        self.layouts = {}

    def layout(self, extension):
        """The :class:`_Layout` of ``extension``'s kind (made from the first of a kind)."""
        layout = self.layouts.get(extension.kind())
        if layout is None:
            layout = self.layouts[extension.kind()] = _Layout(extension, self.output_verify)
        return layout

    def cards(self, extension):
        """The card images of ``extension``'s header, its own values in, checksums not yet."""
        return self.layout(extension).cards(extension)

    def size(self, extension, cards):
        """The length in bytes of the header of these ``cards`` (END and padding included);
        the checksums' values do not change it."""
        return len(self.layout(extension).text(cards))

    def finish(self, extension, cards, datasum):
        """The header bytes of these ``cards`` with the checksums of data summing to
        ``datasum``."""
        return self.layout(extension).finish(cards, datasum, self.stamp)

    def header(self, extension, datasum):
        """The header bytes of ``extension`` (END and padding included) with its checksums."""
        return self.finish(extension, self.cards(extension), datasum)


class _Layout:
    """The card images of one kind of extension, and where its changing values sit."""

    def __init__(self, extension, output_verify):
        hdu = extension.hdu()
        with long_values_allowed():
            hdu.verify(option=output_verify)
            hdu.update_header()
            add_checksums([hdu], "0" * 19)  # places the two cards; values set per extension
        header = hdu.header
        self.images = [card.image for card in header.cards]
        self.place = {card.keyword: index for index, card in enumerate(header.cards)}
        self.values = {keyword: header[keyword] for keyword in extension.keywords()}
        self.comments = {keyword: header.comments[keyword] for keyword in extension.keywords()}

    def cards(self, extension):
        """The card images with ``extension``'s values (a long string value may take
        CONTINUE cards, so the header's length is known only from them)."""
        images = list(self.images)
        for keyword, value in extension.keywords().items():
            known = self.values[keyword]
            if type(value) is not type(known) or value != known:
                images[self.place[keyword]] = card_image(keyword, value,
                                                         self.comments[keyword])
        return images

    @staticmethod
    def text(images):
        """The header bytes of ``images``: the cards, END, the padding."""
        return _padded("".join(images) + _END)

    def finish(self, images, datasum, stamp):
        """The header bytes of ``images`` (from :meth:`cards`) with DATASUM and CHECKSUM."""
        images = list(images)
        images[self.place["DATASUM"]] = fits.Card(
            "DATASUM", str(datasum), f"data unit checksum updated {stamp}").image
        checksum = self.place["CHECKSUM"]
        comment = f"HDU checksum updated {stamp}"
        images[checksum] = card_image("CHECKSUM", "0" * 16, comment)
        images[checksum] = fits.Card("CHECKSUM", header_checksum(self.text(images), datasum),
                                     comment).image
        return self.text(images)


def card_image(keyword, value, comment):
    """``fits.Card(keyword, value, comment).image``, remembered for a card met before.

    A product's extensions repeat many cards (each imset's EXTVER in its five headers, the
    units, the constant extensions' values, the zeroed CHECKSUM of every header): astropy
    builds each only once. The value's type and ``repr`` are part of the key, so that 1,
    1.0 and True, or 0.0 and -0.0, which compare equal, keep their own images.
    """
    return _card_image(keyword, type(value), repr(value), value, comment)


@functools.lru_cache(maxsize=4096)
def _card_image(keyword, _type, _text, value, comment):
    return fits.Card(keyword, value, comment).image


def _padded(text):
    """Header text padded with spaces to a whole number of blocks, as bytes."""
    return text.ljust(-(-len(text) // BLOCK) * BLOCK).encode("ascii")


def _write_big_endian(handle, data, buffers):
    """Write ``data`` big-endian, padded with zeros, and return its DATASUM.

    One pass over the array a chunk at a time: each chunk is converted into a reused buffer
    of :data:`CHUNK_BYTES` (an even number of items, so that 2-byte items keep their places
    in the 32-bit words summed) and written from there, so writing holds no copy of an
    array. The compiled ``fitsdata`` kernel swaps and sums in the same pass; the NumPy path
    sums each chunk (:func:`~hstramp.datamodels.fits_io.wide_datasum`) and then swaps it.
    """
    flat = data.reshape(-1)  # C-contiguous (fast path): a view
    target = data.dtype.newbyteorder(">")
    buffer = buffers.get(target.str)
    if buffer is None:
        items = max(2, CHUNK_BYTES // target.itemsize // 2 * 2)
        buffer = buffers[target.str] = np.empty(items, target)
    compiled = native.kernel("fitsdata")
    total = 0
    for start in range(0, flat.size, buffer.size):
        part = buffer[:min(buffer.size, flat.size - start)]
        source = flat[start:start + part.size]
        if compiled is None:
            total += wide_datasum(source)
            np.copyto(part, source, casting="equiv")
        else:
            total += compiled.big_endian(source, part.view(np.uint8))
        handle.write(part.view(np.uint8))
    remainder = data.nbytes % BLOCK
    if remainder:
        handle.write(bytes(BLOCK - remainder))
    return fold_datasum(total)
