"""Ways to spoil a WFC3/IR MultiAccum file, shared by the reader tests and the bad-input matrix.

Each helper changes the file at ``path`` in place. :data:`BAD_FILES` maps a case name to
``(spoil, message)``: ``spoil(path)`` makes a good 9-read raw bad, and ``message`` is a regular
expression the reader's :class:`~hstramp.errors.InputFileError` must match.
"""

import numpy as np
from astropy.io import fits

__all__ = ["BAD_FILES", "drop_extensions", "edit_fits", "set_sci", "truncate"]


def edit_fits(path, edit):
    """Open ``path`` for update and call ``edit(hdulist)``."""
    with fits.open(path, mode="update") as hdul:
        edit(hdul)


def truncate(path):
    """Cut the file in half, as an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def drop_extensions(path, doomed):
    """Rewrite the file without the extensions whose ``(EXTNAME, EXTVER)`` is in ``doomed``."""
    with fits.open(path) as hdul:
        keep = [h.copy() for h in hdul if (h.name, h.ver) not in doomed]
    fits.HDUList(keep).writeto(path, overwrite=True)


def set_sci(path, extver, change):
    """Replace extension ``SCI,extver`` by ``change(data as float32)`` (written as float32)."""
    def edit(hdul):
        hdul["SCI", extver].data = change(hdul["SCI", extver].data.astype(np.float32))

    edit_fits(path, edit)


BAD_FILES = {
    "not FITS": (lambda p: p.write_text("SIMPLE = nonsense\n" * 10), "not a readable FITS"),
    "truncated": (truncate, "not a readable FITS"),
    "other instrument": (lambda p: edit_fits(p, lambda h: h[0].header.set("INSTRUME", "ACS")),
                         "INSTRUME is 'ACS'"),
    "UVIS exposure": (lambda p: edit_fits(p, lambda h: h[0].header.set("DETECTOR", "UVIS")),
                      "DETECTOR is 'UVIS'"),
    "NSAMP disagrees": (lambda p: edit_fits(p, lambda h: h[0].header.set("NSAMP", 10)),
                        "NSAMP = 10 but the file has 9 SCI"),
    "missing TIME extension": (lambda p: drop_extensions(p, {("TIME", 4)}),
                               "extension TIME,4 is missing"),
    "non-increasing SAMPTIME": (
        lambda p: edit_fits(p, lambda h: h["SCI", 3].header.set("SAMPTIME", 1.0e4)),
        "SAMPTIME does not increase"),
    "unknown switch": (lambda p: edit_fits(p, lambda h: h[0].header.set("DARKCORR", "MAYBE")),
                       "DARKCORR = 'MAYBE'"),
    "missing NSAMP": (lambda p: edit_fits(p, lambda h: h[0].header.remove("NSAMP")),
                      "NSAMP is missing"),
}
