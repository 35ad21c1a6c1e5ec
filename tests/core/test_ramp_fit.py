"""Tests of hstramp.core.ramp_fit: optimally weighted slopes on real read times."""

import numpy as np
import pytest

from hstramp.core import dqflags
from hstramp.core.jump import JumpParameters, detect_jumps
from hstramp.core.ramp_fit import NO_SLOPE, POWERS, RampFitParameters, fit_ramps
from hstramp.core.ramp_fit.fixsen import segment_tables
from tests.core.test_jump import GAIN, READ_NOISE, SPARS, STEP, TIMINGS, simulate_ramps

CR = dqflags.CR_RAMP
SAT = dqflags.SATURATED
FILL = dqflags.FILL

#: Rates on a 1/64 DN grid so that ramps and offsets are exact in float32.
RATE = 10.0 + 1 / 64


def ramp(times, rate=RATE, offset=0.0, shape=(2, 3)):
    """Noiseless ``offset + rate * t`` ramps, float32."""
    times = np.asarray(times)
    return (offset + rate * times[:, None, None] * np.ones((1, *shape))).astype(np.float32)


def fit(data, groupdq=None, times=SPARS, **params):
    """fit_ramps with the test gain and read noise."""
    if groupdq is None:
        groupdq = np.zeros(data.shape, np.uint16)
    pixeldq = params.pop("pixeldq", None)
    return fit_ramps(data, groupdq, times, GAIN, READ_NOISE, RampFitParameters(**params), pixeldq)


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weighting", "optim"),
        ("weighting", None),
        ("suppress_one_group", "yes"),
        ("block_rows", -2),
        ("block_rows", 1.5),
        ("save_segments", 1),
    ],
)
def test_invalid_parameter_is_rejected_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        RampFitParameters(**{field: value})


def test_bad_pixeldq_raises():
    data = ramp(SPARS)
    with pytest.raises(ValueError, match="pixeldq"):
        fit(data, pixeldq=np.zeros((3, 3), np.uint16))


# ---------------------------------------------------------------- segment tables


@pytest.mark.parametrize("timing", TIMINGS)
def test_segment_tables_are_unbiased_slope_estimators(timing):
    times = TIMINGS[timing]
    for first, last in [(0, 15), (0, 1), (3, 9), (14, 15)]:
        for power in range(len(POWERS)):
            tables = segment_tables(times, [first], [last], [power])
            a = tables.coefficients[:, 0]
            assert abs(a.sum()) < 1e-12
            assert a @ times == pytest.approx(1.0, rel=1e-12)
            assert (a[:first] == 0).all() and (a[last + 1 :] == 0).all()
            assert tables.length[0] == last - first + 1
            assert tables.span[0] == pytest.approx(times[last] - times[first])
            assert tables.power[0] == POWERS[power]


def test_segment_tables_match_the_evenly_spaced_formulas():
    """P = 0: OLS read-noise variance 12 / (dt^2 (n^3 - n)); n = 2: last minus first."""
    times = np.arange(10) * 3.0
    tables = segment_tables(times, [0, 4, 0], [9, 5, 0], [0, 3, 2])
    rnoise, poisson = tables.weighted_rnoise, tables.weighted_poisson
    information = tables.information
    assert rnoise[0] / information[0] ** 2 == pytest.approx(12 / (9 * (1000 - 10)))
    assert rnoise[1] / information[1] ** 2 == pytest.approx(2 / 9)
    assert poisson[1] / information[1] ** 2 == pytest.approx(1 / 3)
    # first == last: no segment, every entry 0
    assert information[2] == 0 and (tables.coefficients[:, 2] == 0).all()
    assert tables.length[2] == 0 and tables.span[2] == 0


# ---------------------------------------------------------------- noiseless ramps


@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("weighting", ["optimal", "unweighted"])
@pytest.mark.parametrize("rate", [0.0, RATE, 1000.0 + 1 / 8])
def test_noiseless_ramp_gives_the_exact_slope(timing, weighting, rate):
    times = TIMINGS[timing]
    result = fit(ramp(times, rate), times=times, weighting=weighting)
    np.testing.assert_allclose(result.rate, rate, rtol=1e-6, atol=1e-6)
    assert (result.samp == 16).all()
    np.testing.assert_allclose(result.time, times[-1], rtol=1e-6)
    assert (result.dq == 0).all()


@pytest.mark.parametrize("timing", TIMINGS)
def test_a_constant_added_to_every_read_changes_nothing(timing):
    times = TIMINGS[timing]
    rng = np.random.default_rng(3)
    data = np.round(simulate_ramps(rng, times, np.full((4, 5), 40.0)) * 64) / 64
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[7:, 1, 1] = CR
    groupdq[12:, 2, 2] = SAT
    base = fit(data, groupdq, times)
    shifted = fit(data + np.float32(1024.0), groupdq, times)
    for name in ("rate", "err", "var_poisson", "var_rnoise", "dq", "samp", "time"):
        np.testing.assert_array_equal(getattr(shifted, name), getattr(base, name), err_msg=name)


def test_index_weighting_would_be_wrong_on_spars():
    """On SPARS a fit against read index is biased; against time it is exact."""
    data = ramp(SPARS, 50.0)
    result = fit(data, times=SPARS)
    np.testing.assert_allclose(result.rate, 50.0, rtol=1e-6)
    by_index = np.polyfit(np.arange(16) * np.diff(SPARS).mean(), data[:, 0, 0], 1)[0]
    assert abs(by_index / 50.0 - 1) > 0.01


# ---------------------------------------------------------------- special cases

T = SPARS


def case(groupdq_reads=None, nan_reads=(), pixeldq=0, rate=RATE):
    """One pixel: SPARS ramp, flags per read from a {read: flag} dict."""
    data = ramp(T, rate, shape=(1, 1))
    groupdq = np.zeros(data.shape, np.uint16)
    for read, flag in (groupdq_reads or {}).items():
        groupdq[read] |= flag
    for read in nan_reads:
        data[read] = np.nan
    return data, groupdq, np.full((1, 1), pixeldq, np.uint16)


def jumps_at(*reads, size=500.0):
    """A SPARS ramp with jumps of ``size`` DN before the given reads, flagged."""
    data, groupdq, pixeldq = case()
    for read in reads:
        data[read:] += size
        groupdq[read] |= CR
    return data, groupdq, pixeldq


def saturated_from(read):
    return {k: SAT for k in range(read, 16)}


SPECIAL_CASES = {
    # name: (inputs, params, rate, samp, time, dq)
    "all saturated": (case(saturated_from(0)), {}, np.nan, 0, 0.0, SAT | NO_SLOPE),
    "saturated from read 1": (case(saturated_from(1)), {}, np.nan, 0, 0.0, SAT | NO_SLOPE),
    "saturated from read 1, no suppression": (
        case(saturated_from(1)), {"suppress_one_group": False}, np.nan, 0, 0.0, SAT | NO_SLOPE),
    "saturated from read 2": (case(saturated_from(2)), {}, RATE, 2, T[1], 0),
    "saturated from read 9": (case(saturated_from(9)), {}, RATE, 9, T[8], 0),
    "one good read, suppressed": (
        case({0: FILL} | saturated_from(2)), {}, np.nan, 0, 0.0, FILL | NO_SLOPE),
    "one good read, not suppressed": (
        case({0: FILL} | saturated_from(2)), {"suppress_one_group": False}, RATE, 1, T[1], FILL),
    "one good read after a jump, not suppressed": (
        case({0: FILL, 1: CR} | saturated_from(2)), {"suppress_one_group": False},
        np.nan, 0, 0.0, FILL | NO_SLOPE),
    "no usable read": (
        case({k: dqflags.BAD_DETECTOR for k in range(16)}), {}, np.nan, 0, 0.0,
        dqflags.BAD_DETECTOR | NO_SLOPE),
    "pixel DQ do-not-use": (case(pixeldq=dqflags.BAD_DETECTOR), {}, np.nan, 0, 0.0,
                            dqflags.BAD_DETECTOR | NO_SLOPE),
    "pixel DQ hot": (case(pixeldq=dqflags.HOT), {}, RATE, 16, T[15], dqflags.HOT),
    "jump in first difference": (jumps_at(1), {}, RATE, 15, T[15] - T[1], 0),
    "jump in last difference": (jumps_at(15), {}, RATE, 15, T[14], 0),
    "jump in second-last difference": (jumps_at(14), {}, RATE, 16, T[13] + T[15] - T[14], 0),
    "two jumps": (jumps_at(5, 11), {}, RATE, 16, T[4] + T[10] - T[5] + T[15] - T[11], 0),
    "jumps on consecutive reads": (jumps_at(5, 6), {}, RATE, 15, T[4] + T[15] - T[6], 0),
    "two-read segments only": (jumps_at(2, 4, 6, 8, 10, 12, 14), {}, RATE, 16,
                               sum(T[k + 1] - T[k] for k in range(0, 16, 2)), 0),
    "do-not-use read in the middle": (
        case({7: dqflags.REED_SOLOMON}), {}, RATE, 15, T[6] + T[15] - T[8], dqflags.REED_SOLOMON),
    "NaN read in the middle": (case(nan_reads=(7,)), {}, RATE, 15, T[6] + T[15] - T[8], 0),
    "NaN everywhere": (case(nan_reads=range(16)), {}, np.nan, 0, 0.0, NO_SLOPE),
    "zero-read signal": (case({0: dqflags.ZERO_READ_SIGNAL}), {}, RATE, 16, T[15], 0),
    "informational flags stay": (
        case({3: dqflags.WARM | dqflags.UNSTABLE}), {}, RATE, 16, T[15],
        dqflags.WARM | dqflags.UNSTABLE),
}  # fmt: skip


@pytest.mark.parametrize("name", SPECIAL_CASES)
def test_special_case(name):
    (data, groupdq, pixeldq), params, rate, samp, time, dq = SPECIAL_CASES[name]
    result = fit(data, groupdq, T, pixeldq=pixeldq, **params)
    if np.isnan(rate):
        for array in (result.rate, result.err, result.var_poisson, result.var_rnoise):
            assert np.isnan(array).all()
    else:
        np.testing.assert_allclose(result.rate, rate, rtol=1e-6)
        assert np.isfinite(result.err).all() and (result.err > 0).all()
    assert result.samp[0, 0] == samp
    assert result.time[0, 0] == pytest.approx(time, rel=1e-6)
    assert result.dq[0, 0] == dq


def test_one_read_slope_variances_are_a_two_point_difference():
    (data, groupdq, pixeldq), params, *_ = SPECIAL_CASES["one good read, not suppressed"]
    result = fit(data, groupdq, T, pixeldq=pixeldq, **params)
    t = T[1]
    assert result.var_rnoise[0, 0] == pytest.approx(2 * READ_NOISE**2 / t**2, rel=1e-6)
    assert result.var_poisson[0, 0] == pytest.approx(RATE / GAIN / t, rel=1e-6)


def test_jump_segments_are_combined_by_read_noise_information():
    data, groupdq, _ = jumps_at(6)
    data[6:] += np.float32(3.0) * (T[6:, None, None] - T[6])  # second segment 3 DN/s faster
    result = fit(data, groupdq, weighting="unweighted", save_segments=True)
    first = np.sum((T[:6] - T[:6].mean()) ** 2)
    second = np.sum((T[6:] - T[6:].mean()) ** 2)
    expected = (first * RATE + second * (RATE + 3.0)) / (first + second)
    assert result.rate[0, 0] == pytest.approx(expected, rel=1e-6)
    segments = result.segments
    np.testing.assert_allclose(segments.slope[:, 0, 0], [RATE, RATE + 3.0], rtol=1e-6)
    np.testing.assert_allclose(segments.weight[:, 0, 0], [first, second] / (first + second))
    assert segments.first_read[:, 0, 0].tolist() == [0, 6]
    assert segments.last_read[:, 0, 0].tolist() == [5, 15]


def test_dq_collapse_follows_calwf3_flt_rules():
    data = ramp(T, shape=(1, 5))
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[:, :, 0] = dqflags.ZERO_READ_SIGNAL  # removed
    groupdq[7:, :, 1] |= CR  # removed
    groupdq[12:, :, 2] = SAT  # saturated late: removed
    groupdq[1:, :, 3] = SAT  # saturated in the first read: kept
    groupdq[4, :, 4] = dqflags.GHOST  # kept
    pixeldq = np.array([[dqflags.HOT, 0, dqflags.WARM, 0, 0]], np.uint16)
    result = fit(data, groupdq, pixeldq=pixeldq)
    assert result.dq[0].tolist() == [dqflags.HOT, 0, dqflags.WARM, SAT | NO_SLOPE, dqflags.GHOST]


# ---------------------------------------------------------------- weighting


def test_optimal_and_unweighted_differ_on_noisy_bright_ramps():
    rng = np.random.default_rng(8)
    data = simulate_ramps(rng, STEP, np.full((20, 20), 300.0))
    optimal = fit(data, times=STEP)
    unweighted = fit(data, times=STEP, weighting="unweighted")
    assert not np.allclose(optimal.rate, unweighted.rate, rtol=1e-4)
    # at high S/N the optimal weights give a smaller variance
    assert np.median(optimal.err) < np.median(unweighted.err)


@pytest.mark.parametrize(
    ("snr", "power"), [(2, 0.0), (7, 0.4), (15, 1.0), (30, 3.0), (70, 6.0), (200, 10.0)]
)
def test_power_follows_the_segment_signal_to_noise(snr, power):
    """S/N = S / sqrt(RN^2 + S) in electrons over the segment (stcal's table)."""
    noise = READ_NOISE * GAIN
    electrons = (snr**2 + np.sqrt(snr**4 + 4 * snr**2 * noise**2)) / 2
    result = fit(ramp(T, electrons / GAIN / T[-1], shape=(1, 1)), save_segments=True)
    assert result.segments.power[0, 0, 0] == power


# ---------------------------------------------------------------- statistics


@pytest.mark.parametrize("timing", ["SPARS", "STEP"])
def test_errors_are_calibrated_on_uneven_ramps(timing):
    """(slope - truth) / err: median ~ 0 and std ~ 1 over four decades of rate."""
    rng = np.random.default_rng(11 if timing == "SPARS" else 12)
    times = TIMINGS[timing]
    rate = 10 ** rng.uniform(-1.5, 2.5, (250, 250))
    data = simulate_ramps(rng, times, rate)
    result = fit(data, times=times)
    pull = (result.rate - rate) / result.err
    assert abs(np.median(pull)) < 0.02
    assert abs(np.std(pull) - 1) < 0.05


def test_detect_then_fit_recovers_rates_with_cosmic_rays():
    rng = np.random.default_rng(21)
    rate = 10 ** rng.uniform(-1, 2, (120, 120))
    data = simulate_ramps(rng, SPARS, rate)
    hits = rng.random(rate.shape) < 0.2
    read = rng.integers(1, 16, rate.shape)
    for k in range(1, 16):
        data[k:, hits & (read == k)] += 2000.0
    groupdq = detect_jumps(data, np.zeros(data.shape, np.uint16), SPARS, GAIN, READ_NOISE,
                           JumpParameters(flag_4_neighbors=False))  # fmt: skip
    result = fit(data, groupdq)
    pull = (result.rate - rate) / result.err
    assert abs(np.median(pull[hits])) < 0.05
    assert abs(np.std(pull[hits]) - 1) < 0.1


# ---------------------------------------------------------------- blocks, inputs


@pytest.fixture(scope="module")
def awkward_exposure():
    """SPARS ramps with jumps, saturation, unusable and NaN reads, per-pixel noise."""
    rng = np.random.default_rng(99)
    ny, nx = 19, 13
    rate = 10 ** rng.uniform(-1, 3, (ny, nx))
    data = simulate_ramps(rng, SPARS, rate)
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[rng.random(data.shape) < 0.08] |= CR
    groupdq[data > 40000] |= SAT
    groupdq[rng.random(data.shape) < 0.02] |= dqflags.FILL
    groupdq[1:, 3, 3] |= SAT
    data[rng.random(data.shape) < 0.01] = np.nan
    gain = rng.uniform(2.2, 2.6, (ny, nx)).astype(np.float32)
    noise = rng.uniform(5, 7, (ny, nx)).astype(np.float32)
    pixeldq = np.zeros((ny, nx), np.uint16)
    pixeldq[5, 5] = dqflags.BAD_DETECTOR
    return data, groupdq, gain, noise, pixeldq


def fit_awkward(exposure, **params):
    data, groupdq, gain, noise, pixeldq = exposure
    return fit_ramps(data, groupdq, SPARS, gain, noise, RampFitParameters(**params), pixeldq)


@pytest.mark.parametrize("block_rows", [1, 7])
@pytest.mark.parametrize("suppress", [True, False])
def test_results_do_not_depend_on_block_rows(awkward_exposure, block_rows, suppress):
    whole = fit_awkward(awkward_exposure, save_segments=True, suppress_one_group=suppress)
    blocks = fit_awkward(
        awkward_exposure, save_segments=True, suppress_one_group=suppress, block_rows=block_rows
    )
    for name in ("rate", "err", "var_poisson", "var_rnoise", "dq", "samp", "time"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(whole, name), err_msg=name)
    for name in vars(whole.segments):
        np.testing.assert_array_equal(
            getattr(blocks.segments, name), getattr(whole.segments, name), err_msg=name
        )
    assert whole.segments.slope.shape[0] >= 3
    assert np.isnan(whole.rate[5, 5]) and np.isnan(whole.rate[3, 3])


def test_segments_reproduce_the_rate(awkward_exposure):
    result = fit_awkward(awkward_exposure, save_segments=True)
    segments = result.segments
    combined = np.nansum(segments.weight * segments.slope, axis=0)
    fitted = np.isfinite(result.rate)
    np.testing.assert_allclose(combined[fitted], result.rate[fitted], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(np.nansum(segments.weight, axis=0)[fitted], 1.0, rtol=1e-6)
    assert (np.isnan(segments.slope) == (segments.first_read < 0)).all()
    assert fit_awkward(awkward_exposure).segments is None


def test_inputs_are_not_modified(awkward_exposure):
    arrays = awkward_exposure
    copies = [a.copy() for a in arrays]
    for array in arrays:
        array.flags.writeable = False
    try:
        result = fit_awkward(arrays, save_segments=True)
    finally:
        for array in arrays:
            array.flags.writeable = True
    for array, copy in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(array, copy)
    assert result.rate.dtype == np.float32 and result.dq.dtype == np.uint16
    assert result.samp.dtype == np.int16 and result.time.dtype == np.float32


def test_invalid_pixel_gain_or_noise_gives_no_slope():
    data = ramp(T, shape=(1, 3))
    gain = np.array([[GAIN, 0.0, np.nan]], np.float32)
    noise = np.array([[np.nan, READ_NOISE, READ_NOISE]], np.float32)
    result = fit_ramps(data, np.zeros(data.shape, np.uint16), T, gain, noise)
    assert np.isnan(result.rate).all()
    assert (result.dq == NO_SLOPE).all()
