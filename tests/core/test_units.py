"""Tests of hstramp.core.units: division by read times and the effective zero-read time."""

import numpy as np
import pytest

from hstramp.core.units import (
    ZERO_READ_OVERHEAD,
    count_rates,
    effective_zero_read_time,
    rate_unit,
)
from hstramp.errors import ParameterError

TRIM = (1, 1, 2, 1)
TIMES = np.array([0.0, 0.277815, 7.6243, 14.970785])  # SQ256SUB SPARS10


def _inputs(times=TIMES):
    rng = np.random.default_rng(10)
    shape = (len(times), 6, 7)
    return {
        "data": rng.uniform(100.0, 2000.0, shape).astype(np.float32),
        "err": rng.uniform(10.0, 50.0, shape).astype(np.float32),
        "times": np.asarray(times, dtype=np.float64),
    }


def _science():
    inside = np.zeros((6, 7), bool)
    inside[2:5, 1:6] = True
    return inside


def test_effective_zero_read_time():
    assert ZERO_READ_OVERHEAD == 0.020535
    assert effective_zero_read_time(TIMES) == pytest.approx(0.277815 - 0.020535)
    with pytest.raises(ValueError):
        effective_zero_read_time(np.array([0.0]))


def test_reads_are_divided_by_their_times_in_the_science_area():
    inputs = _inputs()
    result = count_rates(**inputs, trim=TRIM)
    inside = _science()
    for k in range(1, 4):
        for name in ("data", "err"):
            expected = inputs[name][k][inside] / np.float32(TIMES[k])
            np.testing.assert_array_equal(getattr(result, name)[k][inside], expected)
    for name in ("data", "err"):
        np.testing.assert_array_equal(getattr(result, name)[:, ~inside], inputs[name][:, ~inside])
    assert result.bunit == "COUNTS/S"


def test_zeroth_read_uses_the_effective_zero_read_time():
    inputs = _inputs()
    result = count_rates(**inputs, trim=TRIM)
    inside = _science()
    factor = np.float32(1.0 / (TIMES[1] - ZERO_READ_OVERHEAD))
    np.testing.assert_array_equal(result.data[0][inside], inputs["data"][0][inside] * factor)
    np.testing.assert_array_equal(result.err[0][inside], inputs["err"][0][inside] * factor)
    assert result.zero_read_time == pytest.approx(0.25728)


def test_explicit_zero_read_time():
    inputs = _inputs()
    result = count_rates(**inputs, trim=TRIM, zero_read_time=2.0)
    np.testing.assert_allclose(result.data[0, 3, 3], inputs["data"][0, 3, 3] / 2.0, rtol=1e-6)
    with pytest.raises(ParameterError, match="zero_read_time"):
        count_rates(**inputs, trim=TRIM, zero_read_time=0.0)


@pytest.mark.parametrize(
    ("times", "zero_reads"),
    [
        ((0.0, 0.277815, 0.0, 14.970785), [2]),
        ((0.0, 0.277815, 7.6243, 0.0), [3]),
        ((0.0, 0.277815, 0.0, 0.0), [2, 3]),
    ],
)
def test_reads_with_zero_time_become_zero(times, zero_reads):
    inputs = _inputs(times)
    inputs["data"][zero_reads[0], 3, 3] = np.nan  # even NaN becomes 0 (calwf3 assigns 0)
    result = count_rates(**inputs, trim=TRIM)
    inside = _science()
    for k in zero_reads:
        assert not result.data[k][inside].any()
        assert not result.err[k][inside].any()
        np.testing.assert_array_equal(result.data[k][~inside], inputs["data"][k][~inside])
    assert result.data[1][inside].all()


@pytest.mark.parametrize(
    ("bunit", "expected"),
    [
        ("COUNTS", "COUNTS/S"),
        ("ELECTRONS", "ELECTRONS/S"),
        ("counts", "COUNTS/S"),
        ("COUNTS/S", None),
        ("ELECTRONS/S", None),
        ("DN", None),
    ],
)
def test_rate_unit(bunit, expected):
    if expected is None:
        with pytest.raises(ValueError, match="BUNIT"):
            rate_unit(bunit)
    else:
        assert rate_unit(bunit) == expected


def test_count_rates_shape_errors():
    inputs = _inputs()
    inputs["times"] = TIMES[:3]
    with pytest.raises(ValueError, match="times"):
        count_rates(**inputs, trim=TRIM)
