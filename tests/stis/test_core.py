"""Pure cores of the STIS CCD stages (hstramp.core.stis) and the shared generalisations."""

import numpy as np
import pytest

from hstramp.core.flat import flat_field
from hstramp.core.geometry import unbin_error, unbin_linear
from hstramp.core.noise import pixel_error
from hstramp.core.stis.blev import BlevParameters, fit_line, overscan_bias_correct
from hstramp.core.stis.calib import subtract_scaled
from hstramp.core.stis.crreject import CRRejectParameters, cr_reject, disk_offsets, sky_mode
from hstramp.core.stis.dqflags import (
    CALIBDEFECT,
    DATAREJECT,
    DETECTORPROB,
    SATPIXEL,
    stis_dq_mnemonics,
)
from hstramp.core.stis.dqinit import aperture_edge_flags, bin_bad_pixels, saturation_flags
from hstramp.core.stis.geometry import bin_reference, find_overscan, raw_shape
from hstramp.core.stis.noise import initial_error


@pytest.mark.parametrize(("amp", "binning", "trim", "biassect", "vy"), [
    ("D", (1, 1), (19, 19, 20, 0), (1, 15), (0, 19)),
    ("A", (1, 1), (19, 19, 0, 20), (1046, 1060), (1024, 1043)),
    ("C", (2, 2), (10, 10, 10, 0), (524, 530), (0, 9)),
    ("B", (4, 4), (10, 5, 0, 5), (0, 6), (256, 260)),
])
def test_overscan_regions_follow_the_amplifier_and_binning(amp, binning, trim, biassect, vy):
    ny, nx = raw_shape(binning)
    regions = find_overscan(amp, nx, ny, binning)
    assert regions.trim == trim
    assert regions.biassect == biassect
    assert regions.vy == vy
    assert regions.has_virtual_overscan


def test_subarray_has_no_virtual_overscan_and_small_images_none():
    regions = find_overscan("D", 1060, 100)
    assert regions.trim == (18, 18, 0, 0) and not regions.has_virtual_overscan
    assert find_overscan("D", 500, 100) is None
    with pytest.raises(ValueError, match="CCDAMP"):
        find_overscan("E", 1062, 1044)
    with pytest.raises(ValueError, match="binning"):
        find_overscan("D", 1062, 1044, (3, 3))


@pytest.mark.parametrize("how", ["sum", "mean", "quadrature-sum", "quadrature-mean", "or"])
def test_an_unbinned_cut_is_the_block_arithmetic_bit_for_bit(how):
    """Ratio 1 takes a short cut (no float64 blocks); the values are the general path's."""
    from hstramp.core.stis.geometry import _bin_blocks

    rng = np.random.default_rng(5)
    if how == "or":
        ref = rng.integers(0, 2**16, (30, 40)).astype(np.uint16)
    else:
        ref = (rng.normal(0, 10, (30, 40)) * 10.0 ** rng.integers(-40, 38, (30, 40)))
        ref = ref.astype(np.float32)
        ref.flat[:8] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 3.4e38, -1e-45, 1e-45]
    before = ref.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        got = bin_reference(ref, (20, 25), (7, 4), (1, 1), how)
        want = _bin_blocks(ref[4:24, 7:32], 1, 1, how)
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    assert got.base is None and np.array_equal(ref, before, equal_nan=True)


@pytest.mark.parametrize("shape", [(2, 600, 37), (300, 5), (7,), ()])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16, np.int16])
def test_saturation_flags_in_bands_are_the_formula(shape, dtype):
    """Band by band (float64 a band at a time): the written-out formula, any shape."""
    rng = np.random.default_rng(9)
    raw = rng.uniform(-40000, 66000, shape)
    if np.dtype(dtype).kind == "f":
        raw.flat[:3] = [33000.7, 33001.0, np.nan][:raw.size]
    raw = np.asarray(raw).astype(dtype)
    with np.errstate(invalid="ignore"):
        want = np.where(np.trunc(raw.astype(np.float64)) > 33000.5, SATPIXEL, 0)
    got = saturation_flags(raw, 33000.5)
    assert got.dtype == np.uint16 and got.shape == raw.shape
    np.testing.assert_array_equal(got, want)


def test_bin_reference_sums_means_and_ors():
    ref = np.arange(64, dtype=np.float32).reshape(8, 8)
    assert bin_reference(ref, (2, 2), (2, 2), (2, 2), "sum")[0, 0] == ref[2:4, 2:4].sum()
    assert bin_reference(ref, (2, 2), (2, 2), (2, 2), "mean")[1, 1] == ref[4:6, 4:6].mean()
    dq = np.zeros((8, 8), np.uint16)
    dq[0, 0] = 4
    out = bin_reference(dq, (3, 3), (-2, -2), (2, 2), "or")
    assert out[1, 1] == 4 and out.sum() == 4
    with pytest.raises(ValueError, match="does not fit"):
        bin_reference(ref, (4, 4), (2, 2), (2, 2), "sum")


def test_saturation_compares_the_truncated_raw_value():
    raw = np.array([[33000.0, 33000.9, 33001.0]], np.float32)
    np.testing.assert_array_equal(saturation_flags(raw, 33000.0), [[0, 0, SATPIXEL]])


def test_aperture_edges_flag_lines_outside_a_28x50_aperture_only():
    shape, ltv = (1044, 1062), (19.0, 20.0)
    dq = aperture_edge_flags(shape, aper_fov="28x50", obstype="IMAGING", ltv=ltv,
                             ltm=(1.0, 1.0), pixel_scale=(0.05078, 0.05078))
    half = 28 / 0.05078 / 2 + 10
    assert dq[20 + int(512 - half) - 2, 500] == DETECTORPROB      # below the aperture
    assert dq[532, 500] == 0                                       # inside
    assert dq[532, 5] == 0 and dq[5, 500] == 0                     # overscan never flagged
    wide = aperture_edge_flags(shape, aper_fov="50x50", obstype="IMAGING", ltv=ltv,
                               ltm=(1.0, 1.0), pixel_scale=(0.05078, 0.05078))
    assert not wide.any()                                          # taller than 45 arcsec


def test_binned_bad_pixels_or_every_detector_pixel_under_a_bin():
    detector = np.zeros((1024, 1024), np.uint16)
    detector[5, 6] = 16
    binned = bin_bad_pixels(detector, (256, 255), (0.0, 0.75), (0.25, 0.25))
    # corner (3, 0): binned pixel x covers 3 + 4i .. 6 + 4i, y covers 4j .. 4j + 3
    assert binned[1, 0] == 16 and binned.sum() == 16


def _overscan_image(rng, level, row_slope, col_slope, noise=0.0):
    ny, nx = raw_shape((1, 1))
    rows, cols = np.mgrid[0:ny, 0:nx]
    image = level + row_slope * rows + col_slope * cols + rng.normal(0, noise, (ny, nx))
    return image.astype(np.float32), rows, cols


def test_blev_recovers_line_and_column_slopes_exactly_without_noise():
    rng = np.random.default_rng(1)
    image, _rows, _cols = _overscan_image(rng, 1500.0, 0.01, 0.004)
    truth = image.copy()
    dq = np.zeros(image.shape, np.uint16)
    result = overscan_bias_correct(image[None], np.zeros_like(image)[None], dq[None],
                                   ccdamp="D")
    assert result.data.shape == (1, 1024, 1024)
    np.testing.assert_allclose(result.data[0], 0.0, atol=2e-3)
    # MEANBLEV: mean line level + drift at the middle output column (calstis)
    expected = 1500.0 + 0.01 * (np.arange(1024) + 20).mean() + 0.004 * (19 + 512)
    assert result.meanblev[0] == pytest.approx(expected, abs=1e-3)
    np.testing.assert_array_equal(image, truth)                     # input untouched


def test_blev_clips_a_hot_virtual_overscan_column_and_skips_flagged_pixels():
    rng = np.random.default_rng(2)
    image, _r, _c = _overscan_image(rng, 1500.0, 0.0, 0.003, noise=3.0)
    hot = image.copy()
    hot[0:20, 300] += 5000.0
    dq = np.zeros(image.shape, np.uint16)
    dq[100:200, 1:16] = SATPIXEL
    hot[100:200, 1:16] = 60000.0                                   # saturated overscan
    base = overscan_bias_correct(image, np.zeros_like(image), np.zeros_like(dq), ccdamp="D")
    clipped = overscan_bias_correct(hot, np.zeros_like(image), dq, ccdamp="D")
    assert clipped.drift_slope == pytest.approx(base.drift_slope, abs=2e-4)
    assert clipped.meanblev == pytest.approx(base.meanblev, abs=0.2)
    unclipped = overscan_bias_correct(hot, np.zeros_like(image), dq, ccdamp="D",
                                      params=BlevParameters(blev_clip=1e6))
    assert abs(unclipped.drift_slope - base.drift_slope) > 10 * abs(
        clipped.drift_slope - base.drift_slope)


def test_blev_falls_back_to_ccdbias_for_a_small_image_and_fit_line_edge_cases():
    image = np.full((2, 10, 10), 1400.0, np.float32)
    result = overscan_bias_correct(image, np.zeros_like(image),
                                   np.zeros(image.shape, np.uint16), ccdamp="D", ccdbias=1350.0)
    assert result.regions is None and result.data.shape == image.shape
    np.testing.assert_allclose(result.data, 50.0)
    assert fit_line([], []) is None and fit_line([1, 1], [2, 3]) is None
    assert fit_line([0, 1, 2], [1, 3, 5]) == pytest.approx((1.0, 2.0))


def test_noise_uses_read_noise_alone_where_the_signal_is_not_positive():
    data = np.array([[[100.0, -5.0]], [[4.0, 4.0]]], np.float32)
    err = np.zeros_like(data)
    err[1] = 7.0                                                   # already populated
    out, computed = initial_error(data, err, 2.0, 6.0)
    assert out[0, 0, 0] == pytest.approx(np.sqrt(200 + 36) / 2)
    assert out[0, 0, 1] == pytest.approx(3.0)
    np.testing.assert_array_equal(out[1], 7.0)
    np.testing.assert_array_equal(computed, [True, False])
    # the shared formula keeps calwf3's |S g| by default
    assert pixel_error(np.float32(-5), 2.0, 6.0) == pytest.approx(np.sqrt(46) / 2)
    assert pixel_error(np.float32(-5), 2.0, 6.0, nonpositive="readnoise") == 3.0
    with pytest.raises(ValueError, match="nonpositive"):
        pixel_error(1.0, 1.0, 1.0, nonpositive="zero")


def test_unbin_extrapolates_only_when_asked():
    low = np.array([[1.0, 2.0, 3.0]], np.float32).repeat(2, axis=0)
    held = unbin_linear(low, 4, 1)
    extrapolated = unbin_linear(low, 4, 1, extrapolate=True)
    assert held[0, 0] == pytest.approx(1.0)
    assert extrapolated[0, 0] == pytest.approx(1.0 - 1.5 / 4)
    np.testing.assert_allclose(held[:, 2:10], extrapolated[:, 2:10])
    assert np.all(np.isfinite(unbin_error(low, 4, 1, extrapolate=True)))


def test_flat_field_without_gain_flags_zero_flats():
    data = np.full((2, 3), 10.0, np.float32)
    flat = np.array([[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]], np.float32)
    result = flat_field(data, np.ones_like(data), np.zeros(data.shape, np.uint16), flat, None,
                        None, amp_gains=None, trim=(0, 0, 0, 0), bunit="COUNTS",
                        zero_flat_dq=CALIBDEFECT)
    assert result.bunit == "COUNTS"
    np.testing.assert_allclose(result.data[0], [5.0, 0.0, 10.0])
    np.testing.assert_array_equal(result.dq[0], [0, CALIBDEFECT, 0])


def test_sky_mode_finds_the_peak_of_a_noisy_sky():
    rng = np.random.default_rng(3)
    image = rng.normal(52.3, 4.0, (300, 300)).astype(np.float32)
    image[:10] = 5000.0                                            # a bright source
    dq = np.zeros(image.shape, np.uint16)
    assert sky_mode(image, dq) == pytest.approx(52.3, abs=0.4)
    assert sky_mode(image, np.ones_like(dq)) == 0.0


def test_disk_offsets():
    assert len(disk_offsets(1.5)) == 9
    assert len(disk_offsets(1.0)) == 5
    assert disk_offsets(0.0) == [(0, 0)]


def _stack(rng, n=3, shape=(60, 60), rn=5.0, level=80.0):
    truth = level + 20 * rng.random(shape)
    data = np.stack([rng.poisson(truth) + rng.normal(0, rn, shape) for _ in range(n)])
    return truth, data.astype(np.float32)


@pytest.mark.parametrize("initgues", ["minimum", "median"])
def test_cr_reject_flags_hits_and_neighbours_and_adds_the_sky_back(initgues):
    rng = np.random.default_rng(4)
    truth, data = _stack(rng)
    data[1, 30, 30] += 3000.0
    data[1, 30, 31] += 60.0                                         # a weaker neighbour
    dq = np.zeros(data.shape, np.uint16)
    dq[2, 5, 5] = DATAREJECT                                         # stale flag of a rerun
    before = data.copy()
    params = CRRejectParameters(crsigmas=(4.0, 3.0), initgues=initgues)
    result = cr_reject(data, dq, [100.0, 100.0, 100.0], readnoise=5.0, gain=1.0, params=params)
    np.testing.assert_array_equal(data, before)
    assert result.rejected[1, 30, 30] and result.rejected[1, 30, 31]
    assert result.input_dq[1, 30, 30] & DATAREJECT
    assert not result.input_dq[2, 5, 5] & DATAREJECT
    assert not result.dq[30, 30] & DATAREJECT                       # not rejected everywhere
    tolerance = 5 * float(result.err[30, 30])
    assert result.data[30, 30] == pytest.approx(3 * truth[30, 30], abs=tolerance)
    z = (result.data - 3 * truth) / result.err
    assert abs(np.median(z)) < 0.1
    assert result.exptime == 300.0


def test_cr_reject_flags_the_output_only_where_every_input_is_rejected():
    rng = np.random.default_rng(5)
    _truth, data = _stack(rng, n=3)
    for k, x in enumerate((10, 11, 9)):                              # hit here or next door
        data[k, 10, x] += 3000.0
    dq = np.zeros(data.shape, np.uint16)
    spill_all = CRRejectParameters(crthresh=0.0)                     # <= 0: every neighbour
    result = cr_reject(data, dq, [50.0] * 3, readnoise=5.0, gain=1.0, params=spill_all)
    assert result.rejected[:, 10, 10].all()
    assert result.dq[10, 10] & DATAREJECT
    assert result.err[10, 10] == 0.0
    default = cr_reject(data, dq, [50.0] * 3, readnoise=5.0, gain=1.0)
    assert not default.dq[10, 10] & DATAREJECT
    nomask = cr_reject(data, dq, [50.0] * 3, readnoise=5.0, gain=1.0,
                       params=CRRejectParameters(crmask=False))
    np.testing.assert_array_equal(nomask.input_dq, dq)


def test_cr_reject_excludes_badinpdq_pixels_and_checks_its_inputs():
    rng = np.random.default_rng(6)
    _truth, data = _stack(rng, n=2)
    dq = np.zeros(data.shape, np.uint16)
    dq[0, 20, 20] = 16
    data[0, 20, 20] = 1.0e4
    kept = cr_reject(data, dq, [10.0, 10.0], readnoise=5.0, gain=1.0,
                     params=CRRejectParameters(badinpdq=16))
    assert kept.data[20, 20] == pytest.approx(2 * (data[1, 20, 20] - kept.sky[1])
                                              + kept.sky.sum(), rel=1e-5)
    with pytest.raises(ValueError, match="two imsets"):
        cr_reject(data[:1], dq[:1], [10.0], readnoise=5.0, gain=1.0)
    with pytest.raises(ValueError, match="some but not all"):
        cr_reject(data, dq, [10.0, 0.0], readnoise=5.0, gain=1.0)
    with pytest.raises(ValueError, match="initgues"):
        CRRejectParameters(initgues="mean")
    with pytest.raises(ValueError, match="crsigmas"):
        CRRejectParameters(crsigmas=(4.0, -1.0))


def test_subtract_scaled_scales_value_error_and_reports_the_median():
    data = np.full((2, 3, 3), 100.0, np.float32)
    ref = np.full((3, 3), 2.0, np.float32)
    ref_dq = np.zeros((3, 3), np.uint16)
    ref_dq[0, 0] = 16
    result = subtract_scaled(data, np.zeros_like(data), np.zeros(data.shape, np.uint16), ref,
                             np.ones_like(ref), ref_dq, [1.0, 10.0])
    np.testing.assert_allclose(result.data[1], 80.0)
    np.testing.assert_allclose(result.err[1], 10.0)
    np.testing.assert_allclose(result.median, [2.0, 20.0])
    assert result.dq[0, 0, 0] == 16


@pytest.mark.parametrize("shape", [(3, 17, 19), (17, 19)])
def test_subtract_scaled_in_place_is_the_new_arrays_result_bit_for_bit(shape):
    """``out=`` the inputs (what the steps do with their own model) gives the same arrays as
    new outputs; the reference is never modified; ``medians=False`` skips MEANDARK."""
    rng = np.random.default_rng(6)
    data = rng.normal(50, 9, shape).astype(np.float32)
    err = rng.uniform(0, 4, shape).astype(np.float32)
    dq = rng.choice(np.array([0, 4, 8192], np.uint16), shape)
    ref = rng.normal(3, 1, shape[-2:]).astype(np.float32)
    ref_err = rng.normal(0, 1, shape[-2:]).astype(np.float32)  # negative errors: |f e|
    ref_dq = rng.choice(np.array([0, 16, 512], np.uint16), shape[-2:])
    factors = [1.7, 300.0, 0.0][:shape[0]] if len(shape) == 3 else 2.5
    before = [a.copy() for a in (ref, ref_err, ref_dq)]
    new = subtract_scaled(data, err, dq, ref, ref_err, ref_dq, factors)
    arrays = (data.copy(), err.copy(), dq.copy())
    inplace = subtract_scaled(*arrays, ref, ref_err, ref_dq, factors, out=arrays,
                              medians=False)
    for name, array in zip(("data", "err", "dq"), arrays, strict=True):
        assert getattr(inplace, name).base is array or getattr(inplace, name) is array
        assert array.tobytes() == getattr(new, name).tobytes(), name
    assert inplace.median is None and np.shape(new.median) == shape[:-2]
    assert all(np.array_equal(a, b) for a, b in zip(before, (ref, ref_err, ref_dq),
                                                    strict=True))
    with pytest.raises(ValueError, match="C-contiguous"):
        subtract_scaled(data, err, dq, ref, ref_err, ref_dq, factors,
                        out=(np.asfortranarray(data), err, dq))


def test_mnemonics():
    assert stis_dq_mnemonics(256 + 8192) == ["SATPIXEL", "DATAREJECT"]
    assert stis_dq_mnemonics(64) == ["BIT6"]
