"""WFC3/IR raw/ima/flt reading and writing, on the real files in ../shared/data/wfc3ir."""

import shutil

import numpy as np
import pytest
from astropy.io import fits

from hstramp.datamodels import ImageModel, dqflags, read_flt, read_multiaccum, write_flt, write_ima
from hstramp.datamodels import open as open_model
from hstramp.datamodels.fits_writer import FitsProduct
from hstramp.errors import InputFileError, OutputFileError
from tests.bad_files import BAD_FILES
from tests.conftest import sha256

REAL_FILES = {
    # name: (nsamp, shape, ltv, first times, last time)
    "ibh7a7lsq_raw.fits": (9, (138, 138), -438.0, [0, 0.112705, 7.29408, 14.475455], 50.382328),
    "ibxy01aoq_raw.fits": (14, (266, 266), -374.0, [0, 0.277815, 7.6243, 14.970785], 88.435623),
    "ibxy07q9q_raw.fits": (16, (266, 266), -374.0, [0, 0.277815, 7.6243], 103.128586),
    "iccz11q4q_ima.fits": (4, (266, 266), -374.0, [0, 0.277815, 0.55563], 0.833445),
    "ibh726meq_ima.fits": (5, (266, 266), -374.0, [0, 0.277815, 7.6243], 22.31727),
}


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_files_read_with_geometry_and_times(real_file, name):
    nsamp, shape, ltv, first_times, last_time = REAL_FILES[name]
    path = real_file(name)
    before = sha256(path)
    model = read_multiaccum(path)
    assert model.data.shape == (nsamp, *shape)
    assert model.data.dtype == np.float32 and model.data.dtype.isnative
    assert model.err.dtype.isnative and model.groupdq.dtype == np.uint16
    assert model.meta.subarray.ltv1 == ltv and model.meta.subarray.ltv2 == ltv
    np.testing.assert_allclose(model.times[: len(first_times)], first_times, rtol=1e-7)
    assert model.times[-1] == pytest.approx(last_time)
    assert model.meta.instrument.detector == "IR"
    assert model.meta.exposure.nsamp == nsamp
    assert sha256(path) == before


def test_raw_read_order_is_time_order(real_file):
    path = real_file("ibh7a7lsq_raw.fits")
    model = read_multiaccum(path)
    with fits.open(path) as hdul:
        zeroth = hdul["SCI", 9].data.astype(np.float32)
        last = hdul["SCI", 1].data.astype(np.float32)
        assert hdul["SCI", 9].header["SAMPNUM"] == 0
    np.testing.assert_array_equal(model.data[0], zeroth)
    np.testing.assert_array_equal(model.data[-1], last)
    # uint16 via BZERO: values above 32767 survive
    assert model.data.max() > 0 and model.data.min() >= 0


def test_ima_keeps_dq_and_float_science(real_file):
    model = read_multiaccum(real_file("iccz11q4q_ima.fits"))
    assert model.meta.bunit_data == "ELECTRONS/S"
    assert model.meta.cal_step.crcorr == "COMPLETE"
    assert model.groupdq.max() > 0
    assert model.meanblev[0] == pytest.approx(14513.521, rel=1e-6)


@pytest.mark.parametrize("name", ["ibh7a7lsq_raw.fits", "iccz11q4q_ima.fits"])
def test_multiaccum_round_trip_is_bit_exact(real_file, tmp_path, name):
    model = read_multiaccum(real_file(name))
    out = write_ima(model, tmp_path / "x_ima.fits")
    back = read_multiaccum(out)
    for attr in ("data", "err", "groupdq", "times", "deltatim", "routtime", "meanblev"):
        np.testing.assert_array_equal(getattr(back, attr), getattr(model, attr))
    assert back.meta.exposure.samp_seq == model.meta.exposure.samp_seq
    assert back.meta.ref_file.darkfile == model.meta.ref_file.darkfile


def test_ima_layout_matches_calwf3(real_file, tmp_path):
    model = read_multiaccum(real_file("ibh7a7lsq_raw.fits"))
    model.meta.cal_step.dqicorr = "COMPLETE"
    out = write_ima(model, tmp_path / "x_ima.fits")
    with fits.open(out) as hdul:
        assert hdul[0].header["NEXTEND"] == 45
        assert hdul[0].header["DQICORR"] == "COMPLETE"
        assert hdul[0].header["ROOTNAME"] == "ibh7a7lsq"
        assert [h.name for h in hdul[1:6]] == ["SCI", "ERR", "DQ", "SAMP", "TIME"]
        assert hdul["SCI", 1].header["SAMPNUM"] == 8
        assert hdul["SCI", 9].header["SAMPNUM"] == 0
        assert hdul["SCI", 1].header["SAMPTIME"] == pytest.approx(50.382328)
        assert hdul["SCI", 1].data.dtype.kind == "f"
        assert hdul["DQ", 1].data.dtype.kind == "i"
        assert hdul["TIME", 1].header["PIXVALUE"] == pytest.approx(50.382328)
        assert hdul["SCI", 1].header["LTV1"] == -438.0


@pytest.mark.parametrize("name", ["ibh7a7lsq_raw.fits", "iccz11q4q_ima.fits"])
def test_products_written_unverified_pass_astropys_strictest_verification(real_file, tmp_path,
                                                                          name):
    """Headers are verified once, as they are built; the product is then written without
    astropy's per-extension check, and must still pass it when read back."""
    model = read_multiaccum(real_file(name))
    model.meta.ref_file.darkfile = "/a/very/long/" + "path/" * 20 + "x_drk.fits"  # > 1 card
    out = write_ima(model, tmp_path / "x_ima.fits")
    with fits.open(out) as hdul:
        hdul.verify("exception")
        assert hdul[0].header["DARKFILE"] == model.meta.ref_file.darkfile
        assert len(hdul) == 1 + 5 * model.ngroups


def test_flt_round_trip(tmp_path, small_ramp):
    rng = np.random.default_rng(3)
    image = ImageModel(data=rng.normal(size=(8, 9)).astype(np.float32))
    image.meta.instrument.name = "WFC3"
    image.meta.instrument.detector = "IR"
    image.meta.headers.primary = small_ramp.meta.headers.primary
    image.meta.headers.sci = [["LTV1", -443.0, ""], ["CRPIX1", 10.0, ""]]
    image.dq[2, 2] = dqflags.HOT
    image.samp[:] = 7
    out = write_flt(image, tmp_path / "x_flt.fits")
    with fits.open(out) as hdul:
        assert [h.name for h in hdul[1:]] == ["SCI", "ERR", "DQ", "SAMP", "TIME"]
        assert hdul["SCI"].header["LTV1"] == -443.0
    back = read_flt(out)
    np.testing.assert_array_equal(back.data, image.data)
    np.testing.assert_array_equal(back.dq, image.dq)
    np.testing.assert_array_equal(back.samp, image.samp)
    assert isinstance(open_model(out), ImageModel)


def test_existing_output_is_refused_and_untouched(tmp_path, real_file):
    model = read_multiaccum(real_file("ibh7a7lsq_raw.fits"))
    out = tmp_path / "x_ima.fits"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputFileError, match="exists already"):
        write_ima(model, out)
    assert out.read_bytes() == b"keep me"
    write_ima(model, out, overwrite=True)
    assert read_multiaccum(out).data.shape == model.data.shape


def test_failed_write_leaves_nothing(tmp_path, real_file, monkeypatch):
    model = read_multiaccum(real_file("ibh7a7lsq_raw.fits"))

    def explode(self, *args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(fits.HDUList, "writeto", explode)
    monkeypatch.setattr(FitsProduct, "write", explode)  # the direct writer of the ima
    with pytest.raises(OSError, match="disk full"):
        write_ima(model, tmp_path / "x_ima.fits")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- bad inputs
def _copy(real_file, tmp_path, name="ibh7a7lsq_raw.fits"):
    dest = tmp_path / name
    shutil.copy(real_file(name), dest)
    dest.chmod(0o644)
    return dest


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_inputs_give_one_clear_error(real_file, tmp_path, case):
    make_bad, message = BAD_FILES[case]
    path = _copy(real_file, tmp_path)
    make_bad(path)
    before = sha256(path)
    with pytest.raises(InputFileError, match=message) as info:
        read_multiaccum(path)
    assert path.name in str(info.value)
    assert sha256(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputFileError, match=r"nope_raw\.fits does not exist"):
        open_model(tmp_path / "nope_raw.fits")


def test_read_dq_is_the_read_itself_once_the_pixel_dq_is_in_it(small_ramp):
    from hstramp.datamodels.wfc3_fits import read_dq

    ramp = small_ramp.copy()
    ramp.pixeldq[1, 2] = dqflags.HOT
    ramp.groupdq[3, 0, 0] = dqflags.SATURATED
    merged = read_dq(ramp, 3)
    assert merged is not ramp.groupdq[3] and not np.shares_memory(merged, ramp.groupdq)
    assert merged[1, 2] == dqflags.HOT and merged[0, 0] == dqflags.SATURATED
    assert ramp.groupdq[3, 1, 2] == 0  # the model is not changed
    ramp.groupdq |= ramp.pixeldq
    assert np.shares_memory(read_dq(ramp, 3), ramp.groupdq)
    np.testing.assert_array_equal(read_dq(ramp, 3), merged)


def test_an_ima_of_merged_dq_is_written_as_with_the_check(small_ramp, tmp_path):
    """merged_dq (the pipeline's ima: pixel DQ already in every read) writes each read's DQ
    as it is: the same file as read_dq's checked path."""
    from hstramp.datamodels.wfc3_fits import ima_product

    ramp = small_ramp.copy()
    ramp.pixeldq[1, 2] = dqflags.HOT
    ramp.groupdq[3, 0, 0] = dqflags.SATURATED
    ramp.groupdq |= ramp.pixeldq
    ima_product(ramp, "a_ima.fits", merged_dq=True).write(tmp_path / "a.fits")
    ima_product(ramp, "a_ima.fits").write(tmp_path / "b.fits")
    with fits.open(tmp_path / "a.fits") as a, fits.open(tmp_path / "b.fits") as b:
        for one, other in zip(a, b, strict=True):
            assert one.header.tostring() == other.header.tostring() or one.name == "PRIMARY"
            np.testing.assert_array_equal(one.data, other.data)
        assert a["DQ", 2].data[1, 2] == dqflags.HOT and a["DQ", 2].data[0, 0] == dqflags.SATURATED


@pytest.mark.parametrize("name", ["ibh7a7lsq_raw.fits", "iccz11q4q_ima.fits"])
def test_open_reads_a_multiaccum_file_once(real_file, monkeypatch, name):
    """datamodels.open classifies the file and reads it from the same opened HDUList: the
    file's headers are parsed once (plus the primary header that picks the instrument)."""
    from hstramp.datamodels import io, wfc3_fits

    opened = []
    real_open = io.open_hdulist
    for module in (io, wfc3_fits):
        monkeypatch.setattr(module, "open_hdulist",
                            lambda path, **kw: opened.append(path) or real_open(path, **kw))
    model = open_model(real_file(name))
    assert len(opened) == 1
    np.testing.assert_array_equal(model.data, read_multiaccum(real_file(name)).data)
