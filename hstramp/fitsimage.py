"""Image extensions read from the file straight into native arrays (both instruments, every
reader: science files and reference files).

astropy gives an HDU's image as a new big-endian array (and, for unsigned integers stored
with BZERO = 2**(BITPIX-1), a second, converted one) which a reader then byte-swaps or copies
into its own array: two or three passes over the data and a temporary per extension. When
the stored bytes are the values themselves (no BSCALE, no BLANK, no BZERO but the unsigned
integers' offset), :class:`StoredImages` reads them into one buffer and converts them into
the reader's array in one pass: astropy's values, from the same bytes. Anything else (scaled
values, a compressed file or HDU, a table, an HDU made in memory, an array of another
shape, floats into an integer array) is not read here (``None``): the caller reads it
through astropy, which also reports the errors.

The HDU must be one read from a file that the caller has not changed in memory: the bytes
come from the file.
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from hstramp.errors import HstrampError

__all__ = ["FITS_START", "StoredImages", "stored_dtype"]

#: the HDU classes whose header describes the stored bytes (a CompImageHDU's describes the image)
_IMAGE_HDUS = (fits.ImageHDU, fits.PrimaryHDU)
#: how a FITS file begins (a compressed one does not)
FITS_START = b"SIMPLE  ="
#: BITPIX -> the big-endian dtype of the stored values
_BITPIX_DTYPES = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


def stored_dtype(header):
    """The dtype of an image's values when they are its stored bytes, else None.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The HDU's header.

    Returns
    -------
    numpy.dtype or None
        Big-endian: BITPIX's type, or the unsigned type of BITPIX 16, 32 or 64 with BZERO =
        2**(BITPIX-1) (astropy's unsigned integers; those bytes are the signed values, so the
        sign bit is flipped when they are read). None when astropy would scale the values
        (BSCALE other than 1, another BZERO, a BLANK) or BITPIX is not a FITS one.
    """
    bitpix = header.get("BITPIX")
    stored = _BITPIX_DTYPES.get(bitpix) if type(bitpix) is int else None
    if stored is None or "BLANK" in header or header.get("BSCALE", 1) != 1:
        return None
    bzero = header.get("BZERO", 0)
    if bzero == 0:
        return np.dtype(stored)
    if bitpix in (16, 32, 64) and bzero == 2 ** (bitpix - 1):
        return np.dtype(stored.replace("i", "u"))
    return None


def _sign_bit(dtype):
    """The sign bit of unsigned ``dtype`` as the native view of its bytes holds it."""
    return np.array([1 << (8 * dtype.itemsize - 1)], dtype=dtype).view(
        dtype.newbyteorder("="))[0]


class StoredImages:
    """Reads image extensions of an HDUList read from a file, from that file.

    Use as a context manager (the file is opened once, on the first read, and closed at the
    end).
    """

    def __init__(self):
        self._handle = self._path = None
        self._plain = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def read_into(self, hdu, out, path, error=HstrampError) -> bool | None:
        """Fill ``out`` with ``hdu``'s image (astropy's values cast to ``out``'s dtype, as
        ``numpy.copyto(..., casting="unsafe")``), when it can be read here.

        Parameters
        ----------
        hdu : astropy.io.fits.ImageHDU
            An extension of the HDUList.
        out : ndarray
            Native array of the image's shape.
        path : str or Path
            The file the HDUList was read from (the bytes are read from it).
        error : callable
            Makes the exception raised from its message (the caller's error class).

        Returns
        -------
        bool or None
            Whether the file stores the image as floating-point values; None when it was not
            read (the module's docstring says when), ``out`` untouched.

        Raises
        ------
        HstrampError
            ``error(message)``: the file ends inside the image (it was cut after it was
            opened; astropy refuses a file cut before), or cannot be read again.
        """
        place = self._place(hdu, out)
        if place is None:
            return None
        offset, dtype = place
        # the bytes go straight into ``out`` when it holds the stored type (swapped there),
        # else into a buffer converted into ``out``
        direct = out.dtype == dtype.newbyteorder("=") and out.flags.c_contiguous
        try:
            if not self._plain_file(path):
                return None
            target = out if direct else np.empty(out.shape, dtype=dtype)
            self._handle.seek(offset)
            count = self._handle.readinto(target.view(np.uint8).reshape(-1))
        except OSError as exc:  # the file went away or became unreadable since it was opened
            raise error(f"{path} is not a readable FITS file: {exc}") from exc
        if count != target.nbytes:
            raise error(f"{path} is not a readable FITS file: it ends inside the data of "
                        f"extension {hdu.name},{hdu.ver}")
        native = target.view(dtype.newbyteorder("="))  # the stored bytes, native-typed
        if direct and not dtype.isnative:
            native.byteswap(inplace=True)
            dtype = native.dtype
        if dtype.kind == "u" and dtype.itemsize > 1:  # astropy's unsigned: flip the sign bit
            np.bitwise_xor(native, _sign_bit(dtype), out=native)
        if not direct:
            np.copyto(out, target, casting="unsafe")
        return dtype.kind == "f"

    def _plain_file(self, path) -> bool:
        """Whether ``path`` is a FITS file as stored (opened once per file, closed by
        ``__exit__``); a compressed one (``.fits.gz``: astropy's offsets are in the
        uncompressed stream) is not."""
        if self._handle is None or self._path != path:
            self.__exit__()
            self._handle, self._path = open(path, "rb"), path
            self._plain = self._handle.read(len(FITS_START)) == FITS_START
        return self._plain

    def read(self, hdu, path, error=HstrampError):
        """``hdu``'s image as a new native array of its stored type (astropy's dtype, in native
        byte order), or None when it is not read here.

        Parameters
        ----------
        hdu : astropy.io.fits.ImageHDU
            An image extension read from ``path``.
        path : str or Path
            The file.
        error : callable
            As :meth:`read_into`.

        Returns
        -------
        numpy.ndarray or None
        """
        dtype = stored_dtype(hdu.header)  # the rest of the checks: read_into's
        if dtype is None or not getattr(hdu, "shape", ()):
            return None
        out = np.empty(hdu.shape, dtype.newbyteorder("="))
        return out if self.read_into(hdu, out, path, error) is not None else None

    def _place(self, hdu, out):
        """``(offset, dtype)`` of ``hdu``'s image in the file, or None when it is read through
        astropy (see the module's docstring)."""
        if type(hdu) not in _IMAGE_HDUS or not hdu.shape:  # no data: a constant extension
            return None
        info = hdu.fileinfo()  # the HDU's own: HDUList.fileinfo checks every HDU each call
        dtype = stored_dtype(hdu.header)
        if info is None or info.get("file") is None or dtype is None:
            return None
        if hdu.shape != out.shape or (out.dtype.kind in "iu" and dtype.kind == "f"):
            return None  # the caller's reader names the error
        return info["datLoc"], dtype
