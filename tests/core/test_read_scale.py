"""``read_scale`` (and ``pixeldq``, ``out``): the jump detection and the ramp fit on a
calibrated ramp, block by block, equal them on the accumulated-counts cube built in one go."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hstramp.core import dqflags
from hstramp.core.blocks import ramp_inputs
from hstramp.core.jump import JumpParameters, detect_jumps
from hstramp.core.ramp_fit import RampFitParameters, fit_ramps
from hstramp.core.units import accumulated_counts, count_scale

TIMES = np.array([0.0, 2.9, 12.9, 22.9, 42.9, 62.9, 82.9, 102.9])


def _calibrated_ramp(in_rates: bool, seed: int = 5):
    """A ramp as the steps leave it: read 0 holds the zeroth-read signal; rates or counts."""
    rng = np.random.default_rng(seed)
    shape = (TIMES.size, 40, 37)
    rate = rng.uniform(0.0, 50.0, shape[1:])
    counts = rate * TIMES[:, None, None] + rng.normal(0.0, 8.0, shape)
    counts[4:, 3, 3] += 900.0  # a cosmic ray
    data = counts.astype(np.float32)
    data[0] = rng.uniform(0.0, 30.0, shape[1:])  # zsig, not part of the ramp
    data[0, 5, 5] = np.nan  # read 0 never counts, whatever it holds
    data[6, 7, 7] = np.inf
    if in_rates:
        data[1:] /= TIMES[1:, None, None].astype(np.float32)
    groupdq = np.zeros(shape, np.uint16)
    groupdq[5:, 9, 9] = dqflags.SATURATED
    groupdq[4, 3, 3] = dqflags.CR_RAMP  # the read after the jump
    return data, groupdq


@pytest.mark.parametrize("in_rates", [True, False])
@pytest.mark.parametrize("block_rows", [0, 1, 7])
def test_fit_on_the_calibrated_ramp_equals_the_fit_on_counts(in_rates, block_rows):
    data, groupdq = _calibrated_ramp(in_rates)
    params = RampFitParameters(block_rows=block_rows)
    counts = accumulated_counts(data, TIMES, in_rates=in_rates)
    expected = fit_ramps(counts, groupdq, TIMES, 2.5, 9.0, params)
    before = data.copy()
    got = fit_ramps(data, groupdq, TIMES, 2.5, 9.0, params,
                    read_scale=count_scale(TIMES, in_rates=in_rates))
    for field in dataclasses.fields(expected):
        want = getattr(expected, field.name)
        if isinstance(want, np.ndarray):
            np.testing.assert_array_equal(getattr(got, field.name), want, err_msg=field.name)
    np.testing.assert_array_equal(data, before)  # the ramp is not touched


JUMP_CASES = {
    "defaults": JumpParameters(),
    "small blocks": JumpParameters(block_rows=3),
    "neighbours and after-jump reads": JumpParameters(
        flag_4_neighbors=True, min_jump_to_flag_neighbors=5.0, after_jump_flag_dn1=100.0,
        after_jump_flag_time1=30.0),
}


@pytest.mark.parametrize("in_rates", [True, False])
@pytest.mark.parametrize("case", sorted(JUMP_CASES))
def test_jumps_on_the_calibrated_ramp_equal_the_jumps_on_counts(in_rates, case):
    data, groupdq = _calibrated_ramp(in_rates)
    groupdq[:, 3, 3] = 0  # let the search find the cosmic ray itself
    pixeldq = np.zeros(data.shape[1:], np.uint16)
    pixeldq[11, 12] = dqflags.BAD_DETECTOR  # do-not-use: the pixel takes no part
    pixeldq[3, 4] = dqflags.HOT  # informational: carried into every read
    params = JUMP_CASES[case]
    counts = accumulated_counts(data, TIMES, in_rates=in_rates)
    expected = detect_jumps(counts, groupdq | pixeldq, TIMES, 2.5, 9.0, params)
    assert expected[4, 3, 3] & dqflags.CR_RAMP
    scale = count_scale(TIMES, in_rates=in_rates)
    before = (data.copy(), groupdq.copy())
    separate = detect_jumps(data, groupdq, TIMES, 2.5, 9.0, params, pixeldq=pixeldq,
                            read_scale=scale)
    np.testing.assert_array_equal(separate, expected)
    np.testing.assert_array_equal(data, before[0])
    np.testing.assert_array_equal(groupdq, before[1])
    in_place = detect_jumps(data, groupdq, TIMES, 2.5, 9.0, params, pixeldq=pixeldq,
                            read_scale=scale, out=groupdq)
    assert in_place is groupdq
    np.testing.assert_array_equal(groupdq, expected)


@pytest.mark.parametrize(("read_scale", "message"), [
    (np.ones(3), "read_scale must hold 8 finite numbers"),
    (np.r_[np.ones(7), np.nan], "read_scale must hold 8 finite numbers"),
])
def test_a_bad_read_scale_is_refused(read_scale, message):
    data, groupdq = _calibrated_ramp(False)
    with pytest.raises(ValueError, match=message):
        ramp_inputs(data, groupdq, TIMES, 2.5, 9.0, read_scale)


@pytest.mark.parametrize("pixeldq", [np.zeros((3, 3), np.uint16), np.zeros((40, 37), np.int32)])
def test_a_bad_pixeldq_is_refused(pixeldq):
    data, groupdq = _calibrated_ramp(False)
    with pytest.raises(ValueError, match=r"pixeldq must be an unsigned integer array of shape"):
        detect_jumps(data, groupdq, TIMES, 2.5, 9.0, pixeldq=pixeldq)


def test_count_scale():
    np.testing.assert_array_equal(count_scale(TIMES, in_rates=True), TIMES.astype(np.float32))
    np.testing.assert_array_equal(count_scale(TIMES, in_rates=False), np.ones(8, np.float32))


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan, 3.0e38])
def test_read_zero_counts_as_zero_without_a_warning(value):
    """Read 0's scale is a time of 0: whatever read 0 holds (inf * 0 would warn), it is 0;
    a later read too large for float32 once scaled is inf (an unusable read), silently. The
    same for the whole cube (accumulated_counts, the last-minus-first and TVB path)."""
    data = np.full((3, 2, 2), 2.0, np.float32)
    data[0, 0, 0] = value
    data[2, 1, 1] = 3.0e38
    inputs = ramp_inputs(data, np.zeros(data.shape, np.uint16), [0.0, 1.0, 2.0], 2.5, 9.0,
                         read_scale=[0.0, 1.0, 2.0])
    block = inputs.data_block(slice(0, 2))
    np.testing.assert_array_equal(block[0], 0.0)
    assert block[2, 3] == np.inf and block[1, 0] == 2.0
    index = np.arange(data.size)
    np.testing.assert_array_equal(inputs.values_at(index), block.reshape(-1))
    counts = accumulated_counts(data, [0.0, 1.0, 2.0], in_rates=True)
    np.testing.assert_array_equal(counts.reshape(3, -1), block)
