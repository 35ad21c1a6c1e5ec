"""Bad imsets (calstis cs1/do2d.c, cs2/crrej_check.c, cs2/cr_scaling.c) and DQICORR with a
DUMMY or absent BPIXTAB (cs1/dodqi.c, cs1/history1.c)."""

import numpy as np
import pytest

from hstramp.core.stis.dqicorr import dqi_actions
from hstramp.core.stis.imsets import check_imset, crreject_imsets

SCI = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize(("sci", "exptime", "bias", "ok", "reason"), [
    (SCI, 10.0, False, True, ""),
    (SCI, 0.0, False, False, "exptime = 0"),
    (np.full((2, 3), 5.0), 10.0, False, False, "all values = 5"),
    (SCI, 0.0, True, True, ""),                       # BIAS target: zero time allowed
    (np.full((2, 3), 5.0), 0.0, True, True, ""),
])
def test_check_imset(sci, exptime, bias, ok, reason):
    got = check_imset(sci, exptime, bias_exposure=bias, extver=2)
    assert got.ok is ok
    assert reason in got.reason


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_negative_exptime_is_fatal_naming_exptime(bad):
    with pytest.raises(ValueError, match="EXPTIME"):
        check_imset(SCI, bad, bias_exposure=True)


@pytest.mark.parametrize(("ok", "times", "expected"), [
    ([True, True, True], [10, 10, 10], [0, 1, 2]),
    ([True, False, True], [10, 0, 10], [0, 2]),
    ([True, True], [0, 0], [0, 1]),
])
def test_crreject_imsets(ok, times, expected):
    assert crreject_imsets(ok, times).tolist() == expected


@pytest.mark.parametrize(("ok", "times", "match"), [
    ([True, False], [10, 0], "more than one good imset"),
    ([True, True, True], [10, 0, 10], "some \\(but not all\\)"),
    ([True, True], [10, -1], "negative"),
])
def test_crreject_imsets_errors(ok, times, match):
    with pytest.raises(ValueError, match=match):
        crreject_imsets(ok, times)


@pytest.mark.parametrize(("dqicorr", "bpix", "expected"), [
    ("PERFORM", "good", (True, True, True, "COMPLETE")),
    ("PERFORM", "dummy", (True, True, False, "SKIPPED")),    # saturation still flagged
    ("PERFORM", "none", (True, True, False, "COMPLETE")),
    ("OMIT", "good", (False, False, False, "OMIT")),
    ("COMPLETE", "dummy", (False, False, False, "COMPLETE")),
])
def test_dqi_actions(dqicorr, bpix, expected):
    got = dqi_actions(dqicorr, bpix)
    assert (got.saturation, got.aperture, got.bpixtab, got.switch) == expected


def test_dqi_actions_rejects_unknown_state():
    with pytest.raises(ValueError, match="bpixtab"):
        dqi_actions("PERFORM", "maybe")
