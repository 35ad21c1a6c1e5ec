"""Tests of hstramp.core.zoff, and of the ZSIG -> BLEV -> ZOFF order calwf3 uses."""

import numpy as np
import pytest

from hstramp.core.blev import bias_level_correct
from hstramp.core.dqflags import BAD_DETECTOR, HOT, SATURATED, ZERO_READ_SIGNAL
from hstramp.core.zoff import subtract_zero_read
from hstramp.core.zsig import zero_read_signal


def _ramp():
    rng = np.random.default_rng(8)
    data = rng.normal(11000.0, 5.0, (4, 12, 14)).astype(np.float32)
    data += np.array([0, 10, 80, 150], dtype=np.float32)[:, None, None]
    groupdq = np.zeros(data.shape, dtype=np.uint16)
    groupdq[0, 3, 3] = BAD_DETECTOR
    groupdq[2, 4, 4] = HOT
    return data, groupdq


def test_zoff_makes_read0_zero_and_ors_its_dq_into_every_read():
    data, groupdq = _ramp()
    result = subtract_zero_read(data, groupdq)
    assert not result.data[0].any()
    np.testing.assert_array_equal(result.data, data - data[0])
    assert np.all(result.groupdq[:, 3, 3] == BAD_DETECTOR)
    assert result.groupdq[2, 4, 4] == HOT
    assert result.groupdq[1, 4, 4] == 0


def test_zoff_with_a_saved_zeroth_read():
    data, groupdq = _ramp()
    saved = data[0] - np.float32(3.0)
    saved_dq = np.zeros(data.shape[1:], dtype=np.uint16)
    result = subtract_zero_read(data, groupdq, saved, saved_dq)
    np.testing.assert_allclose(result.data[0], 3.0, atol=1e-3)
    np.testing.assert_array_equal(result.groupdq, groupdq)


def test_calwf3_order_leaves_zsig_in_read0_and_its_flags_on_read0_only():
    """DQI copy -> ZSIG (adds zsig to read 0) -> BLEV on both -> ZOFF with the copy."""
    data, groupdq = _ramp()
    zsci = np.full(data.shape[1:], 11000.0, dtype=np.float32)
    data[0, 6, 7] += 2000.0  # signal before the zeroth read
    data[1:, 6, 7] += 2100.0
    saved, saved_dq = data[0].copy(), groupdq[0].copy()
    zs = zero_read_signal(
        data, groupdq, zsci, np.float32(5.0), np.float32(30000.0), 2.4, 20.0, trim=(2, 2, 2, 2)
    )
    assert zs.groupdq[0, 6, 7] == ZERO_READ_SIGNAL
    ramp = data.copy()
    ramp[0] = zs.zeroth_read
    sections = {"trim": (2, 2, 2, 2), "biassect_a": (0, 1), "biassect_b": (12, 13)}
    blev = bias_level_correct(ramp, **sections)
    blev_saved = bias_level_correct(saved, **sections)
    assert blev_saved.meanblev == blev.meanblev[0]  # same reference pixels
    result = subtract_zero_read(blev.data, zs.groupdq, blev_saved.data, saved_dq)
    np.testing.assert_allclose(result.data[0], zs.zsig, atol=2e-3)
    assert result.data[0, 6, 7] == pytest.approx(saved[6, 7] - 11000.0, abs=2e-3)
    assert result.groupdq[0, 6, 7] == ZERO_READ_SIGNAL
    assert not result.groupdq[1:, 6, 7].any()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.zeros((2, 3, 4)), np.zeros((2, 3, 5), np.uint16)), "one shape"),
        ((np.zeros((2, 3, 4)), np.zeros((2, 3, 4), np.uint16), np.zeros((3, 3))), "zeroth_read"),
        (
            (
                np.zeros((2, 3, 4)),
                np.zeros((2, 3, 4), np.uint16),
                None,
                np.zeros((4, 3), np.uint16),
            ),
            "zeroth_dq",
        ),
    ],
)
def test_zoff_shape_errors(args, match):
    with pytest.raises(ValueError, match=match):
        subtract_zero_read(*args)


def test_zoff_saturation_flag_of_read0_spreads_only_by_default():
    data, groupdq = _ramp()
    groupdq[0, 5, 5] = SATURATED
    assert np.all(subtract_zero_read(data, groupdq).groupdq[:, 5, 5] == SATURATED)
