"""Property-based tests (hypothesis) of the jump detection and ramp fitting cores.

Each property holds for any read timing, any signal and any pixel layout hypothesis finds:
exact slopes on noiseless lines, invariance to a constant offset, linear scaling when the
weights are fixed, independence of row-block size and of pixel order, finite output for finite
input unless flagged, and inputs never mutated.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hstramp.core.jump import JumpParameters, detect_jumps
from hstramp.core.ramp_fit import NO_SLOPE, RampFitParameters, fit_ramps

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
GAIN, READ_NOISE = np.float32(2.4), np.float32(6.0)


@st.composite
def read_times(draw, min_reads=3, max_reads=16):
    """Strictly increasing read times from 0, with intervals from 0.05 s to 300 s (uneven)."""
    n = draw(st.integers(min_reads, max_reads))
    steps = draw(st.lists(st.floats(0.05, 300.0), min_size=n - 1, max_size=n - 1))
    return np.concatenate([[0.0], np.cumsum(steps)])


@st.composite
def lines(draw):
    """Noiseless linear ramps [ngroups, ny, nx]: per-pixel slope and offset, any timing."""
    times = draw(read_times())
    ny, nx = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    span = times[-1]
    slope = draw(st.lists(st.floats(-20.0, 2.0e4 / span), min_size=ny * nx, max_size=ny * nx))
    offset = draw(st.lists(st.floats(-1.0e3, 1.0e3), min_size=ny * nx, max_size=ny * nx))
    slope = np.array(slope).reshape(ny, nx)
    offset = np.array(offset).reshape(ny, nx)
    data = offset[None] + slope[None] * times[:, None, None]
    return times, data.astype(np.float32), slope


@st.composite
def noisy_ramps(draw):
    """Seeded noisy ramps (Poisson-like + read noise) with a random timing and layout."""
    times = draw(read_times(min_reads=4, max_reads=12))
    ny, nx = draw(st.integers(2, 6)), draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    rate = rng.uniform(0.0, 50.0, (ny, nx))
    signal = rate[None] * times[:, None, None]
    noise = rng.normal(0.0, 1.0, signal.shape) * np.sqrt(READ_NOISE**2 + signal / GAIN)
    return times, (signal + noise).astype(np.float32)


DEFAULT_FIT = RampFitParameters()


def _fit(times, data, groupdq=None, params=DEFAULT_FIT):
    groupdq = np.zeros(data.shape, np.uint16) if groupdq is None else groupdq
    return fit_ramps(data, groupdq, times, GAIN, READ_NOISE, params)


@SETTINGS
@given(lines())
def test_noiseless_lines_give_the_exact_slope(case):
    times, data, slope = case
    result = _fit(times, data)
    scale = np.abs(data).max() / times[-1]
    np.testing.assert_allclose(result.rate, slope, rtol=1e-4, atol=1e-5 * scale + 1e-6)
    assert (result.samp == len(times)).all()
    np.testing.assert_allclose(result.time, times[-1], rtol=1e-6)


@SETTINGS
@given(noisy_ramps(), st.floats(-5.0e3, 5.0e3))
def test_a_constant_offset_changes_nothing(case, offset):
    times, data = case
    base = _fit(times, data)
    shifted = _fit(times, (data + np.float32(offset)).astype(np.float32))
    np.testing.assert_allclose(shifted.rate, base.rate, rtol=1e-3, atol=2e-3)
    np.testing.assert_array_equal(shifted.dq, base.dq)


@SETTINGS
@given(noisy_ramps(), st.floats(0.1, 10.0))
def test_slope_scales_with_the_data_when_weights_are_fixed(case, factor):
    times, data = case
    params = RampFitParameters(weighting="unweighted")
    base = _fit(times, data, params=params)
    scaled = _fit(times, (data * np.float32(factor)).astype(np.float32), params=params)
    np.testing.assert_allclose(scaled.rate, factor * base.rate, rtol=1e-3, atol=1e-3 * factor)


@SETTINGS
@given(noisy_ramps(), st.integers(1, 6), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_blocks_or_pixel_order(case, block_rows, random):
    times, data = case
    groupdq = detect_jumps(data, np.zeros(data.shape, np.uint16), times, GAIN, READ_NOISE,
                           JumpParameters(flag_4_neighbors=False))
    whole = _fit(times, data, groupdq)
    blocked = _fit(times, data, groupdq, RampFitParameters(block_rows=block_rows))
    for name in ("rate", "err", "dq", "samp", "time"):
        np.testing.assert_array_equal(getattr(blocked, name), getattr(whole, name))
    ny, nx = data.shape[1:]
    order = list(range(ny * nx))
    random.shuffle(order)
    flat = data.reshape(len(times), 1, ny * nx)[:, :, order]
    flat_dq = detect_jumps(flat, np.zeros(flat.shape, np.uint16), times, GAIN, READ_NOISE,
                           JumpParameters(flag_4_neighbors=False))
    np.testing.assert_array_equal(flat_dq[:, 0], groupdq.reshape(len(times), -1)[:, order])
    shuffled = _fit(times, flat, flat_dq)
    np.testing.assert_array_equal(shuffled.rate[0], whole.rate.ravel()[order])


@SETTINGS
@given(noisy_ramps(), st.integers(1, 5))
def test_jump_flags_do_not_depend_on_blocks(case, block_rows):
    times, data = case
    data = data.copy()
    data[len(times) // 2:, 0, 0] += np.float32(5000.0)  # a cosmic ray with neighbours to flag
    zeros = np.zeros(data.shape, np.uint16)
    whole = detect_jumps(data, zeros, times, GAIN, READ_NOISE)
    blocked = detect_jumps(data, zeros, times, GAIN, READ_NOISE,
                           JumpParameters(block_rows=block_rows))
    np.testing.assert_array_equal(blocked, whole)


@SETTINGS
@given(noisy_ramps(), st.integers(0, 2**31 - 1))
def test_finite_input_gives_finite_output_unless_flagged(case, seed):
    times, data = case
    rng = np.random.default_rng(seed)
    groupdq = np.where(rng.random(data.shape) < 0.2, np.uint16(256), np.uint16(0))
    groupdq = np.maximum.accumulate(groupdq, axis=0)  # saturation stays
    result = _fit(times, data, groupdq)
    no_slope = (result.dq & NO_SLOPE) != 0
    for name in ("rate", "err", "var_poisson", "var_rnoise"):
        values = getattr(result, name)
        assert np.isfinite(values[~no_slope]).all(), name
        assert np.isnan(values[no_slope]).all(), name
    assert (result.samp[no_slope] == 0).all()


@SETTINGS
@given(noisy_ramps())
def test_inputs_are_never_mutated(case):
    times, data = case
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[-1, 0, 0] = 256
    copies = [a.copy() for a in (times, data, groupdq)]
    flagged = detect_jumps(data, groupdq, times, GAIN, READ_NOISE)
    _fit(times, data, flagged)
    for original, copy in zip((times, data, groupdq), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize("weighting", ["optimal", "unweighted"])
def test_uneven_timing_is_not_mistaken_for_even(weighting):
    """Guard against index-based weights: a ramp whose reads are uneven in time fits exactly."""
    times = np.array([0.0, 0.112705, 7.29408, 14.475455, 21.65683, 28.838205])
    data = (3.0 * times)[:, None, None].astype(np.float32) * np.ones((1, 2, 2), np.float32)
    result = _fit(times, data, params=RampFitParameters(weighting=weighting))
    np.testing.assert_allclose(result.rate, 3.0, rtol=1e-5)
