"""RampModel / ImageModel: schemas, defaults, shape and dtype checks, ASDF and FITS round trips."""

import numpy as np
import pytest

from hstramp.datamodels import ImageModel, ModelShapeError, RampModel, dqflags


def test_ramp_model_fills_missing_arrays_with_schema_dtypes():
    model = RampModel(data=np.zeros((4, 6, 5), np.float32))
    assert model.groupdq.shape == (4, 6, 5) and model.groupdq.dtype == np.uint16
    assert model.pixeldq.shape == (6, 5) and model.pixeldq.dtype == np.uint16
    assert model.err.dtype == np.float32
    assert model.times.shape == (4,) and model.times.dtype == np.float64
    assert model.ngroups == 4


@pytest.mark.parametrize(
    ("attr", "value", "message"),
    [
        ("pixeldq", np.zeros((7, 5), np.uint16), "y size 7 disagrees"),
        ("times", np.zeros(3), "groups size 3 disagrees"),
        ("err", np.zeros((4, 6), np.float32), "expected 3"),
        ("groupdq", np.zeros((4, 6, 5), np.float32), "must be uint16"),
        ("data", np.zeros((4, 6, 5), np.float64), "must be float32"),
    ],
)
def test_mismatched_arrays_are_refused(attr, value, message):
    model = RampModel(data=np.zeros((4, 6, 5), np.float32))
    with pytest.raises(ModelShapeError, match=message):
        setattr(model, attr, value)
        model.validate()


def test_image_model_defaults():
    model = ImageModel(data=np.ones((3, 4), np.float32))
    assert model.samp.dtype == np.int16
    assert model.time.dtype == np.float32
    assert model.dq.dtype == np.uint16
    assert model.var_rnoise.shape == (3, 4)


@pytest.mark.parametrize("ext", [".asdf", ".fits"])
def test_ramp_model_round_trip(small_ramp, tmp_path, ext):
    small_ramp.groupdq[2, 3, 4] = dqflags.SATURATED
    small_ramp.meandark[:] = [0.0, 0.1, 0.2, 0.3, 0.4]
    path = tmp_path / f"model{ext}"
    small_ramp.save(path)
    back = RampModel(path)
    for name in ("data", "err", "groupdq", "pixeldq", "times", "meandark"):
        np.testing.assert_array_equal(getattr(back, name), getattr(small_ramp, name))
        assert getattr(back, name).dtype.isnative
    assert back.meta.cal_step.dqicorr == "PERFORM"
    assert back.meta.subarray.ltv1 == -438.0
    assert back.meta.headers.primary[2] == ["ROOTNAME", "test0001q", ""]


@pytest.mark.parametrize("ext", [".asdf", ".fits"])
def test_image_model_round_trip(tmp_path, ext):
    rng = np.random.default_rng(1)
    model = ImageModel(data=rng.normal(size=(5, 6)).astype(np.float32))
    model.samp = np.full((5, 6), 9, np.int16)
    model.dq[1, 1] = dqflags.CR_RAMP | dqflags.HOT
    path = tmp_path / f"image{ext}"
    model.save(path)
    back = ImageModel(path)
    np.testing.assert_array_equal(back.data, model.data)
    np.testing.assert_array_equal(back.dq, model.dq)
    np.testing.assert_array_equal(back.samp, model.samp)


def test_invalid_switch_value_is_not_stored(small_ramp):
    from stdatamodels.validate import ValidationWarning

    with pytest.warns(ValidationWarning, match="MAYBE"):
        small_ramp.meta.cal_step.dqicorr = "MAYBE"
    assert small_ramp.meta.cal_step.dqicorr == "PERFORM"


def test_models_identify_as_hst():
    model = RampModel(data=np.zeros((2, 3, 3), np.float32))
    assert model.crds_observatory == "hst"
    assert isinstance(model.get_crds_parameters(), dict)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (0, []),
        (256, ["SATURATED"]),
        (256 + 2048, ["SATURATED", "ZERO_READ_SIGNAL"]),
        (4 | 16 | 8192, ["BAD_DETECTOR", "HOT", "CR_RAMP"]),
        (1 << 16, ["BIT16"]),
    ],
)
def test_dq_mnemonics(value, names):
    assert dqflags.dq_mnemonics(value) == names


def test_dq_mnemonics_rejects_negative():
    with pytest.raises(ValueError, match="non-negative"):
        dqflags.dq_mnemonics(-1)


def test_ir_flags_are_distinct_single_bits():
    values = list(dqflags.IR_FLAGS.values())
    assert len(set(values)) == len(values) == 15
    assert all(v & (v - 1) == 0 for v in values)
    assert dqflags.SDQFLAGS_DEFAULT == 31743


# ------------------------------------------------------------------ facts named once
@pytest.mark.parametrize(("bunit", "unitcorr", "in_rates"), [
    (None, None, False),
    ("COUNTS", "PERFORM", False),
    ("ELECTRONS", "OMIT", False),  # FLATCORR without UNITCORR
    ("COUNTS/S", "COMPLETE", True),
    ("ELECTRONS/S", "COMPLETE", True),  # a re-entered ima after FLATCORR
    (" counts/s ", "PERFORM", True),  # BUNIT decides, as calwf3's getDataUnits does
])
def test_in_rates_is_what_bunit_says(bunit, unitcorr, in_rates):
    model = RampModel(data=np.zeros((2, 3, 3), np.float32))
    if bunit is not None:
        model.meta.bunit_data = bunit
    if unitcorr is not None:
        model.meta.cal_step.unitcorr = unitcorr
    assert model.in_rates is in_rates


@pytest.mark.parametrize(("header", "expected"), [(None, 2.5), (0.0, 2.5), (4.0, 4.0)])
def test_ccdgain_default_is_named_on_the_model(header, expected):
    for model in (RampModel(), ImageModel()):
        model.meta.exposure.ccdgain = header
        assert model.ccdgain == expected
    assert RampModel.DEFAULT_CCDGAIN == 2.5


@pytest.mark.parametrize(("header", "wfc3", "stis"), [(None, 31743, 32767), (0, 0, 0),
                                                      (16, 16, 16)])
def test_sdqflags_default_only_when_the_header_has_none(header, wfc3, stis):
    """calwf3 falls back to 31743, calstis to 32767 (cs1/getgrpinfo1.c)."""
    from hstramp.datamodels import STISCCDModel, STISImageModel

    for model, expected in ((RampModel(), wfc3), (ImageModel(), wfc3), (STISCCDModel(), stis),
                            (STISImageModel(), stis)):
        model.meta.exposure.sdqflags = header
        assert model.sdqflags == expected


def test_take_metadata_copies_everything_but_the_model_type(small_ramp):
    image = ImageModel(data=np.zeros((12, 10), np.float32))
    image.take_metadata(small_ramp)
    assert image.meta.model_type == "ImageModel"
    assert image.meta.observation.rootname == "test0001q"
    assert image.meta.headers.primary == small_ramp.meta.headers.primary
    image.meta.observation.rootname = "other"
    image.meta.headers.sci[0][1] = 0.0
    assert small_ramp.meta.observation.rootname == "test0001q"  # a copy, not shared
    assert small_ramp.meta.headers.sci[0][1] == -438.0
