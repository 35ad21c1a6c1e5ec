"""The products' DATASUM and CHECKSUM: hstramp's fast data sum against astropy's own."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.datamodels.fits_io import add_checksums, fits_datasum, write_hdulists
from tests.fits_bytes import masked_bytes


def astropy_datasum(array):
    hdu = fits.ImageHDU(array.copy())
    hdu.add_datasum()
    return int(hdu.header["DATASUM"])


@pytest.mark.parametrize("dtype", ["<f4", "<f8", "<i2", "<i4", "<i8"])
@pytest.mark.parametrize("size", [1, 2, 3, 7, 2880, 1014 * 37])
def test_datasum_is_astropys(dtype, size):
    rng = np.random.default_rng(size)
    array = (rng.standard_normal(size) * 3e4).astype(dtype)
    assert fits_datasum(array) == astropy_datasum(array)
    assert fits_datasum(array.reshape(1, -1)) == astropy_datasum(array.reshape(1, -1))


@pytest.mark.parametrize("fill", [0, -1, 0x7FFF, -0x8000])
def test_datasum_at_the_folding_edges(fill):
    # all-ones words are the ones' complement "minus zero"; carries wrap many times
    for dtype in ("<i2", "<i4", "<i8"):
        array = np.full((64, 45), fill, dtype=dtype)
        assert fits_datasum(array) == astropy_datasum(array)


def test_datasum_leaves_the_rest_to_astropy():
    assert fits_datasum(np.zeros(4, dtype=np.uint16)) is None  # written with BZERO
    assert fits_datasum(np.zeros(4, dtype=">f4")) is None
    assert fits_datasum(np.zeros((4, 4), dtype="<f4")[:, ::2]) is None
    assert fits_datasum(None) == 0


def a_product():
    rng = np.random.default_rng(18)
    header = fits.Header([("TELESCOP", "HST"), ("ROOTNAME", "ibxx01abq")])
    table = fits.BinTableHDU.from_columns([fits.Column("A", "E", array=rng.random(5))])
    return fits.HDUList([
        fits.PrimaryHDU(header=header),
        fits.ImageHDU(rng.standard_normal((31, 17)).astype(np.float32), name="SCI"),
        fits.ImageHDU(rng.integers(-9, 9, (31, 17)).astype(np.int16), name="DQ"),
        fits.ImageHDU(rng.random(5), name="TIME"),
        fits.ImageHDU(rng.integers(0, 60000, (3, 5)).astype(np.uint16), name="SAMP"),
        fits.ImageHDU(None, name="ERR"),
        table,
    ])


def test_written_product_is_astropys_checksummed_file(tmp_path):
    ours, theirs = tmp_path / "ours.fits", tmp_path / "theirs.fits"
    write_hdulists([(a_product(), ours)])
    a_product().writeto(theirs, checksum=True)
    # the same bytes but for the time stamps, and every sum verifies (a bad one warns,
    # and warnings are errors here)
    assert masked_bytes(ours) == masked_bytes(theirs)
    with fits.open(ours, checksum=True) as hdulist:
        for hdu in hdulist:
            assert hdu.verify_checksum() == 1
            assert hdu.verify_datasum() == 1


def test_checksums_follow_a_changed_header():
    hdulist = a_product()
    add_checksums(hdulist)
    hdulist[1].header["HISTORY"] = "changed after the sums"
    add_checksums(hdulist)
    assert hdulist[1].verify_checksum() == 1
