"""The shortcuts of hstramp.core.jump do not change its results.

Jump detection runs each block's first round on every pixel, then gathers the pixels
that had a jump from several blocks and searches them together, and finds the
largest ratio one interval at a time when the intervals are shared. None of this may
change a flag: the same input must give the same flags whatever the block size,
whether a pixel is processed alone or with the whole image, and the interval
shortcut must give the same ratios as computing every ratio.
"""

import dataclasses

import numpy as np
import pytest

from hstramp.core.jump import (
    JumpParameters,
    _batching,
    _columns,
    _differences,
    _median,
    _outliers,
    _sorting,
    detect_jumps,
    twopoint,
)

GAIN = 2.5  # e-/DN
READ_NOISE = 6.0  # DN per read
SPARS = np.concatenate([[0.0, 0.112705], 7.29408 + 7.181375 * np.arange(14)])
STEP = np.array(
    [0.0, 0.278, 2.931, 5.864, 8.796, 11.728, 24.228, 49.228, 99.228, 149.228,
     199.228, 249.228, 299.228, 349.228, 399.228, 449.228]
)  # fmt: skip
SPARS25 = np.concatenate([[0.0, 2.932], 27.933 + 25.0005 * np.arange(14)])
TIMINGS = {"SPARS": SPARS, "STEP": STEP, "SPARS25": SPARS25, "even": np.arange(12) * 5.0}
#: Low thresholds, so that many pixels have several jumps and later rounds matter.
EAGER = JumpParameters(
    rejection_threshold=3.0, four_group_rejection_threshold=3.5, three_group_rejection_threshold=4.0
)


def busy_exposure(seed, times, ny=24, nx=40):
    """Seeded ramps with cosmic rays, saturation, do-not-use reads, NaN and short ramps.

    Returns
    -------
    data : ndarray float32 [ngroups, ny, nx]
    groupdq : ndarray uint16 [ngroups, ny, nx]
    """
    rng = np.random.default_rng(seed)
    ngroups, shape = times.size, (ny, nx)
    rate = 10 ** rng.uniform(-1, 3.5, shape)
    rate[rng.random(shape) < 0.03] = 0.0
    electrons = rng.poisson(rate * GAIN * np.diff(times)[:, None, None])
    signal = np.concatenate([np.zeros((1, *shape)), np.cumsum(electrons, axis=0) / GAIN])
    data = signal + rng.normal(0.0, READ_NOISE, signal.shape)
    for _ in range(4):
        hit = rng.random(shape) < 0.08
        first = rng.integers(1, ngroups, shape)
        size = 10 ** rng.uniform(1, 4, shape) * rng.choice([-0.3, 1.0, 1.0], shape)
        for k in range(1, ngroups):
            data[k:, hit & (first == k)] += size[hit & (first == k)]
    data = data.astype(np.float32)
    groupdq = np.zeros(data.shape, np.uint16)
    last = rng.integers(1, ngroups + 1, shape)  # usable reads before saturation
    short = rng.random(shape) < 0.25
    groupdq[(np.arange(ngroups)[:, None, None] >= last) & short] |= 256
    groupdq[rng.random(data.shape) < 0.01] |= 1  # isolated do-not-use reads: gaps
    data[rng.random(data.shape) < 0.002] = np.nan
    return data, groupdq


@pytest.mark.parametrize("timing", TIMINGS)
def test_flags_do_not_depend_on_block_size(timing):
    times = TIMINGS[timing]
    data, groupdq = busy_exposure(1, times)
    reference = detect_jumps(data, groupdq, times, GAIN, READ_NOISE, EAGER)
    assert (reference & 8192).any()
    for block_rows in (1, 2, 5, 24):
        params = dataclasses.replace(EAGER, block_rows=block_rows)
        np.testing.assert_array_equal(
            detect_jumps(data, groupdq, times, GAIN, READ_NOISE, params), reference
        )


@pytest.mark.parametrize("timing", ["SPARS25", "STEP", "even"])
def test_a_pixel_alone_gets_the_flags_it_gets_in_the_image(timing):
    times = TIMINGS[timing]
    data, groupdq = busy_exposure(2, times)
    params = dataclasses.replace(EAGER, flag_4_neighbors=False)
    whole = detect_jumps(data, groupdq, times, GAIN, READ_NOISE, params)
    rng = np.random.default_rng(3)
    several = np.flatnonzero((whole & 8192).any(axis=0).ravel())
    chosen = np.concatenate([rng.choice(several, 30, replace=False), rng.choice(whole[0].size, 10)])
    for row, col in zip(*np.unravel_index(chosen, whole.shape[1:]), strict=True):
        pixel = (slice(None), slice(row, row + 1), slice(col, col + 1))
        alone = detect_jumps(data[pixel], groupdq[pixel], times, GAIN, READ_NOISE, params)
        np.testing.assert_array_equal(alone[:, 0, 0], whole[:, row, col])


@pytest.mark.parametrize("timing", ["SPARS25", "STEP", "SPARS"])
def test_largest_by_interval_equals_every_ratio(timing):
    """The interval shortcut gives bit-identical largest ratios on every kind of pixel:
    plain, few differences (dropped largest), 4 to 9 differences, masked differences,
    no read noise."""
    times = TIMINGS[timing]
    data, groupdq = busy_exposure(4, times, ny=30, nx=50)
    read_noise = np.full(data.shape[1:], READ_NOISE, np.float32)
    read_noise[:2] = 0.0
    usable = (groupdq & 257) == 0
    usable &= np.isfinite(data)
    flat = data.reshape(data.shape[0], -1)
    differences = _differences.difference_rates(flat, usable.reshape(flat.shape), times)
    rng = np.random.default_rng(5)
    differences.rates[rng.random(differences.rates.shape) < 0.05] = np.nan  # masked jumps
    gain = np.full(flat.shape[1], GAIN, np.float32)
    search = _batching.Search.start(
        differences, np.arange(flat.shape[1]), gain, read_noise.ravel(), bridged=False
    )
    tested = differences.with_rates(_median.tested_rates(differences.rates, search.plain))
    rate = _median.robust_rate(tested, search.plain)
    noise = (tested, rate, search.plain, search.inverse_gain, search.read_variance)
    every = _columns.column_largest(_outliers.outlier_ratios(*noise))
    shortcut = _outliers.largest_by_interval(*noise)
    assert not search.plain.all() and (rate.kept >= 4).any() and (rate.kept < 4).any()
    np.testing.assert_array_equal(shortcut, every)
    outliers = _outliers.largest_outliers(*noise, by_interval=True)
    pixels = np.flatnonzero(np.isfinite(every))
    worst = _outliers.largest_outliers(*noise).worst(pixels)
    np.testing.assert_array_equal(outliers.worst(pixels), worst)


def test_pending_searches_give_the_flags_of_block_by_block_searches(monkeypatch):
    """Later rounds gathered across the whole image or run block by block agree."""
    data, groupdq = busy_exposure(6, SPARS25)
    reference = detect_jumps(data, groupdq, SPARS25, GAIN, READ_NOISE, EAGER)
    original = twopoint.PendingSearches
    for forced in (1, 10**9):
        monkeypatch.setattr(
            twopoint,
            "PendingSearches",
            lambda thresholds, capacity, forced=forced: original(thresholds, forced),
        )
        np.testing.assert_array_equal(
            detect_jumps(data, groupdq, SPARS25, GAIN, READ_NOISE, EAGER), reference
        )


@pytest.mark.parametrize("size", [3, 15, 39, 40, 60])
def test_sorted_along_axis0_sorts(size):
    values = np.random.default_rng(size).normal(size=(size, 300)).astype(np.float32)
    expected = np.sort(values, axis=0)
    np.testing.assert_array_equal(_sorting.sorted_along_axis0(values.copy()), expected)


def test_many_reads_sort_the_same_way_with_np_sort_or_a_network(monkeypatch):
    times = np.arange(50) * 3.0
    times[1:] += 0.5  # uneven
    data, groupdq = busy_exposure(7, times, ny=6, nx=50)
    assert times.size - 1 >= _sorting.NETWORK_LIMIT
    reference = detect_jumps(data, groupdq, times, GAIN, READ_NOISE, EAGER)
    monkeypatch.setattr(_sorting, "NETWORK_LIMIT", 10**6)
    np.testing.assert_array_equal(
        detect_jumps(data, groupdq, times, GAIN, READ_NOISE, EAGER), reference
    )
