"""Tests of hstramp.core.geometry: LTV corners, reference cutting, amplifier quadrants,
bad-pixel runs and calwf3's bilinear expansion."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hstramp.core.geometry import (
    FULL_FRAME_LTV,
    FULL_FRAME_SHAPE,
    ScienceGeometry,
    amplifier_map,
    corner_from_lt,
    cut_to_science,
    flag_runs,
    per_amp_values,
    reference_offset,
    subarray_ltv,
    unbin_dq,
    unbin_error,
    unbin_linear,
)


@pytest.mark.parametrize(
    ("n_science", "ltv"),
    [(1014, 5.0), (512, -246.0), (256, -374.0), (128, -438.0), (64, -470.0)],
)
def test_subarray_ltv_matches_real_headers(n_science, ltv):
    # SQ256SUB -374 and SQ128SUB -438 are read from the real raw files
    assert subarray_ltv(n_science) == ltv


@pytest.mark.parametrize("bad", [0, 63, 1016, -64])
def test_subarray_ltv_rejects_impossible_sizes(bad):
    with pytest.raises(ValueError, match="n_science"):
        subarray_ltv(bad)


def test_ltv_of_the_real_subarrays(real_file):
    from astropy.io import fits

    for name, n in (("ibh7a7lsq_raw.fits", 128), ("ibxy01aoq_raw.fits", 256)):
        header = fits.getheader(real_file(name), ("SCI", 1))
        geometry = ScienceGeometry.for_science_size(n)
        assert geometry.shape == (header["NAXIS2"], header["NAXIS1"])
        assert geometry.ltv == (header["LTV1"], header["LTV2"])


@pytest.mark.parametrize(
    ("ltv", "ltm", "corner"),
    [((-374.0, -374.0), (1.0, 1.0), (374, 374)), ((5.0, 5.0), (1.0, 1.0), (-5, -5)),
     ((2.0, 2.0), (0.25, 0.25), (-5, -5)), ((0.0, 0.0), (1.0, 1.0), (0, 0))],
)
def test_corner_from_lt_follows_fromlt(ltv, ltm, corner):
    assert corner_from_lt(ltv, ltm) == corner


def test_reference_offset_of_sq256_in_a_full_frame_reference():
    # science index 5 (first science pixel) is 1024-frame column 384 = 512 - 256/2
    assert reference_offset((-374.0, -374.0), FULL_FRAME_LTV) == (379, 379)
    assert reference_offset((-374.0, -374.0), FULL_FRAME_LTV)[0] + 5 == 512 - 128
    assert reference_offset(FULL_FRAME_LTV, FULL_FRAME_LTV) == (0, 0)


def test_reference_offset_refuses_different_binning():
    with pytest.raises(ValueError, match="LTM"):
        reference_offset((0.0, 0.0), (0.0, 0.0), (1.0, 1.0), (0.5, 0.5))


def test_cut_to_science_is_a_copy_at_the_offset():
    ref = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)
    before = ref.copy()
    cut = cut_to_science(ref, (4, 5), (7, 3))
    np.testing.assert_array_equal(cut, ref[3:7, 7:12])
    cut[:] = -1
    np.testing.assert_array_equal(ref, before)


def test_cut_to_science_handles_leading_axes():
    ref = np.arange(2 * 10 * 10).reshape(2, 10, 10)
    assert cut_to_science(ref, (3, 3), (1, 2)).shape == (2, 3, 3)


@pytest.mark.parametrize("offset", [(-1, 0), (0, -1), (8, 0), (0, 8)])
def test_cut_to_science_outside_is_an_error(offset):
    with pytest.raises(ValueError, match="does not fit"):
        cut_to_science(np.zeros((10, 10)), (3, 3), offset)


def test_amplifier_split_full_frame_is_the_physical_middle():
    # calwf3 noiscalc: split = AMPX + LTV1 - TRIMX1 = 512 + 5 - 5 with the real LTV = +5
    ampmap = amplifier_map(FULL_FRAME_SHAPE, FULL_FRAME_LTV, 512, 512, 5, 5)
    assert ampmap[0, 511] == 1 and ampmap[0, 512] == 2  # B | C along the bottom
    assert ampmap[511, 0] == 1 and ampmap[512, 0] == 0  # B below A
    assert ampmap[1023, 1023] == 3


def test_amplifier_split_507_only_if_full_frame_ltv_were_zero():
    # DESIGN's "507" assumes LTV = 0 for full frame; the real full-frame LTV is +5
    ampmap = amplifier_map(FULL_FRAME_SHAPE, (0.0, 0.0), 512, 512, 5, 5)
    assert ampmap[0, 506] == 1 and ampmap[0, 507] == 2


def test_amplifier_split_sq256_is_at_the_detector_middle():
    geometry = ScienceGeometry.for_science_size(256)
    ampmap = amplifier_map(geometry.shape, geometry.ltv, 512, 512, 5, 5)
    split = int(np.argmax(ampmap[0] == 2))
    assert split == 133
    # column 133 of the subarray is column 512 of the detector
    assert split + reference_offset(geometry.ltv, FULL_FRAME_LTV)[0] == 512
    assert {int(v) for v in np.unique(ampmap)} == {0, 1, 2, 3}


def test_quadrant_labels():
    ampmap = amplifier_map((10, 10), (0.0, 0.0), 5, 5, 0, 0)
    assert ampmap[0, 0] == 1  # B lower-left
    assert ampmap[0, 9] == 2  # C lower-right
    assert ampmap[9, 0] == 0  # A upper-left
    assert ampmap[9, 9] == 3  # D upper-right
    assert ampmap.dtype == np.int8


@pytest.mark.parametrize("shape", [(10, 10), (7, 12), (1, 1)])
@pytest.mark.parametrize("split", [(-3, -3), (0, 0), (5, 5), (3, 11), (12, 0), (40, 40),
                                   (5.9, -0.5)])
def test_amplifier_map_is_the_comparison_of_every_pixel_with_the_split(shape, split):
    """Every pixel: right of the split if its column >= the split column, above it if its
    row >= the split row (splits outside the image, fractional LTV truncated as in C)."""
    ltv = (split[0] - int(split[0]) if isinstance(split[0], float) else 0.0,
           split[1] - int(split[1]) if isinstance(split[1], float) else 0.0)
    ampx, ampy = int(split[0]), int(split[1])
    ampmap = amplifier_map(shape, ltv, ampx, ampy, 0, 0)
    split_x, split_y = int(ampx + ltv[0]), int(ampy + ltv[1])
    rows, columns = np.indices(shape)
    right, upper = columns >= split_x, rows >= split_y
    expected = np.where(upper, np.where(right, 3, 0), np.where(right, 2, 1))
    np.testing.assert_array_equal(ampmap, expected)
    assert ampmap.dtype == np.int8 and ampmap.shape == shape


def test_per_amp_values():
    ampmap = amplifier_map((4, 4), (0.0, 0.0), 2, 2, 0, 0)
    values = per_amp_values((1.0, 2.0, 3.0, 4.0), ampmap)
    assert values.dtype == np.float32
    assert values[0, 0] == 2.0 and values[0, 3] == 3.0 and values[3, 0] == 1.0
    assert values[3, 3] == 4.0
    with pytest.raises(ValueError, match="4 values"):
        per_amp_values((1.0, 2.0), ampmap)


def test_flag_runs_along_both_axes_with_ltv():
    # one-indexed full-frame science pixel (PIX) lands at PIX - 1 + LTV
    dq = flag_runs((10, 10), (-2.0, -3.0), pix1=[4, 8], pix2=[5, 4], length=[3, 4],
                   axis=[1, 2], value=[4.0, 32.0])
    expected = np.zeros((10, 10), np.uint16)
    expected[1, 1:4] = 4  # x run from (x0=1, y0=1)
    expected[0:4, 5] |= 32  # y run from (x0=5, y0=0)
    np.testing.assert_array_equal(dq, expected)
    assert dq.dtype == np.uint16


def test_flag_runs_or_and_clip():
    dq = flag_runs((5, 5), (0.0, 0.0), pix1=[4, 5], pix2=[1, 1], length=[4, 1], axis=[1, 1],
                   value=[8, 4])
    assert list(dq[0]) == [0, 0, 0, 8, 12]
    assert flag_runs((5, 5), (0.0, 0.0), [-10], [1], [3], [1], [4]).sum() == 0


@pytest.mark.parametrize(("length", "axis"), [(0, 1), (2, 3)])
def test_flag_runs_rejects_bad_rows(length, axis):
    with pytest.raises(ValueError):
        flag_runs((5, 5), (0.0, 0.0), [1], [1], [length], [axis], [4])


def test_unbin_linear_matches_calwf3_positions():
    low = np.array([[0.0, 4.0, 8.0]])
    out = unbin_linear(np.vstack([low, low]), 4, 1)
    # output m samples input (m - 1.5) / 4; clamped before the first centre and after the last
    expected = [0.0, 0.0, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.0, 8.0]
    np.testing.assert_allclose(out[0], expected)
    assert out.dtype == np.float32


def test_unbin_linear_reproduces_a_plane_inside_and_keeps_constants():
    y, x = np.mgrid[0:6, 0:5].astype(float)
    plane = 1.0 + 0.1 * x - 0.05 * y
    out = unbin_linear(plane, 4, 4)
    yy, xx = np.mgrid[0:24, 0:20]
    exact = 1.0 + 0.1 * (xx - 1.5) / 4 - 0.05 * (yy - 1.5) / 4
    np.testing.assert_allclose(out[2:-2, 2:-2], exact[2:-2, 2:-2], atol=1e-6)
    np.testing.assert_allclose(unbin_linear(np.full((3, 3), 1.3), 2, 2), 1.3, rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(2, 6), st.integers(1, 5), st.integers(1, 5))
def test_unbin_preserves_range_and_shape(ny, nx, binx, biny):
    rng = np.random.default_rng(ny * 100 + nx)
    low = rng.uniform(0.5, 1.5, (ny, nx))
    out = unbin_linear(low, binx, biny)
    assert out.shape == (ny * biny, nx * binx)
    assert out.min() >= low.min() - 1e-6 and out.max() <= low.max() + 1e-6


def test_unbin_error_weights_variances():
    err = np.array([[1.0, 3.0]] * 2)
    out = unbin_error(err, 2, 1)
    # pixel 1 samples 0.25: sqrt(0.75 * 1 + 0.25 * 9)
    np.testing.assert_allclose(out[0], [1.0, np.sqrt(3.0), np.sqrt(7.0), 3.0], rtol=1e-6)


def test_unbin_dq_ors_neighbours_like_interpdqinfo():
    dq = np.array([[1, 2, 4]] * 2, dtype=np.uint16)
    out = unbin_dq(dq, 2, 1)
    # positions -0.25, 0.25, 0.75, 1.25, 1.75, 2.25: one neighbour at index <= 0 or >= n-1
    assert list(out[0]) == [1, 1, 1, 6, 6, 4]
    assert out.dtype == np.uint16


def test_unbin_does_not_mutate_inputs():
    data = np.ones((3, 3), np.float32)
    err = np.ones((3, 3), np.float32)
    dq = np.ones((3, 3), np.uint16)
    copies = [a.copy() for a in (data, err, dq)]
    unbin_linear(data, 2, 2), unbin_error(err, 2, 2), unbin_dq(dq, 2, 2)
    for a, b in zip((data, err, dq), copies, strict=True):
        np.testing.assert_array_equal(a, b)


def test_geometry_validation():
    with pytest.raises(ValueError, match="shape"):
        ScienceGeometry((0, 5), (0.0, 0.0))
    geometry = ScienceGeometry((266, 266), (-374, -374))
    assert geometry.corner == (374, 374)
    assert isinstance(geometry.ltv[0], float)


@pytest.mark.parametrize(("binx", "biny"), [(1, 1), (2, 3), (8, 8), (4, 1)])
@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("rows", [slice(0, 5), slice(7, 30), slice(60, None), slice(0, 0)])
def test_unbin_rows_are_the_rows_of_the_whole_expansion(binx, biny, extrapolate, rows):
    rng = np.random.default_rng(binx * 10 + biny)
    data = rng.normal(1.0, 0.1, (9, 7)).astype(np.float32)
    err = rng.uniform(0.0, 0.05, (9, 7)).astype(np.float32)
    dq = rng.choice(np.array([0, 4, 512], np.uint16), size=(9, 7))
    for whole, band in (
        (unbin_linear(data, binx, biny, extrapolate=extrapolate),
         unbin_linear(data, binx, biny, extrapolate=extrapolate, rows=rows)),
        (unbin_error(err, binx, biny, extrapolate=extrapolate),
         unbin_error(err, binx, biny, extrapolate=extrapolate, rows=rows)),
        (unbin_dq(dq, binx, biny), unbin_dq(dq, binx, biny, rows=rows)),
    ):
        np.testing.assert_array_equal(band, whole[rows])
        assert band.dtype == whole.dtype
