"""The direct FITS writer (hstramp.datamodels.fits_writer): astropy's bytes, without its copies."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core import native
from hstramp.datamodels import fits_io, fits_writer, wfc3_fits
from hstramp.datamodels.fits_io import extension_template, primary_hdu, write_hdulists
from hstramp.datamodels.fits_writer import FitsProduct
from hstramp.errors import OutputFileError
from hstramp.pipeline.wfc3ir import image_statistics, read_statistics

STAMP = "2026-12-06T00:00:00"


@pytest.fixture(autouse=True)
def frozen_stamp(monkeypatch):
    """One time in every checksum comment, so the two paths' files compare byte for byte."""
    monkeypatch.setattr(fits_io, "checksum_stamp", lambda: STAMP)
    monkeypatch.setattr(fits_writer, "checksum_stamp", lambda: STAMP)


def both_ways(make, tmp_path, output_verify="ignore"):
    """Write ``make()`` through the astropy HDUList and directly; return both files' bytes."""
    through_astropy, direct = tmp_path / "astropy.fits", tmp_path / "direct.fits"
    write_hdulists([(make().to_hdulist(), through_astropy)], overwrite=True,
                   output_verify=output_verify)
    write_hdulists([(make(), direct)], overwrite=True, output_verify=output_verify)
    return through_astropy.read_bytes(), direct.read_bytes()


def all_sums_verify(path):
    with fits.open(path, checksum=True) as hdulist:  # a bad sum warns: an error here
        for hdu in hdulist:
            assert hdu.verify_checksum() == 1 and hdu.verify_datasum() == 1


def a_ramp(small_ramp):
    from hstramp.datamodels import RampModel

    rng = np.random.default_rng(6)
    shape = (small_ramp.ngroups, 17, 23)
    ramp = RampModel(data=rng.normal(100, 30, shape).astype(np.float32),
                     err=rng.random(shape).astype(np.float32),
                     groupdq=rng.integers(0, 2**16, shape).astype(np.uint16),
                     pixeldq=rng.integers(0, 4, shape[1:]).astype(np.uint16),
                     times=small_ramp.times)
    ramp.take_metadata(small_ramp)
    ramp.data[1, 2, 3] = np.nan
    ramp.data[2, 0, 0] = -np.inf
    ramp.data[0, 4, 4] = -0.0
    ramp.meta.provenance = [{"switch": "DARKCORR", "status": "COMPLETE", "references": [
        {"keyword": "DARKFILE", "name": "iref$x_drk.fits", "pedigree": "MODEL",
         "descrip": "d"}]}]
    return ramp


def test_the_ima_is_byte_identical_to_astropys(small_ramp, tmp_path):
    ramp = a_ramp(small_ramp)
    before = {name: getattr(ramp, name).copy() for name in ("data", "err", "groupdq")}
    statistics = read_statistics(ramp)
    product = wfc3_fits.ima_product(ramp, "x_ima.fits", statistics)
    assert product.fast_path()
    ours, theirs = both_ways(lambda: wfc3_fits.ima_product(ramp, "x_ima.fits", statistics),
                             tmp_path)
    assert ours == theirs
    all_sums_verify(tmp_path / "direct.fits")
    for name, array in before.items():  # the model's arrays are not touched
        np.testing.assert_array_equal(getattr(ramp, name), array)
        assert getattr(ramp, name).dtype.byteorder in "=<|"


def test_the_flt_is_byte_identical_to_astropys(small_ramp, tmp_path):
    from hstramp.datamodels import ImageModel

    rng = np.random.default_rng(7)
    shape = (12, 10)
    image = ImageModel(data=rng.standard_normal(shape).astype(np.float32),
                       err=rng.random(shape).astype(np.float32),
                       dq=rng.integers(0, 2**16, shape).astype(np.uint16),
                       samp=np.full(shape, 5, np.int16), time=np.full(shape, 21.6, np.float32))
    image.take_metadata(small_ramp)
    image.var_poisson = rng.random(shape).astype(np.float32)
    image.var_rnoise = rng.random(shape).astype(np.float32)
    wfc3_fits.keep_last_read(image, small_ramp)
    statistics = image_statistics(image)
    for variances in (False, True):
        ours, theirs = both_ways(lambda v=variances: wfc3_fits.flt_product(
            image, "x_flt.fits", v, statistics), tmp_path)
        assert ours == theirs
        all_sums_verify(tmp_path / "direct.fits")


def odd_template():
    """A template with what could move cards: commentary cards at the end, a long string
    (CONTINUE cards), a keyword with a comment the extensions set again."""
    header = fits.Header()
    header["INHERIT"] = (True, "inherit the primary header")
    header["LONGSTR"] = ("x" * 150, "a long value")
    header["BUNIT"] = ("COUNTS", "brightness units")
    header["SAMPNUM"] = (3, "sample number")
    header.add_blank("")
    header.add_comment("a comment at the end")
    header.add_history("a history line at the end")
    hdu = fits.ImageHDU(header=header)
    hdu.verify("fix+ignore")
    return hdu.header


def odd_product(arrays):
    primary = fits.PrimaryHDU(header=fits.Header([("TELESCOP", "HST"), ("ROOTNAME", "x")]))
    primary.header.add_history("made for a test")
    product = FitsProduct(primary)
    template = odd_template()
    for ver, data in enumerate(arrays, start=1):
        # values equal to the template's, changed ones, another type for the same keyword
        extra = {"BUNIT": "COUNTS" if ver % 2 else "ELECTRONS", "SAMPNUM": [3, 3.0, 4][ver % 3],
                 "GOODMEAN": float(ver) / 7, "FLAG": [True, 1][ver % 2], "NOTE": "n" * (ver * 3)}
        product.add_image(template, "SCI", ver, data, extra)
        product.add_constant(template, "TIME", ver, (4, 5), ver * 1.5, "SECONDS")
    return product


@pytest.mark.parametrize("kernels", ["numpy", "auto"])
@pytest.mark.parametrize("dtype", ["<f4", "<f8", "<i2", "<i4", "<i8"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (37, 41)])
def test_any_template_dtype_and_shape_is_astropys(dtype, shape, kernels, tmp_path, monkeypatch):
    """On both paths of the data (the compiled fitsdata kernel where built, and NumPy)."""
    monkeypatch.setenv(native.ENV_VAR, kernels)
    monkeypatch.setattr(fits_writer, "CHUNK_BYTES", 200)  # arrays written in several chunks
    rng = np.random.default_rng(len(dtype) + shape[0])
    arrays = [(rng.standard_normal(shape) * 1e4).astype(dtype) for _ in range(4)]
    if dtype[1] == "f":
        arrays[0].flat[0] = np.nan
        arrays[1].flat[-1] = np.inf
        arrays[2].view(f"<u{dtype[2]}").flat[0] |= 1  # a NaN's payload survives
        arrays[2].view(f"<u{dtype[2]}").flat[0] |= arrays[0].view(f"<u{dtype[2]}").flat[0]
    assert odd_product(arrays).fast_path()
    for verify in ("ignore", "fix+ignore"):
        ours, theirs = both_ways(lambda: odd_product(arrays), tmp_path, verify)
        assert ours == theirs
    all_sums_verify(tmp_path / "direct.fits")


@pytest.mark.parametrize("kernels", ["numpy", "auto"])
def test_a_value_that_grows_into_more_header_blocks_is_astropys(kernels, tmp_path,
                                                                monkeypatch):
    """An extension whose string value takes many CONTINUE cards where the first of its
    kind's took one: its header is blocks longer, and the data written before it (in the
    room left for the header) must start after it, not under it."""
    monkeypatch.setenv(native.ENV_VAR, kernels)
    header = fits.Header([(f"KEY{k}", k, "filler") for k in range(30)])
    hdu = fits.ImageHDU(header=header)
    hdu.verify("fix+ignore")

    def make():
        product = FitsProduct(fits.PrimaryHDU(header=fits.Header([("TELESCOP", "HST")])))
        for ver, note in enumerate(["n", "n" * 6000, "n" * 70, "n" * 6000], start=1):
            product.add_image(hdu.header, "SCI", ver, np.full((5, 7), ver, np.float32),
                              {"NOTE": note})
        return product

    assert make().fast_path()
    ours, theirs = both_ways(make, tmp_path)
    assert ours == theirs
    all_sums_verify(tmp_path / "direct.fits")


@pytest.mark.parametrize("kind", ["uint16", "big-endian", "non-contiguous", "mixed"])
def test_what_the_fast_path_leaves_to_astropy_is_still_astropys(kind, tmp_path):
    rng = np.random.default_rng(3)
    base = (rng.standard_normal((12, 16)) * 100).astype(np.float32)
    arrays = {"uint16": [base.astype(np.uint16)], "big-endian": [base.astype(">f4")],
              "non-contiguous": [base[:, ::2]],
              "mixed": [base, base.astype(np.uint16)]}[kind]
    assert not odd_product(arrays).fast_path()
    ours, theirs = both_ways(lambda: odd_product(arrays), tmp_path)
    assert ours == theirs
    all_sums_verify(tmp_path / "direct.fits")


def test_a_product_of_the_primary_alone(tmp_path):
    ours, theirs = both_ways(lambda: odd_product([]), tmp_path)
    assert ours == theirs


def test_a_failed_write_keeps_nothing_and_the_old_products_whole(small_ramp, tmp_path,
                                                                  monkeypatch):
    ramp = a_ramp(small_ramp)
    ima, flt = tmp_path / "x_ima.fits", tmp_path / "x_flt.fits"
    for path in (ima, flt):
        path.write_bytes(b"old")
    product = wfc3_fits.ima_product(ramp, ima.name)

    def full_disk(self, path, output_verify="fix+ignore"):
        raise OSError(28, "No space left on device")

    second = FitsProduct(primary_hdu(ramp, 0, flt.name))
    second.write = full_disk.__get__(second)
    with pytest.raises(OutputFileError, match="No space left"):
        write_hdulists([(product, ima), (second, flt)], overwrite=True)
    assert ima.read_bytes() == b"old" and flt.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_flt.fits", "x_ima.fits"]
    with pytest.raises(OutputFileError, match="exists already"):
        write_hdulists([(product, ima)])
    write_hdulists([(product, ima)], overwrite=True)
    all_sums_verify(ima)


def test_the_template_is_not_changed(small_ramp, tmp_path):
    template = extension_template(small_ramp)
    text = template.tostring()
    product = FitsProduct(primary_hdu(small_ramp, 1, "x.fits"))
    product.add_image(template, "SCI", 1, np.ones((3, 4), np.float32), {"BUNIT": "COUNTS"})
    write_hdulists([(product, tmp_path / "x.fits")])
    assert template.tostring() == text


@pytest.mark.parametrize("name", ["ibh7a7lsq_raw.fits", "ibxy01aoq_raw.fits",
                                  "ibxy07q9q_raw.fits", "ibh726meq_ima.fits",
                                  "iccz11q4q_ima.fits"])
def test_real_headers_are_written_as_astropy_writes_them(name, real_file, tmp_path):
    """The archive's own headers (OPUS 2012 raws, calwf3 imas) through both paths: the fast
    path's reused cards format every real value as astropy does."""
    from hstramp.datamodels.wfc3_fits import read_multiaccum

    ramp = read_multiaccum(real_file(name))
    statistics = read_statistics(ramp)
    assert wfc3_fits.ima_product(ramp, "x_ima.fits", statistics).fast_path()
    ours, theirs = both_ways(lambda: wfc3_fits.ima_product(ramp, "x_ima.fits", statistics),
                             tmp_path)
    assert ours == theirs
    all_sums_verify(tmp_path / "direct.fits")


@pytest.mark.parametrize("value", [1, 1.0, True, 0, 0.0, -0.0, False, "1", "", 2**40, 1e-30,
                                   123456.789, -7.5e20, "O'Brien", "x" * 70])
def test_card_image_is_astropys_for_values_that_compare_equal(value):
    """The remembered card images keep 1, 1.0 and True (and 0.0 and -0.0) apart."""
    from hstramp.datamodels.fits_io import long_values_allowed
    from hstramp.datamodels.fits_writer import card_image

    with long_values_allowed():
        expected = fits.Card("PIXVALUE", value, "values of all pixels").image
        for _ in range(2):  # made, then remembered
            assert card_image("PIXVALUE", value, "values of all pixels") == expected
