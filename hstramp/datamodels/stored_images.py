"""Image extensions read from the file straight into the reader's arrays.

astropy gives an HDU's image as a new big-endian array (and, for unsigned integers stored
with BZERO = 2**(BITPIX-1), a second, converted one) which a reader then copies into its own
array: two or three passes over the data and one or two temporaries per extension. When the
stored bytes are the values themselves (no BSCALE, no BLANK, no BZERO but the unsigned
integers' offset), :class:`StoredImages` reads them into one buffer and converts them into the
reader's array in one pass: the values :func:`~hstramp.datamodels.fits_io.read_extension_into`
gives, from the same bytes. Anything else (scaled values, a compressed or table HDU, an
HDUList made in memory, a shape or type the reader refuses) goes through
:func:`~hstramp.datamodels.fits_io.read_extension_into` and astropy, which also report the
errors.

The HDUList must be one read from a file (:func:`~hstramp.datamodels.fits_io.open_hdulist`),
whose images the caller has not replaced in memory: the bytes come from the file.
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from hstramp.datamodels.fits_io import read_extension_into
from hstramp.errors import InputFileError

__all__ = ["StoredImages", "stored_dtype"]

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
    """The sign bit of big-endian unsigned ``dtype`` as the native view of its bytes holds it."""
    return np.array([1 << (8 * dtype.itemsize - 1)], dtype=dtype).view(
        dtype.newbyteorder("="))[0]


class StoredImages:
    """Reads image extensions of an HDUList read from a file, from that file.

    Use as a context manager (the file is opened once, on the first read, and closed at the
    end).
    """

    def __init__(self):
        self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def read_into(self, hdu, out, path) -> bool:
        """Fill ``out`` with ``hdu``'s image, as :func:`read_extension_into` does.

        Parameters
        ----------
        hdu : astropy.io.fits.ImageHDU
            An extension of the HDUList.
        out : ndarray
            Native array of the image's shape.
        path : str or Path
            The file the HDUList was read from (the bytes are read from it).

        Returns
        -------
        bool
            Whether the file stores the image as floating-point values (integers, scaled or
            not, cannot hold NaN or infinity).

        Raises
        ------
        InputFileError
            As :func:`read_extension_into`; a file shorter than its headers say.
        """
        place = self._place(hdu, out)
        if place is None:
            return read_extension_into(hdu, out, path)
        offset, dtype = place
        if self._handle is None:
            self._handle = open(path, "rb")  # closed by __exit__
        buffer = np.empty(out.shape, dtype=dtype)
        self._handle.seek(offset)
        if self._handle.readinto(buffer.view(np.uint8).reshape(-1)) != buffer.nbytes:
            raise InputFileError(f"{path} is not a readable FITS file: it ends inside the "
                                 f"data of extension {hdu.name},{hdu.ver}")
        if dtype.kind == "u" and dtype.itemsize > 1:  # astropy's unsigned: flip the sign bit
            native = buffer.view(dtype.newbyteorder("="))
            np.bitwise_xor(native, _sign_bit(dtype), out=native)
        np.copyto(out, buffer, casting="unsafe")
        return dtype.kind == "f"

    def _place(self, hdu, out):
        """``(offset, dtype)`` of ``hdu``'s image in the file, or None when it is read through
        astropy (see the module's docstring)."""
        if type(hdu) not in (fits.ImageHDU, fits.PrimaryHDU):
            return None
        info = hdu.fileinfo()  # the HDU's own: HDUList.fileinfo checks every HDU each call
        dtype = stored_dtype(hdu.header)
        if info is None or info.get("file") is None or dtype is None:
            return None
        if hdu.shape != out.shape or (out.dtype.kind in "iu" and dtype.kind == "f"):
            return None  # read_extension_into's errors
        return info["datLoc"], dtype
