"""Tests of hstramp.core.noise: per-pixel maps, the noise formula, the re-entrant skip rule."""

import numpy as np
import pytest

from hstramp.core.noise import initial_error, pixel_error, pixel_map

TRIM = (2, 1, 1, 2)


@pytest.mark.parametrize(
    ("signal", "gain", "readnoise", "expected"),
    [
        (0.0, 2.0, 20.0, 10.0),  # read noise only: 20 e- / 2
        (100.0, 1.0, 0.0, 10.0),  # Poisson only
        (-100.0, 1.0, 0.0, 10.0),  # |S * g|: negative signal counts as positive
        (48.0, 2.0, 4.0, np.sqrt(16.0 + 96.0) / 2.0),  # both, in electrons, back to DN
    ],
)
def test_pixel_error_formula(signal, gain, readnoise, expected):
    result = pixel_error(np.float32(signal), gain, readnoise)
    assert result.dtype == np.float32
    assert result == pytest.approx(expected, rel=1e-6)


def test_pixel_map_scalar_array_and_errors():
    assert pixel_map(2.5, (3, 4), "gain").shape == (3, 4)
    array = np.ones((3, 4), dtype=np.float32)
    assert pixel_map(array, (3, 4), "gain") is array
    with pytest.raises(ValueError, match="gain has shape"):
        pixel_map(np.ones((4, 3)), (3, 4), "gain")
    with pytest.raises(ValueError, match="gain must be > 0"):
        pixel_map(np.zeros((3, 4)), (3, 4), "gain", positive=True)


def _ramp(ngroups=4):
    rng = np.random.default_rng(5)
    data = rng.uniform(-50, 5000, (ngroups, 9, 10)).astype(np.float32)
    gain = rng.uniform(2.2, 2.5, (9, 10)).astype(np.float32)
    readnoise = rng.uniform(19, 22, (9, 10)).astype(np.float32)
    return data, gain, readnoise


def test_initial_error_per_pixel_in_science_area_only():
    data, gain, readnoise = _ramp()
    err = np.zeros_like(data)
    result = initial_error(data, err, gain, readnoise, trim=TRIM)
    expected = np.sqrt(readnoise**2 + np.abs(data * gain)) / gain
    inside = np.zeros(data.shape[1:], bool)
    inside[1:7, 2:9] = True
    np.testing.assert_allclose(result.err[:, inside], expected[:, inside], rtol=1e-6)
    assert not result.err[:, ~inside].any()
    assert result.ncomputed == 4


def test_initial_error_with_no_err_array():
    data, gain, readnoise = _ramp()
    result = initial_error(data, None, gain, readnoise, trim=TRIM)
    assert result.ncomputed == 4
    assert result.err.dtype == np.float32
    assert result.err[:, 1:7, 2:9].min() > 0


@pytest.mark.parametrize(
    ("populated_read", "ncomputed"),
    [(None, 4), (0, 0), (2, 2), (3, 3)],
)
def test_initial_error_stops_at_the_first_populated_read(populated_read, ncomputed):
    data, gain, readnoise = _ramp()
    err = np.zeros_like(data)
    err[:, 0, 0] = 7.0  # border values never count as "populated"
    if populated_read is not None:
        err[populated_read, 3, 4] = 1.5
    result = initial_error(data, err, gain, readnoise, trim=TRIM)
    assert result.ncomputed == ncomputed
    assert np.all(result.err[:ncomputed, 1:7, 2:9] > 0)
    np.testing.assert_array_equal(result.err[ncomputed:], err[ncomputed:])
    assert np.all(result.err[:, 0, 0] == 7.0)


def test_initial_error_rejects_zero_gain():
    data, gain, readnoise = _ramp()
    gain[4, 4] = 0.0
    with pytest.raises(ValueError, match="gain"):
        initial_error(data, None, gain, readnoise, trim=TRIM)
