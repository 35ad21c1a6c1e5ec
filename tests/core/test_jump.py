"""Tests of hstramp.core.jump: two-point-difference jump detection on real read times."""

import math

import numpy as np
import pytest

from hstramp.core import dqflags
from hstramp.core.blocks import DO_NOT_USE
from hstramp.core.jump import JumpParameters, detect_jumps
from hstramp.core.jump._sorting import sorting_network

CR = dqflags.CR_RAMP
SAT = dqflags.SATURATED
GAIN = 2.5  # e-/DN
READ_NOISE = 6.0  # DN per read

#: WFC3 sample sequences (seconds since the zeroth read, 16 reads).
RAPID = np.arange(16) * 2.932
SPARS = np.concatenate([[0.0, 0.112705], 7.29408 + 7.181375 * np.arange(14)])
STEP = np.array(
    [0.0, 0.278, 2.931, 5.864, 8.796, 11.728, 24.228, 49.228, 99.228, 149.228,
     199.228, 249.228, 299.228, 349.228, 399.228, 449.228]
)  # fmt: skip
TIMINGS = {"RAPID": RAPID, "SPARS": SPARS, "STEP": STEP}


def simulate_ramps(rng, times, rate, gain=GAIN, read_noise=READ_NOISE):
    """Ramps [ngroups, *rate.shape] in DN: cumulative Poisson counts plus read noise.

    Parameters
    ----------
    rng : numpy Generator
    times : array [ngroups]
    rate : array
        True rate per pixel, DN/s.

    Returns
    -------
    ndarray float32
    """
    rate = np.asarray(rate, dtype=np.float64)
    steps = np.diff(times).reshape((-1,) + (1,) * rate.ndim)
    electrons = rng.poisson(rate * gain * steps)
    signal = np.concatenate([np.zeros((1, *rate.shape)), np.cumsum(electrons, axis=0) / gain])
    return (signal + rng.normal(0.0, read_noise, signal.shape)).astype(np.float32)


def linear_ramps(times, rate, ny=3, nx=4, offset=0.0):
    """Noiseless ramps ``offset + rate * t`` (float32)."""
    return (offset + rate * np.asarray(times)[:, None, None] * np.ones((1, ny, nx))).astype(
        np.float32
    )


def flagged(groupdq):
    """Boolean cube: where CR_RAMP is set."""
    return (groupdq & CR) != 0


def no_flags(data):
    """A groupdq with no flags, matching ``data``."""
    return np.zeros(data.shape, np.uint16)


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rejection_threshold", 0.0),
        ("rejection_threshold", -1.0),
        ("rejection_threshold", math.inf),
        ("rejection_threshold", math.nan),
        ("four_group_rejection_threshold", 0.0),
        ("three_group_rejection_threshold", -3.0),
        ("flag_4_neighbors", 1),
        ("min_jump_to_flag_neighbors", -1.0),
        ("max_jump_to_flag_neighbors", 5.0),  # must exceed min (10)
        ("after_jump_flag_dn1", -1.0),
        ("after_jump_flag_time1", math.inf),
        ("after_jump_flag_dn2", math.nan),
        ("after_jump_flag_time2", -0.5),
        ("block_rows", -1),
        ("block_rows", 2.5),
        ("block_rows", True),
    ],
)
def test_invalid_parameter_is_rejected_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        JumpParameters(**{field: value})


def test_default_parameters_are_valid():
    params = JumpParameters()
    assert params.rejection_threshold == 4.0
    assert params.threshold_table(15)[[2, 3, 4, 15]].tolist() == [6.0, 5.0, 4.0, 4.0]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 9, 15, 16, 17])
def test_sorting_network_sorts(size):
    rng = np.random.default_rng(size)
    values = rng.normal(size=(size, 500))
    order = np.array(values)
    for i, j in sorting_network(size):
        low, high = np.minimum(order[i], order[j]), np.maximum(order[i], order[j])
        order[i], order[j] = low, high
    np.testing.assert_array_equal(order, np.sort(values, axis=0))


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d, q, t: (d[0], q, t), "3-D"),
        (lambda d, q, t: (d, q[:-1], t), "groupdq"),
        (lambda d, q, t: (d, q, t[:-1]), "times"),
        (lambda d, q, t: (d, q, t + 1.0), "times"),
        (lambda d, q, t: (d, q, t[::-1].copy()), "times"),
        (lambda d, q, t: (d, q.astype(np.int16), t), "unsigned"),
    ],
)
def test_bad_inputs_raise(change, message):
    data = linear_ramps(SPARS, 10.0)
    with pytest.raises(ValueError, match=message):
        detect_jumps(*change(data, no_flags(data), SPARS), GAIN, READ_NOISE)


@pytest.mark.parametrize(("gain", "noise"), [(0.0, 5.0), (-1.0, 5.0), (2.0, -1.0), (np.nan, 5.0)])
def test_bad_scalar_gain_or_noise_raises(gain, noise):
    data = linear_ramps(SPARS, 10.0)
    with pytest.raises(ValueError, match=r"gain|read_noise"):
        detect_jumps(data, no_flags(data), SPARS, gain, noise)


# ---------------------------------------------------------------- noiseless ramps


@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("rate", [0.0, 3.0, 250.0])
def test_noiseless_linear_ramp_has_no_jump(timing, rate):
    data = linear_ramps(TIMINGS[timing], rate, offset=1000.0)
    assert not flagged(detect_jumps(data, no_flags(data), TIMINGS[timing], GAIN, 0.5)).any()


@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("after", [1, 2, 8, 15])
def test_single_jump_is_flagged_on_the_read_after_it(timing, after):
    times = TIMINGS[timing]
    data = linear_ramps(times, 20.0)
    data[after:, 1, 2] += 400.0
    out = detect_jumps(
        data, no_flags(data), times, GAIN, READ_NOISE, JumpParameters(flag_4_neighbors=False)
    )
    expected = np.zeros(data.shape, bool)
    expected[after, 1, 2] = True
    np.testing.assert_array_equal(flagged(out), expected)


def test_uneven_ramp_is_not_mistaken_for_jumps():
    """Index-based differences of a SPARS ramp look like a jump after read 1."""
    data = linear_ramps(SPARS, 50.0)
    assert not flagged(detect_jumps(data, no_flags(data), SPARS, GAIN, READ_NOISE)).any()


def test_multiple_jumps_are_all_flagged():
    data = linear_ramps(SPARS, 10.0)
    data[4:, 0, 0] += 300.0
    data[9:, 0, 0] += 1500.0
    data[13:, 0, 0] += 200.0
    out = detect_jumps(
        data, no_flags(data), SPARS, GAIN, READ_NOISE, JumpParameters(flag_4_neighbors=False)
    )
    assert np.flatnonzero(flagged(out)[:, 0, 0]).tolist() == [4, 9, 13]
    assert flagged(out).sum() == 3


def test_negative_jump_is_flagged():
    data = linear_ramps(RAPID, 10.0)
    data[6:, 2, 3] -= 500.0
    out = detect_jumps(data, no_flags(data), RAPID, GAIN, READ_NOISE)
    assert flagged(out)[:, 2, 3].tolist() == [k == 6 for k in range(16)]


# ---------------------------------------------------------------- unusable reads


def test_saturated_reads_take_no_part():
    data = linear_ramps(SPARS, 10.0)
    groupdq = no_flags(data)
    groupdq[10:, 1, 1] = SAT
    data[10:, 1, 1] = 5000.0  # garbage after saturation
    out = detect_jumps(data, groupdq, SPARS, GAIN, READ_NOISE)
    assert not flagged(out).any()
    np.testing.assert_array_equal(out & ~np.uint16(CR), groupdq)


@pytest.mark.parametrize("flag", [dqflags.FILL, dqflags.BAD_DETECTOR, dqflags.REED_SOLOMON])
def test_do_not_use_read_is_skipped_and_bridged(flag):
    data = linear_ramps(SPARS, 10.0)
    groupdq = no_flags(data)
    groupdq[6, 0, 1] = flag
    data[6, 0, 1] = -1e4  # garbage in the unusable read
    data[6:, 0, 1] += 600.0  # a jump between reads 5 and 7
    out = detect_jumps(
        data, groupdq, SPARS, GAIN, READ_NOISE, JumpParameters(flag_4_neighbors=False)
    )
    assert np.flatnonzero(flagged(out)[:, 0, 1]).tolist() == [7]
    assert flagged(out).sum() == 1


def test_informational_flags_do_not_exclude_reads():
    data = linear_ramps(SPARS, 10.0)
    groupdq = np.full(data.shape, dqflags.HOT | dqflags.WARM | dqflags.ZERO_READ_SIGNAL, np.uint16)
    data[5:, 1, 1] += 500.0
    out = detect_jumps(
        data, groupdq, SPARS, GAIN, READ_NOISE, JumpParameters(flag_4_neighbors=False)
    )
    assert np.flatnonzero(flagged(out)[:, 1, 1]).tolist() == [5]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_read_is_treated_as_do_not_use(bad):
    data = linear_ramps(SPARS, 10.0)
    data[3, 2, 2] = bad
    data[8:, 2, 2] += 500.0
    out = detect_jumps(
        data, no_flags(data), SPARS, GAIN, READ_NOISE, JumpParameters(flag_4_neighbors=False)
    )
    assert np.flatnonzero(flagged(out)[:, 2, 2]).tolist() == [8]
    assert flagged(out).sum() == 1


def test_invalid_pixel_gain_or_noise_gets_no_flag():
    data = linear_ramps(SPARS, 10.0)
    data[5:] += 1000.0  # a jump in every pixel
    gain = np.full(data.shape[1:], GAIN, np.float32)
    noise = np.full(data.shape[1:], READ_NOISE, np.float32)
    gain[0, 0], gain[0, 1], noise[0, 2] = 0.0, np.nan, np.nan
    out = flagged(
        detect_jumps(
            data, no_flags(data), SPARS, gain, noise, JumpParameters(flag_4_neighbors=False)
        )
    )
    assert not out[:, 0, :3].any()
    assert out[5, 1:].all() and out[5, 0, 3]


def test_zero_noise_flat_pixel_is_not_testable():
    data = np.zeros((6, 2, 2), np.float32)
    data[3:, 0, 0] = 1.0
    out = detect_jumps(data, no_flags(data), RAPID[:6], GAIN, 0.0)
    assert not flagged(out).any()


def test_too_few_reads_flag_nothing():
    data = linear_ramps(SPARS[:2], 10.0)
    data[1] += 1e4
    np.testing.assert_array_equal(detect_jumps(data, no_flags(data), SPARS[:2], GAIN, 1.0), 0)


# ---------------------------------------------------------------- thresholds


def jump_of_ratio(times, ratio, index=2):
    """A noiseless zero-rate ramp with one jump of ``ratio`` sigma before read ``index``."""
    data = np.zeros((len(times), 1, 1), np.float32)
    data[index:] += ratio * math.sqrt(2) * READ_NOISE
    return data


@pytest.mark.parametrize(
    ("nreads", "field", "below", "above"),
    [
        (3, "three_group_rejection_threshold", 8.0, 5.5),
        (4, "four_group_rejection_threshold", 7.0, 5.0),
        (6, "rejection_threshold", 6.5, 5.0),
    ],
)
def test_threshold_for_the_number_of_differences(nreads, field, below, above):
    """A 6-sigma jump: flagged only when the threshold for that count is below 6."""
    times = RAPID[:nreads]
    data = jump_of_ratio(times, 6.0)
    kept = detect_jumps(
        data, no_flags(data), times, 1e9, READ_NOISE, JumpParameters(**{field: below})
    )
    found = detect_jumps(
        data, no_flags(data), times, 1e9, READ_NOISE, JumpParameters(**{field: above})
    )
    assert not flagged(kept).any()
    assert flagged(found)[2, 0, 0]


# ---------------------------------------------------------------- neighbours


def ramps_with_jump(ratio, times=SPARS, shape=(5, 6), where=(2, 3), after=7):
    """Noiseless zero-rate ramps with one jump of ``ratio`` sigma (read-noise sigma)."""
    data = np.zeros((len(times), *shape), np.float32)
    data[after:, where[0], where[1]] += ratio * math.sqrt(2) * READ_NOISE
    return data


def neighbourhood(shape, where):
    """Boolean image of a pixel and its 4 neighbours."""
    mask = np.zeros(shape, bool)
    row, col = where
    mask[row, col] = True
    for drow, dcol in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        if 0 <= row + drow < shape[0] and 0 <= col + dcol < shape[1]:
            mask[row + drow, col + dcol] = True
    return mask


@pytest.mark.parametrize(
    ("ratio", "params", "spread"),
    [
        (50.0, JumpParameters(), True),
        (50.0, JumpParameters(flag_4_neighbors=False), False),
        (8.0, JumpParameters(), False),  # below min_jump_to_flag_neighbors (10)
        (8.0, JumpParameters(min_jump_to_flag_neighbors=5.0), True),
        (2000.0, JumpParameters(), False),  # above max_jump_to_flag_neighbors (1000)
        (2000.0, JumpParameters(max_jump_to_flag_neighbors=1e4), True),
    ],
)
def test_neighbour_flagging_window(ratio, params, spread):
    data = ramps_with_jump(ratio)
    out = flagged(detect_jumps(data, no_flags(data), SPARS, 1e9, READ_NOISE, params))
    expected = neighbourhood((5, 6), (2, 3)) if spread else (np.arange(30) == 15).reshape(5, 6)
    np.testing.assert_array_equal(out[7], expected)
    assert not np.delete(out, 7, axis=0).any()


def test_neighbours_that_are_saturated_are_not_flagged():
    data = ramps_with_jump(50.0)
    groupdq = no_flags(data)
    groupdq[5:, 1, 3] = SAT
    out = flagged(detect_jumps(data, groupdq, SPARS, 1e9, READ_NOISE))
    assert not out[:, 1, 3].any()
    assert out[7, 3, 3] and out[7, 2, 2] and out[7, 2, 4]


@pytest.mark.parametrize("where", [(0, 0), (4, 5), (2, 0), (3, 5)])
def test_neighbours_at_frame_edges(where):
    data = ramps_with_jump(50.0, where=where)
    out = flagged(detect_jumps(data, no_flags(data), SPARS, 1e9, READ_NOISE))
    np.testing.assert_array_equal(out[7], neighbourhood((5, 6), where))


# ---------------------------------------------------------------- after-jump flagging


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (JumpParameters(), [7]),
        (JumpParameters(after_jump_flag_dn1=100.0, after_jump_flag_time1=15.0), [7, 8, 9]),
        (JumpParameters(after_jump_flag_dn1=100.0, after_jump_flag_time1=0.0), [7]),
        (JumpParameters(after_jump_flag_dn1=5000.0, after_jump_flag_time1=15.0), [7]),
        (JumpParameters(after_jump_flag_dn2=100.0, after_jump_flag_time2=30.0), [7, 8, 9, 10, 11]),
        (
            JumpParameters(
                after_jump_flag_dn1=100.0,
                after_jump_flag_time1=8.0,
                after_jump_flag_dn2=400.0,
                after_jump_flag_time2=22.0,
            ),
            [7, 8, 9, 10],
        ),
        (
            JumpParameters(
                after_jump_flag_dn1=100.0,
                after_jump_flag_time1=8.0,
                after_jump_flag_dn2=5000.0,
                after_jump_flag_time2=22.0,
            ),
            [7, 8],
        ),
    ],
)
def test_after_jump_flagging_by_time_and_size(params, expected):
    """A 500 DN jump before read 7 of a SPARS ramp (reads 7.18 s apart)."""
    data = linear_ramps(SPARS, 5.0, ny=1, nx=1)
    data[7:] += 500.0
    out = flagged(detect_jumps(data, no_flags(data), SPARS, GAIN, READ_NOISE, params))
    assert np.flatnonzero(out[:, 0, 0]).tolist() == expected


def test_after_jump_flags_skip_saturated_reads():
    data = linear_ramps(SPARS, 5.0, ny=1, nx=1)
    data[7:] += 500.0
    groupdq = no_flags(data)
    groupdq[9:] = SAT
    params = JumpParameters(after_jump_flag_dn1=100.0, after_jump_flag_time1=30.0)
    out = flagged(detect_jumps(data, groupdq, SPARS, GAIN, READ_NOISE, params))
    assert np.flatnonzero(out[:, 0, 0]).tolist() == [7, 8]


# ---------------------------------------------------------------- blocks, inputs


@pytest.fixture(scope="module")
def noisy_exposure():
    """SPARS ramps with cosmic rays, saturation and do-not-use reads (seeded)."""
    rng = np.random.default_rng(1234)
    ny, nx = 23, 17
    rate = 10 ** rng.uniform(-1, 2.5, (ny, nx))
    data = simulate_ramps(rng, SPARS, rate)
    hits = rng.random((ny, nx)) < 0.15
    read = rng.integers(1, 16, (ny, nx))
    size = rng.uniform(30, 3000, (ny, nx))
    for k in range(1, 16):
        data[k:, hits & (read == k)] += size[hits & (read == k)]
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[data > 20000] |= SAT
    groupdq[11:, 4, :5] |= SAT
    groupdq[5, 7, 7] |= dqflags.FILL
    groupdq[:, 9, 9] |= dqflags.HOT
    data[3, 10, 10] = np.nan
    return data, groupdq


@pytest.mark.parametrize("block_rows", [1, 7])
def test_results_do_not_depend_on_block_rows(noisy_exposure, block_rows):
    data, groupdq = noisy_exposure
    base = dict(after_jump_flag_dn1=500.0, after_jump_flag_time1=10.0,
                min_jump_to_flag_neighbors=5.0)  # fmt: skip
    whole = detect_jumps(data, groupdq, SPARS, GAIN, READ_NOISE, JumpParameters(**base))
    assert flagged(whole).sum() > 50
    blocks = detect_jumps(
        data, groupdq, SPARS, GAIN, READ_NOISE, JumpParameters(block_rows=block_rows, **base)
    )
    np.testing.assert_array_equal(blocks, whole)


def test_neighbour_flags_cross_block_edges():
    data = ramps_with_jump(50.0, where=(3, 3), shape=(7, 6))
    data[7:, 6, 1] += 50 * math.sqrt(2) * READ_NOISE
    expected = neighbourhood((7, 6), (3, 3)) | neighbourhood((7, 6), (6, 1))
    for block_rows in (0, 1, 2, 3, 4):
        out = flagged(
            detect_jumps(
                data, no_flags(data), SPARS, 1e9, READ_NOISE, JumpParameters(block_rows=block_rows)
            )
        )
        np.testing.assert_array_equal(out[7], expected)


def test_inputs_are_not_modified(noisy_exposure):
    data, groupdq = noisy_exposure
    gain = np.full(data.shape[1:], GAIN, np.float32)
    noise = np.full(data.shape[1:], READ_NOISE, np.float32)
    copies = [a.copy() for a in (data, groupdq, gain, noise)]
    times = SPARS.copy()
    for array in (data, groupdq, gain, noise, times):
        array.flags.writeable = False
    try:
        out = detect_jumps(data, groupdq, times, gain, noise)
    finally:
        for array in (data, groupdq, gain, noise, times):
            array.flags.writeable = True
    for array, copy in zip((data, groupdq, gain, noise), copies, strict=True):
        np.testing.assert_array_equal(array, copy)
    assert out is not groupdq and out.dtype == np.uint16 and out.flags.writeable


def test_other_dtypes_are_accepted():
    data = linear_ramps(SPARS, 10.0)
    data[5:, 1, 1] += 500.0
    reference = detect_jumps(data, no_flags(data), SPARS, GAIN, READ_NOISE)
    big_endian = data.astype(">f4")
    out = detect_jumps(big_endian, no_flags(data).astype(np.uint8), list(SPARS), GAIN, READ_NOISE)
    np.testing.assert_array_equal(out, reference)


# ---------------------------------------------------------------- statistics


@pytest.mark.parametrize("timing", ["SPARS", "STEP"])
def test_detection_and_false_flag_rates(timing):
    """>= 99% of > 10 sigma jumps found in the right read; false flags <= 2x Gaussian."""
    rng = np.random.default_rng(2024 if timing == "SPARS" else 7)
    times = TIMINGS[timing]
    ny, nx = 300, 300
    rate = 10 ** rng.uniform(-1, 2.5, (ny, nx))
    data = simulate_ramps(rng, times, rate)
    hits = rng.random((ny, nx)) < 0.2
    read = rng.integers(1, 16, (ny, nx))
    step = np.diff(times)[read - 1]
    sigma = np.sqrt(2 * READ_NOISE**2 + rate * step / GAIN)  # DN, of that difference
    size = sigma * rng.uniform(10, 100, (ny, nx))
    for k in range(1, 16):
        data[k:, hits & (read == k)] += size[hits & (read == k)]
    out = flagged(
        detect_jumps(
            data, no_flags(data), times, GAIN, READ_NOISE, JumpParameters(flag_4_neighbors=False)
        )
    )
    rows, cols = np.nonzero(hits)
    assert out[read[hits], rows, cols].mean() >= 0.99
    clean = out[1:, ~hits]
    gaussian = math.erfc(4.0 / math.sqrt(2.0))
    assert clean.mean() <= 2.0 * gaussian, clean.mean() / gaussian


def test_do_not_use_covers_the_documented_flags():
    assert DO_NOT_USE == dqflags.REED_SOLOMON | dqflags.FILL | dqflags.BAD_DETECTOR


# ---------------------------------------------------------------- the science area (trim)


@pytest.mark.parametrize("kernels", ["numpy", "auto"])
@pytest.mark.parametrize("trim", [(2, 1, 3, 2), (0, 0, 0, 0), (1, 0, 0, 4)])
def test_trim_searches_and_flags_only_the_science_area(noisy_exposure, monkeypatch, kernels,
                                                       trim):
    """Inside the science area the flags are those of the science area searched on its own
    (neighbours and after-jump reads included); the border keeps its DQ (with the pixel DQ),
    whatever its reads do; the inputs are untouched."""
    monkeypatch.setenv("HSTRAMP_KERNELS", kernels)
    data, groupdq = (a.copy() for a in noisy_exposure)
    ny, nx = data.shape[1:]
    data[6:, :, 0] += 5000.0  # a jump in every pixel of the first column
    data[9:, 0, :] -= 8000.0  # and of the first row
    pixeldq = np.zeros((ny, nx), np.uint16)
    pixeldq[0, 3] = pixeldq[10, 10] = dqflags.HOT
    params = JumpParameters(after_jump_flag_dn1=500.0, after_jump_flag_time1=10.0,
                            min_jump_to_flag_neighbors=5.0)
    x1, x2, y1, y2 = trim
    rows, cols = slice(y1, ny - y2), slice(x1, nx - x2)
    before = [a.copy() for a in (data, groupdq, pixeldq)]
    result = detect_jumps(data, groupdq, SPARS, GAIN, READ_NOISE, params, pixeldq=pixeldq,
                          trim=trim)
    alone = detect_jumps(np.ascontiguousarray(data[:, rows, cols]),
                         np.ascontiguousarray(groupdq[:, rows, cols]), SPARS, GAIN, READ_NOISE,
                         params, pixeldq=np.ascontiguousarray(pixeldq[rows, cols]))
    np.testing.assert_array_equal(result[:, rows, cols], alone)
    border = np.ones((ny, nx), bool)
    border[rows, cols] = False
    np.testing.assert_array_equal(result[:, border], (groupdq | pixeldq)[:, border])
    for array, copy in zip((data, groupdq, pixeldq), before, strict=True):
        np.testing.assert_array_equal(array, copy)
    if trim == (0, 0, 0, 0):  # no border: the same as no trim
        np.testing.assert_array_equal(
            result, detect_jumps(data, groupdq, SPARS, GAIN, READ_NOISE, params,
                                 pixeldq=pixeldq))


def test_a_jump_on_the_border_flags_no_science_neighbour():
    data = ramps_with_jump(50.0, where=(0, 2), shape=(5, 5))  # on the bottom border row
    without = flagged(detect_jumps(data, no_flags(data), SPARS, 1e9, READ_NOISE))
    assert without[7, 1, 2]  # its science neighbour, with the whole frame searched
    trimmed = flagged(detect_jumps(data, no_flags(data), SPARS, 1e9, READ_NOISE,
                                   trim=(1, 1, 1, 1)))
    assert not trimmed.any()


@pytest.mark.parametrize("trim", [(1, 1, 1), (-1, 0, 0, 0), (3, 3, 0, 0), (0.5, 0, 0, 0)])
def test_a_bad_trim_is_refused(noisy_exposure, trim):
    from hstramp.errors import ParameterError

    data, groupdq = noisy_exposure
    with pytest.raises(ParameterError, match="trim"):
        detect_jumps(data[:, :6, :6], groupdq[:, :6, :6], SPARS, GAIN, READ_NOISE, trim=trim)
