"""Tests of hstramp.core.blev: which reference pixels count and where the level is subtracted."""

import numpy as np
import pytest

from hstramp.core.blev import bias_level_correct, reference_pixel_values
from hstramp.core.stats import resistant_mean

# a 20x22 frame with a 5-pixel border; reference columns 1..4 and 17..20 as in OSCNTAB
TRIM = (5, 5, 5, 5)
SECT_A = (1, 4)
SECT_B = (17, 20)
SECTS = {"biassect_a": SECT_A, "biassect_b": SECT_B}


def _ramp(ngroups=3, levels=(14100.0, 14105.0, 14112.0)):
    rng = np.random.default_rng(7)
    data = rng.normal(0.0, 4.0, (ngroups, 20, 22)).astype(np.float32)
    data += np.asarray(levels, dtype=np.float32)[:ngroups, None, None]
    data[:, 5:15, 5:17] += 3000.0  # the science area holds signal
    return data


def test_reference_pixels_are_both_sections_over_the_trimmed_rows():
    data = _ramp()
    values = reference_pixel_values(data, trim=TRIM, **SECTS)
    assert values.shape == (3, 10 * 4 * 2)
    expected = np.concatenate([data[0, 5:15, 1:5].ravel(), data[0, 5:15, 17:21].ravel()])
    np.testing.assert_array_equal(values[0], expected)


def test_meanblev_is_the_resistant_mean_of_each_read():
    data = _ramp()
    result = bias_level_correct(data, trim=TRIM, **SECTS)
    values = reference_pixel_values(data, trim=TRIM, **SECTS)
    expected = [resistant_mean(v).mean for v in values]
    np.testing.assert_array_equal(result.meanblev, expected)
    assert result.meanblev.dtype == np.float64
    np.testing.assert_allclose(result.meanblev, [14100.0, 14105.0, 14112.0], atol=1.5)


def test_blev_subtracts_from_every_pixel_including_reference_pixels():
    data = _ramp()
    result = bias_level_correct(data, trim=TRIM, **SECTS)
    expected = data - result.meanblev.astype(np.float32)[:, None, None]
    np.testing.assert_array_equal(result.data, expected)
    assert result.data.dtype == np.float32


@pytest.mark.parametrize(
    ("rows", "cols"),
    [
        (slice(0, 5), slice(1, 5)),  # bottom reference rows of section A
        (slice(15, 20), slice(17, 21)),  # top reference rows of section B
        (slice(5, 15), slice(0, 1)),  # column 0 is outside BIASSECTA
        (slice(5, 15), slice(21, 22)),  # column 21 is outside BIASSECTB
        (slice(5, 15), slice(5, 17)),  # the science area
    ],
)
def test_blev_ignores_pixels_outside_the_sections_and_trimmed_rows(rows, cols):
    data = _ramp()
    spoiled = data.copy()
    spoiled[:, rows, cols] = 60000.0
    a = bias_level_correct(data, trim=TRIM, **SECTS)
    b = bias_level_correct(spoiled, trim=TRIM, **SECTS)
    np.testing.assert_array_equal(a.meanblev, b.meanblev)


def test_blev_rejects_hot_reference_pixels():
    data = _ramp()
    data[:, 7:9, 2] = 40000.0
    result = bias_level_correct(data, trim=TRIM, **SECTS)
    np.testing.assert_allclose(result.meanblev, [14100.0, 14105.0, 14112.0], atol=1.5)


def test_blev_on_one_image_gives_a_scalar_level():
    data = _ramp()
    single = bias_level_correct(data[1], trim=TRIM, **SECTS)
    ramp = bias_level_correct(data, trim=TRIM, **SECTS)
    assert single.meanblev.shape == ()
    assert single.meanblev == ramp.meanblev[1]
    np.testing.assert_array_equal(single.data, ramp.data[1])


@pytest.mark.parametrize("sect", [(4, 1), (-1, 3), (18, 22)])
def test_blev_rejects_bad_sections(sect):
    with pytest.raises(ValueError, match="biassect_b"):
        bias_level_correct(_ramp(), trim=TRIM, biassect_a=SECT_A, biassect_b=sect)
