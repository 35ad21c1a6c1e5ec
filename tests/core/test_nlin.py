"""Tests of hstramp.core.nlin: the polynomial, NODE, zsig, saturation carried forward."""

import numpy as np
import pytest

from hstramp.core.dqflags import BAD_DETECTOR, HOT, SATURATED, ZERO_READ_SIGNAL
from hstramp.core.nlin import linearity_factor, nonlinearity_correct

TRIM = (1, 1, 1, 1)
NGROUPS, NY, NX = 4, 5, 6
COEFFS = np.array([1e-3, -2e-7, 3e-11], dtype=np.float32)  # c0, c1, c2
NODE = 30000.0


def _factor(s):
    s = np.float64(s)
    return 1.0 + COEFFS[0] + COEFFS[1] * s + COEFFS[2] * s * s


def _inputs(values=(0.0, 1000.0, 5000.0, 9000.0)):
    data = np.empty((NGROUPS, NY, NX), dtype=np.float32)
    data[:] = np.asarray(values, dtype=np.float32)[:, None, None]
    return {
        "data": data,
        "groupdq": np.zeros(data.shape, dtype=np.uint16),
        "coeffs": np.broadcast_to(COEFFS[:, None, None], (3, NY, NX)).copy(),
        "node": np.full((NY, NX), NODE, dtype=np.float32),
        "nlin_dq": np.zeros((NY, NX), dtype=np.uint16),
    }


@pytest.mark.parametrize(
    ("coeffs", "signal", "expected"),
    [
        ([0.0], 100.0, 1.0),
        ([0.01], 100.0, 1.01),
        ([0.0, 1e-4], 100.0, 1.01),
        ([0.0, 0.0, 1e-6], 100.0, 1.01),
        ([0.01, 1e-4, 1e-6, 1e-8], 100.0, 1.04),
        ([0.5, 1.0], 0.0, 1.5),  # s**0 == 1 even at s = 0
    ],
)
def test_linearity_factor(coeffs, signal, expected):
    coeffs = np.array(coeffs, dtype=np.float64)[:, None]
    assert linearity_factor(np.array([signal]), coeffs)[0] == pytest.approx(expected, rel=1e-6)


def test_nlin_applies_the_polynomial_below_node():
    inputs = _inputs()
    result = nonlinearity_correct(**inputs, trim=TRIM)
    for k, s in enumerate((0.0, 1000.0, 5000.0, 9000.0)):
        assert result.data[k, 2, 2] == pytest.approx(s * _factor(s), rel=1e-6)
    assert not result.groupdq.any()


def test_nlin_leaves_the_reference_border_alone():
    inputs = _inputs()
    inputs["nlin_dq"][:] = HOT
    result = nonlinearity_correct(**inputs, trim=TRIM)
    border = np.ones((NY, NX), bool)
    border[1:-1, 1:-1] = False
    np.testing.assert_array_equal(result.data[:, border], inputs["data"][:, border])
    assert not result.groupdq[:, border].any()
    assert np.all(result.groupdq[:, ~border] == HOT)


@pytest.mark.parametrize(
    ("values", "first_saturated"),
    [
        ((0.0, 1000.0, 31000.0, 32000.0), 2),
        ((0.0, 31000.0, 29000.0, 20000.0), 1),  # falls back below NODE: still saturated
        ((0.0, 1000.0, 5000.0, 30000.0), None),  # at NODE exactly: corrected (<=)
    ],
)
def test_nlin_flags_above_node_and_carries_saturation_forward(values, first_saturated):
    inputs = _inputs(values)
    result = nonlinearity_correct(**inputs, trim=TRIM)
    for k, s in enumerate(values):
        saturated = first_saturated is not None and k >= first_saturated
        assert bool(result.groupdq[k, 2, 2] & SATURATED) == saturated
        expected = s if saturated else s * _factor(s)
        assert result.data[k, 2, 2] == pytest.approx(expected, rel=1e-6)


def test_nlin_skips_pixels_already_saturated():
    inputs = _inputs()
    inputs["groupdq"][1, 2, 2] = SATURATED
    result = nonlinearity_correct(**inputs, trim=TRIM)
    np.testing.assert_array_equal(result.data[1:, 2, 2], inputs["data"][1:, 2, 2])
    assert np.all(result.groupdq[1:, 2, 2] == SATURATED)
    assert result.groupdq[0, 2, 2] == 0


def test_nlin_carries_saturation_forward_over_the_whole_frame():
    inputs = _inputs()
    inputs["groupdq"][1, 0, 0] = SATURATED  # a reference pixel
    result = nonlinearity_correct(**inputs, trim=TRIM)
    np.testing.assert_array_equal(result.groupdq[:, 0, 0], [0, SATURATED, SATURATED, SATURATED])


def test_nlin_adds_and_removes_zsig_except_on_the_zeroth_read():
    inputs = _inputs((800.0, 1000.0, 5000.0, 9000.0))
    zsig = np.zeros((NY, NX), dtype=np.float32)
    zsig[2, 2] = 800.0
    zsig_dq = np.zeros((NY, NX), dtype=np.uint16)
    result = nonlinearity_correct(**inputs, trim=TRIM, zsig=zsig, zsig_dq=zsig_dq)
    assert result.data[0, 2, 2] == pytest.approx(800.0 * _factor(800.0), rel=1e-6)
    for k, s in enumerate((1000.0, 5000.0, 9000.0), start=1):
        total = s + 800.0
        assert result.data[k, 2, 2] == pytest.approx(total * _factor(total) - 800.0, rel=1e-6)
    assert result.data[2, 3, 3] == pytest.approx(5000.0 * _factor(5000.0), rel=1e-6)


def test_nlin_zsig_pushes_a_read_over_node():
    inputs = _inputs((0.0, 1000.0, 29500.0, 29800.0))
    zsig = np.full((NY, NX), 600.0, dtype=np.float32)
    result = nonlinearity_correct(
        **inputs, trim=TRIM, zsig=zsig, zsig_dq=np.zeros((NY, NX), np.uint16)
    )
    np.testing.assert_array_equal(result.groupdq[:, 2, 2], [0, 0, SATURATED, SATURATED])
    assert result.data[2, 2, 2] == 29500.0  # value kept, zsig not added


def test_nlin_copies_zero_read_signal_flag_into_later_reads():
    inputs = _inputs()
    zsig_dq = np.zeros((NY, NX), dtype=np.uint16)
    zsig_dq[2, 2] = ZERO_READ_SIGNAL | SATURATED | BAD_DETECTOR  # only the 2048 bit is copied
    result = nonlinearity_correct(
        **inputs, trim=TRIM, zsig=np.zeros((NY, NX), np.float32), zsig_dq=zsig_dq
    )
    np.testing.assert_array_equal(result.groupdq[:, 2, 2], [0] + [ZERO_READ_SIGNAL] * 3)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"zsig": np.zeros((NY, NX), np.float32)}, "zsig_dq"),
        ({"coeffs": np.zeros((3, NY, NX + 1), np.float32)}, "coeffs"),
        ({"node": np.zeros((NY + 1, NX), np.float32)}, "node"),
    ],
)
def test_nlin_rejects_bad_inputs(change, match):
    inputs = _inputs()
    inputs.update(change)
    with pytest.raises(ValueError, match=match):
        nonlinearity_correct(**inputs, trim=TRIM)
