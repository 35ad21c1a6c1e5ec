"""Images read from the file straight into native arrays (hstramp.fitsimage): astropy's values,
for every layout; what it does not read goes to astropy's path (read_extension_into,
hdu_array), with its values and errors."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp import fitsimage
from hstramp.datamodels.fits_io import open_hdulist, read_extension_into, read_image_into
from hstramp.datamodels.wfc3_fits import read_multiaccum
from hstramp.errors import InputFileError
from hstramp.fitsimage import StoredImages, stored_dtype
from hstramp.reference.common import ReferenceFileError, hdu_array, open_reference

SHAPE = (6, 5)


def _values(kind, rng):
    """Stored values of each kind, extremes included."""
    if kind == "f":
        values = rng.normal(0.0, 1e3, SHAPE)
        values.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
        return values
    info = np.iinfo(kind)
    values = rng.integers(info.min, info.max, SHAPE, endpoint=True, dtype=kind)
    values.flat[:2] = [info.min, info.max]
    return values


# (stored array dtype, extra header cards, read directly?)
LAYOUTS = [
    ("uint8", {}, True),
    ("int16", {}, True),
    ("int32", {}, True),
    ("int64", {}, True),
    ("float32", {}, True),
    ("float64", {}, True),
    ("uint16", {}, True),   # astropy writes BZERO = 32768
    ("uint32", {}, True),   # BZERO = 2**31
    ("uint64", {}, True),   # BZERO = 2**63
    ("int16", {"BSCALE": 2.0}, False),
    ("int16", {"BZERO": 10.0}, False),
    ("int16", {"BLANK": -1, "BZERO": 32768}, False),
    ("int16", {"BSCALE": 1.0, "BZERO": 0}, True),
]


def _write(path, array, cards):
    hdu = fits.ImageHDU(array, name="SCI")
    if cards:  # scale the stored values as the cards say (astropy keeps the raw ints)
        hdu = fits.ImageHDU(array, name="SCI", do_not_scale_image_data=True)
        for keyword, value in cards.items():
            hdu.header[keyword] = value
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)


@pytest.mark.parametrize("out_dtype", [np.float32, np.uint16, np.int16, np.float64])
@pytest.mark.parametrize(("stored", "cards", "direct"), LAYOUTS)
def test_stored_read_equals_astropys(tmp_path, stored, cards, direct, out_dtype):
    rng = np.random.default_rng(7)
    kind = "f" if stored.startswith("float") else stored
    path = tmp_path / "image.fits"
    _write(path, _values(kind, rng).astype(stored), cards)
    with open_hdulist(path) as loaded:  # astropy's values, read_extension_into's casting
        expected = np.empty(SHAPE, out_dtype)
        try:
            expected_float = read_extension_into(loaded[1], expected, path)
        except InputFileError as exc:
            expected = exc
    with open_hdulist(path, read_data=False) as hdulist, StoredImages() as images:
        assert (stored_dtype(hdulist[1].header) is not None) is direct
        got = np.empty(SHAPE, out_dtype)
        if isinstance(expected, InputFileError):  # floats into integers: astropy's error
            assert images.read_into(hdulist[1], got, path) is None
            with pytest.raises(InputFileError, match="stored as"):
                read_image_into(images, hdulist[1], got, path)
            return
        direct_flag = images.read_into(hdulist[1], np.empty(SHAPE, out_dtype), path)
        assert direct_flag is (expected_float if direct else None)
        assert read_image_into(images, hdulist[1], got, path) is expected_float
    np.testing.assert_array_equal(got, expected)
    assert got.tobytes() == expected.tobytes()  # NaN and -0.0 bits too


@pytest.mark.parametrize(("stored", "cards", "direct"), LAYOUTS)
def test_reference_arrays_are_astropys(tmp_path, stored, cards, direct):
    """hdu_array (every reference image): astropy's values in native order, read from the
    file when they can be."""
    rng = np.random.default_rng(11)
    kind = "f" if stored.startswith("float") else stored
    path = tmp_path / "ref.fits"
    _write(path, _values(kind, rng).astype(stored), cards)
    with fits.open(path) as loaded:
        expected = np.asarray(loaded[1].data)
    with open_reference(path, "DARKFILE") as hdul, StoredImages() as images:
        assert (images.read(hdul[1], path) is not None) is direct
        got = hdu_array(hdul[1], path, "DARKFILE")
    assert got.dtype == expected.dtype.newbyteorder("=") and got.dtype.isnative
    assert got.tobytes() == expected.astype(got.dtype).tobytes()


@pytest.mark.parametrize(("header", "expected"), [
    ({"BITPIX": 16}, ">i2"),
    ({"BITPIX": -32, "BZERO": 0.0, "BSCALE": 1.0}, ">f4"),
    ({"BITPIX": 16, "BZERO": 32768.0}, ">u2"),
    ({"BITPIX": 32, "BZERO": 2147483648}, ">u4"),
    ({"BITPIX": 8, "BZERO": -128}, None),  # astropy's signed bytes: scaled here
    ({"BITPIX": 16, "BZERO": 32768, "BSCALE": 2}, None),
    ({"BITPIX": 16, "BSCALE": "two"}, None),
    ({"BITPIX": 16, "BLANK": 0}, None),
    ({"BITPIX": 12}, None),
    ({"BITPIX": True}, None),
    ({"BITPIX": "16"}, None),
    ({}, None),
])
def test_stored_dtype_table(header, expected):
    got = stored_dtype(fits.Header(list(header.items())))
    assert got == (None if expected is None else np.dtype(expected))


def test_constant_and_other_shapes_go_through_astropy(tmp_path):
    """A constant extension (PIXVALUE) is expanded, a shape mismatch is the reader's error."""
    path = tmp_path / "c.fits"
    constant = fits.ImageHDU(name="ERR")
    constant.header.update(NPIX1=SHAPE[1], NPIX2=SHAPE[0], PIXVALUE=2.5)
    fits.HDUList([fits.PrimaryHDU(), constant, fits.ImageHDU(np.ones((3, 3), np.float32))]
                 ).writeto(path)
    with open_hdulist(path, read_data=False) as hdulist, StoredImages() as images:
        out = np.empty(SHAPE, np.float32)
        assert images.read_into(hdulist[1], out, path) is None
        assert images.read(hdulist[1], path) is None
        assert read_image_into(images, hdulist[1], out, path) is False
        assert (out == 2.5).all()
        assert images.read_into(hdulist[2], out, path) is None
        with pytest.raises(InputFileError, match="has shape"):
            read_image_into(images, hdulist[2], out, path)


def test_a_compressed_image_goes_through_astropy(tmp_path):
    """A tile-compressed image's header describes the image, not the stored bytes."""
    path = tmp_path / "z.fits"
    data = np.arange(np.prod(SHAPE), dtype=np.int32).reshape(SHAPE)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, name="SCI")]).writeto(path)
    with open_hdulist(path, read_data=False) as hdulist, StoredImages() as images:
        out = np.empty(SHAPE, np.float32)
        assert images.read_into(hdulist[1], out, path) is None
        assert images.read(hdulist[1], path) is None
        read_image_into(images, hdulist[1], out, path)
    np.testing.assert_array_equal(out, data)


def test_a_gzipped_file_goes_through_astropy(tmp_path):
    """astropy reads a .fits.gz through gzip: its offsets are not the file's."""
    import gzip

    path = tmp_path / "g.fits.gz"
    data = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
    plain = tmp_path / "g.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI")]).writeto(plain)
    path.write_bytes(gzip.compress(plain.read_bytes()))
    with open_hdulist(path, read_data=False) as hdulist, StoredImages() as images:
        out = np.empty(SHAPE, np.float32)
        assert images.read_into(hdulist[1], out, path) is None
        assert read_image_into(images, hdulist[1], out, path) is True
    np.testing.assert_array_equal(out, data)
    with open_reference(path, "FLATFILE") as hdul:
        np.testing.assert_array_equal(hdu_array(hdul[1], path, "FLATFILE"), data)


def test_an_hdulist_made_in_memory_goes_through_astropy(tmp_path):
    hdu = fits.ImageHDU(np.full(SHAPE, 3, np.int16))
    out = np.empty(SHAPE, np.float32)
    with StoredImages() as images:
        assert images.read_into(hdu, out, tmp_path / "none.fits") is None
        assert read_image_into(images, hdu, out, tmp_path / "none.fits") is False
    assert (out == 3).all()


def test_a_file_cut_inside_the_data_is_an_error(tmp_path):
    """astropy's warning on opening a file shorter than its headers say is the error."""
    path = tmp_path / "cut.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((100, 100), np.float32))]
                 ).writeto(path)
    path.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(InputFileError, match="not a readable FITS file"):
        open_hdulist(path, read_data=False)
    with pytest.raises(ReferenceFileError, match="not a readable FITS file"):
        with open_reference(path, "DARKFILE"):
            pass


def test_a_file_cut_after_it_was_opened_is_the_callers_error(tmp_path):
    """The bytes run out: the caller's error class, naming the file and the extension."""
    path = tmp_path / "cut.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((100, 100), np.float32),
                                                   name="SCI")]).writeto(path)
    whole = path.read_bytes()
    with open_hdulist(path, read_data=False) as hdulist, StoredImages() as images:
        path.write_bytes(whole[:-5000])
        with pytest.raises(InputFileError, match=r"cut.fits .* extension SCI,1"):
            read_image_into(images, hdulist[1], np.empty((100, 100), np.float32), path)


@pytest.mark.parametrize("name", ["ibh7a7lsq_raw.fits", "iccz11q4q_ima.fits"])
def test_real_files_read_as_astropy_reads_them(real_file, monkeypatch, name):
    """The raw (BZERO-scaled int16 SCI) and the ima (float SCI, int16 DQ) of real exposures:
    the arrays read from the file are those of astropy's path."""
    path = real_file(name)
    direct = read_multiaccum(path)
    monkeypatch.setattr(fitsimage, "stored_dtype", lambda header: None)  # astropy's path
    astropys = read_multiaccum(path)
    for attribute in ("data", "err", "groupdq", "times"):
        assert getattr(direct, attribute).tobytes() == getattr(astropys, attribute).tobytes()


def test_a_file_gone_after_it_was_opened_is_the_callers_error(tmp_path):
    """Removed between astropy's opening and the read: the caller's error, not an OSError."""
    path = tmp_path / "gone.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((10, 10), np.float32),
                                                   name="SCI")]).writeto(path)
    with open_hdulist(path, read_data=False) as hdulist, StoredImages() as images:
        path.unlink()
        with pytest.raises(InputFileError, match=r"gone.fits is not a readable FITS file"):
            read_image_into(images, hdulist[1], np.empty((10, 10), np.float32), path)
