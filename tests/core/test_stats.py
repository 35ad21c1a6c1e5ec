"""Tests of hstramp.core.stats: science area, resistant mean, statistics keywords."""

import numpy as np
import pytest

from hstramp.core.dqflags import HOT, RESERVED, SATURATED, SDQFLAGS_DEFAULT, WARM
from hstramp.core.stats import (
    image_statistics,
    masked_mean,
    resistant_mean,
    science_slices,
    statistics_keywords,
)
from hstramp.errors import ParameterError

TRIM = (2, 1, 1, 3)


@pytest.mark.parametrize(
    ("shape", "trim", "rows", "cols"),
    [
        ((1024, 1024), (5, 5, 5, 5), slice(5, 1019), slice(5, 1019)),
        ((10, 12), (2, 1, 1, 3), slice(1, 7), slice(2, 11)),
        ((4, 10, 12), (0, 0, 0, 0), slice(0, 10), slice(0, 12)),
    ],
)
def test_science_slices(shape, trim, rows, cols):
    assert science_slices(shape, trim) == (rows, cols)


@pytest.mark.parametrize(
    "trim", [(-1, 5, 5, 5), (5, 5, 5), (6, 6, 0, 0), (0, 0, 5, 5), (1.5, 0, 0, 0), "abcd"]
)
def test_science_slices_rejects_bad_trim(trim):
    with pytest.raises(ParameterError, match="trim"):
        science_slices((10, 12), trim)


def test_resistant_mean_by_hand():
    # MAD is 0 -> mean |dev| / 0.8 = (1 + 90) / 6 / 0.8 = 18.96: 100 rejected (90 > 56.9);
    # then sigma of [10]*4+[11] = 0.447 / 0.98891 -> cutoff 1.357 keeps 11.
    result = resistant_mean(np.array([10, 10, 10, 10, 11, 100.0]))
    assert result.npix == 5
    assert result.mean == pytest.approx(10.2, rel=1e-6)
    assert result.stddev == pytest.approx(np.sqrt(0.2) / 0.988907, rel=1e-5)


def test_resistant_mean_second_pass_clips_around_survivors_median():
    # median 1, MAD cut 8.9 keeps 4.4; the second pass (sigma 1.09 / 0.98891 -> cut 3.31
    # around the survivors' median 1) drops it
    values = np.r_[np.full(50, -1.0), np.full(50, 1.0), 4.4]
    first_cut = 3 * np.median(np.abs(values - 1.0)) / 0.6745
    assert 4.4 - 1.0 <= first_cut
    result = resistant_mean(values)
    assert result.npix == 100
    assert result.mean == 0.0


def test_resistant_mean_rejects_outliers():
    rng = np.random.default_rng(1)
    values = rng.normal(14200.0, 5.0, 8000).astype(np.float32)
    values[:40] = 60000.0
    values[40:60] = -3000.0
    result = resistant_mean(values)
    assert result.npix < 8000 - 60
    assert abs(result.mean - 14200.0) < 0.5
    assert np.mean(values) > 14300


def test_resistant_mean_truncation_correction_recovers_sigma():
    values = np.random.default_rng(2).normal(0.0, 1.0, 40000)
    assert resistant_mean(values).stddev == pytest.approx(1.0, abs=0.03)


def test_resistant_mean_constant_values():
    result = resistant_mean(np.full(7, 3.5))
    assert (result.mean, result.stddev, result.npix) == (3.5, 0.0, 7)


@pytest.mark.parametrize(
    ("values", "sigma", "error"),
    [
        (np.array([]), 3.0, ValueError),
        (np.ones(3), 0.0, ParameterError),
        (np.ones(3), -1.0, ParameterError),
    ],
)
def test_resistant_mean_errors(values, sigma, error):
    with pytest.raises(error):
        resistant_mean(values, sigma)


@pytest.mark.parametrize("offset", [0.0, 1000.0, 14200.0])
def test_resistant_mean_follows_an_offset(offset):
    values = np.random.default_rng(4).normal(0.0, 5.0, 4000)
    values[:30] = 400.0
    base = resistant_mean(values)
    moved = resistant_mean(values + offset)
    # the float32 variance (see the next test) moves the clip a little at reference-pixel
    # levels, so only the mean is shift-invariant, to a few hundredths of a DN
    assert moved.mean - offset == pytest.approx(base.mean, abs=0.05)
    assert moved.npix > 3800


@pytest.mark.parametrize(("offset", "stddev", "npix"), [(0.0, 0.126, 4), (512.125, 0.0, 3)])
def test_resistant_mean_float32_variance_cancels_at_large_offsets(offset, stddev, npix):
    # calwf3 findSigma: one pass over float32 squares with a float32 mean; at 512 the
    # variance of [0, 0, 0, 0.25] cancels to <= 0, the clip collapses to the median
    result = resistant_mean(np.array([0.0, 0.0, 0.0, 1.0, 0.25]) + offset)
    assert result.npix == npix
    assert result.stddev == pytest.approx(stddev, abs=1e-3)


def test_masked_mean_skips_flags_border_and_nonfinite():
    image = np.full((6, 7), 2.0, dtype=np.float32)
    dq = np.zeros((6, 7), dtype=np.uint16)
    image[0, :] = 1e6  # border row
    image[2, 3], dq[2, 3] = 500.0, HOT
    image[3, 3] = np.nan
    image[3, 4] = np.inf
    image[4, 4], dq[4, 4] = 4.0, WARM  # not in the mask: counts
    mean = masked_mean(image, dq, HOT | SATURATED, trim=(1, 1, 1, 1))
    assert mean == pytest.approx((2.0 * 16 + 4.0) / 17)


def test_masked_mean_is_zero_when_nothing_counts():
    image = np.ones((5, 5), dtype=np.float32)
    dq = np.full((5, 5), HOT, dtype=np.uint16)
    assert masked_mean(image, dq, HOT, trim=(1, 1, 1, 1)) == 0.0


def _image():
    rng = np.random.default_rng(3)
    data = rng.normal(10.0, 2.0, (10, 12)).astype(np.float32)
    err = rng.uniform(1.0, 2.0, (10, 12)).astype(np.float32)
    dq = np.zeros((10, 12), dtype=np.uint16)
    return data, err, dq


def test_statistics_ignore_flagged_border_and_nonpositive_err():
    data, err, dq = _image()
    rows, cols = science_slices(data.shape, TRIM)
    data[2, 4], dq[2, 4] = 1e5, SATURATED
    data[3, 4], err[3, 4] = -1e5, 0.0
    data[4, 4], err[4, 4] = 1e5, -1.0
    data[0, 0] = 1e6  # border
    data[5, 5], dq[5, 5] = 7.0, RESERVED  # 1024 is the one bit not in SDQFLAGS 31743
    good = np.zeros(data.shape, bool)
    good[rows, cols] = True
    good[2:5, 4] = False
    st_ = image_statistics(data, err, dq, trim=TRIM)
    assert st_.ngoodpix == good.sum()
    assert st_.goodmean == pytest.approx(data[good].astype(np.float64).mean(), rel=1e-6)
    assert (st_.goodmin, st_.goodmax) == (data[good].min(), data[good].max())
    assert st_.errmean == pytest.approx(err[good].astype(np.float64).mean(), rel=1e-6)
    snr = data[good].astype(np.float64) / err[good]
    assert st_.snrmean == pytest.approx(snr.mean(), rel=1e-6)
    assert st_.snrmax == pytest.approx(snr.max(), rel=1e-6)


@pytest.mark.parametrize(
    ("placement", "sci_snrmean", "err_goodmean"),
    [(True, "errmean", "snrmean"), (False, "snrmean", "errmean")],
)
def test_statistics_keywords_placement(placement, sci_snrmean, err_goodmean):
    data, err, dq = _image()
    st_ = image_statistics(data, err, dq, trim=TRIM)
    keys = statistics_keywords(data, err, dq, trim=TRIM, calwf3_placement=placement)
    assert keys["SCI"]["GOODMEAN"] == st_.goodmean
    assert keys["SCI"]["SNRMEAN"] == getattr(st_, sci_snrmean)
    assert keys["ERR"]["GOODMEAN"] == getattr(st_, err_goodmean)
    assert keys["SCI"]["NGOODPIX"] == keys["ERR"]["NGOODPIX"] == st_.ngoodpix


def test_statistics_keywords_with_no_good_pixel_only_ngoodpix():
    data, err, dq = _image()
    dq[:] = SATURATED
    assert statistics_keywords(data, err, dq, trim=TRIM) == {
        "SCI": {"NGOODPIX": 0},
        "ERR": {"NGOODPIX": 0},
    }


def test_statistics_keywords_match_a_real_calwf3_ima(real_file):
    fits = pytest.importorskip("astropy.io.fits")
    with fits.open(real_file("iccz11q4q_ima.fits")) as hdul:
        for ver in range(1, hdul[0].header["NSAMP"] + 1):
            sci, err = hdul["SCI", ver], hdul["ERR", ver]
            keys = statistics_keywords(
                sci.data,
                err.data,
                hdul["DQ", ver].data,
                trim=(5, 5, 5, 5),
                sdqflags=SDQFLAGS_DEFAULT,
            )
            for ext, header in (("SCI", sci.header), ("ERR", err.header)):
                for name, value in keys[ext].items():
                    assert value == pytest.approx(header[name], rel=2e-6, abs=1e-12), (ver, name)
