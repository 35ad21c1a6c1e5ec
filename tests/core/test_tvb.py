"""Tests of hstramp.core.tvb: per-read statistics, TVB detection, flatten-ramp, last-minus-first."""

import dataclasses

import numpy as np
import pytest

from hstramp.core import dqflags
from hstramp.core.ramp_fit import NO_SLOPE, last_minus_first
from hstramp.core.tvb import (
    DetectionParameters,
    FlattenRampParameters,
    SkyParameters,
    clipped_values,
    detect_tvb,
    flatten_ramp,
    read_statistics,
    region_slices,
    region_statistics,
    science_region,
    signal_since_zeroth_read,
    sky_levels,
)

#: SQ256 SPARS10 read times (seconds since the zeroth read), from real files
TIMES = np.array([0.0, 0.277815, 7.6243, 14.970785, 22.31727, 29.663755, 37.01024])


def he_rise(times, amplitude, onset, duration):
    """Extra sky accumulated by a linear rise to ``amplitude`` (the simulator's profile)."""
    u = np.clip(times - onset, 0.0, None)
    rising = np.minimum(u, duration)
    return amplitude * (rising * rising / (2.0 * duration) + (u - rising))


def sky_ramp(times, sky, extra=None, shape=(40, 50), noise=0.0, seed=0):
    """Counts since the zeroth read of a uniform sky (plus an optional extra sky curve)."""
    rng = np.random.default_rng(seed)
    curve = sky * times + (0.0 if extra is None else extra)
    data = curve[:, None, None] + noise * rng.standard_normal((times.size, *shape))
    data[0] = 0.0
    return data.astype(np.float32)


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize(("cls", "field", "value"), [
    (SkyParameters, "statistic", "average"),
    (SkyParameters, "clip_sigma", -1.0),
    (SkyParameters, "clip_sigma", "3"),
    (SkyParameters, "clip_iterations", 1.5),
    (SkyParameters, "clip_iterations", -1),
    (SkyParameters, "dq_mask", 70000),
    (SkyParameters, "dq_mask", True),
    (SkyParameters, "binwidth", 0.0),
    (SkyParameters, "region", (5, 5, 0, 10)),
    (SkyParameters, "region", (0, 10, 0)),
    (SkyParameters, "region", (0.5, 10, 0, 10)),
    (SkyParameters, "region", "0:10,0:10"),
    (DetectionParameters, "threshold", -0.1),
    (DetectionParameters, "read_threshold", np.inf),
    (DetectionParameters, "nsigma", None),
    (FlattenRampParameters, "mode", "sometimes"),
    (FlattenRampParameters, "statistic", "max"),
    (FlattenRampParameters, "threshold", -1.0),
    (FlattenRampParameters, "region", [0, 10, 10, 5]),
])
def test_invalid_parameter_is_rejected_by_name(cls, field, value):
    with pytest.raises(ValueError, match=field):
        cls(**{field: value})


def test_flatten_parameters_split_into_sky_and_detection():
    params = FlattenRampParameters(mode="auto", region=[1, 9, 2, 8], statistic="mode",
                                   clip_sigma=2.5, clip_iterations=2, dq_mask=4, binwidth=0.2,
                                   threshold=0.05, read_threshold=0.2, nsigma=4.0)
    assert params.region == (1, 9, 2, 8)  # a list from a parameter file becomes a tuple
    assert params.sky == SkyParameters(region=(1, 9, 2, 8), statistic="mode", clip_sigma=2.5,
                                       clip_iterations=2, dq_mask=4, binwidth=0.2)
    assert params.detection == DetectionParameters(threshold=0.05, read_threshold=0.2,
                                                   nsigma=4.0)
    sky_fields = {f.name for f in dataclasses.fields(SkyParameters)}
    detection_fields = {f.name for f in dataclasses.fields(DetectionParameters)}
    assert {f.name for f in dataclasses.fields(FlattenRampParameters)} == (
        sky_fields | detection_fields | {"mode"})


# ---------------------------------------------------------------- regions
def test_region_slices_and_science_region():
    assert science_region((3, 74, 74)) == (5, 69, 5, 69)
    assert science_region((64, 64), border=0) == (0, 64, 0, 64)
    rows, cols = region_slices((2, 30, 40), (1, 40, 2, 30))
    assert (rows, cols) == (slice(2, 30), slice(1, 40))
    assert region_slices((30, 40), None) == (slice(0, 30), slice(0, 40))
    with pytest.raises(ValueError, match="inside the 30x40 frame"):
        region_slices((30, 40), (0, 41, 0, 10))
    with pytest.raises(ValueError, match="border"):
        science_region((8, 8))


# ---------------------------------------------------------------- statistics
def test_clipping_removes_sources_and_keeps_the_input():
    rng = np.random.default_rng(1)
    values = rng.normal(10.0, 2.0, 20_000).astype(np.float32)
    values[:2000] += 500.0  # 10 % bright pixels
    values[5] = np.nan
    before = values.copy()
    kept = clipped_values(values, 3.0, 5)
    np.testing.assert_array_equal(values, before)
    assert kept.max() < 10.0 + 3.5 * 2.0 and kept.min() > 10.0 - 3.5 * 2.0
    assert 17_800 < kept.size < 18_000
    assert clipped_values(values, 0.0, 5).size == 19_999  # no clipping, NaN dropped
    assert clipped_values(values, 3.0, 0).size == 19_999


def test_region_statistics_of_a_normal_sample():
    rng = np.random.default_rng(2)
    image = rng.normal(100.0, 5.0, (200, 200))
    st = region_statistics(image, clip_sigma=0.0)
    assert st.npix == 40_000
    assert st.mean == pytest.approx(image.mean())
    assert st.median == pytest.approx(np.median(image))
    assert st.stddev == pytest.approx(image.std(ddof=1))
    assert (st.min, st.max) == (image.min(), image.max())
    assert st.midpt == pytest.approx(st.median, abs=0.05)


def test_mode_finds_the_peak_of_a_skewed_distribution():
    rng = np.random.default_rng(5)
    values = rng.gamma(3.0, 2.0, 400_000)  # mode 4, median 5.35, mean 6
    st = region_statistics(values, clip_sigma=0)
    assert st.mode == pytest.approx(4.0, abs=0.3)
    assert st.mode < st.median < st.mean


def test_region_statistics_mask_empty_and_constant():
    image = np.arange(12.0).reshape(3, 4)
    mask = image > 5
    assert region_statistics(image, mask, clip_sigma=0).max == 5.0
    empty = region_statistics(image, np.ones_like(mask))
    assert empty.npix == 0 and np.isnan(empty.median) and np.isnan(empty.mode)
    flat = region_statistics(np.full((4, 4), 7.0))
    assert (flat.midpt, flat.mode, flat.median, flat.stddev) == (7.0, 7.0, 7.0, 0.0)
    with pytest.raises(ValueError, match="mask"):
        region_statistics(image, mask[:2])


@pytest.mark.parametrize("true_centre", [0.3, 0.5, 0.8, 2.25])
def test_midpt_of_whole_dn_is_not_stuck_to_integers(true_centre):
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(true_centre, 8.0, 200_000))
    st = region_statistics(values, clip_sigma=0)
    assert st.median == np.round(st.median)  # the plain median moves in whole DN
    assert st.midpt == pytest.approx(true_centre, abs=0.06)


def test_read_statistics_units_region_and_mask():
    times = TIMES[:4]
    data = sky_ramp(times, 2.0, shape=(10, 12))
    data[:, 0, 0] = 1e4  # outside the region
    dq = np.zeros(data.shape, np.uint16)
    dq[2, 5, 5] = dqflags.SATURATED  # flagged in one read: out of every read
    data[:, 5, 5] = -1e4
    before = data.copy()
    params = SkyParameters(region=(1, 12, 1, 10), clip_sigma=0.0)
    counts = read_statistics(data, times, dq=dq, params=params)
    np.testing.assert_array_equal(data, before)
    np.testing.assert_allclose(counts.median, 2.0 * times, rtol=1e-6)
    np.testing.assert_allclose(counts.max, 2.0 * times, rtol=1e-6)
    assert list(counts.npix) == [11 * 9 - 1] * 4
    rates = read_statistics(data, times, dq=dq, units="rate", params=params)
    assert np.isnan(rates.median[0])
    np.testing.assert_allclose(rates.median[1:], 2.0, rtol=1e-6)
    as_rates = read_statistics(data[1:] / times[1:, None, None], times[1:], in_rates=True,
                               units="counts", dq=dq[1:], params=params)
    np.testing.assert_allclose(as_rates.mean, 2.0 * times[1:], rtol=1e-6)
    unmasked = read_statistics(data, times, dq=dq, params=dataclasses.replace(params, dq_mask=0))
    assert unmasked.min[1] == -1e4
    rows = counts.rows()
    assert rows[3]["read"] == 3 and rows[3]["time"] == times[3]
    assert set(rows[0]) == {"read", "time", "npix", "midpt", "mean", "median", "mode",
                            "stddev", "min", "max"}


def test_signal_since_zeroth_read_of_raw_rates_and_counts():
    times = TIMES[:5]
    sky = sky_ramp(times, 3.0, shape=(20, 20))
    drift = np.array([0.0, 4.0, -3.0, 7.0, 1.0], np.float32)
    raw = (10_000.0 + drift[:, None, None] + sky).astype(np.float32)
    raw[:, :, :5] -= sky[:, :, :5]  # reference columns see bias and drift only
    raw[:, :, -5:] -= sky[:, :, -5:]
    before = raw.copy()
    counts = signal_since_zeroth_read(raw, times, in_rates=False, zero_subtracted=False)
    np.testing.assert_array_equal(raw, before)
    np.testing.assert_allclose(counts[:, 5:-5, 5:-5], sky[:, 5:-5, 5:-5], atol=1e-3)
    rates = np.where(times[:, None, None] > 0,
                     sky / np.where(times > 0, times, 1.0)[:, None, None], 9.0)
    from_rates = signal_since_zeroth_read(rates.astype(np.float32), times, in_rates=True,
                                          zero_subtracted=True)
    assert np.all(from_rates[0] == 0)
    np.testing.assert_allclose(from_rates, sky, rtol=1e-5, atol=1e-4)
    zoffed = sky + 5.0  # read 0 after ZSIG+ZOFF holds the zero-read signal, not 0
    np.testing.assert_array_equal(
        signal_since_zeroth_read(zoffed, times, in_rates=False, zero_subtracted=True)[1:],
        zoffed[1:])


def test_sky_levels_and_their_noise():
    times = TIMES
    counts = sky_ramp(times, 1.5, shape=(100, 100), noise=10.0, seed=4)
    counts[:, 10:14, 10:14] += 400.0 * times[:, None, None]  # a star
    sky = sky_levels(counts, times, params=SkyParameters(statistic="median"))
    np.testing.assert_allclose(sky.sky[1:], 1.5 * times[1:], atol=0.5)
    expected = np.sqrt(np.pi / 2) * 10.0 * np.sqrt(2) / 100.0  # median of a difference
    np.testing.assert_allclose(sky.noise[2:], expected, rtol=0.1)
    assert np.isnan(sky.noise[0])
    assert sky.statistics.npix[3] < 100 * 100  # the star and tails are clipped
    assert np.array_equal(sky.sky, sky.statistics.median)


# ---------------------------------------------------------------- detection
def test_constant_sky_is_not_affected():
    det = detect_tvb(TIMES, 2.0 * TIMES, np.full(TIMES.size, 0.01))
    assert det.metric == pytest.approx(0.0, abs=1e-12)
    assert not det.affected and det.affected_read_indices == []
    assert det.sky_rate == pytest.approx(2.0)
    np.testing.assert_allclose(det.interval_rate[1:], 2.0)


def test_rise_gives_the_analytic_metric_and_the_affected_reads():
    times = np.arange(15) * 100.0
    extra = he_rise(times, 1.0, 560.0, 280.0)  # the simulator's default profile, T = 1400 s
    sky = 1.0 * times + extra
    det = detect_tvb(times, sky, np.full(times.size, 0.3))
    rate = sky[-1] / times[-1]
    assert det.sky_rate == pytest.approx(rate)
    deviation = (sky - rate * times) / (rate * times[-1])
    assert det.metric == pytest.approx(np.abs(deviation).max())
    assert det.metric == pytest.approx(0.15)  # 0.225 T of 1.5 T, half-way through the rise
    assert det.affected and det.significance > 100
    assert det.quiet_rate == pytest.approx(1.0)
    assert det.affected_read_indices == list(range(7, 15))  # intervals after 560 s
    np.testing.assert_allclose(det.excess[10:], 1.0 / rate, rtol=1e-9)  # after the rise


@pytest.mark.parametrize(("threshold", "affected"), [(0.10, True), (0.15, False)])
def test_threshold_decides(threshold, affected):
    times = np.arange(15) * 100.0
    sky = times + he_rise(times, 1.0, 560.0, 280.0)
    det = detect_tvb(times, sky, None, DetectionParameters(threshold=threshold))
    assert det.affected is affected and det.threshold == threshold


def test_noise_alone_is_never_a_detection():
    # RAPID-like: 0.8 s of faint sky, the departure is within the noise
    times = np.array([0.0, 0.278, 0.556, 0.833])
    sky = np.array([0.0, 0.078, 0.051, 0.385])
    det = detect_tvb(times, sky, np.full(4, 0.1))
    assert det.metric > 0.5 and det.significance < 3
    assert not det.affected
    assert not det.measurable.any() and np.isnan(det.quiet_rate)


def test_short_first_interval_is_never_reported():
    times = np.arange(10) * 100.0
    times[1] = 0.1
    sky = 1.0 * times
    sky[1] += 1.0  # a bias residual of 1 count: 10 counts/s over 0.1 s
    noise = np.full(times.size, 0.05)
    det = detect_tvb(times, sky, noise)
    assert not det.measurable[1] and not det.affected_reads[1]
    assert det.measurable[2:].all()


@pytest.mark.parametrize("last", [0.0, -5.0])
def test_no_positive_sky_gives_nan(last):
    times = TIMES[:3]
    det = detect_tvb(times, np.array([0.0, 1.0, last]))
    assert np.isnan(det.metric) and not det.affected and not det.affected_reads.any()


def test_detection_refuses_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        detect_tvb(np.array([0.0, 2.0, 1.0]), np.zeros(3))
    with pytest.raises(ValueError, match="1-D"):
        detect_tvb(TIMES, np.zeros(3))


# ---------------------------------------------------------------- flatten-ramp
def test_flatten_ramp_in_counts_makes_the_sky_constant_and_keeps_sources():
    times = np.arange(12) * 100.0
    extra = he_rise(times, 1.0, 400.0, 300.0)
    data = sky_ramp(times, 0.5, extra, shape=(30, 30))
    data[:, 12, 12] += (7.0 * times).astype(np.float32)  # a source
    before = data.copy()
    sky = 0.5 * times + extra
    result = flatten_ramp(data, times, sky, in_rates=False)
    np.testing.assert_array_equal(data, before)
    rate = sky[-1] / times[-1]
    assert result.sky_rate == pytest.approx(rate)
    np.testing.assert_allclose(result.data[:, 0, 0], rate * times, atol=2e-3)
    np.testing.assert_allclose(result.data[:, 12, 12] - result.data[:, 0, 0], 7.0 * times,
                               atol=2e-3)
    np.testing.assert_allclose(result.correction, sky - rate * times, atol=1e-9)
    assert result.correction[0] == 0.0 and result.correction[-1] == pytest.approx(0.0)


def test_flatten_ramp_in_rates_leaves_read_zero_and_the_border():
    times = TIMES
    extra = he_rise(times, 2.0, 10.0, 10.0)
    counts = sky_ramp(times, 1.0, extra, shape=(20, 20))
    rates = counts / np.where(times > 0, times, 1.0)[:, None, None]
    rates[0] = 3.0  # the zero-read signal rate
    rates = rates.astype(np.float32)
    result = flatten_ramp(rates, times, times + extra, in_rates=True, region=(5, 15, 5, 15))
    np.testing.assert_array_equal(result.data[0], rates[0])
    np.testing.assert_array_equal(result.data[:, :5], rates[:, :5])
    np.testing.assert_allclose(result.data[1:, 10, 10], result.sky_rate, rtol=1e-5)


def test_flatten_ramp_refuses_bad_input():
    with pytest.raises(ValueError, match="finite sky"):
        flatten_ramp(np.zeros((3, 2, 2), np.float32), TIMES[:3], np.array([0, np.nan, 1.0]),
                     in_rates=False)
    with pytest.raises(ValueError, match=r"\[ngroups\]"):
        flatten_ramp(np.zeros((3, 2, 2), np.float32), TIMES[:3], np.zeros(2), in_rates=False)


# ---------------------------------------------------------------- last-minus-first
GAIN, READ_NOISE = 2.5, 8.0


def lmf(data, groupdq=None, pixeldq=None):
    groupdq = np.zeros(data.shape, np.uint16) if groupdq is None else groupdq
    return last_minus_first(data, groupdq, TIMES[:data.shape[0]], GAIN, READ_NOISE, pixeldq)


def test_last_minus_first_rate_and_variances():
    data = sky_ramp(TIMES, 20.0, shape=(2, 3))
    data[3:, 0, 1] += 500.0  # a cosmic ray: left in
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[3, 0, 1] = dqflags.CR_RAMP
    before = data.copy()
    fit = lmf(data, groupdq)
    np.testing.assert_array_equal(data, before)
    span = TIMES[-1]
    np.testing.assert_allclose(fit.rate[1, 1], 20.0, rtol=1e-6)
    np.testing.assert_allclose(fit.rate[0, 1], 20.0 + 500.0 / span, rtol=1e-6)
    np.testing.assert_allclose(fit.var_rnoise, 2 * READ_NOISE**2 / span**2, rtol=1e-6)
    np.testing.assert_allclose(fit.var_poisson[1, 1], 20.0 / (GAIN * span), rtol=1e-6)
    np.testing.assert_allclose(fit.err**2, fit.var_poisson + fit.var_rnoise, rtol=1e-6)
    assert np.all(fit.samp == 2) and np.allclose(fit.time, span)
    assert fit.dq[0, 1] == 0  # CR_RAMP removed, as in calwf3's flt
    assert fit.segments is None


def test_last_minus_first_stops_before_saturation_and_needs_two_reads():
    data = sky_ramp(TIMES, 20.0, shape=(1, 4))
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[4:, 0, 0] = dqflags.SATURATED  # last usable read: 3
    groupdq[1:, 0, 1] = dqflags.SATURATED  # only the zeroth read
    groupdq[0, 0, 2] = dqflags.SATURATED  # zeroth read flagged: first usable read is 1
    pixeldq = np.zeros((1, 4), np.uint16)
    pixeldq[0, 3] = dqflags.BAD_DETECTOR
    fit = lmf(data, groupdq, pixeldq)
    assert fit.rate[0, 0] == pytest.approx(20.0) and fit.time[0, 0] == pytest.approx(TIMES[3])
    assert np.isnan(fit.rate[0, 1]) and fit.dq[0, 1] & NO_SLOPE
    assert fit.samp[0, 1] == 0 and fit.time[0, 1] == 0
    assert fit.dq[0, 0] & dqflags.SATURATED == 0  # late saturation removed (flt rules)
    assert fit.rate[0, 2] == pytest.approx(20.0) and fit.time[0, 2] == pytest.approx(
        TIMES[-1] - TIMES[1])
    assert fit.dq[0, 2] & dqflags.SATURATED  # flagged in the zeroth read: stays
    assert np.isnan(fit.rate[0, 3]) and fit.dq[0, 3] & dqflags.BAD_DETECTOR
