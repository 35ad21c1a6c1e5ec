"""The compiled jump search (hstramp/core/_native/jump.c) gives the NumPy path's flags.

Every test runs :func:`~hstramp.core.jump.detect_jumps` with ``HSTRAMP_KERNELS=numpy`` (the
reference) and ``native`` on the same inputs and requires identical DQ arrays, inputs
untouched, and (where the kernel is meant to decide) the kernel's own answer, not the
NumPy fallback it leaves infinite rates to.
"""

import dataclasses

import numpy as np
import pytest

from hstramp.core import native
from hstramp.core.blocks import ramp_inputs
from hstramp.core.jump import JumpParameters, _compiled, detect_jumps
from hstramp.core.jump._sorting import NETWORK_LIMIT
from tests.core.test_jump_speed_equivalence import (
    EAGER,
    GAIN,
    READ_NOISE,
    SPARS,
    STEP,
    TIMINGS,
    busy_exposure,
)

pytestmark = pytest.mark.skipif(not native.built()["jump"],
                                reason="the compiled jump kernel is not built here")


def run(monkeypatch, setting, *args, **kwargs):
    """detect_jumps with HSTRAMP_KERNELS=setting."""
    monkeypatch.setenv(native.ENV_VAR, setting)
    return detect_jumps(*args, **kwargs)


def same_flags(monkeypatch, data, groupdq, times, gain=GAIN, read_noise=READ_NOISE,
               params=JumpParameters(), *, decided_by_kernel=True,  # noqa: B008 (frozen)
               **kwargs):
    """Both paths on the same inputs: identical flags, inputs untouched; the flags."""
    inputs = [np.array(a, copy=True) for a in (data, groupdq, times, gain, read_noise)]
    reference = run(monkeypatch, "numpy", data, groupdq, times, gain, read_noise, params,
                    **kwargs)
    compiled = run(monkeypatch, "native", data, groupdq, times, gain, read_noise, params,
                   **kwargs)
    np.testing.assert_array_equal(compiled, reference)
    assert compiled.dtype == reference.dtype
    for before, after in zip(inputs, (data, groupdq, times, gain, read_noise), strict=True):
        np.testing.assert_array_equal(before, after)
    jumps = _compiled.primary_jumps(
        native.kernel("jump"),
        ramp_inputs(data, groupdq, times, gain, read_noise, kwargs.get("read_scale"),
                    kwargs.get("pixeldq")),
        params,
    )
    assert (jumps is not None) == decided_by_kernel
    return reference


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("params", [JumpParameters(), EAGER], ids=["default", "eager"])
def test_busy_exposures(monkeypatch, timing, seed, params):
    """Cosmic rays, saturation, gaps, NaN, short ramps, on even and uneven read times."""
    times = TIMINGS[timing]
    data, groupdq = busy_exposure(seed, times)
    flags = same_flags(monkeypatch, data, groupdq, times, params=params)
    assert (flags & 8192).any()


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (17, 1), (7, 13), (3, 300)])
def test_odd_shapes(monkeypatch, shape):
    """Single pixels, single rows and columns; >= 256 pixels takes NumPy's by-interval path."""
    data, groupdq = busy_exposure(4, SPARS, *shape)
    same_flags(monkeypatch, data, groupdq, SPARS, params=EAGER)


@pytest.mark.parametrize("layout", ["float64", "fortran", "strided", "transposed", "uint32_dq",
                                    "readonly"])
def test_any_layout_and_dtype(monkeypatch, layout):
    """Inputs the kernel cannot take whole are converted block by block: the same flags."""
    data, groupdq = busy_exposure(5, STEP, 20, 30)
    if layout == "float64":
        data = data.astype(np.float64)
    elif layout == "fortran":
        data, groupdq = np.asfortranarray(data), np.asfortranarray(groupdq)
    elif layout == "strided":
        data, groupdq = data[:, ::2, 1::3], groupdq[:, ::2, 1::3]
    elif layout == "transposed":
        data = np.ascontiguousarray(data.transpose(0, 2, 1)).transpose(0, 2, 1)
    elif layout == "uint32_dq":
        groupdq = groupdq.astype(np.uint32)
    else:
        data.flags.writeable = groupdq.flags.writeable = False
    for block_rows in (0, 1, 7):
        same_flags(monkeypatch, data, groupdq, STEP, params=dataclasses.replace(
            EAGER, block_rows=block_rows))


def test_per_pixel_gain_and_read_noise_with_invalid_pixels(monkeypatch):
    data, groupdq = busy_exposure(6, SPARS, 16, 20)
    rng = np.random.default_rng(6)
    gain = rng.uniform(1.5, 3.5, (16, 20)).astype(np.float32)
    read_noise = rng.uniform(0.0, 12.0, (16, 20)).astype(np.float32)
    gain[0, :4] = [np.nan, 0.0, -1.0, np.inf]
    read_noise[1, :4] = [np.nan, -1.0, np.inf, 0.0]
    same_flags(monkeypatch, data, groupdq, SPARS, gain, read_noise, EAGER)


def test_read_scale_and_pixeldq(monkeypatch):
    """A ramp in count rates (read 0 holding anything, even NaN) and a pixel DQ."""
    data, groupdq = busy_exposure(7, SPARS, 12, 15)
    rates = data / np.maximum(SPARS, 1.0)[:, None, None].astype(np.float32)
    rates[0] = np.nan
    pixeldq = np.zeros((12, 15), np.uint16)
    pixeldq[2, :5] = [4, 256, 1, 8, 512]
    flags = same_flags(monkeypatch, rates, groupdq, SPARS, params=EAGER,
                       read_scale=np.maximum(SPARS, 1.0), pixeldq=pixeldq)
    assert (flags[:, 2, 3] & 8).all()


def test_output_into_the_groupdq(monkeypatch):
    data, groupdq = busy_exposure(8, SPARS, 10, 10)
    expected = run(monkeypatch, "numpy", data, groupdq, SPARS, GAIN, READ_NOISE, EAGER)
    monkeypatch.setenv(native.ENV_VAR, "native")
    result = detect_jumps(data, groupdq, SPARS, GAIN, READ_NOISE, EAGER, out=groupdq)
    assert result is groupdq
    np.testing.assert_array_equal(groupdq, expected)


def ramps(values, times=None):
    """One pixel per column of ``values`` [ngroups, npix], as a [ngroups, 1, npix] cube."""
    data = np.asarray(values, np.float32)[:, None, :]
    if times is None:
        times = np.arange(data.shape[0]) * 10.0
    return data, np.zeros(data.shape, np.uint16), np.asarray(times, np.float64)


@pytest.mark.parametrize("usable", [0, 1, 2, 3, 4, 5, 9, 10, 11, 15])
@pytest.mark.parametrize("timing", ["even", "uneven"])
def test_each_number_of_usable_reads(monkeypatch, usable, timing):
    """From no usable difference to the plain regime (PLAIN_MEDIAN), with a jump each time."""
    rng = np.random.default_rng(usable)
    times = np.arange(16) * 10.0 if timing == "even" else STEP
    values = np.cumsum(rng.normal(50, 6, (16, 64)), axis=0)
    values[usable // 2 + 1:, ::2] += rng.uniform(20, 2000, 32)  # a jump in every other pixel
    data, groupdq, times = ramps(values, times)
    groupdq[usable:] = 256  # saturated after the usable reads
    groupdq[usable // 3, 0, 1::3] |= 1  # a do-not-use read: a gap
    for params in (JumpParameters(), EAGER):
        same_flags(monkeypatch, data, groupdq, times, params=params)


def test_equal_rates_and_zero_noise(monkeypatch):
    """Ties in the sort (equal rates: the index decides), constant ramps with no noise at
    all (NaN sigma), zero intervals' worth of signal, negative rates."""
    columns = [
        np.full(12, 5.0), np.zeros(12), np.arange(12) * 3.0, -np.arange(12) * 3.0,
        np.r_[np.zeros(6), np.full(6, 100.0)], np.r_[np.arange(6), np.arange(6) + 50.0],
        np.r_[np.zeros(3), np.full(9, 1e-40)],
    ]
    data, groupdq, times = ramps(np.stack(columns, axis=1))
    for read_noise in (0.0, READ_NOISE):
        for params in (JumpParameters(), EAGER):
            same_flags(monkeypatch, data, groupdq, times, read_noise=read_noise, params=params)
            same_flags(monkeypatch, data, groupdq, SPARS[:12], read_noise=read_noise,
                       params=params)


def test_nan_and_inf_reads_are_unusable(monkeypatch):
    rng = np.random.default_rng(9)
    values = np.cumsum(rng.normal(30, 6, (10, 40)), axis=0)
    values[rng.random(values.shape) < 0.1] = np.nan
    values[rng.random(values.shape) < 0.05] = np.inf
    values[rng.random(values.shape) < 0.05] = -np.inf
    data, groupdq, times = ramps(values)
    same_flags(monkeypatch, data, groupdq, times, params=EAGER)


def test_rates_beyond_the_sort_key_of_unusable_differences(monkeypatch):
    """Finite rates beyond 3e38 sort among NumPy's keys of unusable differences: left to it."""
    rng = np.random.default_rng(12)
    values = np.cumsum(rng.normal(10, 3, (12, 40)), axis=0)
    values[6:, ::4] += 3.2e38  # one difference of 3.2e38 per second
    values[6:, 1::4] -= 3.2e38
    values[::2, 2::4] = 1.6e38  # rates of +-3.2e38 all along
    values[1::2, 2::4] = -1.6e38
    values[::3, 3::4] += 3.3e38  # two of three rates above 3e38
    data, groupdq, times = ramps(values, np.arange(12) * 1.0)
    groupdq[rng.random(groupdq.shape) < 0.1] = 1
    for params in (JumpParameters(), EAGER):
        same_flags(monkeypatch, data, groupdq, times, params=params, decided_by_kernel=False)
        same_flags(monkeypatch, data[:, :, ::2], groupdq[:, :, ::2], times, params=params,
                   decided_by_kernel=False)


def test_an_infinite_rate_is_left_to_the_numpy_path(monkeypatch):
    """Reads near the float32 limit: the difference overflows; the kernel declines."""
    values = np.cumsum(np.full((8, 3), 10.0), axis=0)
    values[4:, 1] = 3e38
    values[:4, 1] = -3e38
    data, groupdq, times = ramps(values)
    same_flags(monkeypatch, data, groupdq, times, decided_by_kernel=False)


@pytest.mark.parametrize("ngroups", [3, 4, 33, NETWORK_LIMIT + 1, 70])
def test_few_and_many_reads(monkeypatch, ngroups):
    """3 reads (2 differences) up to more differences than NumPy's sorting network takes."""
    rng = np.random.default_rng(ngroups)
    values = np.cumsum(rng.normal(20, 5, (ngroups, 300)), axis=0)
    values[rng.integers(1, ngroups, 300), np.arange(300)] += rng.uniform(10, 500, 300)
    for times in (np.arange(ngroups) * 3.0, np.cumsum(rng.uniform(0.1, 20, ngroups)) - 0.0):
        times = times - times[0]
        data, groupdq, times = ramps(values, times)
        groupdq[rng.random(groupdq.shape) < 0.03] = 1
        same_flags(monkeypatch, data, groupdq, times, params=EAGER)


def test_neighbour_and_after_jump_flagging(monkeypatch):
    """The flagging that works on the kernel's list of jumps (ratios and amplitudes)."""
    data, groupdq = busy_exposure(10, SPARS)
    params = JumpParameters(min_jump_to_flag_neighbors=5.0, max_jump_to_flag_neighbors=200.0,
                            after_jump_flag_dn1=100.0, after_jump_flag_time1=20.0,
                            after_jump_flag_dn2=1000.0, after_jump_flag_time2=60.0)
    same_flags(monkeypatch, data, groupdq, SPARS, params=params)


#: A value of each JumpParameters field that changes the flags of the busy exposure.
CHANGED = {
    "rejection_threshold": 8.0,
    "four_group_rejection_threshold": 2.0,
    "three_group_rejection_threshold": 2.0,
    "flag_4_neighbors": False,
    "max_jump_to_flag_neighbors": 30.0,
    "min_jump_to_flag_neighbors": 50.0,
    "after_jump_flag_dn1": 100.0,
    "after_jump_flag_time1": 100.0,
    "after_jump_flag_dn2": 100.0,
    "after_jump_flag_time2": 100.0,
    "block_rows": 3,
}
#: Fields whose effect needs another field set (after-jump rules need both dn and time).
PARTNER = {"after_jump_flag_dn1": ("after_jump_flag_time1", 100.0),
           "after_jump_flag_time1": ("after_jump_flag_dn1", 100.0),
           "after_jump_flag_dn2": ("after_jump_flag_time2", 100.0),
           "after_jump_flag_time2": ("after_jump_flag_dn2", 100.0)}


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(JumpParameters)])
def test_every_parameter_reaches_the_compiled_path(monkeypatch, field):
    """Each field changes the native result as it changes the NumPy one (block_rows: never)."""
    assert set(CHANGED) == {f.name for f in dataclasses.fields(JumpParameters)}
    data, groupdq = busy_exposure(11, SPARS)
    base = {}
    if field in PARTNER:
        partner, value = PARTNER[field]
        base[partner] = value
    before = JumpParameters(**base)
    after = dataclasses.replace(before, **{field: CHANGED[field]})
    # a non-contiguous cube, so that block_rows reaches the block-by-block calls
    data = np.asfortranarray(data) if field == "block_rows" else data
    flags_before = same_flags(monkeypatch, data, groupdq, SPARS, params=before)
    flags_after = same_flags(monkeypatch, data, groupdq, SPARS, params=after)
    assert np.array_equal(flags_before, flags_after) == (field == "block_rows")


def random_ramps(rng, npix):
    """Small random ramps of every kind: a random number of reads, even or uneven times,
    rates from 0 to bright, jumps up and down, saturation, do-not-use reads, NaN,
    quantised values (ties), per-pixel gain and read noise."""
    ngroups = int(rng.integers(3, 22))
    if rng.random() < 0.4:
        times = np.arange(ngroups) * rng.uniform(0.1, 30)
    else:
        times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.05, 50, ngroups - 1))])
        if rng.random() < 0.3:  # two distinct intervals, as SPARS
            times = np.concatenate([[0.0], 0.1 + np.arange(ngroups - 1) * rng.uniform(1, 30)])
    rate = 10 ** rng.uniform(-2, 4, npix) * (rng.random(npix) < 0.95)
    signal = np.concatenate([np.zeros((1, npix)),
                             np.cumsum(rng.poisson(rate * np.diff(times)[:, None] * 2.0) / 2.0,
                                       axis=0)])
    data = signal + rng.normal(0, rng.uniform(0, 15), signal.shape)
    for _ in range(int(rng.integers(0, 4))):
        hit = rng.random(npix) < 0.3
        first = rng.integers(1, ngroups, npix)
        data += (np.arange(ngroups)[:, None] >= first) * hit * rng.normal(0, 500, npix)
    if rng.random() < 0.3:
        data = np.round(data / rng.uniform(1, 50)) * 7.0
    groupdq = np.zeros(data.shape, np.uint16)
    flag = np.uint16(rng.choice([1, 2, 4, 256, 8192]))
    groupdq[rng.random(data.shape) < rng.uniform(0, 0.15)] |= flag
    data[rng.random(data.shape) < 0.02] = np.nan
    shape = (ngroups, 1, npix)
    gain = rng.uniform(0.5, 4, (1, npix)).astype(np.float32)
    read_noise = rng.choice([0.0, 3.0, 10.0], (1, npix)).astype(np.float32)
    return (data.astype(np.float32).reshape(shape), groupdq.reshape(shape), times, gain,
            read_noise)


def test_fuzz_thousands_of_random_ramps(monkeypatch):
    """Seeded random ramps; pixels are independent, so many ramps share one call."""
    rng = np.random.default_rng(2026)
    thresholds = [JumpParameters(), EAGER,
                  JumpParameters(rejection_threshold=2.0, four_group_rejection_threshold=2.0,
                                 three_group_rejection_threshold=2.0)]
    pixels = 0
    for trial in range(90):
        npix = int(rng.choice([1, 7, 60, 300]))
        data, groupdq, times, gain, read_noise = random_ramps(rng, npix)
        same_flags(monkeypatch, data, groupdq, times, gain, read_noise,
                   thresholds[trial % len(thresholds)])
        pixels += npix
    assert pixels > 5000
