"""Dark temperature scaling as calstis cs1/dodark.c (CCDFactor, getDarkParam) and
lib/getdettemp.c, against hand-computed values."""

import numpy as np
import pytest

from hstramp.core.stis.calib import subtract_scaled
from hstramp.core.stis.darktemp import (
    BEGIN_SIDE2,
    UNKNOWN_TEMPERATURE,
    DarkTemperatureParameters,
    combined_housing_temperature,
    dark_scale_factors,
    dark_temperature_factor,
    dark_temperature_parameters,
    housing_temperature,
)

SIDE2 = 55000.25
P = DarkTemperatureParameters(ref_temp=18.0, drk_vs_t=0.07)


@pytest.mark.parametrize(("ref_temp", "drk_vs_t", "expected", "defaulted"), [
    (20.0, 0.05, (20.0, 0.05), ()),
    (None, 0.05, (18.0, 0.05), ("REF_TEMP",)),
    (20.0, None, (20.0, 0.07), ("DRK_VS_T",)),
    (None, None, (18.0, 0.07), ("REF_TEMP", "DRK_VS_T")),
    ("21.5", 0, (21.5, 0.0), ()),
])
def test_dark_parameters_and_calstis_defaults(ref_temp, drk_vs_t, expected, defaulted):
    params = dark_temperature_parameters(ref_temp, drk_vs_t)
    assert (params.ref_temp, params.drk_vs_t) == expected
    assert params.defaulted == defaulted


@pytest.mark.parametrize(("ref_temp", "drk_vs_t", "keyword"), [
    (float("nan"), 0.07, "REF_TEMP"), (18.0, "abc", "DRK_VS_T"), (18.0, float("inf"), "DRK_VS_T")])
def test_unreadable_dark_keywords_name_the_keyword(ref_temp, drk_vs_t, keyword):
    with pytest.raises(ValueError, match=keyword):
        dark_temperature_parameters(ref_temp, drk_vs_t)


@pytest.mark.parametrize(("occdhtav", "expstart", "expected"), [
    (20.5, SIDE2, 20.5),
    (None, SIDE2, UNKNOWN_TEMPERATURE),            # keyword missing: calstis warns, no scaling
    (20.5, BEGIN_SIDE2 - 1.0, UNKNOWN_TEMPERATURE),  # side 1: keyword ignored
    (20.5, None, UNKNOWN_TEMPERATURE),              # EXPSTART missing: default -1 < side 2
    (-1.0, SIDE2, -1.0),
    ("19.25", BEGIN_SIDE2, 19.25),
])
def test_housing_temperature(occdhtav, expstart, expected):
    assert housing_temperature(occdhtav, expstart) == expected


@pytest.mark.parametrize("bad", ["warm", float("nan"), float("inf")])
def test_unreadable_occdhtav_names_the_keyword(bad):
    with pytest.raises(ValueError, match="OCCDHTAV"):
        housing_temperature(bad, SIDE2)


@pytest.mark.parametrize(("temperature", "params", "expected"), [
    (20.0, P, 1.14),                      # 1 + 0.07 * 2
    (18.0, P, 1.0),
    (16.5, P, 0.895),                     # 1 + 0.07 * (-1.5)
    (-1.0, P, 1.0),                       # unknown
    (0.0, P, 1.0),                        # calstis: T <= 0 means no factor
    (23.0, DarkTemperatureParameters(20.0, 0.1), 1.3),
])
def test_dark_temperature_factor(temperature, params, expected):
    assert dark_temperature_factor(temperature, params) == pytest.approx(expected, rel=1e-12)


def test_absurd_factor_is_an_error_naming_the_keywords():
    with pytest.raises(ValueError, match="OCCDHTAV or the dark's DRK_VS_T"):
        dark_temperature_factor(3.0, P)    # 1 + 0.07 * (3 - 18) = -0.05


def test_scale_factors_per_imset():
    got = dark_scale_factors([100.0, 300.0], 4.0, [20.0, UNKNOWN_TEMPERATURE], P)
    np.testing.assert_allclose(got, [1.14 * 100 / 4, 300 / 4])


def test_scaled_subtraction_and_meandark():
    """The dark (e-/s) times factor * EXPTIME / ATODGAIN; MEANDARK includes the factor."""
    dark = np.full((4, 5), 0.01, np.float32)
    data = np.full((2, 4, 5), 10.0, np.float32)
    factors = dark_scale_factors([100.0, 100.0], 1.0, [20.0, -1.0], P)
    out = subtract_scaled(data, np.ones_like(data), np.zeros(data.shape, np.uint16), dark,
                          None, None, factors)
    np.testing.assert_allclose(out.data[0], 10.0 - 1.14, rtol=1e-6)
    np.testing.assert_allclose(out.data[1], 9.0, rtol=1e-6)
    np.testing.assert_allclose(out.median, [1.14, 1.0], rtol=1e-6)


@pytest.mark.parametrize(("temps", "times", "expected"), [
    ([20.0, 22.0], [100.0, 300.0], 21.5),
    ([20.0, None], [100.0, 100.0], 9.5),     # missing enters as -1, as calstis cs2
    ([None, None], [100.0, 100.0], None),
    ([20.0, 21.0], [0.0, 0.0], None),
])
def test_combined_housing_temperature(temps, times, expected):
    got = combined_housing_temperature(temps, times)
    assert got == (None if expected is None else pytest.approx(expected))
