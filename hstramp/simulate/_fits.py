"""FITS helpers of the simulator: constant extensions, tables and atomic, deterministic writes."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.datamodels.atomic import atomic_output

log = logging.getLogger(__name__)

__all__ = [
    "binary_table",
    "constant_extension",
    "header_from_cards",
    "image_extension",
    "primary_header",
    "write_hdulist",
]

#: BITPIX that STScI files carry on data-less HDUs (astropy would write 8)
_DATALESS_BITPIX = 16
_BLOCK = 2880
#: astropy drops GROUPS from primary headers; it is written under this name and renamed
_GROUPS_PLACEHOLDER = "HSTRGRPS"


@functools.lru_cache(maxsize=4096, typed=True)
def _card_image(keyword: str, value=None, comment: str = "") -> str:
    """The 80-column image of a card (cached: building astropy Cards dominates writing)."""
    card = fits.Card(keyword, value) if keyword == "COMMENT" else fits.Card(keyword, value,
                                                                              comment)
    return card.image


def header_from_cards(cards) -> fits.Header:
    """A header made of ``(keyword, value, comment)`` cards (``COMMENT`` takes two).

    Parameters
    ----------
    cards : iterable of tuple
        Cards in order.

    Returns
    -------
    astropy.io.fits.Header
    """
    cards = [(_GROUPS_PLACEHOLDER, *card[1:]) if card[0] == "GROUPS" else card
             for card in cards]
    return fits.Header.fromstring("".join(_card_image(*card) for card in cards))


def primary_header(cards) -> fits.Header:
    """A primary header (no data) holding ``cards`` after the mandatory keywords.

    Parameters
    ----------
    cards : iterable of tuple
        ``(keyword, value, comment)`` triples, in order.

    Returns
    -------
    astropy.io.fits.Header
    """
    return header_from_cards([("SIMPLE", True, "conforms to FITS standard"),
                              ("BITPIX", 8, "array data type"),
                              ("NAXIS", 0, "number of array dimensions"),
                              ("EXTEND", True, ""), *cards])


def _extension_cards(extname: str, extver: int, cards) -> list:
    return [("INHERIT", True, "inherit the primary header"),
            ("EXTNAME", extname, "extension name"),
            ("EXTVER", int(extver), "extension version number"), *cards]


def constant_extension(extname: str, extver: int, shape, value, cards=()) -> fits.ImageHDU:
    """A constant-value image extension (``NAXIS = 0`` with ``NPIX1``, ``NPIX2``, ``PIXVALUE``).

    Parameters
    ----------
    extname : str
        EXTNAME.
    extver : int
        EXTVER.
    shape : tuple of int
        ``(ny, nx)`` of the image it stands for.
    value : int or float
        PIXVALUE.
    cards : iterable of tuple
        Further ``(keyword, value, comment)`` cards; NPIX1, NPIX2 and PIXVALUE go right
        after BUNIT (as in STScI files), or at the end.

    Returns
    -------
    astropy.io.fits.ImageHDU
    """
    cards = list(cards)
    constant = [("NPIX1", int(shape[1]), "length of constant array axis 1"),
                ("NPIX2", int(shape[0]), "length of constant array axis 2"),
                ("PIXVALUE", value, "values of pixels in constant array")]
    at = next((i + 1 for i, card in enumerate(cards) if card[0] == "BUNIT"), len(cards))
    header = header_from_cards([("XTENSION", "IMAGE", "Image extension"),
                                ("BITPIX", 16, "array data type"),
                                ("NAXIS", 0, "number of array dimensions"),
                                ("PCOUNT", 0, "number of parameters"),
                                ("GCOUNT", 1, "number of groups"),
                                *_extension_cards(extname, extver,
                                                  cards[:at] + constant + cards[at:])])
    return fits.ImageHDU(header=header)


def binary_table(columns, name: str) -> fits.BinTableHDU:
    """A binary table extension from ``(name, format, array)`` columns.

    Parameters
    ----------
    columns : iterable of tuple
        ``(column name, FITS format, values)``.
    name : str
        EXTNAME.

    Returns
    -------
    astropy.io.fits.BinTableHDU
    """
    return fits.BinTableHDU.from_columns([fits.Column(name=n, format=f, array=a)
                                          for n, f, a in columns], name=name)


def image_extension(extname: str, extver: int, data: np.ndarray, cards=()) -> fits.ImageHDU:
    """An image extension with EXTNAME/EXTVER, INHERIT and ``cards``.

    Parameters
    ----------
    extname : str
        EXTNAME.
    extver : int
        EXTVER.
    data : numpy.ndarray
        The image (uint16 is stored as int16 with BZERO 32768 by astropy).
    cards : iterable of tuple
        Further ``(keyword, value, comment)`` cards.

    Returns
    -------
    astropy.io.fits.ImageHDU
    """
    return fits.ImageHDU(data=data, header=header_from_cards(
        _extension_cards(extname, extver, cards)))


def _header_cards(handle, start: int):
    """Cards of the header starting at byte ``start`` and the byte where it ends."""
    cards, position = [], start
    while True:
        handle.seek(position)
        block = handle.read(_BLOCK)
        if len(block) < _BLOCK:
            raise RuntimeError(f"truncated FITS header at byte {start}")
        position += _BLOCK
        for i in range(0, _BLOCK, 80):
            card = block[i : i + 80]
            cards.append(card)
            if card.startswith(b"END     ") or card.rstrip() == b"END":
                return cards, position


def _card_int(cards, keyword: bytes, default: int = 0) -> int:
    for card in cards:
        if card[:8].rstrip() == keyword:
            return int(card[10:].split(b"/")[0])
    return default


def _finish_headers(path: Path) -> None:
    """Give data-less HDUs BITPIX = 16 and restore GROUPS, in place (no data moves)."""
    new_card = fits.Card("BITPIX", _DATALESS_BITPIX, "array data type").image.encode("ascii")
    size = path.stat().st_size
    with path.open("r+b") as handle:
        start = 0
        while start < size:
            cards, data_start = _header_cards(handle, start)
            _restore_groups(handle, start, cards)
            naxis = _card_int(cards, b"NAXIS")
            if naxis == 0:
                if not cards[1].startswith(b"BITPIX"):
                    raise RuntimeError(f"unexpected header layout in {path}")
                handle.seek(start + 80)
                handle.write(new_card)
                nbytes = 0
            else:
                bitpix = abs(_card_int(cards, b"BITPIX"))
                npix = int(np.prod([_card_int(cards, f"NAXIS{k}".encode())
                                    for k in range(1, naxis + 1)]))
                nbytes = bitpix // 8 * (npix + _card_int(cards, b"PCOUNT"))
            start = data_start + -(-nbytes // _BLOCK) * _BLOCK


def _restore_groups(handle, start: int, cards) -> None:
    placeholder = _GROUPS_PLACEHOLDER.encode("ascii")
    for i, card in enumerate(cards):
        if card[:8] == placeholder:
            handle.seek(start + 80 * i)
            handle.write(b"GROUPS  ")


def _umask_permissions(path: Path) -> None:
    """Give a temporary file (mkstemp makes it 0600) the permissions of a normal new file."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def write_hdulist(hdul: fits.HDUList, path, output_verify: str = "ignore") -> Path:
    """Write ``hdul`` to ``path`` atomically (temporary file, then rename), overwriting.

    Data-less HDUs get BITPIX = 16 and a ``GROUPS`` card survives, like STScI products.
    Nothing time-dependent is added, so the same HDUs give byte-identical files.

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList
        What to write.
    path : str or Path
        Destination.
    output_verify : str
        astropy's verification on writing. The simulator's headers are fixed and checked by
        the tests (``verify('exception')`` on every file), so the per-card verification is
        skipped by default: it costs more than writing the data.

    Returns
    -------
    Path
    """
    path = Path(path)
    with atomic_output(path, overwrite=True) as tmp:
        hdul.writeto(tmp, overwrite=True, output_verify=output_verify)
        _finish_headers(tmp)
        _umask_permissions(tmp)
    log.debug("wrote %s", path)
    return path
