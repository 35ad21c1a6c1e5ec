"""Tests of hstramp.core.flat: divide by the flat in the science area, then the mean gain."""

import numpy as np
import pytest

from hstramp.core.dqflags import BAD_FLAT, HOT
from hstramp.core.flat import electron_unit, flat_field, mean_gain

TRIM = (2, 1, 1, 2)
GAINS = (2.34, 2.37, 2.31, 2.38)
SHAPE = (3, 8, 9)


def _inputs(shape=SHAPE):
    rng = np.random.default_rng(11)
    return {
        "data": rng.uniform(-5.0, 300.0, shape).astype(np.float32),
        "err": rng.uniform(1.0, 3.0, shape).astype(np.float32),
        "dq": np.zeros(shape, dtype=np.uint16),
        "flat": rng.uniform(0.9, 1.1, shape[-2:]).astype(np.float32),
        "flat_err": rng.uniform(0.001, 0.01, shape[-2:]).astype(np.float32),
        "flat_dq": np.zeros(shape[-2:], dtype=np.uint16),
    }


def _science():
    inside = np.zeros(SHAPE[1:], bool)
    inside[1:6, 2:8] = True
    return inside


def test_mean_gain_of_the_four_amplifiers():
    assert mean_gain(GAINS) == pytest.approx(2.35, rel=1e-6)
    with pytest.raises(ValueError, match="amp_gains"):
        mean_gain(GAINS[:3])


def test_flat_divides_then_multiplies_by_the_gain():
    inputs = _inputs()
    result = flat_field(**inputs, amp_gains=GAINS, trim=TRIM)
    g = np.float32(mean_gain(GAINS))
    s, e, f, ef = inputs["data"], inputs["err"], inputs["flat"], inputs["flat_err"]
    inside = _science()
    divided = (s / f) * g  # calwf3 order, float32
    np.testing.assert_array_equal(result.data[:, inside], divided[:, inside])
    # the other order rounds differently somewhere: the test can tell them apart
    assert np.any(((s * g) / f)[:, inside] != divided[:, inside])
    err = np.sqrt(e * e / (f * f) + s * s * ef * ef / (f * f * f * f)) * g
    np.testing.assert_allclose(result.err[:, inside], err[:, inside], rtol=1e-6)


def test_flat_gain_reaches_the_reference_pixels_but_the_flat_does_not():
    inputs = _inputs()
    result = flat_field(**inputs, amp_gains=GAINS, trim=TRIM)
    g = np.float32(mean_gain(GAINS))
    border = ~_science()
    np.testing.assert_array_equal(result.data[:, border], inputs["data"][:, border] * g)
    np.testing.assert_array_equal(result.err[:, border], inputs["err"][:, border] * g)


def test_flat_error_propagation_example():
    # S = 100 +- 10, F = 2 +- 0.1: S/F = 50, err = sqrt(100/4 + 1e4*0.01/16) = sqrt(31.25)
    inputs = _inputs((4, 4))
    inputs["data"][1, 1], inputs["err"][1, 1] = 100.0, 10.0
    inputs["flat"][1, 1], inputs["flat_err"][1, 1] = 2.0, 0.1
    result = flat_field(**inputs, amp_gains=(1.0,) * 4, trim=(1, 1, 1, 1))
    assert result.data[1, 1] == pytest.approx(50.0)
    assert result.err[1, 1] == pytest.approx(np.sqrt(31.25), rel=1e-6)


def test_zero_flat_gives_zero_sci_and_err_without_a_flag():
    inputs = _inputs()
    inputs["flat"][3, 4] = 0.0
    result = flat_field(**inputs, amp_gains=GAINS, trim=TRIM)
    assert not result.data[:, 3, 4].any()
    assert not result.err[:, 3, 4].any()
    assert not result.dq.any()


def test_flat_dq_is_ored_in_the_science_area_only():
    inputs = _inputs()
    inputs["flat_dq"][3, 4] = BAD_FLAT
    inputs["flat_dq"][0, 0] = BAD_FLAT
    inputs["dq"][:, 3, 4] = HOT
    result = flat_field(**inputs, amp_gains=GAINS, trim=TRIM)
    assert np.all(result.dq[:, 3, 4] == HOT | BAD_FLAT)
    assert not result.dq[:, 0, 0].any()


def test_flat_on_a_ramp_and_on_one_image_agree():
    inputs = _inputs()
    ramp = flat_field(**inputs, amp_gains=GAINS, trim=TRIM)
    image_inputs = dict(inputs, data=inputs["data"][2], err=inputs["err"][2], dq=inputs["dq"][2])
    image = flat_field(**image_inputs, amp_gains=GAINS, trim=TRIM)
    np.testing.assert_array_equal(image.data, ramp.data[2])
    np.testing.assert_array_equal(image.err, ramp.err[2])
    assert image.data.shape == SHAPE[1:]


def test_flat_without_err_or_dq():
    inputs = _inputs()
    inputs.update(flat_err=None, flat_dq=None)
    result = flat_field(**inputs, amp_gains=(1.0,) * 4, trim=TRIM)
    inside = _science()
    np.testing.assert_allclose(
        result.err[:, inside], (inputs["err"] / inputs["flat"])[:, inside], rtol=1e-6
    )


@pytest.mark.parametrize(
    ("bunit", "expected"),
    [("COUNTS/S", "ELECTRONS/S"), ("COUNTS", "ELECTRONS"), ("ELECTRONS/S", None)],
)
def test_electron_unit(bunit, expected):
    if expected is None:
        with pytest.raises(ValueError, match="BUNIT"):
            electron_unit(bunit)
    else:
        assert electron_unit(bunit) == expected
        inputs = _inputs()
        assert flat_field(**inputs, amp_gains=GAINS, trim=TRIM, bunit=bunit).bunit == expected
