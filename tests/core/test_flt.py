"""core.flt: calwf3's cosmic-ray flags in the ima, and its convention for pixels with no rate."""

import numpy as np
import pytest

from hstramp.core.dqflags import CR_RAMP
from hstramp.core.flt import CALWF3_INVALID_ERR, apply_invalid_convention, calwf3_cr_flags


def cr_flags_pixel_by_pixel(groupdq, trim):
    """The rule, one pixel at a time: inside the science area, CR_RAMP on every read from
    the first read that has it on; outside, never; every other bit as it was."""
    dq = groupdq.copy()
    x1, x2, y1, y2 = trim
    _, ny, nx = dq.shape
    for y in range(ny):
        for x in range(nx):
            inside = y1 <= y < ny - y2 and x1 <= x < nx - x2
            seen = False
            for t in range(dq.shape[0]):
                seen = seen or bool(dq[t, y, x] & CR_RAMP)
                dq[t, y, x] &= ~CR_RAMP & 0xFFFF
                if inside and seen:
                    dq[t, y, x] |= CR_RAMP
    return dq


@pytest.mark.parametrize("trim", [(0, 0, 0, 0), (1, 1, 1, 1), (2, 0, 1, 3)])
@pytest.mark.parametrize("where", ["new", "in place", "other array"])
@pytest.mark.parametrize("seed", [0, 1])
def test_cr_flags_follow_calwf3s_rule(trim, where, seed):
    rng = np.random.default_rng(seed)
    groupdq = rng.integers(0, 2**16, size=(5, 7, 6), dtype=np.uint16)
    groupdq[rng.random(groupdq.shape) < 0.7] &= ~CR_RAMP & 0xFFFF  # jumps are rare
    expected = cr_flags_pixel_by_pixel(groupdq, trim)
    before = groupdq.copy()
    if where == "new":
        result = calwf3_cr_flags(groupdq, trim)
        np.testing.assert_array_equal(groupdq, before)  # the input is not touched
    elif where == "in place":
        result = calwf3_cr_flags(groupdq, trim, out=groupdq)
        assert result is groupdq
    else:
        out = np.full_like(groupdq, 7)
        result = calwf3_cr_flags(groupdq, trim, out=out)
        assert result is out
        np.testing.assert_array_equal(groupdq, before)
    np.testing.assert_array_equal(result, expected)
    assert result.dtype == np.uint16


def test_cr_flags_of_one_read_and_of_no_jump():
    one = np.array([[[CR_RAMP, 1 | CR_RAMP], [0, 4]]], dtype=np.uint16)
    np.testing.assert_array_equal(calwf3_cr_flags(one, (0, 0, 0, 0)), one)
    quiet = np.full((3, 4, 4), 32, dtype=np.uint16)
    np.testing.assert_array_equal(calwf3_cr_flags(quiet, (1, 1, 1, 1)), quiet)


@pytest.mark.parametrize("convention", ["nan", "calwf3"])
@pytest.mark.parametrize("where", ["in place", "other arrays"])
def test_invalid_convention_out_gives_the_same_values(convention, where):
    rate = np.array([1.0, np.nan, -np.inf, 2.0], dtype=np.float32)
    err = np.array([0.1, np.nan, 5.0, 0.2], dtype=np.float32)
    expected = apply_invalid_convention(rate, err, convention)
    if where == "in place":
        out = (rate, err)
    else:
        out = (np.empty_like(rate), np.empty_like(err))
    before = (rate.copy(), err.copy())
    result = apply_invalid_convention(rate, err, convention, out=out)
    assert result[0] is out[0] and result[1] is out[1]
    for got, want in zip(result, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    if where == "other arrays":  # the inputs are not touched
        for array, copy in zip((rate, err), before, strict=True):
            np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("convention", ["nan", "calwf3"])
def test_invalid_convention_returns_new_arrays(convention):
    rate = np.array([1.0, np.nan, -np.inf, 2.0], dtype=np.float32)
    err = np.array([0.1, np.nan, 5.0, 0.2], dtype=np.float32)
    new_rate, new_err = apply_invalid_convention(rate, err, convention)
    assert new_rate is not rate and new_err is not err
    if convention == "nan":
        np.testing.assert_array_equal(new_rate, rate)
        np.testing.assert_array_equal(new_err, err)
    else:
        np.testing.assert_array_equal(new_rate, [1.0, 0.0, 0.0, 2.0])
        np.testing.assert_array_equal(
            new_err, np.array([0.1, CALWF3_INVALID_ERR, CALWF3_INVALID_ERR, 0.2], np.float32))
    assert np.isnan(rate[1])  # the inputs are not touched
    with pytest.raises(ValueError, match="convention"):
        apply_invalid_convention(rate, err, "zero")
